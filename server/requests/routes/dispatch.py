"""The organisation dispatcher's board: its requests, overdue first, filters, counters, quick
assign answered in place."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from server.i18n import gettext as _
from server.requests import lists as request_lists
from server.requests import queries
from server.requests.labels import done_label, state_label
from server.requests.lists import BoardFilters
from server.requests.workflow import (
    CLOSED_STATES,
    DECLINED_STATES,
    DUPLICATE_STATES,
    OPEN_STATES,
    Action,
    State,
)
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
    ended = CLOSED_STATES | DECLINED_STATES | DUPLICATE_STATES
    states = [s for s in State if s in OPEN_STATES] + [s for s in State if s in ended]
    return [
        ("open", _("Открытые")),
        ("overdue", _("Просроченные")),
        ("emergency", _("Аварийные")),
        ("to_check", _("Ждут проверки")),
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
    rows = await request_lists.dispatcher_board(svc, actor, filters)
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
            "counts": await request_lists.board_counts(svc, actor),
        },
        block="board",
    )


@get("/board/counts", guards=dispatcher_only, name="board-counts")
async def board_counts(request: Request[Any, Any, Any], services: Services) -> Template:
    """The counters alone: the page fetches them again when the live board changes."""
    counts = await request_lists.board_counts(services, current_actor(request))
    return Template("dispatch/_board_counts.html", context={"counts": counts})


def answers_in_place(request: Request[Any, Any, Any], request_id: int) -> bool:
    """Was the action sent from the request's board row, to be answered with that row?"""
    return (
        current_actor(request).role is Role.DISPATCHER
        and request.headers.get("hx-request") == "true"
        and request.headers.get("hx-target") == f"row-{request_id}"
    )


async def row_in_place(
    request: Request[Any, Any, Any],
    services: Services,
    request_id: int,
    action: Action,
    *,
    problem: str | None = None,
    status_code: int = 200,
) -> Template:
    """The board row as it is now, with what happened (or what went wrong) for the board's
    notice, and fresh counters. The row is the one the live board renders."""
    actor = current_actor(request)
    row = await request_lists.board_row(services, actor, request_id)
    async with services.db.read() as session:
        contractors = await queries.contractors_of(session, actor.organisation_id)
    if problem:
        notice = problem
    elif action is Action.ASSIGN and row.request.contractor is not None:
        notice = _("Назначено: %(name)s", name=row.request.contractor.short_name)
    else:
        notice = done_label(action)
    return Template(
        "dispatch/_row_in_place.html",
        context={
            "user": request.scope["user"],
            "viewer_role": actor.role,
            "row": row,
            "contractors": contractors,
            "notice": notice,
            "problem": bool(problem),
            "counts": await request_lists.board_counts(services, actor),
        },
        status_code=status_code,
    )


def board_url(url: str) -> str | None:
    """The board with the filters of `url`, when `url` is the board; None otherwise."""
    parts = urlsplit(url)
    if parts.path != "/board":
        return None
    return f"/board?{parts.query}" if parts.query else "/board"


ROUTES = [board, board_counts]
