"""What a PBX event does to a call, and how a request filed during a call records it.

Each event is taken in once (its key is unique in `call_signals`); the call row is then
brought up to date whatever order the events arrive in. Live pages hear the call's id after
commit."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.people import normalise_phone
from server.db.models import Call, CallSignal, Request, User
from server.i18n import gettext as _
from server.phone.signals import Phase, Signal
from server.requests.timeline import event_of, timeline_entry
from server.shared.errors import InvalidInput
from server.shared.events import CallEvent, RequestEvent
from server.shared.roles import SYSTEM_ACTOR, Actor, Role
from server.shared.services import Services

log = logging.getLogger(__name__)

# Timeline entries of a call: filed during it, and its length once it is over.
PHONE_CALL = "phone_call"
PHONE_CALL_ENDED = "phone_call_ended"


async def take_signal(svc: Services, signal: Signal) -> bool:
    """Apply one PBX event; False when it was seen before (a replay changes nothing)."""
    events: list[RequestEvent] = []
    try:
        async with svc.db.begin() as session:
            seen = await session.scalar(
                select(CallSignal.id).where(
                    CallSignal.provider == signal.provider,
                    CallSignal.event_key == signal.event_key,
                )
            )
            if seen is not None:
                return False
            call = await _call_for(session, signal)
            await _apply(session, svc, call, signal, events)
            session.add(
                CallSignal(
                    provider=signal.provider,
                    event_key=signal.event_key[:200],
                    call_id=call.id,
                    phase=signal.phase,
                )
            )
            for event in events:
                await svc.record(session, event)
    except IntegrityError:
        # The same event arrived twice at once: the other one took it.
        return False
    await svc.bus.publish(CallEvent(call.id))
    await svc.announce(events)
    return True


async def _call_for(session: AsyncSession, signal: Signal) -> Call:
    call = (
        await session.scalars(
            select(Call).where(
                Call.provider == signal.provider, Call.external_id == signal.external_id[:100]
            )
        )
    ).first()
    if call is None:
        phone = normalise_phone(signal.caller) or signal.caller[:40]
        call = Call(
            provider=signal.provider,
            external_id=signal.external_id[:100],
            caller_phone=phone,
            started_at=signal.at,
        )
        session.add(call)
        await session.flush()
    elif not call.caller_phone and signal.caller:
        call.caller_phone = normalise_phone(signal.caller) or signal.caller[:40]
    return call


async def _apply(
    session: AsyncSession, svc: Services, call: Call, signal: Signal, events: list[RequestEvent]
) -> None:
    if signal.phase is Phase.RINGING:
        call.started_at = min(call.started_at, signal.at)
    elif signal.phase is Phase.ANSWERED:
        if call.answered_at is None:
            call.answered_at = signal.at
        operator = await operator_behind(session, svc.settings.pbx_operators, signal.operator)
        if operator is not None:
            call.operator_id = operator.id
        elif signal.operator:
            log.warning("pbx: no operator for extension %.40r (PBX_OPERATORS)", signal.operator)
    elif call.ended_at is None:
        call.ended_at = signal.at
        call.duration_seconds = _duration(call, signal)
        if call.request_id is not None:
            request = await session.get(Request, call.request_id)
            if request is not None:
                entry = timeline_entry(
                    request,
                    SYSTEM_ACTOR,
                    PHONE_CALL_ENDED,
                    data={"call_id": call.id, "duration": call.duration_seconds},
                    at=signal.at,
                )
                session.add(entry)
                await session.flush()
                events.append(event_of(request, entry))


def _duration(call: Call, signal: Signal) -> int:
    if signal.duration is not None:
        return signal.duration
    if call.answered_at is None:
        return 0
    return max(0, int((signal.at - call.answered_at).total_seconds()))


async def operator_behind(
    session: AsyncSession, extensions: dict[str, str], reported: str
) -> User | None:
    """The operator the PBX names: an extension listed in PBX_OPERATORS, a login, or a phone."""
    if not reported:
        return None
    login = extensions.get(reported, reported)
    operators = select(User).where(User.role == Role.OPERATOR, User.active.is_(True))
    user = (await session.scalars(operators.where(User.login == login))).first()
    phone = normalise_phone(reported)
    if user is None and phone is not None:
        user = (await session.scalars(operators.where(User.phone == phone))).first()
    return user


async def record_call(
    session: AsyncSession, actor: Actor, request: Request, call_id: int | None, now: datetime
) -> None:
    """In the filing transaction: the call the request was taken on, on its timeline."""
    if call_id is None or actor.role is not Role.OPERATOR:
        return
    call = await session.get(Call, call_id)
    if call is None:
        raise InvalidInput(caller_phone=_("Звонок не найден: подайте заявку без него."))
    if call.request_id is None:
        call.request_id = request.id
    if call.operator_id is None:
        call.operator_id = actor.user_id
    session.add(
        timeline_entry(
            request,
            actor,
            PHONE_CALL,
            data={
                "call_id": call.id,
                "started_at": call.started_at.isoformat(),
                "duration": call.duration_seconds,
            },
            at=now,
        )
    )
