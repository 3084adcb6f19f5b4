"""What the bus carries between processes, as another process reads it back."""

from __future__ import annotations

from server.live.bus import Resync, parse_message
from server.shared.events import (
    AccountEvent,
    IncidentEvent,
    RequestEvent,
    RequestsChanged,
    on_the_bus,
)


def test_an_account_change_crosses_the_bus_as_its_id() -> None:
    assert parse_message(AccountEvent(7).dumps()) == AccountEvent(7)
    assert parse_message('{"kind":"account","user_id":"7"}') is None
    assert parse_message('{"kind":"account"}') is None


def test_request_events_and_resyncs_still_read_as_before() -> None:
    event = RequestEvent(request_id=3, entry_id=9, organisation_id=1)
    assert parse_message(event.dumps()) == event
    assert parse_message('{"resync":true,"reason":"publish-gap"}') == Resync("publish-gap")
    assert parse_message("not json") is None


def _changes(n: int, first: int = 1) -> list[RequestEvent]:
    return [
        RequestEvent(request_id=i, entry_id=10 * i, organisation_id=2, resident_id=i + 1)
        for i in range(first, first + n)
    ]


def test_one_changed_request_goes_alone_and_many_go_in_batches_in_their_order() -> None:
    alone = _changes(1)
    assert on_the_bus(alone) == alone
    many = _changes(200)
    messages = on_the_bus([*many, IncidentEvent(5)])
    assert [type(m) for m in messages] == [
        RequestsChanged,
        RequestsChanged,
        RequestsChanged,
        IncidentEvent,
    ]
    batches = [m for m in messages if isinstance(m, RequestsChanged)]
    assert [len(b.events) for b in batches] == [80, 80, 40]
    assert [e for b in batches for e in b.events] == many
    # An incident between requests' changes keeps its place.
    a, b = _changes(2), _changes(2, first=50)
    assert on_the_bus([*a, IncidentEvent(1), *b]) == [
        RequestsChanged(tuple(a)),
        IncidentEvent(1),
        RequestsChanged(tuple(b)),
    ]


def test_a_batch_reads_back_whole_and_fits_a_postgresql_notify() -> None:
    big = 9_999_999_999  # ids as large as the columns allow
    events = tuple(
        RequestEvent(
            request_id=big - i,
            entry_id=big - i,
            organisation_id=big,
            contractor_id=big,
            resident_id=big,
            kind="deadline_warning",
        )
        for i in range(80)
    )
    batch = RequestsChanged(events)
    raw = batch.dumps()
    assert len(raw.encode()) < 8000
    assert parse_message(raw) == batch
    assert parse_message('{"kind":"requests","rows":[[1,2]]}') is None
    assert parse_message('{"kind":"requests"}') is None
