"""Pages offer a button exactly when the rules allow the viewer that action on that request, and
name it in the viewer's language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from server.app import create_app
from tests.conftest import run_async
from tests.fixtures.field import open_job
from tests.http import login, people, post, version_of
from tests.world import World


def offered(html: str, request_id: int) -> list[str]:
    """The actions the page has a form for, in page order (assign has one per contractor)."""
    found = re.findall(rf'action="/requests/{request_id}/actions/(\w+)"', html)
    return list(dict.fromkeys(found))


# An assigned job of uk1, given to contractor c1 and its worker; written out from PRODUCT.md.
ASSIGNED_JOB_OFFERS = {
    "resident": ["cancel", "comment"],
    "operator": ["cancel", "comment"],
    "dispatcher": ["assign", "decline", "mark_duplicate", "comment"],
    "contractor": ["start", "complete", "comment", "assign_worker"],
    "worker": ["start", "complete", "comment"],
    "cityadmin": [],
}


@pytest.mark.parametrize("who", sorted(ASSIGNED_JOB_OFFERS))
def test_request_page_offers_exactly_the_actions_the_viewer_may_take(
    world: World, who: str
) -> None:
    job = run_async(open_job, world.settings, world)
    with TestClient(create_app(world.settings)) as client:
        login(client, who)
        page = client.get(f"/requests/{job.request_id}")
        assert page.status_code == 200
        assert offered(page.text, job.request_id) == ASSIGNED_JOB_OFFERS[who]
        if not ASSIGNED_JOB_OFFERS[who]:
            assert 'id="actions-title"' not in page.text


def test_each_form_kind_asks_for_what_its_action_needs(world: World) -> None:
    job = run_async(open_job, world.settings, world)
    with people(create_app(world.settings), "dispatcher", "contractor") as p:
        dispatcher = p["dispatcher"].get(f"/requests/{job.request_id}").text
        # Decline: a required reason, shown as a warning; assign: one button per contractor.
        assert re.search(r'<summary class="btn btn-danger">Отклонить</summary>', dispatcher)
        assert re.search(r'<label for="reason-decline">Причина отказа</label>', dispatcher)
        assert re.search(
            r'id="reason-decline" name="reason" rows="3" maxlength="2000" required', dispatcher
        )
        assert 'name="contractor_id"' in dispatcher
        contractor = p["contractor"].get(f"/requests/{job.request_id}").text
        # Complete: the photo and an optional note; assign a worker: a choice of workers.
        assert 'enctype="multipart/form-data"' in contractor
        assert re.search(r'name="photo" type="file"[^>]* required', contractor)
        assert re.search(
            r'id="reason-complete" name="reason" rows="2" maxlength="2000">', contractor
        )
        assert '<select id="worker" name="worker_id" required>' in contractor


def test_an_empty_reason_is_refused_beside_the_field_and_nothing_changes(world: World) -> None:
    job = run_async(open_job, world.settings, world)
    with TestClient(create_app(world.settings)) as client:
        login(client, "dispatcher")
        version = version_of(client.get(f"/requests/{job.request_id}").text)
        response = post(
            client,
            f"/requests/{job.request_id}/actions/decline",
            {"version": str(version), "reason": "   "},
        )
        assert response.status_code == 422
        assert "Укажите причину." in response.text
        assert '<details class="action-details" open>' in response.text
        assert version_of(client.get(f"/requests/{job.request_id}").text) == version


def test_a_malformed_id_is_refused_beside_its_field(world: World) -> None:
    job = run_async(open_job, world.settings, world)
    with TestClient(create_app(world.settings)) as client:
        login(client, "dispatcher")
        version = version_of(client.get(f"/requests/{job.request_id}").text)
        response = post(
            client,
            f"/requests/{job.request_id}/actions/assign",
            {"version": str(version), "contractor_id": "c1"},
        )
        assert response.status_code == 422
        assert "Введите целое число." in response.text


def test_buttons_and_the_confirmation_are_in_the_viewers_language(world: World) -> None:
    job = run_async(open_job, world.settings, world)
    with TestClient(create_app(world.settings)) as client:
        login(client, "worker")
        post(client, "/language", {"lang": "en"})
        page = client.get(f"/requests/{job.request_id}").text
        assert "Start work" in page
        assert "Начать работы" not in page
        done = post(
            client,
            f"/requests/{job.request_id}/actions/start",
            {"version": str(version_of(page))},
        )
        assert done.status_code == 303
        after = client.get(done.headers["location"]).text
        assert "Done:" in after
        assert "Готово" not in after


def _board(client: TestClient[Any]) -> str:
    page = client.get("/board")
    assert page.status_code == 200
    return page.text


def test_board_offers_quick_assign_only_where_the_dispatcher_may_assign(world: World) -> None:
    assigned = run_async(open_job, world.settings, world)
    started = run_async(open_job, world.settings, world)
    with people(create_app(world.settings), "worker", "dispatcher", "resident") as p:
        page = p["worker"].get(f"/requests/{started.request_id}").text
        response = post(
            p["worker"],
            f"/requests/{started.request_id}/actions/start",
            {"version": str(version_of(page))},
        )
        assert response.status_code == 303
        filed = post(
            p["resident"],
            "/requests/new",
            {
                "building_id": world.buildings["lenina12"],
                "category_id": world.categories["leak"],
                "flat": "3",
                "description": "Не работает домофон",
            },
        )
        assert filed.status_code == 303
        new_id = int(filed.headers["location"].rsplit("/", 1)[1])
        board = _board(p["dispatcher"])

    def row(request_id: int) -> str:
        match = re.search(rf'<li [^>]*id="row-{request_id}".*?</li>', board, re.S)
        assert match, request_id
        return match.group(0)

    assert "quick-assign" in row(new_id)
    assert "quick-assign" in row(assigned.request_id)  # another contractor, before work starts
    assert "quick-assign" not in row(started.request_id)
