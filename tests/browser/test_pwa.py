"""The installable app in headless Chromium: the service worker, the manifest, a push shown as
a notification, the offline page, and nothing personal left after signing out."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.notify.push_keys import generate
from server.settings import Settings
from tests.browser.conftest import CHROMIUM, CHROMIUM_FLAGS, sign_in, wait_until
from tests.push_service import PushService, push_service
from tests.server_process import running_server
from tests.world import PASSWORD, World

READY_SCOPE = "navigator.serviceWorker.ready.then(r => r.scope)"
NOTIFICATIONS = """
  navigator.serviceWorker.ready
    .then(r => r.getNotifications())
    .then(list => list.map(n => ({title: n.title, body: n.body, tag: n.tag, icon: n.icon,
                                  badge: n.badge, url: n.data && n.data.url})))
"""
KEPT_PAGE = """
  url => caches.keys().then(async names => {
    for (const name of names.filter(n => n.startsWith("zayavka-pages-"))) {
      const options = {cacheName: name, ignoreVary: true};
      if (await caches.match(location.origin + url, options)) return true;
    }
    return false;
  })
"""
CACHED_URLS = """
  (async () => {
    const out = {};
    for (const name of await caches.keys()) {
      const cache = await caches.open(name);
      out[name] = (await cache.keys()).map(r => new URL(r.url).pathname);
    }
    return out;
  })()
"""


@pytest.fixture
def pwa(world: World, settings: Settings) -> Iterator[tuple[str, PushService]]:
    """The app with its own VAPID keys, and a push service on 127.0.0.1 it sends to."""
    keys = generate()
    with (
        push_service(keys.public_key) as service,
        running_server(
            settings, VAPID_PRIVATE_KEY=keys.private_key, VAPID_PUBLIC_KEY=keys.public_key
        ) as base,
    ):
        yield base, service


def controlled_page(context: Any, base: str, login: str) -> Any:
    """A signed-in page that the service worker already controls."""
    page = context.new_page()
    sign_in(page, base, login)
    assert page.evaluate(READY_SCOPE) == base + "/"
    if not page.evaluate("Boolean(navigator.serviceWorker.controller)"):
        page.reload()
        wait_until(page, "Boolean(navigator.serviceWorker.controller)")
    return page


def root_registration(cdp: Any, page: Any, base: str) -> str:
    """The id DevTools gives the site's service worker registration."""
    found: list[dict[str, Any]] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda e: found.extend(e["registrations"]))
    cdp.send("ServiceWorker.enable")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for registration in found:
            if registration["scopeURL"] == base + "/" and not registration.get("isDeleted"):
                return str(registration["registrationId"])
        page.wait_for_timeout(50)
    raise AssertionError(f"no service worker registration for {base}/: {found}")


class Http:
    """A second person acting over plain HTTP, as another phone would."""

    def __init__(self, base: str, login: str) -> None:
        self.client = httpx.Client(base_url=base, follow_redirects=False, timeout=10)
        self.client.get("/login")
        self.post("/login", {"login": login, "password": PASSWORD})

    def post(self, url: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        token = self.client.cookies["zayavka_csrf"]
        return self.client.post(url, data=data, headers={"x-csrftoken": token}, **kw)

    def act(self, request_id: int, action: str, **fields: Any) -> None:
        page = self.client.get(f"/requests/{request_id}").text
        version = re.search(r'data-version="(\d+)"', page)
        assert version
        response = self.post(
            f"/requests/{request_id}/actions/{action}", {"version": version.group(1), **fields}
        )
        assert response.status_code == 303, response.text[:300]


def test_service_worker_controls_the_whole_site(browser: Any, server: str) -> None:
    context = browser.new_context()
    page = controlled_page(context, server, "resident")
    assert page.evaluate(READY_SCOPE) == server + "/"
    info = page.evaluate(
        "navigator.serviceWorker.ready.then(r => ({script: r.active.scriptURL, "
        "state: r.active.state}))"
    )
    assert info == {"script": server + "/sw.js", "state": "activated"}
    caches = page.evaluate(CACHED_URLS)
    [shell] = [urls for name, urls in caches.items() if name.startswith("zayavka-shell-")]
    assert {"/offline", "/static/css/app.css", "/static/vendor/htmx.min.js"} <= set(shell)
    context.close()


def test_manifest_passes_the_installability_checks(
    playwright_instance: Any, server: str, tmp_path: Path
) -> None:
    # A profile on disk: Chromium never offers to install from an incognito window.
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
    )
    page = controlled_page(context, server, "resident")
    manifest = page.evaluate(
        """async () => {
          const link = document.querySelector('link[rel="manifest"]');
          const manifest = await (await fetch(link.href)).json();
          const icons = [];
          for (const icon of manifest.icons) {
            const image = new Image();
            image.src = icon.src;
            await image.decode();
            icons.push({sizes: icon.sizes, purpose: icon.purpose || "any", type: icon.type,
                        width: image.naturalWidth, height: image.naturalHeight});
          }
          return {...manifest, icons};
        }"""
    )
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    for icon in manifest["icons"]:
        assert icon["type"] == "image/png"
        assert icon["sizes"] == f"{icon['width']}x{icon['height']}"
    any_sizes = {i["width"] for i in manifest["icons"] if "any" in i["purpose"]}
    assert {192, 512} <= any_sizes
    assert any("maskable" in i["purpose"] for i in manifest["icons"])

    cdp = context.new_cdp_session(page)
    parsed = cdp.send("Page.getAppManifest")
    assert parsed["errors"] == [], parsed["errors"]
    assert parsed["url"] == server + "/manifest.webmanifest"
    errors = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert errors == [], errors
    context.close()


