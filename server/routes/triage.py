"""The administration's triage queue: requests at addresses no organisation serves.

Routing itself is the ROUTE action on the request (POST /requests/{id}/actions/route), so the
same permission check, transaction and timeline entry apply as everywhere else.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from server.app import services_of
from server.domain.roles import Role
from server.routes.guards import roles
from server.routes.rendering import render
from server.services import queries


@get("/admin/triage", guards=[roles(Role.CITY_ADMIN)], name="triage")
async def triage(request: Request[Any, Any, Any]) -> Template:
    svc = services_of(request)
    rows = await queries.triage_queue(svc)
    async with svc.db.read() as session:
        organisations = await queries.handling_organisations(session)
    return render(
        request,
        "admin/triage.html",
        {"user": request.scope["user"], "rows": rows, "organisations": organisations},
        block="queue",
    )


ROUTES = [triage]
