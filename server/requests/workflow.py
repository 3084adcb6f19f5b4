"""The life of a request: states, actions, and who may take which action when.

The table below is PRODUCT.md's «Request states» written as data. Everything that asks
«may this person do this to this request?» — pages, API, live channels — asks `may()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

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
    # Actions that add to the timeline without moving the state.
    COMMENT = "comment"
    ASSIGN_WORKER = "assign_worker"
    RATE = "rate"


# Named groups of states: everything outside this module asks these instead of listing states.
FINAL_STATES = frozenset({State.CLOSED, State.DECLINED, State.CANCELLED})
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

# (from state, action) → to state.
TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.NEW, Action.ASSIGN): State.ASSIGNED,
    (State.ASSIGNED, Action.ASSIGN): State.ASSIGNED,  # another contractor before work starts
    (State.REWORK, Action.ASSIGN): State.ASSIGNED,
    (State.NEW, Action.TRANSFER): State.NEW,
    (State.NEW, Action.ROUTE): State.NEW,
    (State.NEW, Action.DECLINE): State.DECLINED,
    (State.ASSIGNED, Action.DECLINE): State.DECLINED,
    (State.REWORK, Action.DECLINE): State.DECLINED,
    (State.ASSIGNED, Action.START): State.IN_PROGRESS,
    (State.REWORK, Action.START): State.IN_PROGRESS,
    # A worker in the field may scan, photograph and complete without pressing «Начать».
    (State.ASSIGNED, Action.COMPLETE): State.DONE,
    (State.IN_PROGRESS, Action.COMPLETE): State.DONE,
    (State.REWORK, Action.COMPLETE): State.DONE,
    (State.DONE, Action.VERIFY): State.VERIFIED,
    (State.DONE, Action.RETURN): State.REWORK,
    (State.VERIFIED, Action.RETURN): State.REWORK,
    (State.VERIFIED, Action.CONFIRM): State.CLOSED,
    (State.DONE, Action.DISPUTE): State.REWORK,
    (State.VERIFIED, Action.DISPUTE): State.REWORK,
    (State.NEW, Action.CANCEL): State.CANCELLED,
    (State.ASSIGNED, Action.CANCEL): State.CANCELLED,
}

# Actions that keep the state and may be taken in these states.
_STATELESS: dict[Action, frozenset[State]] = {
    Action.COMMENT: frozenset(OPEN_STATES),
    Action.ASSIGN_WORKER: frozenset({State.ASSIGNED, State.IN_PROGRESS, State.REWORK}),
    Action.RATE: frozenset({State.CLOSED}),
}

# Which roles may take each action (before looking at whose request it is).
ACTION_ROLES: dict[Action, frozenset[Role]] = {
    Action.ASSIGN: frozenset({Role.DISPATCHER}),
    Action.TRANSFER: frozenset({Role.DISPATCHER}),
    Action.ROUTE: frozenset({Role.CITY_ADMIN}),
    Action.DECLINE: frozenset({Role.DISPATCHER}),
    Action.START: frozenset({Role.CONTRACTOR, Role.WORKER}),
    Action.COMPLETE: frozenset({Role.CONTRACTOR, Role.WORKER}),
    Action.VERIFY: frozenset({Role.DISPATCHER}),
    Action.RETURN: frozenset({Role.DISPATCHER}),
    Action.CONFIRM: frozenset({Role.RESIDENT}),
    Action.DISPUTE: frozenset({Role.RESIDENT}),
    Action.CANCEL: frozenset({Role.RESIDENT, Role.OPERATOR}),
    Action.COMMENT: frozenset(
        {Role.RESIDENT, Role.OPERATOR, Role.DISPATCHER, Role.CONTRACTOR, Role.WORKER}
    ),
    Action.ASSIGN_WORKER: frozenset({Role.CONTRACTOR}),
    Action.RATE: frozenset({Role.RESIDENT}),
}

# Actions that must carry a written reason.
REASON_REQUIRED = frozenset({Action.DECLINE, Action.RETURN, Action.DISPUTE, Action.COMMENT})


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the rules need to know about one request."""

    state: State
    resident_id: int | None
    organisation_id: int | None  # None: waiting in the administration's triage queue
    contractor_id: int | None = None
    worker_id: int | None = None
    rated: bool = False


class TransitionNotAllowed(Exception):
    def __init__(self, state: State, action: Action) -> None:
        super().__init__(f"{action} is not possible in state {state}")
        self.state = state
        self.action = action


def next_state(state: State, action: Action) -> State:
    """The state after `action`, or TransitionNotAllowed."""
    if action in _STATELESS:
        if state in _STATELESS[action]:
            return state
        raise TransitionNotAllowed(state, action)
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise TransitionNotAllowed(state, action) from None


def is_possible(state: State, action: Action) -> bool:
    try:
        next_state(state, action)
    except TransitionNotAllowed:
        return False
    return True


def may_view(actor: Actor, request: RequestFacts) -> bool:
    """May this person see the request at all (its page, timeline, photos, live updates)?"""
    match actor.role:
        case Role.RESIDENT:
            return actor.user_id is not None and request.resident_id == actor.user_id
        case Role.OPERATOR | Role.CITY_ADMIN | Role.SYSTEM:
            return True
        case Role.DISPATCHER:
            return (
                actor.organisation_id is not None
                and request.organisation_id == actor.organisation_id
            )
        case Role.CONTRACTOR:
            return (
                actor.organisation_id is not None and request.contractor_id == actor.organisation_id
            )
        case Role.WORKER:
            # A worker sees the jobs of their own contractor that are theirs or not yet given
            # to anyone, so a crew can pick up an order from the printed sheet.
            return (
                actor.organisation_id is not None
                and request.contractor_id == actor.organisation_id
                and request.worker_id in (None, actor.user_id)
            )
        case _:
            return False


def _owns_action(actor: Actor, action: Action, request: RequestFacts) -> bool:
    """Is this request within the actor's reach for this action?"""
    if action is Action.ROUTE:
        # Only requests in the triage queue are routed by the administration.
        return request.organisation_id is None
    if action is Action.CANCEL and actor.role is Role.OPERATOR:
        return True
    if action is Action.RATE and request.rated:
        return False
    return may_view(actor, request)


def may(actor: Actor, action: Action, request: RequestFacts) -> bool:
    """May this person take this action on this request now?"""
    if actor.role is Role.SYSTEM:
        return is_possible(request.state, action)
    if actor.role not in ACTION_ROLES[action]:
        return False
    if not is_possible(request.state, action):
        return False
    return _owns_action(actor, action, request)


def available_actions(actor: Actor, request: RequestFacts) -> list[Action]:
    """Every action this person may take now, in a stable order for the page."""
    return [action for action in Action if may(actor, action, request)]


def work_started(state: State) -> bool:
    return state not in {State.NEW, State.ASSIGNED, State.CANCELLED, State.DECLINED}
