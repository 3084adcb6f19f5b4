"""Residents: file a request, see their requests."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from server.i18n import gettext as _
from server.requests import media, queries
from server.requests.filing import NewRequest, file_request
from server.shared.errors import InvalidInput
from server.shared.guards import current_actor, roles
from server.shared.rendering import flash, redirect, render
from server.shared.roles import Role
from server.shared.services import Services

resident_only = [roles(Role.RESIDENT)]


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return None


async def new_request_form(request: Request[Any, Any, Any]) -> NewRequest:
    form = await request.form()
    photos: list[bytes] = []
    for item in form.getall("photos", []):
        if isinstance(item, UploadFile):
            data = await item.read(media.MAX_BYTES + 1)
            if data:
                photos.append(data)
    return NewRequest(
        building_id=_int(form.get("building_id")),
        category_id=_int(form.get("category_id")),
        description=str(form.get("description") or ""),
        flat=str(form.get("flat") or ""),
        idempotency_key=str(form.get("idempotency_key") or "") or None,
        photos=photos,
        caller_phone=str(form.get("caller_phone") or "") or None,
        caller_name=str(form.get("caller_name") or ""),
    )


async def form_context(
    request: Request[Any, Any, Any],
    services: Services,
    form: dict[str, Any],
    errors: dict[str, str],
    q: str = "",
) -> dict[str, Any]:
    svc = services
    building = None
    if _int(form.get("building_id")):
        building = await queries.building(svc, _int(form.get("building_id")) or 0)
    return {
        "user": request.scope["user"],
        "form": form,
        "errors": errors,
        "categories": await queries.categories(svc),
        "building": building,
        "buildings": await queries.search_buildings(svc, q) if q else [],
        "q": q,
        "idempotency_key": form.get("idempotency_key") or uuid.uuid4().hex,
    }


@get("/requests/new", guards=resident_only, name="new_request")
async def new_request_page(
    request: Request[Any, Any, Any], services: Services, q: str = ""
) -> Template:
    form = dict(request.query_params)
    return render(request, "resident/new.html", await form_context(request, services, form, {}, q))


async def file_from_form(
    request: Request[Any, Any, Any], services: Services, template: str, done_message: str
) -> Template | Redirect | ClientRedirect:
    """File what the form says (resident or operator); on errors, the same form again."""
    svc = services
    try:
        outcome = await file_request(svc, current_actor(request), await new_request_form(request))
    except InvalidInput as exc:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        context = await form_context(request, services, form, exc.fields)
        return render(request, template, context, status_code=422)
    if outcome.created:
        flash(request, done_message % {"n": outcome.request.number})
    return redirect(request, f"/requests/{outcome.request.id}")


@post("/requests/new", guards=resident_only, request_max_body_size=80 * 1024 * 1024)
async def create_request(
    request: Request[Any, Any, Any], services: Services
) -> Template | Redirect | ClientRedirect:
    return await file_from_form(request, services, "resident/new.html", _("Заявка №%(n)s подана."))


@get("/requests", guards=resident_only, name="my_requests")
async def my_requests(request: Request[Any, Any, Any], services: Services) -> Template:
    rows = await queries.resident_requests(services, current_actor(request))
    return render(request, "resident/list.html", {"user": request.scope["user"], "rows": rows})


ROUTES = [new_request_page, create_request, my_requests]
