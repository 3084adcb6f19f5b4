"""Every change a person makes carries the version of the request they saw: a form without it
is refused with a message, a form from before someone else's change is a conflict, and in
neither case does anything change."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from server.app import create_app
from tests.conftest import run_async
from tests.fixtures.field import Job, open_job, stored
from tests.http import post, version_of
from tests.images.work_order import draw_sheet, photograph, sign
from tests.live_client import Users, hello, last_entry, receive_until
from tests.world import World

ORIGIN = {"origin": "http://testserver.local"}
JSON = {"accept": "application/json"}
HTMX = {"HX-Request": "true", "HX-Target": "request"}
NO_VERSION = "В форме нет версии заявки. Обновите страницу и повторите действие."
STALE = "Заявка уже изменена. Показано её текущее состояние."
FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S)
POSTS_A_CHANGE = re.compile(r'action="/(?:requests/\d+/actions/\w+|field/jobs/\d+/complete)"')
VERSION_INPUT = re.compile(r'<input type="hidden" name="version" value="(\d+)">')


@pytest.fixture
def users(world: World) -> Iterator[Users]:
    with TestClient(create_app(world.settings)) as client:
        yield Users(client)


def job(world: World) -> Job:
    return run_async(lambda: open_job(world.settings, world))


def versions_sent(html: str) -> list[int | None]:
    """For every form of the page that changes a request: the version it sends, or None."""
    found: list[int | None] = []
    for form in FORM.findall(html):
        if POSTS_A_CHANGE.search(form.split(">", 1)[0]):
            match = VERSION_INPUT.search(form)
            found.append(int(match.group(1)) if match else None)
    return found


def file(users: Users, world: World, building: str = "lenina12") -> int:
    response = post(
        users.use("resident"),
        "/requests/new",
        {
            "building_id": world.buildings[building],
            "category_id": world.categories["leak"],
            "description": "Течёт труба под раковиной",
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def comment(users: Users, who: str, request_id: int, text: str) -> None:
    client = users.use(who)
    version = version_of(client.get(f"/requests/{request_id}").text)
    response = post(
        client, f"/requests/{request_id}/actions/comment", {"reason": text, "version": version}
    )
    assert response.status_code == 303, response.text


def state_of(users: Users, request_id: int) -> tuple[int, int]:
    """The version and the number of timeline entries, as the dispatcher's page shows them."""
    page = users.use("dispatcher").get(f"/requests/{request_id}").text
    return version_of(page), page.count('class="timeline-entry')


def test_every_form_that_changes_a_request_sends_the_version_it_shows(
    users: Users, world: World
) -> None:
    the_job = job(world)
    waiting = file(users, world, "orphan")
    pages = [
        ("dispatcher", f"/requests/{the_job.request_id}"),
        ("dispatcher", "/board"),
        ("contractor", f"/requests/{the_job.request_id}"),
        ("worker", f"/requests/{the_job.request_id}"),
        ("worker", f"/field/jobs/{the_job.request_id}"),
        ("resident", f"/requests/{the_job.request_id}"),
        ("cityadmin", "/admin/triage"),
        ("cityadmin", f"/requests/{waiting}"),
    ]
    for who, path in pages:
        html = users.use(who).get(path).text
        sent = versions_sent(html)
        assert sent, (who, path, "has forms that change a request")
        assert None not in sent, (who, path)
    assert set(
        versions_sent(users.use("worker").get(f"/field/jobs/{the_job.request_id}").text)
    ) == {the_job.version}


