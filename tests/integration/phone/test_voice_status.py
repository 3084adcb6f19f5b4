"""The voice menu's endpoint: a request's status as one phrase, only for a «pbx» token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.db.session import Database
from server.integrations.tokens import issue
from tests.conftest import run_async
from tests.integration.live.test_live import file
from tests.live_client import Users
from tests.world import World


async def _token(url: str, kind: str) -> str:
    db = Database(url)
    try:
        return (await issue(db, name=f"{kind} key", kind=kind))[1]
    finally:
        await db.dispose()


@pytest.fixture
def users(world: World) -> Iterator[Users]:
    with TestClient(create_app(world.settings)) as client:
        yield Users(client)


def ask(users: Users, token: str | None, **params: str) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return users.use(None).get("/pbx/status", params=params, headers=headers)


def test_status_by_keyed_number_and_by_phone(users: Users, world: World) -> None:
    request_id = file(users, world)
    token = run_async(_token, world.settings.database_url, "pbx")
    by_number = ask(users, token, number=str(request_id))
    assert by_number.status_code == 200
    body = by_number.json()
    assert body["found"] is True
    expected = "Заявка номер один: принята, исполнитель ещё не назначен, срок — сегодня до"
    assert body["phrase"].startswith(expected) or "срок — завтра до" in body["phrase"]
    assert not any(ch.isdigit() for ch in body["phrase"]), "numbers are spoken in words"

    by_phone = ask(users, token, phone="8 (917) 000-00-01").json()
    assert by_phone["found"] is True and by_phone["phrase"].startswith("Заявка номер один:")
    unknown = ask(users, token, phone="+79990000000").json()
    assert unknown == {"phrase": "По вашему номеру открытых заявок нет.", "found": False}
    missing = ask(users, token, number="777").json()
    assert missing == {"phrase": "Заявка с таким номером не найдена.", "found": False}
    assert ask(users, token).status_code == 422


def test_status_needs_a_pbx_token_and_refuses_other_kinds(users: Users, world: World) -> None:
    file(users, world)
    for kind in ("api", "open311"):
        other = run_async(_token, world.settings.database_url, kind)
        response = ask(users, other, number="1")
        assert response.status_code == 401, kind
        assert response.json()["code"] == "unauthorized"
    assert ask(users, None, number="1").status_code == 401
    assert ask(users, "zk_not-a-real-key", number="1").status_code == 401
