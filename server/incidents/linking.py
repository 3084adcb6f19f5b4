"""A request filed during an incident of its building and category is linked to it, inside
the filing transaction: `requests.filing` reads `absorbing_incident` with its one lookup
before the INSERT and links the request with `link`. (`rules.absorbs` is the same rule.)"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from server.db.models import Incident, IncidentBuilding, IncidentRequest

Column = ColumnElement[Any] | InstrumentedAttribute[int]


def absorbing_incident(building_id: Column, category_id: Column, now: Column) -> ScalarSelect[Any]:
    """The active incident (the oldest, if several) that absorbs a request of this building
    and category filed at `now`, or NULL."""
    return (
        select(Incident.id)
        .join(IncidentBuilding, IncidentBuilding.incident_id == Incident.id)
        .where(
            IncidentBuilding.building_id == building_id,
            Incident.category_id == category_id,
            Incident.resolved_at.is_(None),
            Incident.starts_at <= now,
        )
        .order_by(Incident.id)
        .limit(1)
        .scalar_subquery()
    )


def link(session: AsyncSession, request_id: int, incident_id: int) -> None:
    session.add(IncidentRequest(request_id=request_id, incident_id=incident_id))
