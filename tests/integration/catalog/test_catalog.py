"""The system admin's use cases: organisations, houses, categories, users, and the CSV import."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from server.accounts import people as accounts
from server.catalog import (
    building_import,
    buildings,
    categories,
    deadline_units,
    organisations,
    users,
)
from server.catalog.buildings import BuildingForm
from server.catalog.categories import CategoryForm
from server.catalog.organisations import OrganisationForm
from server.catalog.users import UserForm
from server.db.models import Building, Category, Organisation, Request, User
from server.db.session import Database
from server.live.bus import EventBus
from server.requests import lists as request_lists
from server.requests import queries
from server.requests.actions import ActionInput, perform
from server.requests.filing import NewRequest, file_request
from server.requests.workflow import Action
from server.shared.errors import Forbidden, InvalidInput
from server.shared.roles import Actor, Role
from server.shared.services import Services
from tests.conftest import run_async
from tests.world import World, add_houses

ROOT = Path(__file__).resolve().parents[3]


def call(world: World, fn: Callable[..., Awaitable[Any]], *args: Any, **kwargs: Any) -> Any:
    """Run one use case against the test database, as a route would."""

    async def go() -> Any:
        db = Database(world.settings.database_url)
        try:
            return await fn(db, *args, **kwargs)
        finally:
            await db.dispose()

    return run_async(go)


def with_services(world: World, fn: Callable[[Services], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        db = Database(world.settings.database_url)
        try:
            return await fn(Services(settings=world.settings, db=db, bus=EventBus()))
        finally:
            await db.dispose()

    return run_async(go)


def actor(world: World, login: str, role: Role, org: str | None = None) -> Actor:
    return Actor(world.users[login], role, world.orgs[org] if org else None)


def sysadmin(world: World) -> Actor:
    return actor(world, "sysadmin", Role.SYSADMIN)


def count(world: World, model: Any, *where: Any) -> int:
    async def go(db: Database) -> int:
        async with db.read() as session:
            return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return call(world, go)


def building_at(world: World, street: str, house: str) -> Building | None:
    async def go(db: Database) -> Building | None:
        async with db.read() as session:
            return (
                await session.scalars(
                    select(Building).where(Building.street == street, Building.house == house)
                )
            ).first()

    return call(world, go)


# --------------------------------------------------------------------------------------------
# Who may


def test_only_the_system_admin_changes_settings(world: World) -> None:
    others = [
        actor(world, "cityadmin", Role.CITY_ADMIN, "admin"),
        actor(world, "dispatcher", Role.DISPATCHER, "uk1"),
        actor(world, "operator", Role.OPERATOR),
        actor(world, "resident", Role.RESIDENT),
    ]
    attempts = [
        (organisations.create_organisation, (OrganisationForm(kind="uk", name="ООО «Новая УК»"),)),
        (organisations.set_organisation_active, (world.orgs["uk1"], False)),
        (organisations.link_contractor, (world.orgs["uk2"], world.orgs["c1"])),
        (buildings.create_building, (BuildingForm(street="улица Мира", house="1"),)),
        (
            buildings.update_building,
            (world.buildings["lenina12"], BuildingForm(street="ул. Ленина", house="1")),
        ),
        (categories.create_category, (CategoryForm(name="Новая", code="new", deadline_value="1"),)),
        (
            users.create_user,
            (UserForm(login="newbie", name="Новичок", role="operator", password="birch-lake-42"),),
        ),
        (users.set_user_active, (world.users["dispatcher"], False)),
        (users.reset_password, (world.users["dispatcher"], "another-secret")),
        (
            building_import.import_buildings,
            ("street;house;manager\nулица Мира;1;Водоканал\n".encode(),),
        ),
    ]
    before = [count(world, m) for m in (Organisation, Building, Category, User)]
    for who in others:
        for fn, args in attempts:
            with pytest.raises(Forbidden):
                call(world, fn, who, *args)
    assert [count(world, m) for m in (Organisation, Building, Category, User)] == before
    assert call(world, accounts.authenticate, "dispatcher", "password123") is not None


def test_city_admin_may_read_settings_but_a_dispatcher_may_not(world: World) -> None:
    city = actor(world, "cityadmin", Role.CITY_ADMIN, "admin")
    assert len(call(world, organisations.list_organisations, city)) == 8
    assert len(call(world, buildings.list_buildings, city)) == 5
    assert len(call(world, categories.list_categories, city)) == 5
    assert len(call(world, users.list_users, city)) == len(world.users)
    dispatcher = actor(world, "dispatcher", Role.DISPATCHER, "uk1")
    for fn in (users.list_users, buildings.list_buildings, organisations.list_organisations):
        with pytest.raises(Forbidden):
            call(world, fn, dispatcher)


def test_the_sysadmin_building_list_is_in_natural_house_order(world: World) -> None:
    street = "проспект Нефтяников"
    run_async(add_houses, world.settings, street, ["15", "5/2", "5к1", "5А", "5"])
    listed = call(world, buildings.list_buildings, sysadmin(world), "Нефтяников")
    assert [b.house for b in listed] == ["5", "5А", "5к1", "5/2", "15"]


# --------------------------------------------------------------------------------------------
# Organisations


def test_organisation_needs_a_kind_a_name_and_a_valid_inn(world: World) -> None:
    with pytest.raises(InvalidInput) as error:
        call(
            world,
            organisations.create_organisation,
            sysadmin(world),
            OrganisationForm(kind="bank", name=" ", inn="12345", phone="123", email="nope"),
        )
    assert error.value.fields == {
        "kind": "Выберите вид организации.",
        "name": "Укажите полное название.",
        "inn": "ИНН — 10 или 12 цифр.",
        "phone": "Неверный номер телефона, например +7 85558 3-12-45.",
        "email": "Неверный адрес почты.",
    }
    with pytest.raises(InvalidInput) as duplicate:
        call(
            world,
            organisations.create_organisation,
            sysadmin(world),
            OrganisationForm(kind="uk", name="ООО «УК Заинск-Сервис»"),
        )
    assert duplicate.value.fields == {"name": "Организация с таким названием уже есть."}
    assert count(world, Organisation) == 8


def test_new_organisation_is_stored_with_a_normalised_phone(world: World) -> None:
    org = call(
        world,
        organisations.create_organisation,
        sysadmin(world),
        OrganisationForm(
            kind="tsj", name="  ТСЖ  «Рассвет» ", phone="8 (85558) 3-44-10", inn="1647 000111"
        ),
    )
    assert (org.name, org.short_name, org.phone, org.inn, org.active) == (
        "ТСЖ «Рассвет»",
        "ТСЖ «Рассвет»",
        "+78555834410",
        "1647000111",
        True,
    )


def test_organisation_kind_cannot_change_while_people_or_houses_depend_on_it(
    world: World,
) -> None:
    with pytest.raises(InvalidInput) as error:
        call(
            world,
            organisations.update_organisation,
            sysadmin(world),
            world.orgs["uk1"],
            OrganisationForm(kind="contractor", name="ООО «УК Заинск-Сервис»"),
        )
    assert "Вид нельзя сменить" in error.value.fields["kind"]
    fresh = call(
        world,
        organisations.create_organisation,
        sysadmin(world),
        OrganisationForm(kind="uk", name="ООО «Тест»"),
    )
    changed = call(
        world,
        organisations.update_organisation,
        sysadmin(world),
        fresh.id,
        OrganisationForm(kind="tsj", name="ТСЖ «Тест»"),
    )
    assert (changed.kind, changed.name) == ("tsj", "ТСЖ «Тест»")


def test_a_linked_contractor_can_be_assigned_and_an_unlinked_one_cannot(world: World) -> None:
    admin = sysadmin(world)
    dispatcher = actor(world, "dispatcher2", Role.DISPATCHER, "uk2")
    resident = actor(world, "resident", Role.RESIDENT)

    async def file(svc: Services) -> Request:
        form = NewRequest(world.buildings["sovet7"], world.categories["other"], "Дверь не закрыта")
        return (await file_request(svc, resident, form)).request

    def assign(request: Request, contractor: str) -> Any:
        return with_services(
            world,
            lambda svc: perform(
                svc,
                dispatcher,
                request.id,
                Action.ASSIGN,
                ActionInput(expected_version=request.version, contractor_id=world.orgs[contractor]),
            ),
        )

    first, second = with_services(world, file), with_services(world, file)
    with pytest.raises(InvalidInput):
        assign(first, "c1")  # c1 does not work for УК Уютный дом yet
    call(world, organisations.link_contractor, admin, world.orgs["uk2"], world.orgs["c1"])
    call(world, organisations.link_contractor, admin, world.orgs["uk2"], world.orgs["c1"])  # no-op
    assert assign(first, "c1").request.contractor_id == world.orgs["c1"]
    detail = call(world, organisations.get_organisation, admin, world.orgs["uk2"])
    assert {c.id for c in detail.contractors} == {world.orgs["c1"], world.orgs["c3"]}

    call(world, organisations.unlink_contractor, admin, world.orgs["uk2"], world.orgs["c1"])
    with pytest.raises(InvalidInput):
        assign(second, "c1")
    with pytest.raises(InvalidInput) as error:
        call(world, organisations.link_contractor, admin, world.orgs["c1"], world.orgs["c2"])
    assert error.value.fields == {"contractor_id": "Подрядчиков назначают только УК, ТСЖ и РСО."}
    with pytest.raises(InvalidInput):
        call(world, organisations.link_contractor, admin, world.orgs["uk2"], world.orgs["rso"])


def test_switched_off_manager_sends_new_requests_to_triage(world: World) -> None:
    call(world, organisations.set_organisation_active, sysadmin(world), world.orgs["uk1"], False)

    async def file_and_queue(svc: Services) -> tuple[int | None, list[int]]:
        outcome = await file_request(
            svc,
            actor(world, "resident", Role.RESIDENT),
            NewRequest(world.buildings["lenina12"], world.categories["lift"], "Лифт стоит"),
        )
        queue = await request_lists.triage_queue(svc)
        return outcome.request.organisation_id, [row.request.id for row in queue]

    organisation_id, queue = with_services(world, file_and_queue)
    assert organisation_id is None and len(queue) == 1


# --------------------------------------------------------------------------------------------
# Buildings


def test_new_house_is_found_by_residents_as_they_type(world: World) -> None:
    building = call(
        world,
        buildings.create_building,
        sysadmin(world),
        BuildingForm(
            street=" Проспект  Нефтяников ",
            house="7А",
            manager_id=world.orgs["tsj"],
            latitude="55,2991",
            longitude="52.0062",
            floors=9,
            flats=144,
        ),
    )
    assert building.street == "Проспект Нефтяников"
    assert building.search_key == "проспект нефтяников 7а"
    assert (building.latitude, building.longitude, building.floors) == (55.2991, 52.0062, 9)
    found = with_services(world, lambda svc: queries.search_buildings(svc, "нефтяников 7а"))
    assert [b.id for b in found] == [building.id]


def test_house_manager_must_be_a_uk_or_tsj_and_the_address_unique(world: World) -> None:
    admin = sysadmin(world)
    for org in ("c1", "rso", "admin"):
        with pytest.raises(InvalidInput) as error:
            call(
                world,
                buildings.create_building,
                admin,
                BuildingForm(street="улица Мира", house="1", manager_id=world.orgs[org]),
            )
        assert error.value.fields == {
            "manager_id": "Дом обслуживает УК или ТСЖ: выберите из списка."
        }
    with pytest.raises(InvalidInput) as bad:
        call(
            world,
            buildings.create_building,
            admin,
            BuildingForm(latitude="север", floors=0),
        )
    assert set(bad.value.fields) == {"street", "house", "latitude", "floors"}
    with pytest.raises(InvalidInput) as duplicate:
        call(
            world, buildings.create_building, admin, BuildingForm(street="улица Ленина", house="12")
        )
    assert duplicate.value.fields == {"house": "Такой дом уже есть в реестре."}
    assert count(world, Building) == 5
    unmanaged = call(
        world, buildings.create_building, admin, BuildingForm(street="улица Мира", house="1")
    )
    assert unmanaged.manager_id is None


def test_editing_a_house_moves_it_to_another_manager(world: World) -> None:
    updated = call(
        world,
        buildings.update_building,
        sysadmin(world),
        world.buildings["orphan"],
        BuildingForm(street="улица Новая", house="1", manager_id=world.orgs["uk2"], floors=5),
    )
    assert (updated.manager_id, updated.floors) == (world.orgs["uk2"], 5)


# --------------------------------------------------------------------------------------------
# Categories


def test_category_deadline_is_typed_in_units_and_shown_in_human_terms(world: World) -> None:
    category = call(
        world,
        categories.create_category,
        sysadmin(world),
        CategoryForm(
            name="Сосульки на крыше",
            code="icicles",
            group="Кровля",
            priority="urgent",
            deadline_value="1,5",
            deadline_unit="hour",
            summer_deadline_value="3",
            summer_deadline_unit="day",
            active=True,
            sort=5,
        ),
    )
    assert (category.deadline_minutes, category.summer_deadline_minutes) == (90, 4320)
    assert category.handler == "manager" and category.handler_organisation_id is None
    assert [deadline_units.human_minutes(m) for m in (30, 120, 1440, 11520, 90, 1500)] == [
        "30 мин",
        "2 ч",
        "1 сут",
        "8 сут",
        "1 ч 30 мин",
        "1 сут 1 ч",
    ]
    assert deadline_units.split_minutes(11520) == ("8", "day")
    form = CategoryForm.of(category)
    assert (form.deadline_value, form.deadline_unit) == ("90", "min")


def test_category_code_handler_and_deadline_are_checked(world: World) -> None:
    admin = sysadmin(world)
    with pytest.raises(InvalidInput) as error:
        call(
            world,
            categories.create_category,
            admin,
            CategoryForm(
                name="Вода",
                code="Вода!",
                priority="soon",
                deadline_value="0",
                handler="organisation",
                handler_organisation_id=world.orgs["c1"],
            ),
        )
    assert set(error.value.fields) == {"code", "priority", "deadline", "handler_organisation_id"}
    with pytest.raises(InvalidInput) as duplicate:
        call(
            world,
            categories.create_category,
            admin,
            CategoryForm(name="Протечка", code="leak", deadline_value="30", deadline_unit="min"),
        )
    assert duplicate.value.fields == {"code": "Категория с таким кодом уже есть."}
    water = call(
        world,
        categories.create_category,
        admin,
        CategoryForm(
            name="Слабый напор",
            code="pressure",
            deadline_value="1",
            handler="organisation",
            handler_organisation_id=world.orgs["rso"],
        ),
    )
    assert water.handler_organisation_id == world.orgs["rso"]
    assert count(world, Category) == 6


def test_hidden_category_is_no_longer_offered(world: World) -> None:
    leak = call(world, categories.get_category, sysadmin(world), world.categories["leak"])
    form = CategoryForm.of(leak)
    form.active = False
    call(world, categories.update_category, sysadmin(world), leak.id, form)
    offered = with_services(world, queries.categories)
    assert leak.id not in {c.id for c in offered} and len(offered) == 4


# --------------------------------------------------------------------------------------------
# Users


def test_created_staff_account_signs_in_and_belongs_to_its_organisation(world: World) -> None:
    admin = sysadmin(world)
    with pytest.raises(InvalidInput) as error:
        call(
            world,
            users.create_user,
            admin,
            UserForm(
                login="new.disp",
                name="Новый",
                role="dispatcher",
                organisation_id=world.orgs["c1"],
                password="birch-lake-42",
            ),
        )
    assert error.value.fields == {
        "organisation_id": "Выберите организацию, подходящую для этой роли."
    }
    user = call(
        world,
        users.create_user,
        admin,
        UserForm(
            login="New.Disp",
            name="Новый",
            role="dispatcher",
            organisation_id=world.orgs["uk2"],
            password="s3cret-12",
        ),
    )
    assert (user.login, user.organisation_id) == ("new.disp", world.orgs["uk2"])
    operator = call(
        world,
        users.create_user,
        admin,
        UserForm(
            login="op2",
            name="Оператор",
            role="operator",
            organisation_id=world.orgs["uk2"],
            password="s3cret-12",
        ),
    )
    assert operator.organisation_id is None
    assert call(world, accounts.authenticate, "new.disp", "s3cret-12") is not None


def test_switched_off_account_cannot_sign_in_and_a_new_password_works(world: World) -> None:
    admin = sysadmin(world)
    call(world, users.set_user_active, admin, world.users["dispatcher"], False)
    assert call(world, accounts.authenticate, "dispatcher", "password123") is None
    call(world, users.set_user_active, admin, world.users["dispatcher"], True)
    with pytest.raises(InvalidInput):
        call(world, users.reset_password, admin, world.users["dispatcher"], "short")
    call(world, users.reset_password, admin, world.users["dispatcher"], "brand-new-pass")
    assert call(world, accounts.authenticate, "dispatcher", "password123") is None
    assert call(world, accounts.authenticate, "dispatcher", "brand-new-pass") is not None
    with pytest.raises(InvalidInput) as own:
        call(world, users.set_user_active, admin, world.users["sysadmin"], False)
    assert own.value.fields == {"active": "Нельзя отключить собственную учётную запись."}


# --------------------------------------------------------------------------------------------
# Importing houses from CSV


GOOD_CSV = (
    "\ufeffstreet;house;manager;latitude;longitude;floors;flats\n"
    "проспект Нефтяников;7;ООО «УК Заинск-Сервис»;55,2990;52,0060;9;144\n"
    "проспект Нефтяников;9;УК Уютный дом;55.2993;52.0068;10;120\n"
    'улица Строителей;19;"ТСЖ ""Ленина 5""";;;;\n'
    "\n"
    "улица Рафиковой;2;1647012345;;;5;60\n"
)


