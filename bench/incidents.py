"""Resolving an incident that absorbed 1,000 requests: one transaction, and every request's
open page hears of it.

A light, in-process benchmark on the app's own use case (`incidents.commands.resolve`) and
engine: 1,000 residents, each with a push device and a request linked to one incident, are
written straight to the database; a subscriber of the event bus stands for the open pages
(each request page's view wakes on its request's id from that bus, `live.hub`). It measures

- commits and statements sent while resolving (the resolution must be ONE commit),
- the wall time of the resolution (the transaction — 1,000 moves, timeline entries, push rows —
  and handing the ids to the bus),
- the time until the bus has delivered the last of the 1,000 request ids to its subscriber,
- the push rows written (one per resident: their request's «выполнена»).

It does not render the pages nor write to sockets: bench/live.py measures that fan-out.

    python -m bench incidents                  # 1,000 requests, SQLite in a temporary file
    python -m bench incidents --requests 200   # what `make bench` runs

PostgreSQL when BENCH_DATABASE_URL or TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from bench.live import database
from server.db.models import (
    Incident,
    IncidentBuilding,
    IncidentRequest,
    OutboxMessage,
    PushSubscription,
    Request,
    User,
    utcnow,
)
from server.db.session import Database
from server.incidents import commands
from server.live.bus import EventBus
from server.notify import push_outbox, webhooks
from server.shared.events import RequestEvent
from server.shared.roles import Actor, Role
from server.shared.services import Services
from tests.statements import COMMIT, Recorder
from tests.world import World

QUICK = ["--requests", "200"]


async def _absorbing_incident(db: Database, world: World, n: int) -> tuple[int, int]:
    """An incident of улица Ленина, 12 that absorbed `n` requests of `n` residents."""
    now = utcnow()
    building, category = world.buildings["lenina12"], world.categories["leak"]
    async with db.begin() as session:
        incident = Incident(
            organisation_id=world.orgs["uk1"],
            kind="emergency",
            category_id=category,
            text="Нет холодной воды: порыв на магистрали, устраняем",
            starts_at=now - timedelta(hours=1),
            expected_end=now + timedelta(hours=2),
        )
        session.add(incident)
        await session.flush()
        session.add(IncidentBuilding(incident_id=incident.id, building_id=building))
        users = [
            {"login": f"bench{i}", "name": f"Житель {i}", "role": Role.RESIDENT} for i in range(n)
        ]
        await session.execute(insert(User), users)
        ids = list(
            await session.scalars(
                select(User.id).where(User.login.like("bench%")).order_by(User.id)
            )
        )
        await session.execute(
            insert(PushSubscription),
            [
                {
                    "user_id": u,
                    "endpoint": f"https://push.example.net/{u}",
                    "p256dh": "k",
                    "auth": "a",
                }
                for u in ids
            ],
        )
        await session.execute(
            insert(Request),
            [
                {
                    "number": f"2026-9{i:05d}",
                    "resident_id": u,
                    "building_id": building,
                    "category_id": category,
                    "description": "Нет воды",
                    "source": "web",
                    "state": "new",
                    "organisation_id": world.orgs["uk1"],
                    "due_at": now + timedelta(hours=2),
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for i, u in enumerate(ids)
            ],
        )
        request_ids = list(await session.scalars(select(Request.id)))
        await session.execute(
            insert(IncidentRequest),
            [{"request_id": r, "incident_id": incident.id} for r in request_ids],
        )
        return incident.id, incident.version


async def _run(world: World, n: int) -> dict[str, float]:
    db = Database(world.settings.database_url)
    bus = EventBus("memory://")
    svc = Services(world.settings, db, bus, [push_outbox.write_messages, webhooks.write_messages])
    try:
        incident_id, version = await _absorbing_incident(db, world, n)
        dispatcher = Actor(world.users["dispatcher"], Role.DISPATCHER, world.orgs["uk1"])
        await bus.start()
        heard: set[int] = set()
        all_heard = asyncio.Event()

        async def listen() -> None:
            async with bus.subscribe() as messages:
                ready.set()
                async for message in messages:
                    if isinstance(message, RequestEvent):
                        heard.add(message.request_id)
                        if len(heard) == n:
                            all_heard.set()
                            return

        ready = asyncio.Event()
        listener = asyncio.create_task(listen())
        await ready.wait()
        recorder = Recorder(db)
        started = time.perf_counter()
        done = await commands.resolve(svc, dispatcher, incident_id, version)
        # `resolve` returns once committed and the ids are handed to the bus.
        resolved_at = time.perf_counter()
        await asyncio.wait_for(all_heard.wait(), 60)
        heard_at = time.perf_counter()
        listener.cancel()
        commits = sum(1 for _task, s in recorder.log if s == COMMIT)
        statements = sum(1 for _task, s in recorder.log if s != COMMIT)
        async with db.read() as session:
            pushes = await session.scalar(select(func.count()).select_from(OutboxMessage))
        return {
            "moved": len(done.moved),
            "commits": commits,
            "statements": statements,
            "resolve_s": resolved_at - started,
            "all_pages_told_s": heard_at - started,
            "push_rows": int(pushes or 0),
        }
    finally:
        await bus.stop()
        await db.dispose()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench incidents")
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp, database(pg, Path(tmp)) as world:
        result = asyncio.run(_run(world, args.requests))
    kind = "PostgreSQL" if pg else "SQLite"
    print(f"incidents ({kind}): resolving an incident that absorbed {args.requests} requests")
    for key, value in result.items():
        print(f"  {key:18} {value:.3f}" if isinstance(value, float) else f"  {key:18} {value}")
    ok = result["commits"] == 1 and result["moved"] == args.requests
    print("  one transaction, every request moved" if ok else "  FAILED: not one transaction")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
