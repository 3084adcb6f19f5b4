"""A declared outage reaches a resident's open home page live, and the filing form shows it
for the chosen building and category with «Меня это тоже касается» instead of filing."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from server.db.models import utcnow
from server.incidents.forms import as_local
from tests.browser.conftest import sign_in
from tests.world import World

TEXT = "Нет холодной воды: порыв на магистрали, устраняем"


def test_a_declared_outage_shows_live_at_home_and_on_the_filing_form(  # type: ignore[no-untyped-def]
    browser, server, world: World
) -> None:
    resident = browser.new_context(locale="ru-RU").new_page()
    sign_in(resident, server, "resident")
    # A request in улица Ленина, 12 makes it the resident's building.
    resident.goto(f"{server}/requests/new?q=Ленина 12")
    resident.locator("input[name=building_id]").first.check()
    resident.select_option("#category", label="Разбито окно в подъезде")
    resident.fill("#description", "Разбито стекло на третьем этаже")
    resident.click("button:has-text('Подать заявку')")
    resident.wait_for_url(f"{server}/requests/*")
    resident.goto(f"{server}/requests")
    expect(resident.locator("#incident-notices")).to_be_attached()
    expect(resident.locator("[data-live=incidents]")).to_be_attached()
    resident.wait_for_timeout(500)  # the live channel opens

    dispatcher = browser.new_context(locale="ru-RU").new_page()
    sign_in(dispatcher, server, "dispatcher")
    dispatcher.goto(f"{server}/incidents")
    dispatcher.select_option("#category", label="Протечка трубы")
    dispatcher.locator("label.option", has_text="улица Ленина, 12").locator("input").check()
    dispatcher.fill("#text", TEXT)
    now = utcnow()
    dispatcher.fill("#starts_at", as_local(now - timedelta(minutes=5)))
    dispatcher.fill("#expected_end", as_local(now + timedelta(hours=3)))
    dispatcher.click("button:has-text('Объявить')")
    dispatcher.wait_for_url(f"{server}/incidents/*")

    # Nobody reloads the resident's page.
    expect(resident.locator("#incident-notices")).to_contain_text(TEXT, timeout=10_000)

    resident.goto(f"{server}/requests/new")
    notice = resident.locator("#incident-notice")
    expect(notice).not_to_contain_text("По вашему дому уже известно")
    resident.select_option("#category", label="Протечка трубы — авария")
    expect(notice).to_contain_text("По вашему дому уже известно")
    expect(notice).to_contain_text("Ожидаемое окончание")
    resident.click("button:has-text('Меня это тоже касается')")
    expect(notice).to_contain_text("Вы следите за этой аварией")
    resident.select_option("#category", label="Не работает лифт")
    expect(notice).not_to_contain_text("По вашему дому уже известно")
