"""Live updates under load: from the POST that changes a request to the last of N open pages
showing it, and the server's memory per open live connection.

For each bus and each N: start the app (memory bus: one uvicorn process; PostgreSQL bus: two,
the POST goes to A and the pages are open on B, so every update crosses LISTEN/NOTIFY), open N
WebSocket pages on one request (signed in as four different people, so four different
renderings), then add a timeline entry through HTTP, round after round, and time until every
page has received it.

    python -m bench live                      # quick: memory bus, N=100, 10 rounds
    python -m bench live --full               # N=100 and 1000; memory and PostgreSQL buses
    python -m bench live --clients 1000 --bus postgres --rounds 20

PostgreSQL comes from BENCH_DATABASE_URL or TEST_DATABASE_URL (a fresh database is created and
dropped); without it the memory bus runs on SQLite and the PostgreSQL bus is skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
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

from server.db.migrate import upgrade
from server.settings import Settings, normalise_database_url
from tests.live_client import Browser, comment, file_request, hello, last_entry
from tests.server_process import free_port, running_server
from tests.world import World, build_world

QUICK = ["--clients", "100", "--bus", "memory", "--rounds", "10"]  # for `make bench`
VIEWERS = ("resident", "operator", "dispatcher", "cityadmin")  # all may see the request
CONNECT_CONCURRENCY = 50


@dataclass
class Result:
    bus: str
    clients: int
    rounds: int
    last_p50: float
    last_p99: float
    each_p50: float
    each_p99: float
    rss_per_connection_kib: float
    connect_seconds: float
    post_p50: float
    database: str

    def row(self) -> str:
        return (
            f"| {self.bus} | {self.database} | {self.clients} | {self.rounds} "
            f"| {self.last_p50 * 1000:.0f} | {self.last_p99 * 1000:.0f} "
            f"| {self.each_p50 * 1000:.0f} | {self.each_p99 * 1000:.0f} "
            f"| {self.post_p50 * 1000:.0f} "
            f"| {self.rss_per_connection_kib:.0f} | {self.connect_seconds:.1f} |"
        )


HEADER = (
    "| bus | database | N pages | rounds | last page p50, ms | last page p99, ms "
    "| every page p50, ms | every page p99, ms | the POST itself p50, ms "
    "| server RSS per connection, KiB | opening N pages, s |"
    "\n|---|---|---|---|---|---|---|---|---|---|---|"
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


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


async def measure(
    post_base: str, watch_base: str, watch_pid: int, clients: int, rounds: int, world: World
) -> dict[str, Any]:
    writers = {name: await Browser(post_base, name).sign_in() for name in VIEWERS}
    watchers = []
    for name in VIEWERS:
        browser = Browser(watch_base, name)
        browser.client.cookies = writers[name].client.cookies
        watchers.append(browser)
    dispatcher = writers["dispatcher"]
    request_id = await file_request(
        writers["resident"], world.buildings["lenina12"], world.categories["leak"], "Бенчмарк"
    )
    shown = last_entry(await watchers[0].page(f"/requests/{request_id}"))
    path = f"/live/requests/{request_id}"

    # Warm the server up (imports, templates, pools), then take its memory as the baseline.
    warm = await watchers[0].live(path)
    await warm.send(hello(last_entry=shown))
    await warm.recv()
    await warm.close()
    await asyncio.sleep(0.5)
    process = psutil.Process(watch_pid)
    rss_before = process.memory_info().rss

    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def open_page(i: int) -> Any:
        async with gate:
            ws = await watchers[i % len(watchers)].live(path)
            await ws.send(hello(last_entry=shown))
            await asyncio.wait_for(ws.recv(), 60)
            return ws

    started = time.perf_counter()
    pages = await asyncio.gather(*(open_page(i) for i in range(clients)))
    connect_seconds = time.perf_counter() - started
    await asyncio.sleep(1.0)
    rss_per_connection = (process.memory_info().rss - rss_before) / clients / 1024

    last: list[float] = []
    each: list[float] = []
    posts: list[float] = []
    try:
        for n in range(rounds):
            arrivals: list[float] = [0.0] * clients

            async def wait(i: int, ws: Any) -> None:
                while 'id="timeline"' not in await ws.recv():
                    pass
                arrivals[i] = time.perf_counter()  # noqa: B023

            waiting = [asyncio.create_task(wait(i, ws)) for i, ws in enumerate(pages)]
            await asyncio.sleep(0.05)
            sent = time.perf_counter()
            await comment(dispatcher, request_id, f"Замер {n}")
            posts.append(time.perf_counter() - sent)
            await asyncio.wait_for(asyncio.gather(*waiting), 60)
            latencies = [a - sent for a in arrivals]
            last.append(max(latencies))
            each.extend(latencies)
            await asyncio.sleep(0.2)
    finally:
        await asyncio.gather(*(ws.close() for ws in pages), return_exceptions=True)
        for browser in [*writers.values(), *watchers]:
            await browser.close()
    return {
        "last_p50": statistics.median(last),
        "last_p99": percentile(last, 0.99),
        "each_p50": statistics.median(each),
        "each_p99": percentile(each, 0.99),
        "rss_per_connection_kib": rss_per_connection,
        "connect_seconds": connect_seconds,
        "post_p50": statistics.median(posts),
    }


def run_one(bus: str, clients: int, rounds: int, pg_url: str | None) -> Result | None:
    if bus == "postgres" and not pg_url:
        print("postgres bus skipped: set BENCH_DATABASE_URL or TEST_DATABASE_URL", file=sys.stderr)
        return None
    with (
        tempfile.TemporaryDirectory(prefix="zayavka-bench-") as tmp,
        database(pg_url, Path(tmp)) as world,
    ):
        settings = world.settings
        bus_url = settings.database_url if bus == "postgres" else "memory://"
        env = {"BROADCAST_URL": bus_url, "LOG_LEVEL": "warning"}
        ports = [free_port(), free_port()] if bus == "postgres" else [free_port()]
        with ExitStack() as stack:
            bases = [stack.enter_context(running_server(settings, port=p, **env)) for p in ports]
            post_base, watch_base = bases[0], bases[-1]
            figures = asyncio.run(
                measure(
                    post_base, watch_base, server_process(ports[-1]).pid, clients, rounds, world
                )
            )
        database_kind = "PostgreSQL" if pg_url else "SQLite"
        return Result(bus, clients, rounds, database=database_kind, **figures)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench live", description=__doc__)
    parser.add_argument("--clients", default="100", help="comma-separated N, e.g. 100,1000")
    parser.add_argument("--bus", default="memory", help="comma-separated: memory,postgres")
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--full", action="store_true", help="N=100,1000 × memory,postgres × 20")
    args = parser.parse_args(argv)
    if args.full:
        args.clients, args.bus, args.rounds = "100,1000", "memory,postgres", 20
    pg_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or None
    counts = [int(n) for n in args.clients.split(",") if n.strip()]
    raise_file_limit(max(counts) * 3 + 256)
    results = []
    for bus in [b.strip() for b in args.bus.split(",") if b.strip()]:
        for clients in counts:
            print(f"live: {bus} bus, {clients} pages, {args.rounds} rounds…", flush=True)
            result = run_one(bus, clients, args.rounds, pg_url)
            if result is not None:
                results.append(result)
    if results:
        print(HEADER)
        for result in results:
            print(result.row())
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
