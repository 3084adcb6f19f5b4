"""What resolving an incident costs the database: the same statements whether it linked 5
requests or 50, in one transaction, and exactly the right states, timelines and messages."""

from __future__ import annotations

from sqlalchemy import select

from server.db.models import (
    OutboxMessage,
    PushSubscription,
    Request,
    TimelineEntry,
    Webhook,
)
from server.db.session import Database
from server.incidents import commands
from server.integrations.tokens import issue
from server.live.bus import EventBus
from server.notify import push_outbox, webhooks
from server.notify.sms_outbox import SmsWriter
from server.shared.roles import Actor, Role
from server.shared.services import Services
from tests.conftest import run_async
from tests.integration.incidents.town import OPEN_STATES, TEXT, Linked, absorbing_incident
from tests.statements import COMMIT, Recorder, statements
from tests.world import World


async def _resolve_counted(world: World, linked: Linked) -> list[str]:
    """Resolve it as uk1's dispatcher with the app's outbox writers; what the engine sent."""
    db = Database(world.settings.database_url)
    bus = EventBus("memory://")
    writers = [push_outbox.write_messages, webhooks.write_messages, SmsWriter(world.settings)]
    svc = Services(world.settings, db, bus, writers)
    dispatcher = Actor(world.users["dispatcher"], Role.DISPATCHER, world.orgs["uk1"])
    await bus.start()
    try:
        recorder = Recorder(db)
        resolution = await commands.resolve(svc, dispatcher, linked.incident_id, linked.version)
        assert sorted(resolution.moved) == sorted(linked.moving)
        return [s for _task, s in recorder.log]
    finally:
        await bus.stop()
        await db.dispose()


async def _scenario(world: World) -> tuple[list[str], list[str], Linked, Linked]:
    db = Database(world.settings.database_url)
    try:
        token, _plain = await issue(db, name="ЕДДС", kind="api", organisation_id=world.orgs["uk1"])
        async with db.begin() as session:
            session.add(Webhook(token_id=token.id, url="https://hooks.example/", secret="s"))
        few = await absorbing_incident(db, world, "few", 5)
        more = await absorbing_incident(db, world, "more", 50)
    finally:
        await db.dispose()
    return await _resolve_counted(world, few), await _resolve_counted(world, more), few, more


async def _written(world: World, linked: Linked, after: int) -> dict[str, object]:
    db = Database(world.settings.database_url)
    ids = [*linked.moving, *linked.staying]
    try:
        async with db.read() as session:
            requests = {
                r.id: r for r in await session.scalars(select(Request).where(Request.id.in_(ids)))
            }
            entries = (
                await session.scalars(
                    select(TimelineEntry).where(
                        TimelineEntry.request_id.in_(ids), TimelineEntry.id > after
                    )
                )
            ).all()
            pushes = (
                await session.execute(
                    select(PushSubscription.user_id, OutboxMessage.payload)
                    .join(PushSubscription, PushSubscription.id == OutboxMessage.target_id)
                    .where(
                        OutboxMessage.channel == "push",
                        PushSubscription.user_id.in_(
                            [*linked.moving.values(), *linked.staying.values(), linked.follower]
                        ),
                    )
                )
            ).all()
            hooks = (
                await session.scalars(
                    select(OutboxMessage.payload).where(OutboxMessage.channel == "webhook")
                )
            ).all()
        return {"requests": requests, "entries": entries, "pushes": pushes, "hooks": hooks}
    finally:
        await db.dispose()


def test_resolving_50_linked_requests_costs_the_statements_of_5(world: World) -> None:
    few_log, more_log, few, more = run_async(_scenario, world)

    # One commit each, after every statement, and not one statement more for ten times the
    # requests.
    for log in (few_log, more_log):
        assert log.count(COMMIT) == 1 and log[-1] == COMMIT, "\n".join(log)
    assert len(statements(more_log)) == len(statements(few_log)), "\n".join(more_log)
    assert len(statements(more_log)) <= 30, "\n".join(more_log)

    written = run_async(_written, world, more, 0)
    requests = written["requests"]
    assert isinstance(requests, dict)
    for request_id in more.moving:
        request = requests[request_id]
        assert request.state == "done"
        assert request.version == 2
        assert request.done_at is not None and request.updated_at == request.done_at
    assert [requests[r].state for r in more.staying] == ["verified"]

    # Each moved request: one entry, from its own state, with the incident's text as reason.
    entries = [e for e in written["entries"] if e.kind == "resolve_incident"]  # type: ignore[attr-defined]
    assert sorted(e.request_id for e in entries) == sorted(more.moving)
    for entry in entries:
        assert entry.to_state == "done"
        assert entry.text == f"Авария устранена: {TEXT}"
        assert entry.actor_id == world.users["dispatcher"]
    assert sorted({e.from_state for e in entries}) == sorted(OPEN_STATES)

    # Each moved request's resident hears «выполнена» once; the follower and the resident of
    # the request left as it was hear of the incident once.
    told = sorted((user, payload["reason"]) for user, payload in written["pushes"])  # type: ignore[attr-defined]
    expected = [(u, "state") for u in more.moving.values()]
    expected += [(u, "incident_resolve") for u in [*more.staying.values(), more.follower]]
    assert told == sorted(expected)
    for user, payload in written["pushes"]:  # type: ignore[attr-defined]
        if payload["reason"] == "state":
            assert payload["request_id"] in more.moving
            assert more.moving[payload["request_id"]] == user
            assert payload["state"] == "done"

    # uk1's integration hears of every moved request of both incidents.
    changed = sorted(p["request_id"] for p in written["hooks"])  # type: ignore[attr-defined]
    assert changed == sorted([*few.moving, *more.moving])
