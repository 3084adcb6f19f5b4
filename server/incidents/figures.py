"""Incidents counted apart from requests: how many, how long, how many residents affected,
how many requests they absorbed; the overdue ones (past their expected end) stand out.

Public: only counts and durations, never an address or a text. «Residents affected» counts
the distinct people who followed an incident or whose request it absorbed: the people it is
known to have reached, not an estimate of who lives in its buildings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, union

from server.db.models import Incident, IncidentFollower, IncidentRequest, Request, utcnow
from server.incidents.rules import IncidentKind, is_overdue
from server.shared.services import Services


@dataclass(frozen=True)
class IncidentFigures:
    declared: int  # started within the period
    emergencies: int
    planned: int
    active: int  # still open now (whenever declared)
    overdue: int  # open and past the expected end, now
    resolved: int
    hours_median: float | None  # declared → resolved, of those resolved
    residents: int
    requests: int


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


async def figures(svc: Services, start: datetime, end: datetime) -> IncidentFigures:
    now = utcnow()
    in_period = (Incident.starts_at >= start) & (Incident.starts_at < end)
    async with svc.db.read() as session:
        rows = (
            await session.execute(
                select(Incident.kind, Incident.starts_at, Incident.resolved_at).where(in_period)
            )
        ).all()
        open_rows = (
            await session.execute(
                select(Incident.expected_end).where(Incident.resolved_at.is_(None))
            )
        ).all()
        ids = select(Incident.id).where(in_period)
        people = union(
            select(IncidentFollower.user_id).where(IncidentFollower.incident_id.in_(ids)),
            select(Request.resident_id)
            .join(IncidentRequest, IncidentRequest.request_id == Request.id)
            .where(IncidentRequest.incident_id.in_(ids)),
        ).subquery()
        residents = await session.scalar(select(func.count()).select_from(people))
        requests = await session.scalar(
            select(func.count()).where(IncidentRequest.incident_id.in_(ids))
        )
    hours = [
        (resolved - starts).total_seconds() / 3600
        for _kind, starts, resolved in rows
        if resolved is not None
    ]
    return IncidentFigures(
        declared=len(rows),
        emergencies=sum(1 for kind, _s, _r in rows if kind == IncidentKind.EMERGENCY),
        planned=sum(1 for kind, _s, _r in rows if kind == IncidentKind.PLANNED),
        active=len(open_rows),
        overdue=sum(1 for (expected_end,) in open_rows if is_overdue(expected_end, None, now)),
        resolved=len(hours),
        hours_median=_median(hours),
        residents=int(residents or 0),
        requests=int(requests or 0),
    )
