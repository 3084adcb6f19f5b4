"""The request workflow: which state follows which action, and who may act on which request.

Every expectation here is written out by hand from PRODUCT.md («Roles», «Request states»)
and never computed by the code under test, so a change to the rules in server/domain/ must be
matched by a deliberate change to the tables below.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from server.requests.workflow import (
    DECLINED_STATES,
    FINAL_STATES,
    FIXED_STATES,
    OPEN_STATES,
    OPEN_WORK_STATES,
    REASON_REQUIRED,
    Action,
    RequestFacts,
    State,
    TransitionNotAllowed,
    available_actions,
    is_possible,
    may,
    may_view,
    next_state,
)
from server.shared.roles import (
    HANDLING_KINDS,
    ROLE_ORG_KINDS,
    STAFF_ROLES,
    SYSTEM_ACTOR,
    Actor,
    OrgKind,
    Role,
)

S, A, R = State, Action, Role

# --------------------------------------------------------------------------------------------
# The people and organisations of a small town.

RESIDENT_ID = 1
OTHER_RESIDENT_ID = 2
UK_ID = 10  # the building's управляющая компания
OTHER_UK_ID = 11
CONTRACTOR_ORG_ID = 20  # the подрядная организация the УК gave the job to
OTHER_CONTRACTOR_ORG_ID = 21
WORKER_ID = 30
OTHER_WORKER_ID = 31
ADMINISTRATION_ID = 40

RESIDENT = Actor(user_id=RESIDENT_ID, role=R.RESIDENT)
OPERATOR = Actor(user_id=50, role=R.OPERATOR)
DISPATCHER = Actor(user_id=60, role=R.DISPATCHER, organisation_id=UK_ID)
CONTRACTOR = Actor(user_id=70, role=R.CONTRACTOR, organisation_id=CONTRACTOR_ORG_ID)
WORKER = Actor(user_id=WORKER_ID, role=R.WORKER, organisation_id=CONTRACTOR_ORG_ID)
CITY_ADMIN = Actor(user_id=80, role=R.CITY_ADMIN, organisation_id=ADMINISTRATION_ID)
SYSADMIN = Actor(user_id=90, role=R.SYSADMIN)

ACTORS: dict[Role, Actor] = {
    R.RESIDENT: RESIDENT,
    R.OPERATOR: OPERATOR,
    R.DISPATCHER: DISPATCHER,
    R.CONTRACTOR: CONTRACTOR,
    R.WORKER: WORKER,
    R.CITY_ADMIN: CITY_ADMIN,
    R.SYSADMIN: SYSADMIN,
    R.SYSTEM: SYSTEM_ACTOR,
}

OTHER_RESIDENT = Actor(user_id=OTHER_RESIDENT_ID, role=R.RESIDENT)
OTHER_DISPATCHER = Actor(user_id=61, role=R.DISPATCHER, organisation_id=OTHER_UK_ID)
OTHER_CONTRACTOR = Actor(user_id=71, role=R.CONTRACTOR, organisation_id=OTHER_CONTRACTOR_ORG_ID)
OTHER_WORKER_SAME_CONTRACTOR = Actor(
    user_id=OTHER_WORKER_ID, role=R.WORKER, organisation_id=CONTRACTOR_ORG_ID
)
WORKER_OF_OTHER_CONTRACTOR = Actor(
    user_id=32, role=R.WORKER, organisation_id=OTHER_CONTRACTOR_ORG_ID
)


def request(state: State = S.NEW, **changes: object) -> RequestFacts:
    """The resident's request, routed to the УК, given to its contractor and worker."""
    facts = RequestFacts(
        state=state,
        resident_id=RESIDENT_ID,
        organisation_id=UK_ID,
        contractor_id=CONTRACTOR_ORG_ID,
        worker_id=WORKER_ID,
    )
    return replace(facts, **changes)


def triage_request(state: State = S.NEW, **changes: object) -> RequestFacts:
    """The resident's request for an address nobody serves: it waits for the administration."""
    facts = RequestFacts(state=state, resident_id=RESIDENT_ID, organisation_id=None)
    return replace(facts, **changes)


def strangers_request(state: State = S.NEW, **changes: object) -> RequestFacts:
    """Someone else's request: another resident, another УК, contractor and worker."""
    facts = RequestFacts(
        state=state,
        resident_id=OTHER_RESIDENT_ID,
        organisation_id=OTHER_UK_ID,
        contractor_id=OTHER_CONTRACTOR_ORG_ID,
        worker_id=OTHER_WORKER_ID,
    )
    return replace(facts, **changes)


# --------------------------------------------------------------------------------------------
# PRODUCT.md «Request states», written out as the test's own table.

OPEN = frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.DONE, S.VERIFIED, S.REWORK})

