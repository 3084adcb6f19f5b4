"""What comes back by SMS: delivery reports, and residents' replies.

A reply is matched to the sender's phone and to the last request we told them about: «1» or
«да» confirms it, «2 …» or «нет …» disputes it with the rest as the reason, anything else is
written on its timeline as the resident's comment for the dispatcher. A confirmation or
dispute the request's state does not allow becomes such a comment too. A number we do not
know (or never told about a request) is answered once with the town's single number.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.people import actor_of, normalise_phone
from server.db.models import Request, SmsMessage, User, utcnow
from server.db.session import Database
from server.i18n import gettext as _
from server.notify.sms_outbox import IN, OUT, provider_of, queue_sms
from server.notify.sms_texts import Reply, SmsKind, SmsStatus, read_reply, segments, text_of
from server.requests.actions import ActionInput, perform
from server.requests.workflow import Action
from server.shared.errors import DomainError
from server.shared.roles import Role
from server.shared.services import Services

log = logging.getLogger(__name__)
MAX_TEXT = 1000


async def report(
    db: Database, provider: str, provider_id: str, *, delivered: bool, error: str = ""
) -> bool:
    """A delivery report: the SMS is delivered or undelivered. False when it is not ours."""
    status = SmsStatus.DELIVERED if delivered else SmsStatus.UNDELIVERED
    async with db.begin() as session:
        changed = await session.execute(
            update(SmsMessage)
            .where(
                SmsMessage.provider == provider,
                SmsMessage.provider_id == provider_id,
                SmsMessage.direction == OUT,
                SmsMessage.status.in_((SmsStatus.QUEUED, SmsStatus.SENT, SmsStatus.UNDELIVERED)),
            )
            .values(
                status=status,
                delivered_at=utcnow() if delivered else None,
                error=error[:1000],
            )
        )
    return bool(getattr(changed, "rowcount", 0))


async def receive(svc: Services, raw_phone: str, raw_text: str, now: datetime | None = None) -> str:
    """One incoming SMS. Returns what was done: confirm, dispute, comment, unknown, ignored."""
    phone = normalise_phone(raw_phone)
    text = " ".join((raw_text or "").split())[:MAX_TEXT]
    if phone is None or not text:
        return "ignored"
    now = now or utcnow()
    async with svc.db.begin() as session:
        user = (
            await session.scalars(
                select(User).where(User.phone == phone, User.role == Role.RESIDENT)
            )
        ).first()
        last = None
        if user is not None:
            last = (
                await session.scalars(
                    select(SmsMessage)
                    .where(
                        SmsMessage.user_id == user.id,
                        SmsMessage.direction == OUT,
                        SmsMessage.request_id.is_not(None),
                    )
                    .order_by(SmsMessage.id.desc())
                    .limit(1)
                )
            ).first()
        session.add(
            SmsMessage(
                direction=IN,
                user_id=user.id if user else None,
                phone=phone,
                request_id=last.request_id if last else None,
                kind=SmsKind.RECEIVED.value,
                text=text,
                segments=segments(text),
                status=SmsStatus.RECEIVED,
                provider=provider_of(svc.settings),
                error="",
                created_at=now,
            )
        )
        if user is None or last is None or not user.active:
            await _answer_stranger(svc, session, phone, now)
            return "unknown"
        request = await session.get(Request, last.request_id)
        assert request is not None
        request_id, version, resident = request.id, request.version, user
    reply, reason = read_reply(text)
    return await _act(svc, resident, request_id, version, reply, reason, text)


async def _answer_stranger(svc: Services, session: AsyncSession, phone: str, now: datetime) -> None:
    answered = await session.scalar(
        select(SmsMessage.id)
        .where(SmsMessage.phone == phone, SmsMessage.kind == SmsKind.UNKNOWN_SENDER.value)
        .limit(1)
    )
    if answered is None and svc.settings.town_phone:
        text = text_of(SmsKind.UNKNOWN_SENDER, phone=svc.settings.town_phone)
        await queue_sms(
            session, svc.settings, phone=phone, kind=SmsKind.UNKNOWN_SENDER, text=text, now=now
        )


async def _act(
    svc: Services,
    resident: User,
    request_id: int,
    version: int,
    reply: Reply,
    reason: str,
    text: str,
) -> str:
    actor = actor_of(resident)
    if reply is not Reply.COMMENT:
        action = Action.CONFIRM if reply is Reply.CONFIRM else Action.DISPUTE
        why = reason or _("Не решена (ответ по SMS)")
        try:
            data = ActionInput(
                expected_version=version, reason=why if action is Action.DISPUTE else ""
            )
            await perform(svc, actor, request_id, action, data)
            return reply.value
        except DomainError:
            pass  # not possible in the request's state: the dispatcher reads it as a comment
    try:
        note = _("SMS: %(text)s", text=text)
        await perform(svc, actor, request_id, Action.COMMENT, ActionInput(version, reason=note))
    except DomainError:
        log.info("SMS reply on request %s kept in the SMS log only", request_id)
        return "ignored"
    return Reply.COMMENT.value


def listen_to(deliverer: object, services: Services) -> None:
    """An SMPP session brings reports and replies itself: hand them to the use cases above."""
    from server.notify.sms_sender import SmsDeliverer
    from server.notify.sms_smpp import SmppAdapter

    if not isinstance(deliverer, SmsDeliverer) or not isinstance(deliverer.adapter, SmppAdapter):
        return
    adapter = deliverer.adapter

    async def on_report(provider_id: str, delivered: bool, state: str) -> None:
        await report(services.db, "smpp", provider_id, delivered=delivered, error=state)

    async def on_incoming(phone: str, text: str) -> None:
        await receive(services, phone, text)

    adapter.on_report, adapter.on_incoming = on_report, on_incoming
