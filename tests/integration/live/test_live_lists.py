"""Live lists beyond the boards: the worker's phone list (`/live/field`), the resident's own
requests (`/live/my-requests`), and what an open page hears when nobody is signed in any more.

One process, memory bus, SQLite and PostgreSQL (one TestClient, users swap cookie jars).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from sqlalchemy import update

from server.app import create_app
from server.db.models import Request, utcnow
from server.db.session import Database
from server.requests.field import SOON
from tests.conftest import run_async
from tests.http import post, version_of
from tests.images.work_order import draw_sheet, photograph, sign
from tests.live_client import Users, hello, receive_until
from tests.world import World

ORIGIN = {"origin": "http://testserver.local"}  # BASE_URL of the test settings
SIGNED_OUT = 4401
REFUSED = 4403


@pytest.fixture
def users(world: World) -> Iterator[Users]:
    with TestClient(create_app(world.settings)) as client:
        yield Users(client)


def file(users: Users, world: World, building: str = "lenina12", who: str = "resident") -> int:
    response = post(
        users.use(who),
        "/requests/new",
        {
            "building_id": world.buildings[building],
            "category_id": world.categories["leak"],
            "description": "Течёт труба под раковиной",
            "flat": "7",
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def file_by_phone(users: Users, world: World, phone: str) -> int:
    response = post(
        users.use("operator"),
        "/operator/new",
        {
            "caller_phone": phone,
            "caller_name": "Звонивший",
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories["lift"],
            "description": "Лифт стоит между этажами",
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def act(users: Users, who: str, request_id: int, action: str, **data: Any) -> None:
    client = users.use(who)
    version = version_of(client.get(f"/requests/{request_id}").text)
    response = post(
        client, f"/requests/{request_id}/actions/{action}", {"version": version, **data}
    )
    assert response.status_code == 303, response.text


def assigned(users: Users, world: World, worker: str | None = "worker") -> int:
    """A request of УК 1 given to contractor c1 and, unless None, to one of its workers."""
    request_id = file(users, world)
    act(users, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])
    if worker is not None:
        act(users, "contractor", request_id, "assign_worker", worker_id=world.users[worker])
    return request_id


def complete(users: Users, request_id: int) -> None:
    photo = photograph(sign(draw_sheet(None)))  # no QR code: done, flagged for a check
    worker = users.use("worker")
    version = version_of(worker.get(f"/requests/{request_id}").text)
    response = post(
        worker,
        f"/field/jobs/{request_id}/complete",
        {"completion_key": f"key-{request_id}", "version": version},
        files={"photo": ("photo.jpg", photo, "image/jpeg")},
        headers={"accept": "application/json"},
    )
    assert response.status_code == 200, response.text


@contextmanager
def live(users: Users, who: str, path: str) -> Iterator[Any]:
    """An open live list of `who` that has said hello with nothing shown yet."""
    with users.use(who).websocket_connect(path, headers=ORIGIN) as ws:
        ws.send_text(hello(search="", rows=[]))
        yield ws


def row(request_id: int) -> str:
    return f'id="row-{request_id}"'


def handshake_refused(users: Users, who: str | None, path: str, headers: dict[str, str]) -> bool:
    """True when the server answered the handshake itself with 403: no socket at all."""
    session = users.use(who).websocket_connect(path, headers=headers)
    try:
        ws = session.__enter__()  # raises when the socket is closed before accept()
    except WebSocketDisconnect as exc:
        return exc.code == REFUSED
    try:
        ws.send_text(hello(last_entry=0, rows=[]))
        ws.receive_text(timeout=2)
    except WebSocketDisconnect:
        pass
    finally:
        session.__exit__(None, None, None)
    return False


def told_to_sign_in(client: TestClient[Any], path: str) -> bool:
    """True when the socket is accepted, then closed at once with 4401, nothing sent before."""
    with client.websocket_connect(path, headers=ORIGIN) as ws:
        try:
            message = ws.receive_text(timeout=5)
        except WebSocketDisconnect as exc:
            return exc.code == SIGNED_OUT
    raise AssertionError(f"a signed-out page was sent {message!r}")


def row_in(message: str, request_id: int) -> str:
    """The part of a message that renders one row (up to the next row)."""
    assert row(request_id) in message
    return message.split(row(request_id), 1)[1].split('id="row-', 1)[0]


# --------------------------------------------------------------------------------------------
# The worker's phone list


def test_phone_list_gets_the_contractors_unassigned_jobs_and_the_workers_own_live(
    users: Users, world: World
) -> None:
    with live(users, "worker", "/live/field") as worker:
        first, _ = receive_until(worker, lambda m: 'id="field-jobs"' in m)
        assert "Открытых работ нет" in first

        unassigned = assigned(users, world, worker=None)
        message, _ = receive_until(worker, lambda m: row(unassigned) in m)
        # The phone's own row: opens the field page of the job and offers the call.
        assert f'href="/field/jobs/{unassigned}"' in message
        assert "Позвонить жителю" in message

        mine = assigned(users, world, worker="worker")
        message, _ = receive_until(worker, lambda m: row(mine) in m)
        assert "badge-assigned" in message
        assert re.search(rf'class="field-job[^"]*\bis-updated\b[^"]*" {row(mine)}', message)

        # Given to another worker of the crew: it leaves this worker's phone.
        act(users, "contractor", unassigned, "assign_worker", worker_id=world.users["worker_b"])
        message, _ = receive_until(worker, lambda m: f"row-{unassigned}" in m or "field-jobs" in m)
        assert f'<div id="row-{unassigned}" hx-swap-oob="delete">' in message or (
            'id="field-jobs"' in message and row(unassigned) not in message
        )


def test_phone_row_changes_in_place_and_a_finished_job_moves_to_done_today(
    users: Users, world: World
) -> None:
    job = assigned(users, world)
    other = assigned(users, world)
    with live(users, "worker", "/live/field") as worker:
        first, _ = receive_until(worker, lambda m: 'id="field-jobs"' in m)
        assert row(job) in first and row(other) in first
        assert "Выполнено сегодня" not in first

        act(users, "worker", job, "start")
        message, _ = receive_until(worker, lambda m: f"row-{job}" in m)
        assert f'{row(job)} hx-swap-oob="true"' in message, "replaced where it stands"
        assert "badge-in_progress" in message
        assert row(other) not in message, "the other job is left alone"

        complete(users, job)
        message, _ = receive_until(worker, lambda m: "field-done-today" in m)
        assert f'<div id="row-{job}" hx-swap-oob="delete">' in message, "gone from «to do»"
        done = message[message.index('id="field-done-today"') :]
        assert "Выполнено сегодня" in done and row(job) in done and "badge-done" in done
        assert message.index('hx-swap-oob="delete"') < message.index('id="field-done-today"')


def test_phone_list_catches_up_with_what_changed_while_it_was_away(
    users: Users, world: World
) -> None:
    shown = assigned(users, world)
    with users.use("worker").websocket_connect("/live/field", headers=ORIGIN) as ws:
        ws.send_text(hello(search="", rows=[shown]))
        receive_until(ws, lambda m: row(shown) in m)
    # Offline for a while: a job is started, another one arrives.
    act(users, "worker", shown, "start")
    arrived = assigned(users, world)
    with users.use("worker").websocket_connect("/live/field", headers=ORIGIN) as ws:
        ws.send_text(hello(search="", rows=[shown]))
        message, _ = receive_until(ws, lambda m: 'id="field-jobs"' in m)
        assert row(arrived) in message
        assert "badge-in_progress" in row_in(message, shown)


def test_phone_list_of_another_contractor_or_crew_member_hears_nothing_of_a_job(
    users: Users, world: World
) -> None:
    with (
        live(users, "worker2", "/live/field") as theirs,  # contractor c2
        live(users, "worker_b", "/live/field") as crewmate,  # c1, not given this job
    ):
        receive_until(theirs, lambda m: 'id="field-jobs"' in m)
        receive_until(crewmate, lambda m: 'id="field-jobs"' in m)
        c1_job = assigned(users, world, worker=None)
        # The crewmate sees it while nobody has it...
        receive_until(crewmate, lambda m: row(c1_job) in m)
        act(users, "contractor", c1_job, "assign_worker", worker_id=world.users["worker"])
        c2_job = file(users, world)
        act(users, "dispatcher", c2_job, "assign", contractor_id=world.orgs["c2"])
        _, read = receive_until(theirs, lambda m: row(c2_job) in m)
        assert all(f"row-{c1_job}" not in m for m in read)
        # ...and loses it when it is given to «worker».
        _, read = receive_until(
            crewmate,
            lambda m: (
                f'<div id="row-{c1_job}" hx-swap-oob="delete">' in m
                or ('id="field-jobs"' in m and row(c1_job) not in m)
            ),
        )
        assert all(f"row-{c2_job}" not in m for m in read)


def test_phone_job_turns_amber_and_then_overdue_on_time_without_any_change(
    users: Users, world: World
) -> None:
    amber = assigned(users, world)
    late = assigned(users, world)
    run_async(_due_in, world.settings.database_url, amber, SOON + timedelta(seconds=2))
    run_async(_due_in, world.settings.database_url, late, timedelta(seconds=5))
    with live(users, "worker", "/live/field") as worker:
        first, _ = receive_until(worker, lambda m: 'id="field-jobs"' in m)
        assert "due-soon" not in row_in(first, amber)
        assert "overdue" not in row_in(first, late)
        started = time.monotonic()
        # Amber two hours ahead: on its own time, not only when the next deadline wakes it.
        receive_until(
            worker, lambda m: row(amber) in m and "due-soon" in row_in(m, amber), timeout=4
        )
        receive_until(
            worker, lambda m: row(late) in m and "Просрочена" in row_in(m, late), timeout=8
        )
        assert time.monotonic() - started < 8


async def _due_in(url: str, request_id: int, delta: timedelta) -> None:
    db = Database(url)
    try:
        async with db.begin() as session:
            await session.execute(
                update(Request).where(Request.id == request_id).values(due_at=utcnow() + delta)
            )
    finally:
        await db.dispose()


def test_phone_list_channel_is_for_contractors_and_workers_only(users: Users, world: World) -> None:
    for outsider in ("resident", "operator", "dispatcher", "cityadmin"):
        assert handshake_refused(users, outsider, "/live/field", ORIGIN), outsider
    assert handshake_refused(users, "worker", "/live/field", {"origin": "http://evil.example"})
    assert not handshake_refused(users, "contractor", "/live/field", ORIGIN)


# --------------------------------------------------------------------------------------------
# The resident's own requests


def test_residents_list_updates_the_badge_and_shows_a_request_filed_for_them_by_phone(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    page = users.use("resident").get("/requests").text
    assert row(request_id) in page and 'ws-connect="/live/my-requests"' in page
    with live(users, "resident", "/live/my-requests") as resident:
        receive_until(resident, lambda m: 'id="my-requests"' in m)

        act(users, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])
        message, _ = receive_until(resident, lambda m: f"row-{request_id}" in m)
        assert f'{row(request_id)} hx-swap-oob="true"' in message
        assert "badge-assigned" in message and "is-updated" in message

        by_phone = file_by_phone(users, world, "+7 917 000-00-01")  # the resident's number
        message, _ = receive_until(resident, lambda m: row(by_phone) in m)
        assert f'hx-swap-oob="beforebegin:#row-{request_id}"' in message, "newest on top"
        assert "Не работает лифт" in row_in(message, by_phone)


def test_residents_list_catches_up_and_starts_from_empty(users: Users, world: World) -> None:
    page = users.use("resident").get("/requests").text
    assert "У вас пока нет заявок" in page
    with live(users, "resident", "/live/my-requests") as resident:
        first, _ = receive_until(resident, lambda m: 'id="my-requests"' in m)
        assert "У вас пока нет заявок" in first
        request_id = file(users, world)
        message, _ = receive_until(resident, lambda m: row(request_id) in m)
        assert 'id="my-requests" hx-swap-oob="innerHTML"' in message, "replaces the empty state"
    act(users, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])
    with users.use("resident").websocket_connect("/live/my-requests", headers=ORIGIN) as ws:
        ws.send_text(hello(search="", rows=[request_id]))
        message, _ = receive_until(ws, lambda m: row(request_id) in m)
        assert "badge-assigned" in message


def test_another_residents_requests_never_reach_a_residents_list(
    users: Users, world: World
) -> None:
    theirs = file(users, world, who="resident")
    with live(users, "resident2", "/live/my-requests") as other:
        receive_until(other, lambda m: 'id="my-requests"' in m)
        act(users, "dispatcher", theirs, "assign", contractor_id=world.orgs["c1"])
        file_by_phone(users, world, "+7 917 000-00-01")  # for «resident», not «resident2»
        own = file(users, world, who="resident2")
        _, read = receive_until(other, lambda m: row(own) in m)
        assert all(f"row-{theirs}" not in m for m in read)
        assert sum(len(re.findall(r'id="row-\d+"', m)) for m in read) == 1


def test_my_requests_channel_is_for_residents_only(users: Users, world: World) -> None:
    for outsider in ("operator", "dispatcher", "contractor", "worker", "cityadmin"):
        assert handshake_refused(users, outsider, "/live/my-requests", ORIGIN), outsider
    assert handshake_refused(users, "resident", "/live/my-requests", {"origin": "null"})
    assert not handshake_refused(users, "resident", "/live/my-requests", ORIGIN)


# --------------------------------------------------------------------------------------------
# Nobody signed in any more


def test_every_live_channel_tells_a_signed_out_page_to_sign_in_and_sends_nothing(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    paths = [
        f"/live/requests/{request_id}",
        "/live/board",
        "/live/jobs",
        "/live/field",
        "/live/my-requests",
        "/live/counts",
    ]
    anonymous = users.use(None)
    for path in paths:
        assert told_to_sign_in(anonymous, path), path


def test_signing_out_in_another_tab_makes_the_next_connection_say_so(
    users: Users, world: World
) -> None:
    client = users.use("resident")
    with client.websocket_connect("/live/my-requests", headers=ORIGIN) as ws:
        ws.send_text(hello(search="", rows=[]))
        receive_until(ws, lambda m: 'id="my-requests"' in m)
    response = post(client, "/logout")
    assert response.status_code == 303
    assert told_to_sign_in(client, "/live/my-requests")


def test_a_foreign_site_is_refused_at_the_handshake_even_without_a_session(
    users: Users, world: World
) -> None:
    for path in ("/live/my-requests", "/live/field", "/live/board"):
        assert handshake_refused(users, None, path, {"origin": "http://evil.example"}), path
        assert handshake_refused(users, None, path, {}), path
