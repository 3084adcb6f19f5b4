"""Recently computed figures, kept warm while someone is looking at them.

A year of a busy town is ~100,000 requests; computing its figures takes a few hundred
milliseconds of database time. The dashboard and the public page show figures at most
`fresh_for` seconds old (STATS_CACHE_SECONDS, default 30; 0 turns caching off): the first
look at a period computes them, and while that period keeps being looked at a background task
recomputes it before it goes stale, so pages rarely wait. The live counters and the overdue list
are never cached.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from dataclasses import dataclass
from datetime import datetime

from server.oversight import figures
from server.oversight.figures import Dashboard
from server.oversight.periods import Period, Scope
from server.shared.services import Services

log = logging.getLogger(__name__)

DEFAULT_FRESH_FOR = 30.0
KEEP_WARM_FOR = 600.0  # stop refreshing a period nobody has looked at for this long
MAX_ENTRIES = 64

Key = tuple[datetime, datetime, Scope]


@dataclass
class Entry:
    period: Period
    scope: Scope
    board: Dashboard
    computed: float
    used: float


def fresh_for_of(svc: Services) -> float:
    raw = svc.settings.extra.get("stats_cache_seconds") or os.environ.get("STATS_CACHE_SECONDS", "")
    try:
        return max(0.0, float(raw)) if raw != "" else DEFAULT_FRESH_FOR
    except ValueError:
        return DEFAULT_FRESH_FOR


class FiguresCache:
    def __init__(self, svc: Services, *, fresh_for: float | None = None) -> None:
        self.svc = svc
        self.fresh_for = fresh_for_of(svc) if fresh_for is None else fresh_for
        self._entries: dict[Key, Entry] = {}
        self._locks: dict[Key, asyncio.Lock] = {}
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def dashboard(self, period: Period, scope: Scope = Scope()) -> Dashboard:
        if self.fresh_for <= 0:
            return await figures.dashboard(self.svc, period, scope)
        key: Key = (period.start, period.end, scope)
        entry = self._fresh(key)
        if entry is not None:
            entry.used = time.monotonic()
            return entry.board
        # One computation per period at a time: others asking meanwhile wait for it.
        async with self._locks.setdefault(key, asyncio.Lock()):
            entry = self._fresh(key)
            if entry is None:
                entry = await self._compute(key, period, scope)
            entry.used = time.monotonic()
        self._keep_warm()
        return entry.board

    def _fresh(self, key: Key) -> Entry | None:
        entry = self._entries.get(key)
        if entry is not None and time.monotonic() - entry.computed < self.fresh_for:
            return entry
        return None

    async def _compute(self, key: Key, period: Period, scope: Scope) -> Entry:
        board = await figures.dashboard(self.svc, period, scope)
        now = time.monotonic()
        entry = Entry(
            period, scope, board, now, self._entries[key].used if key in self._entries else now
        )
        self._entries[key] = entry
        if len(self._entries) > MAX_ENTRIES:
            oldest = min(self._entries, key=lambda k: self._entries[k].used)
            self._entries.pop(oldest, None)
            self._locks.pop(oldest, None)
        return entry

    def _keep_warm(self) -> None:
        if self._task is None or self._task.done():
            self._stop.clear()
            self._task = asyncio.create_task(self._refresh_loop())

    async def _refresh_loop(self) -> None:
        """Recompute periods still being looked at, halfway through their freshness."""
        interval = max(self.fresh_for / 2, 0.05)
        while self._entries and not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=interval)
            if self._stop.is_set():
                break
            now = time.monotonic()
            for key, entry in list(self._entries.items()):
                if now - entry.used > KEEP_WARM_FOR:
                    self._entries.pop(key, None)
                    self._locks.pop(key, None)
                elif now - entry.computed >= interval:
                    try:
                        async with self._locks.setdefault(key, asyncio.Lock()):
                            await self._compute(key, entry.period, entry.scope)
                    except Exception:
                        log.exception("refreshing dashboard figures failed")

    async def close(self) -> None:
        self._stop.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
