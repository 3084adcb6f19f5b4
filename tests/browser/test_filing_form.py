"""The resident's filing form on a phone (and a desktop): the remembered address, house numbers
in natural order, the keyboard in the address list, the description's counter, and the focus on
the confirmation after filing."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import VIEWPORTS, screen, sign_in
from tests.conftest import run_async
from tests.world import World, add_houses

PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ru-RU",
}
STREET = "проспект Нефтяников"


@pytest.mark.parametrize("size", sorted(VIEWPORTS))
def test_resident_picks_a_house_with_the_keyboard_and_the_next_form_remembers_it(  # type: ignore[no-untyped-def]
    browser, server, world: World, size: str
) -> None:
    houses = run_async(add_houses, world.settings, STREET, ["15", "5/2", "5к1", "5А", "5"])
    page = browser.new_context(**screen(size)).new_page()
    sign_in(page, server, "resident")
    page.goto(f"{server}/requests/new")
    expect(page.locator("input[name=building_id]:checked")).to_have_count(0)

    page.locator("#address").press_sequentially("Нефтяников 5", delay=20)
    options = page.locator("#building-results label.option")
    expect(options).to_have_text([f"{STREET}, {h}" for h in ["5", "5А", "5к1", "5/2", "15"]])

    # Keyboard only: into the list, down to «5к1», Space chooses it and nothing else happens.
    page.locator("#address").focus()
    page.keyboard.press("Tab")  # the «Найти» button
    page.keyboard.press("Tab")  # the list
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    expect(page).to_have_url(f"{server}/requests/new")
    checked = page.locator("input[name=building_id]:checked")
    expect(checked).to_have_count(1)
    expect(checked).to_have_value(str(houses["5к1"]))
    expect(checked).to_be_focused()

    page.fill("#flat", "17")
    page.select_option("#category", label="Протечка трубы — авария")
    page.fill("#description", "Капает с потолка в ванной")
    page.click("button:has-text('Подать заявку')")
    page.wait_for_url(f"{server}/requests/*")
    confirmation = page.locator(".flash", has_text="подана")
    expect(confirmation).to_be_visible()
    expect(confirmation).to_be_focused()
    expect(page.locator("#request-details")).to_contain_text(f"{STREET}, 5к1, кв. 17")

    page.goto(f"{server}/requests/new")
    remembered = page.locator("input[name=building_id]:checked")
    expect(remembered).to_have_value(str(houses["5к1"]))
    expect(page.locator("label.option", has=remembered)).to_have_text(f"{STREET}, 5к1")
    expect(page.locator("#flat")).to_have_value("17")

    # Another house is one search away, and the keyboard reaches the new list the same way.
    page.locator("#address").press_sequentially("Нефтяников 5", delay=20)
    expect(options).to_have_count(5)
    page.locator("#address").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    expect(page).to_have_url(f"{server}/requests/new")
    expect(checked).to_have_count(1)
    expect(checked).to_have_value(str(houses["5А"]))
    expect(checked).to_be_focused()


def test_description_counter_counts_down_and_warns_past_the_limit(browser, server) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_context(**PHONE).new_page()
    sign_in(page, server, "resident")
    page.goto(f"{server}/requests/new")
    counter = page.locator("#description-count")
    expect(counter).to_have_text("Осталось знаков: 4000 из 4000")
    page.fill("#description", "Нет света")
    expect(counter).to_have_text("Осталось знаков: 3991 из 4000")
    page.fill("#description", "я" * 4003)  # a paste is not cut short
    expect(page.locator("#description")).to_have_value("я" * 4003)
    expect(counter).to_have_text(
        "Длиннее допустимого на 3 зн. — сократите описание до 4000 знаков."
    )
    expect(counter).to_have_class("hint char-count error")
    expect(page.locator("#description")).to_have_attribute("aria-invalid", "true")


def _pick(page, server: str, category: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server}/requests/new")
    page.locator("#address").press_sequentially("Ленина 12", delay=20)
    page.locator("#building-results label.option", has_text="улица Ленина, 12").click()
    page.select_option("#category", label=category)


def test_the_form_shows_open_requests_of_the_chosen_house_and_category_to_follow(  # type: ignore[no-untyped-def]
    browser, server, world: World
) -> None:
    first = browser.new_context(**PHONE).new_page()
    sign_in(first, server, "resident")
    _pick(first, server, "Не работает лифт")
    expect(first.locator("#similar-requests")).to_be_empty()
    first.fill("#flat", "41")
    first.fill("#description", "Лифт стоит на девятом этаже, звоните Анне")
    first.click("button:has-text('Подать заявку')")
    first.wait_for_url(f"{server}/requests/*")
    number = first.locator("header p.muted.small").inner_text().split("№")[1].split()[0]

    page = browser.new_context(**PHONE).new_page()
    sign_in(page, server, "resident2")
    _pick(page, server, "Не работает лифт")
    listed = page.locator("#similar-requests .similar-request")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(f"№{number}, Не работает лифт, подана ")
    expect(listed).not_to_contain_text("41")
    expect(listed).not_to_contain_text("Анне")
    # Another category of the same house has nothing open: the list goes.
    page.select_option("#category", label="Разбито окно в подъезде")
    expect(listed).to_have_count(0)
    page.select_option("#category", label="Не работает лифт")
    expect(listed).to_have_count(1)

    listed.get_by_role("button", name="Следить за этой заявкой").click()
    page.wait_for_url(f"{server}/requests/*")
    expect(page.locator("#request-actions")).to_contain_text("Не следить")
    expect(page.locator("#request-details")).not_to_contain_text("41")
    expect(page.locator("#request-details")).not_to_contain_text("Анне")
