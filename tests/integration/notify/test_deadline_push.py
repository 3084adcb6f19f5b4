"""A dispatcher's phone is told when a request's deadline is near, with the app closed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from server.app import create_app
from server.db.models import Request, utcnow
from server.db.session import Database
from tests.conftest import run_async
from tests.http import people
from tests.integration.notify.test_push_delivery import (
    file_request,
    number_of,
    push_settings,
    subscribe,
    wait_until_outbox_settled,
)
from tests.push_service import push_service
from tests.world import World


def test_dispatcher_is_pushed_a_warning_before_the_deadline(world: World) -> None:
    settings = push_settings(world, extra={"deadline_watch_seconds": "0.2"})
    with (
        push_service(settings.vapid_public_key or "") as service,
        people(create_app(settings), "resident", "dispatcher", "dispatcher2") as clients,
    ):
        subscribe(clients["dispatcher"], service, "dispatcher")
        subscribe(clients["dispatcher2"], service, "dispatcher2")
        rid = file_request(clients["resident"], world, category="other")
        number = number_of(clients["resident"], rid)

        async def almost_due() -> None:
            # An ordinary request filed 7 days ago: one day of its eight is left.
            now = utcnow()
            db = Database(settings.database_url)
            try:
                async with db.begin() as session:
                    await session.execute(
                        update(Request)
                        .where(Request.id == rid)
                        .values(created_at=now - timedelta(days=7), due_at=now + timedelta(days=1))
                    )
            finally:
                await db.dispose()

        run_async(almost_due)
        service.wait_for(2)
        wait_until_outbox_settled(settings)
        assert service.titles("dispatcher") == [
            f"Новая заявка №{number}",
            f"Срок заявки №{number} скоро истекает",
        ]
        assert service.to("dispatcher2") == []
        assert "Срок:" in service.to("dispatcher")[1].payload["body"]
