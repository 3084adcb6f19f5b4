"""What stands now, whenever it was filed: the live counters and the requests overdue now.

Never cached: these change with every request and are cheap, read through the open requests
(a small share of all) and today's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import selectinload

from server.db.models import Organisation, Request, utcnow
from server.oversight.cohort import in_group, in_scope, overdue_at
from server.oversight.periods import Scope, town_midnight, town_today
from server.requests.workflow import OPEN_STATES, UNASSIGNED_STATES
from server.shared.roles import HANDLING_KINDS
from server.shared.services import Services


@dataclass
class OverdueRow:
    request: Request
    overdue_for: timedelta


async def overdue_now(
    svc: Services, scope: Scope = Scope(), *, now: datetime | None = None, limit: int = 100
) -> tuple[int, list[OverdueRow]]:
    """Requests whose work is owed past their deadline, oldest deadline first, and their count."""
    now = now or utcnow()
    conditions = [overdue_at(now), *in_scope(scope)]
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


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def live_counts(svc: Services, *, now: datetime | None = None) -> LiveCounts:
    """The few numbers at the top of the dashboard that change with every request."""
    now = now or utcnow()
    unassigned = in_group(UNASSIGNED_STATES)
    open_query = select(
        func.count(),
        _count(overdue_at(now)),
        _count(unassigned),
        _count(and_(unassigned, Request.organisation_id.is_(None))),
    ).where(in_group(OPEN_STATES))
    today_query = select(func.count()).where(Request.created_at >= town_midnight(town_today(now)))
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
