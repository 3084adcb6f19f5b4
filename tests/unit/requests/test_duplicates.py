"""The rules of following and of marking duplicates, as plain tables."""

from __future__ import annotations

import pytest

from server.db.models import Request
from server.live.audience import FOLLOWERS, audience_of, request_audience
from server.requests.duplicates import duplicate_refusal, original_number
from server.requests.workflow import (
    FINAL_STATES,
    RequestFacts,
    State,
    available_actions,
    is_follower,
    may_view,
)
from server.shared.roles import Actor, Role

OWNER, FOLLOWER, STRANGER = 1, 2, 3
FACTS = RequestFacts(State.NEW, OWNER, 10, followers=frozenset({FOLLOWER}))


@pytest.mark.parametrize(
    ("who", "sees", "follows"),
    [
        (OWNER, True, False),
        (FOLLOWER, True, True),
        (STRANGER, False, False),
        (None, False, False),
    ],
)
def test_a_resident_sees_their_own_and_what_they_follow(
    who: int | None, sees: bool, follows: bool
) -> None:
    actor = Actor(who, Role.RESIDENT)
    assert may_view(actor, FACTS) is sees
    assert is_follower(actor, FACTS) is follows
    if follows:
        assert available_actions(actor, FACTS) == []


def test_following_opens_nothing_to_staff_of_other_organisations() -> None:
    # A follower id that happens to be a dispatcher's changes nothing for them.
    facts = RequestFacts(State.NEW, OWNER, 10, followers=frozenset({7}))
    assert not may_view(Actor(7, Role.DISPATCHER, 11), facts)
    assert not is_follower(Actor(7, Role.DISPATCHER, 11), facts)


def test_followers_share_one_audience_apart_from_the_resident() -> None:
    both = RequestFacts(State.NEW, OWNER, 10, followers=frozenset({FOLLOWER, STRANGER}))
    assert request_audience(Actor(FOLLOWER, Role.RESIDENT), both, locale="ru") == FOLLOWERS
    assert request_audience(Actor(STRANGER, Role.RESIDENT), both, locale="ru") == FOLLOWERS
    owner = request_audience(Actor(OWNER, Role.RESIDENT), both, locale="ru")
    assert owner == audience_of(Actor(OWNER, Role.RESIDENT), locale="ru") and owner != FOLLOWERS


def _request(id_: int, state: State, organisation_id: int = 10) -> Request:
    return Request(id=id_, state=state, organisation_id=organisation_id, number=f"2026-{id_:06d}")


DUPLICATE = _request(1, State.NEW)


@pytest.mark.parametrize(
    ("original", "refused"),
    [
        (_request(2, State.NEW), None),
        (_request(2, State.IN_PROGRESS), None),
        (_request(2, State.DONE), None),
        (None, "не найдена"),
        (DUPLICATE, "самой себя"),
        (_request(2, State.NEW, organisation_id=11), "другой организации"),
        (_request(2, State.DUPLICATE), "сама отмечена как дубликат"),
        *((_request(2, s), "уже завершена") for s in FINAL_STATES - {State.DUPLICATE}),
    ],
)
def test_what_a_request_may_be_marked_a_duplicate_of(
    original: Request | None, refused: str | None
) -> None:
    problem = duplicate_refusal(DUPLICATE, original)
    if refused is None:
        assert problem is None
    else:
        assert problem is not None and refused in problem


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("2026-000123", "2026-000123"),
        ("№2026-000123", "2026-000123"),
        (" № 2026-000123 ", "2026-000123"),
        ("", ""),
    ],
)
def test_a_number_is_read_as_a_dispatcher_types_it(typed: str, number: str) -> None:
    assert original_number(typed) == number
