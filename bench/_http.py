"""A load generator's HTTP/1.1 client: one keep-alive connection, requests written as bytes.

The bare side of a throughput benchmark talks to PostgreSQL through asyncpg, whose protocol is
compiled; a general-purpose client (httpx) costs the project about as much CPU per request as
its own server side does, on the same cores. This one does what a load generator (wrk, ab) does
and no more: it writes a prepared request, reads the status line, the headers and a
`Content-Length` body, and keeps the cookies the server sets, as a browser would send them back.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlencode, urlsplit


class Connection:
    """One person's keep-alive connection to the server under test."""

    def __init__(self, base: str, cookies: dict[str, str], headers: dict[str, str]) -> None:
        url = urlsplit(base)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.cookies = dict(cookies)
        # What a browser sends with a form, so that the server does what it does for one.
        self.headers = {
            "Host": url.netloc,
            "User-Agent": "Mozilla/5.0 (bench)",
            "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate",
            "Accept-Language": "ru-RU,ru;q=0.9",
            "Origin": f"{url.scheme}://{url.netloc}",
            **headers,
        }
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post_form(self, path: str, form: dict[str, object]) -> tuple[int, dict[str, str]]:
        """POST `form` url-encoded; the status and the headers (lower-case names; the body
        is read and dropped)."""
        body = urlencode(form).encode()
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        head = "".join(f"{k}: {v}\r\n" for k, v in self.headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\n{head}Cookie: {cookie}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1") + body
        if self._writer is not None:
            try:
                return await self._send(request)
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed an idle keep-alive connection (uvicorn: after 5 s); a
                # browser opens a new one and sends the request again, as here.
                await self.close()
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return await self._send(request)

    async def _send(self, request: bytes) -> tuple[int, dict[str, str]]:
        assert self._reader is not None and self._writer is not None
        self._writer.write(request)
        return await self._response(self._reader)

    async def _response(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
        raw = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = raw[:-4].decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in lines:
            name, _, value = line.partition(":")
            name, value = name.lower(), value.strip()
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                if "max-age=0" in rest.lower():
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = rest.split(";", 1)[0]
            else:
                headers[name] = value
        length = int(headers.get("content-length", "0"))
        if length:
            await reader.readexactly(length)
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return int(status_line.split(" ", 2)[1]), headers

    async def close(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
