"""An incident from declaration to resolution over HTTP: 5 buildings of 37, who is told at
each step (push rows in the outbox), the requests absorbed, moved and disputed."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any

from litestar.testing import TestClient

from server.app import create_app
from server.db.models import utcnow
from server.incidents.forms import as_local
from tests.http import people, post, version_of
from tests.integration.incidents.town import (
    build_town,
    incident_timeline,
    last_outbox_id,
    request_timeline,
    state_of,
    told_since,
)
from tests.world import World

NAMES = ["subscriber", "subscriber_far", "filer", "filer_far", "filer_lift", "follower", "idle"]


def declare(client: TestClient[Any], world: World, buildings: list[int], **extra: Any) -> Any:
    now = utcnow()
    data = {
        "kind": "emergency",
        "category_id": world.categories["leak"],
        "text": "Нет холодной воды: порыв на магистрали, устраняем",
        "starts_at": as_local(now - timedelta(minutes=5)),
        "expected_end": as_local(now + timedelta(hours=3)),
        "scope": "picked",
        "building_ids": [str(b) for b in buildings],
        **extra,
    }
    return post(client, "/incidents", data)


def incident_id_of(response: Any) -> int:
    assert response.status_code == 303, response.text[:3000]
    return int(response.headers["location"].rsplit("/", 1)[1])


def version_on(client: TestClient[Any], incident_id: int) -> str:
    page = client.get(f"/incidents/{incident_id}")
    assert page.status_code == 200, page.text[:2000]
    return re.search(r'data-version="(\d+)"', page.text).group(1)  # type: ignore[union-attr]


def test_incident_from_declaration_to_resolution(world: World) -> None:
    # The outbox rows themselves are what is checked: no worker sends (and forgets) them.
    settings = dataclasses.replace(world.settings, push_worker_in_process=False)
    town = build_town(settings, world, NAMES)
    app = create_app(settings)
    affected, far = town.affected, town.unaffected
    with people(app, "dispatcher", *NAMES) as c:
        # Per-building subscriptions, made by the residents themselves.
        for name, building in (("subscriber", affected[0]), ("subscriber_far", far)):
            response = post(c[name], f"/incidents/buildings/{building}/subscription", {"on": "1"})
            assert response.status_code == 303

        mark = last_outbox_id(settings)
        incident = incident_id_of(declare(c["dispatcher"], world, affected))
        assert told_since(settings, mark) == {"subscriber": "incident_declare"}
        assert incident_timeline(settings, incident) == ["declare"]

        # The filing form shows it for an affected building and the category, not elsewhere.
        leak = world.categories["leak"]
        notice = c["filer"].get(f"/incidents/notice?building_id={affected[1]}&category_id={leak}")
        assert "По вашему дому уже известно" in notice.text
        assert "Меня это тоже касается" in notice.text
        elsewhere = c["filer"].get(f"/incidents/notice?building_id={far}&category_id={leak}")
        assert "По вашему дому уже известно" not in elsewhere.text
        lift = world.categories["lift"]
        other = c["filer"].get(f"/incidents/notice?building_id={affected[1]}&category_id={lift}")
        assert "По вашему дому уже известно" not in other.text

        # Filed anyway: linked in the affected building and category only.
        mark = last_outbox_id(settings)
        linked = _file(c["filer"], world, affected[1], "leak")
        far_request = _file(c["filer_far"], world, far, "leak")
        lift_request = _file(c["filer_lift"], world, affected[1], "lift")
        page = c["dispatcher"].get(f"/incidents/{incident}")
        assert "заявок: 1" in page.text
        # Filing tells the dispatchers (who have no device here), never the incident's audience.
        assert told_since(settings, mark) == {}
        # Open311 clients read what is known of the building with the request.
        notices = _service_notices(c["idle"], [linked, far_request, lift_request])
        assert "Нет холодной воды" in notices[linked]
        assert "Нет холодной воды" in notices[lift_request]  # the same building
        assert "Нет холодной воды" not in notices[far_request]

        response = post(c["follower"], f"/incidents/{incident}/follow")
        assert response.status_code == 303
        home = c["follower"].get("/incidents/mine")
        assert "Нет холодной воды" in home.text
        assert "Нет холодной воды" not in c["idle"].get("/incidents/mine").text
        assert "Нет холодной воды" in c["filer"].get("/incidents/mine").text

        mark = last_outbox_id(settings)
        later = as_local(utcnow() + timedelta(hours=5))
        response = post(
            c["dispatcher"],
            f"/incidents/{incident}/update",
            {"version": version_on(c["dispatcher"], incident), "expected_end": later},
        )
        assert response.status_code == 303, response.text[:2000]
        assert told_since(settings, mark) == {
            "follower": "incident_update",
            "filer": "incident_update",
        }

        mark = last_outbox_id(settings)
        response = post(
            c["dispatcher"],
            f"/incidents/{incident}/resolve",
            {"version": version_on(c["dispatcher"], incident)},
        )
        assert response.status_code == 303, response.text[:2000]
        # The filer hears it from their own request; the follower from the incident.
        assert told_since(settings, mark) == {"follower": "incident_resolve", "filer": "state"}
        assert incident_timeline(settings, incident) == ["declare", "update", "resolve"]
        assert state_of(settings, linked) == "done"
        assert request_timeline(settings, linked) == ["file", "resolve_incident"]
        assert state_of(settings, far_request) == "new"
        assert state_of(settings, lift_request) == "new"
        assert "Нет холодной воды" not in c["follower"].get("/incidents/mine").text
        assert figures_of(c["idle"]) == {
            "declared": "1",
            "active": "0",
            "overdue": "0",
            "residents": "2",  # the follower and the filer
            "requests": "1",
        }
        assert "Нет холодной воды" not in _service_notices(c["idle"], [linked])[linked]

        # The resident disputes their own: that request alone goes back.
        page = c["filer"].get(f"/requests/{linked}")
        response = post(
            c["filer"],
            f"/requests/{linked}/actions/dispute",
            {"version": str(version_of(page.text)), "reason": "Вода так и не пошла"},
        )
        assert response.status_code == 303, response.text[:2000]
        assert state_of(settings, linked) == "rework"


def _file(client: TestClient[Any], world: World, building_id: int, category: str) -> int:
    response = post(
        client,
        "/requests/new",
        {
            "building_id": building_id,
            "category_id": world.categories[category],
            "description": "Нет воды с утра",
        },
    )
    assert response.status_code == 303, response.text[:2000]
    return int(response.headers["location"].rsplit("/", 1)[1])


FIGURE = re.compile(r'data-figure="(\w+)">([^<]*)<')


def figures_of(client: TestClient[Any]) -> dict[str, str]:
    page = client.get("/incidents/figures?period=30")
    assert page.status_code == 200
    return {k: v for k, v in FIGURE.findall(page.text) if k != "hours"}


def _service_notices(client: TestClient[Any], ids: list[int]) -> dict[int, str]:
    found = client.get(
        "/open311/v2/requests.json", params={"service_request_id": ",".join(map(str, ids))}
    )
    assert found.status_code == 200, found.text
    return {item["service_request_id"]: item["service_notice"] for item in found.json()}


def test_an_incident_past_its_expected_end_stands_out(world: World) -> None:
    app = create_app(dataclasses.replace(world.settings, push_worker_in_process=False))
    with people(app, "dispatcher") as c:
        now = utcnow()
        late = {
            "starts_at": as_local(now - timedelta(hours=5)),
            "expected_end": as_local(now - timedelta(hours=1)),
        }
        incident = incident_id_of(
            declare(c["dispatcher"], world, [world.buildings["mira3"]], **late)
        )
        listed = c["dispatcher"].get("/incidents").text
        assert re.search(rf'class="board-row overdue" data-incident-id="{incident}"', listed)
        assert figures_of(c["dispatcher"])["overdue"] == "1"
        assert figures_of(c["dispatcher"])["active"] == "1"


def test_the_dispatcher_checks_every_resolved_request_at_once_and_each_resident_confirms(
    world: World,
) -> None:
    settings = dataclasses.replace(world.settings, push_worker_in_process=False)
    town = build_town(settings, world, NAMES)
    app = create_app(settings)
    affected = town.affected
    with people(app, "dispatcher", "dispatcher2", "cityadmin", *NAMES) as c:
        incident = incident_id_of(declare(c["dispatcher"], world, affected))
        checked = _file(c["filer"], world, affected[1], "leak")
        disputed = _file(c["subscriber"], world, affected[0], "leak")
        assert "Подтвердить выполнение" not in c["dispatcher"].get(f"/incidents/{incident}").text

        version = version_on(c["dispatcher"], incident)
        response = post(c["dispatcher"], f"/incidents/{incident}/resolve", {"version": version})
        assert response.status_code == 303, response.text[:2000]
        page = c["subscriber"].get(f"/requests/{disputed}")
        response = post(
            c["subscriber"],
            f"/requests/{disputed}/actions/dispute",
            {"version": str(version_of(page.text)), "reason": "Воды нет"},
        )
        assert response.status_code == 303, response.text[:2000]
        page = c["dispatcher"].get(f"/incidents/{incident}").text
        assert "Подтвердить выполнение по всем заявкам (1)" in page
        # The administration manages the incident but checks no organisation's work.
        assert "Подтвердить выполнение" not in c["cityadmin"].get(f"/incidents/{incident}").text
        # Another organisation's dispatcher is refused, and nothing moves.
        assert post(c["dispatcher2"], f"/incidents/{incident}/verify").status_code == 404
        assert state_of(settings, checked) == "done"

        mark = last_outbox_id(settings)
        response = post(c["dispatcher"], f"/incidents/{incident}/verify")
        assert response.status_code == 303, response.text[:2000]
        assert state_of(settings, checked) == "verified"
        assert request_timeline(settings, checked) == ["file", "resolve_incident", "verify"]
        assert state_of(settings, disputed) == "rework"  # the disputed one waits for its work
        assert told_since(settings, mark) == {"filer": "state"}
        after = c["dispatcher"].get(f"/incidents/{incident}").text
        assert "Подтвердить выполнение по всем" not in after

        # Nothing is left to check: said beside the page, nothing written.
        again = post(c["dispatcher"], f"/incidents/{incident}/verify")
        assert again.status_code == 422
        assert "Нет выполненных заявок, которые ждут вашей проверки." in again.text

        page = c["filer"].get(f"/requests/{checked}")
        response = post(
            c["filer"],
            f"/requests/{checked}/actions/confirm",
            {"version": str(version_of(page.text))},
        )
        assert response.status_code == 303, response.text[:2000]
        assert state_of(settings, checked) == "closed"