EXPECTED_NEXT: dict[tuple[State, Action], State] = {
    # The dispatcher gives the job to a contractor (again, before work or after a return).
    (S.NEW, A.ASSIGN): S.ASSIGNED,
    (S.ASSIGNED, A.ASSIGN): S.ASSIGNED,
    (S.REWORK, A.ASSIGN): S.ASSIGNED,
    # A misrouted request moves to another organisation; a triage request gets one.
    (S.NEW, A.TRANSFER): S.NEW,
    (S.NEW, A.ROUTE): S.NEW,
    # The organisation refuses, with a reason.
    (S.NEW, A.DECLINE): S.DECLINED,
    (S.ASSIGNED, A.DECLINE): S.DECLINED,
    (S.REWORK, A.DECLINE): S.DECLINED,
    # The contractor starts, or (after a return) starts again.
    (S.ASSIGNED, A.START): S.IN_PROGRESS,
    (S.REWORK, A.START): S.IN_PROGRESS,
    # The signed work order is attached and the job marked complete.
    (S.ASSIGNED, A.COMPLETE): S.DONE,
    (S.IN_PROGRESS, A.COMPLETE): S.DONE,
    (S.REWORK, A.COMPLETE): S.DONE,
    # The УК/ТСЖ dispatcher checks the work.
    (S.DONE, A.VERIFY): S.VERIFIED,
    (S.DONE, A.RETURN): S.REWORK,
    (S.VERIFIED, A.RETURN): S.REWORK,
    # The resident has the last word.
    (S.VERIFIED, A.CONFIRM): S.CLOSED,
    (S.DONE, A.DISPUTE): S.REWORK,
    (S.VERIFIED, A.DISPUTE): S.REWORK,
    # The same problem as another request of the organisation, before the work is done.
    (S.NEW, A.MARK_DUPLICATE): S.DUPLICATE,
    (S.ASSIGNED, A.MARK_DUPLICATE): S.DUPLICATE,
    (S.REWORK, A.MARK_DUPLICATE): S.DUPLICATE,
    # Withdrawn before work started.
    (S.NEW, A.CANCEL): S.CANCELLED,
    (S.ASSIGNED, A.CANCEL): S.CANCELLED,
    # Timeline entries that keep the state.
    **{(state, A.COMMENT): state for state in OPEN},
    (S.ASSIGNED, A.ASSIGN_WORKER): S.ASSIGNED,
    (S.IN_PROGRESS, A.ASSIGN_WORKER): S.IN_PROGRESS,
    (S.REWORK, A.ASSIGN_WORKER): S.REWORK,
    (S.CLOSED, A.RATE): S.CLOSED,
    # The incident the request was linked to is resolved: work owed is done.
    (S.NEW, A.RESOLVE_INCIDENT): S.DONE,
    (S.ASSIGNED, A.RESOLVE_INCIDENT): S.DONE,
    (S.IN_PROGRESS, A.RESOLVE_INCIDENT): S.DONE,
    (S.REWORK, A.RESOLVE_INCIDENT): S.DONE,
}

ALL_COMBINATIONS = list(itertools.product(State, Action))

# Who may take which action in which state, on a request within their reach (their own, their
# organisation's, their contractor's, their job). Anything not listed is forbidden.
EXPECTED_WITHIN_REACH: dict[Role, dict[Action, frozenset[State]]] = {
    R.RESIDENT: {
        A.CANCEL: frozenset({S.NEW, S.ASSIGNED}),
        A.CONFIRM: frozenset({S.VERIFIED}),
        A.DISPUTE: frozenset({S.DONE, S.VERIFIED}),
        A.COMMENT: OPEN,
        A.RATE: frozenset({S.CLOSED}),
    },
    R.OPERATOR: {
        A.CANCEL: frozenset({S.NEW, S.ASSIGNED}),
        A.COMMENT: OPEN,
    },
    R.DISPATCHER: {
        A.ASSIGN: frozenset({S.NEW, S.ASSIGNED, S.REWORK}),
        A.TRANSFER: frozenset({S.NEW}),
        A.DECLINE: frozenset({S.NEW, S.ASSIGNED, S.REWORK}),
        A.MARK_DUPLICATE: frozenset({S.NEW, S.ASSIGNED, S.REWORK}),
        A.VERIFY: frozenset({S.DONE}),
        A.RETURN: frozenset({S.DONE, S.VERIFIED}),
        A.COMMENT: OPEN,
    },
    R.CONTRACTOR: {
        A.START: frozenset({S.ASSIGNED, S.REWORK}),
        A.COMPLETE: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.REWORK}),
        A.ASSIGN_WORKER: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.REWORK}),
        A.COMMENT: OPEN,
    },
    R.WORKER: {
        A.START: frozenset({S.ASSIGNED, S.REWORK}),
        A.COMPLETE: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.REWORK}),
        A.COMMENT: OPEN,
    },
    # Read-only; a routed request is not the administration's to route.
    R.CITY_ADMIN: {},
    # Settings only; no requests at all.
    R.SYSADMIN: {},
    # The service itself may take any step the states allow.
    R.SYSTEM: {
        action: frozenset(state for (state, act) in EXPECTED_NEXT if act is action)
        for action in Action
    },
}

# The same request waiting in triage: no organisation, contractor or worker yet.
EXPECTED_IN_TRIAGE: dict[Role, dict[Action, frozenset[State]]] = {
    R.RESIDENT: EXPECTED_WITHIN_REACH[R.RESIDENT],
    R.OPERATOR: EXPECTED_WITHIN_REACH[R.OPERATOR],
    R.DISPATCHER: {},
    R.CONTRACTOR: {},
    R.WORKER: {},
    R.CITY_ADMIN: {A.ROUTE: frozenset({S.NEW})},
    R.SYSADMIN: {},
    R.SYSTEM: EXPECTED_WITHIN_REACH[R.SYSTEM],
}

