"""What the bus carries between processes, as another process reads it back."""

from __future__ import annotations

from server.live.bus import Resync, parse_message
from server.shared.events import AccountEvent, RequestEvent


def test_an_account_change_crosses_the_bus_as_its_id() -> None:
    assert parse_message(AccountEvent(7).dumps()) == AccountEvent(7)
    assert parse_message('{"kind":"account","user_id":"7"}') is None
    assert parse_message('{"kind":"account"}') is None


def test_request_events_and_resyncs_still_read_as_before() -> None:
    event = RequestEvent(request_id=3, entry_id=9, organisation_id=1)
    assert parse_message(event.dumps()) == event
    assert parse_message('{"resync":true,"reason":"publish-gap"}') == Resync("publish-gap")
    assert parse_message("not json") is None
