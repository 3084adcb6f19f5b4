"""What one web filing costs the database, through the whole stack.

Counted: every statement SQLAlchemy's `before_cursor_execute` reports on the app's engine while
a signed-in resident's filing POST is answered (session and user, CSRF, idempotency, the
request, its timeline entry, the outbox rows, the session's write-back, the publish after
commit). BEGIN is counted where the engine sends it as a statement (SQLite: `BEGIN IMMEDIATE`);
asyncpg opens and commits transactions through its own protocol calls, which the hook does not
see; COMMIT is a driver call on both. Only the statements run by the request's own task count:
the in-process outbox worker, woken by the commit, reads on its own task.
"""

from __future__ import annotations

from litestar.testing import TestClient
from sqlalchemy import func, select

from server.app import create_app
from server.db.models import OutboxMessage, PushSubscription, Request, TimelineEntry, Webhook
from server.db.session import Database
from server.integrations.tokens import issue
from server.live.bus import make_bus
from server.shared.services import Services
from tests.conftest import run_async
from tests.http import csrf, login, post
from tests.statements import COMMIT, Recorder, statements
from tests.world import World

MOST_STATEMENTS = 8


async def _someone_to_tell(world: World) -> None:
    """A device of uk1's dispatcher and an integration's webhook: the filing writes outbox rows."""
    db = Database(world.settings.database_url)
    try:
        token, _plain = await issue(db, name="ЕДДС", kind="api", organisation_id=world.orgs["uk1"])
        async with db.begin() as session:
            session.add(
                PushSubscription(
                    user_id=world.users["dispatcher"],
                    endpoint="https://push.example/dispatcher",
                    p256dh="key",
                    auth="auth",
                )
            )
            session.add(Webhook(token_id=token.id, url="https://hooks.example/", secret="s"))
    finally:
        await db.dispose()


async def _stored(world: World) -> tuple[int, int, list[str]]:
    db = Database(world.settings.database_url)
    try:
        async with db.read() as session:
            requests = await session.scalar(select(func.count()).select_from(Request))
            entries = await session.scalar(select(func.count()).select_from(TimelineEntry))
            channels = sorted(await session.scalars(select(OutboxMessage.channel)))
        return int(requests or 0), int(entries or 0), list(channels)
    finally:
        await db.dispose()


def test_a_web_filing_makes_at_most_eight_statements_in_one_transaction(world: World) -> None:
    run_async(_someone_to_tell, world)
    db = Database(world.settings.database_url)
    svc = Services(settings=world.settings, db=db, bus=make_bus("memory://"))
    with TestClient(create_app(world.settings, services=svc)) as client:
        login(client, "resident")
        csrf(client)
        assert client.get("/requests/new").status_code == 200
        recorder = Recorder(db)
        form = {
            "building_id": world.buildings["lenina12"],
            "category_id": world.categories["leak"],
            "flat": "3",
            "description": "Течёт труба в подвале",
            "idempotency_key": "one-filing",
        }
        response = post(client, "/requests/new", form)
        assert response.status_code == 303
        filing = recorder.of_the_filing()
        listing = "\n".join(filing)
        assert len(statements(filing)) <= MOST_STATEMENTS, listing

        # One transaction: the request, its entry and both outbox rows, then one commit.
        tables = ("INSERT INTO requests", "INSERT INTO timeline_entries", "INSERT INTO outbox")
        writes = [i for i, s in enumerate(filing) if any(t in s for t in tables)]
        assert all(any(t in filing[i] for i in writes) for t in tables), listing
        commits = [i for i, s in enumerate(filing) if s == COMMIT]
        assert len(commits) == 1 and commits[0] > writes[-1], listing
        # The page the resident lands on says the request was filed (the flash came along).
        page = client.get(response.headers["location"]).text
        assert "подана" in page

        # The same form sent again finds the first request and files nothing.
        again = post(client, "/requests/new", form)
        assert again.headers["location"] == response.headers["location"]
    assert run_async(_stored, world) == (1, 1, ["push", "webhook"])
