"""Resolving an incident that absorbed 1,000 requests: one transaction, and every request's
open page shows it within the live issue's fan-out goal.

Two parts, each on its own fresh database (the small test town, 1,000 residents each with a
push device and a request linked to one incident):

1. in this process, on the app's use case (`incidents.commands.resolve`) and engine: the
   statements and commits sent while resolving (ONE commit, a count that does not grow with
   the requests), its wall time, and the push rows written;
2. against uvicorn processes (`tests.server_process.running_server`): each request's page open
   over a WebSocket, signed in as its resident; the dispatcher resolves through the HTTP route
   (`POST /incidents/{id}/resolve`), and the time from that POST to the last page receiving its
   update is measured, round after round, interleaved with the bare Litestar program
   (`bench/_ceiling.py`) sending as many sockets a text of their own, of the size of the
   project's message (~2 KB). Between rounds the requests are put back to «новая» in the
   database, and the incident's text names the round, so that each page's update is known by
   it. The goal: p99 ≤ 2 × the bare program's p99.

    python -m bench incidents                           # 1,000 requests, 5 rounds, SQLite
    python -m bench incidents --requests 100 --rounds 3 # what `make bench` runs

PostgreSQL (database, not bus) when BENCH_DATABASE_URL or TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import websockets
from sqlalchemy import func, insert, select, update

from bench._pages import ceiling_round, last_arrival, open_sides
from bench.live import database, raise_file_limit, server_process
from server.db.models import (
    Incident,
    IncidentBuilding,
    IncidentRequest,
    OutboxMessage,
    PushSubscription,
    Request,
    User,
    WebSession,
    utcnow,
)
from server.db.session import Database
from server.incidents import commands
from server.live.bus import EventBus
from server.notify import push_outbox, webhooks
from server.shared.events import RequestEvent, RequestsChanged
from server.shared.roles import Actor, Role
from server.shared.services import Services
from tests.live_client import Browser, hello
from tests.server_process import free_port, running_server
from tests.statements import COMMIT, Recorder
from tests.world import _HASH, World

QUICK = ["--requests", "100", "--rounds", "3"]  # for `make bench`
TEXT = "Нет холодной воды: порыв на магистрали, устраняем"


async def _absorbing_incident(db: Database, world: World, n: int) -> tuple[int, int]:
    """An incident of улица Ленина, 12 that absorbed `n` requests of `n` residents."""
    now = utcnow()
    building, category = world.buildings["lenina12"], world.categories["leak"]
    async with db.begin() as session:
        incident = Incident(
            organisation_id=world.orgs["uk1"],
            kind="emergency",
            category_id=category,
            text=TEXT,
            starts_at=now - timedelta(hours=1),
            expected_end=now + timedelta(hours=2),
        )
        session.add(incident)
        await session.flush()
        session.add(IncidentBuilding(incident_id=incident.id, building_id=building))
        users = [
            {
                "login": f"bench{i}",
                "name": f"Житель {i}",
                "role": Role.RESIDENT,
                "password_hash": _HASH,
            }
            for i in range(n)
        ]
        await session.execute(insert(User), [{**u, "password_hash": _HASH} for u in users])
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
                    if isinstance(message, RequestsChanged):
                        heard.update(event.request_id for event in message.events)
                    elif isinstance(message, RequestEvent):
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


# --------------------------------------------------------------------------------------------
# 2. The open pages, against uvicorn


async def _sessions_like(db: Database, template_key: str, users: list[int]) -> dict[int, str]:
    """A signed-in session for each of `users`, copied from one signed in over HTTP (signing
    in a thousand people would measure the password hash)."""
    async with db.begin() as session:
        template = await session.get(WebSession, template_key)
        assert template is not None, "the resident's session is kept in the database"
        data = json.loads(template.data)
        keys = {u: secrets.token_hex(16) for u in users}
        await session.execute(
            insert(WebSession),
            [
                {
                    "key": key,
                    "data": json.dumps({**data, "uid": u}).encode(),
                    "expires_at": template.expires_at,
                }
                for u, key in keys.items()
            ],
        )
    return keys


async def _again(db: Database, incident_id: int, mark: str) -> int:
    """The incident open again with `mark` in its text, its requests «новая» again; its
    version."""
    async with db.begin() as session:
        await session.execute(
            update(Incident)
            .where(Incident.id == incident_id)
            .values(resolved_at=None, text=f"{TEXT}, {mark}", version=Incident.version + 1)
            .execution_options(synchronize_session=False)
        )
        linked = select(IncidentRequest.request_id).where(
            IncidentRequest.incident_id == incident_id
        )
        await session.execute(
            update(Request)
            .where(Request.id.in_(linked))
            .values(state="new", done_at=None)
            .execution_options(synchronize_session=False)
        )
        version = await session.scalar(select(Incident.version).where(Incident.id == incident_id))
    assert version is not None
    return version


async def _measure_pages(
    world: World, base: str, pid: int, ceiling_base: str, ceiling_pid: int, n: int, rounds: int
) -> dict[str, Any]:
    db = Database(world.settings.database_url)
    incident_id, _version = await _absorbing_incident(db, world, n)
    async with db.read() as session:
        rows = (
            await session.execute(
                select(Request.resident_id, Request.id)
                .join(IncidentRequest, IncidentRequest.request_id == Request.id)
                .where(IncidentRequest.incident_id == incident_id)
                .order_by(Request.id)
            )
        ).all()
    first = await Browser(base, "bench0").sign_in()
    keys = await _sessions_like(
        db, first.client.cookies["zayavka_session"], [u for u, _r in rows[1:]]
    )
    keys[rows[0][0]] = first.client.cookies["zayavka_session"]
    dispatcher = await Browser(base, "dispatcher").sign_in()
    ws_base = base.replace("http://", "ws://")

    async def project_page(i: int) -> Any:
        resident, request_id = rows[i]
        ws = await websockets.connect(
            f"{ws_base}/live/requests/{request_id}",
            origin=base,  # type: ignore[arg-type]
            additional_headers={"Cookie": f"zayavka_session={keys[resident]}"},
            open_timeout=30,
            max_size=2**22,
        )
        await ws.send(hello(last_entry=0))
        await asyncio.wait_for(ws.recv(), 60)
        return ws

    async def ceiling_page(_i: int) -> Any:
        ws = await websockets.connect(ceiling_base.replace("http://", "ws://") + "/ws")
        await ws.send("hello")
        await asyncio.wait_for(ws.recv(), 60)
        return ws

    sides = await open_sides(n, (pid, project_page), (ceiling_pid, ceiling_page), ceiling_base)
    try:
        for r in range(rounds):
            mark = f"замер {r}"
            version = await _again(db, incident_id, mark)

            async def change() -> None:
                reply = await dispatcher.post(
                    f"/incidents/{incident_id}/resolve",
                    {"version": str(version)},  # noqa: B023
                )
                assert reply.status_code == 303, reply.text[:2000]

            # Interleaved: the project's round, then the ceiling's.
            sides.arrived(
                *await last_arrival(sides.project.sockets, lambda m, mark=mark: mark in m, change)
            )
            await asyncio.sleep(0.5)
            sides.bare.append(
                await ceiling_round(
                    sides.ceiling.sockets, sides.poke, r, size=sides.size or 2048, distinct=True
                )
            )
            await asyncio.sleep(0.5)
    finally:
        await sides.close()
        await first.close()
        await dispatcher.close()
        await db.dispose()
    return sides.figures()


def _pages(pg: str | None, n: int, rounds: int) -> dict[str, Any]:
    with (
        tempfile.TemporaryDirectory(prefix="zayavka-bench-") as tmp,
        database(pg, Path(tmp)) as world,
    ):
        # The push rows stay in the outbox: no worker sends them to the made-up endpoints.
        env = {"LOG_LEVEL": "warning", "PUSH_WORKER_IN_PROCESS": "0"}
        port, ceiling_port = free_port(), free_port()
        with (
            running_server(world.settings, port=port, **env) as base,
            running_server(world.settings, port=ceiling_port, app="bench._ceiling:app") as bare,
        ):
            return asyncio.run(
                _measure_pages(
                    world,
                    base,
                    server_process(port).pid,
                    bare,
                    server_process(ceiling_port).pid,
                    n,
                    rounds,
                )
            )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench incidents")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    raise_file_limit(args.requests * 4 + 256)
    with tempfile.TemporaryDirectory() as tmp, database(pg, Path(tmp)) as world:
        result = asyncio.run(_run(world, args.requests))
    kind = "PostgreSQL" if pg else "SQLite"
    print(f"incidents ({kind}): resolving an incident that absorbed {args.requests} requests")
    for key, value in result.items():
        print(f"  {key:18} {value:.3f}" if isinstance(value, float) else f"  {key:18} {value}")
    ok = result["commits"] == 1 and result["moved"] == args.requests
    print("  one transaction, every request moved" if ok else "  FAILED: not one transaction")
    pages = _pages(pg, args.requests, args.rounds)
    ratio = pages["last_p99"] / pages["bare_last_p99"]
    print(f"  {args.requests} open request pages, {args.rounds} rounds (POST → last page):")
    for key in ("last_p50", "last_p99", "bare_last_p50", "bare_last_p99", "post_p50"):
        print(f"  {key:18} {pages[key] * 1000:.0f} ms")
    print(f"  {'p99 ratio':18} {ratio:.1f} (goal: ≤ 2)")
    print(f"  {'message_bytes':18} {pages['message_bytes']}")
    print(f"  {'connect_seconds':18} {pages['connect_seconds']:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
