"""Two people, two browsers: the dispatcher assigns on the board, the resident's open request
page shows it without a reload (and keeps the comment the resident is typing); a new request
lands on top of the board, highlighted."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import run_async
from tests.live_client import Browser, file_request
from tests.world import World


def _file(base: str, world: World, building: str, text: str) -> int:
    async def go() -> int:
        resident = await Browser(base, "resident").sign_in()
        try:
            return await file_request(
                resident, world.buildings[building], world.categories["leak"], text
            )
        finally:
            await resident.close()

    return run_async(go)  # type: ignore[no-any-return]


def test_dispatcher_assigns_and_the_residents_open_page_shows_it_live(
    browser, server: str, world: World
) -> None:  # type: ignore[no-untyped-def]
    request_id = _file(server, world, "lenina12", "Течёт труба на кухне")

    resident = browser.new_context().new_page()
    sign_in(resident, server, "resident")
    resident.goto(f"{server}/requests/{request_id}")
    expect(resident.locator("#live-status")).to_have_attribute("data-state", "online")
    expect(resident.locator("#live-status")).to_have_text("Обновляется автоматически")
    resident.evaluate("window.__sameDocument = true")
    entries_before = resident.locator("#timeline > li").count()
    # The resident has started writing a comment when the change arrives.
    resident.locator("#request-actions summary", has_text="Комментировать").click()
    resident.fill("#reason-comment", "Жду мастера после шести")

    dispatcher = browser.new_context().new_page()
    sign_in(dispatcher, server, "dispatcher")
    dispatcher.goto(f"{server}/board")
    expect(dispatcher.locator("#live-status")).to_have_attribute("data-state", "online")
    row = dispatcher.locator(f"#row-{request_id}")
    row.locator("summary", has_text="Назначить").click()
    row.get_by_role("button", name="Сантехмонтаж").click()

    timeline = resident.locator("#timeline > li")
    expect(timeline).to_have_count(entries_before + 1, timeout=10_000)
    expect(timeline.last).to_contain_text("Назначен подрядчик")
    expect(resident.locator("#request-state")).to_contain_text("Назначена")
    expect(resident.locator("#request-details")).to_contain_text("Сантехмонтаж")
    assert resident.evaluate("window.__sameDocument") is True, "no reload"
    # What they were typing survived, and the form now carries the new version: it goes through.
    expect(resident.locator("#reason-comment")).to_have_value("Жду мастера после шести")
    resident.locator("#request-actions form[action$='/comment'] button[type=submit]").click()
    expect(timeline.last).to_contain_text("Жду мастера после шести", timeout=10_000)
    expect(resident.locator("#timeline > li")).to_have_count(entries_before + 2)

    # And the other way round: a new request reaches the open board, on top, highlighted.
    dispatcher.goto(f"{server}/board")
    expect(dispatcher.locator("#live-status")).to_have_attribute("data-state", "online")
    newer = _file(server, world, "mira3", "Не закрывается окно в подъезде")
    arrived = dispatcher.locator(f"#row-{newer}")
    expect(arrived).to_have_class("board-row is-new", timeout=10_000)
    expect(dispatcher.locator("#board > li").first).to_have_id(f"row-{newer}")
