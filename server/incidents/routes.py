"""Incident pages: declare, update and resolve (staff); the notices residents and the operator
see; follow; per-building subscription; the operator's «link this call»; the live channel."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import FormMultiDict
from litestar.handlers import HTTPRouteHandler
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from server.i18n import gettext as _
from server.incidents import commands, figures, queries
from server.incidents.forms import (
    CallForm,
    DeclarationForm,
    NoticeQuery,
    ResolveForm,
    RevisionForm,
    SubscriptionForm,
    as_local,
)
from server.incidents.live import IncidentsView
from server.incidents.rules import IncidentKind
from server.live.routes import page_route
from server.oversight.filters import FiguresQuery
from server.requests import queries as request_queries
from server.requests.filing import NewRequest, file_request
from server.shared.errors import InvalidInput
from server.shared.guards import current_actor, roles
from server.shared.rendering import flash, redirect, render
from server.shared.roles import Actor, Role
from server.shared.services import Services

managers = [roles(Role.DISPATCHER, Role.CITY_ADMIN)]
readers = [roles(Role.RESIDENT, Role.OPERATOR)]
residents = [roles(Role.RESIDENT)]


async def _index_context(
    request: Request[Any, Any, Any],
    services: Services,
    form: dict[str, Any],
    errors: dict[str, str],
) -> dict[str, Any]:
    actor = current_actor(request)
    return {
        "user": request.scope["user"],
        "incidents": await queries.for_staff(services, actor),
        "categories": await request_queries.categories(services),
        "streets": await queries.served_streets(services, actor),
        "own_buildings": await queries.served_buildings(services, actor),
        "kinds": list(IncidentKind),
        "form": form,
        "errors": errors,
    }


@get("/incidents", guards=managers, name="incidents")
async def incidents_page(request: Request[Any, Any, Any], services: Services) -> Template:
    context = await _index_context(request, services, {}, {})
    return render(request, "incidents/index.html", context)


@post("/incidents", guards=managers)
async def declare(
    request: Request[Any, Any, Any], services: Services
) -> Template | Redirect | ClientRedirect:
    data = await request.form()
    try:
        form = DeclarationForm.parse(data)
        incident = await commands.declare(
            services, current_actor(request), form.declaration(data.getall("building_ids", []))
        )
    except InvalidInput as exc:
        values = {k: v for k, v in data.items() if isinstance(v, str)}
        context = await _index_context(request, services, values, exc.fields)
        return render(request, "incidents/index.html", context, status_code=422)
    flash(request, _("Авария объявлена. Жители домов видят её."))
    return redirect(request, f"/incidents/{incident.id}")


async def _detail(
    request: Request[Any, Any, Any], services: Services, incident_id: int, **extra: Any
) -> dict[str, Any]:
    shown = await queries.page(services, current_actor(request), incident_id)
    return {
        "user": request.scope["user"],
        "page": shown,
        "expected_end": as_local(shown.notice.expected_end),
        "errors": {},
        **extra,
    }


@get("/incidents/{incident_id:int}", guards=managers)
async def incident_page(
    request: Request[Any, Any, Any], services: Services, incident_id: int
) -> Template:
    context = await _detail(request, services, incident_id)
    return render(request, "incidents/detail.html", context)


# A change asked by a form on the incident's page: what it did, in the person's words.
PageChange = Callable[[Services, Actor, int, FormMultiDict], Awaitable[str]]


async def _from_page(
    request: Request[Any, Any, Any],
    services: Services,
    incident_id: int,
    change: PageChange,
) -> Template | Redirect | ClientRedirect:
    """A change asked on the incident's page: back to the page with what `change` says it did,
    or the page again with what was wrong in the form."""
    try:
        done = await change(services, current_actor(request), incident_id, await request.form())
    except InvalidInput as exc:
        context = await _detail(request, services, incident_id, errors=exc.fields)
        return render(request, "incidents/detail.html", context, status_code=422)
    flash(request, done)
    return redirect(request, f"/incidents/{incident_id}")


async def _revise(services: Services, actor: Actor, incident_id: int, data: FormMultiDict) -> str:
    form = RevisionForm.parse(data)
    await commands.update(services, actor, incident_id, form.revision())
    return _("Изменения сообщены жителям.")


async def _resolve(services: Services, actor: Actor, incident_id: int, data: FormMultiDict) -> str:
    form = ResolveForm.parse(data)
    done = await commands.resolve(services, actor, incident_id, form.version)
    return _("Авария устранена. Заявок выполнено: %(n)s.", n=len(done.moved))


async def _verify(services: Services, actor: Actor, incident_id: int, data: FormMultiDict) -> str:
    checked = await commands.verify_linked(services, actor, incident_id)
    if not checked:
        raise InvalidInput(requests=_("Нет выполненных заявок, которые ждут вашей проверки."))
    return _("Выполнение подтверждено по заявкам: %(n)s. Каждый житель подтвердит свою.", n=checked)


def _page_form(name: str, change: PageChange) -> HTTPRouteHandler:
    """The route of one form on the incident's page: POST /incidents/{id}/`name`."""

    @post(f"/incidents/{{incident_id:int}}/{name}", guards=managers, name=f"incident-{name}")
    async def changed(
        request: Request[Any, Any, Any], services: Services, incident_id: int
    ) -> Template | Redirect | ClientRedirect:
        return await _from_page(request, services, incident_id, change)

    return changed


