"""The administration's dashboard in Chromium: filters swap the figures in place."""

from __future__ import annotations

from tests.browser.conftest import sign_in, wait_until
from tests.conftest import run_async
from tests.integration.oversight.oversight_fixture import build_history
from tests.world import World


def test_filters_update_the_figures_without_a_reload(browser, server, world: World) -> None:  # type: ignore[no-untyped-def]
    run_async(build_history, world)
    page = browser.new_page()
    sign_in(page, server, "cityadmin")
    page.goto(f"{server}/admin?from=2026-03-01&to=2026-03-19")
    filed = page.locator("#dashboard .kpi-value").first
    assert filed.inner_text() == "11"
    page.evaluate("window.__same_page = true")

    page.select_option("select[name=org]", str(world.orgs["uk2"]))
    wait_until(page, "document.querySelector('#dashboard .kpi-value').textContent.trim() === '2'")
    assert page.evaluate("window.__same_page") is True  # swapped by htmx, not reloaded
    assert f"org={world.orgs['uk2']}" in page.url  # and the address can be shared
    export = page.locator("a[href^='/admin/export.csv']").get_attribute("href")
    assert export is not None and f"org={world.orgs['uk2']}" in export
    assert page.locator("#dashboard svg").count() >= 1
