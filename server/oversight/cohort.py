"""The queries behind the figures: the requests filed in a period (the cohort), per cell.

SQLAlchemy Core, the same statements on PostgreSQL and SQLite, every state condition taken
from the named groups of the workflow. A cell is one organisation × category × step of the
trend; figures.py adds cells up.

SQLite knows no time zones, so the trend step of a moment is a CASE over the steps' first
instants, which periods.py works out from the town's calendar.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    and_,
    bindparam,
    case,
    func,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Category, Organisation, Rating, Request, TimelineEntry
from server.oversight.aggregates import seconds_between, value_list
from server.oversight.periods import Period, Scope, town_midnight
from server.requests.workflow import (
    CANCELLED_STATES,
    CLOSED_STATES,
    DECLINED_STATES,
    DUPLICATE_STATES,
    FIXED_STATES,
    OPEN_STATES,
    OPEN_WORK_STATES,
    Action,
    State,
)

Key = tuple[int | None, int | None]  # (organisation_id, category_id)


def in_group(states: frozenset[State]) -> ColumnElement[bool]:
    """The request is in one of these states."""
    return Request.state.in_(sorted(states))


def in_scope(scope: Scope) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if scope.organisation_id is not None:
        conditions.append(Request.organisation_id == scope.organisation_id)
    if scope.category_id is not None:
        conditions.append(Request.category_id == scope.category_id)
    return conditions


def filed_in(period: Period, scope: Scope) -> list[ColumnElement[bool]]:
    """The requests filed in the period, within the scope: the cohort."""
    return [Request.created_at >= period.start, Request.created_at < period.end, *in_scope(scope)]


def overdue_at(now: datetime) -> ColumnElement[bool]:
    """The work is still owed and its deadline has passed."""
    return and_(in_group(OPEN_WORK_STATES), Request.due_at < now)


def _step_of(moment: Any, period: Period) -> ColumnElement[int]:
    """The index of the trend step holding `moment` (within the period)."""
    starts = [town_midnight(day) for day in period.steps]
    return case(
        *((moment >= start, index) for index, start in reversed(list(enumerate(starts)))),
        else_=0,
    )


@dataclass
class Cell:
    """Counts of one (organisation, category) cell in one step of the trend, and the
    durations of its requests' steps in seconds, each list in ascending order."""

    key: Key
    step: date
    counts: dict[str, int]
    to_assign: list[float] = field(default_factory=list)
    to_done: list[float] = field(default_factory=list)
    to_close: list[float] = field(default_factory=list)


def _counted(now: datetime) -> dict[str, ColumnElement[bool]]:
    fixed = in_group(FIXED_STATES)
    closed = in_group(CLOSED_STATES)
    return {
        "closed": closed,
        "declined": in_group(DECLINED_STATES),
        "duplicates": in_group(DUPLICATE_STATES),
        "cancelled": in_group(CANCELLED_STATES),
        "open": in_group(OPEN_STATES),
        "overdue": overdue_at(now),
        "on_time": and_(fixed, Request.done_at <= Request.due_at),
        "late": and_(fixed, Request.done_at > Request.due_at),
        "closed_without_rework": and_(closed, Request.rework_count == 0),
    }


def _timed() -> dict[str, ColumnElement[float]]:
    """Assignment for every request assigned, completion for requests whose work is reported
    done, closing for closed requests: seconds from filing, NULL where the step is not taken."""
    return {
        "to_assign": seconds_between(Request.assigned_at, Request.created_at),
        "to_done": case(
            (in_group(FIXED_STATES), seconds_between(Request.done_at, Request.created_at))
        ),
        "to_close": case(
            (in_group(CLOSED_STATES), seconds_between(Request.closed_at, Request.created_at))
        ),
    }


