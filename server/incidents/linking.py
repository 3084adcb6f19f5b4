"""A request filed during an incident of its building and category is linked to it, inside
the filing transaction (`requests.filing` calls `link_filed`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Incident, IncidentBuilding, IncidentRequest, Request


async def link_filed(session: AsyncSession, request: Request) -> int | None:
    """The active incident of the request's building and category absorbs it: its id, or
    None. (`rules.absorbs` states the same rule for one request.)"""
    incident_id = await session.scalar(
        select(Incident.id)
        .join(IncidentBuilding, IncidentBuilding.incident_id == Incident.id)
        .where(
            IncidentBuilding.building_id == request.building_id,
            Incident.category_id == request.category_id,
            Incident.resolved_at.is_(None),
            Incident.starts_at <= request.created_at,
        )
        .order_by(Incident.id)
        .limit(1)
    )
    if incident_id is not None:
        session.add(IncidentRequest(request_id=request.id, incident_id=incident_id))
    return incident_id
