"""Nobody outside a request's circle can open it or act on it, whatever URL they try."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.requests.workflow import Action
from tests.http import login, people, post, version_of
from tests.integration.requests.test_journey import act, print_url_of, signed_order_photo
from tests.world import World

OUTSIDERS = [
    "resident2",
    "dispatcher2",
    "dispatcher_rso",
    "contractor2",
    "worker2",
    "worker_b",
    "sysadmin",
]


@pytest.fixture
def started_request(world: World) -> dict[str, Any]:
    """A request filed by `resident`, assigned to c1, given to `worker`, with a signed photo."""
    app = create_app(world.settings)
    with people(app, "resident", "dispatcher", "contractor", "worker") as p:
        resident, dispatcher, contractor, worker = (
            p["resident"],
            p["dispatcher"],
            p["contractor"],
            p["worker"],
        )
        response = post(
            resident,
            "/requests/new",
            {
                "building_id": world.buildings["lenina12"],
                "category_id": world.categories["lift"],
                "description": "Лифт застрял между этажами",
            },
        )
        request_id = int(response.headers["location"].rsplit("/", 1)[1])
        act(dispatcher, request_id, "assign", contractor_id=world.orgs["c1"])
        act(contractor, request_id, "assign_worker", worker_id=world.users["worker"])
        detail = contractor.get(f"/requests/{request_id}").text
        print_url = print_url_of(detail)
        sheet = contractor.get(print_url).text
        job_path = re.search(r"http://testserver\.local(/jobs/[A-Za-z0-9_-]+)", sheet).group(1)
        act(
            worker,
            request_id,
            "complete",
            files={
                "photo": (
                    "p.jpg",
                    signed_order_photo("http://testserver.local" + job_path),
                    "image/jpeg",
                )
            },
        )
        photo = re.search(r'src="(/media/[^"]+)"', worker.get(f"/requests/{request_id}").text)
        assert photo
        version = version_of(worker.get(f"/requests/{request_id}").text)
    return {
        "app": app,
        "id": request_id,
        "print": print_url,
        "job": job_path,
        "photo": photo.group(1),
        "version": version,
    }


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsider_cannot_open_or_act_on_a_request(
    world: World, started_request: dict[str, Any], outsider: str
) -> None:
    request_id = started_request["id"]
    with TestClient(started_request["app"]) as client:
        login(client, outsider)
        for url in (
            f"/requests/{request_id}",
            started_request["print"],
            started_request["photo"],
            started_request["job"],
        ):
            response = client.get(url, follow_redirects=False)
            assert response.status_code in (403, 404), (outsider, url, response.status_code)
            assert "Лифт застрял" not in response.text
        for action in Action:
            response = post(
                client,
                f"/requests/{request_id}/actions/{action.value}",
                {
                    "version": started_request["version"],
                    "reason": "x",
                    "contractor_id": world.orgs["c2"],
                    "organisation_id": world.orgs["uk2"],
                    "score": 1,
                    "worker_id": world.users["worker2"],
                },
            )
            assert response.status_code in (403, 404), (outsider, action, response.status_code)
    # Nothing any outsider tried changed the request.
    with TestClient(started_request["app"]) as owner:
        login(owner, "resident")
        page = owner.get(f"/requests/{request_id}").text
        assert version_of(page) == started_request["version"]
        assert "Выполнена" in page


def test_outsiders_lists_do_not_show_the_request(
    world: World, started_request: dict[str, Any]
) -> None:
    marker = f'id="row-{started_request["id"]}"'
    for name, url in [
        ("resident2", "/requests"),
        ("dispatcher2", "/board?state=all"),
        ("contractor2", "/jobs?state=all"),
        ("worker2", "/jobs?state=all"),
        ("worker_b", "/jobs?state=all"),
    ]:
        with TestClient(started_request["app"]) as client:
            login(client, name)
            page = client.get(url)
            assert page.status_code == 200, (name, url)
            assert marker not in page.text, (name, url)


def test_wrong_roles_cannot_open_other_roles_pages(world: World) -> None:
    app = create_app(world.settings)
    pages = {
        "/board": "dispatcher",
        "/jobs": "contractor",
        "/operator": "operator",
        "/operator/new": "operator",
        "/requests/new": "resident",
        "/requests": "resident",
    }
    for url, owner in pages.items():
        for name in ("resident", "dispatcher", "contractor", "operator", "sysadmin"):
            if name == owner or (url == "/jobs" and name == "worker"):
                continue
            with TestClient(app) as client:
                login(client, name)
                assert client.get(url, follow_redirects=False).status_code == 403, (name, url)
    with TestClient(app) as anonymous:
        response = anonymous.get("/board", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


def test_token_alone_opens_nothing(started_request: dict[str, Any]) -> None:
    with TestClient(started_request["app"]) as anonymous:
        response = anonymous.get(started_request["job"], follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")
        assert anonymous.get(started_request["photo"], follow_redirects=False).status_code == 303


def test_the_assigned_worker_and_their_contractor_can_open_it(
    started_request: dict[str, Any],
) -> None:
    for name in ("worker", "contractor", "dispatcher", "operator", "cityadmin", "resident"):
        with TestClient(started_request["app"]) as client:
            login(client, name)
            assert client.get(f"/requests/{started_request['id']}").status_code == 200, name
