"""The figures of the oversight dashboard and the public page.

Every figure describes the requests *filed* in a period (a cohort), as they stand now; see
docs/oversight.md for the definitions. Counting is SQL on both databases. Medians and 90th
percentiles use linear interpolation between the two nearest ranks (PostgreSQL's
percentile_cont, Excel's PERCENTILE.INC), computed here in Python from the durations the
database returns, so PostgreSQL and SQLite give the same answers.
"""

from __future__ import annotations

import asyncio
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Category, Organisation, Rating, Request, TimelineEntry, utcnow
from server.i18n import gettext as _
from server.requests.deadlines import TOWN_TZ
from server.requests.workflow import OPEN_WORK_STATES, State
from server.shared.roles import HANDLING_KINDS
from server.shared.services import Services

# States in which the contractor has reported the work done (the deadline question is settled).
WORK_DONE_STATES = (State.DONE, State.VERIFIED, State.CLOSED)
FINAL = (State.CLOSED, State.DECLINED, State.CANCELLED)
_OPEN_WORK = tuple(s.value for s in OPEN_WORK_STATES)
_DONE = tuple(s.value for s in WORK_DONE_STATES)

PERIOD_PRESETS = (7, 30, 90, 365)
MAX_PERIOD_DAYS = 366 * 3

Key = tuple[int | None, int | None]  # (organisation_id, category_id)


# --------------------------------------------------------------------------------------------
# Periods and filters


@dataclass(frozen=True)
class Period:
    """[start, end): both aware datetimes. Days are the town's days (Europe/Moscow)."""

    start: datetime
    end: datetime
    preset: int | None = None  # days, when chosen from the presets

    @classmethod
    def last_days(cls, days: int, now: datetime | None = None) -> Period:
        """The last `days` whole town days, today included."""
        today = (now or utcnow()).astimezone(TOWN_TZ).date()
        return cls.of_dates(today - timedelta(days=days - 1), today, preset=days)

    @classmethod
    def of_dates(cls, first: date, last: date, preset: int | None = None) -> Period:
        if last < first:
            first, last = last, first
        if (last - first).days > MAX_PERIOD_DAYS:
            first = last - timedelta(days=MAX_PERIOD_DAYS)
        return cls(_town_midnight(first), _town_midnight(last + timedelta(days=1)), preset)

    @property
    def first_day(self) -> date:
        return self.start.astimezone(TOWN_TZ).date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).astimezone(TOWN_TZ).date()

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def bucket(self) -> str:
        """The step of the trend chart: a point per day, week or month."""
        if self.days <= 45:
            return "day"
        if self.days <= 200:
            return "week"
        return "month"


def _town_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=TOWN_TZ).astimezone(UTC)


def parse_period(
    preset: str | None, first: str | None, last: str | None, *, default: int = 30
) -> Period:
    """A period from the picker: a preset number of days, or («custom») a range of days.

    Anything unreadable falls back to the last `default` days.
    """
    try:
        days = int(preset) if preset and preset.isdigit() else None
    except ValueError:
        days = None
    if days in PERIOD_PRESETS:
        return Period.last_days(days)
    if first or last:
        try:
            today = utcnow().astimezone(TOWN_TZ).date()
            start = date.fromisoformat(first) if first else today - timedelta(days=default - 1)
            end = date.fromisoformat(last) if last else today
            return Period.of_dates(start, end)
        except ValueError:
            pass
    return Period.last_days(default)


@dataclass(frozen=True)
class Scope:
    """Which requests count: all, or one organisation's, or one category's."""

    organisation_id: int | None = None
    category_id: int | None = None


# --------------------------------------------------------------------------------------------
# The figures


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


@dataclass
class Figures:
    filed: int = 0
    closed: int = 0  # confirmed by the resident
    declined: int = 0
    cancelled: int = 0
    open: int = 0  # not closed, declined or cancelled
    overdue: int = 0  # work still owed and its deadline has passed
    on_time: int = 0  # work reported done by the deadline
    late: int = 0  # work reported done after the deadline
    closed_without_rework: int = 0
    returns: int = 0  # the dispatcher sent the work back
    disputes: int = 0  # the resident did not accept the work
    rating_count: int = 0
    rating_sum: int = 0
    to_assign: Durations = field(default_factory=Durations)
    to_done: Durations = field(default_factory=Durations)
    to_close: Durations = field(default_factory=Durations)

    def add_counts(self, other: Figures) -> None:
        for name in _COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

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
        return _share(self.closed, self.filed - self.cancelled)

    @property
    def rating(self) -> float | None:
        return self.rating_sum / self.rating_count if self.rating_count else None


