"""Live pages in one process (memory bus): what arrives, to whom, and what is refused."""

from __future__ import annotations

import dataclasses
import re
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient
from sqlalchemy import update

from server.app import create_app
from server.db.models import Request, utcnow
from server.db.session import Database
from server.live.bus import EventBus
from tests.conftest import run_async
from tests.http import post, version_of
from tests.live_client import (
    Users,
    actions_in,
    entry_ids,
    hello,
    last_entry,
    receive_until,
)
from tests.world import World

ORIGIN = {"origin": "http://testserver.local"}  # BASE_URL of the test settings


@pytest.fixture
def users(world: World) -> Iterator[Users]:
    with TestClient(create_app(world.settings)) as client:
        yield Users(client)


def file(users: Users, world: World, building: str = "lenina12", who: str = "resident") -> int:
    client = users.use(who)
    response = post(
        client,
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


def act(users: Users, who: str, request_id: int, action: str, **data: Any) -> None:
    client = users.use(who)
    version = version_of(client.get(f"/requests/{request_id}").text)
    response = post(
        client, f"/requests/{request_id}/actions/{action}", {"version": version, **data}
    )
    assert response.status_code == 303, response.text


def page(users: Users, who: str, request_id: int) -> str:
    response = users.use(who).get(f"/requests/{request_id}")
    assert response.status_code == 200, response.text
    return response.text


def refused(users: Users, who: str | None, path: str, headers: dict[str, str] = ORIGIN) -> bool:
    client = users.use(who)
    try:
        with client.websocket_connect(path, headers=headers) as ws:
            ws.send_text(hello(last_entry=0, rows=[]))
            ws.receive_text(timeout=2)
    except WebSocketDisconnect as exc:
        return exc.code == 4403
    return False


# --------------------------------------------------------------------------------------------
# The request page


def test_request_page_receives_new_entry_badge_and_its_own_actions_live(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    before = page(users, "resident", request_id)
    resident = users.use("resident").websocket_connect(
        f"/live/requests/{request_id}", headers=ORIGIN
    )
    dispatcher_page = page(users, "dispatcher", request_id)
    dispatcher = users.use("dispatcher").websocket_connect(
        f"/live/requests/{request_id}", headers=ORIGIN
    )
    with resident, dispatcher:
        resident.send_text(hello(last_entry=last_entry(before)))
        dispatcher.send_text(hello(last_entry=last_entry(dispatcher_page)))
        receive_until(resident, lambda m: "request-state" in m)
        receive_until(dispatcher, lambda m: "request-state" in m)

        act(users, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])

        after_resident = page(users, "resident", request_id)
        after_dispatcher = page(users, "dispatcher", request_id)
        new_entry = max(entry_ids(after_resident))
        message, _ = receive_until(resident, lambda m: f'id="entry-{new_entry}"' in m)
        assert 'hx-swap-oob="beforeend"' in message
        assert "badge-assigned" in message
        assert actions_in(message) == actions_in(after_resident)
        theirs, _ = receive_until(dispatcher, lambda m: f'id="entry-{new_entry}"' in m)
        assert actions_in(theirs) == actions_in(after_dispatcher)
        assert actions_in(theirs) != actions_in(message), "each viewer gets their own actions"


def test_each_page_hears_the_change_in_its_own_language(users: Users, world: World) -> None:
    request_id = file(users, world)
    post(users.use("resident"), "/language", {"lang": "en"})
    post(users.use("operator"), "/language", {"lang": "tt"})
    sockets = {
        who: users.use(who).websocket_connect(f"/live/requests/{request_id}", headers=ORIGIN)
        for who in ("resident", "operator", "dispatcher")
    }
    with sockets["resident"], sockets["operator"], sockets["dispatcher"]:
        for who, ws in sockets.items():
            ws.send_text(hello(last_entry=last_entry(page(users, who, request_id))))
            receive_until(ws, lambda m: "request-state" in m)

        act(users, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])

        said = {
            who: receive_until(ws, lambda m: "badge-assigned" in m)[0]
            for who, ws in sockets.items()
        }
    assert "Contractor assigned" in said["resident"] and "Назначен" not in said["resident"]
    assert "Подрядчы билгеләнде" in said["operator"] and "Назначен" not in said["operator"]
    assert "Назначен подрядчик" in said["dispatcher"]


