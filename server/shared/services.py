"""The things every use case needs, built once per process by `create_app`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.session import Database
from server.live.bus import EventBus
from server.settings import Settings
from server.shared.events import AccountEvent, IncidentEvent, RequestEvent, on_the_bus

# Called inside the transaction that records events, e.g. to write push messages to the
# outbox, so that they exist exactly when the change does. Given every event of the
# transaction at once, so that a change of many requests reads once for all of them.
OutboxWriter = Callable[[AsyncSession, Sequence[RequestEvent]], Awaitable[None]]

# Set in `session.info` by whoever adds an outbox row, so that only a commit that wrote one
# wakes the delivery worker.
OUTBOX_WRITTEN = "outbox_written"


@dataclass
class Services:
    settings: Settings
    db: Database
    bus: EventBus
    outbox_writers: list[OutboxWriter] = field(default_factory=list)
    # Wakes an in-process delivery worker right after a commit that wrote outbox rows.
    outbox_committed: Callable[[], None] | None = None

    async def record(self, session: AsyncSession, event: RequestEvent) -> None:
        """Write what must travel with the event, in the same transaction."""
        await self.record_all(session, [event])

    async def record_all(self, session: AsyncSession, events: Sequence[RequestEvent]) -> None:
        """Write what must travel with these events, in the same transaction.

        The change is flushed first; the writers' rows then go to the database together at
        commit (one INSERT for every message), not each before the next writer's read."""
        await session.flush()
        with session.no_autoflush:
            for writer in self.outbox_writers:
                await writer(session, events)
        self.wake_after_commit(session)

    def wake_after_commit(self, session: AsyncSession) -> None:
        """If this transaction wrote outbox rows, wake the delivery worker once it commits."""
        wake = self.outbox_committed
        if wake is not None and session.info.pop(OUTBOX_WRITTEN, False):
            sa_event.listen(session.sync_session, "after_commit", lambda _s: wake(), once=True)

    async def account_changed(self, user_id: int) -> None:
        """After commit: the person's open live pages are closed and must be admitted again."""
        await self.bus.publish(AccountEvent(user_id))

    async def announce(self, events: Sequence[RequestEvent | IncidentEvent]) -> None:
        """After commit: tell open pages. Failures are logged by the bus, never raised."""
        for message in on_the_bus(events):
            await self.bus.publish(message)
