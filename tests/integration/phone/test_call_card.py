"""The operator's call card, live: a ringing call on every free operator's page, an answered
one on its operator's only; filing from it records the call on the request's timeline."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from server.app import create_app
from server.db.models import Call, User
from server.db.session import Database
from tests.conftest import run_async
from tests.http import post
from tests.integration.incidents.test_incident_journey import declare, incident_id_of
from tests.integration.live.test_live import ORIGIN, file, refused
from tests.integration.phone.pbx import generic_body, post_generic, with_pbx
from tests.live_client import Users, hello, receive_until
from tests.world import _HASH, World


async def _add_operator(url: str) -> int:
    db = Database(url)
    try:
        async with db.begin() as session:
            user = User(login="operator2", name="Тест operator2", role="operator")
            user.password_hash = _HASH
            session.add(user)
            await session.flush()
            return user.id
    finally:
        await db.dispose()


async def _call(url: str, external_id: str) -> Call:
    db = Database(url)
    try:
        async with db.read() as session:
            return (
                await session.scalars(select(Call).where(Call.external_id == external_id))
            ).one()
    finally:
        await db.dispose()


@pytest.fixture
def users(world: World) -> Iterator[Users]:
    run_async(_add_operator, world.settings.database_url)
    settings = dataclasses.replace(
        with_pbx(world.settings), pbx_operators={"101": "operator", "102": "operator2"}
    )
    with TestClient(create_app(settings)) as client:
        yield Users(client)


def ring(users: Users, call: str, caller: str = "+79170000001") -> None:
    response = post_generic(users.use(None), generic_body(f"{call}-r", call, "ringing", caller))
    assert response.json()["taken"], response.text


def answer(users: Users, call: str, extension: str) -> None:
    body = generic_body(f"{call}-a", call, "answered", operator=extension)
    assert post_generic(users.use(None), body).json()["taken"]


def hang_up(users: Users, call: str, duration: int) -> None:
    body = generic_body(f"{call}-e", call, "ended", duration=duration)
    assert post_generic(users.use(None), body).json()["taken"]


def cards(message: str) -> list[str]:
    return re.findall(r'data-call-id="(\d+)"', message)


def test_ringing_call_reaches_every_free_operator_then_stays_with_the_one_who_answered(
    users: Users, world: World
) -> None:
    request_id = file(users, world)  # the caller already has an open request
    number = re.search(r"№(\d{4}-\d{6})", users.use("resident").get(f"/requests/{request_id}").text)
    assert number
    first = users.use("operator").websocket_connect("/live/calls", headers=ORIGIN)
    second = users.use("operator2").websocket_connect("/live/calls", headers=ORIGIN)
    with first, second:
        for ws in (first, second):
            ws.send_text(hello())
            opening, _ = receive_until(ws, lambda m: 'id="call-cards"' in m)
            assert cards(opening) == []

        ring(users, "C1")
        for ws in (first, second):
            message, _ = receive_until(ws, lambda m: "data-call-id" in m)
            assert "Входящий звонок" in message
            assert "Тест resident" in message, "the caller's name"
            assert number.group(1) in message, "their open request"
            assert "call_id=" in message and "caller_phone=%2B79170000001" in message

        answer(users, "C1", "102")
        mine, _ = receive_until(second, lambda m: 'id="call-cards"' in m)
        assert "Идёт разговор" in mine and len(cards(mine)) == 1
        others, _ = receive_until(first, lambda m: 'id="call-cards"' in m)
        assert cards(others) == [], "a call taken by a colleague leaves a free operator's page"

        hang_up(users, "C1", 30)
        over, _ = receive_until(second, lambda m: 'id="call-cards"' in m)
        assert cards(over) == []


def test_the_card_names_the_outage_of_the_callers_house_with_the_text_to_read_out(
    users: Users, world: World
) -> None:
    file(users, world, "lenina12")  # the caller's house, as far as we know it
    incident_id_of(declare(users.use("dispatcher"), world, [world.buildings["lenina12"]]))
    elsewhere = declare(
        users.use("dispatcher2"), world, [world.buildings["sovet7"]], text="Нет света во дворе"
    )
    incident_id_of(elsewhere)
    with users.use("operator").websocket_connect("/live/calls", headers=ORIGIN) as ws:
        ws.send_text(hello())
        receive_until(ws, lambda m: 'id="call-cards"' in m)
        ring(users, "C7")
        message, _ = receive_until(ws, lambda m: "data-call-id" in m)
    assert "Нет холодной воды: порыв на магистрали, устраняем" in message
    assert "Нет света во дворе" not in message, "another house's outage is not the caller's"


def test_request_filed_during_the_call_records_it_on_its_timeline(
    users: Users, world: World
) -> None:
    ring(users, "C2", "+79170000055")
    answer(users, "C2", "101")
    operator = users.use("operator")
    home = operator.get("/operator").text
    assert "Этого номера нет среди жителей" in home
    link = re.search(r'href="(/operator/new\?[^"]+call_id=(\d+)[^"]*)"', home)
    assert link, "«Новая заявка» carries the call"
    form_page = operator.get(link.group(1).replace("&amp;", "&")).text
    assert 'value="+79170000055"' in form_page, "the phone is filled in"
    assert f'name="call_id" value="{link.group(2)}"' in form_page
    response = post(
        operator,
        "/operator/new",
        {
            "caller_phone": "+79170000055",
            "caller_name": "Гульнара",
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories["leak"],
            "description": "Течёт под раковиной, звонит соседка",
            "call_id": link.group(2),
        },
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    page = operator.get(location).text
    assert "Обращение по телефону" in page
    assert "Тест operator" in page, "the operator who took the call"

    hang_up(users, "C2", 75)
    page = users.use("operator").get(location).text
    assert "Звонок завершён" in page
    assert "Длительность звонка: 1 мин 15 с" in page
    call = run_async(_call, world.settings.database_url, "C2")
    assert call.request_id == int(location.rsplit("/", 1)[1])
    assert call.operator_id == world.users["operator"]


def test_an_unknown_call_on_the_form_is_a_message_and_files_nothing(
    users: Users, world: World
) -> None:
    response = post(
        users.use("operator"),
        "/operator/new",
        {
            "caller_phone": "+79170000056",
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories["leak"],
            "description": "Течёт под раковиной",
            "call_id": "999999",
        },
    )
    assert response.status_code == 422
    assert "Звонок не найден" in response.text


def test_only_operators_see_calls(users: Users, world: World) -> None:
    ring(users, "C3")
    for outsider in ("resident", "dispatcher", "cityadmin", "contractor"):
        assert users.use(outsider).get("/operator").status_code == 403, outsider
        assert refused(users, outsider, "/live/calls"), outsider
    assert not refused(users, "operator", "/live/calls")
