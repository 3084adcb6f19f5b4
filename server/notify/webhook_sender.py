"""The webhook channel: a signed JSON POST to the subscriber's URL, and what the answer means.

Each body is signed: `X-Zayavka-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed by
the webhook's secret>`. A 2xx is delivered; 410 says the subscription is gone for good (it is
switched off); anything else, or no answer, is tried again later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from types import TracebackType

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import Webhook
from server.db.session import Database
from server.i18n import gettext as _
from server.notify.delivery import Message, Outcome, Result, RetryPolicy, parse_retry_after

CHANNEL = "webhook"
SIGNATURE_HEADER = "X-Zayavka-Signature"
TIMEOUT = 10.0
# 15 s, 30 s, 1 min … up to an hour: an integrator's server is usually back within the hour.
RETRY = RetryPolicy(attempts=8, base=15.0, ceiling=3600.0)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)


class WebhookDeliverer:
    """The outbox's «webhook» channel. Holds one HTTP client while the worker runs."""

    channel = CHANNEL

    def __init__(
        self, db: Database, client: httpx.AsyncClient | None = None, retry: RetryPolicy = RETRY
    ) -> None:
        self.db = db
        self.retry = retry
        self._client = client
        self._own_client = False

    async def __aenter__(self) -> WebhookDeliverer:
        if self._client is None:
            self._client, self._own_client = new_client(), True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._own_client and self._client is not None:
            await self._client.aclose()
            self._client, self._own_client = None, False

    async def deliver(self, message: Message) -> Result:
        async with self.db.read() as session:
            hook = await session.get(Webhook, message.target_id)
        if hook is None or not hook.active:
            return Result(Outcome.GONE, error=_("Подписка удалена."))
        body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Zayavka-Webhooks/1",
            SIGNATURE_HEADER: sign(hook.secret, body),
            "X-Zayavka-Event": str(message.payload.get("event", "")),
            "X-Zayavka-Delivery": str(message.id),
        }
        try:
            if self._client is not None:
                response = await self._client.post(hook.url, content=body, headers=headers)
            else:
                async with new_client() as client:
                    response = await client.post(hook.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return Result(Outcome.RETRY, error=f"{type(exc).__name__}: {exc}"[:500])
        status = response.status_code
        if 200 <= status < 300:
            return Result(Outcome.SENT, status)
        if status == 410:
            return Result(Outcome.GONE, status, error=f"HTTP {status}")
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        return Result(Outcome.RETRY, status, retry_after, f"HTTP {status}")

    async def settle(self, session: AsyncSession, message: Message, result: Result) -> None:
        if result.outcome is Outcome.GONE:
            await session.execute(
                update(Webhook).where(Webhook.id == message.target_id).values(active=False)
            )
