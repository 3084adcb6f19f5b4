"""The database stops under a running server (a private cluster, never the shared one): pages
say so in Russian, probes tell the load balancer, open live pages are told to come back, and
the background work waits and then catches up."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import asyncpg
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from server.notify.push_keys import generate
from server.settings import Settings
from tests.conftest import TEST_DB, run_async
from tests.live_client import Browser, Timeline, comment, entry_ids, file_request, hello, last_entry
from tests.private_postgres import PrivateCluster, Town, town_on_private_cluster, wait_ready
from tests.push_service import PushService, push_service
from tests.server_process import running_server

# It brings its own cluster, so one of the suite's two passes is enough: the PostgreSQL one.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not TEST_DB, reason="the PostgreSQL pass: set TEST_DATABASE_URL"),
]

TRY_AGAIN_LATER = 1013  # the close code the live pages reconnect after, with back-off
WORK = ("outbox worker", "deadline watch")  # the background work that pauses and resumes


def test_outage_gives_a_russian_503_closes_live_pages_to_come_back_and_work_catches_up(
    settings: Settings,
) -> None:
    keys = generate()
    vapid = {
        "vapid_private_key": keys.private_key,
        "vapid_public_key": keys.public_key,
        "vapid_subject": "mailto:dispatch@zainsk.example",
    }
    with (
        town_on_private_cluster(settings, **vapid) as town,
        push_service(keys.public_key) as push,
        running_server(
            town.settings,
            **{name.upper(): value for name, value in vapid.items()},
            DEADLINE_WATCH_SECONDS="1",
        ) as base,
    ):
        run_async(_scenario, base, town, push)
        log = _server_log_once(town.settings, base, *(f"{w}: database answers again" for w in WORK))
    # One line when the work pauses and one when it resumes, none per failed round.
    for work in WORK:
        assert log.count(f"{work}: database unavailable") == 1, log
        assert log.count(f"{work}: database answers again") == 1, log
    assert "Traceback" not in log, log


def _server_log_once(settings: Settings, base: str, *lines: str, within: float = 60.0) -> str:
    """The server's log, as soon as it holds `lines` (the back-off may delay them)."""
    path = Path(settings.media_dir.parent / f"server-{base.rsplit(':', 1)[1]}.log")
    deadline = time.monotonic() + within
    while True:
        log = path.read_text()
        if all(line in log for line in lines) or time.monotonic() > deadline:
            return log
        time.sleep(0.2)


async def _outbox_status(cluster: PrivateCluster) -> list[str]:
    conn = await asyncpg.connect(cluster.url)
    try:
        return [r["status"] for r in await conn.fetch("SELECT status FROM outbox ORDER BY id")]
    finally:
        await conn.close()


async def _until(predicate, within: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + within
    while not await predicate():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.1)


async def _scenario(base: str, town: Town, push: PushService) -> None:
    cluster, world = town.cluster, town.world
    resident = await Browser(base, "resident").sign_in()
    dispatcher = await Browser(base, "dispatcher").sign_in()
    try:
        # The dispatcher's phone gets a push for every new request; the push service is busy
        # at first, so the message waits in the outbox across the outage.
        subscribed = await dispatcher.client.post(
            "/push/subscriptions",
            json=push.browser("dispatcher").subscription(),
            headers={"x-csrftoken": dispatcher.client.cookies["zayavka_csrf"]},
        )
        assert subscribed.status_code == 201, subscribed.text
        push.answer("dispatcher", (429, {"Retry-After": "2"}))
        request_id = await file_request(
            resident, world.buildings["lenina12"], world.categories["leak"], "Течёт стояк"
        )
        await _until(lambda: _pending_after_refusal(cluster, push))

        html = await resident.page(f"/requests/{request_id}")
        timeline = Timeline(entry_ids(html))
        ws = await resident.live(f"/live/requests/{request_id}")
        await ws.send(hello(last_entry=last_entry(html)))

        await asyncio.to_thread(cluster.stop)

        page = await resident.client.get(f"/requests/{request_id}")
        assert page.status_code == 503
        assert page.headers["retry-after"].isdigit()
        assert "Сервис временно недоступен" in page.text
        assert "Войти" not in page.text, "a signed-in person is not told they are signed out"
        assert "/static/css/app.css" in page.text, "the same design"
        api = await resident.client.get("/api/v1/categories", headers={"Authorization": "Bearer x"})
        assert api.status_code == 503 and api.json()["code"] == "unavailable"
        not_ready = await asyncio.to_thread(wait_ready, base, False)
        assert not_ready.status_code == 503
        assert not_ready.json()["checks"]["database"] is False
        assert (await resident.client.get("/healthz")).status_code == 200

        # The live socket is told to come back later, with a close frame the page acts on.
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(30):
                while True:
                    timeline.take(await ws.recv())
        assert closed.value.rcvd is not None, "closed with a close frame, not dropped"
        assert closed.value.rcvd.code == TRY_AGAIN_LATER, closed.value.rcvd

        # Reconnecting meanwhile is refused at the handshake, which the page retries with
        # back-off; it is never told that nobody is signed in (4401 would stop it for good).
        with pytest.raises(InvalidStatus) as refused:
            await resident.live(f"/live/requests/{request_id}")
        assert refused.value.response.status_code == 403

        # Let the outbox worker and the deadline watch try (and pause) during the outage.
        await asyncio.sleep(4)
        assert push.titles("dispatcher") == []

        await asyncio.to_thread(cluster.start)
        assert (await asyncio.to_thread(wait_ready, base, True)).status_code == 200

        await comment(dispatcher, request_id, "Слесарь выезжает")
        ws = await resident.live(f"/live/requests/{request_id}")
        try:
            await ws.send(hello(last_entry=timeline.ids[-1]))
            expected = entry_ids(await resident.page(f"/requests/{request_id}"))
            await timeline.read_until(ws, set(expected), within=20)
        finally:
            await ws.close()
        assert timeline.ids == expected, "the page ends with the whole timeline, in order"
        assert timeline.duplicates == []
        assert "Слесарь выезжает" in "".join(timeline.messages)

        # The push written before the outage arrives after it, once.
        await asyncio.to_thread(push.wait_for, 1, 30.0)
        assert len(push.to("dispatcher")) == 1
        assert push.problems == []
    finally:
        await resident.close()
        await dispatcher.close()


async def _pending_after_refusal(cluster: PrivateCluster, push: PushService) -> bool:
    return bool(push.attempts) and await _outbox_status(cluster) == ["pending"]
