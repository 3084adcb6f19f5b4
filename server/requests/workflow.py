"""The life of a request: states, actions, and who may take which action when.

`ACTIONS` is PRODUCT.md's «Request states» written as data: one entry per action says from which
states it leads to which, which roles take it and on whose requests, whether it needs a written
reason, which form the page shows for it and what it is called. Everything that asks «may this
person do this to this request?» — pages, API, live channels — asks `may()`, which reads it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from babel.support import LazyProxy

from server.shared.roles import Actor, Role


class State(StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    VERIFIED = "verified"
    CLOSED = "closed"
    REWORK = "rework"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    DUPLICATE = "duplicate"  # the same problem as an earlier request, which its resident follows


class Action(StrEnum):
    ASSIGN = "assign"  # dispatcher picks a contractor; a work order is made
    TRANSFER = "transfer"  # dispatcher hands a misrouted request to another organisation
    ROUTE = "route"  # city admin routes a request out of the triage queue
    DECLINE = "decline"
    START = "start"
    COMPLETE = "complete"
    VERIFY = "verify"
    RETURN = "return"  # dispatcher sends the work back
    CONFIRM = "confirm"  # resident accepts: the request is closed
    DISPUTE = "dispute"  # resident does not accept
    CANCEL = "cancel"
    MARK_DUPLICATE = "mark_duplicate"  # dispatcher: the same problem as another request
    # Actions that add to the timeline without moving the state.
    COMMENT = "comment"
    ASSIGN_WORKER = "assign_worker"
    RATE = "rate"
    # The service's own: the incident the request was linked to was resolved.
    RESOLVE_INCIDENT = "resolve_incident"


# Named groups of states: everything outside this module asks these instead of listing states.
FINAL_STATES = frozenset({State.CLOSED, State.DECLINED, State.CANCELLED, State.DUPLICATE})
OPEN_STATES = frozenset(State) - FINAL_STATES
# The work is still owed; a deadline passing here makes the request overdue.
OPEN_WORK_STATES = frozenset({State.NEW, State.ASSIGNED, State.IN_PROGRESS, State.REWORK})
# A contractor holds the job and has not reported it done.
CONTRACTOR_WORK_STATES = frozenset({State.ASSIGNED, State.IN_PROGRESS, State.REWORK})
# The contractor reported the work done (whether or not checked and confirmed since).
FIXED_STATES = frozenset({State.DONE, State.VERIFIED, State.CLOSED})
# Waiting for an organisation to act on it: filed, or routed to one and not yet assigned.
UNASSIGNED_STATES = frozenset({State.NEW})
CLOSED_STATES = frozenset({State.CLOSED})
DECLINED_STATES = frozenset({State.DECLINED})
CANCELLED_STATES = frozenset({State.CANCELLED})
# Ended because another request of the same organisation is the same problem: neither fixed nor
# declined, and counted apart from both.
DUPLICATE_STATES = frozenset({State.DUPLICATE})


class Reach(StrEnum):
    """On which requests a role may act: the rules below say what each one means."""

    ANY = "any"
    OWN_REQUEST = "own_request"  # the resident filed it
    OWN_ORGANISATION = "own_organisation"  # it is routed to the person's organisation
    OWN_CONTRACTOR = "own_contractor"  # the person's contractor holds the work order
    OWN_JOB = "own_job"  # as OWN_CONTRACTOR, and given to this worker or to nobody yet
    TRIAGE_QUEUE = "triage_queue"  # no organisation serves it yet
    FOLLOWED = "followed"  # the person follows it (someone else filed it)


class FormKind(StrEnum):
    """What the page asks for before the action is taken; each kind is one template block."""

    BUTTON = "button"  # nothing: one press
    REASON = "reason"  # a written text
    CONTRACTOR = "contractor"  # one of the organisation's contractors
    ORGANISATION = "organisation"  # another handling organisation, and an optional comment
    WORKER = "worker"  # one of the contractor's workers
    PHOTO = "photo"  # the photo of the signed work order, and an optional note
    SCORE = "score"  # one to five stars, and an optional review
    ORIGINAL = "original"  # the number of another request, and an optional comment


def gettext_lazy(message: str) -> LazyProxy:
    """A message in the catalogue, translated each time it is shown, in the viewer's language."""
    return LazyProxy(_translate, message, enable_cache=False)


