"""The database stops while a resident has their request open in Chromium: the page says it
has lost the connection (not that they are signed out), keeps trying, and once the database is
back shows what happened since, without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from server.settings import Settings
from tests.browser.conftest import sign_in
from tests.conftest import run_async
from tests.live_client import Browser, comment, file_request
from tests.private_postgres import town_on_private_cluster, wait_ready
from tests.server_process import running_server

pytestmark = pytest.mark.slow


def test_open_request_page_reconnects_after_the_database_comes_back(
    browser, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    with town_on_private_cluster(settings) as town, running_server(town.settings) as base:
        world = town.world

        async def file() -> int:
            resident = await Browser(base, "resident").sign_in()
            try:
                return await file_request(
                    resident, world.buildings["lenina12"], world.categories["leak"], "Течёт стояк"
                )
            finally:
                await resident.close()

        async def dispatcher_comments(request_id: int) -> None:
            dispatcher = await Browser(base, "dispatcher").sign_in()
            try:
                await comment(dispatcher, request_id, "Слесарь выезжает")
            finally:
                await dispatcher.close()

        request_id = run_async(file)
        page = browser.new_context().new_page()
        sign_in(page, base, "resident")
        page.goto(f"{base}/requests/{request_id}")
        status = page.locator("#live-status")
        expect(status).to_have_attribute("data-state", "online")
        page.evaluate("window.__sameDocument = true")
        entries_before = page.locator("#timeline > li").count()

        town.cluster.stop()
        expect(status).to_have_attribute("data-state", "offline", timeout=15_000)
        expect(status).to_have_text("Нет связи, переподключаемся…")
        page.wait_for_timeout(3_000)  # a few refused reconnects while it is down
        expect(status).to_have_attribute("data-state", "offline")

        town.cluster.start()
        assert wait_ready(base, True).status_code == 200
        run_async(dispatcher_comments, request_id)

        # The extension's back-off is at most a few seconds after so short an outage.
        timeline = page.locator("#timeline > li")
        expect(timeline).to_have_count(entries_before + 1, timeout=45_000)
        expect(timeline.last).to_contain_text("Слесарь выезжает")
        expect(status).to_have_attribute("data-state", "online")
        assert page.evaluate("window.__sameDocument") is True, "no reload"
