"""What browsers are told about our pages: the content policy, the camera, HTTPS, cookies."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
from litestar.testing import TestClient

from server.app import create_app
from server.settings import Settings
from tests.http import login, post
from tests.world import PASSWORD, World


def _directives(policy: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        name, *values = part.split()
        found[name] = values
    return found


def test_every_page_forbids_inline_scripts_and_framing(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        for path in ("/login", "/stats", "/static/css/app.css", "/nowhere"):
            response = client.get(path)
            policy = _directives(response.headers["content-security-policy"])
            assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"], path
            assert "'unsafe-inline'" not in policy["style-src"], path
            assert policy["frame-ancestors"] == ["'none'"], path
            assert policy["object-src"] == ["'none'"], path
            assert response.headers["permissions-policy"].startswith("camera=(self)"), path
            assert response.headers["x-content-type-options"] == "nosniff", path


def test_pages_carry_no_inline_script_or_handler(world: World) -> None:
    """The policy would block them, so a page that had one would silently stop working. A JSON
    data block (messages for the page's script) is not run, so the policy lets it be."""
    with TestClient(create_app(world.settings)) as client:
        login(client, "resident")
        for path in ("/requests/new", "/requests", "/profile", "/offline"):
            html = client.get(path).text
            assert "onclick=" not in html and "onload=" not in html, path
            for chunk in html.split("<script")[1:]:
                opening = chunk.lstrip()
                assert opening.startswith(("src=", 'type="application/json"')), path


def test_no_template_carries_an_inline_handler() -> None:
    """Pages not fetched above (the printed work order, staff pages) are held to it too."""
    templates = Path(__file__).parents[3] / "web" / "templates"
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
    found = [
        str(path.relative_to(templates))
        for path in sorted(templates.rglob("*.html"))
        if handler.search(path.read_text(encoding="utf-8"))
    ]
    assert found == []
    assert "data-print" in (templates / "contractor" / "print.html").read_text(encoding="utf-8")


def test_without_production_there_is_no_hsts_and_cookies_work_over_http(world: World) -> None:
    with TestClient(create_app(world.settings)) as client:
        response = client.get("/login")
        assert "strict-transport-security" not in response.headers
        assert "secure" not in response.headers["set-cookie"].lower()


def _production(settings: Settings) -> Settings:
    return dataclasses.replace(settings, production=True, base_url="https://zayavka.example")


def test_production_sends_hsts_and_secure_cookies(world: World) -> None:
    settings = _production(world.settings)
    with TestClient(create_app(settings), base_url="https://zayavka.example") as client:
        page = client.get("/login")
        assert page.headers["strict-transport-security"].startswith("max-age=63072000")
        csrf_cookie = [c for c in page.headers.get_list("set-cookie") if "zayavka_csrf" in c]
        assert csrf_cookie and "secure" in csrf_cookie[0].lower()
        signed_in = post(client, "/login", {"login": "resident", "password": PASSWORD})
        assert signed_in.status_code == 303, signed_in.text
        session_cookie = [
            c for c in signed_in.headers.get_list("set-cookie") if c.startswith("zayavka_session=")
        ]
        assert session_cookie and "secure" in session_cookie[0].lower()


def test_production_refuses_to_start_with_an_http_address() -> None:
    env = {"PRODUCTION": "1", "SECRET_KEY": "x" * 40, "BASE_URL": "http://zayavka.example"}
    with pytest.raises(RuntimeError, match="https"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "BASE_URL": "https://zayavka.example"}).production
