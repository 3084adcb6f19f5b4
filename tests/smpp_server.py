"""A small SMPP 3.4 message centre for tests, on 127.0.0.1 in the test process: it takes a
transceiver bind (checking system_id and password), `submit_sm` (checking UCS-2 coding, the
destination's numbering plan, the delivery-receipt request and the concatenation headers of
long messages, which it puts together again), answers `enquire_link` and `unbind`, and can
send `deliver_sm`: delivery receipts and a resident's incoming SMS. Written from the
specification, independently of the library the app uses."""

from __future__ import annotations

import asyncio
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

SYSTEM_ID, PASSWORD = "zainsk", "pa55"
BIND_TRX, SUBMIT, DELIVER, UNBIND, ENQUIRE = 0x09, 0x04, 0x05, 0x06, 0x15
RESP = 0x80000000
ESME_RINVPASWD, ESME_RINVBNDSTS = 0x0E, 0x04


def _cstr(data: bytes, at: int) -> tuple[str, int]:
    end = data.index(b"\0", at)
    return data[at:end].decode("ascii"), end + 1


def _pdu(command: int, status: int, sequence: int, body: bytes = b"") -> bytes:
    return struct.pack(">IIII", 16 + len(body), command, status, sequence) + body


@dataclass
class Centre:
    port: int = 0
    messages: list[tuple[str, str, int]] = field(default_factory=list)  # phone, text, parts
    problems: list[str] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # statuses for the next submit_sm
    acknowledged: list[int] = field(default_factory=list)  # deliver_sm_resp sequences
    binds: int = 0
    _next_id: int = 5000
    _parts: dict[tuple[str, int], dict[int, str]] = field(default_factory=dict)
    _writer: asyncio.StreamWriter | None = None
    _loop: asyncio.AbstractEventLoop | None = None
    _sequence: int = 0

    def answer_next(self, *statuses: int) -> None:
        self.answers.extend(statuses)

    def receipt(self, message_id: str, stat: str = "DELIVRD") -> None:
        text = (
            f"id:{message_id} sub:001 dlvrd:001 submit date:2612031100"
            f" done date:2612031101 stat:{stat} err:000 text:"
        )
        tlv = struct.pack(">HH", 0x001E, len(message_id) + 1) + message_id.encode() + b"\0"
        self._deliver("79170000077", text.encode("ascii"), 0x04, 0x00, tlv)

    def incoming(self, phone: str, text: str) -> None:
        self._deliver(phone, text.encode("utf-16-be"), 0x00, 0x08, b"")

    def _deliver(self, source: str, message: bytes, esm: int, coding: int, tlv: bytes) -> None:
        body = (
            b"\0"  # service_type
            + bytes([1, 1])
            + source.encode()
            + b"\0"
            + bytes([5, 0])
            + b"Zayavka\0"
            + bytes([esm, 0, 0])
            + b"\0\0"
            + bytes([0, 0, coding, 0, len(message)])
            + message
            + tlv
        )
        self._sequence += 1
        pdu = _pdu(DELIVER, 0, self._sequence, body)
        assert self._loop is not None and self._writer is not None, "nobody is bound"
        self._loop.call_soon_threadsafe(self._writer.write, pdu)

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        bound = False
        try:
            while True:
                header = await reader.readexactly(16)
                length, command, _status, sequence = struct.unpack(">IIII", header)
                body = await reader.readexactly(length - 16)
                if command == BIND_TRX:
                    system_id, at = _cstr(body, 0)
                    password, at = _cstr(body, at)
                    ok = (system_id, password) == (SYSTEM_ID, PASSWORD)
                    self.binds += 1
                    bound = ok
                    if ok:
                        self._writer = writer
                    code = 0 if ok else ESME_RINVPASWD
                    writer.write(_pdu(RESP | BIND_TRX, code, sequence, b"Centre\0"))
                elif command == SUBMIT:
                    writer.write(self._submit(body, sequence, bound))
                elif command == ENQUIRE:
                    writer.write(_pdu(RESP | ENQUIRE, 0, sequence))
                elif command == UNBIND:
                    writer.write(_pdu(RESP | UNBIND, 0, sequence))
                    await writer.drain()
                    break
                elif command == RESP | DELIVER:
                    self.acknowledged.append(sequence)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if self._writer is writer:
                self._writer = None
            writer.close()

    def _submit(self, body: bytes, sequence: int, bound: bool) -> bytes:
        if not bound:
            return _pdu(RESP | SUBMIT, ESME_RINVBNDSTS, sequence)
        _service, at = _cstr(body, 0)
        at += 2
        _source, at = _cstr(body, at)
        dest_ton, dest_npi = body[at], body[at + 1]
        destination, at = _cstr(body, at + 2)
        esm, at = body[at], at + 3
        _schedule, at = _cstr(body, at)
        _validity, at = _cstr(body, at)
        registered, coding, length = body[at], body[at + 2], body[at + 4]
        message = body[at + 5 : at + 5 + length]
        if (dest_ton, dest_npi) != (1, 1):
            self.problems.append(f"destination ton/npi {dest_ton}/{dest_npi}")
        if not (destination.isdigit() and len(destination) == 11):
            self.problems.append(f"destination {destination!r}")
        if coding != 0x08:
            self.problems.append(f"data_coding {coding} is not UCS-2")
        if registered & 0x01 != 1:
            self.problems.append("no delivery receipt asked for")
        if self.answers:
            status = self.answers.pop(0)
            if status:
                return _pdu(RESP | SUBMIT, status, sequence)
        if esm & 0x40:  # a part of a long message: UDH 05 00 03 ref total number
            udh = message[: message[0] + 1]
            if udh[1:3] != b"\x00\x03" or len(udh) != 6:
                self.problems.append(f"concatenation header {udh.hex()}")
            ref, total, number = udh[3], udh[4], udh[5]
            text = message[6:]
            if len(text) > 134:
                self.problems.append("a part longer than 67 characters")
            parts = self._parts.setdefault((destination, ref), {})
            parts[number] = text.decode("utf-16-be")
            if len(parts) == total:
                whole = "".join(parts[n] for n in sorted(parts))
                self.messages.append((destination, whole, total))
                del self._parts[(destination, ref)]
        else:
            if len(message) > 140:
                self.problems.append("a single message over 70 characters")
            self.messages.append((destination, message.decode("utf-16-be"), 1))
        self._next_id += 1
        return _pdu(RESP | SUBMIT, 0, sequence, f"m{self._next_id}".encode() + b"\0")


@contextmanager
def smpp_centre() -> Iterator[Centre]:
    centre = Centre()
    loop = asyncio.new_event_loop()
    centre._loop = loop
    started = threading.Event()
    holder: dict[str, asyncio.Server] = {}

    async def start() -> None:
        server = await asyncio.start_server(centre.serve, "127.0.0.1", 0)
        holder["server"] = server
        centre.port = server.sockets[0].getsockname()[1]
        started.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    started.wait(5)
    try:
        yield centre
    finally:
        loop.call_soon_threadsafe(holder["server"].close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
