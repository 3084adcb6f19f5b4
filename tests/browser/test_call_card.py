"""The operator's page is open when the single number rings: the caller's card appears without
a reload, and the request filed from it shows the call on its timeline."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from server.phone.pbx import generic
from server.settings import Settings
from tests.browser.conftest import sign_in
from tests.integration.phone.pbx import PBX_SECRET, generic_body
from tests.server_process import running_server
from tests.world import World


@pytest.fixture
def pbx_server(world: World, settings: Settings) -> Iterator[str]:
    with running_server(settings, PBX_SECRET=PBX_SECRET, PBX_OPERATORS="101=operator") as base:
        yield base


def signed(base: str, body: bytes) -> None:
    headers = {"content-type": "application/json", generic.HEADER: generic.sign(body, PBX_SECRET)}
    response = httpx.post(f"{base}/pbx/generic", content=body, headers=headers, timeout=10)
    assert response.status_code == 200, response.text


def test_incoming_call_shows_the_callers_card_live_and_filing_from_it_records_the_call(  # type: ignore[no-untyped-def]
    browser, pbx_server: str, world: World
) -> None:
    base = pbx_server
    page = browser.new_context(locale="ru-RU").new_page()
    sign_in(page, base, "operator")
    page.goto(f"{base}/operator")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")
    expect(page.locator(".call-card")).to_have_count(0)

    signed(base, generic_body("b-1", "B1", "ringing", "+79170000001"))
    card = page.locator(".call-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("Входящий звонок")
    expect(card.locator(".caller-name")).to_have_text("Тест resident")

    signed(base, generic_body("b-2", "B1", "answered", operator="101"))
    expect(card).to_contain_text("Идёт разговор")

    card.get_by_role("link", name="Новая заявка").click()
    page.wait_for_url(f"{base}/operator/new*")
    expect(page.locator("#caller_phone")).to_have_value("+79170000001")
    page.locator("#address").press_sequentially("Ленина 12", delay=20)
    page.locator("#building-results label.option", has_text="улица Ленина, 12").click()
    page.select_option("#category", label="Протечка трубы — авария")
    page.fill("#description", "Течёт труба в подвале, звонит жительница")
    page.click("button:has-text('Подать заявку')")
    page.wait_for_url(f"{base}/requests/*")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Обращение по телефону")

    # The call ends while the request page is open: its length arrives live.
    signed(base, generic_body("b-3", "B1", "ended", duration=125))
    expect(timeline).to_contain_text("Звонок завершён")
    expect(timeline).to_contain_text("Длительность звонка: 2 мин 5 с")