def set_inn(world: World, org: str, inn: str) -> None:
    async def go(db: Database) -> None:
        async with db.begin() as session:
            stored = await session.get(Organisation, world.orgs[org])
            assert stored is not None
            stored.inn = inn

    call(world, go)


def test_csv_import_adds_houses_found_by_name_short_name_or_inn(world: World) -> None:
    set_inn(world, "uk2", "1647012345")
    report = call(world, building_import.import_buildings_csv, GOOD_CSV.encode("utf-8"))
    assert report.errors == []
    assert report.summary() == "Добавлено: 4, обновлено: 0, без изменений: 0."
    neft7 = building_at(world, "проспект Нефтяников", "7")
    assert neft7 is not None
    assert (neft7.manager_id, neft7.latitude, neft7.flats, neft7.search_key) == (
        world.orgs["uk1"],
        55.299,
        144,
        "проспект нефтяников 7",
    )
    assert building_at(world, "проспект Нефтяников", "9").manager_id == world.orgs["uk2"]
    assert building_at(world, "улица Строителей", "19").manager_id == world.orgs["tsj"]
    assert building_at(world, "улица Рафиковой", "2").manager_id == world.orgs["uk2"]


def test_csv_import_reads_windows_1251_with_commas_and_russian_headers(world: World) -> None:
    text = (
        "Улица,Дом,УК,Этажей\r\n"
        "улица Гагарина,6,ТСЖ Ленина 5,5\r\n"
        "улица Гагарина,8,Уютный дом,4\r\n"
    )
    report = call(world, building_import.import_buildings_csv, text.encode("cp1251"))
    assert report.errors == ["Строка 3: организация «Уютный дом» не найдена."], (
        "a name that matches nobody is reported, not guessed"
    )
    assert building_at(world, "улица Гагарина", "6") is None
    fixed = text.replace("Уютный дом", "УК Уютный дом")
    report = call(world, building_import.import_buildings_csv, fixed.encode("cp1251"))
    assert (report.added, report.errors) == (2, [])
    assert building_at(world, "улица Гагарина", "6").floors == 5


