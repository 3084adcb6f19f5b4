"""A resident takes out everything stored about them, and deletes the account: the requests
stay in the town's figures, and nothing anywhere still names the person."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from server.accounts.personal_data import delete_account, export_personal_data
from server.app import create_app
from server.db.models import User
from server.db.session import Database
from server.integrations import tokens
from server.shared.errors import Forbidden, NotFound
from tests.conftest import run_async
from tests.http import post, version_of
from tests.live_client import Users
from tests.world import World

NAME = "Гульшат Хайруллина"
PHONE_TYPED = "8 917 765-43-21"


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


def _file(client: TestClient[Any], world: World) -> int:
    response = post(
        client,
        "/requests/new",
        {
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories["leak"],
            "flat": "117",
            "description": f"Течёт стояк, звоните {PHONE_TYPED}",
            "idempotency_key": "pd-1",
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def _everything_shown(users: Users, request_id: int, api: str) -> str:
    """The request as every kind of reader can get it: pages, API, Open311, exports."""
    seen = []
    dispatcher = users.use("dispatcher")
    seen.append(dispatcher.get(f"/requests/{request_id}").text)
    seen.append(dispatcher.get("/board").text)
    operator = users.use("operator")
    seen.append(operator.get(f"/requests/{request_id}").text)
    admin = users.use("cityadmin")
    seen.append(admin.get("/admin/export.csv", params={"period": "30"}).text)
    anonymous = users.use(None)
    seen.append(
        anonymous.get(
            f"/api/v1/requests/{request_id}", headers={"Authorization": f"Bearer {api}"}
        ).text
    )
    seen.append(anonymous.get(f"/open311/v2/requests/{request_id}.json").text)
    seen.append(anonymous.get("/open311/v2/requests.json").text)
    return "\n".join(seen)


def _figures(world: World) -> str:
    """The public figures as a fresh process computes them (no cached figures)."""
    with TestClient(create_app(world.settings)) as client:
        html = client.get("/stats").text
    return html[html.find("<main") : html.find("</main>")]


def test_export_holds_the_account_and_every_request(world: World) -> None:
    run_async(_rename, world)
    with TestClient(create_app(world.settings)) as client:
        users = Users(client).sign_in("resident")
        request_id = _file(users.use("resident"), world)
        export = run_async(export_personal_data_for, world, world.users["resident"])
    assert export["account"]["name"] == NAME
    assert export["account"]["phone"] == "+79170000001"
    (only,) = export["requests"]
    assert only["flat"] == "117" and PHONE_TYPED in only["description"]
    assert [e["kind"] for e in only["timeline"]] == ["file"]
    assert request_id > 0


async def export_personal_data_for(world: World, user_id: int) -> dict[str, Any]:
    db = Database(world.settings.database_url)
    try:
        return (await export_personal_data(db, user_id)).data
    finally:
        await db.dispose()


async def _delete(world: World, user_id: int) -> None:
    db = Database(world.settings.database_url)
    try:
        await delete_account(db, user_id)
    finally:
        await db.dispose()


def test_deleting_the_account_leaves_no_trace_but_keeps_the_figures(world: World) -> None:
    run_async(_rename, world)
    api, _open311 = run_async(_keys, world)
    figures_of_an_empty_town = _figures(world)
    with TestClient(create_app(world.settings)) as client:
        users = Users(client).sign_in("resident", "dispatcher", "operator", "cityadmin")
        request_id = _file(users.use("resident"), world)
        resident = users.use("resident")
        version = version_of(resident.get(f"/requests/{request_id}").text)
        comment = post(
            resident,
            f"/requests/{request_id}/actions/comment",
            {"reason": f"Перезвоните на {PHONE_TYPED}", "version": str(version)},
        )
        assert comment.status_code in (200, 303), comment.text
        before = _everything_shown(users, request_id, api)
        assert NAME in before, "the pages did show the name"
        figures_before = _figures(world)
        assert figures_before != figures_of_an_empty_town, "the request counts in the figures"

        run_async(_delete, world, world.users["resident"])

        after = _everything_shown(users, request_id, api)
        for trace in (NAME, "+79170000001", "79170000001", "917 765-43-21", "765-43-21"):
            assert trace not in after, trace
        assert "кв. 117" not in after and "117" not in after.split("Течёт стояк")[0][-40:]
        assert "Течёт стояк" in after, "the request itself stays"
        assert _figures(world) == figures_before, "the figures do not change"
        # Their session is over and the login no longer works.
        assert users.use("resident").get("/requests", follow_redirects=False).status_code in (
            302,
            303,
        )
        refused = post(users.use(None), "/login", {"login": "resident", "password": "password123"})
        assert refused.status_code != 303


def test_only_residents_delete_their_own_account(world: World) -> None:
    with pytest.raises(Forbidden):
        run_async(_delete, world, world.users["dispatcher"])
    run_async(_delete, world, world.users["resident2"])
    with pytest.raises(NotFound):
        run_async(_delete, world, world.users["resident2"])
    assert run_async(_user, world, "resident").active
