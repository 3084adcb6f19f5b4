"""SMS go to the outbox in the transaction that records the change, like push messages.

Who gets one: the resident of the request, when they have a phone and either no push
subscription (every caller filed by an operator) or chose SMS in their profile; at the steps
of `sms_texts.STEP_OF_STATE` and at filing. Every SMS is a row of `sms_messages` (what it said
and how far it got) and an outbox row pointing at it. At night (22:00–08:00 town time) the
outbox row waits for 08:00, unless the category is an emergency; past the resident's daily
cap the SMS is kept as «capped» and not sent.

`queue_sms` is the one way in, also for other features: incidents call `tell_residents`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlparse

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.people import normalise_phone
from server.db.models import (
    Category,
    PushSubscription,
    Request,
    SmsMessage,
    TimelineEntry,
    User,
    utcnow,
)
from server.notify.audiences import speaking, what_happened
from server.notify.outbox import enqueue
from server.notify.sms_texts import (
    STEP_OF_STATE,
    SmsKind,
    SmsStatus,
    due_text,
    quiet_until,
    segments,
    text_of,
    town_day_start,
)
from server.requests.workflow import State
from server.settings import Settings
from server.shared.events import RequestEvent
from server.shared.roles import Role

CHANNEL = "sms"
OUT, IN = "out", "in"


def provider_of(settings: Settings) -> str:
    return urlparse(settings.sms_url).scheme


def kind_of(entry: TimelineEntry) -> SmsKind | None:
    """The SMS a timeline entry is worth, if any."""
    if entry.kind == "file":
        return SmsKind.FILED
    if entry.to_state is None or entry.to_state == entry.from_state:
        return None
    return STEP_OF_STATE.get(State(entry.to_state))


async def queue_sms(
    session: AsyncSession,
    settings: Settings,
    *,
    phone: str,
    kind: SmsKind,
    text: str,
    user_id: int | None = None,
    request_id: int | None = None,
    urgent: bool = False,
    now: datetime | None = None,
) -> SmsMessage | None:
    """Write one SMS and its outbox row in the caller's transaction. None when SMS is off."""
    if not settings.sms_on:
        return None
    now = now or utcnow()
    capped = user_id is not None and await _sent_today(session, user_id, now) >= max(
        settings.sms_daily_cap, 0
    )
    sms = SmsMessage(
        direction=OUT,
        user_id=user_id,
        phone=phone,
        request_id=request_id,
        kind=kind.value,
        text=text,
        segments=segments(text),
        status=SmsStatus.CAPPED if capped else SmsStatus.QUEUED,
        provider=provider_of(settings),
        error="",
        created_at=now,
    )
    session.add(sms)
    await session.flush()
    if not capped:
        # The resident is the target: the outbox sends one person's SMS in the order written.
        enqueue(
            session,
            CHANNEL,
            user_id or 0,
            {"sms_id": sms.id, "kind": kind.value},
            urgency="high" if urgent else "normal",
            not_before=now if urgent else (quiet_until(now) or now),
        )
    return sms


async def _sent_today(session: AsyncSession, user_id: int, now: datetime) -> int:
    return int(
        await session.scalar(
            select(func.count(SmsMessage.id)).where(
                SmsMessage.user_id == user_id,
                SmsMessage.direction == OUT,
                SmsMessage.status != SmsStatus.CAPPED,
                SmsMessage.created_at >= town_day_start(now),
            )
        )
        or 0
    )


async def sms_phone(session: AsyncSession, user: User, fallback: str | None = None) -> str | None:
    """The number to text this person at, or None when they are told otherwise (or not)."""
    if not user.active or user.role != Role.RESIDENT:
        return None
    phone = normalise_phone(user.phone or fallback or "")
    if phone is None:
        return None
    if not user.notify_sms:
        has_push = await session.scalar(
            select(PushSubscription.id).where(PushSubscription.user_id == user.id).limit(1)
        )
        if has_push is not None:
            return None
    return phone


@dataclass(frozen=True)
class SmsWriter:
    """An outbox writer (Services.outbox_writers): the resident's SMS for this change."""

    settings: Settings

    async def __call__(self, session: AsyncSession, events: Sequence[RequestEvent]) -> None:
        if not self.settings.sms_on:
            return
        for event in events:
            await self._write(session, event)

    async def _write(self, session: AsyncSession, event: RequestEvent) -> None:
        entry = await what_happened(session, event)
        kind = kind_of(entry) if entry is not None else None
        if entry is None or kind is None:
            return
        request = await session.get(Request, entry.request_id)
        resident = await session.get(User, request.resident_id) if request else None
        if request is None or resident is None:
            return
        phone = await sms_phone(session, resident, request.contact_phone)
        if phone is None:
            return
        category = await session.get(Category, request.category_id)
        with speaking(resident.locale):
            text = text_of(
                kind, number=request.number or str(request.id), due=due_text(request.due_at)
            )
        await queue_sms(
            session,
            self.settings,
            phone=phone,
            kind=kind,
            text=text,
            user_id=resident.id,
            request_id=request.id,
            urgent=category is not None and category.emergency,
        )


async def tell_residents(
    session: AsyncSession,
    settings: Settings,
    user_ids: Iterable[int],
    *,
    resolved: bool,
    title: str,
    until: datetime | None = None,
    urgent: bool = True,
) -> int:
    """For incidents, in the transaction that declares or resolves one: an SMS to each of
    these residents who is told by SMS. `title` is the incident's short public text. Returns
    how many SMS were written."""
    if not settings.sms_on:
        return 0
    written = 0
    users = await session.scalars(select(User).where(User.id.in_(set(user_ids))))
    for user in users:
        phone = await sms_phone(session, user)
        if phone is None:
            continue
        kind = SmsKind.INCIDENT_RESOLVED if resolved else SmsKind.INCIDENT
        with speaking(user.locale):
            text = text_of(kind, title=title, until=due_text(until) if until else "—")
        if await queue_sms(
            session, settings, phone=phone, kind=kind, text=text, user_id=user.id, urgent=urgent
        ):
            written += 1
    return written


async def residents_of_buildings(session: AsyncSession, building_ids: Iterable[int]) -> list[int]:
    """The residents who filed from these buildings: whom an incident's SMS can reach."""
    rows = await session.scalars(
        select(Request.resident_id).where(Request.building_id.in_(set(building_ids))).distinct()
    )
    return list(rows)
