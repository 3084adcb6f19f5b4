"""Which call cards an operator's page shows, and the call's id on the bus."""

from __future__ import annotations

from datetime import UTC, datetime

from server.db.models import Call
from server.live.bus import parse_message
from server.phone.cards import CallCard, shown_to
from server.shared.events import CallEvent

AT = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)


def card(call_id: int, operator_id: int | None = None) -> CallCard:
    call = Call(id=call_id, caller_phone="+79170000001", started_at=AT, operator_id=operator_id)
    if operator_id is not None:
        call.answered_at = AT
    return CallCard(call, None)


def ids(cards: list[CallCard]) -> list[int]:
    return [c.call.id for c in cards]


def test_a_free_operator_sees_every_ringing_call_and_none_taken_by_colleagues() -> None:
    cards = [card(1), card(2, operator_id=7), card(3)]
    assert ids(shown_to(cards, operator_id=5)) == [1, 3]


def test_an_operator_on_a_call_sees_only_their_own() -> None:
    cards = [card(1), card(2, operator_id=7), card(3)]
    assert ids(shown_to(cards, operator_id=7)) == [2]


def test_nothing_open_shows_nothing() -> None:
    assert shown_to([], operator_id=5) == []


def test_the_bus_carries_only_the_calls_id() -> None:
    raw = CallEvent(42).dumps()
    assert raw == '{"call_id":42,"kind":"call"}'
    assert parse_message(raw) == CallEvent(42)
    assert parse_message('{"kind":"call","call_id":"42"}') is None
