"""Filing over HTTP against the database's own ceiling, on PostgreSQL.

The project: uvicorn serving the app (PostgreSQL bus, so a filing's publish is a NOTIFY too) and
20 signed-in residents filing at once, each POST the whole stack (session, CSRF, the
transaction with its timeline entry and outbox, the publish after commit). The bare program: 20
asyncpg connections in this process, each looping `BEGIN; INSERT a row like a request's; SELECT
pg_notify(…); COMMIT`. The two run alternately for the same time, round after round, on the same
machine and database server; the figure is the median of the rounds' throughputs and their
ratio. Statements per filing are counted once, in-process, on the app's engine
(tests/statements.py), as tests/integration/requests/test_filing_statements.py counts them.

The residents sign in with httpx, then post over keep-alive connections of a load generator's
client (bench/_http.py): the bare side's client is asyncpg, a compiled protocol, and httpx
would cost the project about as much CPU per filing as its server does, on the same cores.
`--processes 2` runs two app processes, each on its own port with half of the residents, as a
load balancer in front of two processes would spread them (uvicorn's own `--workers` share one
listening socket, and 20 keep-alive connections opened at once mostly land on one process).

    python -m bench filing                         # 5 rounds of 8 s each side
    python -m bench filing --rounds 3 --seconds 2  # what `make bench` runs
    python -m bench filing --processes 2           # two app processes

PostgreSQL comes from BENCH_DATABASE_URL or TEST_DATABASE_URL (a database `zayavka_bench_…` is
created and dropped); without one the benchmark says so and is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import ExitStack
from pathlib import Path

import asyncpg
from litestar.testing import TestClient

from bench._http import Connection
from bench.live import database
from server.accounts.people import hash_password
from server.app import create_app
from server.db.models import User
from server.db.session import Database
from server.shared.roles import Role
from tests.http import csrf, login, post
from tests.live_client import Browser
from tests.server_process import running_server
from tests.statements import Recorder, statements
from tests.world import PASSWORD, World

QUICK = ["--rounds", "3", "--seconds", "2"]  # for `make bench`
GOAL, AIM = 0.25, 0.5
RAW_TABLE = """
CREATE TABLE bench_raw (
    id serial PRIMARY KEY,
    resident_id integer NOT NULL,
    building_id integer NOT NULL,
    category_id integer NOT NULL,
    description text NOT NULL,
    state varchar(20) NOT NULL,
    idempotency_key varchar(64) UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
)"""


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _residents(world: World, n: int) -> list[str]:
    """`n` residents who may sign in with the test password."""
    db = Database(world.settings.database_url)
    hashed = hash_password(PASSWORD)
    logins = [f"bench{i}" for i in range(n)]
    try:
        async with db.begin() as session:
            for name in logins:
                session.add(User(login=name, name=name, role=Role.RESIDENT, password_hash=hashed))
    finally:
        await db.dispose()
    return logins


def _form(world: World) -> dict[str, object]:
    return {
        "building_id": world.buildings["lenina12"],
        "category_id": world.categories["leak"],
        "flat": "1",
        "description": "Течёт труба в подвале, бенчмарк",
        "idempotency_key": uuid.uuid4().hex,
    }


def statements_per_filing(world: World) -> int:
    """One resident's filing through the app in this process, its statements counted."""
    app = create_app(world.settings)
    with TestClient(app) as client:
        login(client, "resident")
        csrf(client)
        recorder = Recorder(app.state["services"].db)
        response = post(client, "/requests/new", _form(world))
        assert response.status_code == 303, response.text
        return len(statements(recorder.of_the_filing()))


async def _for(seconds: float, workers: list[Callable[[], Awaitable[None]]]) -> float:
    """Run every worker in a loop for `seconds`; operations completed per second."""
    done = 0
    stop = time.perf_counter() + seconds

    async def loop(work: Callable[[], Awaitable[None]]) -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await work()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop(w) for w in workers))
    return done / (time.perf_counter() - started)


