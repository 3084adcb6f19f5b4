"""What the live benchmarks share: opening N pages with the server's memory measured, timing
one change to the last page that receives it, and the percentile of a few rounds."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil

CONNECT_CONCURRENCY = 50
CEILING_FRAGMENT = 1024  # bytes the bare program sends per change


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Pages:
    sockets: list[Any]
    connect_seconds: float
    rss_per_connection_kib: float


async def open_pages(pid: int, count: int, connect: Callable[[int], Awaitable[Any]]) -> Pages:
    process = psutil.Process(pid)
    warm = await connect(0)  # imports, templates and pools warmed before the baseline
    await warm.close()
    await asyncio.sleep(0.5)
    rss_before = process.memory_info().rss
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(i: int) -> Any:
        async with gate:
            return await connect(i)

    started = time.perf_counter()
    sockets = await asyncio.gather(*(one(i) for i in range(count)))
    seconds = time.perf_counter() - started
    await asyncio.sleep(1.0)
    rss = (process.memory_info().rss - rss_before) / count / 1024
    return Pages(list(sockets), seconds, rss)


@dataclass
class Sides:
    """The pages open on both sides of one measurement, and what its rounds took."""

    project: Pages
    ceiling: Pages
    poke: httpx.AsyncClient  # the bare program's POST /poke
    last: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    posts: list[float] = field(default_factory=list)
    size: int = 0

    def arrived(self, seconds: float, post: float, size: int) -> None:
        """The project's side of a round (`last_arrival`'s figures)."""
        self.last.append(seconds)
        self.posts.append(post)
        self.size = size

    async def close(self) -> None:
        sockets = [*self.project.sockets, *self.ceiling.sockets]
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        await self.poke.aclose()

    def figures(
        self,
        gets: dict[str, list[float]] | None = None,
        filings: dict[str, list[float]] | None = None,
    ) -> dict[str, Any]:
        return figures(
            self.last, self.bare, self.posts, self.project, self.ceiling, self.size, gets, filings
        )


async def open_sides(
    count: int,
    project: tuple[int, Callable[[int], Awaitable[Any]]],
    ceiling: tuple[int, Callable[[int], Awaitable[Any]]],
    ceiling_base: str,
) -> Sides:
    """`count` pages of the project, then as many of the bare program: (server pid, connect)."""
    pages = await open_pages(project[0], count, project[1])
    bare = await open_pages(ceiling[0], count, ceiling[1])
    return Sides(pages, bare, httpx.AsyncClient(base_url=ceiling_base, timeout=10))


async def last_arrival(
    sockets: list[Any],
    arrived: Callable[[str], bool],
    change: Callable[[], Awaitable[None]],
    during: Callable[[], Awaitable[None]] | None = None,
) -> tuple[float, float, int]:
    """(seconds from the change to the last page receiving it, the change's own seconds,
    the size of what the first page received)."""
    arrivals = [0.0] * len(sockets)
    sizes = [0] * len(sockets)

    async def wait(i: int, ws: Any) -> None:
        while True:
            message = await ws.recv()
            if arrived(message):
                arrivals[i] = time.perf_counter()
                sizes[i] = len(message.encode())
                return

    waiting = [asyncio.create_task(wait(i, ws)) for i, ws in enumerate(sockets)]
    await asyncio.sleep(0.05)
    sent = time.perf_counter()
    await change()
    took = time.perf_counter() - sent
    if during is not None:
        await during()  # while the pages are still receiving the change
    await asyncio.wait_for(asyncio.gather(*waiting), 120)
    return max(arrivals) - sent, took, sizes[0]


async def ceiling_round(
    sockets: list[Any],
    poke: httpx.AsyncClient,
    n: int,
    group: str | None = None,
    *,
    size: int = CEILING_FRAGMENT,
    distinct: bool = False,
) -> float:
    """The bare program's side of round n: a poke, and the time until the last of `sockets`
    has the fragment marked n (`distinct`: each its own text)."""

    async def nudge() -> None:
        params: dict[str, Any] = {"size": size, "mark": str(n)}
        if group:
            params["group"] = group
        if distinct:
            params["distinct"] = "1"
        reply = await poke.post("/poke", params=params)
        assert reply.status_code == 204

    wanted = f'data-mark="{n}"'
    seconds, _took, _size = await last_arrival(sockets, lambda m: wanted in m, nudge)
    return seconds


def figures(
    last: list[float],
    bare: list[float],
    posts: list[float],
    project: Pages,
    ceiling: Pages,
    size: int,
    gets: dict[str, list[float]] | None = None,
    filings: dict[str, list[float]] | None = None,
) -> dict[str, Any]:
    """One run's figures, as `live.Result` takes them; side calls left out are nan."""

    def p99(values: dict[str, list[float]] | None, when: str) -> float:
        return percentile(values[when], 0.99) if values else float("nan")

    return {
        "last_p50": statistics.median(last),
        "last_p99": percentile(last, 0.99),
        "bare_last_p50": statistics.median(bare),
        "bare_last_p99": percentile(bare, 0.99),
        "rss_per_connection_kib": project.rss_per_connection_kib,
        "bare_rss_per_connection_kib": ceiling.rss_per_connection_kib,
        "connect_seconds": project.connect_seconds,
        "bare_connect_seconds": ceiling.connect_seconds,
        "message_bytes": size,
        "post_p50": statistics.median(posts),
        "get_idle_p99": p99(gets, "idle"),
        "get_load_p99": p99(gets, "load"),
        "filing_idle_p99": p99(filings, "idle"),
        "filing_load_p99": p99(filings, "load"),
    }
