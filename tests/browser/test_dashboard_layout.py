"""The administration's dashboard and the public figures on a 390×844 phone and a 1366×900
desktop: the summary (one row per organisation) comes first, within the phone's first screen;
the details fold behind their headings on a phone; wide tables scroll inside a region the
keyboard reaches, never the page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VIEWPORTS, Town, sign_in, wait_until

# The town of these tests made a 10,000 px dashboard on a phone when every table was a stack
# of cards; folded, it measures about 2,350 px.
PHONE_PAGE_HEIGHT = 3_000
PAGES = {"cityadmin": "/admin?from=2026-03-01", None: "/stats?from=2026-03-01"}


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
@pytest.mark.parametrize("login", ["cityadmin", None], ids=["dashboard", "public"])
def test_the_summary_comes_first_and_the_details_fold_on_a_phone(
    chromium: Any, town: Town, size: str, login: str | None
) -> None:
    viewport = VIEWPORTS[size]
    page = chromium.new_context(viewport=viewport, locale="ru-RU").new_page()
    if login:
        sign_in(page, town.base, login)
    page.goto(f"{town.base}{PAGES[login]}")
    phone = size == "phone"

    summary = page.locator(".summary-table")
    expect(summary.locator("tbody tr")).to_have_count(4)  # the four managing organisations
    uk1 = summary.locator("tr", has_text="УК Заинск-Сервис")
    expect(uk1.locator("td")).to_have_text(["5", "3", "43 %"])  # open, overdue, on time
    box = summary.bounding_box()
    assert box and box["y"] + box["height"] <= viewport["height"], f"summary ends at {box}"
    height = page.evaluate("document.documentElement.scrollHeight")
    if phone:
        assert height < PHONE_PAGE_HEIGHT, f"{height} px tall"
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]

    full = page.locator("details.fold", has=page.locator(".figures-table")).first
    table = full.locator(".figures-table")
    if phone:
        expect(table).to_be_hidden()
        full.locator("summary").click()
    expect(table).to_be_visible()

    # The wide table scrolls inside its own region, which the keyboard reaches and scrolls.
    region = full.locator(".table-wrap")
    expect(region).to_have_attribute("role", "region")
    expect(region).to_have_attribute("aria-label", "Показатели по организациям")
    expect(region).to_have_attribute("tabindex", "0")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    if phone:
        region.focus()
        page.keyboard.press("End")
        page.keyboard.press("ArrowRight")
        # The keyboard scrolls the table (smoothly: wait for it).
        wait_until(page, "document.querySelector('.figures-table').parentElement.scrollLeft > 0")
    else:
        sizes = region.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert sizes[0] <= sizes[1], f"fits a desktop: {sizes}"
    page.context.close()
