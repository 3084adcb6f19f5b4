"""Push messages go to the outbox in the transaction that records the change.

So a message exists exactly when the change does: a rolled-back action leaves none behind,
and a committed one cannot lose its notifications if the process dies right after commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Request
from server.notify.audiences import notices_for_all, short, topic_of
from server.notify.outbox import enqueue
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


async def write_messages(session: AsyncSession, events: Sequence[RequestEvent]) -> None:
    """An outbox writer (Services.outbox_writers): one message per device to tell."""
    for event, notices in zip(events, await notices_for_all(session, events), strict=True):
        notices = [n for n in notices if n.devices]
        if not notices:
            continue
        request = await session.get(Request, event.request_id)
        assert request is not None
        for notice in notices:
            payload = encode_payload(notice.payload(request))
            for subscription_id in notice.devices:
                enqueue(
                    session,
                    CHANNEL,
                    subscription_id,
                    payload,
                    urgency=notice.urgency,
                    topic=topic_of(request.id),
                )
