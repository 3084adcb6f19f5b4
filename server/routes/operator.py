"""The single phone number's operator: find a caller or a request, file on a caller's behalf."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from server.app import services_of
from server.domain.roles import Role
from server.i18n import gettext as _
from server.routes.guards import roles
from server.routes.rendering import render
from server.routes.resident import file_from_form, form_context
from server.services import queries

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
async def operator_create(request: Request[Any, Any, Any]) -> Template | Redirect | ClientRedirect:
    return await file_from_form(
        request, "operator/new.html", _("Заявка №%(n)s подана. Продиктуйте номер звонящему.")
    )


ROUTES = [operator_home, operator_new, operator_create]