# Someone else's request: only those who see every request keep their powers.
EXPECTED_FOR_STRANGER: dict[Role, dict[Action, frozenset[State]]] = {
    R.RESIDENT: {},
    R.OPERATOR: EXPECTED_WITHIN_REACH[R.OPERATOR],
    R.DISPATCHER: {},
    R.CONTRACTOR: {},
    R.WORKER: {},
    R.CITY_ADMIN: {},
    R.SYSADMIN: {},
    R.SYSTEM: EXPECTED_WITHIN_REACH[R.SYSTEM],
}

FULL_TABLE = list(itertools.product(State, Action, Role))


def _ids(combo: tuple[State, Action, Role]) -> str:
    return "-".join(str(part) for part in combo)


def test_expected_tables_cover_every_role() -> None:
    for table in (EXPECTED_WITHIN_REACH, EXPECTED_IN_TRIAGE, EXPECTED_FOR_STRANGER):
        assert set(table) == set(Role)


@pytest.mark.parametrize(("state", "action", "role"), FULL_TABLE, ids=map(_ids, FULL_TABLE))
def test_may_follows_product_table_on_request_within_reach(
    state: State, action: Action, role: Role
) -> None:
    expected = state in EXPECTED_WITHIN_REACH[role].get(action, frozenset())
    assert may(ACTORS[role], action, request(state)) is expected


@pytest.mark.parametrize(("state", "action", "role"), FULL_TABLE, ids=map(_ids, FULL_TABLE))
def test_may_follows_product_table_on_request_in_triage(
    state: State, action: Action, role: Role
) -> None:
    expected = state in EXPECTED_IN_TRIAGE[role].get(action, frozenset())
    assert may(ACTORS[role], action, triage_request(state)) is expected


@pytest.mark.parametrize(("state", "action", "role"), FULL_TABLE, ids=map(_ids, FULL_TABLE))
def test_may_follows_product_table_on_someone_elses_request(
    state: State, action: Action, role: Role
) -> None:
    expected = state in EXPECTED_FOR_STRANGER[role].get(action, frozenset())
    assert may(ACTORS[role], action, strangers_request(state)) is expected


# --------------------------------------------------------------------------------------------
# next_state and is_possible


@pytest.mark.parametrize(
    ("state", "action"), ALL_COMBINATIONS, ids=[f"{s}-{a}" for s, a in ALL_COMBINATIONS]
)
def test_next_state_follows_table_or_raises_transition_not_allowed(
    state: State, action: Action
) -> None:
    if (state, action) in EXPECTED_NEXT:
        assert next_state(state, action) is EXPECTED_NEXT[(state, action)]
        assert is_possible(state, action) is True
    else:
        with pytest.raises(TransitionNotAllowed) as caught:
            next_state(state, action)
        assert caught.value.state is state
        assert caught.value.action is action
        assert str(action) in str(caught.value)
        assert str(state) in str(caught.value)
        assert is_possible(state, action) is False


@pytest.mark.parametrize("state", [S.CLOSED, S.DECLINED, S.CANCELLED, S.DUPLICATE])
def test_final_state_allows_no_move_and_only_rating_a_closed_request(state: State) -> None:
    possible = {action for action in Action if is_possible(state, action)}
    assert possible == ({A.RATE} if state is S.CLOSED else set())


def test_final_and_open_state_sets_match_product() -> None:
    assert frozenset({S.CLOSED, S.DECLINED, S.CANCELLED, S.DUPLICATE}) == FINAL_STATES
    # A duplicate ends apart: never fixed, never declined.
    assert S.DUPLICATE not in FIXED_STATES | DECLINED_STATES
    assert OPEN == OPEN_STATES
    assert frozenset({S.NEW, S.ASSIGNED, S.IN_PROGRESS, S.REWORK}) == OPEN_WORK_STATES


# Whether the contractor began the work, by state (PRODUCT.md: a request is cancelled only
# before that).
WORK_STARTED = {
    S.NEW: False,
    S.ASSIGNED: False,
    S.IN_PROGRESS: True,
    S.DONE: True,
    S.VERIFIED: True,
    S.CLOSED: True,
    S.REWORK: True,
    S.DECLINED: False,
    S.CANCELLED: False,
}


@pytest.mark.parametrize("state", sorted(OPEN))
def test_cancel_possible_exactly_while_work_has_not_started(state: State) -> None:
    assert is_possible(state, A.CANCEL) is (not WORK_STARTED[state])


# --------------------------------------------------------------------------------------------
# Reasons


def test_decline_return_dispute_and_comment_require_written_reason() -> None:
    assert frozenset({A.DECLINE, A.RETURN, A.DISPUTE, A.COMMENT}) == REASON_REQUIRED


