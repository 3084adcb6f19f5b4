"""Resolving an incident reaches the open page of every request it moved, each with its own
request, and the live pages read all those requests together: the same statements for 5
requests as for 30."""

from __future__ import annotations

from typing import Any

from server.db.session import Database
from tests.integration.incidents.town import TEXT, absorbing_incident
from tests.integration.live.test_live_cost import _serving, _until
from tests.live_client import Browser, hello
from tests.statements import Recorder, statements
from tests.world import World


async def _resolved(world: World, tag: str, n: int) -> tuple[list[str], dict[int, str]]:
    """Each moved request's page open as its resident; resolved by uk1's dispatcher. The
    statements the live views ran, and what each page received."""
    db = Database(world.settings.database_url)
    linked = await absorbing_incident(db, world, tag, n)
    opened: list[tuple[int, Any, Browser]] = []
    async with _serving(world, db) as base:
        for request_id, resident in linked.moving.items():
            browser = await Browser(base, linked.logins[resident]).sign_in()
            ws = await browser.live(f"/live/requests/{request_id}")
            await ws.send(hello(last_entry=0))
            await _until(ws, "request-state")
            opened.append((request_id, ws, browser))
        dispatcher = await Browser(base, "dispatcher").sign_in()
        recorder = Recorder(db)
        reply = await dispatcher.post(
            f"/incidents/{linked.incident_id}/resolve", {"version": str(linked.version)}
        )
        assert reply.status_code == 303, reply.text[:2000]
        received = {
            request_id: await _until(ws, f"Авария устранена: {TEXT}")
            for request_id, ws, _browser in opened
        }
        live = [
            s
            for task, s in recorder.log
            if task is not None and task.get_name().startswith("live-")
        ]
        for _request_id, ws, browser in opened:
            await ws.close()
            await browser.close()
        await dispatcher.close()
    await db.dispose()
    return statements(live), received


async def test_resolving_reaches_each_moved_requests_page_reading_them_together(
    world: World,
) -> None:
    few, few_received = await _resolved(world, "few", 5)
    many, many_received = await _resolved(world, "many", 30)
    assert few, "the live pages read the moved requests from the database"
    assert len(many) == len(few), "\n".join(many)
    for received in (few_received, many_received):
        for request_id, message in received.items():
            # Its own request, now «выполнена»: the state and the form to confirm it.
            assert "Выполнена" in message, message
            assert f"/requests/{request_id}/actions/" in message, message
            others = [r for r in received if r != request_id]
            assert not any(f"/requests/{r}/actions/" in message for r in others)
