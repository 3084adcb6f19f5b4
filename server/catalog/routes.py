"""The system admin's settings pages: organisations, buildings, categories, users.

The add and edit pages of each kind of record are described in `EDIT_PAGES` and built by
`EditPages`; the handlers below are the rest: lists, switches, contracts, the CSV upload and
passwords. Use cases check the role again, validate, and write in one transaction.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter
from litestar.response import Template

from server.accounts.forms import PasswordForm
from server.catalog import buildings as houses
from server.catalog import categories as kinds_of_request
from server.catalog import organisations as orgs
from server.catalog import users as accounts
from server.catalog.access import LIST_LIMIT
from server.catalog.building_import import MAX_IMPORT_BYTES, ImportReport, import_buildings
from server.catalog.buildings import BuildingForm
from server.catalog.categories import CategoryForm
from server.catalog.deadline_units import unit_choices
from server.catalog.journal import journal
from server.catalog.organisations import ContractorForm, OrganisationForm
from server.catalog.overview import overview
from server.catalog.pages import (
    EditPages,
    Page,
    PathId,
    SwitchForm,
    done,
    form_fields,
    settings_context,
)
from server.catalog.users import UserForm
from server.db.models import Building, Category, Organisation, User
from server.i18n import gettext as _
from server.shared.errors import InvalidInput
from server.shared.forms import DB_INT_MAX
from server.shared.guards import current_actor, roles
from server.shared.rendering import render
from server.shared.roles import HANDLING_KINDS, OrgKind, Role
from server.shared.services import Services


async def _organisation_choices(_services: Services) -> dict[str, Any]:
    return {"kinds": list(OrgKind), "handling_kinds": [k.value for k in HANDLING_KINDS]}


async def _building_choices(services: Services) -> dict[str, Any]:
    return {"managers": await houses.managers(services.db)}


async def _category_choices(services: Services) -> dict[str, Any]:
    return {
        "handler_orgs": await kinds_of_request.handler_organisations(services.db),
        "priorities": kinds_of_request.PRIORITIES,
        "units": unit_choices(),
    }


async def _user_choices(services: Services) -> dict[str, Any]:
    return {
        "roles": accounts.ASSIGNABLE_ROLES,
        "organisations": await accounts.staff_organisations(services.db),
    }


def _organisation_page(org: Organisation) -> str:
    return f"/sysadmin/organisations/{org.id}"


def _found_building(building: Building) -> str:
    return "/sysadmin/buildings?q=" + quote(f"{building.street} {building.house}")


def _found_user(user: User) -> str:
    return "/sysadmin/users?q=" + quote(user.login)


ORGANISATION_PAGES: EditPages[OrganisationForm, orgs.OrganisationDetail, Organisation] = EditPages(
    section="organisations",
    template="sysadmin/organisation_form.html",
    subject="detail",
    form=OrganisationForm,
    choices=_organisation_choices,
    load=orgs.get_organisation,
    form_of=lambda detail: OrganisationForm.of(detail.organisation),
    create=orgs.create_organisation,
    created=lambda org: (
        _("Организация «%(name)s» добавлена.", name=org.short_name),
        _organisation_page(org),
    ),
    update=orgs.update_organisation,
    updated=lambda org: (_("Изменения сохранены."), _organisation_page(org)),
)
BUILDING_PAGES: EditPages[BuildingForm, Building, Building] = EditPages(
    section="buildings",
    template="sysadmin/building_form.html",
    subject="building",
    form=BuildingForm,
    choices=_building_choices,
    load=houses.get_building,
    form_of=BuildingForm.of,
    create=houses.create_building,
    created=lambda b: (_("Дом «%(address)s» добавлен.", address=b.address), _found_building(b)),
    update=houses.update_building,
    updated=lambda b: (
        _("Дом «%(address)s» сохранён.", address=b.address),
        f"/sysadmin/buildings/{b.id}",
    ),
)
CATEGORY_PAGES: EditPages[CategoryForm, Category, Category] = EditPages(
    section="categories",
    template="sysadmin/category_form.html",
    subject="category",
    form=CategoryForm,
    choices=_category_choices,
    load=kinds_of_request.get_category,
    form_of=CategoryForm.of,
    create=kinds_of_request.create_category,
    created=lambda c: (_("Категория «%(name)s» добавлена.", name=c.name), "/sysadmin/categories"),
    update=kinds_of_request.update_category,
    updated=lambda c: (_("Категория «%(name)s» сохранена.", name=c.name), "/sysadmin/categories"),
)
USER_PAGES: EditPages[UserForm, User, User] = EditPages(
    section="users",
    template="sysadmin/user_form.html",
    subject="account",
    form=UserForm,
    choices=_user_choices,
    load=accounts.get_user,
    form_of=UserForm.of,
    create=accounts.create_user,
    created=lambda u: (_("Пользователь %(login)s создан.", login=u.login), _found_user(u)),
    update=accounts.update_user,
    updated=lambda u: (_("Изменения сохранены."), _found_user(u)),
    never_shown=frozenset({"password"}),
    # A new role or organisation changes what the person may watch.
    after_update=lambda services, user: services.account_changed(user.id),
)
EDIT_PAGES: list[EditPages[Any, Any, Any]] = [
    ORGANISATION_PAGES,
    BUILDING_PAGES,
    CATEGORY_PAGES,
    USER_PAGES,
]


@get("/", name="sysadmin")
async def index(request: Request[Any, Any, Any], services: Services) -> Template:
    figures = await overview(services.db, current_actor(request))
    return render(
        request, "sysadmin/index.html", settings_context(request, "index", overview=figures)
    )


# --------------------------------------------------------------------------------------------
# Organisations and their contractors


@get("/organisations")
async def organisations(
    request: Request[Any, Any, Any], services: Services, kind: str = ""
) -> Template:
    actor = current_actor(request)
    kind = kind if kind in {k.value for k in OrgKind} else ""
    rows = await orgs.list_organisations(services.db, actor, kind or None)
    links = await orgs.contractor_links(services.db, actor)
    context = settings_context(
        request, "organisations", rows=rows, links=links, kind=kind, kinds=list(OrgKind)
    )
    return render(request, "sysadmin/organisations.html", context)


@post("/organisations/{organisation_id:int}/active")
async def organisation_active(
    request: Request[Any, Any, Any], services: Services, organisation_id: PathId
) -> Page:
    switch = SwitchForm.parse(await form_fields(request))
    org = await orgs.set_organisation_active(
        services.db, current_actor(request), organisation_id, switch.active
    )
    name = org.short_name
    told = switch.told(
        _("Организация «%(name)s» включена.", name=name),
        _("Организация «%(name)s» отключена.", name=name),
    )
    return done(request, told, _organisation_page(org))


@post("/organisations/{organisation_id:int}/contractors")
async def contractor_link(
    request: Request[Any, Any, Any], services: Services, organisation_id: PathId
) -> Page:
    try:
        form = ContractorForm.parse(await form_fields(request))
        await orgs.link_contractor(
            services.db, current_actor(request), organisation_id, form.contractor_id
        )
    except InvalidInput as exc:
        return await ORGANISATION_PAGES.page(
            request, services, organisation_id, errors=exc.fields, status_code=422
        )
    return done(request, _("Подрядчик добавлен."), f"/sysadmin/organisations/{organisation_id}")


@post("/organisations/{organisation_id:int}/contractors/{contractor_id:int}/delete")
async def contractor_unlink(
    request: Request[Any, Any, Any],
    services: Services,
    organisation_id: PathId,
    contractor_id: PathId,
) -> Page:
    await orgs.unlink_contractor(
        services.db, current_actor(request), organisation_id, contractor_id
    )
    return done(request, _("Подрядчик отвязан."), f"/sysadmin/organisations/{organisation_id}")


# --------------------------------------------------------------------------------------------
# The register of houses


async def _buildings_page(
    request: Request[Any, Any, Any],
    services: Services,
    q: str = "",
    report: ImportReport | None = None,
    status_code: int = 200,
) -> Template:
    actor = current_actor(request)
    context = settings_context(
        request,
        "buildings",
        rows=await houses.list_buildings(services.db, actor, q[:100]),
        q=q,
        total=await houses.count_buildings(services.db, actor),
        limit=LIST_LIMIT,
        report=report,
    )
    return render(
        request, "sysadmin/buildings.html", context, block="results", status_code=status_code
    )


@get("/buildings")
async def buildings(request: Request[Any, Any, Any], services: Services, q: str = "") -> Template:
    return await _buildings_page(request, services, q)


@post("/buildings/import", request_max_body_size=MAX_IMPORT_BYTES + 64 * 1024)
async def buildings_import(request: Request[Any, Any, Any], services: Services) -> Template:
    upload = (await request.form()).get("file")
    # One byte over the limit is enough for the import to refuse the file as too large.
    data = await upload.read(MAX_IMPORT_BYTES + 1) if isinstance(upload, UploadFile) else b""
    report = await import_buildings(services.db, current_actor(request), data)
    return await _buildings_page(
        request, services, report=report, status_code=422 if report.errors else 200
    )


# --------------------------------------------------------------------------------------------
# Categories


@get("/categories")
async def categories(request: Request[Any, Any, Any], services: Services) -> Template:
    rows = await kinds_of_request.list_categories(services.db, current_actor(request))
    handlers = {o.id: o for o in await kinds_of_request.handler_organisations(services.db)}
    context = settings_context(request, "categories", rows=rows, orgs=handlers)
    return render(request, "sysadmin/categories.html", context)


# --------------------------------------------------------------------------------------------
# Users


async def _users_page(
    request: Request[Any, Any, Any],
    services: Services,
    role: str = "",
    q: str = "",
    errors: dict[int, dict[str, str]] | None = None,
    status_code: int = 200,
) -> Template:
    role = role if role in {r.value for r in accounts.ASSIGNABLE_ROLES} else ""
    rows = await accounts.list_users(services.db, current_actor(request), role=role, query=q[:100])
    context = settings_context(
        request,
        "users",
        rows=rows,
        role=role,
        q=q,
        roles=accounts.ASSIGNABLE_ROLES,
        limit=LIST_LIMIT,
        row_errors=errors or {},
    )
    return render(request, "sysadmin/users.html", context, block="results", status_code=status_code)


@get("/users")
async def users(
    request: Request[Any, Any, Any], services: Services, role: str = "", q: str = ""
) -> Template:
    return await _users_page(request, services, role, q)


@post("/users/{user_id:int}/active")
async def user_active(request: Request[Any, Any, Any], services: Services, user_id: PathId) -> Page:
    try:
        switch = SwitchForm.parse(await form_fields(request))
        changed = await accounts.set_user_active(
            services.db, current_actor(request), user_id, switch.active
        )
        await services.account_changed(changed.id)
    except InvalidInput as exc:
        return await _users_page(request, services, errors={user_id: exc.fields}, status_code=422)
    login = changed.login
    return done(
        request,
        switch.told(
            _("Учётная запись %(login)s включена.", login=login),
            _("Учётная запись %(login)s отключена.", login=login),
        ),
        _found_user(changed),
    )


@post("/users/{user_id:int}/password")
async def user_password(
    request: Request[Any, Any, Any], services: Services, user_id: PathId
) -> Page:
    password = PasswordForm.parse(await form_fields(request)).password
    try:
        changed = await accounts.reset_password(
            services.db, current_actor(request), user_id, password
        )
    except InvalidInput as exc:
        return await _users_page(request, services, errors={user_id: exc.fields}, status_code=422)
    return done(
        request,
        _("Пароль для %(login)s изменён. Сообщите его сотруднику лично.", login=changed.login),
        _found_user(changed),
    )


# --------------------------------------------------------------------------------------------
# The audit log


@get("/audit")
async def audit_log(
    request: Request[Any, Any, Any],
    services: Services,
    page: Annotated[int, Parameter(ge=1, le=DB_INT_MAX)] = 1,
) -> Template:
    found = await journal(services.db, current_actor(request), page)
    return render(request, "sysadmin/audit.html", settings_context(request, "audit", log=found))


ROUTES = [
    Router(
        path="/sysadmin",
        guards=[roles(Role.SYSADMIN)],
        route_handlers=[
            index,
            organisations,
            organisation_active,
            contractor_link,
            contractor_unlink,
            buildings,
            buildings_import,
            categories,
            users,
            user_active,
            user_password,
            audit_log,
            *(handler for pages in EDIT_PAGES for handler in pages.handlers()),
        ],
    )
]
