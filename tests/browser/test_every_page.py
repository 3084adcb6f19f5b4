"""Every main page of every role, on a 390×844 phone and a 1366×900 desktop: axe-core finds no
critical or serious violation, the top bar is one compact row, and nothing runs past the right
edge. One town, one server and one browser for the whole module."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.axe import blocking_violations
from tests.browser.conftest import VIEWPORTS, Town, sign_in

BAR_HEIGHT = 56  # px: one row of 44 px taps and a little padding


# Each role's main pages (None: not signed in); {request} and {order} are the town's open job.
PAGES: dict[str | None, list[str]] = {
    None: ["/", "/login", "/register", "/stats"],
    "resident": ["/requests", "/requests/new", "/requests/{request}", "/profile"],
    "operator": ["/operator", "/operator/new"],
    "dispatcher": ["/board", "/requests/{request}"],
    "contractor": ["/jobs", "/requests/{request}", "/work-orders/{order}/print"],
    "worker": ["/field", "/field/jobs/{request}"],
    "cityadmin": ["/admin?from=2026-03-01", "/admin/triage", "/stats"],
    "sysadmin": [
        "/sysadmin",
        "/sysadmin/organisations",
        "/sysadmin/buildings",
        "/sysadmin/categories",
        "/sysadmin/users",
        "/sysadmin/audit",
    ],
}


@pytest.mark.parametrize("login", list(PAGES), ids=[str(login) for login in PAGES])
def test_main_pages_pass_axe_with_a_compact_bar_and_no_overflow(
    chromium: Any, town: Town, login: str | None
) -> None:
    context = chromium.new_context(viewport=VIEWPORTS["phone"], locale="ru-RU")
    page = context.new_page()
    if login:
        sign_in(page, town.base, login)
    problems: list[str] = []
    try:
        for size, viewport in VIEWPORTS.items():
            page.set_viewport_size(viewport)
            for template in PAGES[login]:
                path = template.format(request=town.job.request_id, order=town.job.order_id)
                page.goto(f"{town.base}{path}")
                where = f"{path} ({size})"
                problems += [f"{where}: {v}" for v in blocking_violations(page)]
                bar = page.locator("header.topbar").bounding_box()
                if bar and bar["height"] > BAR_HEIGHT:
                    problems.append(f"{where}: the top bar is {bar['height']:.0f} px tall")
                width = page.evaluate("document.documentElement.scrollWidth")
                if width > viewport["width"]:
                    problems.append(f"{where}: the page is {width} px wide")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_the_menu_folds_behind_a_button_on_a_phone_and_the_keyboard_works_it(
    chromium: Any, town: Town, size: str
) -> None:
    context = chromium.new_context(viewport=VIEWPORTS[size], locale="ru-RU")
    page = context.new_page()
    sign_in(page, town.base, "cityadmin")
    page.goto(f"{town.base}/admin/triage")
    toggle = page.get_by_role("button", name="Главное меню")
    link = page.get_by_role("navigation", name="Главное меню").get_by_role(
        "link", name="Мониторинг"
    )
    if size == "desktop":
        expect(toggle).to_be_hidden()
        expect(link).to_be_visible()
    else:
        expect(toggle).to_have_attribute("aria-expanded", "false")
        expect(link).to_be_hidden()
        toggle.focus()
        page.keyboard.press("Enter")
        expect(toggle).to_have_attribute("aria-expanded", "true")
        expect(link).to_be_visible()
        page.keyboard.press("Escape")
        expect(link).to_be_hidden()
        expect(toggle).to_be_focused()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        expect(link).to_be_focused()
        page.keyboard.press("Enter")
        page.wait_for_url(f"{town.base}/admin")
    bar = page.locator("header.topbar").bounding_box()
    assert bar and bar["height"] <= BAR_HEIGHT
    context.close()
