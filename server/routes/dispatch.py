"""The organisation dispatcher's board: its requests, overdue first, filters, quick assign."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from server.app import services_of
from server.domain.roles import Role
from server.routes.guards import current_actor, roles
from server.routes.rendering import render
from server.services import queries
from server.services.queries import BoardFilters

dispatcher_only = [roles(Role.DISPATCHER)]


@get("/board", guards=dispatcher_only, name="board")
async def board(
    request: Request[Any, Any, Any],
    state_filter: Annotated[str, Parameter(query="state")] = "open",
    category: int | None = None,
    q: str = "",
) -> Template:
    svc = services_of(request)
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
