"""The audit log of the system admin's changes: one entry per change, written with it, never a
password; the «Журнал изменений» page shows it to the system admin alone."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from server.accounts import people as accounts
from server.app import create_app
from server.catalog import audit, building_import, buildings, categories, organisations, users
from server.catalog.buildings import BuildingForm
from server.catalog.categories import CategoryForm
from server.catalog.organisations import OrganisationForm
from server.catalog.users import UserForm
from server.db.models import AuditEntry, Category, User
from server.db.session import Database
from server.shared.errors import Forbidden, InvalidInput, NotFound
from server.shared.roles import SYSTEM_ACTOR, Actor, Role
from tests.http import login, post
from tests.integration.catalog.test_catalog import call, sysadmin
from tests.world import World

NEW_PASSWORD = "birch-lake-42"


def log(world: World) -> list[AuditEntry]:
    """Every entry, oldest first."""

    async def go(db: Database) -> list[AuditEntry]:
        async with db.read() as session:
            return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))

    return call(world, go)  # type: ignore[no-any-return]


def only_new_entry(world: World, before: int) -> AuditEntry:
    entries = log(world)
    assert len(entries) == before + 1, [(e.action, e.details) for e in entries[before:]]
    return entries[-1]


def stored(world: World, model: Any, record_id: int) -> Any:
    async def go(db: Database) -> Any:
        async with db.read() as session:
            return await session.get(model, record_id)

    return call(world, go)


def test_organisation_changes_each_leave_one_entry_with_before_and_after(world: World) -> None:
    admin = sysadmin(world)
    made = call(
        world,
        organisations.create_organisation,
        admin,
        OrganisationForm(kind="uk", name="ООО «УК Рассвет»", short_name="УК Рассвет"),
    )
    entry = only_new_entry(world, 0)
    assert (entry.action, entry.object_type, entry.object_id) == (
        "organisation_created",
        "organisation",
        made.id,
    )
    assert entry.actor_id == world.users["sysadmin"]
    assert entry.summary == "УК Рассвет"
    assert entry.details["changes"] == {
        "kind": [None, "uk"],
        "name": [None, "ООО «УК Рассвет»"],
        "short_name": [None, "УК Рассвет"],
        "active": [None, True],
    }

    form = OrganisationForm.of(made)
    form.phone, form.inn = "+7 85558 3-12-45", "1647012345"
    call(world, organisations.update_organisation, admin, made.id, form)
    entry = only_new_entry(world, 1)
    assert entry.action == "organisation_changed"
    assert entry.details["changes"] == {
        "phone": [None, "+78555831245"],
        "inn": [None, "1647012345"],
    }

    # Saving the form unchanged changes nothing, and logs nothing.
    call(world, organisations.update_organisation, admin, made.id, form)
    assert len(log(world)) == 2

    call(world, organisations.set_organisation_active, admin, made.id, False)
    entry = only_new_entry(world, 2)
    assert (entry.action, entry.details["changes"]) == (
        "organisation_deactivated",
        {"active": [True, False]},
    )
    call(world, organisations.set_organisation_active, admin, made.id, True)
    entry = only_new_entry(world, 3)
    assert (entry.action, entry.details["changes"]) == (
        "organisation_activated",
        {"active": [False, True]},
    )


def test_linking_and_unlinking_a_contractor_names_both_sides(world: World) -> None:
    admin = sysadmin(world)
    uk2, c1 = world.orgs["uk2"], world.orgs["c1"]
    call(world, organisations.link_contractor, admin, uk2, c1)
    entry = only_new_entry(world, 0)
    assert (entry.action, entry.object_id, entry.summary) == (
        "contractor_linked",
        uk2,
        "УК Уютный дом",
    )
    assert entry.details == {"contractor_id": c1, "contractor": "Сантехмонтаж"}
    # Linking again changes nothing.
    call(world, organisations.link_contractor, admin, uk2, c1)
    assert len(log(world)) == 1
    call(world, organisations.unlink_contractor, admin, uk2, c1)
    entry = only_new_entry(world, 1)
    assert (entry.action, entry.object_id, entry.details["contractor"]) == (
        "contractor_unlinked",
        uk2,
        "Сантехмонтаж",
    )


def test_house_changes_are_logged_without_the_derived_search_key(world: World) -> None:
    admin = sysadmin(world)
    house = call(
        world,
        buildings.create_building,
        admin,
        BuildingForm(street="улица Мира", house="5", manager_id=world.orgs["uk2"], floors=5),
    )
    entry = only_new_entry(world, 0)
    assert (entry.action, entry.object_type, entry.object_id, entry.summary) == (
        "building_created",
        "building",
        house.id,
        "улица Мира, 5",
    )
    assert entry.details["changes"] == {
        "street": [None, "улица Мира"],
        "house": [None, "5"],
        "manager_id": [None, world.orgs["uk2"]],
        "floors": [None, 5],
    }
    form = BuildingForm.of(house)
    form.floors, form.latitude, form.manager_id = 9, "55,3", world.orgs["tsj"]
    call(world, buildings.update_building, admin, house.id, form)
    entry = only_new_entry(world, 1)
    assert entry.action == "building_changed"
    assert entry.details["changes"] == {
        "manager_id": [world.orgs["uk2"], world.orgs["tsj"]],
        "latitude": [None, 55.3],
        "floors": [5, 9],
    }


def test_category_changes_are_logged_with_the_old_and_new_deadline(world: World) -> None:
    admin = sysadmin(world)
    made = call(
        world,
        categories.create_category,
        admin,
        CategoryForm(name="Сосульки", code="icicles", deadline_value="1", deadline_unit="day"),
    )
    entry = only_new_entry(world, 0)
    assert (entry.action, entry.object_id, entry.summary) == (
        "category_created",
        made.id,
        "Сосульки",
    )
    assert entry.details["changes"]["deadline_minutes"] == [None, 1440]
    window = stored(world, Category, world.categories["window"])
    form = CategoryForm.of(window)
    form.deadline_value, form.deadline_unit, form.priority = "2", "hour", "urgent"
    call(world, categories.update_category, admin, window.id, form)
    entry = only_new_entry(world, 1)
    assert entry.action == "category_changed"
    assert entry.details["changes"] == {
        "priority": ["normal", "urgent"],
        "deadline_minutes": [1440, 120],
    }


def test_account_changes_are_logged_and_the_password_never_is(world: World) -> None:
    admin = sysadmin(world)
    made = call(
        world,
        users.create_user,
        admin,
        UserForm(
            login="disp9",
            name="Гульназ Шарипова",
            role="dispatcher",
            organisation_id=world.orgs["uk2"],
            password=NEW_PASSWORD,
        ),
    )
    entry = only_new_entry(world, 0)
    assert (entry.action, entry.object_type, entry.object_id, entry.summary) == (
        "user_created",
        "user",
        made.id,
        "disp9",
    )
    assert entry.details["changes"] == {
        "login": [None, "disp9"],
        "name": [None, "Гульназ Шарипова"],
        "role": [None, "dispatcher"],
        "organisation_id": [None, world.orgs["uk2"]],
    }

    call(world, users.set_user_active, admin, made.id, False)
    entry = only_new_entry(world, 1)
    assert (entry.action, entry.details["changes"]) == (
        "user_deactivated",
        {"active": [True, False]},
    )
    call(world, users.set_user_active, admin, made.id, True)
    assert only_new_entry(world, 2).action == "user_activated"

    call(world, users.reset_password, admin, world.users["dispatcher"], "brand-new-pass")
    entry = only_new_entry(world, 3)
    assert (entry.action, entry.object_id, entry.summary, entry.details) == (
        "password_reset",
        world.users["dispatcher"],
        "dispatcher",
        {},
    )
    hashes = [stored(world, User, made.id).password_hash]
    hashes.append(stored(world, User, world.users["dispatcher"]).password_hash)
    everything = json.dumps([[e.summary, e.details] for e in log(world)], ensure_ascii=False)
    for secret in (NEW_PASSWORD, "brand-new-pass", *hashes):
        assert secret not in everything


def test_a_new_role_and_organisation_are_logged_with_the_old_ones(world: World) -> None:
    admin = sysadmin(world)
    worker = stored(world, User, world.users["worker"])
    form = UserForm.of(worker)
    call(world, users.update_user, admin, worker.id, form)
    assert log(world) == [], "saving the form unchanged is no change"
    form.role, form.organisation_id, form.name = "contractor", world.orgs["c2"], "Ильдар Хакимов"
    changed = call(world, users.update_user, admin, worker.id, form)
    assert (changed.role, changed.organisation_id, changed.login) == (
        "contractor",
        world.orgs["c2"],
        "worker",
    )
    entry = only_new_entry(world, 0)
    assert (entry.action, entry.object_id, entry.summary) == ("user_changed", worker.id, "worker")
    assert entry.details["changes"] == {
        "name": [worker.name, "Ильдар Хакимов"],
        "role": ["worker", "contractor"],
        "organisation_id": [world.orgs["c1"], world.orgs["c2"]],
    }
    # An operator belongs to no organisation: the one picked is dropped.
    form.role = "operator"
    assert call(world, users.update_user, admin, worker.id, form).organisation_id is None
    assert only_new_entry(world, 1).details["changes"]["organisation_id"] == [
        world.orgs["c2"],
        None,
    ]


def test_an_account_made_from_the_command_line_is_logged_as_the_system(world: World) -> None:
    call(world, accounts.create_user, login="ops", name="", role="operator", password=NEW_PASSWORD)
    entry = only_new_entry(world, 0)
    assert (entry.action, entry.actor_id, entry.summary) == ("user_created", None, "ops")


def test_an_import_is_one_entry_with_its_counts(world: World) -> None:
    admin = sysadmin(world)
    data = "street;house;manager\nулица Мира;5;УК Уютный дом\nулица Ленина;12;ТСЖ Ленина 5\n"
    report = call(world, building_import.import_buildings, admin, data.encode())
    assert report.ok
    entry = only_new_entry(world, 0)
    assert (entry.action, entry.object_type, entry.object_id, entry.actor_id) == (
        "buildings_imported",
        "building",
        None,
        world.users["sysadmin"],
    )
    assert entry.details == {"added": 1, "updated": 1, "unchanged": 0}
    # The same file again changes nothing.
    assert call(world, building_import.import_buildings, admin, data.encode()).unchanged == 2
    # A file with a bad row writes nothing, so it is not logged either.
    bad = data + "улица Мира;6;Нет такой УК\n"
    assert not call(world, building_import.import_buildings, admin, bad.encode()).ok
    assert len(log(world)) == 1


def _refused_changes(world: World) -> list[tuple[Callable[..., Awaitable[Any]], tuple[Any, ...]]]:
    return [
        (organisations.create_organisation, (OrganisationForm(kind="uk", name="", inn="12"),)),
        # A name already taken is refused by the database, inside the transaction.
        (
            organisations.create_organisation,
            (OrganisationForm(kind="uk", name="ООО «УК Уютный дом»"),),
        ),
        (
            organisations.update_organisation,
            (world.orgs["uk1"], OrganisationForm(kind="tsj", name="ООО «УК Заинск-Сервис»")),
        ),
        (organisations.link_contractor, (world.orgs["uk2"], world.orgs["uk1"])),
        (organisations.unlink_contractor, (world.orgs["uk2"], world.orgs["c2"])),
        (buildings.create_building, (BuildingForm(street="улица Мира", house="5", floors=0),)),
        (buildings.create_building, (BuildingForm(street="улица Ленина", house="12"),)),
        (
            buildings.update_building,
            (world.buildings["mira3"], BuildingForm(street="улица Ленина", house="12")),
        ),
        (categories.create_category, (CategoryForm(name="X", code="!", deadline_value="1"),)),
        (
            users.create_user,
            (UserForm(login="x", name="X", role="operator", password=NEW_PASSWORD),),
        ),
        (
            users.create_user,
            (UserForm(login="dispatcher", name="X", role="operator", password=NEW_PASSWORD),),
        ),
        (users.set_user_active, (world.users["sysadmin"], False)),
        (
            users.update_user,
            (
                world.users["dispatcher"],
                UserForm(role="dispatcher", organisation_id=world.orgs["c1"]),
            ),
        ),
        (users.update_user, (world.users["resident"], UserForm(role="operator"))),
        (users.update_user, (world.users["operator"], UserForm(role="resident"))),
        (users.update_user, (world.users["sysadmin"], UserForm(role="operator"))),
        (users.update_user, (world.users["operator"], UserForm(role="operator", phone="12"))),
        # A phone number another account has is refused by the database.
        (
            users.update_user,
            (world.users["operator"], UserForm(role="operator", phone="+79170000001")),
        ),
        (users.update_user, (world.users["operator"], UserForm(role="system"))),
        (users.reset_password, (world.users["dispatcher"], "short")),
    ]


def test_a_change_that_is_refused_leaves_no_entry(world: World) -> None:
    admin = sysadmin(world)
    for fn, args in _refused_changes(world):
        with pytest.raises((InvalidInput, NotFound)):
            call(world, fn, admin, *args)
        assert log(world) == [], fn.__name__


@pytest.fixture
def admin_client(world: World) -> Any:
    with TestClient(create_app(world.settings)) as client:
        login(client, "sysadmin")
        yield client


def test_the_log_page_shows_who_did_what_in_words(
    world: World, admin_client: TestClient[Any]
) -> None:
    window = stored(world, Category, world.categories["window"])
    form = {f: getattr(CategoryForm.of(window), f) for f in CategoryForm.__struct_fields__}
    form.update(deadline_value="2", deadline_unit="hour", active="1")
    assert post(admin_client, f"/sysadmin/categories/{window.id}", form).status_code == 303
    made = post(
        admin_client,
        "/sysadmin/users/new",
        {
            "login": "disp9",
            "name": "Гульназ Шарипова",
            "role": "dispatcher",
            "organisation_id": world.orgs["uk2"],
            "password": NEW_PASSWORD,
        },
    )
    assert made.status_code == 303
    edit = f"/sysadmin/users/{world.users['worker']}"
    assert 'value="Тест worker"' in admin_client.get(edit).text
    moved = {"name": "Тест worker", "role": "worker", "organisation_id": world.orgs["c2"]}
    assert post(admin_client, edit, moved).status_code == 303
    reset = f"/sysadmin/users/{world.users['dispatcher']}/password"
    assert post(admin_client, reset, {"password": "brand-new-pass"}).status_code == 303
    from_command_line = "street;house;manager\nулица Мира;1;ТСЖ Ленина 5\n".encode()
    call(world, building_import.import_buildings_csv, from_command_line)

    page = admin_client.get("/sysadmin/audit")
    assert page.status_code == 200
    text = page.text
    assert "Журнал изменений" in text and 'aria-current="page"' in text
    # Newest first.
    order = [
        text.index("Реестр домов загружен из файла"),
        text.index("Задан новый пароль"),
        text.index("Пользователь добавлен"),
        text.index("Категория изменена"),
    ]
    assert order == sorted(order)
    assert "Система (командная строка)" in text
    assert "Добавлено: 1, обновлено: 0, без изменений: 0." in text
    assert "Срок исполнения: 1 сут → 2 ч" in text
    assert "Роль: Диспетчер" in text
    assert "Организация: Сантехмонтаж → ЛифтСервис" in text
    assert "Организация: УК Уютный дом" in text, "an organisation is named, not numbered"
    assert "Администратор системы" in text
    assert f'href="/sysadmin/categories/{window.id}"' in text
    for secret in (NEW_PASSWORD, "brand-new-pass", "$argon2"):
        assert secret not in text


def test_the_log_is_paged_newest_first(world: World, admin_client: TestClient[Any]) -> None:
    async def fill(db: Database) -> None:
        async with db.begin() as session:
            for n in range(audit.PAGE_SIZE + 1):
                audit.record(
                    session,
                    SYSTEM_ACTOR,
                    audit.AuditAction.CATEGORY_CHANGED,
                    audit.AuditObject.CATEGORY,
                    world.categories["other"],
                    f"Категория {n:03}",
                )

    call(world, fill)
    first = admin_client.get("/sysadmin/audit").text
    assert first.count("Категория изменена") == audit.PAGE_SIZE
    assert "«Категория 100»" in first and "«Категория 000»" not in first
    assert 'href="/sysadmin/audit?page=2"' in first and "Страница 1 из 2" in first
    second = admin_client.get("/sysadmin/audit?page=2").text
    assert second.count("Категория изменена") == 1 and "«Категория 000»" in second
    assert admin_client.get("/sysadmin/audit?page=0").status_code == 400
    assert admin_client.get("/sysadmin/audit?page=99999999999").status_code == 400


@pytest.mark.parametrize(
    "login_name",
    ["resident", "operator", "dispatcher", "contractor", "worker", "cityadmin", "dispatcher_rso"],
)
def test_nobody_but_the_system_admin_opens_the_log(world: World, login_name: str) -> None:
    call(world, organisations.set_organisation_active, sysadmin(world), world.orgs["c3"], False)
    with TestClient(create_app(world.settings)) as client:
        login(client, login_name)
        response = client.get("/sysadmin/audit")
        assert response.status_code == 403
        assert "ИП Гарипов" not in response.text
        assert client.get(f"/sysadmin/users/{world.users['worker']}").status_code == 403
        moved = {"name": "X", "role": "worker", "organisation_id": world.orgs["c2"]}
        refused = post(client, f"/sysadmin/users/{world.users['worker']}", moved)
        assert refused.status_code == 403
    assert stored(world, User, world.users["worker"]).organisation_id == world.orgs["c1"]


def test_signed_out_visitor_is_sent_to_sign_in_from_the_log(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = client.get("/sysadmin/audit", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_the_log_is_read_by_no_role_but_the_system_admin(world: World) -> None:
    for role in Role:
        if role is not Role.SYSADMIN:
            with pytest.raises(Forbidden):
                call(world, audit.entries, Actor(world.users["cityadmin"], role))


def test_a_refused_account_edit_comes_back_with_the_message_and_no_entry(
    world: World, admin_client: TestClient[Any]
) -> None:
    edit = f"/sysadmin/users/{world.users['dispatcher']}"
    typed = {"name": "Новое имя", "role": "dispatcher", "organisation_id": world.orgs["c1"]}
    response = post(admin_client, edit, typed)
    assert response.status_code == 422
    assert "Выберите организацию, подходящую для этой роли." in response.text
    assert 'value="Новое имя"' in response.text, "what was typed stays in the form"
    assert stored(world, User, world.users["dispatcher"]).name == "Тест dispatcher"
    assert log(world) == []


def test_a_deleted_account_leaves_the_log_without_its_name_login_or_phone(
    world: World, admin_client: TestClient[Any]
) -> None:
    from server.accounts.personal_data import delete_account

    made = call(
        world,
        accounts.create_user,
        login="gulshat.kh",
        name="Гульшат Хайруллина",
        role="resident",
        password="birch-lake-42",
        phone="+7 917 765-43-21",
        actor=sysadmin(world),
    )
    before = admin_client.get("/sysadmin/audit").text
    assert "Гульшат Хайруллина" in before and "gulshat.kh" in before

    call(world, delete_account, made.id, "birch-lake-42")

    after = admin_client.get("/sysadmin/audit").text
    assert "Учётная запись удалена владельцем" in after
    assert "Пользователь добавлен" in after, "what was done stays in the log"
    for trace in ("Гульшат", "Хайруллина", "gulshat.kh", "765-43-21", "9177654321"):
        assert trace not in after, trace
