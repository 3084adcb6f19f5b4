"""The contractor's list of work orders: what each filter shows, who does each job, its print
button; the printed sheet's «Исполнитель» line; the menu naming the worker's page as it does."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient

from server.app import create_app
from tests.http import login
from tests.integration.requests.test_field import complete, job, signed_photo
from tests.integration.requests.test_journey import act
from tests.world import World


@pytest.fixture
def app(world: World) -> Any:
    return create_app(world.settings)


def rows_of(html: str) -> dict[int, str]:
    """The list's rows by request id, each as its HTML."""
    return {
        int(m.group(1)): m.group(0)
        for m in re.finditer(r'<li class="board-row[^"]*" id="row-(\d+)".*?</li>', html, re.S)
    }


def test_in_work_lists_the_work_owed_and_done_work_waits_for_its_check_apart(
    world: World, app: Any
) -> None:
    owed = job(world, flat="1")
    unassigned = job(world, flat="2", worker=None)
    done = job(world, flat="3")
    checked = job(world, flat="4")
    with TestClient(app) as worker:
        login(worker, "worker")
        for finished in (done, checked):
            sent = complete(
                worker, finished, signed_photo(world, finished), key=f"k-{finished.request_id}"
            )
            assert sent.status_code == 200, sent.text
    with TestClient(app) as dispatcher:
        login(dispatcher, "dispatcher")
        act(dispatcher, checked.request_id, "verify")
    with TestClient(app) as contractor:
        login(contractor, "contractor")
        in_work = rows_of(contractor.get("/jobs").text)
        waiting = rows_of(contractor.get("/jobs?state=checking").text)
        everything = rows_of(contractor.get("/jobs?state=all").text)

    assert set(in_work) == {owed.request_id, unassigned.request_id}
    assert set(waiting) == {done.request_id}
    assert set(everything) == {r.request_id for r in (owed, unassigned, done, checked)}
    assert "Выполнена" in waiting[done.request_id]


def test_each_job_names_its_worker_and_has_a_print_button(world: World, app: Any) -> None:
    given = job(world, flat="1")
    nobody = job(world, flat="2", worker=None)
    with TestClient(app) as contractor:
        login(contractor, "contractor")
        rows = rows_of(contractor.get("/jobs").text)

    assert "Тест worker" in rows[given.request_id]
    assert "не назначен" in rows[nobody.request_id]
    assert "Тест worker" not in rows[nobody.request_id]
    for one in (given, nobody):
        assert f'href="/work-orders/{one.order_id}/print"' in rows[one.request_id]


def test_a_worker_sees_the_jobs_waiting_for_the_check_too(world: World, app: Any) -> None:
    done = job(world, flat="3")
    other_crew = job(world, flat="5", contractor="c2", worker="worker2")
    with TestClient(app) as worker:
        login(worker, "worker")
        assert complete(worker, done, signed_photo(world, done)).status_code == 200
        waiting = rows_of(worker.get("/jobs?state=checking").text)
    with TestClient(app) as other:
        login(other, "worker2")
        sent = complete(other, other_crew, signed_photo(world, other_crew), key="k-2")
        assert sent.status_code == 200, sent.text
        theirs = rows_of(other.get("/jobs?state=checking").text)

    assert set(waiting) == {done.request_id}
    assert set(theirs) == {other_crew.request_id}


def worker_line(sheet: str) -> str:
    match = re.search(
        r'<div class="wo-field[^"]*"><span>Исполнитель</span>(.*?)</div>', sheet, re.S
    )
    assert match, "the sheet has an «Исполнитель» line"
    return match.group(1)


def test_printed_sheet_names_the_worker_or_leaves_a_line_to_write_one_in(
    world: World, app: Any
) -> None:
    given = job(world, flat="1")
    nobody = job(world, flat="2", worker=None)
    with TestClient(app) as contractor:
        login(contractor, "contractor")
        named = worker_line(contractor.get(f"/work-orders/{given.order_id}/print").text)
        blank = worker_line(contractor.get(f"/work-orders/{nobody.order_id}/print").text)

    assert "Тест worker" in named and "signature-line" not in named
    assert "signature-line" in blank, "a line to fill in by hand"


@pytest.mark.parametrize(
    ("name", "link", "text"),
    [("worker", "/field", "Мои работы"), ("contractor", "/jobs", "Заказ-наряды")],
)
def test_the_menu_names_the_jobs_page_as_the_page_does(
    world: World, app: Any, name: str, link: str, text: str
) -> None:
    with TestClient(app) as client:
        login(client, name)
        page = client.get(link).text
    menu = re.search(r'<nav [^>]*aria-label="Главное меню"[^>]*>(.*?)</nav>', page, re.S)
    assert menu and f'<a href="{link}">{text}</a>' in menu.group(1)
    assert f'<h1 class="page-title">{text}</h1>' in page
    other = "Заказ-наряды" if text == "Мои работы" else "Мои работы"
    assert other not in menu.group(1)
