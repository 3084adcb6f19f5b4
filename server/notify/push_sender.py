"""The push channel: the pywebpush adapter (one encrypted, VAPID-signed message, and what
the answer means) and the outbox deliverer around it."""

from __future__ import annotations

import asyncio
import json
import threading
from dataclasses import dataclass
from typing import Any

import requests
from pywebpush import WebPushException, webpush
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import PushSubscription, utcnow
from server.db.session import Database
from server.notify.delivery import Message, Outcome, Result, RetryPolicy, parse_retry_after
from server.notify.push_keys import VapidKeys, load_keys
from server.notify.push_outbox import CHANNEL
from server.settings import Settings

TTL = 24 * 60 * 60  # a phone that is off for a night still gets the news in the morning
TIMEOUT = 10.0


@dataclass(frozen=True)
class Target:
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def classify(status: int | None, retry_after: str | None = None, error: str = "") -> Result:
    """404/410: the browser dropped the subscription; 429, 5xx and network trouble pass; any
    other refusal (400, 403, 413) would be refused again."""
    if status is not None and status < 300:
        return Result(Outcome.SENT, status)
    if status in (404, 410):
        return Result(Outcome.GONE, status, error=error)
    if status is None or status == 429 or status >= 500:
        return Result(Outcome.RETRY, status, parse_retry_after(retry_after), error)
    return Result(Outcome.FAILED, status, error=error)


class PushSender:
    """Sends with `pywebpush.webpush` on a worker thread (it is blocking, using requests)."""

    def __init__(
        self, keys: VapidKeys, subject: str, *, ttl: int = TTL, timeout: float = TIMEOUT
    ) -> None:
        self.keys = keys
        self.subject = subject
        self.ttl = ttl
        self.timeout = timeout
        self._signer = keys.signer()
        self._local = threading.local()

    def _session(self) -> requests.Session:
        # One session per thread: connections to the push service are reused, and
        # requests.Session is not promised to be thread-safe.
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    async def send(
        self, target: Target, data: bytes, *, urgency: str = "normal", topic: str | None = None
    ) -> Result:
        return await asyncio.to_thread(self._send, target, data, urgency, topic)

    def _send(self, target: Target, data: bytes, urgency: str, topic: str | None) -> Result:
        headers = {"Urgency": urgency}
        if topic:
            headers["Topic"] = topic
        try:
            response = webpush(
                subscription_info=target.info(),
                data=data,
                vapid_private_key=self._signer,
                # pywebpush writes aud and exp into this dict: a fresh one for every message.
                vapid_claims={"sub": self.subject},
                content_encoding="aes128gcm",
                ttl=self.ttl,
                timeout=self.timeout,
                headers=headers,
                requests_session=self._session(),
            )
        except WebPushException as exc:
            return classify(exc.status_code, exc.retry_after, _describe(exc))
        except requests.RequestException as exc:
            return classify(None, None, f"{type(exc).__name__}: {exc}"[:500])
        except (ValueError, TypeError) as exc:
            # A malformed subscription (bad keys): it can never be delivered.
            return Result(Outcome.GONE, None, error=f"{type(exc).__name__}: {exc}"[:500])
        return classify(getattr(response, "status_code", 201))


def _describe(exc: WebPushException) -> str:
    response = exc.response
    text = ""
    if response is not None:
        try:
            text = str(response.text)[:300]
        except Exception:  # a body we cannot read says nothing more
            text = ""
    return f"{exc.status_code}: {text}".strip()


class PushDeliverer:
    """The outbox's «push» channel: one message to one browser subscription."""

    channel = CHANNEL

    def __init__(self, db: Database, sender: PushSender, retry: RetryPolicy | None = None) -> None:
        self.db = db
        self.sender = sender
        self.retry = retry or RetryPolicy()

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> PushDeliverer | None:
        """None when push is not configured: its messages then wait in the outbox."""
        keys = load_keys(settings)
        return cls(db, PushSender(keys, settings.vapid_subject)) if keys is not None else None

    async def deliver(self, message: Message) -> Result:
        async with self.db.read() as session:
            subscription = await session.get(PushSubscription, message.target_id)
        if subscription is None:
            return Result(Outcome.GONE, error="subscription removed")
        target = Target(subscription.endpoint, subscription.p256dh, subscription.auth)
        data = json.dumps(message.payload, ensure_ascii=False).encode()
        return await self.sender.send(target, data, urgency=message.urgency, topic=message.topic)

    async def settle(self, session: AsyncSession, message: Message, result: Result) -> None:
        if result.outcome not in (Outcome.SENT, Outcome.GONE):
            return
        subscription = await session.get(PushSubscription, message.target_id)
        if subscription is None:
            return
        if result.outcome is Outcome.GONE:
            # Its other messages are then dropped unsent.
            await session.delete(subscription)
        else:
            subscription.last_success_at = utcnow()