_COUNTS = (
    "filed",
    "closed",
    "declined",
    "cancelled",
    "open",
    "overdue",
    "on_time",
    "late",
    "closed_without_rework",
    "returns",
    "disputes",
    "rating_count",
    "rating_sum",
)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Row:
    """One line of a breakdown: an organisation or a category with its figures."""

    id: int | None
    name: str
    figures: Figures
    kind: str = ""


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


async def dashboard(
    svc: Services,
    period: Period,
    scope: Scope = Scope(),
    *,
    now: datetime | None = None,
) -> Dashboard:
    """Every figure for the period, in total, per organisation and per category."""
    now = now or utcnow()
    if svc.db.is_postgres:
        # Three connections at once: the period's requests, their ratings, returns and
        # disputes, and the closings in the period.
        (groups, trend, orgs, cats), extras, closings = await asyncio.gather(
            _with_session(svc, _groups_pg, period, scope, now),
            _with_session(svc, _extras_pg, period, scope),
            _with_session(svc, _closings_pg, period, scope),
        )
        _add_extras(groups, extras)
        trend.update(closings)
    else:
        groups, trend, orgs, cats = await _with_session(svc, _everything_py, period, scope, now)

    by_org = {key: f for (kind, key), f in groups.items() if kind == "org"}
    by_cat = {key: f for (kind, key), f in groups.items() if kind == "cat"}
    org_rows = _org_rows(orgs, by_org, scope)
    cat_rows = [
        Row(c.id, c.name, by_cat.get(c.id, Figures()))
        for c in sorted(cats, key=lambda c: (c.sort, c.name))
        if (c.active or c.id in by_cat) and scope.category_id in (None, c.id)
    ]
    total = groups.get(("total", None), Figures())
    return Dashboard(period, scope, now, total, org_rows, cat_rows, _fill_trend(period, trend))


async def _with_session(svc: Services, fn: Any, *args: Any) -> Any:
    async with svc.db.read() as session:
        return await fn(session, *args)


GroupKey = tuple[str, int | None]  # ("total", None) | ("org", id) | ("cat", id)
Trend = dict[tuple[str, date], int]  # ("filed" | "closed", first day of the bucket) → count


async def _names(session: AsyncSession) -> tuple[list[Organisation], list[Category]]:
    orgs = list(await session.scalars(select(Organisation)))
    cats = list(await session.scalars(select(Category)))
    return orgs, cats


def _org_rows(
    orgs: list[Organisation], by_org: dict[int | None, Figures], scope: Scope
) -> list[Row]:
    rows = [
        Row(o.id, o.name, by_org.get(o.id, Figures()), o.kind)
        for o in sorted(orgs, key=lambda o: o.name)
        if (o.kind in HANDLING_KINDS and o.active) or o.id in by_org
    ]
    if scope.organisation_id is not None:
        rows = [r for r in rows if r.id == scope.organisation_id]
    elif None in by_org:
        rows.append(Row(None, _("Ожидают разбора в администрации"), by_org[None]))
    return rows


def _in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if scope.organisation_id is not None:
        conditions.append(Request.organisation_id == scope.organisation_id)
    if scope.category_id is not None:
        conditions.append(Request.category_id == scope.category_id)
    return conditions


def cohort(period: Period, scope: Scope) -> list[ColumnElement[bool]]:
    """The requests filed in the period, within the scope."""
    return [Request.created_at >= period.start, Request.created_at < period.end, *_in_scope(scope)]


