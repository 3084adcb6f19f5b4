"""Filing over HTTP against the database's own ceiling, on PostgreSQL.

The project: one uvicorn process (PostgreSQL bus, so a filing's publish is a NOTIFY too) and 20
signed-in residents filing at once, each POST the whole stack (session, CSRF, the transaction
with its timeline entry and outbox, the publish after commit). The bare program: 20 asyncpg
connections in this process, each looping `BEGIN; INSERT a row like a request's; SELECT
pg_notify(…); COMMIT`. The two run alternately for the same time, round after round, on the same
machine and database server; the figure is the median of the rounds' throughputs and their
ratio. Statements per filing are counted once, in-process, on the app's engine
(tests/statements.py), as tests/integration/requests/test_filing_statements.py counts them.

    python -m bench filing                         # 5 rounds of 8 s each side
    python -m bench filing --rounds 3 --seconds 2  # what `make bench` runs

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
from pathlib import Path

import asyncpg
import httpx
from litestar.testing import TestClient

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


async def measure(
    base: str, world: World, logins: list[str], rounds: int, seconds: float
) -> tuple[list[float], list[float]]:
    browsers = [await Browser(base, name).sign_in() for name in logins]
    for browser in browsers:
        browser.client.timeout = httpx.Timeout(60)
    pool = await asyncpg.create_pool(
        _plain(world.settings.database_url), min_size=len(logins), max_size=len(logins)
    )
    assert pool is not None
    await pool.execute(RAW_TABLE)

    def filer(browser: Browser) -> Callable[[], Awaitable[None]]:
        async def file() -> None:
            response = await browser.post("/requests/new", _form(world))
            assert response.status_code == 303, response.text

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

    filers = [filer(b) for b in browsers]
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
        for browser in browsers:
            await browser.close()
    return project, bare


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench filing", description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0, help="each side, each round")
    parser.add_argument("--concurrency", type=int, default=20)
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
        with running_server(world.settings, **env) as base:
            project, bare = asyncio.run(measure(base, world, logins, args.rounds, args.seconds))
    filings, raw = statistics.median(project), statistics.median(bare)
    ratio = filings / raw
    verdict = "aim met" if ratio >= AIM else "goal met" if ratio >= GOAL else "below the goal"
    print(
        f"filing over HTTP, concurrency {args.concurrency}, {args.rounds} rounds of "
        f"{args.seconds:g} s each side (medians):\n"
        f"  project  {filings:7.0f} filings/s\n"
        f"  bare     {raw:7.0f} INSERT + pg_notify + COMMIT transactions/s\n"
        f"  ratio    {ratio:7.2f}  (goal ≥ {GOAL}, aim {AIM}: {verdict})\n"
        f"  statements per filing: {per_filing}"
    )
    return 0
