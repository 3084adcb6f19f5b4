"""The administration's triage queue: requests at addresses no organisation serves.

Routing itself is the ROUTE action on the request (POST /requests/{id}/actions/route), so the
same permission check, transaction and timeline entry apply as everywhere else.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from server.requests import lists as request_lists
from server.requests import queries
from server.shared.guards import roles
from server.shared.rendering import render
from server.shared.roles import Role
from server.shared.services import Services


@get("/admin/triage", guards=[roles(Role.CITY_ADMIN)], name="triage")
async def triage(request: Request[Any, Any, Any], services: Services) -> Template:
    svc = services
    rows = await request_lists.triage_queue(svc)
    async with svc.db.read() as session:
        organisations = await queries.handling_organisations(session)
    return render(
        request,
        "admin/triage.html",
        {"user": request.scope["user"], "rows": rows, "organisations": organisations},
        block="queue",
    )


ROUTES = [triage]
