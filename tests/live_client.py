"""Playing the browser of a live page: sign in, say hello, read what arrives.

Used by the live tests (in-process and against real uvicorn processes) and by bench/live.py.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from litestar.testing import TestClient

from tests.http import login, version_of
from tests.world import PASSWORD

ENTRY_ID = re.compile(r'id="entry-(\d+)"')
ROW_ID = re.compile(r'id="row-(\d+)"')
LAST_ENTRY = re.compile(r'data-last-entry="(\d+)"')
ACTION = re.compile(r'action="/requests/\d+/actions/(\w+)"')


def entry_ids(html: str) -> list[int]:
    return [int(n) for n in ENTRY_ID.findall(html)]


def last_entry(html: str) -> int:
    match = LAST_ENTRY.search(html)
    assert match, "the request page says which timeline entry it shows last"
    return int(match.group(1))


def actions_in(html: str) -> set[str]:
    """The actions offered in the #request-actions part of a page or live message."""
    start = html.find('id="request-actions"')
    assert start >= 0, "the actions are part of it"
    end = html.find('id="timeline"', start)
    return set(ACTION.findall(html[start : end if end > 0 else len(html)]))


def hello(**fields: Any) -> str:
    return json.dumps({"type": "hello", **fields})


# --------------------------------------------------------------------------------------------
# In-process (Litestar's TestClient: one client, so one event loop; users swap cookie jars)


class Users:
    """Signed-in cookie jars on one TestClient (two TestClients would be two event loops)."""

    def __init__(self, client: TestClient[Any]) -> None:
        self.client = client
        self.jars: dict[str, httpx.Cookies] = {}

    def sign_in(self, *names: str) -> Users:
        for name in names:
            self.client.cookies = httpx.Cookies()
            login(self.client, name)
            self.jars[name] = httpx.Cookies(self.client.cookies)
        return self

    def use(self, name: str | None) -> TestClient[Any]:
        """The client, signed in as `name` (signing in on first use), or anonymous."""
        if name and name not in self.jars:
            self.sign_in(name)
        self.client.cookies = self.jars[name] if name else httpx.Cookies()
        return self.client


def receive_until(
    ws: Any, predicate: Callable[[str], bool], timeout: float = 10.0
) -> tuple[str, list[str]]:
    """Read messages until one satisfies `predicate`; return it and everything read."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no matching live message in {timeout} s; got {seen!r}")
        message = ws.receive_text(timeout=left)
        seen.append(message)
        if predicate(message):
            return message, seen


# --------------------------------------------------------------------------------------------
# Against a real server (httpx + websockets)


@dataclass
class Browser:
    """One person's session with a running server."""

    base: str
    login: str
    client: httpx.AsyncClient = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.AsyncClient(base_url=self.base, timeout=10, follow_redirects=False)

    async def sign_in(self) -> Browser:
        await self.client.get("/login")
        response = await self.post("/login", {"login": self.login, "password": PASSWORD})
        assert response.status_code == 303, response.text
        return self

    async def post(self, url: str, data: dict[str, Any]) -> httpx.Response:
        token = self.client.cookies.get("zayavka_csrf") or ""
        return await self.client.post(url, data=data, headers={"x-csrftoken": token})

    async def page(self, url: str) -> str:
        response = await self.client.get(url)
        assert response.status_code == 200, response.text
        return response.text

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.client.cookies.items())

    async def live(self, path: str, *, origin: str | None = None) -> Any:
        url = self.base.replace("http://", "ws://") + path
        return await websockets.connect(
            url,
            origin=origin or self.base,  # type: ignore[arg-type]
            additional_headers={"Cookie": self.cookie_header()},
            open_timeout=10,
            max_size=2**22,
        )

    async def close(self) -> None:
        await self.client.aclose()


async def file_request(browser: Browser, building_id: int, category_id: int, text: str) -> int:
    response = await browser.post(
        "/requests/new",
        {"building_id": building_id, "category_id": category_id, "description": text, "flat": "1"},
    )
    assert response.status_code == 303, response.text
    return int(response.headers["location"].rstrip("/").rsplit("/", 1)[1])


async def comment(browser: Browser, request_id: int, text: str) -> None:
    version = version_of(await browser.page(f"/requests/{request_id}"))
    response = await browser.post(
        f"/requests/{request_id}/actions/comment", {"version": version, "reason": text}
    )
    assert response.status_code == 303, response.text


class Timeline:
    """What a live request page would show: entry ids in arrival order, duplicates counted."""

    def __init__(self, initial: list[int]) -> None:
        self.ids: list[int] = list(initial)
        self.duplicates: list[int] = []
        self.messages: list[str] = []

    def take(self, message: str) -> None:
        self.messages.append(message)
        for entry_id in entry_ids(message):
            if entry_id in self.ids:
                self.duplicates.append(entry_id)
            else:
                self.ids.append(entry_id)

    async def read_until(self, ws: Any, wanted: set[int], within: float = 10.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not wanted <= set(self.ids):
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(
                    f"timeline has {self.ids}, still missing {wanted - set(self.ids)}"
                )
            self.take(await asyncio.wait_for(ws.recv(), left))
