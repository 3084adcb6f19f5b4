"""A resident's personal data (152-ФЗ): everything we keep about them, and its removal.

Deleting an account keeps the requests — they are part of the town's figures and of the
organisations' work — but nothing in them still points to the person: the name, phone, flat
and login go, phone numbers typed into the descriptions and comments are masked, and the
devices, sessions and undelivered messages are removed.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from litestar.stores.base import Store
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.accounts.people import verify_password
from server.accounts.sessions import end_sessions_in, sessions_of
from server.catalog import audit
from server.db.models import (
    Attachment,
    OutboxMessage,
    PushSubscription,
    Rating,
    Request,
    TimelineEntry,
    User,
    utcnow,
)
from server.db.session import Database
from server.i18n import gettext as _
from server.requests.deadlines import TOWN_TZ
from server.shared.errors import Forbidden, InvalidInput, NotFound
from server.shared.roles import Actor, Role

# What a deleted resident is called wherever their requests are shown.
DELETED_NAME = "—"
# Seven or more digits, with the separators people type between them: a phone number.
_PHONE_LIKE = re.compile(r"\+?\d[\d\s\-()]{5,}\d")
PHONE_MASK = "***"


def mask_phones(text: str) -> str:
    return _PHONE_LIKE.sub(PHONE_MASK, text)


def _when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


@dataclass(frozen=True)
class Export:
    """Everything stored about one person, ready to hand over as JSON."""

    data: dict[str, Any]
    made_at: datetime

    @property
    def filename(self) -> str:
        # The town's date: a file saved late in the evening is named for that day.
        return f"zayavka-my-data-{self.made_at.astimezone(TOWN_TZ):%Y-%m-%d}.json"

    def as_json(self) -> bytes:
        return json.dumps(self.data, ensure_ascii=False, indent=2).encode()


async def _own_user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None or not user.active:
        raise NotFound()
    if user.role != Role.RESIDENT:
        # Staff accounts belong to their organisation; the system administrator handles them.
        raise Forbidden(_("Служебную учётную запись удаляет администратор системы."))
    return user


async def export_personal_data(db: Database, user_id: int) -> Export:
    async with db.read() as session:
        user = await _own_user(session, user_id)
        requests = (
            await session.scalars(
                select(Request)
                .where(Request.resident_id == user_id)
                .options(selectinload(Request.building), selectinload(Request.category))
                .order_by(Request.id)
            )
        ).all()
        ids = [r.id for r in requests]
        entries = (
            await session.scalars(
                select(TimelineEntry)
                .where(TimelineEntry.request_id.in_(ids))
                .order_by(TimelineEntry.request_id, TimelineEntry.id)
            )
        ).all()
        photos = (
            await session.scalars(select(Attachment).where(Attachment.request_id.in_(ids)))
        ).all()
        ratings = (await session.scalars(select(Rating).where(Rating.resident_id == user_id))).all()
        devices = (
            await session.scalars(
                select(PushSubscription).where(PushSubscription.user_id == user_id)
            )
        ).all()
    by_request: dict[int, list[dict[str, Any]]] = {}
    for entry in entries:
        by_request.setdefault(entry.request_id, []).append(
            {
                "at": _when(entry.at),
                "kind": entry.kind,
                "text": entry.text,
                "by_you": entry.actor_id == user_id,
            }
        )
    made_at = utcnow()
    data = {
        "exported_at": _when(made_at),
        "account": {
            "login": user.login,
            "name": user.name,
            "phone": user.phone,
            "language": user.locale,
            "created_at": _when(user.created_at),
        },
        "requests": [
            {
                "number": r.number,
                "address": f"{r.building.street}, {r.building.house}",
                "flat": r.flat,
                "category": r.category.name,
                "description": r.description,
                "contact_phone": r.contact_phone,
                "state": r.state,
                "filed_at": _when(r.created_at),
                "closed_at": _when(r.closed_at),
                "timeline": by_request.get(r.id, []),
                "photos": [p.filename for p in photos if p.request_id == r.id],
            }
            for r in requests
        ],
        "ratings": [
            {"request_id": x.request_id, "score": x.score, "comment": x.comment} for x in ratings
        ],
        "devices": [
            {"user_agent": d.user_agent, "created_at": _when(d.created_at)} for d in devices
        ],
    }
    return Export(data, made_at)


async def _checked_password_hash(db: Database, user_id: int, password: str) -> str:
    """The person's password hash, once the password they typed matches it."""
    async with db.read() as session:
        user = await _own_user(session, user_id)
        password_hash = user.password_hash
    # Verifying a password takes tens of milliseconds of CPU: off the event loop.
    if password_hash is None or not await asyncio.to_thread(
        verify_password, password_hash, password
    ):
        raise _wrong_password()
    return password_hash


def _wrong_password() -> InvalidInput:
    return InvalidInput(password=_("Неверный пароль. Учётная запись не удалена."))


async def delete_account(
    db: Database, user_id: int, password: str, sessions: Store | None = None
) -> None:
    """Anonymise the person everywhere, in one transaction, once they confirmed it with their
    password; the requests stay in the figures. Every device of theirs is signed out: the
    sessions kept in the database go in the same transaction, those in `sessions` (Redis)
    right after it."""
    checked = await _checked_password_hash(db, user_id, password)
    async with db.begin() as session:
        user = await _own_user(session, user_id)
        if user.password_hash != checked:
            # Changed on another device since it was checked: the typed one is no longer it.
            raise _wrong_password()
        request_ids = select(Request.id).where(Request.resident_id == user_id)
        await session.execute(
            update(Request)
            .where(Request.resident_id == user_id)
            .values(flat="", contact_phone=None)
            .execution_options(synchronize_session=False)
        )
        for request in await session.scalars(select(Request).where(Request.resident_id == user_id)):
            request.description = mask_phones(request.description)
        entries = await session.scalars(
            select(TimelineEntry).where(TimelineEntry.request_id.in_(request_ids))
        )
        for entry in entries:
            entry.text = mask_phones(entry.text)
        for rating in await session.scalars(select(Rating).where(Rating.resident_id == user_id)):
            rating.comment = mask_phones(rating.comment)
        subscriptions = select(PushSubscription.id).where(PushSubscription.user_id == user_id)
        await session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.channel == "push", OutboxMessage.target_id.in_(subscriptions)
            )
        )
        await session.execute(delete(PushSubscription).where(PushSubscription.user_id == user_id))
        user.name = DELETED_NAME
        user.phone = None
        user.login = f"deleted-{user.id}-{secrets.token_hex(4)}"
        user.password_hash = None
        user.active = False
        await session.execute(sessions_of(db, user_id))
        await audit.forget_person(session, user.id)
        audit.record(
            session,
            Actor(user_id=user.id, role=Role.RESIDENT),
            audit.AuditAction.ACCOUNT_DELETED,
            audit.AuditObject.USER,
            user.id,
            f"#{user.id}",
        )
    if sessions is not None:
        await end_sessions_in(sessions, user_id)
