"""Headless Chromium from Debian, driven by Playwright. Missing Chromium fails, never skips."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from server.settings import Settings
from tests.conftest import empty_town_settings, run_async
from tests.fixtures.field import Job, open_job
from tests.integration.oversight.oversight_fixture import build_history
from tests.server_process import running_server
from tests.world import World, build_world

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


# The two screens of the daily-use checks: a common phone and a laptop.
VIEWPORTS = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


def screen(size: str) -> dict[str, Any]:
    """Browser context options for a size of VIEWPORTS: the phone is a touch screen."""
    if size == "phone":
        touch = {"device_scale_factor": 2, "is_mobile": True, "has_touch": True}
        return {"viewport": VIEWPORTS[size], "locale": "ru-RU", **touch}
    return {"viewport": VIEWPORTS[size], "locale": "ru-RU"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    with sync_playwright() as p:
        yield p


@pytest.fixture
def launch_browser(playwright_instance):  # type: ignore[no-untyped-def]
    """Launch Chromium with our flags plus any extra ones a test needs."""
    browsers = []

    def launch(*extra_args: str):  # type: ignore[no-untyped-def]
        browser = playwright_instance.chromium.launch(  # type: ignore[attr-defined]
            executable_path=CHROMIUM, headless=True, args=[*CHROMIUM_FLAGS, *extra_args]
        )
        browsers.append(browser)
        return browser

    yield launch
    for browser in browsers:
        browser.close()


@pytest.fixture
def browser(launch_browser):  # type: ignore[no-untyped-def]
    return launch_browser()


@pytest.fixture
def server(world: World, settings: Settings) -> Iterator[str]:
    """The app in a real uvicorn process, on the test database with the small town loaded."""
    with running_server(settings) as base:
        yield base


@dataclass
class Town:
    """One small town with a figures history and an open job, served for a whole module."""

    base: str
    world: World
    job: Job


@pytest.fixture(scope="module")
def town(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    settings = empty_town_settings(database_url, tmp_path_factory.mktemp("town"))
    world = run_async(build_world, settings)
    run_async(build_history, world)
    job = run_async(lambda: open_job(settings, world))
    with running_server(settings) as base:
        yield Town(base, world, job)


@pytest.fixture(scope="module")
def chromium(playwright_instance: Any) -> Iterator[Any]:
    """One Chromium for a whole module; each test opens its own context."""
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
    )
    yield browser
    browser.close()


def sign_in(page, base: str, login: str, password: str = "password123") -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def wait_until(page, expression: str, arg: object = None, timeout: float = 10_000) -> None:  # type: ignore[no-untyped-def]
    """Poll a JavaScript expression until it is truthy.

    Playwright's `wait_for_function` builds its predicate with `eval` inside the page, which our
    Content-Security-Policy forbids; `evaluate` goes through the DevTools protocol and is allowed.
    """
    deadline = time.monotonic() + timeout / 1000
    while True:
        value = page.evaluate(expression) if arg is None else page.evaluate(expression, arg)
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout:.0f} ms: {expression.strip()[:120]}")
        page.wait_for_timeout(100)
