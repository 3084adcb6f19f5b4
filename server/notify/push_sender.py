"""The pywebpush adapter: one encrypted, VAPID-signed message, and what the answer means."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any

import requests
from pywebpush import WebPushException, webpush

from server.notify.push_keys import VapidKeys

TTL = 24 * 60 * 60  # a phone that is off for a night still gets the news in the morning
TIMEOUT = 10.0


class Outcome(StrEnum):
    SENT = "sent"
    RETRY = "retry"  # 429, 5xx, network trouble: try again later
    GONE = "gone"  # 404/410: the browser dropped the subscription; forget it
    FAILED = "failed"  # anything else: retrying would not help


@dataclass(frozen=True)
class Delivery:
    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None  # seconds, from the push service's Retry-After
    error: str = ""


@dataclass(frozen=True)
class Target:
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait: Retry-After is either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def classify(status: int | None, retry_after: str | None = None, error: str = "") -> Delivery:
    if status is not None and status < 300:
        return Delivery(Outcome.SENT, status)
    if status in (404, 410):
        return Delivery(Outcome.GONE, status, error=error)
    if status is None or status == 429 or status >= 500:
        return Delivery(Outcome.RETRY, status, parse_retry_after(retry_after), error)
    return Delivery(Outcome.FAILED, status, error=error)


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
    ) -> Delivery:
        return await asyncio.to_thread(self._send, target, data, urgency, topic)

    def _send(self, target: Target, data: bytes, urgency: str, topic: str | None) -> Delivery:
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
            return Delivery(Outcome.GONE, None, error=f"{type(exc).__name__}: {exc}"[:500])
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
