"""The outbox's «sms» channel: one SMS row to the provider chosen by `SMS_URL`, its outcome
written back to the row so that the dispatcher and the administrator see how far it got.

Retries and back-off are the outbox's. At night a message that is not urgent is put back
until 08:00 (a retry written late in the evening must not wake anyone either)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from server.db.models import SmsMessage, utcnow
from server.db.session import Database
from server.notify.delivery import Message, Outcome, Result, RetryPolicy
from server.notify.sms_http import Sent, http_adapter_from_url
from server.notify.sms_outbox import CHANNEL
from server.notify.sms_texts import SmsStatus, quiet_until
from server.settings import Settings

# 1 min, 2, 4 … up to 2 hours, ten tries: a provider's outage rarely lasts a working day.
RETRY = RetryPolicy(attempts=10, base=60.0, ceiling=2 * 3600.0)
QUIET = "quiet hours"


class SmsAdapter(Protocol):
    name: str

    async def send(self, phone: str, text: str, ref: int) -> Sent: ...


def adapter_from_settings(settings: Settings) -> SmsAdapter | None:
    if not settings.sms_on:
        return None
    if settings.sms_url.startswith("smpp://"):
        from server.notify.sms_smpp import SmppAdapter

        return SmppAdapter.from_url(settings.sms_url, settings.sms_sender)
    return http_adapter_from_url(settings.sms_url, settings.sms_sender)


class SmsDeliverer:
    channel = CHANNEL

    def __init__(
        self,
        db: Database,
        adapter: SmsAdapter,
        retry: RetryPolicy = RETRY,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.adapter = adapter
        self.retry = retry
        self.clock = clock
        self._provider_ids: dict[int, str] = {}
        self._stack: contextlib.AsyncExitStack | None = None

    @classmethod
    def from_settings(cls, db: Database, settings: Settings) -> SmsDeliverer | None:
        adapter = adapter_from_settings(settings)
        return cls(db, adapter) if adapter is not None else None

    async def __aenter__(self) -> SmsDeliverer:
        self._stack = contextlib.AsyncExitStack()
        if isinstance(self.adapter, contextlib.AbstractAsyncContextManager):
            await self._stack.enter_async_context(self.adapter)
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = None

    async def deliver(self, message: Message) -> Result:
        async with self.db.read() as session:
            sms = await session.get(SmsMessage, _sms_id(message))
        if sms is None:
            # Not GONE: that would drop the person's later messages too.
            return Result(Outcome.FAILED, error="SMS removed")
        now = self.clock()
        morning = quiet_until(now) if message.urgency != "high" else None
        if morning is not None:
            return Result(Outcome.RETRY, retry_after=(morning - now).total_seconds(), error=QUIET)
        sent = await self.adapter.send(sms.phone, sms.text, sms.id)
        if sent.provider_id is not None:
            self._provider_ids[message.id] = sent.provider_id
        return sent.result

    async def settle(self, session: AsyncSession, message: Message, result: Result) -> None:
        provider_id = self._provider_ids.pop(message.id, None)
        sms = await session.get(SmsMessage, _sms_id(message))
        if sms is None or sms.status != SmsStatus.QUEUED:
            return
        sms.error = result.error[:1000]
        if result.outcome is Outcome.SENT:
            sms.status, sms.provider_id, sms.sent_at = SmsStatus.SENT, provider_id, self.clock()
        elif result.outcome is not Outcome.RETRY or self.retry.gives_up(message.attempts):
            sms.status = SmsStatus.FAILED


def _sms_id(message: Message) -> int:
    value = message.payload.get("sms_id")
    return value if isinstance(value, int) else 0
