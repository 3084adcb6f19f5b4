"""Printing the work order says it was printed, and nothing more: work starts when somebody
presses «Начать работы» (on the request page or the worker's phone) or completes the job."""

from __future__ import annotations

import re
from typing import Any

from litestar.testing import TestClient

from server.app import create_app
from tests.http import filed, people, post, version_of
from tests.integration.requests.test_journey import act, print_url_of, timeline_headlines
from tests.world import World

PRINTED = "Заказ-наряд распечатан"


def assigned_request(world: World, clients: dict[str, TestClient[Any]]) -> int:
    """A leak at Lenina 12, assigned to c1 and given to `worker`: the sheet is ready to print."""
    request_id = filed(clients["resident"], world, "Капает из крана на кухне")
    act(clients["dispatcher"], request_id, "assign", contractor_id=world.orgs["c1"])
    act(clients["contractor"], request_id, "assign_worker", worker_id=world.users["worker"])
    return request_id


def state_of(client: TestClient[Any], request_id: int) -> str:
    match = re.search(
        r'id="request-state".*?<span class="badge badge-(\w+)"', _page(client, request_id), re.S
    )
    assert match
    return match.group(1)


def _page(client: TestClient[Any], request_id: int) -> str:
    page = client.get(f"/requests/{request_id}")
    assert page.status_code == 200
    return page.text


def test_opening_the_print_sheet_writes_nothing(world: World) -> None:
    with people(create_app(world.settings), "resident", "dispatcher", "contractor") as p:
        request_id = assigned_request(world, p)
        before = _page(p["resident"], request_id)
        url = print_url_of(_page(p["contractor"], request_id))
        for viewer in ("contractor", "dispatcher", "contractor"):  # a preview, a look, a reload
            sheet = p[viewer].get(url)
            assert sheet.status_code == 200
            assert f'<form method="post" action="{url}" data-print>' in sheet.text
        after = _page(p["resident"], request_id)
        assert timeline_headlines(after) == timeline_headlines(before)
        assert version_of(after) == version_of(before)
        assert state_of(p["resident"], request_id) == "assigned"


def test_printing_notes_it_once_and_work_has_not_started(world: World) -> None:
    with people(create_app(world.settings), "resident", "dispatcher", "contractor") as p:
        request_id = assigned_request(world, p)
        url = print_url_of(_page(p["contractor"], request_id))
        first = post(p["contractor"], url)
        assert first.status_code == 303 and first.headers["location"] == url
        # The page's script asks for JSON; a second press (or the dispatcher's) prints again.
        again = post(p["contractor"], url, headers={"accept": "application/json"})
        assert again.status_code == 204
        assert post(p["dispatcher"], url).status_code == 303

        resident_page = _page(p["resident"], request_id)
        assert timeline_headlines(resident_page).count(PRINTED) == 1
        assert state_of(p["resident"], request_id) == "assigned"
        assert "Подрядчик выполняет работы" not in resident_page
        assert "Назначен подрядчик, работы скоро начнутся." in resident_page
        # The contractor is still offered «Начать работы» and starting is what moves the state.
        contractor_page = _page(p["contractor"], request_id)
        assert f'action="/requests/{request_id}/actions/start"' in contractor_page
        act(p["contractor"], request_id, "start")
        started = _page(p["resident"], request_id)
        assert state_of(p["resident"], request_id) == "in_progress"
        assert "Подрядчик выполняет работы." in started
        assert timeline_headlines(started)[-2:] == [PRINTED, "Работы начаты"]


def test_nobody_outside_the_job_can_note_a_print(world: World) -> None:
    outsiders = ("contractor2", "worker2", "dispatcher2", "resident2")
    app = create_app(world.settings)
    with people(app, "resident", "dispatcher", "contractor", *outsiders) as p:
        request_id = assigned_request(world, p)
        url = print_url_of(_page(p["contractor"], request_id))
        for who in ("resident", *outsiders):
            assert post(p[who], url).status_code in (403, 404), who
            assert p[who].get(url).status_code in (403, 404), who
        assert PRINTED not in timeline_headlines(_page(p["resident"], request_id))


def test_worker_starts_the_work_from_the_field_page(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "dispatcher", "contractor", "worker") as p:
        request_id = assigned_request(world, p)
        post(p["contractor"], print_url_of(_page(p["contractor"], request_id)))
        job = p["worker"].get(f"/field/jobs/{request_id}").text
        assert f'action="/field/jobs/{request_id}/start"' in job
        assert "Начать работы" in job
        started = post(
            p["worker"], f"/field/jobs/{request_id}/start", {"version": version_of_job(job)}
        )
        assert started.status_code == 303
        assert started.headers["location"] == f"/field/jobs/{request_id}"
        job = p["worker"].get(f"/field/jobs/{request_id}").text
        assert "Готово: работы начаты." in job
        assert f'action="/field/jobs/{request_id}/start"' not in job  # started once
        assert state_of(p["resident"], request_id) == "in_progress"


def test_worker_of_another_contractor_cannot_start_the_job(world: World) -> None:
    app = create_app(world.settings)
    with people(app, "resident", "dispatcher", "contractor", "worker2") as p:
        request_id = assigned_request(world, p)
        version = version_of(_page(p["contractor"], request_id))
        refused = post(p["worker2"], f"/field/jobs/{request_id}/start", {"version": version})
        assert refused.status_code in (403, 404)
        assert state_of(p["resident"], request_id) == "assigned"


def version_of_job(html: str) -> str:
    match = re.search(r'id="field-start">.*?name="version" value="(\d+)"', html, re.S)
    assert match, "the start form carries the request's version"
    return match.group(1)