@pytest.mark.parametrize(
    "action",
    [
        A.ASSIGN,
        A.TRANSFER,
        A.ROUTE,
        A.START,
        A.COMPLETE,
        A.VERIFY,
        A.CONFIRM,
        A.CANCEL,
        A.ASSIGN_WORKER,
        A.RATE,
    ],
)
def test_action_needs_no_written_reason(action: Action) -> None:
    assert action not in REASON_REQUIRED


# --------------------------------------------------------------------------------------------
# Residents


def test_resident_sees_own_request() -> None:
    assert may_view(RESIDENT, request()) is True


def test_resident_cannot_see_another_residents_request() -> None:
    assert may_view(OTHER_RESIDENT, request()) is False


def test_resident_without_account_id_cannot_see_request_filed_without_resident() -> None:
    # A request the operator filed for a caller with no account has resident_id None.
    anonymous = Actor(user_id=None, role=R.RESIDENT)
    assert may_view(anonymous, request(resident_id=None)) is False


def test_resident_sees_own_request_in_triage() -> None:
    assert may_view(RESIDENT, triage_request()) is True


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (S.NEW, A.CANCEL),
        (S.ASSIGNED, A.CANCEL),
        (S.DONE, A.DISPUTE),
        (S.VERIFIED, A.CONFIRM),
        (S.VERIFIED, A.DISPUTE),
        (S.IN_PROGRESS, A.COMMENT),
        (S.CLOSED, A.RATE),
    ],
)
def test_resident_cannot_act_on_another_residents_request(state: State, action: Action) -> None:
    assert may(RESIDENT, action, request(state)) is True
    assert may(OTHER_RESIDENT, action, request(state)) is False


def test_resident_cannot_cancel_once_work_started() -> None:
    assert may(RESIDENT, A.CANCEL, request(S.IN_PROGRESS)) is False


def test_resident_confirms_only_after_dispatcher_verified() -> None:
    assert may(RESIDENT, A.CONFIRM, request(S.DONE)) is False
    assert may(RESIDENT, A.CONFIRM, request(S.VERIFIED)) is True


def test_resident_rates_closed_request_once() -> None:
    assert may(RESIDENT, A.RATE, request(S.CLOSED, rated=False)) is True
    assert may(RESIDENT, A.RATE, request(S.CLOSED, rated=True)) is False


@pytest.mark.parametrize("state", [s for s in State if s is not S.CLOSED])
def test_resident_cannot_rate_request_that_is_not_closed(state: State) -> None:
    assert may(RESIDENT, A.RATE, request(state)) is False


def test_resident_cannot_rate_another_residents_closed_request() -> None:
    assert may(OTHER_RESIDENT, A.RATE, request(S.CLOSED)) is False


@pytest.mark.parametrize("role", [r for r in Role if r not in {R.RESIDENT, R.SYSTEM}])
def test_only_resident_rates(role: Role) -> None:
    assert may(ACTORS[role], A.RATE, request(S.CLOSED)) is False


# --------------------------------------------------------------------------------------------
# Operators of the single phone number


@pytest.mark.parametrize("facts", [request(), triage_request(), strangers_request()])
def test_operator_views_every_request(facts: RequestFacts) -> None:
    assert may_view(OPERATOR, facts) is True


@pytest.mark.parametrize("facts", [request(), triage_request(), strangers_request()])
@pytest.mark.parametrize("state", [S.NEW, S.ASSIGNED])
def test_operator_may_cancel_any_request_before_work_starts(
    facts: RequestFacts, state: State
) -> None:
    assert may(OPERATOR, A.CANCEL, replace(facts, state=state)) is True


@pytest.mark.parametrize("state", [S.IN_PROGRESS, S.DONE, S.VERIFIED, S.REWORK])
def test_operator_cannot_cancel_after_work_started(state: State) -> None:
    assert may(OPERATOR, A.CANCEL, request(state)) is False


@pytest.mark.parametrize(
    "action", [A.ASSIGN, A.TRANSFER, A.ROUTE, A.DECLINE, A.VERIFY, A.CONFIRM, A.DISPUTE]
)
def test_operator_cannot_take_dispatcher_admin_or_resident_decisions(action: Action) -> None:
    for state in State:
        assert may(OPERATOR, action, request(state)) is False
        assert may(OPERATOR, action, triage_request(state)) is False


# --------------------------------------------------------------------------------------------
# Dispatchers of the УК/ТСЖ/РСО


def test_dispatcher_sees_requests_of_own_organisation() -> None:
    assert may_view(DISPATCHER, request()) is True


def test_dispatcher_cannot_see_requests_of_other_organisation() -> None:
    assert may_view(OTHER_DISPATCHER, request()) is False


def test_dispatcher_cannot_see_triage_requests() -> None:
    assert may_view(DISPATCHER, triage_request()) is False


def test_dispatcher_without_organisation_cannot_see_triage_requests() -> None:
    orphan = Actor(user_id=62, role=R.DISPATCHER, organisation_id=None)
    assert may_view(orphan, triage_request()) is False
    assert may(orphan, A.ASSIGN, triage_request()) is False


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (S.NEW, A.ASSIGN),
        (S.NEW, A.TRANSFER),
        (S.NEW, A.DECLINE),
        (S.DONE, A.VERIFY),
        (S.DONE, A.RETURN),
        (S.VERIFIED, A.RETURN),
        (S.REWORK, A.ASSIGN),
        (S.IN_PROGRESS, A.COMMENT),
    ],
)
def test_dispatcher_of_other_organisation_cannot_act_on_request(
    state: State, action: Action
) -> None:
    assert may(DISPATCHER, action, request(state)) is True
    assert may(OTHER_DISPATCHER, action, request(state)) is False


