"""The installable app over HTTP: manifest, service worker at the root, offline page."""

from __future__ import annotations

import io
import json
import re

from litestar.testing import TestClient
from PIL import Image

from server.app import create_app
from tests.http import people
from tests.world import World


def test_service_worker_is_served_from_the_root_and_never_stale(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = client.get("/sw.js")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/javascript")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["service-worker-allowed"] == "/"
        script = response.text
        assert re.search(r'const VERSION = "[0-9a-f]{12}";', script)
        shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", script, re.S).group(1))
        assert "/offline" in shell and "/static/css/app.css" in shell
        assert "/static/vendor/htmx.min.js" in shell
        # Every precached URL answers, or the worker would never install.
        for url in shell:
            assert client.get(url).status_code == 200, url
        # Field mode's part is optional and cannot break the worker.
        assert re.search(r'try \{\s*importScripts\("/sw-field-sync.js"\);', script)
        field = client.get("/sw-field-sync.js")
        assert field.status_code == 200
        assert field.headers["content-type"].startswith("text/javascript")
        assert field.headers["cache-control"] == "no-cache"


def test_offline_page_is_public_and_friendly(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = client.get("/offline")
    assert response.status_code == 200
    assert "Нет связи с интернетом" in response.text
    assert "Обновить страницу" in response.text


def test_manifest_is_installable(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = client.get("/manifest.webmanifest")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/manifest+json")
        manifest = response.json()
        assert manifest["lang"] == "ru"
        assert manifest["name"].startswith("Заявка") and manifest["short_name"]
        assert manifest["display"] == "standalone"
        assert manifest["start_url"] == "/" and manifest["scope"] == "/"
        assert manifest["theme_color"] and manifest["background_color"]
        sizes = {}
        for icon in manifest["icons"]:
            image = client.get(icon["src"])
            assert image.status_code == 200, icon["src"]
            assert image.content[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = Image.open(io.BytesIO(image.content)).size
            assert icon["sizes"] == f"{width}x{height}"
            sizes.setdefault(icon.get("purpose", "any"), set()).add(width)
        assert {192, 512} <= sizes["any"]
        assert 512 in sizes["maskable"]
        names = [shortcut["name"] for shortcut in manifest["shortcuts"]]
        assert names == ["Новая заявка", "Мои заявки"]


def test_every_page_links_the_manifest_and_the_home_screen_icons(world: World) -> None:
    app = create_app(world.settings)
    with TestClient(app) as client:
        pages = [client.get(url).text for url in ("/", "/login", "/register", "/offline")]
    with people(app, "resident", "dispatcher") as clients:
        pages += [clients["resident"].get(url).text for url in ("/requests", "/requests/new")]
        pages += [clients["dispatcher"].get("/board").text]
    for html in pages:
        assert '<link rel="manifest" href="/manifest.webmanifest">' in html
        assert '<meta name="theme-color"' in html
        assert '<link rel="apple-touch-icon" href="/static/icons/apple-touch-icon.png">' in html
