"""The system admin's settings pages: organisations, buildings, categories, users.

Handlers parse the request and render; the use cases in services.catalog check the role
again, validate, and write in one transaction.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Router, get, post
from litestar.datastructures import UploadFile
from litestar.response import Redirect, Template

from server.catalog import service as catalog
from server.catalog.service import BuildingForm, CategoryForm, OrganisationForm, UserForm
from server.i18n import gettext as _
from server.shared.errors import InvalidInput
from server.shared.guards import current_actor, roles
from server.shared.rendering import flash, redirect, render
from server.shared.roles import OrgKind, Role
from server.shared.services import Services

Page = Template | Redirect
MAX_CSV = catalog.MAX_IMPORT_BYTES


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


async def _fields(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _base(request: Request[Any, Any, Any], section: str, **extra: Any) -> dict[str, Any]:
    return {
        "user": request.scope["user"],
        "section": section,
        "human_minutes": catalog.human_minutes,
        **extra,
    }


def _done(request: Request[Any, Any, Any], message: str, url: str) -> Redirect:
    flash(request, message)
    return redirect(request, url)  # type: ignore[return-value]


# --------------------------------------------------------------------------------------------
# Index


@get("/", name="sysadmin")
async def index(request: Request[Any, Any, Any], services: Services) -> Template:
    overview = await catalog.overview(services.db, current_actor(request))
    return render(request, "sysadmin/index.html", _base(request, "index", overview=overview))


# --------------------------------------------------------------------------------------------
# Organisations


@get("/organisations")
async def organisations(
    request: Request[Any, Any, Any], services: Services, kind: str = ""
) -> Template:
    actor = current_actor(request)
    kind = kind if kind in {k.value for k in OrgKind} else ""
    rows = await catalog.list_organisations(services.db, actor, kind or None)
    links = await catalog.contractor_links(services.db, actor)
    return render(
        request,
        "sysadmin/organisations.html",
        _base(request, "organisations", rows=rows, links=links, kind=kind, kinds=list(OrgKind)),
    )


async def _organisation_page(
    request: Request[Any, Any, Any],
    services: Services,
    organisation_id: int | None,
    form: OrganisationForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    detail = None
    if organisation_id is not None:
        detail = await catalog.get_organisation(
            services.db, current_actor(request), organisation_id
        )
        if form is None:
            org = detail.organisation
            form = OrganisationForm(
                kind=org.kind,
                name=org.name,
                short_name=org.short_name,
                phone=org.phone or "",
                email=org.email or "",
                inn=org.inn or "",
            )
    context = _base(
        request,
        "organisations",
        detail=detail,
        form=form or OrganisationForm(),
        errors=errors or {},
        kinds=list(OrgKind),
        handling_kinds=[k.value for k in (OrgKind.UK, OrgKind.TSJ, OrgKind.RSO)],
    )
    return render(request, "sysadmin/organisation_form.html", context, status_code=status_code)


@get("/organisations/new")
async def organisation_new(request: Request[Any, Any, Any], services: Services) -> Template:
    return await _organisation_page(request, services, None)


@post("/organisations/new")
async def organisation_create(request: Request[Any, Any, Any], services: Services) -> Page:
    form = OrganisationForm.of(await _fields(request))
    try:
        org = await catalog.create_organisation(services.db, current_actor(request), form)
    except InvalidInput as exc:
        return await _organisation_page(request, services, None, form, exc.fields, 422)
    return _done(
        request,
        _("Организация «%(name)s» добавлена.", name=org.short_name),
        f"/sysadmin/organisations/{org.id}",
    )


@get("/organisations/{organisation_id:int}")
async def organisation_edit(
    request: Request[Any, Any, Any], services: Services, organisation_id: int
) -> Template:
    return await _organisation_page(request, services, organisation_id)


@post("/organisations/{organisation_id:int}")
async def organisation_update(
    request: Request[Any, Any, Any], services: Services, organisation_id: int
) -> Page:
    form = OrganisationForm.of(await _fields(request))
    try:
        org = await catalog.update_organisation(
            services.db, current_actor(request), organisation_id, form
        )
    except InvalidInput as exc:
        return await _organisation_page(request, services, organisation_id, form, exc.fields, 422)
    return _done(
        request,
        _("Изменения сохранены."),
        f"/sysadmin/organisations/{org.id}",
    )


@post("/organisations/{organisation_id:int}/active")
async def organisation_active(
    request: Request[Any, Any, Any], services: Services, organisation_id: int
) -> Page:
    active = (await _fields(request)).get("active") == "1"
    org = await catalog.set_organisation_active(
        services.db, current_actor(request), organisation_id, active
    )
    message = (
        _("Организация «%(name)s» включена.", name=org.short_name)
        if active
        else _("Организация «%(name)s» отключена.", name=org.short_name)
    )
    return _done(request, message, f"/sysadmin/organisations/{org.id}")


@post("/organisations/{organisation_id:int}/contractors")
async def contractor_link(
    request: Request[Any, Any, Any], services: Services, organisation_id: int
) -> Page:
    contractor_id = _int((await _fields(request)).get("contractor_id"))
    try:
        await catalog.link_contractor(
            services.db, current_actor(request), organisation_id, contractor_id
        )
    except InvalidInput as exc:
        return await _organisation_page(request, services, organisation_id, None, exc.fields, 422)
    return _done(request, _("Подрядчик добавлен."), f"/sysadmin/organisations/{organisation_id}")


@post("/organisations/{organisation_id:int}/contractors/{contractor_id:int}/delete")
async def contractor_unlink(
    request: Request[Any, Any, Any], services: Services, organisation_id: int, contractor_id: int
) -> Page:
    await catalog.unlink_contractor(
        services.db, current_actor(request), organisation_id, contractor_id
    )
    return _done(request, _("Подрядчик отвязан."), f"/sysadmin/organisations/{organisation_id}")


# --------------------------------------------------------------------------------------------
# Buildings


async def _buildings_page(
    request: Request[Any, Any, Any],
    services: Services,
    q: str = "",
    report: catalog.ImportReport | None = None,
    status_code: int = 200,
) -> Template:
    actor = current_actor(request)
    rows = await catalog.list_buildings(services.db, actor, q[:100])
    context = _base(
        request,
        "buildings",
        rows=rows,
        q=q,
        total=await catalog.count_buildings(services.db, actor),
        limit=catalog.LIST_LIMIT,
        report=report,
    )
    return render(
        request, "sysadmin/buildings.html", context, block="results", status_code=status_code
    )


@get("/buildings")
async def buildings(request: Request[Any, Any, Any], services: Services, q: str = "") -> Template:
    return await _buildings_page(request, services, q)


@post("/buildings/import", request_max_body_size=MAX_CSV + 64 * 1024)
async def buildings_import(request: Request[Any, Any, Any], services: Services) -> Template:
    upload = (await request.form()).get("file")
    data = await upload.read(MAX_CSV + 1) if isinstance(upload, UploadFile) else b""
    report = await catalog.import_buildings(services.db, current_actor(request), data)
    return await _buildings_page(
        request, services, report=report, status_code=422 if report.errors else 200
    )


async def _building_page(
    request: Request[Any, Any, Any],
    services: Services,
    building_id: int | None,
    form: BuildingForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    building = None
    if building_id is not None:
        building = await catalog.get_building(services.db, current_actor(request), building_id)
        form = form or BuildingForm.from_building(building)
    context = _base(
        request,
        "buildings",
        building=building,
        form=form or BuildingForm(),
        errors=errors or {},
        managers=await catalog.managers(services.db),
    )
    return render(request, "sysadmin/building_form.html", context, status_code=status_code)


@get("/buildings/new")
async def building_new(request: Request[Any, Any, Any], services: Services) -> Template:
    return await _building_page(request, services, None)


@post("/buildings/new")
async def building_create(request: Request[Any, Any, Any], services: Services) -> Page:
    form = BuildingForm.of(await _fields(request))
    try:
        building = await catalog.create_building(services.db, current_actor(request), form)
    except InvalidInput as exc:
        return await _building_page(request, services, None, form, exc.fields, 422)
    return _done(
        request,
        _("Дом «%(address)s» добавлен.", address=building.address),
        "/sysadmin/buildings?q=" + quote(f"{building.street} {building.house}"),
    )


@get("/buildings/{building_id:int}")
async def building_edit(
    request: Request[Any, Any, Any], services: Services, building_id: int
) -> Template:
    return await _building_page(request, services, building_id)


@post("/buildings/{building_id:int}")
async def building_update(
    request: Request[Any, Any, Any], services: Services, building_id: int
) -> Page:
    form = BuildingForm.of(await _fields(request))
    try:
        building = await catalog.update_building(
            services.db, current_actor(request), building_id, form
        )
    except InvalidInput as exc:
        return await _building_page(request, services, building_id, form, exc.fields, 422)
    return _done(
        request,
        _("Дом «%(address)s» сохранён.", address=building.address),
        f"/sysadmin/buildings/{building.id}",
    )


# --------------------------------------------------------------------------------------------
# Categories and deadlines


@get("/categories")
async def categories(request: Request[Any, Any, Any], services: Services) -> Template:
    actor = current_actor(request)
    rows = await catalog.list_categories(services.db, actor)
    orgs = {o.id: o for o in await catalog.handler_organisations(services.db)}
    return render(
        request, "sysadmin/categories.html", _base(request, "categories", rows=rows, orgs=orgs)
    )


async def _category_page(
    request: Request[Any, Any, Any],
    services: Services,
    category_id: int | None,
    form: CategoryForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    category = None
    if category_id is not None:
        category = await catalog.get_category(services.db, current_actor(request), category_id)
        form = form or CategoryForm.from_category(category)
    context = _base(
        request,
        "categories",
        category=category,
        form=form or CategoryForm(),
        errors=errors or {},
        handler_orgs=await catalog.handler_organisations(services.db),
        priorities=catalog.PRIORITIES,
        units=[("min", _("мин")), ("hour", _("ч")), ("day", _("сут"))],
    )
    return render(request, "sysadmin/category_form.html", context, status_code=status_code)


@get("/categories/new")
async def category_new(request: Request[Any, Any, Any], services: Services) -> Template:
    return await _category_page(request, services, None)


@post("/categories/new")
async def category_create(request: Request[Any, Any, Any], services: Services) -> Page:
    form = CategoryForm.of(await _fields(request))
    try:
        category = await catalog.create_category(services.db, current_actor(request), form)
    except InvalidInput as exc:
        return await _category_page(request, services, None, form, exc.fields, 422)
    return _done(
        request, _("Категория «%(name)s» добавлена.", name=category.name), "/sysadmin/categories"
    )


@get("/categories/{category_id:int}")
async def category_edit(
    request: Request[Any, Any, Any], services: Services, category_id: int
) -> Template:
    return await _category_page(request, services, category_id)


@post("/categories/{category_id:int}")
async def category_update(
    request: Request[Any, Any, Any], services: Services, category_id: int
) -> Page:
    form = CategoryForm.of(await _fields(request))
    try:
        category = await catalog.update_category(
            services.db, current_actor(request), category_id, form
        )
    except InvalidInput as exc:
        return await _category_page(request, services, category_id, form, exc.fields, 422)
    return _done(
        request, _("Категория «%(name)s» сохранена.", name=category.name), "/sysadmin/categories"
    )


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
    role = role if role in {r.value for r in catalog.ASSIGNABLE_ROLES} else ""
    rows = await catalog.list_users(services.db, current_actor(request), role=role, query=q[:100])
    context = _base(
        request,
        "users",
        rows=rows,
        role=role,
        q=q,
        roles=catalog.ASSIGNABLE_ROLES,
        limit=catalog.LIST_LIMIT,
        row_errors=errors or {},
    )
    return render(request, "sysadmin/users.html", context, block="results", status_code=status_code)


@get("/users")
async def users(
    request: Request[Any, Any, Any], services: Services, role: str = "", q: str = ""
) -> Template:
    return await _users_page(request, services, role, q)


async def _user_page(
    request: Request[Any, Any, Any],
    services: Services,
    form: UserForm | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Template:
    context = _base(
        request,
        "users",
        form=form or UserForm(),
        errors=errors or {},
        roles=catalog.ASSIGNABLE_ROLES,
        organisations=await catalog.staff_organisations(services.db),
    )
    return render(request, "sysadmin/user_form.html", context, status_code=status_code)


@get("/users/new")
async def user_new(request: Request[Any, Any, Any], services: Services) -> Template:
    return await _user_page(request, services)


@post("/users/new")
async def user_create(request: Request[Any, Any, Any], services: Services) -> Page:
    form = UserForm.of(await _fields(request))
    try:
        created = await catalog.create_user(services.db, current_actor(request), form)
    except InvalidInput as exc:
        form.password = ""  # never echo a password back into the page
        return await _user_page(request, services, form, exc.fields, 422)
    return _done(
        request,
        _("Пользователь %(login)s создан.", login=created.login),
        "/sysadmin/users?q=" + quote(created.login),
    )


@post("/users/{user_id:int}/active")
async def user_active(request: Request[Any, Any, Any], services: Services, user_id: int) -> Page:
    active = (await _fields(request)).get("active") == "1"
    try:
        changed = await catalog.set_user_active(
            services.db, current_actor(request), user_id, active
        )
    except InvalidInput as exc:
        return await _users_page(request, services, errors={user_id: exc.fields}, status_code=422)
    message = (
        _("Учётная запись %(login)s включена.", login=changed.login)
        if active
        else _("Учётная запись %(login)s отключена.", login=changed.login)
    )
    return _done(request, message, "/sysadmin/users?q=" + quote(changed.login))


@post("/users/{user_id:int}/password")
async def user_password(request: Request[Any, Any, Any], services: Services, user_id: int) -> Page:
    password = (await _fields(request)).get("password", "")
    try:
        changed = await catalog.reset_password(
            services.db, current_actor(request), user_id, password
        )
    except InvalidInput as exc:
        return await _users_page(request, services, errors={user_id: exc.fields}, status_code=422)
    return _done(
        request,
        _("Пароль для %(login)s изменён. Сообщите его сотруднику лично.", login=changed.login),
        "/sysadmin/users?q=" + quote(changed.login),
    )


ROUTES = [
    Router(
        path="/sysadmin",
        guards=[roles(Role.SYSADMIN)],
        route_handlers=[
            index,
            organisations,
            organisation_new,
            organisation_create,
            organisation_edit,
            organisation_update,
            organisation_active,
            contractor_link,
            contractor_unlink,
            buildings,
            buildings_import,
            building_new,
            building_create,
            building_edit,
            building_update,
            categories,
            category_new,
            category_create,
            category_edit,
            category_update,
            users,
            user_new,
            user_create,
            user_active,
            user_password,
        ],
    )
]
