"""Helpers for driving the app over HTTP like a browser does (cookies, CSRF, forms)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient

from tests.world import PASSWORD, World

CSRF_COOKIE = "zayavka_csrf"


def csrf(client: TestClient[Any]) -> str:
    if CSRF_COOKIE not in client.cookies:
        client.get("/login")
    return client.cookies[CSRF_COOKIE]


def post(client: TestClient[Any], url: str, data: dict[str, Any] | None = None, **kwargs: Any):
    """A form POST with the CSRF token, as the browser sends it."""
    headers = {"x-csrftoken": csrf(client), **kwargs.pop("headers", {})}
    return client.post(url, data=data or {}, headers=headers, follow_redirects=False, **kwargs)


def filed(
    client: TestClient[Any],
    world: World,
    description: str,
    building: str = "lenina12",
    category: str = "leak",
) -> int:
    """File a request on the web as the signed-in resident; its id."""
    response = post(
        client,
        "/requests/new",
        {
            "building_id": world.buildings[building],
            "category_id": world.categories[category],
            "description": description,
        },
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rsplit("/", 1)[1])


def login(client: TestClient[Any], login_name: str, password: str = PASSWORD) -> None:
    response = post(client, "/login", {"login": login_name, "password": password})
    assert response.status_code == 303, response.text


def version_of(html: str) -> int:
    match = re.search(r'data-version="(\d+)"', html)
    assert match, "the request page shows its version"
    return int(match.group(1))


@contextmanager
def people(app: Any, *names: str) -> Iterator[dict[str, TestClient[Any]]]:
    """Several signed-in people using one app at once.

    They share one event loop (the first client's portal), as the requests of real users
    share the server's loop; separate loops would hand pooled connections across loops.
    """
    with TestClient(app) as first:
        clients: dict[str, TestClient[Any]] = {}
        for name in names:
            client = first if not clients else TestClient(app)
            if client is not first:
                client.blocking_portal = first.blocking_portal
            login(client, name)
            clients[name] = client
        yield clients
