"""The dispatcher's board: a quick assign answered in place (the row, a confirmation, fresh
counters) or, without JavaScript, back to the board as it was; the counters above it; each
contractor's choice marked current or previous, with its open and overdue jobs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import TestClient

from server.app import create_app
from tests.conftest import run_async
from tests.fixtures.field import Job, open_job
from tests.http import post
from tests.images.work_order import draw_sheet, photograph, sign
from tests.live_client import Users
from tests.world import World

STALE = "Заявка уже изменена. Показано её текущее состояние."
COUNTS = ("new", "overdue", "emergency", "to_check")


@pytest.fixture
def users(world: World) -> Iterator[Users]:
    with TestClient(create_app(world.settings)) as client:
        yield Users(client)


def job(world: World, **kwargs: Any) -> Job:
    return run_async(lambda: open_job(world.settings, world, **kwargs))


def file(users: Users, world: World, category: str = "leak", building: str = "lenina12") -> int:
    response = post(
        users.use("resident"),
        "/requests/new",
        {
            "building_id": world.buildings[building],
            "category_id": world.categories[category],
            "flat": "7",
            "description": "Течёт кран на кухне",
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def row_of(html: str, request_id: int) -> str:
    """A row of the board (the page, or a row answered in place), up to whatever follows it."""
    start = re.search(rf'<li class="board-row[^"]*" id="row-{request_id}"', html)
    assert start, f"row {request_id} is shown"
    rest = html[start.start() :]
    ends = [rest.find(m, 1) for m in ('<li class="board-row', '<p id="board-notice"', "</section>")]
    return rest[: min((e for e in ends if e > 0), default=len(rest))]


def choices(row: str) -> dict[str, str]:
    """Each contractor button of a row's quick assign, by the contractor's short name."""
    found = re.findall(r'(<button class="btn contractor-choice.*?</button>)', row, re.S)
    named = {}
    for button in found:
        name = re.search(r'class="contractor-name">([^<]+)<', button)
        assert name
        named[name.group(1)] = " ".join(re.sub(r"<[^>]+>", " ", button).split())
    return named


def version_in(row: str) -> int:
    match = re.search(r'name="version" value="(\d+)"', row)
    assert match
    return int(match.group(1))


def counts_of(html: str) -> dict[str, int]:
    found = dict(re.findall(r'data-count="(\w+)">\s*<span class="board-count-value">(\d+)<', html))
    return {key: int(found[key]) for key in COUNTS}


def assign_from_row(
    users: Users, request_id: int, contractor_id: int, version: int, **headers: str
) -> Any:
    return post(
        users.use("dispatcher"),
        f"/requests/{request_id}/actions/assign",
        {"version": version, "contractor_id": contractor_id},
        headers={
            "HX-Request": "true",
            "HX-Target": f"row-{request_id}",
            "HX-Current-URL": "http://testserver.local/board?state=new",
            **headers,
        },
    )


def test_a_quick_assign_from_the_board_answers_its_row_and_a_confirmation(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    board = users.use("dispatcher").get("/board").text
    row = row_of(board, request_id)
    assert f'hx-post="/requests/{request_id}/actions/assign"' in row
    assert f'hx-target="#row-{request_id}"' in row
    before = counts_of(board)

    answer = assign_from_row(users, request_id, world.orgs["c1"], version_in(row))

    assert answer.status_code == 200
    assert "HX-Redirect" not in answer.headers  # the board stays where it is
    assert answer.text.lstrip().startswith('<li class="board-row')
    new_row = row_of(answer.text, request_id)
    assert "Назначена" in new_row
    assert re.search(
        r'<p id="board-notice" hx-swap-oob="innerHTML"><span>Назначено: Сантехмонтаж</span>',
        answer.text,
    )
    assert counts_of(answer.text)["new"] == before["new"] - 1
    # The row's quick assign now carries the new version and marks c1 as the one assigned.
    assert version_in(new_row) > version_in(row)
    assert "назначен сейчас" in choices(new_row)["Сантехмонтаж"]
    page = users.use("dispatcher").get(f"/requests/{request_id}").text
    assert "Назначена" in page and "Сантехмонтаж" in page
    # No «Готово» left waiting for the next page: the notice said it.
    assert "Готово" not in users.use("dispatcher").get("/board").text


def test_a_quick_assign_without_javascript_goes_back_to_the_board_with_its_filters(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    dispatcher = users.use("dispatcher")
    row = row_of(dispatcher.get("/board?state=new").text, request_id)
    response = post(
        dispatcher,
        f"/requests/{request_id}/actions/assign",
        {"version": version_in(row), "contractor_id": world.orgs["c2"]},
        headers={"Referer": "http://testserver.local/board?state=new&q=%D0%9B%D0%B5%D0%BD"},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/board?state=new&q=%D0%9B%D0%B5%D0%BD"
    back = dispatcher.get(response.headers["location"]).text
    assert "Готово: подрядчик назначен." in back
    assert f'id="row-{request_id}"' not in back  # no longer new
    # From the request page itself, the request page again.
    other = file(users, world)
    page = users.use("dispatcher").get(f"/requests/{other}").text
    version = int(re.search(r'data-version="(\d+)"', page).group(1))  # type: ignore[union-attr]
    response = post(
        users.use("dispatcher"),
        f"/requests/{other}/actions/assign",
        {"version": version, "contractor_id": world.orgs["c2"]},
        headers={"Referer": f"http://testserver.local/requests/{other}"},
    )
    assert response.headers["location"] == f"/requests/{other}"


def test_a_quick_assign_from_a_stale_row_answers_the_current_row_and_says_why(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    row = row_of(users.use("dispatcher").get("/board").text, request_id)
    first = assign_from_row(users, request_id, world.orgs["c1"], version_in(row))
    assert first.status_code == 200
    second = assign_from_row(users, request_id, world.orgs["c2"], version_in(row))
    assert second.status_code == 409
    assert f'<span class="is-problem">{STALE}</span>' in second.text
    current = row_of(second.text, request_id)
    assert "назначен сейчас" in choices(current)["Сантехмонтаж"]  # c1 kept the job
    assert "назначен" not in choices(current)["ЛифтСервис"]


def test_a_quick_assign_without_the_version_is_refused_in_place(users: Users, world: World) -> None:
    request_id = file(users, world)
    response = post(
        users.use("dispatcher"),
        f"/requests/{request_id}/actions/assign",
        {"contractor_id": world.orgs["c1"]},
        headers={"HX-Request": "true", "HX-Target": f"row-{request_id}"},
    )
    assert response.status_code == 422
    assert "В форме нет версии заявки" in response.text
    assert "Назначена" not in row_of(response.text, request_id)


def test_another_organisations_dispatcher_cannot_assign_from_a_board_row(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    row = row_of(users.use("dispatcher").get("/board").text, request_id)
    for who in ("dispatcher2", "contractor"):
        response = post(
            users.use(who),
            f"/requests/{request_id}/actions/assign",
            {"version": version_in(row), "contractor_id": world.orgs["c3"]},
            headers={"HX-Request": "true", "HX-Target": f"row-{request_id}"},
        )
        assert response.status_code in (403, 404), who
        assert f'id="row-{request_id}"' not in response.text
    assert "Новая" in row_of(users.use("dispatcher").get("/board").text, request_id)
    assert users.use("dispatcher2").get("/board/counts").status_code == 200
    assert users.use("contractor").get("/board/counts").status_code == 403


def test_the_counters_match_the_requests_and_open_the_matching_filter(
    users: Users, world: World
) -> None:
    empty = counts_of(users.use("dispatcher").get("/board").text)
    assert empty == dict.fromkeys(COUNTS, 0)
    new_leak = file(users, world, "leak")  # an emergency category
    new_lift = file(users, world, "lift", building="mira3")
    late = job(world, category="window", due_in=timedelta(hours=-1))
    done = job(world, category="lift")
    image = photograph(sign(draw_sheet(done.url(world.settings.base_url))))
    completed = post(
        users.use("worker"),
        f"/field/jobs/{done.request_id}/complete",
        {"version": done.version},
        files={"photo": ("photo.jpg", image, "image/jpeg")},
    )
    assert completed.status_code == 303, completed.text
    file(users, world, "leak", building="sovet7")  # another organisation's: not counted

    board = users.use("dispatcher").get("/board").text
    assert counts_of(board) == {"new": 2, "overdue": 1, "emergency": 1, "to_check": 1}
    assert counts_of(users.use("dispatcher").get("/board/counts").text) == counts_of(board)
    assert counts_of(users.use("dispatcher2").get("/board").text)["emergency"] == 1

    def shown(state: str) -> set[int]:
        assert f'href="/board?state={state}"' in board
        page = users.use("dispatcher").get(f"/board?state={state}").text
        return {int(i) for i in re.findall(r'<li class="board-row[^"]*" id="row-(\d+)"', page)}

    assert shown("new") == {new_leak, new_lift}
    assert shown("overdue") == {late.request_id}
    assert shown("emergency") == {new_leak}
    assert shown("to_check") == {done.request_id}


def test_each_contractor_shows_its_open_and_overdue_jobs_and_the_current_and_previous_one(
    users: Users, world: World
) -> None:
    job(world, contractor="c1", category="window", due_in=timedelta(hours=-2))
    job(world, contractor="c1", category="lift")
    reassigned = job(world, contractor="c1", category="window", worker=None)
    # The water supplier's job for the same contractor is not uk1's to count.
    water = file(users, world, "water")
    water_row = row_of(users.use("dispatcher_rso").get("/board").text, water)
    post(
        users.use("dispatcher_rso"),
        f"/requests/{water}/actions/assign",
        {"version": version_in(water_row), "contractor_id": world.orgs["c1"]},
    )
    assert (
        "в работе: 1"
        in choices(row_of(users.use("dispatcher_rso").get("/board").text, water))["Сантехмонтаж"]
    )
    waiting = file(users, world)

    board = users.use("dispatcher").get("/board").text
    row = row_of(board, reassigned.request_id)
    answer = assign_from_row(users, reassigned.request_id, world.orgs["c2"], version_in(row))
    assert answer.status_code == 200
    moved = choices(row_of(answer.text, reassigned.request_id))
    assert "назначен сейчас" in moved["ЛифтСервис"]
    assert "был назначен раньше" in moved["Сантехмонтаж"]
    assert "в работе: 2 · просрочено: 1" in moved["Сантехмонтаж"]
    assert "в работе: 1" in moved["ЛифтСервис"]
    assert "просрочено" not in moved["ЛифтСервис"]

    fresh = choices(row_of(users.use("dispatcher").get("/board").text, waiting))
    assert set(fresh) == {"Сантехмонтаж", "ЛифтСервис"}  # uk1's contractors only
    assert not any("назначен" in text for text in fresh.values())
    assert "в работе: 2 · просрочено: 1" in fresh["Сантехмонтаж"]


def test_the_request_page_marks_its_contractors_as_the_board_does(
    users: Users, world: World
) -> None:
    job(world, contractor="c1", category="window", due_in=timedelta(hours=-2))
    reassigned = job(world, contractor="c1", category="window", worker=None)
    dispatcher = users.use("dispatcher")
    row = row_of(dispatcher.get("/board").text, reassigned.request_id)
    assign_from_row(users, reassigned.request_id, world.orgs["c2"], version_in(row))

    page = dispatcher.get(f"/requests/{reassigned.request_id}").text
    shown = choices(page)
    assert set(shown) == {"Сантехмонтаж", "ЛифтСервис"}
    assert "назначен сейчас" in shown["ЛифтСервис"]
    assert "был назначен раньше" in shown["Сантехмонтаж"]
    assert "в работе: 1 · просрочено: 1" in shown["Сантехмонтаж"]
    assert "в работе: 1" in shown["ЛифтСервис"]
    current = re.search(r'<button class="btn contractor-choice is-current"[^>]*>', page)
    assert current and "disabled" in current.group(0), "the current one cannot be chosen again"
