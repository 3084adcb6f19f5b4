"""The administration's triage queue: requests no organisation serves, routed by hand."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from server.app import create_app
from tests.http import login, people, post, version_of
from tests.world import World


def file(client: TestClient[Any], world: World, building: str, text: str) -> int:
    response = post(
        client,
        "/requests/new",
        {
            "building_id": world.buildings[building],
            "category_id": world.categories["leak"],
            "description": text,
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def test_city_admin_routes_an_unserved_request_to_a_dispatcher_board(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "cityadmin", "dispatcher2") as p:
        resident, admin, dispatcher = p["resident"], p["cityadmin"], p["dispatcher2"]
        request_id = file(resident, world, "orphan", "Течёт крыша в новом доме")
        assert "Ожидает разбора в администрации" in resident.get(f"/requests/{request_id}").text

        queue = admin.get("/admin/triage")
        assert queue.status_code == 200
        assert f'id="row-{request_id}"' in queue.text
        assert "Течёт крыша в новом доме" in queue.text
        assert f'action="/requests/{request_id}/actions/route"' in queue.text
        assert f'id="row-{request_id}"' not in dispatcher.get("/board").text

        # The queue's form, as htmx sends it from the triage page: back to the queue after.
        version = re.search(
            rf'id="row-{request_id}".*?name="version" value="(\d+)"', queue.text, re.S
        )
        assert version
        response = post(
            admin,
            f"/requests/{request_id}/actions/route",
            {"organisation_id": world.orgs["uk2"], "version": version.group(1)},
            headers={
                "hx-request": "true",
                "hx-current-url": "http://testserver.local/admin/triage",
            },
        )
        assert response.is_success
        assert response.headers["hx-redirect"] == "/admin/triage"
        after = admin.get("/admin/triage").text
        assert f'id="row-{request_id}"' not in after
        assert "Готово: заявка направлена." in after

        board = dispatcher.get("/board").text
        assert f'id="row-{request_id}"' in board
        detail = resident.get(f"/requests/{request_id}").text
        assert "УК Уютный дом" in detail
        assert "Направлена в организацию" in detail


def test_route_button_on_the_request_page_works_for_the_city_admin(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "cityadmin", "dispatcher_rso") as p:
        resident, admin = p["resident"], p["cityadmin"]
        request_id = file(resident, world, "orphan", "Нет воды во всём доме")
        page = admin.get(f"/requests/{request_id}").text
        assert "Направить в организацию" in page
        response = post(
            admin,
            f"/requests/{request_id}/actions/route",
            {"organisation_id": world.orgs["rso"], "version": str(version_of(page))},
        )
        assert response.status_code == 303
        assert response.headers["location"] == f"/requests/{request_id}"
        assert f'id="row-{request_id}"' in p["dispatcher_rso"].get("/board").text


@pytest.mark.parametrize(
    "login_name", ["dispatcher", "resident", "operator", "contractor", "worker", "sysadmin"]
)
def test_only_the_city_admin_opens_the_triage_queue(world: World, login_name: str) -> None:
    with TestClient(create_app(world.settings)) as client:
        login(client, login_name)
        assert client.get("/admin/triage").status_code == 403


def test_a_dispatcher_cannot_route_a_triage_request(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "dispatcher", "cityadmin") as p:
        request_id = file(p["resident"], world, "orphan", "Искрит щиток в подъезде")
        version = version_of(p["cityadmin"].get(f"/requests/{request_id}").text)
        response = post(
            p["dispatcher"],
            f"/requests/{request_id}/actions/route",
            {"organisation_id": world.orgs["uk1"], "version": version},
        )
        assert response.status_code in (403, 404)
        assert f'id="row-{request_id}"' in p["cityadmin"].get("/admin/triage").text


def test_city_admin_cannot_route_a_request_that_already_has_an_organisation(
    world: World,
) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "cityadmin", "dispatcher", "dispatcher2") as p:
        request_id = file(p["resident"], world, "lenina12", "Течёт стояк")
        page = p["cityadmin"].get(f"/requests/{request_id}").text
        assert "Направить в организацию" not in page
        assert f'id="row-{request_id}"' not in p["cityadmin"].get("/admin/triage").text
        response = post(
            p["cityadmin"],
            f"/requests/{request_id}/actions/route",
            {"organisation_id": world.orgs["uk2"], "version": version_of(page)},
        )
        assert response.status_code == 403
        assert f'id="row-{request_id}"' in p["dispatcher"].get("/board").text
        assert f'id="row-{request_id}"' not in p["dispatcher2"].get("/board").text


def test_empty_queue_says_so(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        login(client, "cityadmin")
        assert "Неразобранных заявок нет" in client.get("/admin/triage").text
