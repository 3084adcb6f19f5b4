"""On a phone and on a desktop, pressing «Печать» prints the sheet and notes it on the timeline;
the resident still reads that work will start soon, until «Начать работы» is pressed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VIEWPORTS, screen, sign_in, wait_until
from tests.browser.test_field import new_job
from tests.world import World


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_printing_the_work_order_does_not_start_the_work(
    browser: Any, server: str, world: World, size: str
) -> None:
    job = new_job(world)
    staff = browser.new_context(**screen(size))
    desk = staff.new_page()
    # The print dialog is the browser's own: count the calls instead of opening it.
    desk.add_init_script("window.printed = 0; window.print = function () { window.printed += 1; };")
    sign_in(desk, server, "contractor")
    desk.goto(f"{server}/work-orders/{job.order_id}/print")
    desk.get_by_role("button", name="Печать").click()
    wait_until(desk, "window.printed === 1")
    desk.get_by_role("button", name="Печать").click()  # printed twice, noted once
    wait_until(desk, "window.printed === 2")

    home = browser.new_context(**screen(size))
    resident = home.new_page()
    sign_in(resident, server, "resident")
    resident.goto(f"{server}/requests/{job.request_id}")
    expect(resident.locator("#request-state .badge").first).to_have_text("Назначена")
    expect(resident.locator("#request-explanation")).to_have_text(
        "Назначен подрядчик, работы скоро начнутся."
    )
    expect(resident.locator(".timeline-entry", has_text="Заказ-наряд распечатан")).to_have_count(1)
    assert resident.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[size]["width"]

    # The worker starts on the phone; the resident's open page follows live.
    crew = browser.new_context(**screen(size))
    worker = crew.new_page()
    sign_in(worker, server, "worker")
    worker.goto(f"{server}/field/jobs/{job.request_id}")
    worker.get_by_role("button", name="Начать работы").click()
    expect(worker.locator("#field-state")).to_have_text("В работе")
    expect(resident.locator("#request-state .badge").first).to_have_text("В работе")
    expect(resident.locator("#request-explanation")).to_have_text("Подрядчик выполняет работы.")
    for context in (staff, home, crew):
        context.close()
