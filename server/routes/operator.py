"""The single phone number's operator: find a caller or a request, file on a caller's behalf."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.response import Redirect, Template

from server.app import services_of
from server.domain.roles import Role
from server.i18n import gettext as _
from server.routes.guards import current_actor, roles
from server.routes.rendering import flash, redirect, render
from server.routes.resident import form_context, new_request_form
from server.services import queries
from server.services.errors import InvalidInput
from server.services.requests import file_request

operator_only = [roles(Role.OPERATOR)]


@get("/operator", guards=operator_only, name="operator")
async def operator_home(request: Request[Any, Any, Any], q: str = "") -> Template:
    svc = services_of(request)
    lookup = await queries.operator_lookup(svc, q[:100])
    return render(
        request,
        "operator/index.html",
        {"user": request.scope["user"], "q": q, "lookup": lookup},
        block="results",
    )


@get("/operator/new", guards=operator_only)
async def operator_new(request: Request[Any, Any, Any], q: str = "") -> Template:
    form = dict(request.query_params)
    return render(request, "operator/new.html", await form_context(request, form, {}, q))


@post("/operator/new", guards=operator_only, request_max_body_size=80 * 1024 * 1024)
async def operator_create(request: Request[Any, Any, Any]) -> Template | Redirect:
    svc = services_of(request)
    try:
        outcome = await file_request(svc, current_actor(request), await new_request_form(request))
    except InvalidInput as exc:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        context = await form_context(request, form, exc.fields)
        return render(request, "operator/new.html", context, status_code=422)
    if outcome.created:
        flash(
            request,
            _("Заявка №%(n)s подана. Продиктуйте номер звонящему.", n=outcome.request.number),
        )
    return redirect(request, f"/requests/{outcome.request.id}")


ROUTES = [operator_home, operator_new, operator_create]
