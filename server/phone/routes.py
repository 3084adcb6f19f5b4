"""The PBX's side of the single number: webhooks about calls, and the voice menu's phrases.

Webhooks are signed by the PBX (each adapter checks its own scheme with keys from the
environment) and answer JSON: 403 for a missing or wrong signature, 400 for an event we cannot
read, 200 otherwise — also for a replay, which changes nothing. The phrase endpoint takes an
ApiToken of kind «pbx»."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.params import Parameter

from server.i18n import gettext as _
from server.integrations.tokens import authenticate
from server.phone.calls import take_signal
from server.phone.pbx import generic, mango, zadarma
from server.phone.phrases import status_by_number, status_by_phone
from server.phone.signals import BadEvent, BadSignature, Signal
from server.settings import Settings
from server.shared.error_pages import api_error
from server.shared.services import Services

WEBHOOK_BODY_LIMIT = 64 * 1024


async def _take(svc: Services, read: Any) -> Response[Any]:
    """Check and apply one webhook; `read()` is the adapter's parse of it."""
    try:
        signal: Signal | None = read()
    except BadSignature:
        return api_error(403, "bad_signature", _("Подпись запроса неверна или отсутствует."))
    except BadEvent as exc:
        return api_error(400, "bad_event", _("Событие не разобрано."), {str(exc): "invalid"})
    if signal is None:
        return Response({"ok": True, "taken": False})
    taken = await take_signal(svc, signal)
    return Response({"ok": True, "taken": taken})


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@post("/pbx/mango/events/{event:str}", request_max_body_size=WEBHOOK_BODY_LIMIT, status_code=200)
async def mango_event(
    request: Request[Any, Any, Any], services: Services, settings: Settings, event: str
) -> Response[Any]:
    form = await _form(request)
    return await _take(services, lambda: mango.parse(event, form, settings))


@get("/pbx/zadarma")
async def zadarma_echo(zd_echo: str = Parameter(default="", max_length=100)) -> Response[str]:
    """Zadarma checks the address by asking for its `zd_echo` back."""
    return Response(zd_echo, media_type="text/plain")


@post("/pbx/zadarma", request_max_body_size=WEBHOOK_BODY_LIMIT, status_code=200)
async def zadarma_event(
    request: Request[Any, Any, Any], services: Services, settings: Settings
) -> Response[Any]:
    form = await _form(request)
    signature = request.headers.get("signature")
    return await _take(services, lambda: zadarma.parse(form, signature, settings))


@post("/pbx/generic", request_max_body_size=WEBHOOK_BODY_LIMIT, status_code=200)
async def generic_event(
    request: Request[Any, Any, Any], services: Services, settings: Settings
) -> Response[Any]:
    body = await request.body()
    signature = request.headers.get(generic.HEADER)
    return await _take(services, lambda: generic.parse(body, signature, settings))


@get("/pbx/status")
async def voice_status(
    request: Request[Any, Any, Any],
    services: Services,
    phone: str = Parameter(default="", max_length=40),
    number: str = Parameter(default="", max_length=40),
) -> Response[Any]:
    """The status as one phrase for speech: by a request number typed on the keypad, else by
    the caller's phone. Authorization: Bearer <ApiToken of kind «pbx»>."""
    scheme, _sep, value = request.headers.get("authorization", "").partition(" ")
    holder = None
    if scheme.lower() == "bearer" and value.strip():
        holder = await authenticate(services.db, value.strip(), "pbx")
    if holder is None:
        return api_error(
            401,
            "unauthorized",
            _("Нужен действующий ключ голосового меню: Authorization: Bearer <ключ>."),
            headers={"WWW-Authenticate": 'Bearer realm="zayavka-pbx"'},
        )
    if number.strip():
        answer = await status_by_number(services, number)
    elif phone.strip():
        answer = await status_by_phone(services, phone)
    else:
        return api_error(
            422, "invalid", _("Укажите номер заявки или телефон."), {"number": "required"}
        )
    return Response({"phrase": answer.phrase, "found": answer.found})


ROUTES = [mango_event, zadarma_echo, zadarma_event, generic_event, voice_status]