def test_dispatcher_cannot_route_triage_requests() -> None:
    assert may(DISPATCHER, A.ROUTE, triage_request()) is False


@pytest.mark.parametrize("action", [A.START, A.COMPLETE, A.ASSIGN_WORKER])
def test_dispatcher_cannot_do_the_contractors_work(action: Action) -> None:
    for state in State:
        assert may(DISPATCHER, action, request(state)) is False


@pytest.mark.parametrize("action", [A.CONFIRM, A.DISPUTE, A.CANCEL, A.RATE])
def test_dispatcher_cannot_speak_for_the_resident(action: Action) -> None:
    for state in State:
        assert may(DISPATCHER, action, request(state)) is False


@pytest.mark.parametrize("kind", [OrgKind.UK, OrgKind.TSJ, OrgKind.RSO])
def test_dispatchers_work_for_uk_tsj_and_rso(kind: OrgKind) -> None:
    assert kind in ROLE_ORG_KINDS[R.DISPATCHER]
    assert kind in HANDLING_KINDS


# --------------------------------------------------------------------------------------------
# Contractor dispatchers (диспетчер ПО)


def test_contractor_dispatcher_sees_jobs_of_own_contractor() -> None:
    assert may_view(CONTRACTOR, request(S.ASSIGNED)) is True


def test_contractor_dispatcher_sees_jobs_given_to_any_of_its_workers() -> None:
    assert may_view(CONTRACTOR, request(S.ASSIGNED, worker_id=OTHER_WORKER_ID)) is True
    assert may_view(CONTRACTOR, request(S.ASSIGNED, worker_id=None)) is True


def test_contractor_dispatcher_cannot_see_job_of_other_contractor() -> None:
    assert may_view(OTHER_CONTRACTOR, request(S.ASSIGNED)) is False


def test_contractor_dispatcher_cannot_see_request_before_contractor_is_assigned() -> None:
    assert may_view(CONTRACTOR, request(S.NEW, contractor_id=None, worker_id=None)) is False


def test_contractor_dispatcher_without_organisation_sees_nothing() -> None:
    orphan = Actor(user_id=72, role=R.CONTRACTOR, organisation_id=None)
    assert may_view(orphan, request(S.NEW, contractor_id=None, worker_id=None)) is False
    assert may_view(orphan, triage_request()) is False


def test_contractor_dispatcher_does_not_see_request_because_it_runs_the_uk() -> None:
    # Organisation ids are shared between kinds: a contractor whose id equals the request's
    # organisation must still not see it unless it is the request's contractor.
    contractor_with_uk_id = Actor(user_id=73, role=R.CONTRACTOR, organisation_id=UK_ID)
    assert may_view(contractor_with_uk_id, request(S.ASSIGNED)) is False


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (S.ASSIGNED, A.START),
        (S.ASSIGNED, A.COMPLETE),
        (S.IN_PROGRESS, A.COMPLETE),
        (S.REWORK, A.START),
        (S.ASSIGNED, A.ASSIGN_WORKER),
        (S.IN_PROGRESS, A.COMMENT),
    ],
)
def test_contractor_dispatcher_of_other_contractor_cannot_act_on_job(
    state: State, action: Action
) -> None:
    assert may(CONTRACTOR, action, request(state)) is True
    assert may(OTHER_CONTRACTOR, action, request(state)) is False


@pytest.mark.parametrize("action", [A.ASSIGN, A.DECLINE, A.VERIFY, A.RETURN, A.TRANSFER])
def test_contractor_dispatcher_cannot_take_the_organisations_decisions(action: Action) -> None:
    for state in State:
        assert may(CONTRACTOR, action, request(state)) is False


def test_contractors_and_workers_belong_to_contractor_organisations() -> None:
    assert frozenset({OrgKind.CONTRACTOR}) == ROLE_ORG_KINDS[R.CONTRACTOR]
    assert frozenset({OrgKind.CONTRACTOR}) == ROLE_ORG_KINDS[R.WORKER]


# --------------------------------------------------------------------------------------------
# Workers (исполнители)


def test_worker_sees_job_assigned_to_them() -> None:
    assert may_view(WORKER, request(S.ASSIGNED)) is True


def test_worker_sees_job_of_own_contractor_not_yet_given_to_a_worker() -> None:
    assert may_view(WORKER, request(S.ASSIGNED, worker_id=None)) is True


def test_worker_cannot_see_job_given_to_another_worker() -> None:
    assert may_view(OTHER_WORKER_SAME_CONTRACTOR, request(S.ASSIGNED)) is False
    assert may_view(WORKER, request(S.ASSIGNED, worker_id=OTHER_WORKER_ID)) is False


def test_worker_of_other_contractor_cannot_see_job() -> None:
    assert may_view(WORKER_OF_OTHER_CONTRACTOR, request(S.ASSIGNED, worker_id=None)) is False


