"""The open requests like the one being filed, and following someone else's request."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from server.i18n import gettext as _
from server.requests.duplicates import follow, similar_requests, unfollow
from server.shared.errors import InvalidInput
from server.shared.forms import parse_id
from server.shared.guards import current_actor, roles
from server.shared.rendering import flash, redirect, render
from server.shared.roles import Role
from server.shared.services import Services

# Those who file: a resident for themself, the operator for a caller.
filers = [roles(Role.RESIDENT, Role.OPERATOR)]
resident_only = [roles(Role.RESIDENT)]


@get("/requests/similar", guards=filers)
async def similar(
    request: Request[Any, Any, Any],
    services: Services,
    building_id: str = "",
    category_id: str = "",
) -> Template:
    """The filing form's fragment: nothing until both a building and a category are chosen."""
    actor = current_actor(request)
    building, category = parse_id(building_id), parse_id(category_id)
    found = []
    if building is not None and category is not None:
        found = await similar_requests(services, actor, building, category)
    context = {"similar": found, "can_follow": actor.role is Role.RESIDENT}
    return render(request, "requests/_similar.html", context)


@post("/requests/{request_id:int}/follow", guards=resident_only)
async def follow_request(
    request: Request[Any, Any, Any], services: Services, request_id: int
) -> Redirect | ClientRedirect:
    try:
        await follow(services, current_actor(request), request_id)
    except InvalidInput as exc:
        flash(request, next(iter(exc.fields.values()), exc.message), kind="error")
        return redirect(request, "/requests/new")
    flash(request, _("Вы следите за заявкой: уведомления о ней придут и вам."))
    return redirect(request, f"/requests/{request_id}")


@post("/requests/{request_id:int}/unfollow", guards=resident_only)
async def unfollow_request(
    request: Request[Any, Any, Any], services: Services, request_id: int
) -> Redirect | ClientRedirect:
    await unfollow(services, current_actor(request), request_id)
    flash(request, _("Вы больше не следите за заявкой."))
    return redirect(request, "/requests")


ROUTES = [similar, follow_request, unfollow_request]