def test_connecting_replays_what_was_missed_then_streams_each_entry_once(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    shown = last_entry(page(users, "resident", request_id))
    for text in ("Первый", "Второй", "Третий"):
        act(users, "dispatcher", request_id, "comment", reason=text)
    missed = [e for e in entry_ids(page(users, "resident", request_id)) if e > shown]
    assert len(missed) == 3

    with users.use("resident").websocket_connect(
        f"/live/requests/{request_id}", headers=ORIGIN
    ) as ws:
        ws.send_text(hello(last_entry=shown))
        first, _ = receive_until(ws, lambda m: "entry-" in m)
        assert entry_ids(first) == missed, "everything after the page's last entry, in order"
        assert "Первый" in first and "Третий" in first

        act(users, "dispatcher", request_id, "comment", reason="Четвёртый")
        _, read = receive_until(ws, lambda m: "Четвёртый" in m)
        received = [e for m in read for e in entry_ids(m)]
        assert received == [max(entry_ids(page(users, "resident", request_id)))]
        assert not set(received) & set(missed), "nothing is sent twice on one connection"


def test_viewer_who_loses_the_request_is_told_and_not_reconnected(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    with users.use("dispatcher").websocket_connect(
        f"/live/requests/{request_id}", headers=ORIGIN
    ) as ws:
        ws.send_text(hello(last_entry=0))
        receive_until(ws, lambda m: "request-state" in m)
        act(users, "dispatcher", request_id, "transfer", organisation_id=world.orgs["uk2"])
        message, _ = receive_until(ws, lambda m: '"gone"' in m)
        assert "больше не доступна" in message
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text(timeout=5)
        assert closed.value.code == 4403  # the htmx ws extension does not retry this code


# --------------------------------------------------------------------------------------------
# Who may listen


def test_request_channel_is_refused_to_everyone_who_may_not_see_the_request(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    path = f"/live/requests/{request_id}"
    # Nobody signed in: accepted, then closed with 4401 (tests/integration/test_live_lists.py).
    for outsider in ("resident2", "dispatcher2", "contractor", "worker"):
        assert refused(users, outsider, path), outsider
    for insider in ("resident", "dispatcher", "operator", "cityadmin"):
        assert not refused(users, insider, path), insider


def test_live_channels_refuse_other_sites_and_missing_origin(users: Users, world: World) -> None:
    request_id = file(users, world)
    path = f"/live/requests/{request_id}"
    assert refused(users, "resident", path, {"origin": "http://evil.example"})
    assert refused(users, "resident", path, {"origin": "https://testserver.local"})
    assert refused(users, "resident", path, {})
    assert refused(users, "dispatcher", "/live/board", {"origin": "null"})
    # The page's own origin is accepted: the one in BASE_URL, or the Host it was served from.
    assert not refused(users, "resident", path, ORIGIN)
    assert not refused(
        users, "resident", path, {"origin": "http://zayavka.local", "host": "zayavka.local"}
    )


def test_lists_are_refused_to_roles_they_are_not_for(users: Users, world: World) -> None:
    assert refused(users, "resident", "/live/board")
    assert refused(users, "contractor", "/live/board")
    assert refused(users, "dispatcher", "/live/jobs")
    assert refused(users, "resident", "/live/jobs")
    assert refused(users, "dispatcher", "/live/counts")
    assert refused(users, "resident", "/live/counts")


# --------------------------------------------------------------------------------------------
# Boards and job lists


def test_new_request_appears_on_top_of_the_board_highlighted(users: Users, world: World) -> None:
    older = file(users, world)
    shown = users.use("dispatcher").get("/board").text
    assert f'id="row-{older}"' in shown
    with users.use("dispatcher").websocket_connect("/live/board", headers=ORIGIN) as ws:
        ws.send_text(hello(search="", rows=[older]))
        receive_until(ws, lambda m: 'id="board"' in m)
        newer = file(users, world, building="mira3")
        message, _ = receive_until(ws, lambda m: f'id="row-{newer}"' in m)
        assert f'hx-swap-oob="beforebegin:#row-{older}"' in message, "placed above the others"
        assert re.search(rf'class="board-row[^"]*\bis-new\b[^"]*" id="row-{newer}"', message)


def test_board_row_changes_where_it_stands_and_leaves_a_filter_it_no_longer_matches(
    users: Users, world: World
) -> None:
    request_id = file(users, world)
    with users.use("dispatcher").websocket_connect("/live/board", headers=ORIGIN) as ws:
        ws.send_text(hello(search="?state=new", rows=[request_id]))
        first, _ = receive_until(ws, lambda m: 'id="board"' in m)
        assert f'id="row-{request_id}"' in first
        act(users, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])
        message, _ = receive_until(ws, lambda m: f"row-{request_id}" in m or 'id="board"' in m)
        # Removed: either by itself, or with a whole list that no longer has it.
        assert f'<div id="row-{request_id}" hx-swap-oob="delete">' in message or (
            'id="board"' in message and f'id="row-{request_id}"' not in message
        )

    other = file(users, world)
    with users.use("dispatcher").websocket_connect("/live/board", headers=ORIGIN) as ws:
        ws.send_text(hello(search="?state=open", rows=[request_id, other]))
        receive_until(ws, lambda m: 'id="board"' in m)
        act(users, "dispatcher", other, "assign", contractor_id=world.orgs["c2"])
        message, _ = receive_until(ws, lambda m: f"row-{other}" in m)
        assert "badge-assigned" in message
        assert "is-updated" in message


def test_board_of_another_organisation_hears_nothing_of_it(users: Users, world: World) -> None:
    with users.use("dispatcher2").websocket_connect("/live/board", headers=ORIGIN) as ws:
        ws.send_text(hello(search="", rows=[]))
        receive_until(ws, lambda m: 'id="board"' in m)
        theirs = file(users, world, building="lenina12")  # УК 1
        mine = file(users, world, building="sovet7")  # УК 2
        _, read = receive_until(ws, lambda m: f"row-{mine}" in m)
        assert all(f"row-{theirs}" not in m for m in read)


def test_overdue_flips_on_the_board_without_any_change(users: Users, world: World) -> None:
    request_id = file(users, world)
    client = users.use("dispatcher")
    run_async(_due_in, world.settings.database_url, request_id, 2.0)
    with client.websocket_connect("/live/board", headers=ORIGIN) as ws:
        ws.send_text(hello(search="", rows=[request_id]))
        first, _ = receive_until(ws, lambda m: 'id="board"' in m)
        assert "board-row overdue" not in first
        started = time.monotonic()
        message, _ = receive_until(ws, lambda m: "overdue" in m, timeout=8)
        assert f"row-{request_id}" in message and "Просрочена" in message
        assert time.monotonic() - started < 6


def test_request_page_turns_overdue_on_time(users: Users, world: World) -> None:
    request_id = file(users, world)
    client = users.use("resident")
    run_async(_due_in, world.settings.database_url, request_id, 2.0)
    with client.websocket_connect(f"/live/requests/{request_id}", headers=ORIGIN) as ws:
        ws.send_text(hello(last_entry=0))
        first, _ = receive_until(ws, lambda m: "request-state" in m)
        assert "Просрочена" not in first
        message, _ = receive_until(ws, lambda m: "request-state" in m, timeout=8)
        assert "Просрочена" in message


async def _due_in(url: str, request_id: int, seconds: float) -> None:
    db = Database(url)
    try:
        async with db.begin() as session:
            await session.execute(
                update(Request)
                .where(Request.id == request_id)
                .values(due_at=utcnow() + timedelta(seconds=seconds))
            )
    finally:
        await db.dispose()


def test_contractor_job_list_gets_jobs_assigned_to_it_only(users: Users, world: World) -> None:
    first = file(users, world)
    second = file(users, world)
    mine = users.use("contractor").websocket_connect("/live/jobs", headers=ORIGIN)
    theirs = users.use("contractor2").websocket_connect("/live/jobs", headers=ORIGIN)
    with mine, theirs:
        mine.send_text(hello(search="", rows=[]))
        theirs.send_text(hello(search="", rows=[]))
        receive_until(mine, lambda m: 'id="jobs"' in m)
        receive_until(theirs, lambda m: 'id="jobs"' in m)
        act(users, "dispatcher", first, "assign", contractor_id=world.orgs["c1"])
        act(users, "dispatcher", second, "assign", contractor_id=world.orgs["c2"])
        message, _ = receive_until(mine, lambda m: f"row-{first}" in m)
        assert "badge-assigned" in message
        _, read = receive_until(theirs, lambda m: f"row-{second}" in m)
        assert all(f"row-{first}" not in m for m in read)


def test_city_administration_counts_are_told_to_refresh(users: Users, world: World) -> None:
    with users.use("cityadmin").websocket_connect("/live/counts", headers=ORIGIN) as ws:
        ws.send_text(hello())
        receive_until(ws, lambda m: '"refresh"' in m and "live-counts" in m)
        file(users, world)
        receive_until(ws, lambda m: '"refresh"' in m and "live-counts" in m, timeout=5)


# --------------------------------------------------------------------------------------------
# A broken bus


def test_changes_neither_fail_nor_wait_when_the_bus_hangs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(EventBus, "start_wait", 0.2)
    # A "Redis" that accepts connections and never answers: the worst kind of broken bus.
    with socket.socket() as black_hole:
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(64)
        port = black_hole.getsockname()[1]
        settings = dataclasses.replace(world.settings, broadcast_url=f"redis://127.0.0.1:{port}/0")
        app = create_app(settings)
        with TestClient(app) as client:
            users = Users(client).sign_in("resident", "dispatcher")
            started = time.monotonic()
            request_id = file(users, world)
            timings = [time.monotonic() - started]
            with users.use("resident").websocket_connect(
                f"/live/requests/{request_id}", headers=ORIGIN
            ) as ws:
                ws.send_text(hello(last_entry=last_entry(page(users, "resident", request_id))))
                client = users.use("dispatcher")
                for text in ("Раз", "Два"):
                    version = version_of(client.get(f"/requests/{request_id}").text)
                    started = time.monotonic()
                    response = post(
                        client,
                        f"/requests/{request_id}/actions/comment",
                        {"reason": text, "version": version},
                    )
                    timings.append(time.monotonic() - started)
                    assert response.status_code == 303, response.text
                # Each write waits at most the publish timeout (1 s), then publishing pauses.
                assert max(timings) < EventBus.publish_timeout + 2.0, timings
                assert app.state.services.bus.dropped == 3
                # Pages on this process still hear of it; other processes catch up later.
                receive_until(ws, lambda m: "Два" in m)


def test_a_switched_off_account_stops_watching_at_once(users: Users, world: World) -> None:
    """Who may watch is decided at the handshake, and again when the account changes: the
    sysadmin switches a dispatcher off, and their open board closes without waiting for the
    next change to a request; it cannot come back."""
    with users.use("dispatcher").websocket_connect("/live/board", headers=ORIGIN) as ws:
        ws.send_text(hello(search="", rows=[]))
        receive_until(ws, lambda m: 'id="board"' in m)
        admin = users.use("sysadmin")
        switched = post(
            admin, f"/sysadmin/users/{world.users['dispatcher']}/active", {"active": "0"}
        )
        assert switched.status_code == 303, switched.text
        with pytest.raises(WebSocketDisconnect) as closed:
            receive_until(ws, lambda m: False, timeout=5)
        assert closed.value.code == 1012  # reconnect, and be asked again
    with (
        pytest.raises(WebSocketDisconnect) as again,
        users.use("dispatcher").websocket_connect("/live/board", headers=ORIGIN) as ws,
    ):
        ws.receive_text(timeout=5)
    assert again.value.code == 4401  # signed out: the page stops and offers to sign in
