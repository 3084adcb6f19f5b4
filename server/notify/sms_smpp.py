"""SMPP 3.4, the protocol every operator and aggregator speaks, through smpplib.

One thread owns the SMPP session (smpplib is blocking): it binds as a transceiver, sends the
queued messages as `submit_sm` in UCS-2 (`data_coding` 8; a long text is split into parts of
67 characters with a concatenation header), reads the answers, answers `enquire_link`, and
hands delivery receipts and incoming SMS (`deliver_sm`) back to the event loop. A refused
bind or a lost connection fails the waiting messages as passing trouble (the outbox retries)
and the next message connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import re
import select
import threading
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlparse

import smpplib.client
import smpplib.consts as c
import smpplib.exceptions
import smpplib.gsm

from server.notify.delivery import Outcome, Result
from server.notify.sms_http import Sent

log = logging.getLogger(__name__)

ANSWER_TIMEOUT = 30.0
ENQUIRE_EVERY = 30.0
# Refusals that pass: the centre is busy, its queue is full, or it had an error of its own.
PASSING = {c.SMPP_ESME_RTHROTTLED, c.SMPP_ESME_RMSGQFUL, c.SMPP_ESME_RSYSERR}
_RECEIPT = re.compile(r"id:(\S+).*?stat:(\w+)", re.IGNORECASE | re.DOTALL)
DELIVERY_RECEIPT = 0x04  # esm_class message type of an SMSC delivery receipt (SMPP 3.4 5.2.12)
DELIVERED = {"DELIVRD"}
# Every recipient is a phone number in international form (+7…); the sender is a name (or left
# to the SMSC), so its numbering plan is unknown.
ADDRESSING = {
    "source_addr_npi": c.SMPP_NPI_UNK,
    "dest_addr_ton": c.SMPP_TON_INTL,
    "dest_addr_npi": c.SMPP_NPI_ISDN,
}
UNDELIVERED = {"UNDELIV", "EXPIRED", "REJECTD", "DELETED"}

Report = Callable[[str, bool, str], Awaitable[Any]]
Inbox = Callable[[str, str], Awaitable[Any]]


@dataclass
class _Job:
    phone: str
    text: str
    done: Future[Sent] = field(default_factory=Future)
    waiting: set[int] = field(default_factory=set)  # sequence numbers of unanswered parts
    first_id: str | None = None


class SmppAdapter:
    name = "smpp"

    def __init__(
        self, host: str, port: int, system_id: str, password: str, sender: str = ""
    ) -> None:
        self.host, self.port = host, port
        self.system_id, self.password, self.sender = system_id, password, sender
        self.on_report: Report | None = None
        self.on_incoming: Inbox | None = None
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: smpplib.client.Client | None = None
        self._by_sequence: dict[int, _Job] = {}

    @classmethod
    def from_url(cls, url: str, sender: str = "") -> SmppAdapter | None:
        parsed = urlparse(url)
        if not parsed.hostname or not parsed.username:
            return None
        return cls(
            parsed.hostname,
            parsed.port or 2775,
            unquote(parsed.username),
            unquote(parsed.password or ""),
            sender,
        )

    async def __aenter__(self) -> SmppAdapter:
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="smpp", daemon=True)
        self._thread.start()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join, 10)
            self._thread = None

    async def send(self, phone: str, text: str, ref: int) -> Sent:
        if self._thread is None:
            return Sent(Result(Outcome.RETRY, error="SMPP session not running"))
        job = _Job(phone.lstrip("+"), text)
        self._jobs.put(job)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(job.done), ANSWER_TIMEOUT)
        except TimeoutError:
            return Sent(Result(Outcome.RETRY, error="SMPP: no answer to submit_sm"))

    # ---------------------------------------------------------------------------------------
    # The session's own thread

    def _run(self) -> None:
        last_heard = time.monotonic()
        while not self._stop.is_set():
            job: _Job | None = None
            try:
                if self._client is None:
                    if (job := self._next_job(0.2)) is None:
                        continue
                    self._connect()
                    self._submit(job)
                while (job := self._next_job(0)) is not None:
                    self._submit(job)
                if self._readable(0.05):
                    self._client.read_once(auto_send_enquire_link=False)  # type: ignore[union-attr]
                    last_heard = time.monotonic()
                elif time.monotonic() - last_heard > ENQUIRE_EVERY:
                    self._client.send_pdu(  # type: ignore[union-attr]
                        smpplib.smpp.make_pdu("enquire_link", client=self._client)
                    )
                    last_heard = time.monotonic()
            except (
                smpplib.exceptions.ConnectionError,
                smpplib.exceptions.PDUError,
                OSError,
            ) as exc:
                error = f"SMPP: {type(exc).__name__}: {exc}"
                if job is not None and not job.done.done():
                    job.done.set_result(Sent(Result(Outcome.RETRY, error=error[:500])))
                self._drop(error)
        self._close()

    def _next_job(self, wait: float) -> _Job | None:
        try:
            return self._jobs.get(timeout=wait) if wait else self._jobs.get_nowait()
        except queue.Empty:
            return None

    def _readable(self, wait: float) -> bool:
        sock = self._client._socket if self._client is not None else None
        return bool(sock is not None and select.select([sock], [], [], wait)[0])

    def _connect(self) -> None:
        client = smpplib.client.Client(self.host, self.port, allow_unknown_opt_params=True)
        client.set_message_sent_handler(self._answered)
        client.set_message_received_handler(self._received)
        client.set_error_pdu_handler(self._refused)
        self._client = client
        client.connect()
        client.bind_transceiver(system_id=self.system_id, password=self.password)

    def _submit(self, job: _Job) -> None:
        assert self._client is not None
        parts, coding, esm_class = smpplib.gsm.make_parts(
            job.text, encoding=c.SMPP_ENCODING_ISO10646
        )
        for part in parts:
            pdu = self._client.send_message(
                source_addr_ton=c.SMPP_TON_ALNUM if self.sender else c.SMPP_TON_UNK,
                source_addr=self.sender,
                destination_addr=job.phone,
                **ADDRESSING,
                short_message=part,
                data_coding=coding,
                esm_class=esm_class,
                registered_delivery=True,
            )
            job.waiting.add(pdu.sequence)
            self._by_sequence[pdu.sequence] = job

    def _answered(self, pdu: Any) -> None:
        job = self._by_sequence.pop(pdu.sequence, None)
        if job is None or job.done.done():
            return
        job.waiting.discard(pdu.sequence)
        message_id = (
            pdu.message_id.decode() if isinstance(pdu.message_id, bytes) else pdu.message_id
        )
        job.first_id = job.first_id or str(message_id)
        if not job.waiting:
            job.done.set_result(Sent(Result(Outcome.SENT), job.first_id))

    def _refused(self, pdu: Any) -> None:
        job = self._by_sequence.pop(pdu.sequence, None)
        if job is None:
            if pdu.command in ("bind_transceiver_resp", "generic_nack"):
                raise smpplib.exceptions.PDUError(f"{pdu.command} 0x{pdu.status:x}")
            return
        outcome = Outcome.RETRY if pdu.status in PASSING else Outcome.FAILED
        error = f"SMPP 0x{pdu.status:x}: {pdu.get_status_desc()}"
        if not job.done.done():
            job.done.set_result(Sent(Result(outcome, error=error)))

    def _received(self, pdu: Any) -> int:
        text = _decode(pdu.short_message or b"", pdu.data_coding)
        if pdu.esm_class & DELIVERY_RECEIPT:
            receipted = getattr(pdu, "receipted_message_id", None)
            match = _RECEIPT.search(text)
            state = match.group(2).upper() if match else ""
            message_id = receipted.decode() if isinstance(receipted, bytes) else receipted
            message_id = message_id or (match.group(1) if match else None)
            if message_id and state in DELIVERED | UNDELIVERED and self.on_report:
                self._hand_over(self.on_report(message_id, state in DELIVERED, state))
        elif self.on_incoming is not None:
            source = pdu.source_addr.decode() if isinstance(pdu.source_addr, bytes) else ""
            self._hand_over(self.on_incoming(source, text))
        return c.SMPP_ESME_ROK

    def _hand_over(self, work: Awaitable[Any]) -> None:
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(work, self._loop)  # type: ignore[arg-type]

    def _drop(self, error: str) -> None:
        log.warning("%s", error)
        for job in {*self._by_sequence.values()}:
            if not job.done.done():
                job.done.set_result(Sent(Result(Outcome.RETRY, error=error[:500])))
        self._by_sequence.clear()
        with contextlib.suppress(Exception):
            if self._client is not None:
                self._client.disconnect()
        self._client = None

    def _close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.unbind()
        self._drop("SMPP session closed")
        while (job := self._next_job(0)) is not None:
            job.done.set_result(Sent(Result(Outcome.RETRY, error="SMPP session closed")))


def _decode(data: bytes, coding: int) -> str:
    if coding == c.SMPP_ENCODING_ISO10646:
        return data.decode("utf-16-be", errors="replace")
    return data.decode("latin-1")
