"""Push notifications on the profile page: the public key, subscribe/unsubscribe, devices,
and the dispatcher's «new work» switch."""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Template

from server.db.models import User
from server.i18n import gettext as _
from server.notify import subscriptions
from server.notify.push_keys import load_keys
from server.shared.errors import InvalidInput, NotFound
from server.shared.guards import current_user, roles, signed_in
from server.shared.rendering import flash, redirect, render
from server.shared.services import Services


def _json(body: dict[str, Any], status: int = 200) -> Response[Any]:
    return Response(body, status_code=status, headers={"Cache-Control": "no-store"})


def _invalid(exc: InvalidInput) -> Response[Any]:
    message = " ".join(exc.fields.values()) or exc.message
    return _json({"error": "invalid", "message": message}, 422)


async def _json_body(request: Request[Any, Any, Any]) -> Any:
    try:
        return json.loads(await request.body() or b"null")
    except ValueError:
        return None


@get("/push/key", guards=[signed_in], sync_to_thread=False)
def public_key(request: Request[Any, Any, Any], services: Services) -> Response[Any]:
    """The VAPID public key as `applicationServerKey` wants it: base64url, uncompressed."""
    keys = load_keys(services.settings)
    if keys is None:
        return _json({"enabled": False, "publicKey": None})
    return _json({"enabled": True, "publicKey": keys.public_key})


@post("/push/subscriptions", guards=[signed_in])
async def subscribe(request: Request[Any, Any, Any], services: Services) -> Response[Any]:
    svc = services
    user = current_user(request)
    try:
        new = subscriptions.parse(
            await _json_body(request),
            request.headers.get("user-agent", ""),
            production=svc.settings.production,
        )
    except InvalidInput as exc:
        return _invalid(exc)
    saved = await subscriptions.subscribe(svc.db, user.id, new)
    return _json({"id": saved.id, "message": _("Уведомления включены на этом устройстве.")}, 201)


@post("/push/status", guards=[signed_in])
async def status(request: Request[Any, Any, Any], services: Services) -> Response[Any]:
    """Does the server know this browser's subscription (for this person)?"""
    body = await _json_body(request)
    endpoint = str(body.get("endpoint") or "") if isinstance(body, dict) else ""
    found = await subscriptions.find(services.db, current_user(request).id, endpoint)
    return _json({"known": found is not None, "id": found.id if found else None})


@post("/push/unsubscribe", guards=[signed_in])
async def unsubscribe(request: Request[Any, Any, Any], services: Services) -> Response[Any]:
    body = await _json_body(request)
    endpoint = str(body.get("endpoint") or "") if isinstance(body, dict) else ""
    removed = await subscriptions.unsubscribe(services.db, current_user(request).id, endpoint)
    return _json({"removed": removed})


async def _devices_fragment(
    request: Request[Any, Any, Any],
    services: Services,
    user: User,
    headers: dict[str, str] | None = None,
) -> Template:
    rows = await subscriptions.devices(services.db, user.id)
    return render(
        request,
        "auth/_push_devices.html",
        {"user": user, "devices": subscriptions.as_devices(rows)},
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


@get("/push/devices", guards=[signed_in])
async def devices(request: Request[Any, Any, Any], services: Services) -> Template:
    return await _devices_fragment(request, services, current_user(request))


@post("/push/devices/{device_id:int}/delete", guards=[signed_in], status_code=200)
async def remove_device(
    request: Request[Any, Any, Any], services: Services, device_id: int
) -> Template:
    user = current_user(request)
    try:
        await subscriptions.remove_device(services.db, user.id, device_id)
    except NotFound:
        raise NotFoundException() from None
    # The page's script unsubscribes the browser too if this was the device in hand.
    trigger = json.dumps({"push-device-removed": {"id": device_id}})
    return await _devices_fragment(request, services, user, {"HX-Trigger": trigger})


@post(
    "/push/settings",
    guards=[roles(*subscriptions.NEW_WORK_ROLES)],
    status_code=200,
)
async def new_work_setting(
    request: Request[Any, Any, Any], services: Services
) -> Template | Response[Any]:
    svc = services
    user = current_user(request)
    form = await request.form()
    on = str(form.get("notify_new_requests") or "") in ("1", "on", "true")
    await subscriptions.set_new_work_notifications(svc.db, user, on)
    user.notify_new_requests = on
    if request.headers.get("hx-request") != "true":
        flash(request, _("Настройка сохранена."))
        return redirect(request, "/profile")
    return render(
        request,
        "auth/_push.html",
        {"user": user, "saved": True},
        block="new_work_setting",
    )


ROUTES = [public_key, subscribe, status, unsubscribe, devices, remove_device, new_work_setting]
