"""PBX webhooks: each provider's signed events make and end calls; bad signatures are refused
and replays change nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from server.app import create_app
from server.db.models import Call, CallSignal
from server.db.session import Database
from tests.conftest import run_async
from tests.integration.phone.pbx import (
    MANGO_KEY,
    generic_body,
    mango_call,
    mango_form,
    post_generic,
    post_mango,
    post_zadarma,
    with_pbx,
    zadarma_form,
)
from tests.world import World

CALLER = "+79170000001"


@pytest.fixture
def client(world: World) -> Iterator[TestClient[Any]]:
    with TestClient(create_app(with_pbx(world.settings))) as client:
        yield client


def calls(world: World) -> list[Call]:
    async def read() -> list[Call]:
        db = Database(world.settings.database_url)
        try:
            async with db.read() as session:
                return list(await session.scalars(select(Call).order_by(Call.id)))
        finally:
            await db.dispose()

    return run_async(read)


def signals(world: World) -> int:
    async def read() -> int:
        db = Database(world.settings.database_url)
        try:
            async with db.read() as session:
                return int(await session.scalar(select(func.count(CallSignal.id))) or 0)
        finally:
            await db.dispose()

    return run_async(read)


def refused(response: Any) -> bool:
    return response.status_code == 403 and response.json()["code"] == "bad_signature"


# --------------------------------------------------------------------------------------------
# Mango Office


def test_mango_call_rings_is_answered_by_the_operator_and_ends_with_its_length(
    client: TestClient[Any], world: World
) -> None:
    now = int(time.time())
    ring = mango_form(mango_call("E1", 1, "Appeared", now - 100, "79170000001"))
    assert post_mango(client, "call", ring).json() == {"ok": True, "taken": True}
    [call] = calls(world)
    assert call.caller_phone == CALLER and call.answered_at is None and call.ended_at is None

    answer = mango_form(mango_call("E1", 2, "Connected", now - 90, "79170000001", ext="101"))
    assert post_mango(client, "call", answer).status_code == 200
    summary = {
        "entry_id": "E1",
        "call_direction": 1,
        "from": {"number": "79170000001"},
        "to": {"extension": "101"},
        "create_time": now - 100,
        "forward_time": now - 95,
        "talk_time": now - 90,
        "end_time": now,
        "entry_result": 1,
    }
    assert post_mango(client, "summary", mango_form(summary)).status_code == 200
    [call] = calls(world)
    assert call.operator_id == world.users["operator"]
    assert call.answered_at is not None and call.ended_at is not None
    assert call.duration_seconds == 90


def test_mango_wrong_or_missing_signature_or_foreign_key_is_refused(
    client: TestClient[Any], world: World
) -> None:
    event = mango_call("E2", 1, "Appeared", int(time.time()), "79170000001")
    wrong = mango_form(event, salt="another-salt")
    missing = {k: v for k, v in mango_form(event).items() if k != "sign"}
    foreign = mango_form(event, key="someone-else")
    for form in (wrong, missing, foreign):
        assert refused(post_mango(client, "call", form))
    assert calls(world) == []


def test_mango_replayed_event_changes_nothing(client: TestClient[Any], world: World) -> None:
    form = mango_form(mango_call("E3", 1, "Appeared", int(time.time()), "79170000001"))
    assert post_mango(client, "call", form).json()["taken"] is True
    assert post_mango(client, "call", form).json() == {"ok": True, "taken": False}
    assert len(calls(world)) == 1 and signals(world) == 1


def test_mango_other_events_are_accepted_and_ignored(client: TestClient[Any], world: World) -> None:
    form = mango_form({"command_id": "x", "result": 1000})
    assert post_mango(client, "recording", form).json() == {"ok": True, "taken": False}
    assert MANGO_KEY and calls(world) == []


# --------------------------------------------------------------------------------------------
# Zadarma


def test_zadarma_start_answer_end_make_one_call_with_the_operator_and_length(
    client: TestClient[Any], world: World
) -> None:
    assert post_zadarma(client, zadarma_form("NOTIFY_START", "Z1", "79170000001")).json()["taken"]
    answer = zadarma_form("NOTIFY_ANSWER", "Z1", "79170000001", internal="101")
    assert post_zadarma(client, answer).status_code == 200
    end = zadarma_form(
        "NOTIFY_END", "Z1", "79170000001", internal="101", duration="75", disposition="answered"
    )
    assert post_zadarma(client, end).status_code == 200
    [call] = calls(world)
    assert call.caller_phone == CALLER
    assert call.operator_id == world.users["operator"]
    assert call.ended_at is not None and call.duration_seconds == 75


def test_zadarma_wrong_or_missing_signature_is_refused(
    client: TestClient[Any], world: World
) -> None:
    form = zadarma_form("NOTIFY_START", "Z2", "79170000001")
    assert refused(post_zadarma(client, form, secret="not-the-secret"))
    assert refused(post_zadarma(client, form, secret=None))
    assert calls(world) == []


def test_zadarma_replay_changes_nothing_and_the_address_check_is_echoed(
    client: TestClient[Any], world: World
) -> None:
    form = zadarma_form("NOTIFY_START", "Z3", "79170000001")
    assert post_zadarma(client, form).json()["taken"] is True
    assert post_zadarma(client, form).json()["taken"] is False
    assert len(calls(world)) == 1 and signals(world) == 1
    echo = client.get("/pbx/zadarma", params={"zd_echo": "abc123"})
    assert echo.status_code == 200 and echo.text == "abc123"


# --------------------------------------------------------------------------------------------
# Any other PBX: the documented JSON


def test_generic_events_ring_answer_and_end_a_call(client: TestClient[Any], world: World) -> None:
    assert post_generic(client, generic_body("g1", "A1", "ringing", "8 917 000-00-01")).json()[
        "taken"
    ]
    post_generic(client, generic_body("g2", "A1", "answered", operator="operator"))
    post_generic(client, generic_body("g3", "A1", "ended", duration=42))
    [call] = calls(world)
    assert call.caller_phone == CALLER and call.operator_id == world.users["operator"]
    assert call.duration_seconds == 42


def test_generic_wrong_or_missing_signature_is_refused_and_replay_changes_nothing(
    client: TestClient[Any], world: World
) -> None:
    body = generic_body("g9", "A9", "ringing", "+79170000001")
    assert refused(post_generic(client, body, secret="wrong"))
    assert refused(post_generic(client, body, secret=None))
    assert calls(world) == []
    assert post_generic(client, body).json()["taken"] is True
    assert post_generic(client, body).json()["taken"] is False
    assert len(calls(world)) == 1 and signals(world) == 1


def test_generic_unreadable_event_is_a_json_error_and_writes_nothing(
    client: TestClient[Any], world: World
) -> None:
    response = post_generic(client, generic_body("g5", "A5", "exploded"))
    assert response.status_code == 400 and response.json()["code"] == "bad_event"
    response = post_generic(client, b"not json")
    assert response.status_code == 400
    assert calls(world) == []


def test_no_key_configured_refuses_every_webhook(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        assert refused(post_generic(client, generic_body("g1", "A1", "ringing"), secret=""))
        assert refused(post_zadarma(client, zadarma_form("NOTIFY_START", "Z", "7917"), ""))
        assert refused(post_mango(client, "call", mango_form({"entry_id": "E"})))
    assert calls(world) == []
