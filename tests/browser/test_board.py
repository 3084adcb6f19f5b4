"""The dispatcher's board in Chromium, on a phone and on a desktop: a quick assign happens in
place (same document, same scroll position and filters, a confirmation read out by screen
readers, the counters updated); on the request page «Отклонить» is white on red, without a
second frame around it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VIEWPORTS, sign_in, wait_until
from tests.conftest import run_async
from tests.live_client import Browser, file_request
from tests.world import World

WHITE = "rgb(255, 255, 255)"


def file_several(base: str, world: World, count: int) -> list[int]:
    async def go() -> list[int]:
        resident = await Browser(base, "resident").sign_in()
        try:
            return [
                await file_request(
                    resident, world.buildings["lenina12"], world.categories["leak"], f"Течёт {n}"
                )
                for n in range(count)
            ]
        finally:
            await resident.close()

    return run_async(go)  # type: ignore[no-any-return]


def new_count(page: Any) -> int:
    return int(page.locator("[data-count=new] .board-count-value").inner_text())


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_a_quick_assign_keeps_the_board_and_confirms_it(
    browser: Any, server: str, world: World, size: str
) -> None:
    requests = file_several(server, world, 8)
    page = browser.new_context(viewport=VIEWPORTS[size], locale="ru-RU").new_page()
    sign_in(page, server, "dispatcher")
    filtered = f"{server}/board?category={world.categories['leak']}"
    page.goto(filtered)
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")
    page.evaluate("window.__sameDocument = true")
    assert new_count(page) == 8

    # The newest request is at the bottom of the board (the latest deadline).
    bottom = page.locator(f"#row-{requests[-1]}")
    bottom.locator("summary", has_text="Назначить").click()  # scrolls down to it
    scrolled = page.evaluate("window.scrollY")
    assert size == "desktop" or scrolled > 0, "the phone's board is scrolled down"
    bottom.get_by_role("button", name="Сантехмонтаж").click()

    notice = page.locator("#board-notice")
    expect(notice).to_have_text("Назначено: Сантехмонтаж")
    expect(notice).to_have_attribute("aria-live", "polite")
    expect(notice).to_be_in_viewport()
    expect(bottom.locator(".badge-assigned")).to_have_text("Назначена")
    wait_until(
        page, "document.querySelector('[data-count=new] .board-count-value').textContent === '7'"
    )
    assert page.evaluate("window.__sameDocument") is True, "no navigation"
    assert page.url == filtered
    assert abs(page.evaluate("window.scrollY") - scrolled) < 80
    # The row's quick assign (as the live board sends it too) now names the contractor.
    bottom.locator("summary", has_text="Назначить").click()
    current = bottom.locator("button.contractor-choice.is-current")
    expect(current).to_contain_text("Сантехмонтаж")
    expect(current).to_contain_text("назначен сейчас")
    expect(current).to_be_disabled()

    # And again on another row: the form sent carries its own token and version.
    second = page.locator(f"#row-{requests[0]}")
    second.locator("summary", has_text="Назначить").click()
    second.get_by_role("button", name="ЛифтСервис").click()
    expect(notice).to_have_text("Назначено: ЛифтСервис")
    expect(second.locator(".badge-assigned")).to_have_text("Назначена")


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_the_decline_button_is_white_on_red_without_a_second_frame(
    browser: Any, server: str, world: World, size: str
) -> None:
    request_id = file_several(server, world, 1)[0]
    page = browser.new_context(viewport=VIEWPORTS[size], locale="ru-RU").new_page()
    sign_in(page, server, "dispatcher")
    page.goto(f"{server}/requests/{request_id}")
    decline = page.locator("#request-actions summary", has_text="Отклонить")
    expect(decline).to_be_visible()

    def style(locator: Any, prop: str) -> str:
        return str(locator.evaluate(f"e => getComputedStyle(e).{prop}"))

    assert style(decline, "color") == WHITE
    assert style(decline, "backgroundColor") == "rgb(185, 28, 28)"  # --danger
    frame = decline.locator("xpath=..")
    assert style(frame, "borderTopWidth") == "0px"
    decline.click()
    submit = page.locator("#request-actions form[action$='/decline'] button[type=submit]")
    expect(submit).to_be_visible()
    assert style(submit, "color") == WHITE