def _translate(message: str) -> str:
    # Imported when shown, not at import: server.i18n reads the town's time zone from the
    # deadlines, which read the states above.
    from server.i18n import gettext

    return gettext(message)


_ = gettext_lazy
# What a reason-required action says when the reason is left empty, unless it says otherwise.
REASON_MISSING = _("Укажите причину.")


@dataclass(frozen=True, eq=False, slots=True)
class ActionSpec:
    """Everything the service knows about one action."""

    action: Action
    moves: Mapping[State, State]  # from state → to state; absent states refuse the action
    reach: Mapping[Role, Reach]  # who takes it, and on whose requests
    form: FormKind
    button: LazyProxy  # the button that takes it
    entry: LazyProxy  # the headline of its timeline entry
    done: LazyProxy  # completes «Готово: …» once taken
    prompt: LazyProxy | None = None  # the label of its text field; None: the form has none
    reason_required: bool = False
    missing_reason: LazyProxy = field(default_factory=lambda: REASON_MISSING)
    destructive: bool = False  # shown as a warning-coloured button
    once: bool = False  # at most once per request (a request remembers being rated)


def _stay(states: Iterable[State]) -> dict[State, State]:
    """Moves of an action that adds to the timeline and keeps the state."""
    return {state: state for state in states}


ACTION_TABLE: tuple[ActionSpec, ...] = (
    ActionSpec(
        Action.ASSIGN,
        # Once assigned, another contractor may still be chosen before the work starts.
        moves={
            State.NEW: State.ASSIGNED,
            State.ASSIGNED: State.ASSIGNED,
            State.REWORK: State.ASSIGNED,
        },
        reach={Role.DISPATCHER: Reach.OWN_ORGANISATION},
        form=FormKind.CONTRACTOR,
        button=_("Назначить подрядчика"),
        entry=_("Назначен подрядчик"),
        done=_("подрядчик назначен"),
    ),
    ActionSpec(
        Action.TRANSFER,
        moves={State.NEW: State.NEW},
        reach={Role.DISPATCHER: Reach.OWN_ORGANISATION},
        form=FormKind.ORGANISATION,
        button=_("Передать другой организации"),
        entry=_("Передана другой организации"),
        done=_("заявка передана"),
        prompt=_("Комментарий (необязательно)"),
    ),
    ActionSpec(
        Action.ROUTE,
        moves={State.NEW: State.NEW},
        reach={Role.CITY_ADMIN: Reach.TRIAGE_QUEUE},
        form=FormKind.ORGANISATION,
        button=_("Направить в организацию"),
        entry=_("Направлена в организацию"),
        done=_("заявка направлена"),
        prompt=_("Комментарий (необязательно)"),
    ),
    ActionSpec(
        Action.DECLINE,
        moves={
            State.NEW: State.DECLINED,
            State.ASSIGNED: State.DECLINED,
            State.REWORK: State.DECLINED,
        },
        reach={Role.DISPATCHER: Reach.OWN_ORGANISATION},
        form=FormKind.REASON,
        button=_("Отклонить"),
        entry=_("Отклонена"),
        done=_("заявка отклонена"),
        prompt=_("Причина отказа"),
        reason_required=True,
        destructive=True,
    ),
    ActionSpec(
        Action.START,
        moves={State.ASSIGNED: State.IN_PROGRESS, State.REWORK: State.IN_PROGRESS},
        reach={Role.CONTRACTOR: Reach.OWN_CONTRACTOR, Role.WORKER: Reach.OWN_JOB},
        form=FormKind.BUTTON,
        button=_("Начать работы"),
        entry=_("Работы начаты"),
        done=_("работы начаты"),
    ),
    ActionSpec(
        Action.COMPLETE,
        # A worker in the field may scan, photograph and complete without pressing «Начать».
        moves={State.ASSIGNED: State.DONE, State.IN_PROGRESS: State.DONE, State.REWORK: State.DONE},
        reach={Role.CONTRACTOR: Reach.OWN_CONTRACTOR, Role.WORKER: Reach.OWN_JOB},
        form=FormKind.PHOTO,
        button=_("Отметить выполнение"),
        entry=_("Работы выполнены"),
        done=_("выполнение отмечено"),
        prompt=_("Что сделано (необязательно)"),
    ),
    ActionSpec(
        Action.VERIFY,
        moves={State.DONE: State.VERIFIED},
        reach={Role.DISPATCHER: Reach.OWN_ORGANISATION},
        form=FormKind.BUTTON,
        button=_("Подтвердить выполнение"),
        entry=_("Выполнение подтверждено диспетчером"),
        done=_("выполнение подтверждено"),
    ),
    ActionSpec(
        Action.RETURN,
        moves={State.DONE: State.REWORK, State.VERIFIED: State.REWORK},
        reach={Role.DISPATCHER: Reach.OWN_ORGANISATION},
        form=FormKind.REASON,
        button=_("Вернуть на доработку"),
        entry=_("Возвращена на доработку"),
        done=_("заявка возвращена на доработку"),
        prompt=_("Что нужно доделать"),
        reason_required=True,
    ),
    ActionSpec(
        Action.CONFIRM,
        moves={State.VERIFIED: State.CLOSED},
        reach={Role.RESIDENT: Reach.OWN_REQUEST},
        form=FormKind.BUTTON,
        button=_("Проблема решена"),
        entry=_("Житель подтвердил выполнение"),
        done=_("заявка закрыта"),
    ),
    ActionSpec(
        Action.DISPUTE,
        moves={State.DONE: State.REWORK, State.VERIFIED: State.REWORK},
        reach={Role.RESIDENT: Reach.OWN_REQUEST},
        form=FormKind.REASON,
        button=_("Не решена — оспорить"),
        entry=_("Житель оспорил выполнение"),
        done=_("заявка возвращена на доработку"),
        prompt=_("Что не так"),
        reason_required=True,
    ),
    ActionSpec(
        Action.CANCEL,
        moves={State.NEW: State.CANCELLED, State.ASSIGNED: State.CANCELLED},
        reach={Role.RESIDENT: Reach.OWN_REQUEST, Role.OPERATOR: Reach.ANY},
        form=FormKind.REASON,
        button=_("Отменить заявку"),
        entry=_("Отменена"),
        done=_("заявка отменена"),
        prompt=_("Причина (необязательно)"),
    ),
    ActionSpec(
        Action.MARK_DUPLICATE,
        moves={
            State.NEW: State.DUPLICATE,
            State.ASSIGNED: State.DUPLICATE,
            State.REWORK: State.DUPLICATE,
        },
        reach={Role.DISPATCHER: Reach.OWN_ORGANISATION},
        form=FormKind.ORIGINAL,
        button=_("Отметить как дубликат"),
        entry=_("Отмечена как дубликат"),
        done=_("заявка отмечена как дубликат"),
        prompt=_("Комментарий (необязательно)"),
    ),
    ActionSpec(
        Action.COMMENT,
        moves=_stay(OPEN_STATES),
        reach={
            Role.RESIDENT: Reach.OWN_REQUEST,
            Role.OPERATOR: Reach.ANY,
            Role.DISPATCHER: Reach.OWN_ORGANISATION,
            Role.CONTRACTOR: Reach.OWN_CONTRACTOR,
            Role.WORKER: Reach.OWN_JOB,
        },
        form=FormKind.REASON,
        button=_("Комментировать"),
        entry=_("Комментарий"),
        done=_("комментарий добавлен"),
        prompt=_("Комментарий"),
        reason_required=True,
        missing_reason=_("Напишите комментарий."),
    ),
    ActionSpec(
        Action.ASSIGN_WORKER,
        moves=_stay(CONTRACTOR_WORK_STATES),
        reach={Role.CONTRACTOR: Reach.OWN_CONTRACTOR},
        form=FormKind.WORKER,
        button=_("Назначить исполнителя"),
        entry=_("Назначен исполнитель"),
        done=_("исполнитель назначен"),
    ),
    ActionSpec(
        Action.RATE,
        moves=_stay(CLOSED_STATES),
        reach={Role.RESIDENT: Reach.OWN_REQUEST},
        form=FormKind.SCORE,
        button=_("Оценить работу"),
        entry=_("Оценка работы"),
        done=_("спасибо за оценку"),
        prompt=_("Отзыв (необязательно)"),
        once=True,
    ),
    ActionSpec(
        Action.RESOLVE_INCIDENT,
        # No person takes it: resolving an incident takes it on every request linked to it.
        moves={state: State.DONE for state in OPEN_WORK_STATES},
        reach={},
        form=FormKind.BUTTON,
        button=_("Авария устранена"),
        entry=_("Выполнена: авария устранена"),
        done=_("авария устранена"),
    ),
)

