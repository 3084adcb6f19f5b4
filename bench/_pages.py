"""What the live benchmarks share: opening N pages with the server's memory measured, timing
one change to the last page that receives it, and the percentile of a few rounds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

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
