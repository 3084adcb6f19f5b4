"""Mango Office VPBX API events (docs/phone.md, «Mango Office»).

The PBX POSTs a form with `vpbx_api_key`, `sign` and `json` to `<our url>/events/<name>`;
`sign` is the hex SHA-256 of key + json + salt. Only `call` (every change of a leg:
Appeared, Connected, Disconnected) and `summary` (once, when the call is over) matter here; the
other events are accepted and ignored. Events of one call carry its `entry_id`; `seq` numbers
the `call` events, so entry, call and seq name one event."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from server.phone.signals import (
    BadEvent,
    BadSignature,
    Phase,
    Signal,
    from_timestamp,
    json_object,
    same,
)
from server.settings import Settings

PROVIDER = "mango"
CALL_STATES = {"Appeared": Phase.RINGING, "Connected": Phase.ANSWERED, "Disconnected": Phase.ENDED}


def sign(api_key: str, body: str, salt: str) -> str:
    return hashlib.sha256((api_key + body + salt).encode()).hexdigest()


def verify(form: Mapping[str, str], settings: Settings) -> dict[str, Any]:
    key, body = form.get("vpbx_api_key", ""), form.get("json", "")
    if not same(settings.mango_api_key, key) or not settings.mango_api_salt:
        raise BadSignature()
    if not same(sign(key, body, settings.mango_api_salt), form.get("sign")):
        raise BadSignature()
    data = json_object(body)
    return data


def parse(event: str, form: Mapping[str, str], settings: Settings) -> Signal | None:
    data = verify(form, settings)
    if event not in ("call", "summary"):
        return None
    entry = str(data.get("entry_id") or "")
    origin, target = data.get("from") or {}, data.get("to") or {}
    if not entry or not isinstance(origin, dict) or not isinstance(target, dict):
        raise BadEvent("entry_id")
    caller = str(origin.get("number") or "")
    if event == "summary":
        ended = from_timestamp(data.get("end_time"))
        talk = data.get("talk_time")
        duration = int(ended.timestamp()) - int(str(talk)) if talk not in (None, "", 0, "0") else 0
        return Signal(PROVIDER, f"{entry}:summary", entry, Phase.ENDED, ended, caller, "", duration)
    phase = CALL_STATES.get(str(data.get("call_state")))
    if phase is None:
        return None  # OnHold and the like change nothing on the operator's screen
    operator = str(target.get("extension") or "") if phase is Phase.ANSWERED else ""
    key = f"{entry}:{data.get('call_id', '')}:{data.get('seq', '')}"
    return Signal(
        PROVIDER, key, entry, phase, from_timestamp(data.get("timestamp")), caller, operator
    )