ACTIONS: dict[Action, ActionSpec] = {spec.action: spec for spec in ACTION_TABLE}

# Taken by the service itself, never offered to a person.
SERVICE_ACTIONS = frozenset({Action.RESOLVE_INCIDENT})

# Actions that must carry a written reason.
REASON_REQUIRED = frozenset(spec.action for spec in ACTION_TABLE if spec.reason_required)

# Which requests each role may see at all (its page, timeline, photos, live updates): any
# request within one of its reaches.
VIEW_REACH: dict[Role, tuple[Reach, ...]] = {
    # A follower sees the request without its resident's personal data (`is_follower`).
    Role.RESIDENT: (Reach.OWN_REQUEST, Reach.FOLLOWED),
    Role.OPERATOR: (Reach.ANY,),
    Role.CITY_ADMIN: (Reach.ANY,),
    Role.SYSTEM: (Reach.ANY,),
    Role.DISPATCHER: (Reach.OWN_ORGANISATION,),
    Role.CONTRACTOR: (Reach.OWN_CONTRACTOR,),
    # A worker sees the jobs of their own contractor that are theirs or not yet given to
    # anyone, so a crew can pick up an order from the printed sheet.
    Role.WORKER: (Reach.OWN_JOB,),
}


def sees_photo_check(role: str) -> bool:
    """Is the QR check of the signed work order's photo shown to this role?

    A photo that needs checking is the organisation's business with its contractor: it is
    shown to the organisations' people, never to the resident, whatever the request's state."""
    return role != Role.RESIDENT


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the rules need to know about one request."""

    state: State
    resident_id: int | None
    organisation_id: int | None  # None: waiting in the administration's triage queue
    contractor_id: int | None = None
    worker_id: int | None = None
    rated: bool = False
    followers: frozenset[int] = frozenset()  # residents who follow it


class TransitionNotAllowed(Exception):
    def __init__(self, state: State, action: Action) -> None:
        super().__init__(f"{action} is not possible in state {state}")
        self.state = state
        self.action = action


def next_state(state: State, action: Action) -> State:
    """The state after `action`, or TransitionNotAllowed."""
    try:
        return ACTIONS[action].moves[state]
    except KeyError:
        raise TransitionNotAllowed(state, action) from None


def is_possible(state: State, action: Action) -> bool:
    return state in ACTIONS[action].moves


def within(reach: Reach, actor: Actor, request: RequestFacts) -> bool:
    """Is this request within the person's reach?"""
    own_contractor = (
        actor.organisation_id is not None and request.contractor_id == actor.organisation_id
    )
    match reach:
        case Reach.ANY:
            return True
        case Reach.OWN_REQUEST:
            return actor.user_id is not None and request.resident_id == actor.user_id
        case Reach.OWN_ORGANISATION:
            return (
                actor.organisation_id is not None
                and request.organisation_id == actor.organisation_id
            )
        case Reach.OWN_CONTRACTOR:
            return own_contractor
        case Reach.OWN_JOB:
            return own_contractor and request.worker_id in (None, actor.user_id)
        case Reach.TRIAGE_QUEUE:
            return request.organisation_id is None
        case Reach.FOLLOWED:
            return actor.user_id is not None and actor.user_id in request.followers


def may_view(actor: Actor, request: RequestFacts) -> bool:
    """May this person see the request at all (its page, timeline, photos, live updates)?"""
    return any(within(reach, actor, request) for reach in VIEW_REACH.get(actor.role, ()))


def is_follower(actor: Actor, request: RequestFacts) -> bool:
    """Does this person see the request only as its follower (and so without the personal data
    of the resident who filed it)?"""
    return (
        actor.role is Role.RESIDENT
        and not within(Reach.OWN_REQUEST, actor, request)
        and within(Reach.FOLLOWED, actor, request)
    )


def may(actor: Actor, action: Action, request: RequestFacts) -> bool:
    """May this person take this action on this request now?"""
    spec = ACTIONS[action]
    if request.state not in spec.moves:
        return False
    if actor.role is Role.SYSTEM:
        # Integrations act for the organisations they serve: the state alone decides.
        return True
    reach = spec.reach.get(actor.role)
    if reach is None or not within(reach, actor, request):
        return False
    return not (spec.once and request.rated)


def available_actions(actor: Actor, request: RequestFacts) -> list[Action]:
    """Every action this person may take now, in a stable order for the page."""
    return [action for action in Action if may(actor, action, request)]
