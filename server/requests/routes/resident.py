"""Residents: file a request, see their requests."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from server.i18n import gettext as _
from server.i18n import gettext_lazy
from server.requests import lists as request_lists
from server.requests import queries
from server.requests.duplicates import followed_requests
from server.requests.filing import MAX_DESCRIPTION, NewRequest, file_request
from server.shared.errors import InvalidInput
from server.shared.forms import (
    DB_INT_MAX,
    REQUEST_BODY_LIMIT_BYTES,
    Form,
    parse_id,
    read_uploads,
)
from server.shared.guards import current_actor, roles
from server.shared.rendering import flash, redirect, render
from server.shared.roles import Role
from server.shared.services import Services

resident_only = [roles(Role.RESIDENT)]


def _choice(message: object) -> msgspec.Meta:
    # Chosen from a list on the page: a value that is no id means nothing was chosen there.
    return msgspec.Meta(ge=1, le=DB_INT_MAX, extra={"error": message})


class FilingForm(Form):
    """The filing form of a resident, or of the operator on a caller's behalf.

    What is required and how long text may be, the use case decides and says in its words."""

    building_id: Annotated[int, _choice(gettext_lazy("Выберите адрес из списка."))] | None = None
    category_id: Annotated[int, _choice(gettext_lazy("Выберите, что случилось."))] | None = None
    description: str = ""
    flat: str = ""
    idempotency_key: str | None = None
    caller_phone: str | None = None
    caller_name: str = ""
    call_id: Annotated[int, _choice(gettext_lazy("Звонок не найден."))] | None = None

    def new_request(self, photos: list[bytes]) -> NewRequest:
        # Each of the form's fields is one of NewRequest's, by the same name.
        return NewRequest(photos=photos, **msgspec.structs.asdict(self))


async def new_request_form(request: Request[Any, Any, Any]) -> NewRequest:
    form = await request.form()
    fields = FilingForm.parse(form)
    return fields.new_request(await read_uploads(form.getall("photos", []), "photos"))


async def form_context(
    request: Request[Any, Any, Any],
    services: Services,
    form: Mapping[str, Any],
    errors: dict[str, str],
    q: str = "",
) -> dict[str, Any]:
    svc = services
    building_id = parse_id(form.get("building_id"))
    return {
        "user": request.scope["user"],
        "form": form,
        "errors": errors,
        "categories": await queries.categories(svc),
        "building": await queries.building(svc, building_id) if building_id else None,
        "buildings": await queries.search_buildings(svc, q) if q else [],
        "q": q,
        "idempotency_key": form.get("idempotency_key") or uuid.uuid4().hex,
        "max_description": MAX_DESCRIPTION,
    }


@get("/requests/new", guards=resident_only, name="new_request")
async def new_request_page(
    request: Request[Any, Any, Any], services: Services, q: str = ""
) -> Template:
    form: dict[str, Any] = dict(request.query_params)
    last = None
    if "building_id" not in form:
        last = await queries.last_address(services, current_actor(request))
    if last is not None:
        form["building_id"], form["flat"] = last
    context = await form_context(request, services, form, {}, q)
    return render(request, "resident/new.html", {**context, "address_remembered": last is not None})


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


@post("/requests/new", guards=resident_only, request_max_body_size=REQUEST_BODY_LIMIT_BYTES)
async def create_request(
    request: Request[Any, Any, Any], services: Services
) -> Template | Redirect | ClientRedirect:
    return await file_from_form(request, services, "resident/new.html", _("Заявка №%(n)s подана."))


@get("/requests", guards=resident_only, name="my_requests")
async def my_requests(request: Request[Any, Any, Any], services: Services) -> Template:
    actor = current_actor(request)
    rows = await request_lists.resident_requests(services, actor)
    followed = await followed_requests(services, actor)
    context = {"user": request.scope["user"], "rows": rows, "followed": followed}
    return render(request, "resident/list.html", context)


ROUTES = [new_request_page, create_request, my_requests]
