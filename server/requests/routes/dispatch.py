"""The organisation dispatcher's board: its requests, overdue first, filters, quick assign."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from server.i18n import gettext as _
from server.requests import queries
from server.requests.labels import state_label
from server.requests.queries import BoardFilters
from server.requests.workflow import CLOSED_STATES, DECLINED_STATES, OPEN_STATES, State
from server.shared.forms import parse_id
from server.shared.guards import current_actor, roles
from server.shared.rendering import render
from server.shared.roles import Role
from server.shared.services import Services

dispatcher_only = [roles(Role.DISPATCHER)]


def state_choices() -> list[tuple[str, str]]:
    """The «Состояние» filter's options: its keys for BoardFilters.state, with their labels.

    Every open state, and how requests ended in the organisation's hands (a resident's
    withdrawal is not the organisation's outcome)."""
    # Open states first; each part in the order a request lives through them.
    ended = CLOSED_STATES | DECLINED_STATES
    states = [s for s in State if s in OPEN_STATES] + [s for s in State if s in ended]
    return [
        ("open", _("Открытые")),
        ("overdue", _("Просроченные")),
        *((s.value, state_label(s)) for s in states),
        ("all", _("Все")),
    ]


@get("/board", guards=dispatcher_only, name="board")
async def board(
    request: Request[Any, Any, Any],
    services: Services,
    state_filter: Annotated[str, Parameter(query="state")] = "open",
    category: str = "",
    q: str = "",
) -> Template:
    svc = services
    actor = current_actor(request)
    filters = BoardFilters(state=state_filter, category_id=parse_id(category), query=q[:100])
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
            "state_choices": state_choices(),
            "categories": await queries.categories(svc),
            "contractors": contractors,
        },
        block="board",
    )


ROUTES = [board]
