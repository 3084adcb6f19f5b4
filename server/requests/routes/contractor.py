"""Contractors and their workers: work orders, the printed sheet with its QR code, the QR link."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from server.requests import lists as request_lists
from server.requests import queries, work_orders
from server.requests.lists import BoardFilters
from server.shared.guards import current_actor, roles
from server.shared.rendering import redirect, render, wants_json
from server.shared.roles import Role
from server.shared.services import Services

contractor_staff = [roles(Role.CONTRACTOR, Role.WORKER)]


@get("/jobs", guards=contractor_staff, name="jobs")
async def jobs(
    request: Request[Any, Any, Any],
    services: Services,
    state_filter: Annotated[str, Parameter(query="state")] = "open",
) -> Template | Redirect:
    svc = services
    actor = current_actor(request)
    if (
        actor.role is Role.WORKER
        and state_filter == "open"
        and not request.headers.get("hx-request")
    ):
        # A worker's list of open jobs is the phone view (field mode).
        return Redirect("/field", status_code=303)
    rows = await request_lists.contractor_jobs(svc, actor, BoardFilters(state=state_filter))
    return render(
        request,
        "contractor/jobs.html",
        {"user": request.scope["user"], "rows": rows, "state": state_filter},
        block="jobs",
    )


@get("/jobs/{token:str}", guards=contractor_staff, name="job_by_token")
async def job_by_token(request: Request[Any, Any, Any], services: Services, token: str) -> Redirect:
    """The URL in the printed QR code. The token finds the job; the sign-in decides access."""
    request_id = await queries.job_by_token(services, current_actor(request), token[:64])
    if request.scope["user"].role == Role.WORKER:
        return Redirect(f"/field/jobs/{request_id}", status_code=303)
    return Redirect(f"/requests/{request_id}", status_code=303)


printing_staff = [roles(*work_orders.PRINTING_ROLES)]


@get("/work-orders/{order_id:int}/print", guards=printing_staff, name="print_work_order")
async def print_work_order(
    request: Request[Any, Any, Any], services: Services, order_id: int
) -> Template:
    """The sheet, ready to print. A GET writes nothing: a link preview prints nothing."""
    sheet = await work_orders.print_sheet(services, current_actor(request), order_id)
    return render(request, "contractor/print.html", {"user": request.scope["user"], "sheet": sheet})


@post("/work-orders/{order_id:int}/print", guards=printing_staff, name="record_printing")
async def record_printing(
    request: Request[Any, Any, Any], services: Services, order_id: int
) -> Response[None] | Redirect | ClientRedirect:
    """The «Печать» button: the timeline notes the printing, then the browser prints."""
    await work_orders.record_printing(services, current_actor(request), order_id)
    if wants_json(request):  # app.js: the browser prints once the note is written
        return Response(None, status_code=204)
    return redirect(request, f"/work-orders/{order_id}/print")


ROUTES = [jobs, job_by_token, print_work_order, record_printing]
