"""Zadarma's call notifications (docs/phone.md, «Zadarma»).

The PBX POSTs a form whose `event` is NOTIFY_START, NOTIFY_INTERNAL, NOTIFY_ANSWER or
NOTIFY_END (the others are accepted and ignored) and signs it in the `Signature` header:
base64 of HMAC-SHA1 with the API secret over the event's own fields — caller_id + called_did +
call_start, or caller_id + destination + call_start for NOTIFY_ANSWER. Before it sends
anything it checks the address with a GET carrying `zd_echo`, which must be echoed back."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime

from server.phone.signals import BadEvent, BadSignature, Phase, Signal, same
from server.requests.deadlines import TOWN_TZ
from server.settings import Settings

PROVIDER = "zadarma"
PHASES = {
    "NOTIFY_START": Phase.RINGING,
    "NOTIFY_INTERNAL": Phase.RINGING,
    "NOTIFY_ANSWER": Phase.ANSWERED,
    "NOTIFY_END": Phase.ENDED,
}
SIGNED_FIELDS = {
    "NOTIFY_ANSWER": ("caller_id", "destination", "call_start"),
}
DEFAULT_FIELDS = ("caller_id", "called_did", "call_start")


def sign(form: Mapping[str, str], secret: str) -> str:
    fields = SIGNED_FIELDS.get(form.get("event", ""), DEFAULT_FIELDS)
    text = "".join(form.get(name, "") for name in fields)
    digest = hmac.new(secret.encode(), text.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _start(value: str) -> datetime:
    # «2026-12-03 10:15:00», the PBX's local time (set to Moscow time in its settings).
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=TOWN_TZ)
    except ValueError as exc:
        raise BadEvent("call_start") from exc


def parse(form: Mapping[str, str], signature: str | None, settings: Settings) -> Signal | None:
    if not settings.zadarma_secret or not same(sign(form, settings.zadarma_secret), signature):
        raise BadSignature()
    event = form.get("event", "")
    phase = PHASES.get(event)
    if phase is None:
        return None
    call = form.get("pbx_call_id", "")
    if not call:
        raise BadEvent("pbx_call_id")
    at = _start(form.get("call_start", ""))
    duration = None
    if phase is Phase.ENDED:
        raw = form.get("duration", "0")
        duration = int(raw) if raw.isdigit() else 0
        # Not answered: the call lasted, but nobody talked.
        if form.get("disposition", "answered") != "answered":
            duration = 0
    operator = form.get("internal", "") if phase is Phase.ANSWERED else ""
    # One event of each kind per call (NOTIFY_INTERNAL once per extension it rings).
    key = f"{call}:{event}:{form.get('internal', '')}"
    return Signal(PROVIDER, key, call, phase, at, form.get("caller_id", ""), operator, duration)
