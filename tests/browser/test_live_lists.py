"""Live lists in headless Chromium: the worker's phone list gets a new assignment and a state
change without a reload, and a completion waiting on the phone keeps its «Ожидает отправки»
mark through those redraws; the resident's «Мои заявки» shows a new state badge and a request
filed for them by phone; a page whose session ended says so once and stops reconnecting."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import run_async
from tests.fixtures.field import open_job
from tests.http import version_of
from tests.live_client import Browser, file_request
from tests.world import World

PHONE: dict[str, Any] = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "ru-RU",
}

# A completion stored on the phone that no sender may take for an hour (as if the service
# worker were sending it right now): the page shows it as waiting and leaves it alone.
QUEUE_ITEM = """requestId => FieldQueue.put({
  key: "waiting-" + requestId, requestId: requestId,
  url: "/field/jobs/" + requestId + "/complete", csrf: "",
  photo: new Blob(["not a photo"], {type: "image/jpeg"}), title: "",
  createdAt: Date.now(), status: "pending", leaseUntil: Date.now() + 3600 * 1000,
})"""


async def _act(base: str, who: str, request_id: int, action: str, **data: Any) -> None:
    person = await Browser(base, who).sign_in()
    try:
        version = version_of(await person.page(f"/requests/{request_id}"))
        response = await person.post(
            f"/requests/{request_id}/actions/{action}", {"version": version, **data}
        )
        assert response.status_code == 303, response.text
    finally:
        await person.close()


def act(base: str, who: str, request_id: int, action: str, **data: Any) -> None:
    run_async(lambda: _act(base, who, request_id, action, **data))


def file(base: str, world: World, building: str = "lenina12") -> int:
    async def go() -> int:
        resident = await Browser(base, "resident").sign_in()
        try:
            return await file_request(
                resident, world.buildings[building], world.categories["leak"], "Течёт кран"
            )
        finally:
            await resident.close()

    return run_async(go)  # type: ignore[no-any-return]


def file_by_phone(base: str, world: World, phone: str) -> int:
    async def go() -> int:
        operator = await Browser(base, "operator").sign_in()
        try:
            response = await operator.post(
                "/operator/new",
                {
                    "caller_phone": phone,
                    "caller_name": "Звонивший",
                    "building_id": world.buildings["lenina12"],
                    "category_id": world.categories["lift"],
                    "description": "Лифт стоит между этажами",
                },
            )
            assert response.status_code == 303, response.text
            return int(response.headers["location"].rsplit("/", 1)[1])
        finally:
            await operator.close()

    return run_async(go)  # type: ignore[no-any-return]


def test_worker_phone_list_gets_a_new_assignment_live_and_keeps_its_waiting_mark(
    browser: Any, server: str, world: World
) -> None:
    job = run_async(lambda: open_job(world.settings, world)).request_id
    page = browser.new_context(**PHONE).new_page()
    sign_in(page, server, "worker")
    assert page.url.endswith("/field")
    page.evaluate(QUEUE_ITEM, job)
    page.reload()
    waiting = page.locator(f'[data-pending-for="{job}"]')
    expect(waiting).to_be_visible()
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")
    page.evaluate("window.__sameDocument = true")

    # The worker starts the job from another device: its row is redrawn, the mark stays.
    act(server, "worker", job, "start")
    expect(page.locator(f"#row-{job} .badge")).to_have_text("В работе", timeout=10_000)
    expect(waiting).to_be_visible()

    # The dispatcher assigns a new job to the contractor, the contractor gives it to «worker».
    new = file(server, world, "mira3")
    act(server, "dispatcher", new, "assign", contractor_id=world.orgs["c1"])
    act(server, "contractor", new, "assign_worker", worker_id=world.users["worker"])
    arrived = page.locator(f"#field-jobs > #row-{new}")
    expect(arrived).to_be_visible(timeout=10_000)
    expect(arrived).to_contain_text("проспект Мира, 3")
    expect(arrived.locator(".badge")).to_have_text("Назначена")
    expect(waiting).to_be_visible()
    expect(page.locator(f'[data-pending-for="{new}"]')).to_be_hidden()
    expect(page.locator("#field-queue")).to_contain_text("Ожидают отправки: 1")
    assert page.evaluate("window.__sameDocument") is True, "no reload"


def test_residents_list_shows_the_new_badge_and_a_request_filed_by_phone_live(
    browser: Any, server: str, world: World
) -> None:
    request_id = file(server, world)
    page = browser.new_context().new_page()
    sign_in(page, server, "resident")
    page.goto(f"{server}/requests")
    expect(page.locator("#live-status")).to_have_attribute("data-state", "online")
    badge = page.locator(f"#row-{request_id} .badge").first
    expect(badge).to_have_text("Новая")
    page.evaluate("window.__sameDocument = true")

    act(server, "dispatcher", request_id, "assign", contractor_id=world.orgs["c1"])
    expect(badge).to_have_text("Назначена", timeout=10_000)
    expect(page.locator(f"#row-{request_id}")).to_contain_text("Сантехмонтаж")

    by_phone = file_by_phone(server, world, "+79170000001")
    expect(page.locator("#my-requests > li").first).to_have_id(f"row-{by_phone}", timeout=10_000)
    expect(page.locator(f"#row-{by_phone}")).to_contain_text("Не работает лифт")
    assert page.evaluate("window.__sameDocument") is True, "no reload"


def test_page_signed_out_elsewhere_offers_sign_in_and_stops_reconnecting(
    browser: Any, server: str, world: World
) -> None:
    file(server, world)
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server, "resident")
    routes: list[Any] = []

    def through(ws: Any) -> None:
        routes.append(ws)
        ws.connect_to_server()  # pass everything on, both ways (close codes too)

    page.route_web_socket("**/live/**", through)
    page.goto(f"{server}/requests")
    status = page.locator("#live-status")
    expect(status).to_have_attribute("data-state", "online")

    # Signed out in another tab; then the connection drops (a server restart, a network blip).
    other = context.new_page()
    other.goto(f"{server}/profile")
    other.get_by_role("button", name="Выйти").click()
    other.wait_for_url("**/login")
    routes[-1].close(code=1012)

    expect(status).to_have_attribute("data-state", "signed-out", timeout=15_000)
    expect(status).to_have_text("Сеанс завершён. Войдите снова.")
    link = status.get_by_role("link")
    expect(link).to_have_attribute("href", "/login?next=%2Frequests")
    # The home page holds two channels (its requests and its building's incidents): each one
    # reconnects once, is told to sign in, and stops.
    channels = page.locator("[ws-connect]").count()
    assert channels == 2
    tries = len(routes)
    assert tries == 2 * channels, "one reconnect per channel, told to sign in"
    time.sleep(4)  # the extension's backoff would have tried again by now
    assert len(routes) == tries, "no more reconnecting"
    expect(status).to_have_attribute("data-state", "signed-out")

    link.click()
    page.fill("#login", "resident")
    page.fill("#password", "password123")
    page.click("button[type=submit]")
    page.wait_for_url("**/requests")
    expect(status).to_have_attribute("data-state", "online")
