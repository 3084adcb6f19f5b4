"""The figures of the oversight dashboard and the public page.

Every figure describes the requests *filed* in a period (a cohort), as they stand now; see
docs/oversight.md for the definitions. The queries that count them are in cohort.py; this module
adds the cells they return up to the town, each organisation and each category.

Medians and 90th percentiles use linear interpolation between the two nearest ranks
(PostgreSQL's percentile_cont, Excel's PERCENTILE.INC), computed here from the durations the
database returns, so PostgreSQL and SQLite give the same answers.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Organisation, utcnow
from server.i18n import in_reader_language
from server.oversight import cohort
from server.oversight.cohort import Cell, Key
from server.oversight.periods import Period, Scope
from server.shared.roles import HANDLING_KINDS
from server.shared.services import Services

T = TypeVar("T")


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between closest ranks, as PostgreSQL's percentile_cont.

    For sorted values v[0..n-1] the position is fraction·(n−1); between two ranks the value is
    interpolated. The median of [1, 2, 3, 4] is 2.5; the 90th percentile of [10, 20, 30, 40,
    100] is 40 + 0.6·(100 − 40) = 76.
    """
    return percentile_sorted(sorted(values), fraction) if values else None


def percentile_sorted(ordered: Sequence[float], fraction: float) -> float | None:
    """`percentile` of values already in ascending order."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Durations:
    """How long a step took, in seconds, over the requests that reached it."""

    count: int = 0
    median: float | None = None
    p90: float | None = None

    @classmethod
    def of_sorted_runs(cls, runs: Iterable[list[float]]) -> Durations:
        """The durations of several groups, each already sorted (Timsort merges the runs)."""
        values = [value for run in runs for value in run]
        if not values:
            return cls()
        values.sort()
        return cls(len(values), percentile_sorted(values, 0.5), percentile_sorted(values, 0.9))


@dataclass
class Figures:
    filed: int = 0
    closed: int = 0  # confirmed by the resident
    declined: int = 0
    cancelled: int = 0
    duplicates: int = 0  # the same problem as another request: neither fixed nor declined
    open: int = 0  # not closed, declined, cancelled or a duplicate
    overdue: int = 0  # work still owed and its deadline has passed
    on_time: int = 0  # work reported done by the deadline
    late: int = 0  # work reported done after the deadline
    closed_without_rework: int = 0
    returns: int = 0  # the dispatcher sent the work back
    disputes: int = 0  # the resident did not accept the work
    transferred: int = 0  # handed by this organisation to another one
    rating_count: int = 0
    rating_sum: int = 0
    to_assign: Durations = field(default_factory=Durations)
    to_done: Durations = field(default_factory=Durations)
    to_close: Durations = field(default_factory=Durations)

    def add_counts(self, counts: dict[str, int]) -> None:
        for name, value in counts.items():
            setattr(self, name, getattr(self, name) + value)

    @property
    def deadline_known(self) -> int:
        """Requests whose deadline has been met or missed."""
        return self.on_time + self.late + self.overdue

    @property
    def on_time_share(self) -> float | None:
        return _share(self.on_time, self.deadline_known)

    @property
    def without_rework_share(self) -> float | None:
        return _share(self.closed_without_rework, self.closed)

    @property
    def closed_share(self) -> float | None:
        return _share(self.closed, self.filed - self.cancelled - self.duplicates)

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Row:
    """One line of a breakdown: an organisation or a category with its figures.

    `name` (Russian, with `names` in the other languages that were given) is empty for the
    requests waiting in the administration's triage queue: the pages and the export name rows
    in the reader's language when they show them, so the cache holds every language.
    """

    id: int | None
    name: str
    figures: Figures
    kind: str = ""
    names: dict[str, str] = field(default_factory=dict)

    @property
    def shown_name(self) -> str:
        return in_reader_language(self.name, **self.names)


@dataclass
class TrendPoint:
    start: date
    filed: int = 0
    closed: int = 0


@dataclass
class Dashboard:
    period: Period
    scope: Scope
    now: datetime
    total: Figures
    by_organisation: list[Row]
    by_category: list[Row]
    trend: list[TrendPoint]

    @property
    def ranking(self) -> list[Row]:
        """Organisations with a known deadline outcome, best share of work on time first."""
        rows = [r for r in self.by_organisation if r.id is not None and r.figures.deadline_known]
        return sorted(rows, key=lambda r: (-(r.figures.on_time_share or 0), r.name))


GroupKey = tuple[str, int | None]  # ("total", None) | ("org", id) | ("cat", id)


def _groups_of(key: Key) -> tuple[GroupKey, GroupKey, GroupKey]:
    organisation_id, category_id = key
    return ("total", None), ("org", organisation_id), ("cat", category_id)


async def dashboard(
    svc: Services,
    period: Period,
    scope: Scope = Scope(),
    *,
    now: datetime | None = None,
) -> Dashboard:
    """Every figure for the period, in total, per organisation and per category."""
    now = now or utcnow()

    async def read(query: Callable[[AsyncSession], Awaitable[T]]) -> T:
        async with svc.db.read() as session:
            return await query(session)

    # Independent reads, each on its own connection: the slowest one sets the pace.
    cells, extras, transfers, closings, (orgs, cats) = await asyncio.gather(
        read(lambda s: cohort.cells(s, period, scope, now)),
        read(lambda s: cohort.rework_and_ratings(s, period, scope)),
        read(lambda s: cohort.transfers(s, period, scope)),
        read(lambda s: cohort.closings(s, period, scope)),
        read(cohort.names),
    )
    groups: dict[GroupKey, Figures] = defaultdict(Figures)
    runs: dict[GroupKey, list[Cell]] = defaultdict(list)
    filed: dict[date, int] = defaultdict(int)
    for cell in cells:
        filed[cell.step] += cell.counts["filed"]
        for group in _groups_of(cell.key):
            groups[group].add_counts(cell.counts)
            runs[group].append(cell)
    for key, counts in [*extras, *transfers]:
        for group in _groups_of(key):
            groups[group].add_counts(counts)
    for group, found in runs.items():
        figures = groups[group]
        figures.to_assign = Durations.of_sorted_runs(c.to_assign for c in found)
        figures.to_done = Durations.of_sorted_runs(c.to_done for c in found)
        figures.to_close = Durations.of_sorted_runs(c.to_close for c in found)

    by_org = {key: f for (kind, key), f in groups.items() if kind == "org"}
    by_cat = {key: f for (kind, key), f in groups.items() if kind == "cat"}
    cat_rows = [
        Row(c.id, c.name, by_cat.get(c.id, Figures()), names={"tt": c.name_tt, "en": c.name_en})
        for c in sorted(cats, key=lambda c: (c.sort, c.name))
        if (c.active or c.id in by_cat) and scope.category_id in (None, c.id)
    ]
    trend = [TrendPoint(day, filed.get(day, 0), closings.get(day, 0)) for day in period.steps]
    total = groups.get(("total", None), Figures())
    return Dashboard(period, scope, now, total, _org_rows(orgs, by_org, scope), cat_rows, trend)


def _org_rows(
    orgs: list[Organisation], by_org: dict[int | None, Figures], scope: Scope
) -> list[Row]:
    rows = [
        Row(o.id, o.name, by_org.get(o.id, Figures()), o.kind, {"tt": o.name_tt, "en": o.name_en})
        for o in sorted(orgs, key=lambda o: o.name)
        if (o.kind in HANDLING_KINDS and o.active) or o.id in by_org
    ]
    if scope.organisation_id is not None:
        rows = [r for r in rows if r.id == scope.organisation_id]
    elif None in by_org:
        rows.append(Row(None, "", by_org[None]))
    return rows
