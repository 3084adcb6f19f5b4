"""Who may declare, update and resolve an incident: every role × kind of organisation ×
own or foreign buildings and incidents, against a table written out by hand."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from server.incidents.rules import (
    Declarer,
    absorbs,
    is_active,
    is_overdue,
    may_declare,
    may_manage,
)
from server.requests.workflow import ACTIONS, OPEN_WORK_STATES, Action, State, may
from server.shared.roles import SYSTEM_ACTOR, Actor, OrgKind, Role

OWN, FOREIGN = 7, 8

# (role, kind of their organisation) → may they declare over buildings they serve, over
# buildings they do not serve; may they manage their own organisation's incident, another's.
EXPECTED: dict[tuple[Role, OrgKind], tuple[bool, bool, bool, bool]] = {
    (Role.DISPATCHER, OrgKind.UK): (True, False, True, False),
    (Role.DISPATCHER, OrgKind.TSJ): (True, False, True, False),
    (Role.DISPATCHER, OrgKind.RSO): (True, False, True, False),
    (Role.CITY_ADMIN, OrgKind.ADMINISTRATION): (True, True, True, True),
}
NOBODY = (False, False, False, False)


@pytest.mark.parametrize(
    ("role", "kind"), list(itertools.product(Role, OrgKind)), ids=lambda v: str(v)
)
def test_who_may_declare_and_manage(role: Role, kind: OrgKind) -> None:
    person = Declarer(role, OWN, kind)
    expected = EXPECTED.get((role, kind), NOBODY)
    assert (
        may_declare(person, [True, True]),
        may_declare(person, [True, False]),
        may_manage(person, OWN),
        may_manage(person, FOREIGN),
    ) == expected


@pytest.mark.parametrize("role", list(Role))
def test_nobody_without_an_organisation_may_declare(role: Role) -> None:
    person = Declarer(role, None, None)
    assert not may_declare(person, [True])
    assert not may_manage(person, OWN)


def test_an_empty_choice_of_buildings_is_never_declared() -> None:
    assert not may_declare(Declarer(Role.CITY_ADMIN, OWN, OrgKind.ADMINISTRATION), [])


def test_active_and_overdue() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    hour = timedelta(hours=1)
    assert is_active(now - hour, None, now)
    assert not is_active(now + hour, None, now)  # planned, not started yet
    assert not is_active(now - hour, now, now)
    assert is_overdue(now - hour, None, now)
    assert not is_overdue(now + hour, None, now)
    assert not is_overdue(now - hour, now, now)


@pytest.mark.parametrize("state", list(State))
def test_a_request_is_absorbed_only_while_its_work_is_owed(state: State) -> None:
    owed = state in OPEN_WORK_STATES
    assert absorbs(active=True, same_category=True, affected_building=True, state=state) is owed
    assert not absorbs(active=False, same_category=True, affected_building=True, state=state)
    assert not absorbs(active=True, same_category=False, affected_building=True, state=state)
    assert not absorbs(active=True, same_category=True, affected_building=False, state=state)


@pytest.mark.parametrize("state", list(State))
def test_resolving_moves_owed_work_to_done_and_no_person_takes_it(state: State) -> None:
    from server.requests.workflow import RequestFacts

    facts = RequestFacts(state, resident_id=1, organisation_id=OWN)
    assert may(SYSTEM_ACTOR, Action.RESOLVE_INCIDENT, facts) is (state in OPEN_WORK_STATES)
    if state in OPEN_WORK_STATES:
        assert ACTIONS[Action.RESOLVE_INCIDENT].moves[state] is State.DONE
    for role in Role:
        if role is not Role.SYSTEM:
            actor = Actor(user_id=1, role=role, organisation_id=OWN)
            assert not may(actor, Action.RESOLVE_INCIDENT, facts)