def test_csv_import_with_bad_rows_writes_nothing_and_names_every_line(world: World) -> None:
    text = (
        "street;house;manager;latitude\n"
        "улица Мира;10;УК Заинск-Сервис;55.3\n"
        ";11;УК Заинск-Сервис;\n"
        "улица Мира;12;Сантехмонтаж;\n"
        "улица Мира;13;Нет такой УК;\n"
        "улица Мира;14;УК Уютный дом;север\n"
        "улица Мира;10;УК Уютный дом;\n"
        "улица Мира;15;;\n"
    )
    report = call(world, building_import.import_buildings_csv, text.encode())
    assert report.errors == [
        "Строка 3: улица: укажите улицу.",
        "Строка 4: «Сантехмонтаж» — не УК и не ТСЖ, дома она не обслуживает.",
        "Строка 5: организация «Нет такой УК» не найдена.",
        "Строка 6: широта: введите число, например 55.3012.",
        "Строка 7: этот дом уже был в строке 2.",
        "Строка 8: не указана управляющая организация.",
    ]
    assert report.summary() == "Файл не загружен, ничего не изменено. Ошибок: 6."
    assert count(world, Building) == 5


def test_csv_row_with_a_word_for_a_number_still_names_its_other_mistakes(world: World) -> None:
    text = "street;house;manager;floors\nулица Мира;;Никто;много\n"
    report = call(world, building_import.import_buildings_csv, text.encode())
    assert report.errors == [
        "Строка 2: дом: укажите номер дома; этажей: введите целое число; "
        "организация «Никто» не найдена."
    ]