update = _page_form("update", _revise)
resolve = _page_form("resolve", _resolve)
# «Подтвердить выполнение» on every request the resolution moved, in one step.
verify = _page_form("verify", _verify)


@get("/incidents/notice", guards=readers)
async def notice(request: Request[Any, Any, Any], services: Services) -> Template:
    """The notice at the top of the filing form, for the chosen building and category."""
    query = NoticeQuery.parse(request.query_params)
    actor = current_actor(request)
    found: list[queries.Notice] = []
    # The operator sees every incident of the caller's building before a category is chosen.
    if query.building_id is not None and (
        query.category_id is not None or actor.role is Role.OPERATOR
    ):
        found = await queries.of_building(services, actor, query.building_id, query.category_id)
    return render(
        request,
        "incidents/_notice.html",
        {"user": request.scope["user"], "notices": found, "building_id": query.building_id},
    )


@get("/incidents/mine", guards=residents)
async def mine(request: Request[Any, Any, Any], services: Services) -> Template:
    """The incidents of the resident's buildings, on their home page (kept live)."""
    actor = current_actor(request)
    return render(
        request,
        "incidents/_mine.html",
        {"user": request.scope["user"], "notices": await queries.for_resident(services, actor)},
    )


@post("/incidents/{incident_id:int}/follow", guards=residents)
async def follow(
    request: Request[Any, Any, Any], services: Services, incident_id: int
) -> Template | Redirect | ClientRedirect:
    await commands.follow(services, current_actor(request), incident_id)
    if request.headers.get("hx-request") == "true":
        return render(request, "incidents/_followed.html", {"user": request.scope["user"]})
    flash(request, _("Вы будете получать уведомления об этой аварии."))
    return redirect(request, "/requests")


@post("/incidents/buildings/{building_id:int}/subscription", guards=residents)
async def subscription(
    request: Request[Any, Any, Any], services: Services, building_id: int
) -> Template | Redirect | ClientRedirect:
    form = SubscriptionForm.parse(await request.form())
    await commands.subscribe(services, current_actor(request), building_id, form.on)
    if form.on:
        said = _("Вы будете получать уведомления об отключениях по этому дому.")
    else:
        said = _("Уведомления об отключениях по этому дому выключены.")
    if request.headers.get("hx-request") == "true":
        return render(request, "incidents/_said.html", {"said": said})
    flash(request, said)
    return redirect(request, "/requests")


@post("/operator/incidents/{incident_id:int}/call", guards=[roles(Role.OPERATOR)])
async def link_call(
    request: Request[Any, Any, Any], services: Services, incident_id: int
) -> Template | Redirect | ClientRedirect:
    """«Связать звонок с аварией»: a request filed for the caller, linked to the incident when
    it is filed (so the caller's request is closed with it and counted as absorbed)."""
    actor = current_actor(request)
    form = CallForm.parse(await request.form())
    found = [
        n
        for n in await queries.of_building(services, actor, form.building_id or 0)
        if n.id == incident_id
    ]
    if not found:
        raise InvalidInput(building_id=_("По этому дому такой аварии нет."))
    try:
        outcome = await file_request(
            services,
            actor,
            NewRequest(
                building_id=form.building_id,
                category_id=found[0].category_id,
                description=_("Звонок по аварии: %(text)s", text=found[0].text),
                flat=form.flat,
                caller_phone=form.caller_phone,
                caller_name=form.caller_name,
            ),
        )
    except InvalidInput as exc:
        context = {"user": request.scope["user"], "notices": found, "errors": exc.fields}
        context["building_id"] = form.building_id
        return render(request, "incidents/_notice.html", context, status_code=422)
    flash(request, _("Звонок связан с аварией: заявка №%(n)s.", n=outcome.request.number))
    return redirect(request, f"/requests/{outcome.request.id}")


ROUTES = [
    incidents_page,
    declare,
    incident_page,
    update,
    resolve,
    verify,
    notice,
    mine,
    follow,
    subscription,
    link_call,
    page_route("/live/incidents", IncidentsView),
]


@get("/incidents/figures")
async def incident_figures(request: Request[Any, Any, Any], services: Services) -> Template:
    """Counted apart, on the dashboard and the public figures: counts only, for anyone."""
    period = FiguresQuery.of(request.query_params).chosen_period(default=90)
    shown = await figures.figures(services, period.start, period.end)
    return render(request, "incidents/_figures.html", {"figures": shown})


ROUTES.append(incident_figures)