def test_worker_cannot_see_request_before_contractor_is_assigned() -> None:
    assert may_view(WORKER, request(S.NEW, contractor_id=None, worker_id=None)) is False


def test_worker_without_organisation_sees_nothing() -> None:
    orphan = Actor(user_id=33, role=R.WORKER, organisation_id=None)
    assert may_view(orphan, request(S.NEW, contractor_id=None, worker_id=None)) is False
    assert may_view(orphan, request(S.ASSIGNED, contractor_id=None, worker_id=33)) is False


def test_worker_of_other_contractor_cannot_open_job() -> None:
    assert may(WORKER_OF_OTHER_CONTRACTOR, A.START, request(S.ASSIGNED)) is False
    assert may(WORKER_OF_OTHER_CONTRACTOR, A.START, request(S.ASSIGNED, worker_id=None)) is False


def test_worker_of_other_contractor_cannot_complete_job() -> None:
    facts = request(S.IN_PROGRESS, worker_id=None)
    assert may(WORKER_OF_OTHER_CONTRACTOR, A.COMPLETE, facts) is False


def test_worker_cannot_complete_job_given_to_another_worker() -> None:
    assert may(WORKER, A.COMPLETE, request(S.IN_PROGRESS)) is True
    assert may(OTHER_WORKER_SAME_CONTRACTOR, A.COMPLETE, request(S.IN_PROGRESS)) is False


def test_worker_can_complete_job_of_own_contractor_not_yet_given_to_a_worker() -> None:
    assert may(WORKER, A.COMPLETE, request(S.ASSIGNED, worker_id=None)) is True


def test_worker_in_the_field_completes_without_pressing_start() -> None:
    assert may(WORKER, A.COMPLETE, request(S.ASSIGNED)) is True
    assert next_state(S.ASSIGNED, A.COMPLETE) is S.DONE


def test_worker_cannot_assign_workers() -> None:
    for state in State:
        assert may(WORKER, A.ASSIGN_WORKER, request(state)) is False
        assert may(WORKER, A.ASSIGN_WORKER, request(state, worker_id=None)) is False


@pytest.mark.parametrize(
    "action", [A.ASSIGN, A.DECLINE, A.VERIFY, A.RETURN, A.CONFIRM, A.DISPUTE, A.CANCEL]
)
def test_worker_cannot_take_decisions_of_others(action: Action) -> None:
    for state in State:
        assert may(WORKER, action, request(state)) is False


# --------------------------------------------------------------------------------------------
# City administration


@pytest.mark.parametrize("facts", [request(), triage_request(), strangers_request()])
@pytest.mark.parametrize("state", list(State))
def test_city_admin_views_every_request(facts: RequestFacts, state: State) -> None:
    assert may_view(CITY_ADMIN, replace(facts, state=state)) is True


def test_city_admin_routes_request_waiting_in_triage() -> None:
    assert may(CITY_ADMIN, A.ROUTE, triage_request()) is True


def test_city_admin_cannot_route_request_already_routed() -> None:
    assert may(CITY_ADMIN, A.ROUTE, request()) is False
    assert may(CITY_ADMIN, A.ROUTE, strangers_request()) is False


@pytest.mark.parametrize("state", [s for s in State if s is not S.NEW])
def test_city_admin_routes_only_new_requests(state: State) -> None:
    assert may(CITY_ADMIN, A.ROUTE, triage_request(state)) is False


@pytest.mark.parametrize("action", [a for a in Action if a is not A.ROUTE])
def test_city_admin_is_read_only_apart_from_routing(action: Action) -> None:
    for state in State:
        assert may(CITY_ADMIN, action, request(state)) is False
        assert may(CITY_ADMIN, action, triage_request(state)) is False


# --------------------------------------------------------------------------------------------
# System administrators and the system itself


@pytest.mark.parametrize("facts", [request(), triage_request(), strangers_request()])
def test_sysadmin_sees_no_requests(facts: RequestFacts) -> None:
    assert may_view(SYSADMIN, facts) is False


def test_sysadmin_may_take_no_action_on_any_request() -> None:
    for state, action in itertools.product(State, Action):
        for facts in (request(state), triage_request(state), strangers_request(state)):
            assert may(SYSADMIN, action, facts) is False
        assert available_actions(SYSADMIN, request(state)) == []


@pytest.mark.parametrize("facts", [request(), triage_request(), strangers_request()])
def test_system_sees_every_request(facts: RequestFacts) -> None:
    assert may_view(SYSTEM_ACTOR, facts) is True


def test_system_actor_is_nobody_in_particular() -> None:
    assert SYSTEM_ACTOR.role is R.SYSTEM
    assert SYSTEM_ACTOR.user_id is None
    assert SYSTEM_ACTOR.organisation_id is None


def test_staff_roles_are_everyone_but_residents_and_the_system() -> None:
    assert (
        frozenset({R.OPERATOR, R.DISPATCHER, R.CONTRACTOR, R.WORKER, R.CITY_ADMIN, R.SYSADMIN})
        == STAFF_ROLES
    )