def _when(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def _counts(
    session: AsyncSession, period: Period, scope: Scope, now: datetime
) -> dict[Key, Figures]:
    state = Request.state
    query = (
        select(
            Request.organisation_id,
            Request.category_id,
            func.count(),
            _when(state == State.CLOSED),
            _when(state == State.DECLINED),
            _when(state == State.CANCELLED),
            _when(state.not_in([s.value for s in FINAL])),
            _when(and_(state.in_(_OPEN_WORK), Request.due_at < now)),
            _when(and_(state.in_(_DONE), Request.done_at <= Request.due_at)),
            _when(and_(state.in_(_DONE), Request.done_at > Request.due_at)),
            _when(and_(state == State.CLOSED, Request.rework_count == 0)),
        )
        .where(*cohort(period, scope))
        .group_by(Request.organisation_id, Request.category_id)
    )
    cells: dict[Key, Figures] = {}
    for org_id, cat_id, *values in (await session.execute(query)).all():
        figures = Figures()
        for name, value in zip(_COUNTS[:9], values, strict=True):
            setattr(figures, name, int(value or 0))
        cells[(org_id, cat_id)] = figures
    return cells


async def _timeline_counts(
    session: AsyncSession, period: Period, scope: Scope, cells: dict[Key, Figures]
) -> None:
    query = (
        select(Request.organisation_id, Request.category_id, TimelineEntry.kind, func.count())
        .join(Request, Request.id == TimelineEntry.request_id)
        .where(TimelineEntry.kind.in_(["return", "dispute"]), *cohort(period, scope))
        .group_by(Request.organisation_id, Request.category_id, TimelineEntry.kind)
    )
    for org_id, cat_id, kind, n in (await session.execute(query)).all():
        figures = cells.setdefault((org_id, cat_id), Figures())
        if kind == "return":
            figures.returns += int(n)
        else:
            figures.disputes += int(n)


async def _ratings(
    session: AsyncSession, period: Period, scope: Scope, cells: dict[Key, Figures]
) -> None:
    query = (
        select(
            Request.organisation_id,
            Request.category_id,
            func.count(Rating.id),
            func.coalesce(func.sum(Rating.score), 0),
        )
        .join(Request, Request.id == Rating.request_id)
        .where(*cohort(period, scope))
        .group_by(Request.organisation_id, Request.category_id)
    )
    for org_id, cat_id, n, total in (await session.execute(query)).all():
        figures = cells.setdefault((org_id, cat_id), Figures())
        figures.rating_count += int(n)
        figures.rating_sum += int(total)


# Durations: ("total", None) | ("org", id) | ("cat", id) → (to_assign, to_done, to_close).
def _apply_durations(figures: Figures, found: tuple[Durations, ...] | None) -> None:
    if found is not None:
        figures.to_assign, figures.to_done, figures.to_close = found


def _pg_filters(scope: Scope, prefix: str = "") -> str:
    sql = ""
    if scope.organisation_id is not None:
        sql += f" AND {prefix}organisation_id = :org"
    if scope.category_id is not None:
        sql += f" AND {prefix}category_id = :cat"
    return sql


def _pg_params(period: Period, scope: Scope) -> dict[str, Any]:
    return {
        "start": period.start,
        "end": period.end,
        "org": scope.organisation_id,
        "cat": scope.category_id,
    }


# One scan of the cohort gives every count per (organisation, category, trend step) cell, and
# each cell's durations as a sorted array. Counts add up; for the percentiles of the town, of an
# organisation or of a category, Python concatenates the cells' sorted arrays and sorts them
# again, which Timsort does by merging the runs. This is several times cheaper than
# percentile_cont over GROUPING SETS, which sorts every value once per aggregate and set.
# date_part (double precision) rather than extract (numeric since PostgreSQL 14).
_PG_CELLS = """
SELECT r.organisation_id AS org, r.category_id AS cat,
       date_trunc(:unit, r.created_at AT TIME ZONE 'Europe/Moscow') AS bucket,
       count(*) AS filed,
       count(*) FILTER (WHERE r.state = 'closed') AS closed,
       count(*) FILTER (WHERE r.state = 'declined') AS declined,
       count(*) FILTER (WHERE r.state = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE r.state NOT IN ('closed', 'declined', 'cancelled')) AS open,
       count(*) FILTER (WHERE r.state IN ('new', 'assigned', 'in_progress', 'rework')
                        AND r.due_at < :now) AS overdue,
       count(*) FILTER (WHERE r.state IN ('done', 'verified', 'closed')
                        AND r.done_at <= r.due_at) AS on_time,
       count(*) FILTER (WHERE r.state IN ('done', 'verified', 'closed')
                        AND r.done_at > r.due_at) AS late,
       count(*) FILTER (WHERE r.state = 'closed' AND r.rework_count = 0)
           AS closed_without_rework,
       array_agg(date_part('epoch', r.assigned_at - r.created_at)
                 ORDER BY date_part('epoch', r.assigned_at - r.created_at))
           FILTER (WHERE r.assigned_at IS NOT NULL) AS t_assign,
       array_agg(date_part('epoch', r.done_at - r.created_at)
                 ORDER BY date_part('epoch', r.done_at - r.created_at))
           FILTER (WHERE r.state IN ('done', 'verified', 'closed') AND r.done_at IS NOT NULL)
           AS t_done,
       array_agg(date_part('epoch', r.closed_at - r.created_at)
                 ORDER BY date_part('epoch', r.closed_at - r.created_at))
           FILTER (WHERE r.state = 'closed' AND r.closed_at IS NOT NULL) AS t_close
FROM requests r
WHERE r.created_at >= :start AND r.created_at < :end{filters}
GROUP BY r.organisation_id, r.category_id, bucket
"""
# Ratings, returns and disputes per cell: small tables joined to the requests by key, read on
# their own connection while the cells are counted.
_PG_EXTRAS = """
SELECT r.organisation_id AS org, r.category_id AS cat,
       count(*) FILTER (WHERE t.kind = 'return') AS returns,
       count(*) FILTER (WHERE t.kind = 'dispute') AS disputes,
       0 AS rating_count, 0 AS rating_sum
FROM timeline_entries t JOIN requests r ON r.id = t.request_id
WHERE t.kind IN ('return', 'dispute')
  AND r.created_at >= :start AND r.created_at < :end{filters}
GROUP BY r.organisation_id, r.category_id
UNION ALL
SELECT r.organisation_id, r.category_id, 0, 0, count(*), sum(rt.score)
FROM ratings rt JOIN requests r ON r.id = rt.request_id
WHERE r.created_at >= :start AND r.created_at < :end{filters}
GROUP BY r.organisation_id, r.category_id
"""
_CELL_COUNTS = _COUNTS[:9]
_EXTRA_COUNTS = ("returns", "disputes", "rating_count", "rating_sum")
# The sorts stay in memory (the default 4 MB would spill a year's rows to disk).
_PG_WORK_MEM = "SET LOCAL work_mem = '64MB'"
_STEPS = ("t_assign", "t_done", "t_close")


async def _groups_pg(
    session: AsyncSession, period: Period, scope: Scope, now: datetime
) -> tuple[dict[GroupKey, Figures], Trend, list[Organisation], list[Category]]:
    """The cells of the period: figures per group, and the filings per step of the trend."""
    await session.execute(text(_PG_WORK_MEM))
    sql = text(_PG_CELLS.format(filters=_pg_filters(scope, "r.")))
    params = {**_pg_params(period, scope), "now": now, "unit": period.bucket}
    result = await session.execute(sql, params)
    trend: Trend = defaultdict(int)
    groups: dict[GroupKey, Figures] = defaultdict(Figures)
    samples: dict[GroupKey, tuple[list[float], list[float], list[float]]] = defaultdict(
        lambda: ([], [], [])
    )
    for row in result.mappings():
        cell = Figures(**{name: int(row[name]) for name in _CELL_COUNTS})
        trend[("filed", row["bucket"].date())] += cell.filed
        keys: tuple[GroupKey, ...] = (("total", None), ("org", row["org"]), ("cat", row["cat"]))
        for key in keys:
            groups[key].add_counts(cell)
            for index, step in enumerate(_STEPS):
                if row[step]:
                    samples[key][index].extend(row[step])
    for key, lists in samples.items():
        groups[key].to_assign, groups[key].to_done, groups[key].to_close = (
            _durations_of(values) for values in lists
        )
    orgs, cats = await _names(session)
    return dict(groups), trend, orgs, cats


def _durations_of(values: list[float]) -> Durations:
    if not values:
        return Durations()
    values.sort()  # sorted runs, one per cell: Timsort merges them
    return Durations(len(values), percentile_sorted(values, 0.5), percentile_sorted(values, 0.9))


async def _extras_pg(session: AsyncSession, period: Period, scope: Scope) -> list[Any]:
    sql = text(_PG_EXTRAS.format(filters=_pg_filters(scope, "r.")))
    return list((await session.execute(sql, _pg_params(period, scope))).mappings())


def _add_extras(groups: dict[GroupKey, Figures], extras: list[Any]) -> None:
    for row in extras:
        for key in (("total", None), ("org", row["org"]), ("cat", row["cat"])):
            figures = groups.setdefault(key, Figures())
            for name in _EXTRA_COUNTS:
                setattr(figures, name, getattr(figures, name) + int(row[name] or 0))


# Requests closed in the period, whenever they were filed: the trend's second line.
_PG_CLOSINGS = """
SELECT date_trunc(:unit, closed_at AT TIME ZONE 'Europe/Moscow') AS bucket, count(*)
FROM requests WHERE closed_at >= :start AND closed_at < :end AND state = 'closed'{filters}
GROUP BY bucket
"""


async def _closings_pg(session: AsyncSession, period: Period, scope: Scope) -> Trend:
    sql = text(_PG_CLOSINGS.format(filters=_pg_filters(scope)))
    params = {**_pg_params(period, scope), "unit": period.bucket}
    return {("closed", bucket.date()): int(n) for bucket, n in await session.execute(sql, params)}


async def _everything_py(
    session: AsyncSession, period: Period, scope: Scope, now: datetime
) -> tuple[dict[GroupKey, Figures], Trend, list[Organisation], list[Category]]:
    """SQLite: counts per (organisation, category) in SQL, added up here; durations and the
    trend from the few columns read back, since SQLite has no percentile function."""
    cells = await _counts(session, period, scope, now)
    await _timeline_counts(session, period, scope, cells)
    await _ratings(session, period, scope, cells)
    durations, trend = await _durations_and_trend_py(session, period, scope)
    groups: dict[GroupKey, Figures] = defaultdict(Figures)
    for (org_id, cat_id), figures in cells.items():
        for key in (("total", None), ("org", org_id), ("cat", cat_id)):
            groups[key].add_counts(figures)
    for key, figures in groups.items():
        _apply_durations(figures, durations.get(key))
    orgs, cats = await _names(session)
    return dict(groups), trend, orgs, cats


async def _durations_and_trend_py(
    session: AsyncSession, period: Period, scope: Scope
) -> tuple[dict[GroupKey, tuple[Durations, ...]], dict[tuple[str, date], int]]:
    """SQLite has no percentile function: read the few columns and compute here."""
    rows = (
        await session.execute(
            select(
                Request.organisation_id,
                Request.category_id,
                Request.state,
                Request.created_at,
                Request.assigned_at,
                Request.done_at,
                Request.closed_at,
            ).where(*cohort(period, scope))
        )
    ).all()
    samples: dict[GroupKey, tuple[list[float], list[float], list[float]]] = defaultdict(
        lambda: ([], [], [])
    )
    trend: dict[tuple[str, date], int] = defaultdict(int)
    for org_id, cat_id, state, created, assigned, done, closed in rows:
        keys: list[GroupKey] = [("total", None), ("org", org_id), ("cat", cat_id)]
        steps = (
            assigned,
            done if state in _DONE else None,
            closed if state == State.CLOSED else None,
        )
        for index, moment in enumerate(steps):
            if moment is not None:
                seconds = (moment - created).total_seconds()
                for key in keys:
                    samples[key][index].append(seconds)
        trend[("filed", bucket_of(created, period.bucket))] += 1
    closed_rows = await session.scalars(
        select(Request.closed_at).where(
            Request.closed_at >= period.start,
            Request.closed_at < period.end,
            Request.state == State.CLOSED,
            *_in_scope(scope),
        )
    )
    for closed in closed_rows:
        trend[("closed", bucket_of(closed, period.bucket))] += 1
    durations = {
        key: tuple(
            Durations(len(values), percentile(values, 0.5), percentile(values, 0.9))
            if values
            else Durations()
            for values in lists
        )
        for key, lists in samples.items()
    }
    return durations, trend


def bucket_of(moment: datetime, unit: str) -> date:
    """The first town day of the day, week (Monday) or month holding this moment."""
    day = moment.astimezone(TOWN_TZ).date()
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _fill_trend(period: Period, found: dict[tuple[str, date], int]) -> list[TrendPoint]:
    points: list[TrendPoint] = []
    current = bucket_of(period.start, period.bucket)
    last = period.last_day
    while current <= last:
        points.append(
            TrendPoint(current, found.get(("filed", current), 0), found.get(("closed", current), 0))
        )
        current = _next_bucket(current, period.bucket)
    return points


def _next_bucket(day: date, unit: str) -> date:
    if unit == "day":
        return day + timedelta(days=1)
    if unit == "week":
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


# --------------------------------------------------------------------------------------------
# Overdue now, and the live counters


@dataclass
class OverdueRow:
    request: Request
    overdue_for: timedelta


async def overdue_now(
    svc: Services, scope: Scope = Scope(), *, now: datetime | None = None, limit: int = 100
) -> tuple[int, list[OverdueRow]]:
    """Requests whose work is owed past their deadline, whenever they were filed."""
    from sqlalchemy.orm import selectinload

    now = now or utcnow()
    conditions = [Request.state.in_(_OPEN_WORK), Request.due_at < now, *_in_scope(scope)]
    async with svc.db.read() as session:
        total = int(await session.scalar(select(func.count()).where(*conditions)) or 0)
        requests = await session.scalars(
            select(Request)
            .where(*conditions)
            .options(
                selectinload(Request.category),
                selectinload(Request.organisation),
                selectinload(Request.contractor),
                selectinload(Request.building),
            )
            .order_by(Request.due_at, Request.id)
            .limit(limit)
        )
        return total, [OverdueRow(r, now - r.due_at) for r in requests]


@dataclass
class LiveCounts:
    open: int
    overdue: int
    new: int
    triage: int
    filed_today: int


async def live_counts(svc: Services, *, now: datetime | None = None) -> LiveCounts:
    """The few numbers at the top of the dashboard that change with every request."""
    now = now or utcnow()
    today = _town_midnight(now.astimezone(TOWN_TZ).date())
    state = Request.state
    open_states = [s.value for s in State if s not in FINAL]
    # Two index-friendly reads: the open requests (a small share of all) and today's.
    open_query = select(
        func.count(),
        _when(and_(state.in_(_OPEN_WORK), Request.due_at < now)),
        _when(state == State.NEW),
        _when(and_(state == State.NEW, Request.organisation_id.is_(None))),
    ).where(state.in_(open_states))
    today_query = select(func.count()).where(Request.created_at >= today)
    async with svc.db.read() as session:
        opened, overdue, new, triage = (await session.execute(open_query)).one()
        filed_today = await session.scalar(today_query)
    return LiveCounts(
        int(opened or 0), int(overdue or 0), int(new or 0), int(triage or 0), int(filed_today or 0)
    )


async def handling_organisations(svc: Services) -> list[Organisation]:
    """Organisations that receive requests (УК, ТСЖ, РСО), for filters and the public page."""
    async with svc.db.read() as session:
        return list(
            await session.scalars(
                select(Organisation)
                .where(Organisation.kind.in_([k.value for k in HANDLING_KINDS]))
                .order_by(Organisation.name)
            )
        )


# --------------------------------------------------------------------------------------------
# Presentation helpers shared by the pages, the export and the charts


def format_duration(seconds: float | None) -> str:
    """«2 ч 05 мин», «3 дн 4 ч», «45 мин»; a dash when there is nothing to show."""
    if seconds is None:
        return "—"
    minutes = max(0, round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s дн %(h)s ч", d=days, h=hours)
    if hours:
        return _("%(h)s ч %(m)02d мин", h=hours, m=mins)
    return _("%(m)s мин", m=mins)


def format_share(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)} %"


def format_rating(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}".replace(".", ",")


def template_helpers() -> dict[str, Any]:
    """Formatting for the pages: figures stay numbers until they reach a template."""
    return {"duration": format_duration, "share": format_share, "rating": format_rating}
