"""Playing the PBX: signed webhooks of each provider, as their documentation describes them."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from typing import Any

from litestar.testing import TestClient

from server.phone.pbx import generic, mango, zadarma
from server.requests.deadlines import TOWN_TZ
from server.settings import Settings

MANGO_KEY, MANGO_SALT = "mango-vpbx-key", "mango-salt"
ZADARMA_SECRET = "zadarma-secret"
PBX_SECRET = "generic-pbx-secret"


def with_pbx(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings,
        mango_api_key=MANGO_KEY,
        mango_api_salt=MANGO_SALT,
        zadarma_secret=ZADARMA_SECRET,
        pbx_secret=PBX_SECRET,
        pbx_operators={"101": "operator"},
    )


def mango_form(data: dict[str, Any], *, salt: str = MANGO_SALT, key: str = MANGO_KEY) -> dict:
    body = json.dumps(data, ensure_ascii=False)
    return {"vpbx_api_key": key, "sign": mango.sign(key, body, salt), "json": body}


def mango_call(entry: str, seq: int, state: str, at: int, caller: str, ext: str = "") -> dict:
    to: dict[str, Any] = {"number": "78555800000", "line_number": "78555800000"}
    if ext:
        to["extension"] = ext
    return {
        "entry_id": entry,
        "call_id": f"{entry}-leg",
        "timestamp": at,
        "seq": seq,
        "call_state": state,
        "location": "abonent" if ext else "ivr",
        "from": {"number": caller},
        "to": to,
    }


def post_mango(client: TestClient[Any], event: str, form: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(f"/pbx/mango/events/{event}", data=form)


def zadarma_form(event: str, call: str, caller: str, **more: str) -> dict[str, str]:
    start = datetime.now(TOWN_TZ).strftime("%Y-%m-%d %H:%M:%S")
    form = {"event": event, "call_start": start, "pbx_call_id": call, "caller_id": caller}
    if event == "NOTIFY_ANSWER":
        form["destination"] = "78555800000"
    else:
        form["called_did"] = "78555800000"
    form.update(more)
    return form


def post_zadarma(  # type: ignore[no-untyped-def]
    client: TestClient[Any], form: dict[str, str], secret: str | None = ZADARMA_SECRET
):
    headers = {"Signature": zadarma.sign(form, secret)} if secret is not None else {}
    return client.post("/pbx/zadarma", data=form, headers=headers)


def generic_body(event_id: str, call: str, event: str, caller: str = "", **more: Any) -> bytes:
    data = {"event_id": event_id, "call_id": call, "event": event, "caller": caller}
    data["at"] = datetime.now(TOWN_TZ).isoformat()
    data.update(more)
    return json.dumps(data).encode()


def post_generic(  # type: ignore[no-untyped-def]
    client: TestClient[Any], body: bytes, secret: str | None = PBX_SECRET
):
    headers = {"content-type": "application/json"}
    if secret is not None:
        headers[generic.HEADER] = generic.sign(body, secret)
    return client.post("/pbx/generic", content=body, headers=headers)
