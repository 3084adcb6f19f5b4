"""One problem, several requests: the open requests like the one being filed, following someone
else's request, and the rules for marking a request as the duplicate of another.

What anyone filing sees of the requests of a building is the same for everyone and holds no
personal data: number, category, how long ago, state. Who the resident is, their flat and their
description never leave the request page of those who may see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_timedelta
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.db.models import Request, RequestFollower, utcnow
from server.i18n import current_locale
from server.i18n import gettext as _
from server.requests.timeline import event_of
from server.requests.visibility import followed_by
from server.requests.workflow import DUPLICATE_STATES, FINAL_STATES, OPEN_STATES, State
from server.shared.errors import InvalidInput, NotFound
from server.shared.roles import Actor, Role
from server.shared.services import Services

# How far back the filing form looks for the same problem in the same building.
SIMILAR_WINDOW = timedelta(days=14)
SIMILAR_LIMIT = 10


@dataclass(frozen=True, slots=True)
class Similar:
    """An open request as anyone filing in its building sees it: nothing personal."""

    id: int
    number: str
    category: str
    filed_at: datetime
    state: State
    followed: bool  # the person asking already follows it
    own: bool  # the person asking filed it

    @property
    def ago(self) -> str:
        return format_timedelta(
            self.filed_at - utcnow(), add_direction=True, locale=current_locale()
        )


async def similar_requests(
    svc: Services, actor: Actor, building_id: int, category_id: int
) -> list[Similar]:
    """The open requests of this building and category filed within `SIMILAR_WINDOW`, newest
    first, whichever organisation serves them: the building's problem is the same."""
    since = utcnow() - SIMILAR_WINDOW
    async with svc.db.read() as session:
        rows = await session.scalars(
            select(Request)
            .where(
                Request.building_id == building_id,
                Request.category_id == category_id,
                Request.state.in_(OPEN_STATES),
                Request.created_at >= since,
            )
            .options(selectinload(Request.category))
            .order_by(Request.created_at.desc(), Request.id.desc())
            .limit(SIMILAR_LIMIT)
        )
        found = list(rows)
        followed: set[int] = set()
        if actor.role is Role.RESIDENT and actor.user_id is not None and found:
            followed = set(await session.scalars(followed_by(actor.user_id)))
    return [
        Similar(
            id=r.id,
            number=r.number or str(r.id),
            category=r.category.name,
            filed_at=r.created_at,
            state=State(r.state),
            followed=r.id in followed,
            own=actor.role is Role.RESIDENT and r.resident_id == actor.user_id,
        )
        for r in found
    ]


async def followed_requests(svc: Services, actor: Actor) -> list[Request]:
    """The requests this resident follows, newest first (shown apart from their own)."""
    if actor.user_id is None:
        return []
    async with svc.db.read() as session:
        return list(
            await session.scalars(
                select(Request)
                .where(Request.id.in_(followed_by(actor.user_id)))
                .options(selectinload(Request.category), selectinload(Request.building))
                .order_by(Request.id.desc())
            )
        )


async def add_follower(session: AsyncSession, request_id: int, user_id: int, at: datetime) -> None:
    """Make the person a follower of the request, unless they already are."""
    known = await session.get(RequestFollower, (request_id, user_id))
    if known is None:
        session.add(RequestFollower(request_id=request_id, user_id=user_id, created_at=at))
        await session.flush()


async def follow(svc: Services, actor: Actor, request_id: int) -> Request:
    """A resident follows an open request someone else filed. NotFound, InvalidInput."""
    async with svc.db.begin() as session:
        request = await session.get(Request, request_id)
        if request is None or actor.role is not Role.RESIDENT or actor.user_id is None:
            raise NotFound(_("Заявка не найдена."))
        if request.resident_id == actor.user_id:
            raise InvalidInput(follow=_("Это ваша заявка: уведомления о ней вы и так получаете."))
        if State(request.state) not in OPEN_STATES:
            raise InvalidInput(follow=_("Заявка уже завершена: следить за ней нельзя."))
        await add_follower(session, request.id, actor.user_id, utcnow())
    # Who may see the request changed: open pages read it again (ids only, after commit).
    await svc.announce([event_of(request, None)])
    return request


async def unfollow(svc: Services, actor: Actor, request_id: int) -> None:
    """The resident stops following the request (nothing happens if they did not follow it)."""
    if actor.user_id is None:
        raise NotFound(_("Заявка не найдена."))
    async with svc.db.begin() as session:
        known = await session.get(RequestFollower, (request_id, actor.user_id))
        request = await session.get(Request, request_id)
        if known is None or request is None:
            raise NotFound(_("Заявка не найдена."))
        await session.delete(known)
    # The page they still have open closes: the request is no longer theirs to watch.
    await svc.announce([event_of(request, None)])


def original_number(raw: str) -> str:
    """A request number as a dispatcher types it: «№2026-000123», « 2026-000123 »."""
    return raw.strip().lstrip("№").strip()[:20]


def duplicate_refusal(request: Request, original: Request | None) -> str | None:
    """Why `request` may not be marked as the duplicate of `original`, or None if it may."""
    if original is None:
        return _("Заявка с таким номером не найдена.")
    if original.id == request.id:
        return _("Заявка не может быть дубликатом самой себя.")
    if original.organisation_id != request.organisation_id:
        return _("Это заявка другой организации: укажите заявку вашей организации.")
    if State(original.state) in DUPLICATE_STATES:
        return _("Эта заявка сама отмечена как дубликат: укажите исходную заявку.")
    if State(original.state) in FINAL_STATES:
        return _("Эта заявка уже завершена: укажите открытую заявку.")
    return None


async def find_original(session: AsyncSession, raw: str) -> Request | None:
    number = original_number(raw)
    if not number:
        return None
    return (await session.scalars(select(Request).where(Request.number == number))).first()
