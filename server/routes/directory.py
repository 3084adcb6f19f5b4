"""Look-ups used by forms: buildings as you type."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from server.app import services_of
from server.domain.roles import Role
from server.routes.guards import roles
from server.routes.rendering import render
from server.services import queries


@get(
    "/buildings/search",
    guards=[roles(Role.RESIDENT, Role.OPERATOR, Role.SYSADMIN, Role.CITY_ADMIN)],
)
async def building_search(request: Request[Any, Any, Any], q: str = "") -> Template:
    buildings = await queries.search_buildings(services_of(request), q[:100])
    return render(request, "resident/_building_options.html", {"buildings": buildings, "q": q})


ROUTES = [building_search]