def test_live_updates_bring_forms_with_the_new_version(users: Users, world: World) -> None:
    request_id = file(users, world)
    dispatcher = users.use("dispatcher")
    before = dispatcher.get(f"/requests/{request_id}").text
    with (
        dispatcher.websocket_connect(f"/live/requests/{request_id}", headers=ORIGIN) as page_ws,
        dispatcher.websocket_connect("/live/board", headers=ORIGIN) as board_ws,
    ):
        page_ws.send_text(hello(last_entry=last_entry(before)))
        board_ws.send_text(hello(search="", rows=[request_id]))
        receive_until(page_ws, lambda m: "request-actions" in m)
        receive_until(board_ws, lambda m: 'id="board"' in m)

        comment(users, "resident", request_id, "Течёт сильнее")
        now, _entries = state_of(users, request_id)

        actions, _ = receive_until(
            page_ws, lambda m: "request-actions" in m and f'value="{now}"' in m
        )
        assert set(versions_sent(actions)) == {now}
        row, _ = receive_until(board_ws, lambda m: f'id="row-{request_id}"' in m)
        assert set(versions_sent(row)) == {now}


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_an_action_form_without_the_version_is_refused_and_changes_nothing(
    users: Users, world: World, headers: dict[str, str]
) -> None:
    request_id = file(users, world)
    before = state_of(users, request_id)
    response = post(
        users.use("dispatcher"),
        f"/requests/{request_id}/actions/assign",
        {"contractor_id": world.orgs["c1"]},
        headers=headers,
    )
    assert response.status_code == 422
    assert NO_VERSION in response.text
    assert 'id="request"' in response.text  # the request again, with the message
    assert state_of(users, request_id) == before
    assert "Сантехмонтаж" not in users.use("resident").get(f"/requests/{request_id}").text


def test_an_action_form_from_before_another_change_is_a_conflict_and_changes_nothing(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    seen = version_of(users.use("dispatcher").get(f"/requests/{request_id}").text)
    comment(users, "resident", request_id, "Уже заливает соседей")
    before = state_of(users, request_id)
    response = post(
        users.use("dispatcher"),
        f"/requests/{request_id}/actions/assign",
        {"contractor_id": world.orgs["c1"], "version": seen},
        headers=HTMX,
    )
    assert response.status_code == 409
    assert STALE in response.text
    assert "Уже заливает соседей" in response.text  # what changed is there to read
    assert state_of(users, request_id) == before


def _photo(world: World, of: Job) -> dict[str, tuple[str, bytes, str]]:
    image = photograph(sign(draw_sheet(of.url(world.settings.base_url))))
    return {"photo": ("photo.jpg", image, "image/jpeg")}


def _complete(users: Users, world: World, of: Job, data: dict[str, Any], **headers: str) -> Any:
    return post(
        users.use("worker"),
        f"/field/jobs/{of.request_id}/complete",
        data,
        files=_photo(world, of),
        headers=headers,
    )


def test_a_field_completion_without_the_version_is_refused_and_the_job_stays_open(
    users: Users, world: World
) -> None:
    the_job = job(world)
    sent = _complete(users, world, the_job, {"completion_key": "k-1"}, **JSON)
    assert sent.status_code == 422
    assert sent.json()["ok"] is False
    assert NO_VERSION in sent.json()["message"]
    page = _complete(users, world, the_job, {})
    assert page.status_code == 422
    assert NO_VERSION in page.text
    assert 'id="complete-form"' in page.text
    facts = run_async(stored, world.settings, the_job.request_id)
    assert (facts.state, facts.completions, facts.signed_photos) == ("assigned", 0, [])


def test_a_field_completion_that_waited_while_the_request_changed_can_be_sent_again(
    users: Users, world: World
) -> None:
    the_job = job(world)
    comment(users, "resident", the_job.request_id, "Дома буду после шести")
    late = {"version": the_job.version, "completion_key": "queued-on-the-phone"}

    refused = _complete(users, world, the_job, late, **JSON)
    assert refused.status_code == 409
    assert refused.json()["error"] == "stale"
    facts = run_async(stored, world.settings, the_job.request_id)
    assert (facts.state, facts.completions, facts.signed_photos) == ("assigned", 0, [])
    # Without JavaScript: the job as it is now, with the message.
    page = _complete(users, world, the_job, {"version": the_job.version})
    assert page.status_code == 409
    assert STALE in page.text

    # The phone kept the photo; sent again with the version of the job as it is now.
    fresh = users.use("worker").get(f"/field/jobs/{the_job.request_id}").text
    [now] = set(versions_sent(fresh))
    again = _complete(users, world, the_job, {**late, "version": now}, **JSON)
    assert again.status_code == 200, again.text
    assert again.json()["created"] is True
    facts = run_async(stored, world.settings, the_job.request_id)
    assert (facts.state, facts.completions, facts.signed_photos) == ("done", 1, ["confirmed"])
