"""Who is told of an incident's change, and what they read (push, through the one outbox).

- declared (or announced ahead of time, for a planned one): the residents who subscribed to
  one of its buildings;
- updated: its followers and the residents of the requests linked to it;
- resolved: the same, except a resident whose linked request the resolution moved on: that
  request's own notice («Выполнена») already tells them.

Read inside the change's transaction, so the audience is exactly that of the committed state.
Nobody is told of their own change, and only active accounts with a device are written.

Residents of its buildings who are told by SMS (callers without the app) get one when it is
declared and when it is resolved (`text_residents`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import (
    BuildingSubscription,
    Category,
    Incident,
    IncidentBuilding,
    IncidentFollower,
    IncidentRequest,
    PushSubscription,
    Request,
    User,
)
from server.i18n import gettext as _
from server.i18n import local_time
from server.incidents.rules import Change, IncidentKind
from server.notify.audiences import BADGE, ICON, short, speaking
from server.notify.outbox import enqueue
from server.notify.push_outbox import CHANNEL, encode_payload
from server.notify.sms_outbox import residents_of_buildings, tell_residents
from server.settings import Settings


def topic_of(incident_id: int) -> str:
    return f"inc-{incident_id}"


async def audience(
    session: AsyncSession, incident: Incident, change: Change, skip: Iterable[int] = ()
) -> dict[int, tuple[User, list[int]]]:
    """Everyone to tell, each with their push devices."""
    who: ColumnElement[bool]
    if change in (Change.DECLARE, Change.ANNOUNCE):
        who = User.id.in_(
            select(BuildingSubscription.user_id)
            .join(
                IncidentBuilding,
                IncidentBuilding.building_id == BuildingSubscription.building_id,
            )
            .where(IncidentBuilding.incident_id == incident.id)
        )
    else:
        who = or_(
            User.id.in_(
                select(IncidentFollower.user_id).where(IncidentFollower.incident_id == incident.id)
            ),
            User.id.in_(
                select(Request.resident_id)
                .join(IncidentRequest, IncidentRequest.request_id == Request.id)
                .where(IncidentRequest.incident_id == incident.id)
            ),
        )
    rows = await session.execute(
        select(User, PushSubscription.id)
        .join(PushSubscription, PushSubscription.user_id == User.id)
        .where(User.active.is_(True), who)
        .order_by(User.id, PushSubscription.id)
    )
    skipped = set(skip)
    told: dict[int, tuple[User, list[int]]] = {}
    for user, device in rows:
        if user.id not in skipped:
            told.setdefault(user.id, (user, []))[1].append(device)
    return told


def _texts(incident: Incident, category: Category, change: Change) -> tuple[str, str]:
    end = local_time(incident.expected_end, "d MMMM, HH:mm")
    if change is Change.RESOLVE:
        title = _("Устранено: %(what)s", what=category.name)
        return title, short(incident.text)
    if incident.kind == IncidentKind.PLANNED:
        title = _("Плановое отключение: %(what)s", what=category.name)
        body = _(
            "С %(start)s до %(end)s. %(text)s",
            start=local_time(incident.starts_at, "d MMMM, HH:mm"),
            end=end,
            text=incident.text,
        )
    else:
        title = _("Авария: %(what)s", what=category.name)
        body = _("%(text)s Ожидаемое окончание: %(end)s.", text=incident.text, end=end)
    if change is Change.UPDATE:
        title = _("Новое по аварии: %(what)s", what=category.name)
    return short(title, 120), short(body)


async def write(
    session: AsyncSession,
    incident: Incident,
    change: Change,
    actor_id: int | None,
    skip: Iterable[int] = (),
) -> set[int]:
    """Enqueue one push per device of everyone told; the ids of the people told."""
    category = await session.get(Category, incident.category_id)
    assert category is not None
    told = await audience(
        session, incident, change, skip=[*skip, *([actor_id] if actor_id else [])]
    )
    for user, devices in told.values():
        with speaking(user.locale):
            title, body = _texts(incident, category, change)
        payload = encode_payload(
            {
                "title": title,
                "body": body,
                "url": "/requests",
                "tag": topic_of(incident.id),
                "icon": ICON,
                "badge": BADGE,
                "lang": user.locale,
                "incident_id": incident.id,
                "reason": f"incident_{change.value}",
                "urgency": "high" if incident.kind == IncidentKind.EMERGENCY else "normal",
            }
        )
        for device in devices:
            enqueue(
                session,
                CHANNEL,
                device,
                payload,
                urgency=payload["urgency"],
                topic=topic_of(incident.id),
            )
    return set(told)


async def text_residents(
    session: AsyncSession, settings: Settings, incident: Incident, *, resolved: bool
) -> int:
    """SMS, in the change's transaction, to the residents of its buildings who are told by
    SMS; the title is the category («Нет холодной воды»), which fits one segment."""
    category = await session.get(Category, incident.category_id)
    assert category is not None
    buildings = await session.scalars(
        select(IncidentBuilding.building_id).where(IncidentBuilding.incident_id == incident.id)
    )
    residents = await residents_of_buildings(session, list(buildings))
    return await tell_residents(
        session,
        settings,
        residents,
        resolved=resolved,
        title=category.name,
        until=None if resolved else incident.expected_end,
        urgent=incident.kind == IncidentKind.EMERGENCY,
    )
