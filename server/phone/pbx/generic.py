"""The documented JSON format for any other PBX (Asterisk and the like; docs/phone.md).

    POST /pbx/generic
    X-Zayavka-Signature: sha256=<hex HMAC-SHA256 of the raw body with PBX_SECRET>
    {"event_id": "…", "call_id": "…", "event": "ringing|answered|ended",
     "at": "2026-12-03T10:15:00+03:00", "caller": "+79170000001",
     "operator": "101", "duration": 95}

`event_id` is unique per event (a replay changes nothing); `operator` is needed for
«answered», `duration` (seconds of talk) is optional for «ended»."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from server.phone.signals import BadEvent, BadSignature, Phase, Signal, json_object, same
from server.settings import Settings

PROVIDER = "generic"
HEADER = "x-zayavka-signature"


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _text(data: dict[str, object], name: str, limit: int = 100) -> str:
    value = data.get(name)
    if value is None:
        return ""
    if not isinstance(value, str | int) or len(str(value)) > limit:
        raise BadEvent(name)
    return str(value)


def parse(body: bytes, signature: str | None, settings: Settings) -> Signal:
    if not settings.pbx_secret or not same(sign(body, settings.pbx_secret), signature):
        raise BadSignature()
    data = json_object(body)
    event_id, call_id = _text(data, "event_id", 200), _text(data, "call_id")
    if not event_id or not call_id:
        raise BadEvent("event_id" if not event_id else "call_id")
    try:
        phase = Phase(_text(data, "event"))
        at = datetime.fromisoformat(_text(data, "at"))
    except ValueError as exc:
        raise BadEvent("event") from exc
    if at.tzinfo is None:
        raise BadEvent("at")
    duration = data.get("duration")
    if duration is not None and (not isinstance(duration, int) or not 0 <= duration < 86400):
        raise BadEvent("duration")
    return Signal(
        PROVIDER,
        event_id,
        call_id,
        phase,
        at,
        _text(data, "caller", 40),
        _text(data, "operator", 80),
        duration,
    )
