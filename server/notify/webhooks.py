"""Webhooks: integrations subscribe a URL and get a signed POST for every change they may see.

The message is written to the outbox (channel «webhook») in the same transaction as the change,
so it exists exactly when the change does; a sender loop delivers it afterwards with retries.
Each body is signed: `X-Zayavka-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by
the webhook's secret>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import (
    ApiToken,
    Organisation,
    OutboxMessage,
    Request,
    TimelineEntry,
    Webhook,
    utcnow,
)
from server.i18n import gettext as _
from server.integrations.tokens import TokenHolder
from server.requests import workflow
from server.requests.timeline import facts_of
from server.shared.errors import InvalidInput, NotFound
from server.shared.events import RequestEvent
from server.shared.services import Services

log = logging.getLogger(__name__)

CHANNEL = "webhook"
SIGNATURE_HEADER = "X-Zayavka-Signature"
MAX_ATTEMPTS = 8
# A message being sent is not taken by another sender for this long.
LEASE = timedelta(minutes=2)
MAX_WEBHOOKS_PER_TOKEN = 10
DEFAULT_POLL = 3.0


@dataclass
class WebhookIn:
    url: str  # http(s) URL that accepts a JSON POST


@dataclass
class WebhookOut:
    id: int
    url: str
    active: bool
    created_at: datetime
    secret: str | None = None  # shown once, when the webhook is created


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_url(url: str, *, production: bool) -> str:
    url = (url or "").strip()
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or len(url) > 2000:
        raise InvalidInput(url=_("Укажите адрес http:// или https://."))
    if production and (parsed.scheme != "https" or not _public_host(parsed.hostname)):
        # The server POSTs wherever it is told: never into its own private network.
        raise InvalidInput(url=_("Укажите публичный адрес https://."))
    return url


def _public_host(host: str) -> bool:
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_global
    except ValueError:
        return True  # a name: resolved by the public DNS of the deployment


async def subscribe(svc: Services, holder: TokenHolder, data: WebhookIn) -> WebhookOut:
    url = _check_url(data.url, production=svc.settings.production)
    async with svc.db.begin() as session:
        count = len(
            list(
                await session.scalars(
                    select(Webhook.id).where(
                        Webhook.token_id == holder.token_id, Webhook.active.is_(True)
                    )
                )
            )
        )
        if count >= MAX_WEBHOOKS_PER_TOKEN:
            raise InvalidInput(url=_("Не больше 10 подписок на один ключ."))
        hook = Webhook(token_id=holder.token_id, url=url, secret=secrets.token_urlsafe(32))
        session.add(hook)
        await session.flush()
        return WebhookOut(hook.id, hook.url, hook.active, hook.created_at, hook.secret)


async def list_webhooks(svc: Services, holder: TokenHolder) -> list[WebhookOut]:
    async with svc.db.read() as session:
        hooks = await session.scalars(
            select(Webhook).where(Webhook.token_id == holder.token_id).order_by(Webhook.id)
        )
        return [WebhookOut(h.id, h.url, h.active, h.created_at) for h in hooks]


async def unsubscribe(svc: Services, holder: TokenHolder, webhook_id: int) -> None:
    async with svc.db.begin() as session:
        hook = await session.get(Webhook, webhook_id)
        if hook is None or hook.token_id != holder.token_id:
            raise NotFound(_("Подписка не найдена."))
        await session.delete(hook)


# --------------------------------------------------------------------------------------------
# In the write transaction: one outbox message per webhook that may see the change


def _event_name(entry: TimelineEntry | None, event: RequestEvent) -> str:
    if event.kind != "request":
        return f"request.{event.kind}"
    if entry is not None and entry.kind == "file":
        return "request.filed"
    return "request.changed"


async def write_messages(session: AsyncSession, event: RequestEvent) -> None:
    """An outbox writer (Services.outbox_writers): runs inside the change's transaction."""
    rows = (
        await session.execute(
            select(Webhook, ApiToken, Organisation.kind)
            .join(ApiToken, ApiToken.id == Webhook.token_id)
            .outerjoin(Organisation, Organisation.id == ApiToken.organisation_id)
            .where(Webhook.active.is_(True), ApiToken.active.is_(True), ApiToken.kind == "api")
        )
    ).all()
    if not rows:
        return
    request = await session.get(Request, event.request_id)
    if request is None:
        return
    entry = await session.get(TimelineEntry, event.entry_id) if event.entry_id else None
    facts = facts_of(request, None)
    payload: dict[str, Any] = {
        "event": _event_name(entry, event),
        "request_id": request.id,
        "number": request.number,
        "state": request.state,
        "version": request.version,
        "entry_id": event.entry_id,
        "entry_kind": entry.kind if entry is not None else None,
        "occurred_at": (entry.at if entry is not None else utcnow()).isoformat(),
    }
    for hook, token, org_kind in rows:
        holder = TokenHolder(token.id, token.name, token.kind, token.organisation_id, org_kind)
        if workflow.may_view(holder.actor, facts):
            session.add(
                OutboxMessage(channel=CHANNEL, target_id=hook.id, payload=payload, topic=None)
            )


