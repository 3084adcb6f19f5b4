"""What every PBX adapter turns its webhook into: one signal per event, checked and parsed.

The adapters (server/phone/pbx/) only verify signatures and read fields; what a signal does to
a call is decided once, in `server.phone.calls`."""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Phase(StrEnum):
    RINGING = "ringing"  # the call reached the single number; no operator has it yet
    ANSWERED = "answered"  # an operator took it
    ENDED = "ended"  # hung up (answered or not)


@dataclass(frozen=True, slots=True)
class Signal:
    provider: str
    event_key: str  # unique per provider: a replayed event has the same key
    external_id: str  # the PBX's id of the call
    phase: Phase
    at: datetime
    caller: str = ""  # as the PBX writes it
    operator: str = ""  # extension, login or phone of whoever answered
    duration: int | None = None  # seconds of talk, when the PBX says


class BadSignature(Exception):
    """Missing or wrong signature, or a key that is not ours: refused with 403."""


class BadEvent(Exception):
    """Signed, but not an event we can read: refused with 400."""


def same(expected: str, given: str | None) -> bool:
    """Constant-time comparison; an unset key never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(expected, given or "")


def from_timestamp(value: object) -> datetime:
    try:
        return datetime.fromtimestamp(int(str(value)), UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise BadEvent("timestamp") from exc


def json_object(text: str | bytes) -> dict[str, Any]:
    """The event's JSON object, or BadEvent."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BadEvent("json") from exc
    if not isinstance(data, dict):
        raise BadEvent("json")
    return data
