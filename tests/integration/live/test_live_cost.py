"""What one change costs the live pages: the same database work for 5 open pages as for 50,
and the same bytes for every page of one audience."""

from __future__ import annotations

from contextlib import ExitStack
from typing import Any

from litestar.testing import TestClient

from server.app import create_app
from server.db.session import Database
from server.live.bus import make_bus
from server.shared.services import Services
from tests.http import post, version_of
from tests.live_client import Users, hello, last_entry, receive_until
from tests.statements import Recorder, statements
from tests.world import World

ORIGIN = {"origin": "http://testserver.local"}
# Four audiences of the request page, and the board of uk1's dispatchers.
REQUEST_VIEWERS = ("resident", "dispatcher", "operator", "cityadmin")


def _file(users: Users, world: World) -> int:
    response = post(
        users.use("resident"),
        "/requests/new",
        {
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories["leak"],
            "flat": "3",
            "description": "Течёт труба в подвале",
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def _comment(users: Users, request_id: int, text: str) -> None:
    client = users.use("dispatcher")
    version = version_of(client.get(f"/requests/{request_id}").text)
    response = post(
        client,
        f"/requests/{request_id}/actions/comment",
        {"version": version, "reason": text},
    )
    assert response.status_code == 303, response.text


def _one_change(world: World, pages: int) -> tuple[list[str], dict[str, set[str]]]:
    """Open `pages` request pages (the four viewers in turn) and `pages` boards, comment once;
    the statements the live views ran for it, and what each viewer's pages received."""
    db = Database(world.settings.database_url)
    svc = Services(settings=world.settings, db=db, bus=make_bus("memory://"))
    with TestClient(create_app(world.settings, services=svc)) as client, ExitStack() as stack:
        users = Users(client)
        request_id = _file(users, world)
        opened: list[tuple[str, Any]] = []
        for i in range(pages):
            who = REQUEST_VIEWERS[i % len(REQUEST_VIEWERS)]
            shown = last_entry(users.use(who).get(f"/requests/{request_id}").text)
            ws = stack.enter_context(
                users.use(who).websocket_connect(f"/live/requests/{request_id}", headers=ORIGIN)
            )
            ws.send_text(hello(last_entry=shown))
            receive_until(ws, lambda m: "request-state" in m)
            opened.append((who, ws))
        for _ in range(pages):
            ws = stack.enter_context(
                users.use("dispatcher").websocket_connect("/live/board", headers=ORIGIN)
            )
            ws.send_text(hello(search="", rows=[request_id]))
            receive_until(ws, lambda m: f"row-{request_id}" in m)
            opened.append(("board", ws))

        recorder = Recorder(db)
        _comment(users, request_id, "Бригада выезжает")
        received: dict[str, set[str]] = {}
        for who, ws in opened:
            wanted = "Бригада выезжает" if who != "board" else f"row-{request_id}"
            message, _ = receive_until(ws, lambda m, wanted=wanted: wanted in m)
            received.setdefault(who, set()).add(message)
        live = [
            s
            for task, s in recorder.log
            if task is not None and task.get_name().startswith("live-")
        ]
    return statements(live), received


def test_one_change_costs_the_same_database_work_for_5_and_for_50_open_pages(
    world: World,
) -> None:
    few, few_received = _one_change(world, 5)
    many, many_received = _one_change(world, 50)
    assert few, "the live views read the change from the database"
    assert len(many) == len(few), "\n".join(many)
    # Every page of one audience got the very same bytes, whatever the number of pages.
    for who in (*REQUEST_VIEWERS, "board"):
        assert len(many_received[who]) == 1, who
        assert len(few_received[who]) == 1, who
    # And the audiences differ: the resident is not shown what the dispatcher is.
    assert many_received["resident"] != many_received["dispatcher"]
