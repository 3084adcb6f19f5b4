"""The providers' callbacks: delivery reports and incoming SMS.

Each provider posts to `/webhooks/sms/<provider>/<SMS_WEBHOOK_TOKEN>`: the secret part of the
address is the credential (neither SMS.ru nor SMSC.ru signs its callbacks with a key of ours),
compared in constant time. A wrong token is refused with 403, a provider other than the one
in `SMS_URL` with 404; both answer the documented JSON error.

- SMS.ru posts `data[0]`, `data[1]` …, each a few lines: `sms_status`, the `sms_id`, the status
  code (103 delivered; 104–108 not delivered), the time. It wants `100` back.
- SMSC.ru posts `id`, `phone`, `status` (1 delivered, 3 and 20–25 not) for a report, and
  `phone`, `mes`, `to` for an incoming SMS. It wants `OK` back.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import NotFoundException
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy import select, update

from server.db.models import Request as RequestRow
from server.db.models import SmsMessage, User
from server.i18n import gettext as _
from server.notify import sms_replies
from server.notify.sms_outbox import provider_of
from server.requests.visibility import visible_to
from server.shared.guards import current_actor, current_user, roles
from server.shared.rendering import flash, redirect, render
from server.shared.roles import Role
from server.shared.services import Services

# A provider's status code → delivered (True) or not (False); the others are on the way.
SMSRU_CODES = {103: True, **dict.fromkeys((104, 105, 106, 107, 108), False)}
SMSC_CODES = {1: True, 2: True, **dict.fromkeys((3, 20, 22, 23, 24, 25), False)}


def _refusal(svc: Services, provider: str, token: str) -> Response[Any] | None:
    expected = svc.settings.sms_webhook_token
    if (
        provider not in CALLBACKS
        or not svc.settings.sms_on
        or provider_of(svc.settings) != provider
    ):
        return Response({"error": "not_found"}, status_code=404)
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        return Response({"error": "forbidden"}, status_code=403)
    return None


async def _report(
    svc: Services,
    provider: str,
    provider_id: str,
    code: int | None,
    codes: dict[int, bool],
    why: str,
) -> None:
    delivered = codes.get(code) if code is not None else None
    if delivered is not None:
        error = "" if delivered else f"{provider} {code} {why}".strip()
        await sms_replies.report(
            svc.db, provider, provider_id.strip(), delivered=delivered, error=error
        )


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None


async def _smsru(svc: Services, form: FormMultiDict) -> str:
    for key, value in form.multi_items():
        if not key.startswith("data["):
            continue
        lines = str(value).splitlines()
        if len(lines) >= 3 and lines[0].strip() == "sms_status":
            await _report(svc, "smsru", lines[1], _int(lines[2]), SMSRU_CODES, "")
    return "100"


async def _smsc(svc: Services, form: FormMultiDict) -> str:
    if form.get("mes") is not None:
        await sms_replies.receive(svc, str(form.get("phone", "")), str(form.get("mes")))
    elif form.get("id") is not None:
        code, why = _int(form.get("status")), str(form.get("err", ""))
        await _report(svc, "smsc", str(form.get("id")), code, SMSC_CODES, why)
    return "OK"


# Each provider's callback: it reads what the provider posted and says what to answer.
CALLBACKS: dict[str, Callable[[Services, FormMultiDict], Awaitable[str]]] = {
    "smsru": _smsru,
    "smsc": _smsc,
}


@post("/webhooks/sms/{provider:str}/{token:str}", status_code=200)
async def sms_callback(
    request: Request[Any, Any, Any], provider: str, token: str, services: Services
) -> Response[Any]:
    if (refused := _refusal(services, provider, token)) is not None:
        return refused
    answer = await CALLBACKS[provider](services, await request.form())
    return Response(answer, media_type="text/plain")


@post("/profile/sms", guards=[roles(Role.RESIDENT)], status_code=200)
async def sms_setting(
    request: Request[Any, Any, Any], services: Services
) -> Template | Redirect | ClientRedirect:
    """A resident's choice: SMS even with the app installed."""
    user = current_user(request)
    form = await request.form()
    on = bool(user.phone) and str(form.get("notify_sms") or "") in ("1", "on", "true")
    async with services.db.begin() as session:
        await session.execute(update(User).where(User.id == user.id).values(notify_sms=on))
    user.notify_sms = on
    if request.headers.get("hx-request") != "true":
        flash(request, _("Настройка сохранена."))
        return redirect(request, "/profile")
    return render(request, "auth/_sms.html", {"user": user, "saved": True}, block="sms_setting")


SMS_LOG_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.CITY_ADMIN)


@get("/requests/{request_id:int}/sms", guards=[roles(*SMS_LOG_ROLES)])
async def sms_log(request: Request[Any, Any, Any], services: Services, request_id: int) -> Template:
    """The request's SMS and their states, for the staff who may see the request."""
    async with services.db.read() as session:
        allowed = await session.scalar(
            select(RequestRow.id).where(
                RequestRow.id == request_id, visible_to(current_actor(request))
            )
        )
        if allowed is None:
            raise NotFoundException()
        messages = list(
            await session.scalars(
                select(SmsMessage)
                .where(SmsMessage.request_id == request_id)
                .order_by(SmsMessage.id)
            )
        )
    return render(
        request,
        "notify/_sms_log.html",
        {"messages": messages},
        headers={"Cache-Control": "no-store"},
    )


ROUTES = [sms_callback, sms_setting, sms_log]
