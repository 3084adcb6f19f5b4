"""Who is told about a change of a request, and what they read.

Read inside the transaction that made the change (the outbox writer calls `notices_for`), so
the audience is exactly the one of the committed state:

- the resident, on every change of state of their request and on every comment that is not
  their own (a request filed for them by an operator counts as a change);
- the dispatchers of the request's organisation, on a new request (filed, transferred or
  routed to them) and on a resident's dispute, unless they turned this off
  (`User.notify_new_requests`);
- the dispatchers of the contractor, on an assignment (same switch);
- the worker, when a job is given to them;
- the residents who follow the request, on every change of its state, without the flat or any
  text of the resident who filed it.

Nobody is told about their own action, and every recipient must be allowed to see the request
(`workflow.may_view`), so a notification never shows what its page would refuse.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import ColumnElement, and_, inspect, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.util import identity_key

from server import i18n
from server.accounts.people import actor_of
from server.db.models import Building, Category, PushSubscription, Request, TimelineEntry, User
from server.i18n import gettext as _
from server.i18n import short_time
from server.requests import workflow
from server.requests.labels import role_label, state_explanation, state_label
from server.requests.timeline import active_work_orders, facts_of, followers_of_all
from server.requests.workflow import Action
from server.shared.events import RequestEvent
from server.shared.roles import Role

MAX_BODY = 180
ICON = "/static/icons/icon-192.png"
BADGE = "/static/icons/badge-72.png"
# Entry kinds that are things people did (the rest are system notes written alongside).
_ACTION_KINDS = frozenset({"file", *(a.value for a in Action)})
# The system's own warning that a deadline is near (services.deadline_watch).
DEADLINE_WARNING = "deadline_warning"


_Row = TypeVar("_Row", Building, Category)


class Reason(StrEnum):
    STATE = "state"  # the resident: their request moved
    COMMENT = "comment"  # the resident: someone wrote on their request
    NEW = "new"  # an org dispatcher: a request arrived
    DISPUTE = "dispute"  # an org dispatcher: the resident does not accept the work
    JOB = "job"  # a contractor's dispatcher: a new work order
    WORKER = "worker"  # a worker: a job was given to them
    DEADLINE = "deadline"  # an org dispatcher: the deadline of a request is near
    FOLLOWED = "followed"  # a follower: the request they follow moved


@dataclass(frozen=True)
class Notice:
    user_id: int
    reason: Reason
    title: str
    body: str
    url: str
    tag: str
    urgency: str  # Web Push Urgency: "high" for emergencies
    locale: str
    devices: tuple[int, ...] = ()  # the person's push subscriptions, read with the audience

    def payload(self, request: Request) -> dict[str, object]:
        """What the service worker reads to show the notification (kept well under 4 KB)."""
        return {
            "title": self.title,
            "body": self.body,
            "url": self.url,
            "tag": self.tag,
            "icon": ICON,
            "badge": BADGE,
            "lang": self.locale,
            "request_id": request.id,
            "number": request.number,
            "state": request.state,
            "reason": self.reason.value,
            "urgency": self.urgency,
            "ts": int(request.updated_at.timestamp() * 1000),
        }


def topic_of(request_id: int) -> str:
    """A Topic header value: a newer message about the same request replaces an undelivered one."""
    return f"req-{request_id}"  # base64url characters only, far below the 32-character limit


def short(text: str, limit: int = MAX_BODY) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@contextmanager
def speaking(locale: str) -> Iterator[None]:
    """Write one person's texts in their language, then return to the caller's."""
    before = i18n.current_locale()
    i18n.set_locale(locale)
    try:
        yield
    finally:
        i18n.set_locale(before)


async def what_happened(session: AsyncSession, event: RequestEvent) -> TimelineEntry | None:
    """The entry that says what was done. An action may end with a system note (the QR check
    after a completion), so step back to the action written in the same moment."""
    if event.entry_id is None:
        return None
    entry = await session.get(TimelineEntry, event.entry_id)
    if entry is None or entry.kind in _ACTION_KINDS or entry.kind == DEADLINE_WARNING:
        return entry
    earlier = (
        await session.scalars(
            select(TimelineEntry)
            .where(
                TimelineEntry.request_id == entry.request_id,
                TimelineEntry.id < entry.id,
                TimelineEntry.at == entry.at,
                TimelineEntry.kind.in_(_ACTION_KINDS),
            )
            .order_by(TimelineEntry.id.desc())
            .limit(1)
        )
    ).first()
    return earlier


@dataclass(frozen=True)
class _Wanted:
    """One group of people to tell: a person by id, or the opted-in staff of a role and
    organisation. All groups of an event are read in one statement."""

    reason: Reason
    user_id: int | None = None
    role: Role | None = None
    organisation_id: int | None = None

    def condition(self) -> ColumnElement[bool]:
        if self.user_id is not None:
            return User.id == self.user_id
        return and_(
            User.role == self.role,
            User.organisation_id == self.organisation_id,
            User.notify_new_requests.is_(True),
        )

    def holds(self, user: User) -> bool:
        if self.user_id is not None:
            return user.id == self.user_id
        return (
            user.role == self.role
            and user.organisation_id == self.organisation_id
            and user.notify_new_requests
        )


def _wanted(
    request: Request, entry: TimelineEntry, followers: frozenset[int] = frozenset()
) -> list[_Wanted]:
    """Who is told, first reasons first: a person told for two reasons gets the first."""
    kind = entry.kind
    wanted: list[_Wanted] = []
    moved = entry.to_state is not None and (entry.from_state != entry.to_state or kind == "file")
    if kind == Action.COMMENT:
        wanted.append(_Wanted(Reason.COMMENT, user_id=request.resident_id))
    elif moved:
        wanted.append(_Wanted(Reason.STATE, user_id=request.resident_id))
        wanted.extend(_Wanted(Reason.FOLLOWED, user_id=f) for f in sorted(followers))

    def staff(reason: Reason, role: Role, organisation_id: int | None) -> None:
        if organisation_id is not None:
            wanted.append(_Wanted(reason, role=role, organisation_id=organisation_id))

    if kind in ("file", Action.TRANSFER, Action.ROUTE):
        staff(Reason.NEW, Role.DISPATCHER, request.organisation_id)
    elif kind == Action.DISPUTE:
        staff(Reason.DISPUTE, Role.DISPATCHER, request.organisation_id)
    elif kind == Action.ASSIGN:
        staff(Reason.JOB, Role.CONTRACTOR, request.contractor_id)
    elif kind == DEADLINE_WARNING:
        staff(Reason.DEADLINE, Role.DISPATCHER, request.organisation_id)
    elif kind == Action.ASSIGN_WORKER:
        worker_id = entry.data.get("worker_id") if isinstance(entry.data, dict) else None
        if isinstance(worker_id, int):
            wanted.append(_Wanted(Reason.WORKER, user_id=worker_id))
    return wanted


@dataclass(frozen=True)
class _Member:
    user: User
    reason: Reason
    devices: tuple[int, ...]  # push subscription ids, oldest first


async def _audiences(
    session: AsyncSession, changes: Sequence[tuple[Request, TimelineEntry, frozenset[int]]]
) -> list[list[_Member]]:
    """Everyone to tell about each change, with their push devices, in one read for all of
    them, each in the order of their ids. Never the actor themselves."""
    wanted = [_wanted(request, entry, followers) for request, entry, followers in changes]
    people = sorted({w.user_id for group in wanted for w in group if w.user_id is not None})
    staff = {(w.role, w.organisation_id): w for group in wanted for w in group if w.user_id is None}
    if not people and not staff:
        return [[] for _change in changes]
    conditions = [w.condition() for w in staff.values()]
    if people:
        conditions.append(User.id.in_(people))
    rows = await session.execute(
        select(User, PushSubscription.id)
        .outerjoin(PushSubscription, PushSubscription.user_id == User.id)
        .where(User.active.is_(True), or_(*conditions))
        .order_by(User.id, PushSubscription.id)
    )
    devices: dict[int, list[int]] = {}
    users: dict[int, User] = {}
    for user, subscription_id in rows:
        users[user.id] = user
        found = devices.setdefault(user.id, [])
        if subscription_id is not None:
            found.append(subscription_id)
    members_of_staff = {
        key: [u.id for u in users.values() if w.holds(u)] for key, w in staff.items()
    }
    audiences = []
    for (_request, entry, _followers), group in zip(changes, wanted, strict=True):
        ids = {w.user_id for w in group if w.user_id is not None and w.user_id in users}
        for w in group:
            if w.user_id is None:
                ids.update(members_of_staff[(w.role, w.organisation_id)])
        ids.discard(entry.actor_id)
        members = []
        for user_id in sorted(ids):
            user = users[user_id]
            reason = next(w.reason for w in group if w.holds(user))
            members.append(_Member(user, reason, tuple(devices[user_id])))
        audiences.append(members)
    return audiences


async def _rows_of(session: AsyncSession, model: type[_Row], ids: set[int]) -> dict[int, _Row]:
    """These rows by id: those the session holds as they are, the others in one read."""
    known = session.sync_session.identity_map
    found: dict[int, _Row] = {}
    for row_id in ids:
        row = known.get(identity_key(model, row_id))
        if row is not None and not inspect(row).expired:
            found[row_id] = row
    missing = sorted(ids - found.keys())
    if missing:
        found.update(
            (row.id, row)
            for row in await session.scalars(select(model).where(model.id.in_(missing)))
        )
    return found


def _texts(
    reason: Reason, request: Request, entry: TimelineEntry, category: Category, place: str
) -> tuple[str, str]:
    number = request.number or str(request.id)
    if reason is Reason.FOLLOWED:
        # A follower never reads the flat, the texts or anything else of the resident's.
        state = state_label(request.state)
        title = _("Заявка №%(n)s, за которой вы следите: %(state)s", n=number, state=state)
        return short(title, 120), short(f"{category.name}, {place}")
    if request.flat:
        place = _("%(address)s, кв. %(flat)s", address=place, flat=request.flat)
    what = f"{category.shown_name}, {place}"
    if category.emergency:
        what = _("Авария: %(what)s", what=what)
    if reason is Reason.STATE:
        title = _("Заявка №%(n)s: %(state)s", n=number, state=state_label(request.state))
        body = state_explanation(request.state)
        if entry.kind == Action.MARK_DUPLICATE:
            body = f"{body} №{entry.data.get('original_number', '')}"
        if entry.text:
            body = f"{body} {entry.text}"
    elif reason is Reason.COMMENT:
        title = _("Заявка №%(n)s: новый комментарий", n=number)
        body = f"{role_label(entry.actor_role)}: {entry.text}"
    elif reason is Reason.NEW:
        title = _("Новая заявка №%(n)s", n=number)
        body = what
    elif reason is Reason.DISPUTE:
        title = _("Заявка №%(n)s оспорена жителем", n=number)
        body = entry.text or what
    elif reason is Reason.DEADLINE:
        title = _("Срок заявки №%(n)s скоро истекает", n=number)
        body = _("%(what)s. Срок: %(due)s", what=what, due=short_time(request.due_at))
    elif reason is Reason.JOB:
        title = _("Новый заказ-наряд по заявке №%(n)s", n=number)
        body = what
    else:
        title = _("Вам поручена заявка №%(n)s", n=number)
        body = what
    return short(title, 120), short(body)


async def notices_for(session: AsyncSession, event: RequestEvent) -> list[Notice]:
    """Everyone to tell about this event, each with their own text. Empty when nobody."""
    return (await notices_for_all(session, [event]))[0]


async def notices_for_all(
    session: AsyncSession, events: Sequence[RequestEvent]
) -> list[list[Notice]]:
    """`notices_for` each of these events, in reads shared by all of them: a thousand requests
    moved together (an incident resolved) cost the statements of one."""
    changes: list[tuple[int, Request, TimelineEntry]] = []
    for i, event in enumerate(events):
        entry = await what_happened(session, event)
        request = await session.get(Request, entry.request_id) if entry is not None else None
        if entry is not None and request is not None:
            changes.append((i, request, entry))
    # A request being filed has no followers nor work order yet.
    filed = {request.id for _i, request, entry in changes if entry.kind == "file"}
    later = [request.id for _i, request, _entry in changes if request.id not in filed]
    followers = await followers_of_all(session, later)
    audiences = await _audiences(
        session,
        [
            (request, entry, followers.get(request.id, frozenset()))
            for _i, request, entry in changes
        ],
    )
    told = [
        (change, audience) for change, audience in zip(changes, audiences, strict=True) if audience
    ]
    notices: list[list[Notice]] = [[] for _event in events]
    if not told:
        return notices
    orders = await active_work_orders(
        session, [request.id for (_i, request, _e), _a in told if request.id not in filed]
    )
    categories = await _rows_of(
        session, Category, {request.category_id for (_i, request, _e), _a in told}
    )
    buildings = await _rows_of(
        session, Building, {request.building_id for (_i, request, _e), _a in told}
    )
    for (i, request, entry), audience in told:
        facts = facts_of(
            request, orders.get(request.id), followers=followers.get(request.id, frozenset())
        )
        category = categories[request.category_id]
        building = buildings[request.building_id]
        urgency = "high" if category.emergency else "normal"
        for member in audience:
            user = member.user
            if not workflow.may_view(actor_of(user), facts):
                continue
            with speaking(user.locale):
                title, body = _texts(member.reason, request, entry, category, building.address)
            notices[i].append(
                Notice(
                    user_id=user.id,
                    reason=member.reason,
                    title=title,
                    body=body,
                    url=f"/requests/{request.id}",
                    tag=topic_of(request.id),
                    urgency=urgency,
                    locale=user.locale,
                    devices=member.devices,
                )
            )
    return notices
