"""Workflow actions: `perform` takes any action of `workflow.ACTIONS` on one request.

`perform` loads the request, asks the rules whether this person may take the action now, hands
it to the action's own use case below, and writes the timeline entry and the outbox in the same
version-checked transaction; ids go out on the bus only after commit. The photo of a signed work
order is re-encoded and read for its QR code on a worker thread before that transaction opens.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from server.accounts.people import Person, actor_of
from server.db import models
from server.db.models import Request, TimelineEntry, WorkOrder, utcnow
from server.i18n import gettext as _
from server.requests import media, workflow
from server.requests.duplicates import add_follower, duplicate_refusal, find_original
from server.requests.filing import Outcome
from server.requests.qr import QrCheck, check_work_order_photo
from server.requests.timeline import (
    QR_CONFIRMED,
    QR_FLAGGED,
    active_work_order,
    event_of,
    facts_of,
    followers_of,
    is_rated,
    timeline_entry,
)
from server.requests.workflow import ACTIONS, Action, ActionSpec, FormKind, RequestFacts, State
from server.shared.errors import Forbidden, InvalidInput, NotFound, StaleChange, TransitionRefused
from server.shared.forms import clean_text
from server.shared.roles import HANDLING_KINDS, SYSTEM_ACTOR, Actor, OrgKind, Role
from server.shared.services import Services

MAX_REASON = 2000


@dataclass
class ActionInput:
    # The request's version as the person (or the program acting) last read it: always checked,
    # so nobody changes a request on the strength of a state it has left meanwhile.
    expected_version: int
    reason: str = ""
    contractor_id: int | None = None
    organisation_id: int | None = None
    worker_id: int | None = None
    score: int | None = None
    photo: bytes | None = None
    completion_key: str | None = None
    original_number: str = ""


@dataclass(frozen=True, slots=True)
class SignedOrder:
    """The photo of a signed work order, made ready before the transaction opens."""

    work_order_id: int
    image: media.ProcessedImage
    check: QrCheck
    filename: str  # already under MEDIA_DIR; removed again if the transaction fails


@dataclass
class Step:
    """One action being taken on one request, inside its transaction."""

    session: AsyncSession
    actor: Actor
    spec: ActionSpec
    request: Request
    order: WorkOrder | None
    data: ActionInput
    reason: str
    now: datetime
    signed: SignedOrder | None = None
    # False when many requests are moved together: their entries are written by one flush.
    flush: bool = True

    async def record(self, **data: object) -> TimelineEntry:
        """Move the request to the action's next state and write the action's timeline entry."""
        state = State(self.request.state)
        self.request.state = workflow.next_state(state, self.spec.action)
        entry = timeline_entry(
            self.request,
            self.actor,
            self.spec.action.value,
            from_state=state,
            to_state=self.request.state,
            text=self.reason,
            data=data,
            at=self.now,
        )
        self.session.add(entry)
        if self.flush:
            await self.session.flush()
        return entry


async def perform(
    svc: Services, actor: Actor, request_id: int, action: Action, data: ActionInput
) -> Outcome:
    """Take one workflow action. Raises NotFound, Forbidden, StaleChange, InvalidInput."""
    spec = ACTIONS[action]
    if data.completion_key and (done := await _completed_with_key(svc, data.completion_key)):
        return Outcome(done, created=False)
    reason = reason_of(spec, data.reason)
    signed = await _signed_order(svc, actor, spec, request_id, data)
    stored = [signed.filename] if signed is not None else []
    try:
        with media.removed_on_failure(svc.settings.media_dir, stored):
            async with svc.db.begin() as session:
                request, order, facts = await _load(session, request_id)
                _authorise(actor, spec, request, facts, data.expected_version)
                if signed is not None and (order is None or order.id != signed.work_order_id):
                    raise StaleChange()  # another contractor took the job while it was read
                now = utcnow()
                step = Step(session, actor, spec, request, order, data, reason, now, signed)
                entries = await USE_CASES[action](step)
                request.updated_at = now
                await session.flush()
                event = event_of(request, entries[-1])
                await svc.record(session, event)
    except StaleDataError:
        raise StaleChange() from None
    except IntegrityError:
        if data.completion_key and (done := await _completed_with_key(svc, data.completion_key)):
            return Outcome(done, created=False)
        raise
    await svc.announce([event])
    return Outcome(request)


def actions_for(user: Person, request: Request, work_order: WorkOrder | None) -> list[Action]:
    """What this signed-in person may do to a request shown in a list (its row's buttons).

    Lists do not load ratings: an action taken only once per request may be offered again and
    is then refused by `perform`.
    """
    return workflow.available_actions(actor_of(user), facts_of(request, work_order))


def reason_of(spec: ActionSpec, raw: str) -> str:
    """The written reason as the action keeps it, or InvalidInput."""
    reason = clean_text(raw)
    if len(reason) > MAX_REASON:
        raise InvalidInput(reason=_("Слишком длинный текст (до 2000 знаков)."))
    if spec.reason_required and not reason:
        raise InvalidInput(reason=str(spec.missing_reason))
    return reason


async def _load(
    session: AsyncSession, request_id: int
) -> tuple[Request, WorkOrder | None, RequestFacts]:
    request = await session.get(Request, request_id)
    if request is None:
        raise NotFound(_("Заявка не найдена."))
    order = await active_work_order(session, request.id)
    rated = await is_rated(session, request.id)
    followers = await followers_of(session, request.id)
    return request, order, facts_of(request, order, rated=rated, followers=followers)


def _authorise(
    actor: Actor,
    spec: ActionSpec,
    request: Request,
    facts: RequestFacts,
    expected_version: int,
) -> None:
    if not workflow.may_view(actor, facts):
        raise NotFound(_("Заявка не найдена."))
    if expected_version != request.version:
        raise StaleChange()
    if not workflow.is_possible(facts.state, spec.action):
        raise TransitionRefused()
    if not workflow.may(actor, spec.action, facts):
        raise Forbidden()


async def _completed_with_key(svc: Services, key: str) -> Request | None:
    async with svc.db.read() as session:
        order = (
            await session.scalars(select(WorkOrder).where(WorkOrder.completion_key == key[:64]))
        ).first()
        return await session.get(Request, order.request_id) if order else None


async def _signed_order(
    svc: Services, actor: Actor, spec: ActionSpec, request_id: int, data: ActionInput
) -> SignedOrder | None:
    """For an action that takes the work order's photo: checked, re-encoded, read and stored."""
    if spec.form is not FormKind.PHOTO:
        return None
    if not data.photo:
        raise InvalidInput(photo=_("Приложите фото подписанного заказ-наряда."))
    # Ask first, so nobody makes the service read a photo for a request they may not touch.
    async with svc.db.read() as session:
        request, order, facts = await _load(session, request_id)
        _authorise(actor, spec, request, facts, data.expected_version)
    if order is None:
        raise TransitionRefused()
    settings = svc.settings
    return await asyncio.to_thread(
        _read_signed_order, data.photo, order.id, order.token, settings.base_url, settings.media_dir
    )


def _read_signed_order(
    raw: bytes, order_id: int, token: str, base_url: str, media_dir: Path
) -> SignedOrder:
    image = media.process_image(raw, field="photo")
    check = check_work_order_photo(image.image, token, base_url)
    return SignedOrder(order_id, image, check, media.store(media_dir, image))


# --------------------------------------------------------------------------------------------
# One use case per action: what it changes besides the state, and its timeline entries.

UseCase = Callable[[Step], Awaitable[list[TimelineEntry]]]


async def _assign(step: Step) -> list[TimelineEntry]:
    contractor = await _contractor_for(step.session, step.request, step.data.contractor_id)
    if step.order is not None:
        step.order.active = False
    order = WorkOrder(
        request_id=step.request.id,
        contractor_id=contractor.id,
        token=secrets.token_urlsafe(24),
        created_at=step.now,
    )
    step.session.add(order)
    await step.session.flush()
    step.request.contractor_id = contractor.id
    step.request.assigned_at = step.request.assigned_at or step.now
    return [await step.record(contractor_id=contractor.id, work_order_id=order.id)]


async def _hand_over(step: Step) -> list[TimelineEntry]:
    """Transfer or route: another organisation serves the request from now on."""
    target = await step.session.get(models.Organisation, step.data.organisation_id or 0)
    if (
        target is None
        or not target.active
        or OrgKind(target.kind) not in HANDLING_KINDS
        or target.id == step.request.organisation_id
    ):
        raise InvalidInput(organisation_id=_("Выберите другую обслуживающую организацию."))
    from_id = step.request.organisation_id
    step.request.organisation_id = target.id
    step.request.contractor_id = None
    return [await step.record(from_organisation_id=from_id, to_organisation_id=target.id)]


async def _start(step: Step) -> list[TimelineEntry]:
    if step.order is not None:
        step.order.started_at = step.order.started_at or step.now
    return [await step.record()]


async def _complete(step: Step) -> list[TimelineEntry]:
    signed, order, request, now = step.signed, step.order, step.request, step.now
    assert signed is not None and order is not None
    order.completed_at = now
    order.started_at = order.started_at or now
    order.completion_key = (step.data.completion_key or "")[:64] or None
    order.needs_check = signed.check.status != "confirmed"
    order.check_reason = signed.check.reason
    request.done_at = now
    entry = await step.record(work_order_id=order.id)
    note = _qr_entry(request, signed.check, now)
    step.session.add(
        models.Attachment(
            request_id=request.id,
            work_order_id=order.id,
            timeline_entry_id=entry.id,
            kind="signed_order",
            filename=signed.filename,
            width=signed.image.width,
            height=signed.image.height,
            size=len(signed.image.data),
            uploaded_by=step.actor.user_id,
            qr_status=note.data["status"],
            qr_text=note.data.get("found"),
        )
    )
    step.session.add(note)
    await step.session.flush()
    return [entry, note]


async def _send_back(step: Step) -> list[TimelineEntry]:
    """Return or dispute: the work goes back to the contractor."""
    step.request.rework_count += 1
    return [await step.record()]


async def _confirm(step: Step) -> list[TimelineEntry]:
    step.request.closed_at = step.now
    return [await step.record()]


async def _resolved_with_incident(step: Step) -> list[TimelineEntry]:
    step.request.done_at = step.now
    return [await step.record()]


async def _assign_worker(step: Step) -> list[TimelineEntry]:
    worker = await step.session.get(models.User, step.data.worker_id or 0)
    if (
        worker is None
        or worker.role != Role.WORKER
        or worker.organisation_id != step.request.contractor_id
        or not worker.active
    ):
        raise InvalidInput(worker_id=_("Выберите исполнителя своей организации."))
    assert step.order is not None
    step.order.worker_id = worker.id
    return [await step.record(worker_id=worker.id)]


async def _rate(step: Step) -> list[TimelineEntry]:
    score = step.data.score
    if score is None or not 1 <= score <= 5:
        raise InvalidInput(score=_("Поставьте оценку от 1 до 5."))
    step.session.add(
        models.Rating(
            request_id=step.request.id,
            resident_id=step.request.resident_id,
            score=score,
            comment=step.reason,
        )
    )
    return [await step.record(score=score)]


async def _mark_duplicate(step: Step) -> list[TimelineEntry]:
    """The same problem as another open request of the organisation: this one ends, and its
    resident follows the other (told by this entry's notification, in this transaction)."""
    original = await find_original(step.session, step.data.original_number)
    problem = duplicate_refusal(step.request, original)
    if problem is not None or original is None:
        raise InvalidInput(original_number=problem or "")
    step.request.duplicate_of_id = original.id
    # Its resident, and whoever followed it, now follow the original.
    watching = {step.request.resident_id} | await followers_of(step.session, step.request.id)
    for user_id in sorted(watching - {original.resident_id}):
        await add_follower(step.session, original.id, user_id, step.now)
    return [await step.record(original_id=original.id, original_number=original.number)]


async def _note(step: Step) -> list[TimelineEntry]:
    """Actions whose timeline entry (and state change) is all there is to them."""
    return [await step.record()]


USE_CASES: dict[Action, UseCase] = {
    Action.ASSIGN: _assign,
    Action.TRANSFER: _hand_over,
    Action.ROUTE: _hand_over,
    Action.DECLINE: _note,
    Action.START: _start,
    Action.COMPLETE: _complete,
    Action.VERIFY: _note,
    Action.RETURN: _send_back,
    Action.CONFIRM: _confirm,
    Action.DISPUTE: _send_back,
    Action.CANCEL: _note,
    Action.MARK_DUPLICATE: _mark_duplicate,
    Action.COMMENT: _note,
    Action.ASSIGN_WORKER: _assign_worker,
    Action.RATE: _rate,
    Action.RESOLVE_INCIDENT: _resolved_with_incident,
}


def _qr_entry(request: Request, check: QrCheck, at: datetime) -> TimelineEntry:
    confirmed = check.status == "confirmed"
    data: dict[str, object] = {"status": check.status}
    if check.found:
        data["found"] = check.found[:500]
    # The status says what was found; the timeline words it in each reader's language.
    return timeline_entry(
        request,
        SYSTEM_ACTOR,
        QR_CONFIRMED if confirmed else QR_FLAGGED,
        data=data,
        at=at,
    )


async def _contractor_for(
    session: AsyncSession, request: Request, contractor_id: int | None
) -> models.Organisation:
    contractor = await session.get(models.Organisation, contractor_id or 0)
    linked = await session.scalar(
        select(models.OrganisationContractor.contractor_id).where(
            models.OrganisationContractor.organisation_id == request.organisation_id,
            models.OrganisationContractor.contractor_id == (contractor_id or 0),
        )
    )
    if contractor is None or not contractor.active or linked is None:
        raise InvalidInput(contractor_id=_("Выберите подрядчика вашей организации."))
    return contractor
