"""The outbox writer: push messages are written in the transaction that records the change.

So a message exists exactly when the change does: a rolled-back action leaves none behind,
and a committed one cannot lose its notifications if the process dies right after commit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import OutboxMessage, PushSubscription, Request, utcnow
from server.notify.audiences import notices_for, short, topic_of
from server.shared.events import RequestEvent

CHANNEL = "push"
# The encrypted record adds 86 bytes of header, 16 of tag and 1 of padding to the JSON; push
# services refuse more than 4096 bytes. Leave generous room.
MAX_PAYLOAD = 3000


def encode_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Shorten the body until the JSON fits a push message."""
    while len(json.dumps(payload, ensure_ascii=False).encode()) > MAX_PAYLOAD:
        body = str(payload.get("body", ""))
        if len(body) <= 20:
            payload["title"] = short(str(payload.get("title", "")), 60)
            payload["body"] = ""
            break
        payload["body"] = short(body, len(body) // 2)
    return payload


class PushOutboxWriter:
    """An `OutboxWriter` (see services.context): one outbox row per subscription to tell."""

    def __init__(self, on_commit: Callable[[], None] | None = None) -> None:
        # Called after the transaction commits, to wake an in-process worker at once.
        self.on_commit = on_commit

    async def __call__(self, session: AsyncSession, event: RequestEvent) -> None:
        notices = await notices_for(session, event)
        if not notices:
            return
        subscriptions = list(
            await session.scalars(
                select(PushSubscription)
                .where(PushSubscription.user_id.in_({n.user_id for n in notices}))
                .order_by(PushSubscription.id)
            )
        )
        if not subscriptions:
            return
        request = await session.get(Request, event.request_id)
        assert request is not None
        now = utcnow()
        by_user: dict[int, list[PushSubscription]] = {}
        for subscription in subscriptions:
            by_user.setdefault(subscription.user_id, []).append(subscription)
        for notice in notices:
            payload = encode_payload(notice.payload(request))
            for subscription in by_user.get(notice.user_id, []):
                session.add(
                    OutboxMessage(
                        channel=CHANNEL,
                        target_id=subscription.id,
                        payload=payload,
                        urgency=notice.urgency,
                        topic=topic_of(request.id),
                        status="pending",
                        next_attempt_at=now,
                        created_at=now,
                    )
                )
        await session.flush()
        if self.on_commit is not None:
            callback = self.on_commit
            sa_event.listen(
                session.sync_session, "after_commit", lambda _session: callback(), once=True
            )
