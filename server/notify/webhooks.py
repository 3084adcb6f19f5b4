"""Webhooks: integrations subscribe a URL and get a signed POST for every change they may see.

The message is written to the outbox (channel «webhook») in the same transaction as the change,
so it exists exactly when the change does; the outbox worker delivers it afterwards with
retries (`server.notify.webhook_sender`).
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlparse

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import ApiToken, Organisation, Request, TimelineEntry, Webhook, utcnow
from server.i18n import gettext as _
from server.integrations.api_docs import text
from server.integrations.tokens import TokenHolder
from server.notify.delivery import Outcome
from server.notify.outbox import OutboxWorker, enqueue
from server.notify.webhook_sender import CHANNEL, WebhookDeliverer
from server.requests import workflow
from server.requests.timeline import facts_of
from server.shared.errors import InvalidInput, NotFound
from server.shared.events import RequestEvent
from server.shared.services import Services

MAX_WEBHOOKS_PER_TOKEN = 10


@dataclass
class WebhookIn:
    url: Annotated[str, text(2000)]  # http(s) URL that accepts a JSON POST


@dataclass
class WebhookOut:
    id: int
    url: str
    active: bool
    created_at: datetime
    secret: str | None = None  # shown once, when the webhook is created


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


# Every active webhook of an active API token, with what decides what it may see.
_LISTENING = (
    select(Webhook, ApiToken, Organisation.kind)
    .join(ApiToken, ApiToken.id == Webhook.token_id)
    .outerjoin(Organisation, Organisation.id == ApiToken.organisation_id)
    .where(Webhook.active.is_(True), ApiToken.active.is_(True), ApiToken.kind == "api")
)


def _event_name(entry: TimelineEntry | None, event: RequestEvent) -> str:
    if event.kind != "request":
        return f"request.{event.kind}"
    if entry is not None and entry.kind == "file":
        return "request.filed"
    return "request.changed"


async def write_messages(session: AsyncSession, events: Sequence[RequestEvent]) -> None:
    """An outbox writer (Services.outbox_writers): runs inside the change's transaction."""
    rows = (await session.execute(_LISTENING)).all()
    if not rows:
        return
    holders = [
        TokenHolder(token.id, token.name, token.kind, token.organisation_id, org_kind)
        for _hook, token, org_kind in rows
    ]
    for event in events:
        request = await session.get(Request, event.request_id)
        if request is None:
            continue
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
        for (hook, _token, _kind), holder in zip(rows, holders, strict=True):
            if workflow.may_view(holder.actor, facts):
                enqueue(session, CHANNEL, hook.id, payload)


# --------------------------------------------------------------------------------------------
# After commit


async def deliver_pending(
    svc: Services, *, client: httpx.AsyncClient | None = None, limit: int = 100
) -> int:
    """Send the webhook messages that are due now, outside the worker; returns how many were
    delivered."""
    async with WebhookDeliverer(svc.db, client) as deliverer:
        done = await OutboxWorker(svc.db, [deliverer], batch_size=limit).deliver_due()
    return sum(1 for _message, result in done if result.outcome is Outcome.SENT)