async def cells(session: AsyncSession, period: Period, scope: Scope, now: datetime) -> list[Cell]:
    """One scan of the cohort: every count and every duration per (organisation, category,
    step of the trend)."""
    counted = _counted(now)
    timed = _timed()
    # The step is computed in a subquery so that GROUP BY names a column, not an expression
    # with parameters (which PostgreSQL cannot match to the one in the select list).
    filed = (
        select(
            Request.organisation_id.label("org"),
            Request.category_id.label("cat"),
            _step_of(Request.created_at, period).label("step"),
            *(case((condition, 1), else_=0).label(name) for name, condition in counted.items()),
            *(seconds.label(name) for name, seconds in timed.items()),
        )
        .where(*filed_in(period, scope))
        .subquery()
    )
    query = select(
        filed.c.org,
        filed.c.cat,
        filed.c.step,
        func.count(),
        *(func.coalesce(func.sum(filed.c[name]), 0) for name in counted),
        *(value_list(filed.c[name]).filter(filed.c[name].is_not(None)) for name in timed),
    ).group_by(filed.c.org, filed.c.cat, filed.c.step)
    steps = period.steps
    names = ("filed", *counted)
    found: list[Cell] = []
    for org, cat, step, *values in await session.execute(query):
        counts = dict(zip(names, map(int, values[: len(names)]), strict=True))
        assign, done, close = values[len(names) :]
        found.append(Cell((org, cat), steps[step], counts, assign, done, close))
    return found


# Rendered into the statement, not bound, so PostgreSQL can use the partial index on them.
_REWORK_KINDS: BindParameter[str] = bindparam(
    "rework_kinds", [Action.RETURN.value, Action.DISPUTE.value], expanding=True,
    literal_execute=True,
)  # fmt: skip


async def rework_and_ratings(
    session: AsyncSession, period: Period, scope: Scope
) -> list[tuple[Key, dict[str, int]]]:
    """Returns, disputes and ratings of the cohort per cell: small tables joined by key."""
    cohort = filed_in(period, scope)
    rework = (
        select(Request.organisation_id, Request.category_id, TimelineEntry.kind, func.count())
        .join(Request, Request.id == TimelineEntry.request_id)
        .where(TimelineEntry.kind.in_(_REWORK_KINDS), *cohort)
        .group_by(Request.organisation_id, Request.category_id, TimelineEntry.kind)
    )
    ratings = (
        select(
            Request.organisation_id,
            Request.category_id,
            func.count(Rating.id),
            func.coalesce(func.sum(Rating.score), 0),
        )
        .join(Request, Request.id == Rating.request_id)
        .where(*cohort)
        .group_by(Request.organisation_id, Request.category_id)
    )
    found: list[tuple[Key, dict[str, int]]] = []
    for org, cat, kind, n in await session.execute(rework):
        found.append(((org, cat), {"returns" if kind == Action.RETURN else "disputes": int(n)}))
    for org, cat, n, total in await session.execute(ratings):
        found.append(((org, cat), {"rating_count": int(n), "rating_sum": int(total)}))
    return found


async def transfers(
    session: AsyncSession, period: Period, scope: Scope
) -> list[tuple[Key, dict[str, int]]]:
    """Transfers of the cohort's requests to another organisation, per cell of the organisation
    that handed them away (as the entry wrote it down): the request itself counts with the
    organisation it went to."""
    away = TimelineEntry.data["from_organisation_id"].as_integer()
    conditions = [
        TimelineEntry.kind == Action.TRANSFER.value,
        Request.created_at >= period.start,
        Request.created_at < period.end,
    ]
    if scope.organisation_id is not None:
        conditions.append(away == scope.organisation_id)
    if scope.category_id is not None:
        conditions.append(Request.category_id == scope.category_id)
    handed = (
        select(away.label("org"), Request.category_id.label("cat"))
        .join(Request, Request.id == TimelineEntry.request_id)
        .where(*conditions)
        .subquery()
    )
    query = select(handed.c.org, handed.c.cat, func.count()).group_by(handed.c.org, handed.c.cat)
    return [((org, cat), {"transferred": int(n)}) for org, cat, n in await session.execute(query)]


async def closings(session: AsyncSession, period: Period, scope: Scope) -> dict[date, int]:
    """Requests closed in each step of the period, whenever they were filed."""
    closed = (
        select(_step_of(Request.closed_at, period).label("step"))
        .where(
            Request.closed_at >= period.start,
            Request.closed_at < period.end,
            in_group(CLOSED_STATES),
            *in_scope(scope),
        )
        .subquery()
    )
    query = select(closed.c.step, func.count()).group_by(closed.c.step)
    steps = period.steps
    counts: dict[date, int] = defaultdict(int)
    for step, n in await session.execute(query):
        counts[steps[step]] += int(n)
    return counts


async def names(session: AsyncSession) -> tuple[list[Organisation], list[Category]]:
    """Every organisation and category, to name the rows (and list those with nothing filed)."""
    orgs = list(await session.scalars(select(Organisation)))
    cats = list(await session.scalars(select(Category)))
    return orgs, cats
