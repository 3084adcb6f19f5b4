"""The request page every role shares, and every workflow action taken from it."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from server.i18n import gettext as _
from server.requests import queries
from server.requests.commands import ActionInput, perform
from server.requests.workflow import Action
from server.shared.errors import InvalidInput, StaleChange
from server.shared.guards import current_actor, signed_in
from server.shared.rendering import flash, redirect, render
from server.shared.roles import Role
from server.shared.services import Services

MAX_UPLOAD = 16 * 1024 * 1024


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


async def _read_upload(value: Any) -> bytes | None:
    if isinstance(value, UploadFile):
        data = await value.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise InvalidInput(photo=_("Фотография больше 15 МБ."))
        return data or None
    return None


async def action_input(form: Any) -> ActionInput:
    return ActionInput(
        expected_version=_int(form.get("version")),
        reason=str(form.get("reason") or ""),
        contractor_id=_int(form.get("contractor_id")),
        organisation_id=_int(form.get("organisation_id")),
        worker_id=_int(form.get("worker_id")),
        score=_int(form.get("score")),
        photo=await _read_upload(form.get("photo")),
        completion_key=str(form.get("completion_key") or "") or None,
    )


async def page_context(
    request: Request[Any, Any, Any], services: Services, request_id: int, **extra: Any
) -> dict[str, Any]:
    svc = services
    actor = current_actor(request)
    page = await queries.request_page(svc, actor, request_id)
    return {
        "user": request.scope["user"],
        "page": page,
        "req": page.request,
        "errors": {},
        "viewer_role": actor.role,
        # The request block shows its own messages, so htmx swaps carry them too.
        "flashes_inline": True,
        **extra,
    }


@get("/requests/{request_id:int}", guards=[signed_in], name="request")
async def request_detail(
    request: Request[Any, Any, Any], services: Services, request_id: int
) -> Template:
    context = await page_context(request, services, request_id)
    return render(request, "requests/detail.html", context, block="request")


@post("/requests/{request_id:int}/actions/{action:str}", guards=[signed_in])
async def take_action(
    request: Request[Any, Any, Any], services: Services, request_id: int, action: str
) -> Template | Redirect:
    try:
        chosen = Action(action)
    except ValueError:
        raise NotFoundException() from None
    svc = services
    actor = current_actor(request)
    form = await request.form()
    try:
        data = await action_input(form)
        outcome = await perform(svc, actor, request_id, chosen, data)
    except StaleChange as exc:
        context = await page_context(request, services, request_id, notice=exc.message)
        return render(request, "requests/detail.html", context, block="request", status_code=409)
    except InvalidInput as exc:
        context = await page_context(
            request,
            services,
            request_id,
            errors={chosen.value: exc.fields},
            open_action=chosen.value,
        )
        return render(request, "requests/detail.html", context, block="request", status_code=422)
    if outcome.created:
        flash(request, _("Готово: %(what)s.", what=_action_done(chosen)))
    if (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-target") == "request"
    ):
        context = await page_context(request, services, request_id)
        return render(request, "requests/detail.html", context, block="request")
    target = request.headers.get("hx-current-url") or f"/requests/{request_id}"
    if actor.role in (Role.DISPATCHER,) and "/board" in target:
        return redirect(request, "/board")
    if actor.role is Role.CITY_ADMIN and "/admin/triage" in target:
        return redirect(request, "/admin/triage")  # routed from the queue: back to the queue
    return redirect(request, f"/requests/{request_id}")


def _action_done(action: Action) -> str:
    return {
        Action.ASSIGN: _("подрядчик назначен"),
        Action.TRANSFER: _("заявка передана"),
        Action.ROUTE: _("заявка направлена"),
        Action.DECLINE: _("заявка отклонена"),
        Action.START: _("работы начаты"),
        Action.COMPLETE: _("выполнение отмечено"),
        Action.VERIFY: _("выполнение подтверждено"),
        Action.RETURN: _("заявка возвращена на доработку"),
        Action.CONFIRM: _("заявка закрыта"),
        Action.DISPUTE: _("заявка возвращена на доработку"),
        Action.CANCEL: _("заявка отменена"),
        Action.COMMENT: _("комментарий добавлен"),
        Action.ASSIGN_WORKER: _("исполнитель назначен"),
        Action.RATE: _("спасибо за оценку"),
    }[action]


ROUTES = [request_detail, take_action]