def test_city_admin_belongs_to_the_administration() -> None:
    assert frozenset({OrgKind.ADMINISTRATION}) == ROLE_ORG_KINDS[R.CITY_ADMIN]


# --------------------------------------------------------------------------------------------
# available_actions: what the page offers


@pytest.mark.parametrize(
    ("actor", "facts", "expected"),
    [
        pytest.param(
            DISPATCHER,
            request(S.NEW, contractor_id=None, worker_id=None),
            [A.ASSIGN, A.TRANSFER, A.DECLINE, A.MARK_DUPLICATE, A.COMMENT],
            id="dispatcher-new-request",
        ),
        pytest.param(
            DISPATCHER,
            request(S.ASSIGNED, worker_id=None),
            [A.ASSIGN, A.DECLINE, A.MARK_DUPLICATE, A.COMMENT],
            id="dispatcher-assigned-request",
        ),
        pytest.param(
            DISPATCHER,
            request(S.IN_PROGRESS),
            [A.COMMENT],
            id="dispatcher-job-in-progress",
        ),
        pytest.param(
            DISPATCHER, request(S.DONE), [A.VERIFY, A.RETURN, A.COMMENT], id="dispatcher-done"
        ),
        pytest.param(
            DISPATCHER, request(S.VERIFIED), [A.RETURN, A.COMMENT], id="dispatcher-verified"
        ),
        pytest.param(
            DISPATCHER,
            request(S.REWORK),
            [A.ASSIGN, A.DECLINE, A.MARK_DUPLICATE, A.COMMENT],
            id="dispatcher-rework",
        ),
        pytest.param(OTHER_DISPATCHER, request(S.NEW), [], id="dispatcher-of-other-uk"),
        pytest.param(DISPATCHER, request(S.CLOSED), [], id="dispatcher-closed"),
        pytest.param(
            CONTRACTOR,
            request(S.ASSIGNED, worker_id=None),
            [A.START, A.COMPLETE, A.COMMENT, A.ASSIGN_WORKER],
            id="contractor-assigned-job",
        ),
        pytest.param(
            CONTRACTOR,
            request(S.IN_PROGRESS),
            [A.COMPLETE, A.COMMENT, A.ASSIGN_WORKER],
            id="contractor-job-in-progress",
        ),
        pytest.param(CONTRACTOR, request(S.DONE), [A.COMMENT], id="contractor-job-done"),
        pytest.param(
            WORKER,
            request(S.ASSIGNED),
            [A.START, A.COMPLETE, A.COMMENT],
            id="worker-assigned-job",
        ),
        pytest.param(
            WORKER, request(S.IN_PROGRESS), [A.COMPLETE, A.COMMENT], id="worker-job-in-progress"
        ),
        pytest.param(
            WORKER,
            request(S.REWORK),
            [A.START, A.COMPLETE, A.COMMENT],
            id="worker-job-returned",
        ),
        pytest.param(
            OTHER_WORKER_SAME_CONTRACTOR,
            request(S.IN_PROGRESS),
            [],
            id="worker-job-of-colleague",
        ),
        pytest.param(
            RESIDENT,
            request(S.NEW, contractor_id=None, worker_id=None),
            [A.CANCEL, A.COMMENT],
            id="resident-new",
        ),
        pytest.param(RESIDENT, request(S.IN_PROGRESS), [A.COMMENT], id="resident-in-progress"),
        pytest.param(RESIDENT, request(S.DONE), [A.DISPUTE, A.COMMENT], id="resident-done"),
        pytest.param(
            RESIDENT,
            request(S.VERIFIED),
            [A.CONFIRM, A.DISPUTE, A.COMMENT],
            id="resident-verified",
        ),
        pytest.param(RESIDENT, request(S.CLOSED), [A.RATE], id="resident-closed-unrated"),
        pytest.param(RESIDENT, request(S.CLOSED, rated=True), [], id="resident-closed-rated"),
        pytest.param(RESIDENT, request(S.CANCELLED), [], id="resident-cancelled"),
        pytest.param(OTHER_RESIDENT, request(S.VERIFIED), [], id="resident-someone-elses"),
        pytest.param(OPERATOR, strangers_request(S.NEW), [A.CANCEL, A.COMMENT], id="operator-new"),
        pytest.param(OPERATOR, request(S.IN_PROGRESS), [A.COMMENT], id="operator-in-progress"),
        pytest.param(CITY_ADMIN, triage_request(), [A.ROUTE], id="city-admin-triage"),
        pytest.param(CITY_ADMIN, request(S.NEW), [], id="city-admin-routed"),
        pytest.param(SYSADMIN, request(S.NEW), [], id="sysadmin"),
        pytest.param(
            SYSTEM_ACTOR,
            request(S.NEW),
            [
                A.ASSIGN,
                A.TRANSFER,
                A.ROUTE,
                A.DECLINE,
                A.CANCEL,
                A.MARK_DUPLICATE,
                A.COMMENT,
                A.RESOLVE_INCIDENT,
            ],
            id="system-new",
        ),
    ],
)
def test_available_actions_lists_what_the_page_offers_in_stable_order(
    actor: Actor, facts: RequestFacts, expected: list[Action]
) -> None:
    assert available_actions(actor, facts) == expected


