"""The figures of the oversight dashboard and the public page.

Every figure describes the requests *filed* in a period (a cohort), as they stand now; see
docs/oversight.md for the definitions. Counting is plain SQL on both databases. Medians and
90th percentiles are `percentile_cont` on PostgreSQL (linear interpolation between the two
nearest ranks) and the same formula in Python on SQLite, so both give the same answers.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Category, Organisation, Rating, Request, TimelineEntry, utcnow
from server.domain.deadlines import TOWN_TZ
from server.domain.roles import HANDLING_KINDS
from server.domain.workflow import OPEN_WORK_STATES, State
from server.i18n import gettext as _
from server.services.context import Services

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
    if not values:
        return None
    ordered = sorted(values)
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
    organisations: Iterable[Organisation] | None = None,
) -> Dashboard:
    """Every figure for the period, in total, per organisation and per category."""
    now = now or utcnow()
    async with svc.db.read() as session:
        cells = await _counts(session, period, scope, now)
        await _timeline_counts(session, period, scope, cells)
        await _ratings(session, period, scope, cells)
        if svc.db.is_postgres:
            durations = await _durations_pg(session, period, scope)
            trend = await _trend_pg(session, period, scope)
        else:
            durations, trend = await _durations_and_trend_py(session, period, scope)
        orgs = (
            list(organisations)
            if organisations is not None
            else list(await session.scalars(select(Organisation)))
        )
        cats = list(await session.scalars(select(Category)))

    total = Figures()
    by_org: dict[int | None, Figures] = defaultdict(Figures)
    by_cat: dict[int | None, Figures] = defaultdict(Figures)
    for (org_id, cat_id), figures in cells.items():
        total.add_counts(figures)
        by_org[org_id].add_counts(figures)
        by_cat[cat_id].add_counts(figures)
    _apply_durations(total, durations.get(("total", None)))
    for org_id, figures in by_org.items():
        _apply_durations(figures, durations.get(("org", org_id)))
    for cat_id, figures in by_cat.items():
        _apply_durations(figures, durations.get(("cat", cat_id)))

    org_rows = _org_rows(orgs, by_org, scope)
    cat_rows = [
        Row(c.id, c.name, by_cat.get(c.id, Figures()))
        for c in sorted(cats, key=lambda c: (c.sort, c.name))
        if (c.active or c.id in by_cat) and scope.category_id in (None, c.id)
    ]
    return Dashboard(period, scope, now, total, org_rows, cat_rows, _fill_trend(period, trend))


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
DurationKey = tuple[str, int | None]


def _apply_durations(figures: Figures, found: tuple[Durations, ...] | None) -> None:
    if found is not None:
        figures.to_assign, figures.to_done, figures.to_close = found


def _pg_filters(scope: Scope) -> str:
    sql = ""
    if scope.organisation_id is not None:
        sql += " AND organisation_id = :org"
    if scope.category_id is not None:
        sql += " AND category_id = :cat"
    return sql


def _pg_params(period: Period, scope: Scope) -> dict[str, Any]:
    return {
        "start": period.start,
        "end": period.end,
        "org": scope.organisation_id,
        "cat": scope.category_id,
    }


_PG_DURATIONS = """
SELECT GROUPING(organisation_id) AS no_org, GROUPING(category_id) AS no_cat,
       organisation_id, category_id,
       count(assigned_at) AS n_assign,
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
           ORDER BY extract(epoch FROM assigned_at - created_at)) AS q_assign,
       count(*) FILTER (WHERE state IN ('done', 'verified', 'closed') AND done_at IS NOT NULL)
           AS n_done,
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
           ORDER BY CASE WHEN state IN ('done', 'verified', 'closed')
                         THEN extract(epoch FROM done_at - created_at) END) AS q_done,
       count(*) FILTER (WHERE state = 'closed' AND closed_at IS NOT NULL) AS n_close,
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
           ORDER BY CASE WHEN state = 'closed'
                         THEN extract(epoch FROM closed_at - created_at) END) AS q_close
FROM requests
WHERE created_at >= :start AND created_at < :end{filters}
GROUP BY GROUPING SETS ((), (organisation_id), (category_id))
"""


async def _durations_pg(
    session: AsyncSession, period: Period, scope: Scope
) -> dict[DurationKey, tuple[Durations, ...]]:
    sql = text(_PG_DURATIONS.format(filters=_pg_filters(scope)))
    found: dict[DurationKey, tuple[Durations, ...]] = {}
    for row in (await session.execute(sql, _pg_params(period, scope))).mappings():
        if row["no_org"] and row["no_cat"]:
            key: DurationKey = ("total", None)
        elif not row["no_org"]:
            key = ("org", row["organisation_id"])
        else:
            key = ("cat", row["category_id"])
        found[key] = tuple(
            _pg_durations(row[f"n_{step}"], row[f"q_{step}"])
            for step in ("assign", "done", "close")
        )
    return found


def _pg_durations(count: int, quantiles: list[float | None] | None) -> Durations:
    if not count or not quantiles:
        return Durations()
    median, p90 = quantiles
    return Durations(int(count), float(median), float(p90))  # type: ignore[arg-type]


_PG_TREND = """
SELECT 'filed' AS what, date_trunc(:unit, created_at AT TIME ZONE 'Europe/Moscow') AS bucket,
       count(*) AS n
FROM requests WHERE created_at >= :start AND created_at < :end{filters}
GROUP BY bucket
UNION ALL
SELECT 'closed', date_trunc(:unit, closed_at AT TIME ZONE 'Europe/Moscow') AS bucket, count(*)
FROM requests WHERE closed_at >= :start AND closed_at < :end AND state = 'closed'{filters}
GROUP BY bucket
"""


async def _trend_pg(
    session: AsyncSession, period: Period, scope: Scope
) -> dict[tuple[str, date], int]:
    sql = text(_PG_TREND.format(filters=_pg_filters(scope)))
    params = {**_pg_params(period, scope), "unit": period.bucket}
    return {
        (what, bucket.date()): int(n) for what, bucket, n in (await session.execute(sql, params))
    }


async def _durations_and_trend_py(
    session: AsyncSession, period: Period, scope: Scope
) -> tuple[dict[DurationKey, tuple[Durations, ...]], dict[tuple[str, date], int]]:
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
    samples: dict[DurationKey, tuple[list[float], list[float], list[float]]] = defaultdict(
        lambda: ([], [], [])
    )
    trend: dict[tuple[str, date], int] = defaultdict(int)
    for org_id, cat_id, state, created, assigned, done, closed in rows:
        keys: list[DurationKey] = [("total", None), ("org", org_id), ("cat", cat_id)]
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
    query = select(
        _when(state.not_in([s.value for s in FINAL])),
        _when(and_(state.in_(_OPEN_WORK), Request.due_at < now)),
        _when(state == State.NEW),
        _when(and_(state == State.NEW, Request.organisation_id.is_(None))),
        _when(Request.created_at >= today),
    ).where(state.not_in([s.value for s in FINAL]) | (Request.created_at >= today))
    async with svc.db.read() as session:
        row = (await session.execute(query)).one()
    return LiveCounts(*(int(v or 0) for v in row))


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
