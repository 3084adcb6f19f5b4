"""The changes of many requests in one transaction cross a real bus between processes as a few
batch messages, whole and in order (PostgreSQL LISTEN/NOTIFY and Redis pub/sub)."""

from __future__ import annotations

import asyncio

from server.live.bus import BusMessage, EventBus
from server.shared.events import IncidentEvent, RequestEvent, RequestsChanged, on_the_bus
from tests.conftest import run_async


async def _carried(url: str, events: list[RequestEvent | IncidentEvent]) -> list[BusMessage]:
    sender, receiver = EventBus(url), EventBus(url)
    await receiver.start()
    await sender.start()
    try:
        async with receiver.subscribe() as messages:
            sent = on_the_bus(events)
            for message in sent:
                await sender.publish(message)
            return [await asyncio.wait_for(messages.get(), 10) for _ in sent]  # type: ignore[misc]
    finally:
        await sender.stop()
        await receiver.stop()


def test_an_incidents_thousand_requests_arrive_in_batches_on_another_process(
    bus_url: str,
) -> None:
    changed = [
        RequestEvent(request_id=i, entry_id=5_000 + i, organisation_id=3, resident_id=100 + i)
        for i in range(1, 1001)
    ]
    received = run_async(_carried, bus_url, [*changed, IncidentEvent(7)])
    assert len(received) == 14  # 13 batches of at most 80, then the incident
    assert all(isinstance(m, RequestsChanged) for m in received[:13])
    assert [e for m in received[:13] for e in m.events] == changed  # type: ignore[union-attr]
    assert received[13] == IncidentEvent(7)
