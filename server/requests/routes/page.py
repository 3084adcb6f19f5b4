"""The request page every role shares, and every workflow action taken from it."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from server.requests import queries
from server.requests.actions import ActionInput, perform
from server.requests.labels import done_label
from server.requests.routes.dispatch import answers_in_place, board_url, row_in_place
from server.requests.workflow import Action
from server.shared.errors import InvalidInput, StaleChange
from server.shared.forms import Form, Id, SeenVersion, read_upload
from server.shared.guards import current_actor, signed_in
from server.shared.rendering import flash, redirect, render
from server.shared.roles import Role
from server.shared.services import Services


class ActionForm(Form):
    """What any action's form may send; each action reads the fields it needs."""

    expected_version: SeenVersion = msgspec.field(name="version")
    reason: str = ""
    contractor_id: Id | None = None
    organisation_id: Id | None = None
    worker_id: Id | None = None
    score: int | None = None  # the range is the rating's own rule
    completion_key: str | None = None
    original_number: str = ""


async def action_input(form: Any) -> ActionInput:
    fields = msgspec.structs.asdict(ActionForm.parse(form))
    return ActionInput(**fields, photo=await read_upload(form.get("photo"), "photo"))


async def page_context(
    request: Request[Any, Any, Any], services: Services, request_id: int, **extra: Any
) -> dict[str, Any]:
    actor = current_actor(request)
    page = await queries.request_page(services, actor, request_id)
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
) -> Template | Redirect | ClientRedirect:
    try:
        chosen = Action(action)
    except ValueError:
        raise NotFoundException() from None
    actor = current_actor(request)
    in_place = answers_in_place(request, request_id)
    try:
        data = await action_input(await request.form())
        outcome = await perform(services, actor, request_id, chosen, data)
    except StaleChange as exc:
        if in_place:
            return await row_in_place(
                request, services, request_id, chosen, problem=exc.message, status_code=409
            )
        context = await page_context(request, services, request_id, notice=exc.message)
        return render(request, "requests/detail.html", context, block="request", status_code=409)
    except InvalidInput as exc:
        if in_place:
            problem = next(iter(exc.fields.values()), exc.message)
            return await row_in_place(
                request, services, request_id, chosen, problem=problem, status_code=422
            )
        context = await page_context(
            request,
            services,
            request_id,
            errors={chosen.value: exc.fields},
            open_action=chosen.value,
            # No field on the page shows the version: its message stands above the request.
            notice=exc.fields.get("version"),
        )
        return render(request, "requests/detail.html", context, block="request", status_code=422)
    if in_place:
        return await row_in_place(request, services, request_id, chosen)
    if outcome.created:
        flash(request, done_label(chosen))
    if (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-target") == "request"
    ):
        context = await page_context(request, services, request_id)
        return render(request, "requests/detail.html", context, block="request")
    # Back where the action was taken: htmx names the page, a plain form its referrer.
    target = (
        request.headers.get("hx-current-url")
        or request.headers.get("referer")
        or f"/requests/{request_id}"
    )
    if actor.role is Role.DISPATCHER and (board := board_url(target)):
        return redirect(request, board)  # the board as it was, filters included
    if actor.role is Role.CITY_ADMIN and "/admin/triage" in target:
        return redirect(request, "/admin/triage")  # routed from the queue: back to the queue
    return redirect(request, f"/requests/{request_id}")


ROUTES = [request_detail, take_action]