# --------------------------------------------------------------------------------------------
# After commit: the sender


def poll_interval(svc: Services) -> float:
    raw = svc.settings.extra.get("webhook_poll_seconds") or os.environ.get(
        "WEBHOOK_POLL_SECONDS", ""
    )
    try:
        return float(raw) if raw != "" else DEFAULT_POLL
    except ValueError:
        return DEFAULT_POLL


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(15 * 2 ** (attempts - 1), 3600))


async def _claim(svc: Services, now: datetime, limit: int) -> list[tuple[int, int]]:
    """Take due messages with a lease, so a second sender (process) skips them."""
    async with svc.db.read() as session:
        due = list(
            await session.execute(
                select(OutboxMessage.id, OutboxMessage.target_id)
                .where(
                    OutboxMessage.channel == CHANNEL,
                    OutboxMessage.status.in_(["pending", "sending"]),
                    OutboxMessage.next_attempt_at <= now,
                )
                .order_by(OutboxMessage.id)
                .limit(limit)
            )
        )
    claimed: list[tuple[int, int]] = []
    for message_id, target_id in due:
        async with svc.db.begin() as session:
            taken = await session.execute(
                update(OutboxMessage)
                .where(
                    OutboxMessage.id == message_id,
                    OutboxMessage.status.in_(["pending", "sending"]),
                    OutboxMessage.next_attempt_at <= now,
                )
                .values(status="sending", next_attempt_at=now + LEASE)
            )
            if taken.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append((message_id, target_id))
    return claimed


async def deliver_pending(
    svc: Services, *, client: httpx.AsyncClient | None = None, limit: int = 100
) -> int:
    """Send what is due; returns how many were delivered."""
    now = utcnow()
    claimed = await _claim(svc, now, limit)
    if not claimed:
        return 0
    delivered = 0
    own_client = client is None
    client = client or httpx.AsyncClient(timeout=10.0, follow_redirects=False)
    try:
        for message_id, target_id in claimed:
            if await _send_one(svc, client, message_id, target_id):
                delivered += 1
    finally:
        if own_client:
            await client.aclose()
    return delivered


async def _send_one(
    svc: Services, client: httpx.AsyncClient, message_id: int, webhook_id: int
) -> bool:
    async with svc.db.read() as session:
        message = await session.get(OutboxMessage, message_id)
        hook = await session.get(Webhook, webhook_id)
    if message is None:
        return False
    if hook is None or not hook.active:
        await _finish(svc, message_id, "failed", _("Подписка удалена."))
        return False
    body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Zayavka-Webhooks/1",
        SIGNATURE_HEADER: sign(hook.secret, body),
        "X-Zayavka-Event": str(message.payload.get("event", "")),
        "X-Zayavka-Delivery": str(message.id),
    }
    try:
        response = await client.post(hook.url, content=body, headers=headers)
        status = response.status_code
        error = "" if 200 <= status < 300 else f"HTTP {status}"
    except httpx.HTTPError as exc:
        status, error = 0, f"{type(exc).__name__}: {exc}"[:500]
    if not error:
        await _finish(svc, message_id, "sent", "")
        return True
    if status == 410:
        # The receiver says the subscription is gone for good.
        async with svc.db.begin() as session:
            await session.execute(
                update(Webhook).where(Webhook.id == webhook_id).values(active=False)
            )
        await _finish(svc, message_id, "failed", error)
        return False
    await _retry(svc, message_id, error)
    return False


async def _finish(svc: Services, message_id: int, status: str, error: str) -> None:
    async with svc.db.begin() as session:
        message = await session.get(OutboxMessage, message_id)
        if message is not None:
            message.status = status
            message.attempts += 1
            message.last_error = error
            if status == "sent":
                message.sent_at = utcnow()


async def _retry(svc: Services, message_id: int, error: str) -> None:
    async with svc.db.begin() as session:
        message = await session.get(OutboxMessage, message_id)
        if message is None:
            return
        message.attempts += 1
        message.last_error = error
        if message.attempts >= MAX_ATTEMPTS:
            message.status = "failed"
        else:
            message.status = "pending"
            message.next_attempt_at = utcnow() + backoff(message.attempts)


class Sender:
    """The delivery loop, owned by the app's lifespan."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        interval = poll_interval(self.svc)
        if interval > 0:
            self.task = asyncio.create_task(self._run(interval))

    async def _run(self, interval: float) -> None:
        async with httpx.AsyncClient(timeout=10.0, follow_redirects=False) as client:
            while not self.stop.is_set():
                try:
                    await deliver_pending(self.svc, client=client)
                except Exception:
                    log.exception("webhook delivery round failed")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stop.wait(), timeout=interval)

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
