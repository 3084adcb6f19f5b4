"""The printable work order on the contractor's phone: it fits the screen."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import sign_in
from tests.browser.test_field import PHONE_390, new_job
from tests.world import World


def test_work_order_sheet_fits_a_390_px_phone_with_and_without_a_worker(
    browser: Any, server: str, world: World
) -> None:
    page = browser.new_context(**PHONE_390).new_page()
    sign_in(page, server, "contractor")
    for job in (new_job(world), new_job(world, flat="7", worker=None)):
        page.goto(f"{server}/work-orders/{job.order_id}/print")
        width = page.evaluate("document.documentElement.scrollWidth")
        sheet = page.locator(".work-order").bounding_box()
        assert width <= 390, width
        assert sheet and sheet["x"] >= 0 and sheet["x"] + sheet["width"] <= 390, sheet
