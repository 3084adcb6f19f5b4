"""The public figures: open without signing in, and free of anything personal."""

from __future__ import annotations

import re
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import select, update

from server.accounts.people import format_phone
from server.app import create_app
from server.db.models import Building, Request, User
from server.db.session import Database
from tests.conftest import run_async
from tests.integration.oversight.oversight_fixture import History, build_history
from tests.world import World

PERIODS = [
    "/stats",
    "/stats?period=30",
    "/stats?period=365",
    "/stats?from=2026-03-01&to=2026-03-19",
]


@pytest.fixture
def history(world: World) -> History:
    """The hand-worked history, with flats and descriptions nobody could mistake for figures."""
    history = run_async(build_history, world)

    async def personalise() -> None:
        db = Database(world.settings.database_url)
        try:
            async with db.begin() as session:
                for key, request_id in history.ids.items():
                    await session.execute(
                        update(Request)
                        .where(Request.id == request_id)
                        .values(
                            flat=f"{300 + request_id}Б",
                            description=f"Течёт стояк у Гульнары Шариповой, заявка {key}",
                            contact_phone="+79375551234",
                        )
                    )
                await session.execute(
                    update(User)
                    .where(User.id == world.users["resident"])
                    .values(name="Гульнара Шарипова")
                )
        finally:
            await db.dispose()

    run_async(personalise)
    return history


async def personal_data(world: World) -> list[str]:
    """Every name, phone, flat, address and description of a resident, as stored."""
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            texts: list[str] = []
            for user in await session.scalars(select(User).where(User.role == "resident")):
                texts.append(user.name)
                if user.phone:
                    texts += [user.phone, user.phone[2:], format_phone(user.phone)]
            for request in await session.scalars(select(Request)):
                texts += [request.description, f"кв. {request.flat}", request.flat]
                if request.contact_phone:
                    texts += [request.contact_phone, format_phone(request.contact_phone)]
            for building in await session.scalars(select(Building)):
                texts += [building.address, f"{building.street} {building.house}"]
            return [t for t in texts if t]
    finally:
        await db.dispose()


@pytest.fixture
def client(world: World, history: History) -> Any:
    with TestClient(create_app(world.settings)) as client:
        yield client


def test_public_page_opens_without_signing_in(client: TestClient[Any]) -> None:
    response = client.get("/stats?from=2026-03-01&to=2026-03-19", follow_redirects=False)
    assert response.status_code == 200
    html = response.text
    assert "ООО «УК Заинск-Сервис»" in html and "ООО «УК Уютный дом»" in html
    assert re.search(r'kpi-value">11</strong><figcaption class="kpi-label">Подано заявок', html)
    assert 'id="definitions"' in html  # what the figures mean is on the page
    assert "<svg" in html


def test_every_organisation_is_compared_with_its_own_figures(
    client: TestClient[Any], world: World
) -> None:
    html = client.get("/stats?from=2026-03-01&to=2026-03-19").text
    row = re.search(rf'data-row-id="{world.orgs["uk2"]}">(.*?)</tr>', html, re.S)
    assert row
    cells = re.findall(r'<td class="num[^"]*"[^>]*>([^<]*)</td>', row.group(1))
    assert cells[:2] == ["2", "1"]  # filed, closed
    # Contractors and the administration are not compared: they receive no requests.
    assert "ООО «Сантехмонтаж»" not in html
    assert "Исполнительный комитет" not in html


@pytest.mark.parametrize("url", PERIODS)
def test_public_page_holds_no_personal_data_of_any_resident(
    client: TestClient[Any], world: World, url: str
) -> None:
    html = client.get(url).text
    found = [text for text in run_async(personal_data, world) if text in html]
    assert found == []
    assert "Гульнар" not in html and "5551234" not in html


def test_public_page_is_the_same_for_a_signed_in_resident(
    client: TestClient[Any], world: World
) -> None:
    from tests.http import login

    login(client, "resident")
    html = client.get("/stats?from=2026-03-01&to=2026-03-19").text
    # The page itself shows the resident's own name in the menu, and nothing else of theirs.
    body = html[html.index('<main id="main"') :]
    assert "Гульнара Шарипова" not in body
    assert "Течёт стояк" not in body