def test_a_push_from_the_server_becomes_a_notification(
    browser: Any, pwa: tuple[str, PushService], world: World
) -> None:
    base, service = pwa
    # The resident's phone: the server sends to the local push service, which decrypts the
    # message; the DevTools protocol then hands exactly that message to the service worker,
    # as the phone's push service would.
    phone = service.browser("resident-phone")
    resident = Http(base, "resident")
    subscribed = resident.client.post(
        "/push/subscriptions",
        json=phone.subscription(),
        headers={"x-csrftoken": resident.client.cookies["zayavka_csrf"]},
    )
    assert subscribed.status_code == 201
    filed = resident.post(
        "/requests/new",
        {
            "building_id": str(world.buildings["lenina12"]),
            "category_id": str(world.categories["leak"]),
            "description": "Течёт труба в подвале",
        },
    )
    request_id = int(filed.headers["location"].rsplit("/", 1)[-1])
    Http(base, "dispatcher").act(request_id, "assign", contractor_id=str(world.orgs["c1"]))
    service.wait_for(1)
    assert service.problems == []
    [delivered] = service.to("resident-phone")
    assert delivered.urgency == "high"

    context = browser.new_context()
    context.grant_permissions(["notifications"], origin=base)
    page = controlled_page(context, base, "resident")
    cdp = context.new_cdp_session(page)
    registration_id = root_registration(cdp, page, base)
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": base,
            "registrationId": registration_id,
            "data": json.dumps(delivered.payload, ensure_ascii=False),
        },
    )
    wait_until(page, NOTIFICATIONS.strip() + ".then(list => list.length > 0)")
    [shown] = page.evaluate(NOTIFICATIONS)
    number = delivered.payload["number"]
    assert shown["title"] == f"Заявка №{number}: Назначена"
    assert shown["body"] == "Назначен подрядчик, работы скоро начнутся."
    assert shown["tag"] == f"req-{request_id}"
    assert shown["url"] == f"/requests/{request_id}"
    assert shown["icon"] == base + "/static/icons/icon-192.png"
    assert shown["badge"] == base + "/static/icons/badge-72.png"
    context.close()


def test_without_network_a_page_load_shows_the_offline_page(browser: Any, server: str) -> None:
    context = browser.new_context()
    page = controlled_page(context, server, "resident")
    page.goto(server + "/requests")  # seen once, so a copy is kept
    wait_until(page, KEPT_PAGE, arg="/requests")
    context.set_offline(True)
    page.goto(server + "/profile")
    assert page.locator("h1").inner_text() == "Нет связи с интернетом"
    assert page.locator("[data-offline-page]").count() == 1
    page.goto(server + "/requests")
    assert page.locator("h1").inner_text() == "Мои заявки", page.evaluate(CACHED_URLS)
    assert "сохранённая копия" in page.locator("[data-saved-copy]").inner_text()
    context.set_offline(False)
    page.goto(server + "/profile")
    assert page.locator("h1").inner_text() != "Нет связи с интернетом"
    context.close()


def test_signing_out_leaves_no_personal_page_behind(browser: Any, server: str) -> None:
    context = browser.new_context()
    page = controlled_page(context, server, "resident")
    page.goto(server + "/requests")
    wait_until(page, KEPT_PAGE, arg="/requests")
    page.click("form[action='/logout'] button")
    page.wait_for_url(re.compile(r"/login"))
    page.wait_for_load_state("networkidle")
    assert page.evaluate(KEPT_PAGE, "/requests") is False
    context.set_offline(True)
    page.goto(server + "/requests")
    assert "Мои заявки" not in page.content()
    context.close()


def test_notifications_are_asked_for_only_after_the_button_is_pressed(
    browser: Any, server: str
) -> None:
    context = browser.new_context()
    context.add_init_script(
        """
        window.__asked = 0;
        if (window.Notification) {
          const ask = Notification.requestPermission.bind(Notification);
          Notification.requestPermission = (...args) => {
            window.__asked += 1;
            return ask(...args);
          };
        }
        """
    )
    page = context.new_page()
    sign_in(page, server, "resident")
    page.goto(server + "/profile")
    button = page.locator("[data-push-enable]")
    button.wait_for(state="visible")
    assert button.inner_text() == "Включить уведомления"
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__asked") == 0
    assert page.evaluate("Notification.permission") == "default"
    assert "Устройств" in page.locator("#push-devices").inner_text()
    button.click()
    wait_until(page, "window.__asked === 1")
    context.close()