def test_csv_import_updates_houses_it_already_knows(world: World) -> None:
    first = (
        "street;house;manager;floors\n"
        "улица Ленина;12;УК Заинск-Сервис;5\n"
        "улица Мира;1;УК Уютный дом;9\n"
    )
    assert call(world, building_import.import_buildings_csv, first.encode()).summary() == (
        "Добавлено: 1, обновлено: 1, без изменений: 0."
    )
    again = (
        "street;house;manager;floors\n"
        "Улица Ленина;12;УК Заинск-Сервис;5\n"
        "улица Мира;1;ТСЖ Ленина 5;9\n"
    )
    report = call(world, building_import.import_buildings_csv, again.encode())
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)
    assert count(world, Building) == 6
    assert building_at(world, "улица Мира", "1").manager_id == world.orgs["tsj"]


def test_csv_without_required_columns_is_refused_whole(world: World) -> None:
    report = call(world, building_import.import_buildings_csv, "улица;дом\nулица Мира;1\n".encode())
    assert report.errors == [
        "Строка 1: нет столбцов manager. Нужны столбцы street, house, manager "
        "(необязательные: latitude, longitude, floors, flats)."
    ]
    assert call(world, building_import.import_buildings_csv, b"  \n").errors == ["Файл пустой."]


def test_import_buildings_command_prints_the_summary_and_fails_on_errors(
    world: World, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": world.settings.database_url,
        "SECRET_KEY": world.settings.secret_key,
    }
    good = tmp_path / "houses.csv"
    good.write_bytes("street;house;manager\nулица Мира;3;УК Уютный дом\n".encode("cp1251"))
    done = subprocess.run(
        [sys.executable, "-m", "server", "import-buildings", str(good)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Добавлено: 1, обновлено: 0, без изменений: 0." in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("street;house;manager\nулица Мира;4;Никто\n", encoding="utf-8")
    failed = subprocess.run(
        [sys.executable, "-m", "server", "import-buildings", str(bad)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert failed.returncode == 2
    assert "Строка 2: организация «Никто» не найдена." in failed.stderr
    assert building_at(world, "улица Мира", "4") is None
