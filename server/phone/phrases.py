"""The voice menu's answer: a request's status as one short Russian phrase for the PBX's speech
synthesis, numbers and dates in words. The PBX's voice speaks Russian, so these phrases are
Russian by design, whatever the interface language.

«Заявка номер сто двадцать три: назначен подрядчик, срок — завтра до двенадцати.»"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from server.accounts.people import normalise_phone
from server.db.models import Request, User, utcnow
from server.phone.numerals import cardinal, deadline
from server.requests.deadlines import TOWN_TZ
from server.requests.workflow import OPEN_STATES, OPEN_WORK_STATES, State
from server.shared.roles import Role
from server.shared.services import Services

STATE_PHRASES: dict[State, str] = {
    State.NEW: "принята, исполнитель ещё не назначен",
    State.ASSIGNED: "назначен подрядчик",
    State.IN_PROGRESS: "работы идут",
    State.DONE: "работы выполнены, идёт проверка",
    State.VERIFIED: "работы приняты, подтвердите выполнение",
    State.REWORK: "возвращена на доработку",
    State.CLOSED: "закрыта",
    State.DECLINED: "отклонена",
    State.CANCELLED: "отменена",
}
NO_OPEN_REQUESTS = "По вашему номеру открытых заявок нет."
NOT_FOUND = "Заявка с таким номером не найдена."
SPOKEN_AT_MOST = 3  # a caller with more open requests hears the newest three


def spoken_number(number: str) -> str:
    """«2026-000123» → «сто двадцать три»: the part people are told and type, in words."""
    tail = number.rsplit("-", 1)[-1]
    digits = re.sub(r"\D", "", tail)
    return cardinal(int(digits)) if digits else number


def request_phrase(number: str, state: State, due: datetime, now: datetime) -> str:
    phrase = f"Заявка номер {spoken_number(number)}: {STATE_PHRASES[state]}"
    if state in OPEN_WORK_STATES:
        if due <= now:
            phrase += ", срок истёк"
        else:
            phrase += f", срок — {deadline(due.astimezone(TOWN_TZ), now.astimezone(TOWN_TZ))}"
    return phrase + "."


def caller_phrase(requests: list[tuple[str, State, datetime]], now: datetime) -> str:
    """What a caller hears about their open requests, newest first."""
    if not requests:
        return NO_OPEN_REQUESTS
    spoken = " ".join(request_phrase(n, s, d, now) for n, s, d in requests[:SPOKEN_AT_MOST])
    if len(requests) == 1:
        return spoken
    return f"Открытых заявок: {cardinal(len(requests), feminine=True)}. {spoken}"


@dataclass(frozen=True)
class Answer:
    phrase: str
    found: bool


def keyed_number(typed: str) -> tuple[str | None, int | None]:
    """What the caller typed: a full number (2026000123 or 2026-000123), or its tail (123)."""
    digits = re.sub(r"\D", "", typed)
    if not digits or len(digits) > 12:
        return None, None
    if len(digits) >= 10:
        return f"{digits[:4]}-{digits[4:].zfill(6)}", None
    return None, int(digits)


async def status_by_number(svc: Services, typed: str) -> Answer:
    number, tail = keyed_number(typed)
    query = select(Request.number, Request.state, Request.due_at)
    if number is not None:
        query = query.where(Request.number == number)
    elif tail is not None:
        query = query.where(Request.number.like(f"%-{tail:06d}"))
    else:
        return Answer(NOT_FOUND, False)
    async with svc.db.read() as session:
        row = (await session.execute(query.order_by(Request.id.desc()).limit(1))).first()
    if row is None or row[0] is None:
        return Answer(NOT_FOUND, False)
    return Answer(request_phrase(row[0], State(row[1]), row[2], utcnow()), True)


async def status_by_phone(svc: Services, raw: str) -> Answer:
    phone = normalise_phone(raw)
    if phone is None:
        return Answer(NO_OPEN_REQUESTS, False)
    async with svc.db.read() as session:
        rows = (
            await session.execute(
                select(Request.number, Request.state, Request.due_at)
                .join(User, User.id == Request.resident_id)
                .where(
                    User.phone == phone,
                    User.role == Role.RESIDENT,
                    Request.state.in_(OPEN_STATES),
                    Request.number.is_not(None),
                )
                .order_by(Request.id.desc())
            )
        ).all()
    found = [(n, State(s), d) for n, s, d in rows if n is not None]
    return Answer(caller_phrase(found, utcnow()), bool(found))