@pytest.mark.parametrize(("state", "role"), list(itertools.product(State, Role)))
def test_available_actions_agrees_with_may_in_declaration_order(state: State, role: Role) -> None:
    facts = request(state)
    actor = ACTORS[role]
    offered = available_actions(actor, facts)
    assert offered == [action for action in Action if may(actor, action, facts)]
    assert len(offered) == len(set(offered))


# --------------------------------------------------------------------------------------------
# The journey from PRODUCT.md, step by step


def _take(actor: Actor, action: Action, facts: RequestFacts, **changes: object) -> RequestFacts:
    assert action in available_actions(actor, facts), (actor.role, action, facts.state)
    assert may(actor, action, facts)
    return replace(facts, state=next_state(facts.state, action), **changes)


def test_full_journey_with_return_and_dispute_is_possible_step_by_step() -> None:
    # new → assigned → in_progress → done → rework → done → verified → rework (dispute)
    # → done → verified → closed, then a rating.
    facts = request(S.NEW, contractor_id=None, worker_id=None)
    seen = [facts.state]

    facts = _take(DISPATCHER, A.ASSIGN, facts, contractor_id=CONTRACTOR_ORG_ID)
    seen.append(facts.state)
    facts = _take(CONTRACTOR, A.ASSIGN_WORKER, facts, worker_id=WORKER_ID)
    assert facts.state is S.ASSIGNED
    facts = _take(WORKER, A.START, facts)
    seen.append(facts.state)
    facts = _take(WORKER, A.COMPLETE, facts)
    seen.append(facts.state)
    facts = _take(DISPATCHER, A.RETURN, facts)
    seen.append(facts.state)
    facts = _take(WORKER, A.COMPLETE, facts)
    seen.append(facts.state)
    facts = _take(DISPATCHER, A.VERIFY, facts)
    seen.append(facts.state)
    facts = _take(RESIDENT, A.DISPUTE, facts)
    seen.append(facts.state)
    facts = _take(CONTRACTOR, A.COMPLETE, facts)
    seen.append(facts.state)
    facts = _take(DISPATCHER, A.VERIFY, facts)
    seen.append(facts.state)
    facts = _take(RESIDENT, A.CONFIRM, facts)
    seen.append(facts.state)

    assert seen == [
        S.NEW,
        S.ASSIGNED,
        S.IN_PROGRESS,
        S.DONE,
        S.REWORK,
        S.DONE,
        S.VERIFIED,
        S.REWORK,
        S.DONE,
        S.VERIFIED,
        S.CLOSED,
    ]

    facts = _take(RESIDENT, A.RATE, facts, rated=True)
    assert facts.state is S.CLOSED
    assert available_actions(RESIDENT, facts) == []
    for role, actor in ACTORS.items():
        if role is not R.SYSTEM:
            assert available_actions(actor, facts) == [], role


def test_triage_request_is_routed_by_administration_then_assigned_by_dispatcher() -> None:
    facts = triage_request()
    assert available_actions(DISPATCHER, facts) == []
    facts = _take(CITY_ADMIN, A.ROUTE, facts, organisation_id=UK_ID)
    assert facts.state is S.NEW
    assert may(CITY_ADMIN, A.ROUTE, facts) is False
    facts = _take(DISPATCHER, A.ASSIGN, facts, contractor_id=CONTRACTOR_ORG_ID)
    assert facts.state is S.ASSIGNED


def test_misrouted_request_is_transferred_and_lost_to_the_first_dispatcher() -> None:
    facts = request(S.NEW, contractor_id=None, worker_id=None)
    facts = _take(DISPATCHER, A.TRANSFER, facts, organisation_id=OTHER_UK_ID)
    assert facts.state is S.NEW
    assert may_view(DISPATCHER, facts) is False
    assert may(OTHER_DISPATCHER, A.ASSIGN, facts) is True


def test_returned_job_goes_to_another_contractor_and_leaves_the_first() -> None:
    facts = request(S.REWORK)
    facts = _take(
        DISPATCHER, A.ASSIGN, facts, contractor_id=OTHER_CONTRACTOR_ORG_ID, worker_id=None
    )
    assert facts.state is S.ASSIGNED
    assert may_view(CONTRACTOR, facts) is False
    assert may_view(WORKER, facts) is False
    assert may(OTHER_CONTRACTOR, A.START, facts) is True


def test_returned_job_goes_back_to_in_progress_with_the_same_contractor() -> None:
    facts = _take(WORKER, A.START, request(S.REWORK))
    assert facts.state is S.IN_PROGRESS


def test_dispatcher_declines_request_that_is_not_theirs_to_fix() -> None:
    facts = _take(DISPATCHER, A.DECLINE, request(S.NEW, contractor_id=None, worker_id=None))
    assert facts.state is S.DECLINED
    assert facts.state in FINAL_STATES
    assert available_actions(RESIDENT, facts) == []


def test_resident_withdraws_request_before_work_starts() -> None:
    facts = _take(RESIDENT, A.CANCEL, request(S.ASSIGNED))
    assert facts.state is S.CANCELLED
    assert available_actions(RESIDENT, facts) == []
