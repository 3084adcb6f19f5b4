"""The system admin's settings pages, as a browser uses them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from server.app import create_app
from server.db.models import Building, Category, Organisation, OrganisationContractor, User
from server.db.session import Database
from tests.conftest import run_async
from tests.http import login, people, post
from tests.world import World


def count(world: World, model: Any, *where: Any) -> int:
    async def go() -> int:
        db = Database(world.settings.database_url)
        try:
            async with db.read() as session:
                query = select(func.count()).select_from(model).where(*where)
                return await session.scalar(query) or 0
        finally:
            await db.dispose()

    return run_async(go)


@pytest.fixture
def admin(world: World) -> Any:
    with TestClient(create_app(world.settings)) as client:
        login(client, "sysadmin")
        yield client


def pages(world: World) -> list[str]:
    return [
        "/sysadmin",
        "/sysadmin/organisations",
        "/sysadmin/organisations?kind=contractor",
        "/sysadmin/organisations/new",
        f"/sysadmin/organisations/{world.orgs['uk1']}",
        f"/sysadmin/organisations/{world.orgs['c1']}",
        "/sysadmin/buildings",
        "/sysadmin/buildings?q=ленина",
        "/sysadmin/buildings/new",
        f"/sysadmin/buildings/{world.buildings['lenina12']}",
        "/sysadmin/categories",
        "/sysadmin/categories/new",
        f"/sysadmin/categories/{world.categories['window']}",
        "/sysadmin/users",
        "/sysadmin/users?role=dispatcher&q=disp",
        "/sysadmin/users/new",
    ]


def test_system_admin_opens_every_settings_page(world: World, admin: TestClient[Any]) -> None:
    for url in pages(world):
        response = admin.get(url)
        assert response.status_code == 200, (url, response.status_code)
        assert "Настройки" in response.text and "<form" in response.text, url
    assert "УК Заинск-Сервис" in admin.get("/sysadmin/organisations").text
    organisation = admin.get(f"/sysadmin/organisations/{world.orgs['uk1']}").text
    assert "Сантехмонтаж" in organisation and "ЛифтСервис" in organisation
    found = admin.get("/sysadmin/buildings?q=ленина 12").text
    assert "улица Ленина, 12" in found and "проспект Мира" not in found
    assert "нет — заявки на разбор" in admin.get("/sysadmin/buildings?q=новая").text


@pytest.mark.parametrize(
    "login_name",
    ["resident", "operator", "dispatcher", "contractor", "worker", "cityadmin", "dispatcher_rso"],
)
def test_nobody_but_the_system_admin_opens_or_posts_settings(world: World, login_name: str) -> None:
    with TestClient(create_app(world.settings)) as client:
        login(client, login_name)
        for url in pages(world):
            assert client.get(url).status_code == 403, url
        for url, data in [
            ("/sysadmin/organisations/new", {"kind": "uk", "name": "ООО «Захват»"}),
            (f"/sysadmin/organisations/{world.orgs['uk1']}/active", {"active": "0"}),
            (
                f"/sysadmin/organisations/{world.orgs['uk2']}/contractors",
                {"contractor_id": world.orgs["c1"]},
            ),
            ("/sysadmin/buildings/new", {"street": "улица Мира", "house": "99"}),
            ("/sysadmin/categories/new", {"name": "X", "code": "xx", "deadline_value": "1"}),
            (
                "/sysadmin/users/new",
                {"login": "intruder", "role": "sysadmin", "password": "password123"},
            ),
            (f"/sysadmin/users/{world.users['dispatcher']}/password", {"password": "hijacked1"}),
            (f"/sysadmin/users/{world.users['sysadmin']}/active", {"active": "0"}),
        ]:
            assert post(client, url, data).status_code == 403, url
    assert count(world, Organisation) == 8
    assert count(world, Building) == 5
    assert count(world, Category) == 5
    assert count(world, User, User.login == "intruder") == 0
    assert count(world, User, User.active.is_(False)) == 0


def test_signed_out_visitor_is_sent_to_sign_in(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = client.get("/sysadmin/users", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_organisation_form_error_is_shown_in_russian_and_nothing_stored(
    world: World, admin: TestClient[Any]
) -> None:
    response = post(
        admin,
        "/sysadmin/organisations/new",
        {"kind": "uk", "name": "", "short_name": "Пусто", "inn": "12"},
    )
    assert response.status_code == 422
    assert "Укажите полное название." in response.text
    assert "ИНН — 10 или 12 цифр." in response.text
    assert 'value="Пусто"' in response.text, "what was typed stays in the form"
    assert count(world, Organisation) == 8


def test_system_admin_adds_a_company_and_gives_it_a_contractor(
    world: World, admin: TestClient[Any]
) -> None:
    response = post(
        admin,
        "/sysadmin/organisations/new",
        {"kind": "uk", "name": "ООО «УК Новый Заинск»", "short_name": "УК Новый Заинск"},
    )
    assert response.status_code == 303
    page_url = response.headers["location"]
    new_id = int(page_url.rsplit("/", 1)[1])
    response = post(admin, f"{page_url}/contractors", {"contractor_id": world.orgs["c3"]})
    assert response.status_code == 303
    page = admin.get(page_url).text
    assert "ООО «УК Новый Заинск» добавлена" in page or "Подрядчик добавлен" in page
    assert "ИП Гарипов" in page
    assert (
        count(
            world,
            OrganisationContractor,
            OrganisationContractor.organisation_id == new_id,
            OrganisationContractor.contractor_id == world.orgs["c3"],
        )
        == 1
    )
    bad = post(admin, f"{page_url}/contractors", {"contractor_id": world.orgs["uk2"]})
    assert bad.status_code == 422 and "Выберите подрядную организацию." in bad.text
    post(admin, f"{page_url}/contractors/{world.orgs['c3']}/delete")
    assert (
        count(world, OrganisationContractor, OrganisationContractor.organisation_id == new_id) == 0
    )
    post(admin, f"{page_url}/active", {"active": "0"})
    assert "отключена" in admin.get("/sysadmin/organisations").text
    assert count(world, Organisation, Organisation.active.is_(False)) == 1


def test_house_form_rejects_a_contractor_as_manager_and_a_taken_address(
    world: World, admin: TestClient[Any]
) -> None:
    response = post(
        admin,
        "/sysadmin/buildings/new",
        {"street": "улица Мира", "house": "5", "manager_id": world.orgs["c1"], "floors": "0"},
    )
    assert response.status_code == 422
    assert "Дом обслуживает УК или ТСЖ: выберите из списка." in response.text
    assert "Число от 1 до 200." in response.text
    # A word where a number belongs is refused before anything is looked up.
    not_a_number = post(
        admin,
        "/sysadmin/buildings/new",
        {"street": "улица Мира", "house": "5", "manager_id": world.orgs["uk2"], "floors": "много"},
    )
    assert not_a_number.status_code == 422
    assert "Введите целое число." in not_a_number.text
    assert 'value="много"' in not_a_number.text, "what was typed stays in the form"
    taken = post(admin, "/sysadmin/buildings/new", {"street": "улица Ленина", "house": "12"})
    assert taken.status_code == 422 and "Такой дом уже есть в реестре." in taken.text
    assert count(world, Building) == 5
    created = post(
        admin,
        "/sysadmin/buildings/new",
        {"street": "улица Мира", "house": "5", "manager_id": world.orgs["uk2"]},
    )
    assert created.status_code == 303
    assert "улица Мира, 5" in admin.get(created.headers["location"]).text


def test_category_list_shows_deadlines_in_human_terms(world: World, admin: TestClient[Any]) -> None:
    page = admin.get("/sysadmin/categories").text
    rows = dict(re.findall(r">([^<>]+)</a><br><code[^>]*>[^<]+</code></td>.*?<td>[^<]*</td>\s*"
                           r"<td>[^<]*</td>\s*<td>(.*?)</td>", page, re.S))  # fmt: skip
    assert rows["Протечка трубы"] == "30 мин"
    assert rows["Нет холодной воды"] == "2 ч"
    assert rows["Не работает лифт"] == "1 сут"
    assert rows["Прочее"] == "8 сут"
    assert (
        rows["Разбито окно в подъезде"].startswith("1 сут")
        and "летом: 3 сут" in rows["Разбито окно в подъезде"]
    )


def test_category_form_error_keeps_the_old_deadline(world: World, admin: TestClient[Any]) -> None:
    url = f"/sysadmin/categories/{world.categories['lift']}"
    response = post(
        admin,
        url,
        {"name": "Не работает лифт", "code": "lift", "priority": "urgent",
         "deadline_value": "0", "deadline_unit": "hour", "handler": "manager", "active": "on"},
    )  # fmt: skip
    assert response.status_code == 422
    assert "Срок — от 1 минуты до 366 суток." in response.text
    assert count(world, Category, Category.deadline_minutes == 1440) == 2
    saved = post(
        admin,
        url,
        {"name": "Не работает лифт", "code": "lift", "priority": "urgent",
         "deadline_value": "6", "deadline_unit": "hour", "handler": "manager", "active": "on"},
    )  # fmt: skip
    assert saved.status_code == 303
    assert "6 ч" in admin.get("/sysadmin/categories").text


def test_csv_upload_shows_each_bad_line_and_loads_a_good_file(
    world: World, admin: TestClient[Any]
) -> None:
    bad = "street;house;manager\nулица Мира;1;УК Уютный дом\nулица Мира;2;Никто\n"
    response = post(
        admin,
        "/sysadmin/buildings/import",
        files={"file": ("houses.csv", bad.encode("cp1251"), "text/csv")},
    )
    assert response.status_code == 422
    assert "Строка 3: организация «Никто» не найдена." in response.text
    assert "Файл не загружен, ничего не изменено." in response.text
    assert count(world, Building) == 5
    good = bad.replace("Никто", "ТСЖ Ленина 5")
    response = post(
        admin,
        "/sysadmin/buildings/import",
        files={"file": ("houses.csv", good.encode("utf-8-sig"), "text/csv")},
    )
    assert response.status_code == 200
    assert "Добавлено: 2, обновлено: 0, без изменений: 0." in response.text
    assert count(world, Building) == 7


def test_system_admin_creates_a_dispatcher_who_then_works_the_board(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "sysadmin") as p:
        admin = p["sysadmin"]
        wrong = post(
            admin,
            "/sysadmin/users/new",
            {"login": "d.new", "name": "Дина", "role": "dispatcher",
             "organisation_id": world.orgs["c1"], "password": "birch-lake-42"},
        )  # fmt: skip
        assert wrong.status_code == 422
        assert "Выберите организацию, подходящую для этой роли." in wrong.text
        assert "birch-lake-42" not in wrong.text
        assert count(world, User, User.login == "d.new") == 0
        created = post(
            admin,
            "/sysadmin/users/new",
            {"login": "d.new", "name": "Дина", "role": "dispatcher",
             "organisation_id": world.orgs["uk2"], "password": "birch-lake-42"},
        )  # fmt: skip
        assert created.status_code == 303
        assert "d.new" in admin.get(created.headers["location"]).text
    with TestClient(app) as client:
        login(client, "d.new", "birch-lake-42")
        assert client.get("/board").status_code == 200


def test_switched_off_dispatcher_is_signed_out_and_a_reset_password_works(world: World) -> None:
    app = create_app(world.settings)
    dispatcher_id = world.users["dispatcher"]
    with people(app, "sysadmin", "dispatcher") as p:
        admin, dispatcher = p["sysadmin"], p["dispatcher"]
        assert dispatcher.get("/board").status_code == 200
        post(admin, f"/sysadmin/users/{dispatcher_id}/active", {"active": "0"})
        assert "отключён" in admin.get("/sysadmin/users?q=dispatcher").text
        gone = dispatcher.get("/board", follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"].startswith("/login")

        own = post(admin, f"/sysadmin/users/{world.users['sysadmin']}/active", {"active": "0"})
        assert own.status_code == 422
        assert "Нельзя отключить собственную учётную запись." in own.text

        post(admin, f"/sysadmin/users/{dispatcher_id}/active", {"active": "1"})
        short = post(admin, f"/sysadmin/users/{dispatcher_id}/password", {"password": "123"})
        assert short.status_code == 422 and "Пароль — не короче 8 символов." in short.text
        done = post(admin, f"/sysadmin/users/{dispatcher_id}/password", {"password": "new-pass-42"})
        assert done.status_code == 303
    with TestClient(app) as client:
        assert (
            post(client, "/login", {"login": "dispatcher", "password": "password123"}).status_code
            == 422
        )
        login(client, "dispatcher", "new-pass-42")


def test_an_id_beyond_what_the_database_holds_is_refused_before_any_lookup(
    world: World, admin: TestClient[Any]
) -> None:
    for kind in ("organisations", "buildings", "categories"):
        assert admin.get(f"/sysadmin/{kind}/{2**31}").status_code == 404, kind
        assert admin.get(f"/sysadmin/{kind}/{2**31 - 1}").status_code == 404, kind
    assert post(admin, f"/sysadmin/users/{2**40}/active", {"active": "0"}).status_code == 404
    assert count(world, User, User.active.is_(False)) == 0


def test_unticking_available_hides_a_category_from_the_page(
    world: World, admin: TestClient[Any]
) -> None:
    url = f"/sysadmin/categories/{world.categories['window']}"
    form = admin.get(url).text
    assert re.search(r'name="active" value="on" checked', form)
    saved = post(
        admin,
        url,
        {"name": "Разбито окно в подъезде", "code": "window", "priority": "normal",
         "deadline_value": "1", "deadline_unit": "day", "handler": "manager"},
    )  # fmt: skip
    assert saved.status_code == 303
    assert count(world, Category, Category.active.is_(False)) == 1
    assert not re.search(r'name="active" value="on" checked', admin.get(url).text)


def test_sysadmin_may_not_give_anyone_a_common_password(world: World) -> None:
    dispatcher_id = world.users["dispatcher"]
    with TestClient(create_app(world.settings)) as admin:
        login(admin, "sysadmin")
        refused = post(
            admin, f"/sysadmin/users/{dispatcher_id}/password", {"password": "password1"}
        )
        assert refused.status_code == 422 and "слишком распространён" in refused.text
        created = post(
            admin,
            "/sysadmin/users/new",
            {"login": "newop", "name": "Новый", "role": "operator", "password": "newop12345"},
        )
        assert created.status_code == 422 and "не должен совпадать" in created.text
    with TestClient(create_app(world.settings)) as client:
        assert (
            post(client, "/login", {"login": "dispatcher", "password": "password1"}).status_code
            == 422
        )
        assert (
            post(client, "/login", {"login": "newop", "password": "newop12345"}).status_code == 422
        )
