"""A request filed during an incident of its building and category is linked to it, inside
the filing transaction: `requests.filing` reads `absorbing_incident` with its one lookup
before the INSERT and links the request with `link`. (`rules.absorbs` is the same rule.)

Once resolved, the linked requests the person may take an action on now are `linked_for`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, ScalarSelect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from server.db.models import Incident, IncidentBuilding, IncidentRequest, Request
from server.requests import workflow
from server.requests.timeline import facts_of
from server.shared.roles import Actor

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


async def linked_for(
    session: AsyncSession, actor: Actor, incident_id: int, action: workflow.Action
) -> list[Request]:
    """The incident's linked requests on which `actor` may take `action` now, by the action
    table (their work orders aside: the action checks again as it is taken)."""
    requests = await session.scalars(
        select(Request)
        .join(IncidentRequest, IncidentRequest.request_id == Request.id)
        .where(
            IncidentRequest.incident_id == incident_id,
            Request.state.in_(list(workflow.ACTIONS[action].moves)),
        )
        .order_by(Request.id)
    )
    return [r for r in requests if workflow.may(actor, action, facts_of(r, None))]
