"""The operator's call card: who is calling, what they have open, what is wrong in their house.

Every operator sees the same card of a call (operators see every request), so the calls that
are open are read once for all of them (`open_calls`); each page then shows the calls that are
its operator's, or, while the operator is free, every call still ringing (`shown_to`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Call, Request, User, utcnow
from server.db.session import Database
from server.i18n import local_time
from server.incidents import queries as incident_queries
from server.incidents.queries import resident_buildings
from server.requests.deadlines import is_overdue
from server.requests.lists import REQUEST_DETAILS, BoardRow
from server.requests.workflow import OPEN_STATES, State
from server.shared.roles import Role

# A call the PBX never said was over is not shown for ever.
STALE_AFTER = timedelta(hours=2)
OPEN_REQUESTS_SHOWN = 10


@dataclass(frozen=True)
class IncidentNote:
    """An outage or planned shut-off of the caller's building, as the card lists it."""

    title: str
    until: str = ""


@dataclass
class CallCard:
    call: Call
    resident: User | None
    rows: list[BoardRow] = field(default_factory=list)
    incidents: list[IncidentNote] = field(default_factory=list)

    @property
    def ringing(self) -> bool:
        return self.call.answered_at is None


async def active_incidents_of(session: AsyncSession, resident_id: int) -> list[IncidentNote]:
    """The active outages and shut-offs of the caller's buildings (of their requests, or the
    ones they subscribed to), with the text the operator reads out."""
    notices = await incident_queries.active_in(session, resident_buildings(resident_id))
    return [IncidentNote(f"{n.category}: {n.text}", local_time(n.expected_end)) for n in notices]


async def open_calls(session: AsyncSession) -> list[CallCard]:
    """Every call not over yet, oldest first, with its caller's card."""
    now = utcnow()
    calls = list(
        await session.scalars(
            select(Call)
            .where(Call.ended_at.is_(None), Call.started_at > now - STALE_AFTER)
            .order_by(Call.started_at, Call.id)
        )
    )
    return [await _card(session, call) for call in calls]


async def _card(session: AsyncSession, call: Call) -> CallCard:
    resident = (
        await session.scalars(
            select(User).where(User.phone == call.caller_phone, User.role == Role.RESIDENT)
        )
    ).first()
    if resident is None:
        return CallCard(call, None)
    requests = list(
        await session.scalars(
            select(Request)
            .where(Request.resident_id == resident.id, Request.state.in_(OPEN_STATES))
            .options(*REQUEST_DETAILS)
            .order_by(Request.id.desc())
            .limit(OPEN_REQUESTS_SHOWN)
        )
    )
    moment = utcnow()
    rows = [BoardRow(r, is_overdue(State(r.state), r.due_at, moment)) for r in requests]
    incidents = await active_incidents_of(session, resident.id)
    return CallCard(call, resident, rows, incidents)


def shown_to(cards: list[CallCard], operator_id: int) -> list[CallCard]:
    """The operator's own calls; while they have none, every call still ringing."""
    mine = [c for c in cards if c.call.operator_id == operator_id]
    return mine or [c for c in cards if c.ringing]


async def cards_for(db: Database, operator_id: int) -> list[CallCard]:
    """The cards an operator's page opens with (its live channel keeps them in step)."""
    async with db.read() as session:
        return shown_to(await open_calls(session), operator_id)
