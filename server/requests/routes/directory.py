"""Look-ups used by forms: buildings as you type."""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from server.requests import queries
from server.shared.guards import roles
from server.shared.rendering import render
from server.shared.roles import Role
from server.shared.services import Services


@get(
    "/buildings/search",
    guards=[roles(Role.RESIDENT, Role.OPERATOR, Role.SYSADMIN, Role.CITY_ADMIN)],
)
async def building_search(
    request: Request[Any, Any, Any], services: Services, q: str = ""
) -> Template:
    buildings = await queries.search_buildings(services, q[:100])
    return render(request, "resident/_building_options.html", {"buildings": buildings, "q": q})


ROUTES = [building_search]
