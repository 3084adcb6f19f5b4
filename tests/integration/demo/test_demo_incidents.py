"""The demo town has an outage under way and a planned shut-off, each followed."""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import func, select

from server.app import create_app
from server.db.models import Incident, IncidentFollower
from server.db.session import Database
from server.demo.loading import DEMO_PASSWORD, load_demo
from server.settings import Settings
from tests.conftest import run_async
from tests.http import login


async def _incidents(settings: Settings) -> list[tuple[str, bool, int]]:
    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            followers = (
                select(func.count())
                .where(IncidentFollower.incident_id == Incident.id)
                .scalar_subquery()
            )
            rows = await session.execute(
                select(Incident.kind, Incident.resolved_at.is_(None), followers).order_by(
                    Incident.id
                )
            )
            return [(kind, bool(open_), int(n)) for kind, open_, n in rows]
    finally:
        await db.dispose()


def test_demo_has_an_active_emergency_and_a_planned_shut_off_with_followers(
    settings: Settings,
) -> None:
    assert run_async(load_demo, settings)
    assert run_async(_incidents, settings) == [("emergency", True, 2), ("planned", True, 2)]
    with TestClient(create_app(settings)) as client:
        login(client, "resident", DEMO_PASSWORD)  # проспект Нефтяников, 7
        assert "порыв на магистрали" in client.get("/incidents/mine").text
