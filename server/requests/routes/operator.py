"""The single phone number's operator: find a caller or a request, file on a caller's behalf."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from server.i18n import gettext as _
from server.phone.cards import cards_for
from server.requests import lists as request_lists
from server.requests.routes.resident import file_from_form, form_context
from server.shared.forms import REQUEST_BODY_LIMIT_BYTES
from server.shared.guards import current_actor, roles
from server.shared.rendering import render
from server.shared.roles import Role
from server.shared.services import Services

operator_only = [roles(Role.OPERATOR)]


@get("/operator", guards=operator_only, name="operator")
async def operator_home(
    request: Request[Any, Any, Any], services: Services, q: str = ""
) -> Template:
    lookup = await request_lists.operator_lookup(services, current_actor(request), q[:100])
    user = request.scope["user"]
    call_cards = await cards_for(services.db, user.id)
    return render(
        request,
        "operator/index.html",
        {"user": user, "q": q, "lookup": lookup, "call_cards": call_cards},
        block="results",
    )


@get("/operator/new", guards=operator_only)
async def operator_new(
    request: Request[Any, Any, Any], services: Services, q: str = ""
) -> Template:
    form = dict(request.query_params)
    return render(request, "operator/new.html", await form_context(request, services, form, {}, q))


@post("/operator/new", guards=operator_only, request_max_body_size=REQUEST_BODY_LIMIT_BYTES)
async def operator_create(
    request: Request[Any, Any, Any], services: Services
) -> Template | Redirect | ClientRedirect:
    return await file_from_form(
        request,
        services,
        "operator/new.html",
        _("Заявка №%(n)s подана. Продиктуйте номер звонящему."),
    )


ROUTES = [operator_home, operator_new, operator_create]
