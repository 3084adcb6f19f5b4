"""Every main page of every role, on a 390×844 phone and a 1366×900 desktop: axe-core finds no
critical or serious violation, the top bar is one compact row, and nothing runs past the right
edge. One town, one server and one browser for the whole module."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.axe import blocking_violations
from tests.browser.conftest import Town, sign_in

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
BAR_HEIGHT = 56  # px: one row of 44 px taps and a little padding


def pages_of(town: Town) -> dict[str | None, list[str]]:
    """Each role's main pages (None: not signed in)."""
    job = town.job
    request = f"/requests/{job.request_id}"
    return {
        None: ["/", "/login", "/register", "/stats"],
        "resident": ["/requests", "/requests/new", request, "/profile"],
        "operator": ["/operator", "/operator/new"],
        "dispatcher": ["/board", request],
        "contractor": ["/jobs", request, f"/work-orders/{job.order_id}/print"],
        "worker": ["/field", f"/field/jobs/{job.request_id}"],
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


ROLES = [
    "anonymous",
    "resident",
    "operator",
    "dispatcher",
    "contractor",
    "worker",
    "cityadmin",
    "sysadmin",
]


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
@pytest.mark.parametrize("role", ROLES)
def test_main_pages_pass_axe_with_a_compact_bar_and_no_overflow(
    chromium: Any, town: Town, role: str, size: str
) -> None:
    viewport = VIEWPORTS[size]
    context = chromium.new_context(viewport=viewport, locale="ru-RU")
    page = context.new_page()
    login = None if role == "anonymous" else role
    if login:
        sign_in(page, town.base, login)
    problems: list[str] = []
    try:
        for path in pages_of(town)[login]:
            page.goto(f"{town.base}{path}")
            page.wait_for_load_state("networkidle")
            problems += [f"{path}: {v}" for v in blocking_violations(page)]
            bar = page.locator("header.topbar").bounding_box()
            if bar and bar["height"] > BAR_HEIGHT:
                problems.append(f"{path}: the top bar is {bar['height']:.0f} px tall")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > viewport["width"]:
                problems.append(f"{path}: the page is {width} px wide")
    finally:
        context.close()
    assert not problems, "\n".join(problems)
