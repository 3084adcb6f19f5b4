"""The organisation dispatcher's board: its requests, overdue first, filters, quick assign."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from server.requests import queries
from server.requests.queries import BoardFilters
from server.shared.guards import current_actor, roles
from server.shared.rendering import render
from server.shared.roles import Role
from server.shared.services import Services

dispatcher_only = [roles(Role.DISPATCHER)]


@get("/board", guards=dispatcher_only, name="board")
async def board(
    request: Request[Any, Any, Any],
    services: Services,
    state_filter: Annotated[str, Parameter(query="state")] = "open",
    category: int | None = None,
    q: str = "",
) -> Template:
    svc = services
    actor = current_actor(request)
    filters = BoardFilters(state=state_filter, category_id=category, query=q[:100])
    rows = await queries.dispatcher_board(svc, actor, filters)
    async with svc.db.read() as session:
        contractors = await queries.contractors_of(session, actor.organisation_id)
    return render(
        request,
        "dispatch/board.html",
        {
            "user": request.scope["user"],
            "rows": rows,
            "filters": filters,
            "categories": await queries.categories(svc),
            "contractors": contractors,
        },
        block="board",
    )


ROUTES = [board]
