"""Live updates under load: from the change's POST to the last of N open pages showing it,
and the server's memory per open live connection.

For each bus and each N: start the app (memory bus: one uvicorn process on SQLite; PostgreSQL
or Redis bus: two processes on PostgreSQL, the POST goes to A and the pages are open on B, so
every update crosses LISTEN/NOTIFY or Redis pub/sub), open N WebSocket pages (the scenarios:
`request`, `board`, `spread`; see docs/benchmarks.md), then make a change through HTTP, round
after round, and time until every page has received it, each round followed by the same for
the bare ceiling program (bench/_ceiling.py).

    python -m bench live                      # quick: memory bus, N=100, 10 rounds
    python -m bench live --full               # N=1000, every scenario and bus, 20 rounds
    python -m bench live --clients 1000 --bus postgres,redis --rounds 20

PostgreSQL comes from BENCH_DATABASE_URL or TEST_DATABASE_URL (a fresh database is created and
dropped), Redis from BENCH_REDIS_URL (default redis://127.0.0.1:6379/0); without PostgreSQL the
buses that join two processes are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import websockets

from bench._pages import ceiling_round, last_arrival, open_sides
from bench._spread import measure_spread
from server.db.migrate import upgrade
from server.settings import Settings, normalise_database_url
from tests.http import version_of
from tests.live_client import Browser, file_request, hello, last_entry
from tests.server_process import free_port, running_server
from tests.world import World, build_world

QUICK = ["--clients", "100", "--bus", "memory", "--rounds", "10"]  # for `make bench`
VIEWERS = ("resident", "operator", "dispatcher", "cityadmin")  # all may see the request


@dataclass
class Result:
    scenario: str
    bus: str
    database: str
    clients: int
    rounds: int
    last_p50: float
    last_p99: float
    bare_last_p50: float
    bare_last_p99: float
    rss_per_connection_kib: float
    bare_rss_per_connection_kib: float
    connect_seconds: float
    bare_connect_seconds: float
    message_bytes: int
    post_p50: float
    # A page GET and a filing elsewhere in town: idle, and while the change fans out.
    get_idle_p99: float
    get_load_p99: float
    filing_idle_p99: float
    filing_load_p99: float

    def row(self) -> str:
        ratio = self.last_p99 / self.bare_last_p99 if self.bare_last_p99 else float("nan")
        return (
            f"| {self.scenario} | {self.bus} | {self.database} | {self.clients} | {self.rounds} "
            f"| {self.last_p50 * 1000:.0f} | {self.last_p99 * 1000:.0f} "
            f"| {self.bare_last_p50 * 1000:.0f} | {self.bare_last_p99 * 1000:.0f} | {ratio:.1f} "
            f"| {self.rss_per_connection_kib:.0f} / {self.bare_rss_per_connection_kib:.0f} "
            f"| {self.connect_seconds:.1f} / {self.bare_connect_seconds:.1f} "
            f"| {self.message_bytes} | {self.post_p50 * 1000:.0f} "
            f"| {self.get_idle_p99 * 1000:.0f} / {self.get_load_p99 * 1000:.0f} "
            f"| {self.filing_idle_p99 * 1000:.0f} / {self.filing_load_p99 * 1000:.0f} |"
        )


HEADER = (
    "| scenario | bus | database | N pages | rounds | last page p50, ms | last page p99, ms "
    "| bare p50, ms | bare p99, ms | p99 ratio | RSS per connection, KiB (project / bare) "
    "| opening N pages, s (project / bare) | message, bytes | the POST p50, ms "
    "| page GET p99 idle / under fan-out, ms | filing p99 idle / under fan-out, ms |"
    "\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
)


# --------------------------------------------------------------------------------------------
# Set-up


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def database(pg_url: str | None, tmp: Path) -> Iterator[World]:
    """A fresh, migrated database with the small test town in it."""
    with ExitStack() as stack:
        if pg_url:
            base = normalise_database_url(pg_url).rsplit("/", 1)[0]
            name = f"zayavka_bench_{uuid.uuid4().hex[:10]}"
            asyncio.run(_admin(base + "/postgres", f'CREATE DATABASE "{name}"'))
            stack.callback(
                lambda: asyncio.run(
                    _admin(base + "/postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                )
            )
            url = f"{base}/{name}"
        else:
            url = f"sqlite+aiosqlite:///{tmp / f'bench-{uuid.uuid4().hex[:6]}.db'}"
        upgrade(url)
        settings = Settings.from_env(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
                "BASE_URL": "http://127.0.0.1",
                "MEDIA_DIR": str(tmp / "media"),
                "BROADCAST_URL": "memory://",
            }
        )
        yield asyncio.run(build_world(settings))


def server_process(port: int) -> psutil.Process:
    for child in psutil.Process().children(recursive=True):
        try:
            if str(port) in child.cmdline():
                return child
        except psutil.Error:
            continue
    raise RuntimeError(f"no server process on port {port}")


def raise_file_limit(wanted: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


# --------------------------------------------------------------------------------------------
# The measurement

# What a scenario opens and what change each round makes.
SCENARIOS = ("request", "board", "spread")


def _a_row(message: str) -> bool:
    return 'id="row-' in message


async def measure(
    scenario: str,
    post_base: str,
    watch_base: str,
    watch_pid: int,
    ceiling_base: str,
    ceiling_pid: int,
    clients: int,
    rounds: int,
    world: World,
) -> dict[str, Any]:
    writers = {name: await Browser(post_base, name).sign_in() for name in VIEWERS}
    watchers = []
    for name in VIEWERS:
        browser = Browser(watch_base, name)
        browser.client.cookies = writers[name].client.cookies
        watchers.append(browser)
    dispatcher, resident = writers["dispatcher"], writers["resident"]
    building, category = world.buildings["lenina12"], world.categories["leak"]
    request_id = await file_request(resident, building, category, "Бенчмарк")
    shown = last_entry(await watchers[0].page(f"/requests/{request_id}"))
    board_watcher = watchers[VIEWERS.index("dispatcher")]

    async def project_page(i: int) -> Any:
        if scenario == "request":
            ws = await watchers[i % len(watchers)].live(f"/live/requests/{request_id}")
            await ws.send(hello(last_entry=shown))
        else:
            ws = await board_watcher.live("/live/board")
            await ws.send(hello(search="", rows=[]))
        await asyncio.wait_for(ws.recv(), 60)
        return ws

    async def ceiling_page(i: int) -> Any:
        ws = await websockets.connect(
            ceiling_base.replace("http://", "ws://") + "/ws", open_timeout=10
        )
        await ws.send("hello")
        await asyncio.wait_for(ws.recv(), 60)
        return ws

    elsewhere = world.buildings["sovet7"]  # another organisation's house: on none of the pages
    gets: dict[str, list[float]] = {"idle": [], "load": []}
    filings: dict[str, list[float]] = {"idle": [], "load": []}

    async def side_calls(when: str) -> None:
        started = time.perf_counter()
        await dispatcher.page(f"/requests/{request_id}")
        gets[when].append(time.perf_counter() - started)
        started = time.perf_counter()
        await file_request(resident, elsewhere, category, "Рядом")
        filings[when].append(time.perf_counter() - started)

    sides = await open_sides(
        clients, (watch_pid, project_page), (ceiling_pid, ceiling_page), ceiling_base
    )
    try:
        for _ in range(rounds):
            await side_calls("idle")
        for n in range(rounds):
            mark = f"Замер {n}"
            if scenario == "request":
                version = version_of(await dispatcher.page(f"/requests/{request_id}"))

                async def change() -> None:
                    reply = await dispatcher.post(
                        f"/requests/{request_id}/actions/comment",
                        {"version": version, "reason": mark},  # noqa: B023
                    )
                    assert reply.status_code == 303, reply.text
            else:

                async def change() -> None:
                    await file_request(resident, building, category, mark)  # noqa: B023

            # Interleaved: the project's round, then the ceiling's, under the same load.
            seconds, took, size = await last_arrival(
                sides.project.sockets,
                # A board row shows no description: the one change of the round is the row.
                (lambda m, mark=mark: mark in m) if scenario == "request" else _a_row,
                change,
                lambda: side_calls("load"),
            )
            sides.arrived(seconds, took, size)
            await asyncio.sleep(0.2)

            sides.bare.append(await ceiling_round(sides.ceiling.sockets, sides.poke, n))
            await asyncio.sleep(0.2)
    finally:
        await sides.close()
        for browser in [*writers.values(), *watchers]:
            await browser.close()
    return sides.figures(gets, filings)


# Buses that join processes: the POST goes to one, the pages are open on the other.
SEVERAL_PROCESSES = ("postgres", "redis")


def redis_url() -> str:
    return os.environ.get("BENCH_REDIS_URL") or "redis://127.0.0.1:6379/0"


def run_one(
    scenario: str, bus: str, clients: int, rounds: int, pg_url: str | None
) -> Result | None:
    several = bus in SEVERAL_PROCESSES
    if several and not pg_url:
        print(f"{bus} bus skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL", file=sys.stderr)
        return None
    with (
        tempfile.TemporaryDirectory(prefix="zayavka-bench-") as tmp,
        database(pg_url if several else None, Path(tmp)) as world,
    ):
        settings = world.settings
        bus_url = {"postgres": settings.database_url, "redis": redis_url()}.get(bus, "memory://")
        # The spread scenario signs in a dispatcher per organisation from one address.
        env = {"BROADCAST_URL": bus_url, "LOG_LEVEL": "warning"}
        env["LOGIN_ATTEMPTS_PER_MINUTE"] = "1000"
        ports = [free_port(), free_port()] if several else [free_port()]
        ceiling_port = free_port()
        with ExitStack() as stack:
            bases = [stack.enter_context(running_server(settings, port=p, **env)) for p in ports]
            ceiling_base = stack.enter_context(
                running_server(settings, port=ceiling_port, app="bench._ceiling:app")
            )
            measuring = measure_spread if scenario == "spread" else measure
            figures = asyncio.run(
                measuring(
                    scenario,
                    bases[0],
                    bases[-1],
                    server_process(ports[-1]).pid,
                    ceiling_base,
                    server_process(ceiling_port).pid,
                    clients,
                    rounds,
                    world,
                )
            )
        database_kind = "PostgreSQL" if several else "SQLite"
        return Result(scenario, bus, database_kind, clients, rounds, **figures)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench live", description=__doc__)
    parser.add_argument("--clients", default="100", help="comma-separated N, e.g. 100,1000")
    parser.add_argument("--bus", default="memory", help="comma-separated: memory,postgres,redis")
    parser.add_argument("--scenario", default="request,board", help="request,board,spread")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument(
        "--full", action="store_true", help="every scenario, N=1000 × every bus × 20 rounds"
    )
    args = parser.parse_args(argv)
    if args.full:
        args.clients, args.bus, args.rounds = "1000", "memory,postgres,redis", 20
        args.scenario = ",".join(SCENARIOS)
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or None
    counts = [int(n) for n in args.clients.split(",") if n.strip()]
    raise_file_limit(max(counts) * 4 + 256)
    results = []
    for scenario in [s.strip() for s in args.scenario.split(",") if s.strip()]:
        if scenario not in SCENARIOS:
            print(f"no scenario {scenario!r}; have: {', '.join(SCENARIOS)}", file=sys.stderr)
            return 2
        for bus in [b.strip() for b in args.bus.split(",") if b.strip()]:
            for clients in counts:
                print(f"live: {scenario}, {bus} bus, {clients} pages…", flush=True)
                result = run_one(scenario, bus, clients, args.rounds, pg_url)
                if result is not None:
                    results.append(result)
                    print(HEADER)
                    print(result.row(), flush=True)
    if results:
        print(HEADER)
        for result in results:
            print(result.row())
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