async def _signed_in(bases: list[str], logins: list[str]) -> list[Connection]:
    """One connection per resident, signed in through the pages (httpx), the residents dealt
    out over the servers in turn."""
    connections = []
    for n, name in enumerate(logins):
        browser = await Browser(bases[n % len(bases)], name).sign_in()
        cookies = dict(browser.client.cookies.items())
        await browser.close()
        csrf_header = {"x-csrftoken": cookies["zayavka_csrf"]}
        connections.append(Connection(browser.base, cookies, csrf_header))
    return connections


async def measure(
    bases: list[str], world: World, logins: list[str], rounds: int, seconds: float
) -> tuple[list[float], list[float]]:
    connections = await _signed_in(bases, logins)
    pool = await asyncpg.create_pool(
        _plain(world.settings.database_url), min_size=len(logins), max_size=len(logins)
    )
    assert pool is not None
    await pool.execute(RAW_TABLE)

    def filer(connection: Connection) -> Callable[[], Awaitable[None]]:
        async def file() -> None:
            status, headers = await connection.post_form("/requests/new", _form(world))
            assert status == 303 and headers["location"].startswith("/requests/"), status

        return file

    async def raw() -> None:
        async with pool.acquire() as conn, conn.transaction():
            row_id = await conn.fetchval(
                "INSERT INTO bench_raw (resident_id, building_id, category_id, description,"
                " state, idempotency_key) VALUES ($1, $2, $3, $4, 'new', $5) RETURNING id",
                world.users["resident"],
                world.buildings["lenina12"],
                world.categories["leak"],
                "Течёт труба в подвале, бенчмарк",
                uuid.uuid4().hex,
            )
            await conn.execute("SELECT pg_notify('bench_raw', $1)", str(row_id))

    filers = [filer(c) for c in connections]
    raws = [raw] * len(logins)
    project: list[float] = []
    bare: list[float] = []
    try:
        await _for(min(seconds, 2.0), filers)  # warm-up: pools, prepared statements, caches
        await _for(min(seconds, 2.0), raws)
        for n in range(rounds):
            # Alternate which goes first, so a trend on the machine hits both alike.
            order = [("project", filers), ("bare", raws)]
            for name, workers in order if n % 2 == 0 else order[::-1]:
                rate = await _for(seconds, workers)
                (project if name == "project" else bare).append(rate)
            print(
                f"  round {n + 1}: project {project[-1]:.0f}/s, bare {bare[-1]:.0f}/s",
                flush=True,
            )
    finally:
        await pool.close()
        for connection in connections:
            await connection.close()
    return project, bare


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench filing", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0, help="each side, each round")
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--processes", type=int, default=1, help="app processes, one port each")
    args = parser.parse_args(argv)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # no line per request
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not pg_url:
        print("filing skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as tmp, database(pg_url, Path(tmp)) as world:
        logins = asyncio.run(_residents(world, args.concurrency))
        per_filing = statements_per_filing(world)
        env = {"BROADCAST_URL": world.settings.database_url, "LOG_LEVEL": "warning"}
        with ExitStack() as servers:
            bases = [
                servers.enter_context(running_server(world.settings, **env))
                for _ in range(args.processes)
            ]
            project, bare = asyncio.run(measure(bases, world, logins, args.rounds, args.seconds))
    filings, raw = statistics.median(project), statistics.median(bare)
    ratio = filings / raw
    verdict = "aim met" if ratio >= AIM else "goal met" if ratio >= GOAL else "below the goal"
    print(
        f"filing over HTTP, concurrency {args.concurrency}, {args.processes} app process(es), "
        f"{args.rounds} rounds of "
        f"{args.seconds:g} s each side (medians):\n"
        f"  project  {filings:7.0f} filings/s\n"
        f"  bare     {raw:7.0f} INSERT + pg_notify + COMMIT transactions/s\n"
        f"  ratio    {ratio:7.2f}  (goal ≥ {GOAL}, aim {AIM}: {verdict})\n"
        f"  statements per filing: {per_filing}"
    )
    return 0
