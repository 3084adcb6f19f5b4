"""A resident takes out everything stored about them, and deletes the account, from their
profile page: the requests stay in the town's figures, and nothing anywhere still names the
person."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import openpyxl
import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from server.accounts.personal_data import delete_account
from server.app import create_app
from server.db.models import User, WebSession
from server.db.session import Database
from server.integrations import tokens
from server.shared.errors import Forbidden, InvalidInput, NotFound
from tests.conftest import run_async
from tests.http import csrf, post, version_of
from tests.live_client import Users
from tests.world import PASSWORD, World

NAME = "Гульшат Хайруллина"
PHONE = "+79170000001"
PHONE_TYPED = "8 917 765-43-21"
# Every way the person's name and phones can be written on a page, in a file or in JSON.
TRACES = (NAME, PHONE, "917 000-00-01", "9170000001", PHONE_TYPED, "765-43-21")
FILE_NAME = re.compile(r'^attachment; filename="zayavka-my-data-\d{4}-\d{2}-\d{2}\.json"$')
STAFF = ("operator", "dispatcher", "contractor", "worker", "cityadmin", "sysadmin")


async def _user(world: World, login: str) -> User:
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            user = await session.get(User, world.users[login])
            assert user is not None
            return user
    finally:
        await db.dispose()


async def _rename(world: World) -> None:
    db = Database(world.settings.database_url)
    try:
        async with db.begin() as session:
            user = await session.get(User, world.users["resident"])
            assert user is not None
            user.name = NAME
    finally:
        await db.dispose()


async def _keys(world: World) -> tuple[str, str]:
    db = Database(world.settings.database_url)
    try:
        _, api = await tokens.issue(db, name="Город", kind="api")
        _, open311 = await tokens.issue(db, name="Портал", kind="open311")
        return api, open311
    finally:
        await db.dispose()


async def _session_owners(world: World) -> list[int]:
    """Whose sessions the database keeps, one entry per signed-in device."""
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            stored = (await session.scalars(select(WebSession.data))).all()
    finally:
        await db.dispose()
    return [json.loads(data).get("uid") for data in stored]


def _file(client: TestClient[Any], world: World, flat: str = "117") -> int:
    response = post(
        client,
        "/requests/new",
        {
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories["leak"],
            "flat": flat,
            "description": f"Течёт стояк, звоните {PHONE_TYPED}",
            "idempotency_key": f"pd-{flat}",
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


@contextmanager
def _a_request_filed(world: World) -> Iterator[tuple[Users, int]]:
    """The resident, under their real name, has filed a request; everyone can sign in."""
    run_async(_rename, world)
    with TestClient(create_app(world.settings)) as client:
        users = Users(client)
        yield users, _file(users.use("resident"), world)


def _comment(client: TestClient[Any], request_id: int) -> None:
    version = version_of(client.get(f"/requests/{request_id}").text)
    response = post(
        client,
        f"/requests/{request_id}/actions/comment",
        {"reason": f"Перезвоните на {PHONE_TYPED}", "version": str(version)},
    )
    assert response.status_code in (200, 303), response.text


def _download(client: TestClient[Any], **params: Any) -> dict[str, Any]:
    response = client.get("/profile/my-data", params=params, follow_redirects=False)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert FILE_NAME.match(response.headers["content-disposition"])
    assert response.headers["cache-control"] == "no-store"
    return dict(response.json())


def _delete(client: TestClient[Any], password: str, **fields: Any) -> httpx.Response:
    return post(client, "/profile/delete", {"password": password, **fields})


def _xlsx_text(body: bytes) -> str:
    book = openpyxl.load_workbook(io.BytesIO(body), read_only=True)
    return "\n".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def _everything_shown(users: Users, request_id: int, api: str) -> dict[str, str]:
    """The request as every kind of reader gets it: pages, the administration's exports, the
    JSON API and Open311."""
    seen: dict[str, str] = {}
    dispatcher = users.use("dispatcher")
    seen["request page (dispatcher)"] = dispatcher.get(f"/requests/{request_id}").text
    seen["board"] = dispatcher.get("/board").text
    operator = users.use("operator")
    seen["request page (operator)"] = operator.get(f"/requests/{request_id}").text
    admin = users.use("cityadmin")
    seen["CSV export"] = admin.get("/admin/export.csv", params={"period": "30"}).text
    xlsx = admin.get("/admin/export.xlsx", params={"period": "30"})
    assert xlsx.status_code == 200
    seen["Excel export"] = _xlsx_text(xlsx.content)
    anonymous = users.use(None)
    key = {"Authorization": f"Bearer {api}"}
    seen["API request"] = anonymous.get(f"/api/v1/requests/{request_id}", headers=key).text
    seen["API list"] = anonymous.get("/api/v1/requests", headers=key).text
    seen["Open311 request"] = anonymous.get(f"/open311/v2/requests/{request_id}.json").text
    seen["Open311 list"] = anonymous.get("/open311/v2/requests.json").text
    return seen


def _operator_finds(users: Users, phone: str) -> str:
    """What the operator's search lists for a caller's phone (the search box itself repeats
    what the operator typed)."""
    page = users.use("operator").get("/operator", params={"q": phone}).text
    return page[page.find('id="results"') :]


def _town_figures(world: World) -> dict[str, str]:
    """The oversight dashboard's counts and the public figures, as a fresh process computes
    them (no cached figures)."""
    with TestClient(create_app(world.settings)) as client:
        users = Users(client).sign_in("cityadmin")
        dashboard = users.use("cityadmin").get("/admin", params={"period": "30"}).text
        live = users.use("cityadmin").get("/admin/counts").text
        public = users.use(None).get("/stats").text
    board = dashboard[dashboard.find('id="dashboard"') : dashboard.find('id="overdue"')]
    # The moment the figures were computed is the one thing that moves on by itself.
    board = re.sub(r"<p class=\"muted small\">[^<]*\d\d:\d\d:\d\d[^<]*</p>", "", board)
    return {
        "dashboard": board,
        "live counts": live,
        "public figures": public[public.find("<main") : public.find("</main>")],
    }


# --------------------------------------------------------------------------------------------
# The profile page and the download


def test_profile_offers_my_data_to_residents_only(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        users = Users(client)
        page = users.use("resident").get("/profile").text
        assert "Мои данные" in page
        assert 'href="/profile/my-data"' in page and "Скачать мои данные" in page
        assert 'action="/profile/delete"' in page and 'name="_csrf_token"' in page
        assert 'autocomplete="current-password"' in page
        assert "останутся в статистике города" in page
        assert "без вашего имени, телефона и номера квартиры" in page
        for name in STAFF:
            staff_page = users.use(name).get("/profile").text
            assert "Мои данные" not in staff_page and "/profile/delete" not in staff_page, name


def test_download_holds_the_account_and_every_request(world: World) -> None:
    with _a_request_filed(world) as (users, request_id):
        resident = users.use("resident")
        _comment(resident, request_id)
        number = _download(resident)["requests"][0]["number"]
        assert f"№{number}" in resident.get(f"/requests/{request_id}").text

        export = _download(resident)
    assert export["account"]["name"] == NAME
    assert export["account"]["phone"] == PHONE
    (only,) = export["requests"]
    assert only["flat"] == "117" and PHONE_TYPED in only["description"]
    assert only["address"] == "улица Ленина, 12"
    assert [e["kind"] for e in only["timeline"]] == ["file", "comment"]
    assert all(e["by_you"] for e in only["timeline"])


def test_another_resident_downloads_only_their_own_data(world: World) -> None:
    with _a_request_filed(world) as (users, _request_id):
        other = users.use("resident2")
        # The account is the signed-in one: an id or login sent along names nobody.
        for params in ({}, {"user_id": world.users["resident"]}, {"login": "resident"}):
            export = _download(other, **params)
            assert export["account"]["phone"] == "+79170000002", params
            assert export["requests"] == [], params
            assert NAME not in json.dumps(export, ensure_ascii=False), params


def test_staff_are_refused_and_the_signed_out_are_sent_to_sign_in(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        users = Users(client)
        for name in STAFF:
            staff = users.use(name)
            download = staff.get("/profile/my-data", follow_redirects=False)
            assert download.status_code == 403, name
            assert "Нет доступа" in download.text and "zayavka-my-data" not in str(download.headers)
            deletion = _delete(staff, PASSWORD)
            assert deletion.status_code == 403, name
            assert staff.get("/profile").status_code == 200, f"{name} is still signed in"
            assert run_async(_user, world, name).active, name

        anonymous = users.use(None)
        download = anonymous.get("/profile/my-data", follow_redirects=False)
        assert download.status_code == 303
        assert download.headers["location"] == "/login?next=/profile/my-data"
        deletion = _delete(anonymous, PASSWORD)
        assert deletion.status_code == 303
        assert deletion.headers["location"].startswith("/login")


# --------------------------------------------------------------------------------------------
# Deleting the account


def test_wrong_password_is_refused_beside_the_field_and_nothing_changes(world: World) -> None:
    with _a_request_filed(world) as (users, request_id):
        before = _download(users.use("resident"))

        for wrong in ("password124", "", " password123"):
            refused = _delete(users.use("resident"), wrong)
            assert refused.status_code == 422, wrong
            error = re.search(
                r'<p class="error" id="delete-password-error">([^<]+)</p>', refused.text
            )
            assert error and "Неверный пароль" in error.group(1), wrong
            assert 'aria-describedby="delete-password-error"' in refused.text
            assert '<details class="action-details" open>' in refused.text

        resident = users.use("resident")
        assert resident.get("/requests", follow_redirects=False).status_code == 200
        after = _download(resident)
        assert after["account"] == before["account"]
        assert after["requests"] == before["requests"]
        assert NAME in users.use("dispatcher").get(f"/requests/{request_id}").text
        users.sign_in("resident")  # the password still works


def test_guessing_the_password_through_the_deletion_form_is_slowed_down(world: World) -> None:
    # A session left open on a shared computer must not become a way to try passwords.
    settings = dataclasses.replace(world.settings, login_attempts_per_minute=4)
    with TestClient(create_app(settings)) as client:
        resident = Users(client).use("resident")  # the sign-in is the first attempt
        codes = [_delete(resident, f"guess-{i}").status_code for i in range(5)]
        assert codes == [422, 422, 422, 429, 429]
    assert run_async(_user, world, "resident").active


def test_a_form_without_its_csrf_token_deletes_nothing(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        resident = Users(client).use("resident")
        csrf(resident)
        refused = resident.post(
            "/profile/delete", data={"password": PASSWORD}, follow_redirects=False
        )
        assert refused.status_code == 403
        assert resident.get("/requests", follow_redirects=False).status_code == 200
    assert run_async(_user, world, "resident").active


def test_a_resident_deletes_only_their_own_account(world: World) -> None:
    with _a_request_filed(world) as (users, request_id):
        # Whatever the form says besides the password, it is the signed-in person's account.
        deleted = _delete(
            users.use("resident2"),
            PASSWORD,
            user_id=str(world.users["resident"]),
            login="resident",
        )
        assert deleted.status_code == 303
        assert not run_async(_user, world, "resident2").active
        assert run_async(_user, world, "resident").active
        assert NAME in users.use("dispatcher").get(f"/requests/{request_id}").text
        assert _download(users.use("resident"))["account"]["name"] == NAME


def test_deleting_the_account_signs_out_everywhere_leaves_no_trace_and_keeps_the_figures(
    world: World,
) -> None:
    run_async(_rename, world)
    api, _open311 = run_async(_keys, world)
    figures_of_an_empty_town = _town_figures(world)
    with TestClient(create_app(world.settings)) as client:
        users = Users(client).sign_in("resident", "dispatcher", "operator", "cityadmin")
        other_device = users.jars["resident"]
        users.sign_in("resident")  # a second device: the phone and the computer
        assert users.jars["resident"] is not other_device
        resident = users.use("resident")
        request_id = _file(resident, world)
        _comment(resident, request_id)
        before = _everything_shown(users, request_id, api)
        for trace in TRACES:
            assert any(trace in text for text in before.values()), f"{trace} was shown"
        for place in ("request page (dispatcher)", "request page (operator)", "API list"):
            assert NAME in before[place] and PHONE_TYPED in before[place], place
        found = _operator_finds(users, PHONE)
        assert NAME in found and f"/requests/{request_id}" in found
        figures_before = _town_figures(world)
        assert figures_before != figures_of_an_empty_town, "the request counts in the figures"
        assert run_async(_session_owners, world).count(world.users["resident"]) == 2

        deleted = _delete(users.use("resident"), PASSWORD)
        assert deleted.status_code == 303, deleted.text
        assert deleted.headers["location"] == "/"
        assert deleted.headers["clear-site-data"] == '"cache", "storage"'
        home = client.get("/")
        assert "Учётная запись удалена" in home.text
        assert "Войти" in home.text

        # Signed out on every device, and the sessions themselves are gone.
        assert world.users["resident"] not in run_async(_session_owners, world)
        for jar in (users.jars["resident"], other_device):
            client.cookies = jar
            gone = client.get("/requests", follow_redirects=False)
            assert gone.status_code == 303 and gone.headers["location"].startswith("/login")
        # The login, the phone and the password no longer open anything.
        for login_name in ("resident", PHONE, "8 917 000-00-01"):
            refused = post(users.use(None), "/login", {"login": login_name, "password": PASSWORD})
            assert refused.status_code == 422, login_name

        after = _everything_shown(users, request_id, api)
        for place, text in after.items():
            for trace in TRACES:
                assert trace not in text, f"{trace} still shown in the {place}"
        found = _operator_finds(users, PHONE)
        assert NAME not in found and f"/requests/{request_id}" not in found
        assert "кв. 117" not in after["request page (dispatcher)"]
        assert '"flat":"117"' not in after["API request"].replace(" ", "")
        number = json.loads(after["API request"])["number"]
        for place in ("request page (dispatcher)", "API request", "API list"):
            assert "Течёт стояк" in after[place], f"the request itself stays in the {place}"
        for place in ("board", "CSV export", "Excel export"):
            assert str(number) in after[place], f"the request itself stays in the {place}"
        for place in ("Open311 request", "Open311 list"):
            assert f'"service_request_id": {request_id}' in after[place], place
        assert f'id="row-{request_id}"' in after["board"]
    assert _town_figures(world) == figures_before, "the town's figures do not change"


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs Redis: TEST_REDIS_URL")
def test_deleting_the_account_removes_its_sessions_kept_in_redis(world: World) -> None:
    import redis

    # A logical database of its own: other test runs keep their sessions under the same names.
    url = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + "/13"
    store = redis.Redis.from_url(url)
    store.flushdb()
    settings = dataclasses.replace(world.settings, redis_url=url)
    uid = world.users["resident"]

    def owners() -> list[int]:
        return [
            json.loads(store.get(key) or b"{}").get("uid")
            for key in store.keys("zayavka_sessions:*")
        ]

    try:
        with TestClient(create_app(settings)) as client:
            users = Users(client).sign_in("resident", "resident2")
            other_device = users.jars["resident"]
            users.sign_in("resident")
            assert owners().count(uid) == 2
            assert _delete(users.use("resident"), PASSWORD).status_code == 303
            assert uid not in owners()
            assert world.users["resident2"] in owners(), "nobody else is signed out"
            client.cookies = other_device
            assert client.get("/requests", follow_redirects=False).status_code == 303
    finally:
        store.flushdb()
        store.close()


# --------------------------------------------------------------------------------------------
# The use case on its own


async def _delete_directly(world: World, user_id: int, password: str = PASSWORD) -> None:
    db = Database(world.settings.database_url)
    try:
        await delete_account(db, user_id, password)
    finally:
        await db.dispose()


def test_only_residents_delete_their_own_account(world: World) -> None:
    with pytest.raises(Forbidden):
        run_async(_delete_directly, world, world.users["dispatcher"])
    with pytest.raises(InvalidInput):
        run_async(_delete_directly, world, world.users["resident2"], "not the password")
    assert run_async(_user, world, "resident2").active
    run_async(_delete_directly, world, world.users["resident2"])
    with pytest.raises(NotFound):
        run_async(_delete_directly, world, world.users["resident2"])
    assert run_async(_user, world, "resident").active
