"""SMS.ru and SMSC.ru over their HTTP APIs: one POST per SMS, and what the answer means.

SMS.ru: `POST /sms/send` with `api_id`, `to`, `msg`, `json=1` (and `from`); the answer is JSON
with a `status_code` for the request and one per number (100: accepted, with its `sms_id`).
SMSC.ru: `POST /sys/send.php` with `login`, `psw`, `phones`, `mes`, `charset=utf-8`, `fmt=3`
and our own `id`; the answer is `{"id", "cnt"}` or `{"error", "error_code"}`.
A 5xx, a timeout or a busy/unfunded account is tried again; a refusal that cannot change
(wrong credentials, bad number, forbidden text) fails at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import httpx

from server.notify.delivery import Outcome, Result

TIMEOUT = 15.0


@dataclass(frozen=True)
class Sent:
    result: Result
    provider_id: str | None = None


def _retry(error: str, status: int | None = None) -> Sent:
    return Sent(Result(Outcome.RETRY, status, error=error[:500]))


def _failed(error: str, status: int | None = None) -> Sent:
    return Sent(Result(Outcome.FAILED, status, error=error[:500]))


class HttpAdapter:
    """An HTTP provider: a base address, credentials, one client while the worker runs."""

    name = ""
    default_base = ""

    def __init__(self, base: str | None = None, client: httpx.AsyncClient | None = None) -> None:
        self.base = (base or self.default_base).rstrip("/")
        self._client = client
        self._own = False

    async def __aenter__(self) -> HttpAdapter:
        if self._client is None:
            self._client, self._own = httpx.AsyncClient(timeout=TIMEOUT), True
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._own and self._client is not None:
            await self._client.aclose()
            self._client, self._own = None, False

    async def _post(self, path: str, form: dict[str, str]) -> httpx.Response | Sent:
        try:
            if self._client is not None:
                return await self._client.post(self.base + path, data=form)
            async with httpx.AsyncClient(timeout=TIMEOUT) as client:
                return await client.post(self.base + path, data=form)
        except httpx.HTTPError as exc:
            return _retry(f"{type(exc).__name__}: {exc}")

    async def _json(self, path: str, form: dict[str, str]) -> dict[str, Any] | Sent:
        response = await self._post(path, form)
        if isinstance(response, Sent):
            return response
        if response.status_code >= 500 or response.status_code == 429:
            return _retry(f"HTTP {response.status_code}", response.status_code)
        try:
            body = response.json()
        except ValueError:
            return _retry(f"HTTP {response.status_code}: not JSON", response.status_code)
        if response.status_code >= 400 or not isinstance(body, dict):
            return _failed(f"HTTP {response.status_code}: {body}", response.status_code)
        return body


# SMS.ru: the request's and the number's refusals that are worth another try later.
SMSRU_PASSING = {201, 220, 230, 231, 232}  # no money, service busy, limits for today


class SmsRu(HttpAdapter):
    name = "smsru"
    default_base = "https://sms.ru"

    def __init__(self, api_id: str, sender: str = "", **kw: Any) -> None:
        super().__init__(**kw)
        self.api_id, self.sender = api_id, sender

    async def send(self, phone: str, text: str, ref: int) -> Sent:
        to = phone.lstrip("+")
        form = {"api_id": self.api_id, "to": to, "msg": text, "json": "1"}
        if self.sender:
            form["from"] = self.sender
        body = await self._json("/sms/send", form)
        if isinstance(body, Sent):
            return body
        if body.get("status") != "OK":
            code = int(body.get("status_code") or 0)
            error = f"SMS.ru {code}: {body.get('status_text', '')}"
            return _retry(error) if code in SMSRU_PASSING else _failed(error)
        one = (body.get("sms") or {}).get(to) or {}
        code = int(one.get("status_code") or 0)
        if one.get("status") == "OK" and one.get("sms_id"):
            return Sent(Result(Outcome.SENT), str(one["sms_id"]))
        error = f"SMS.ru {code}: {one.get('status_text', '')}"
        return _retry(error) if code in SMSRU_PASSING else _failed(error)


# SMSC.ru error codes: 3 no money, 4 address blocked for a while, 9 too many requests.
SMSC_PASSING = {3, 4, 9}


class Smsc(HttpAdapter):
    name = "smsc"
    default_base = "https://smsc.ru"

    def __init__(self, login: str, password: str, sender: str = "", **kw: Any) -> None:
        super().__init__(**kw)
        self.login, self.password, self.sender = login, password, sender

    async def send(self, phone: str, text: str, ref: int) -> Sent:
        form = {
            "login": self.login,
            "psw": self.password,
            "phones": phone,
            "mes": text,
            "charset": "utf-8",
            "fmt": "3",
            "id": str(ref),  # our id comes back in the delivery report
        }
        if self.sender:
            form["sender"] = self.sender
        body = await self._json("/sys/send.php", form)
        if isinstance(body, Sent):
            return body
        if "error" in body or "error_code" in body:
            code = int(body.get("error_code") or 0)
            error = f"SMSC {code}: {body.get('error', '')}"
            return _retry(error) if code in SMSC_PASSING else _failed(error)
        if body.get("id") is None:
            return _failed(f"SMSC: unexpected answer {body}")
        return Sent(Result(Outcome.SENT), str(body["id"]))


def http_adapter_from_url(url: str, sender: str = "") -> SmsRu | Smsc | None:
    """`smsru://API_ID@`, `smsc://LOGIN:PASSWORD@`; `?base=` points at another address (a
    stand-in in tests, a reserve server such as https://www2.smsc.ru)."""
    parsed = urlparse(url)
    base = next(iter(parse_qs(parsed.query).get("base", [])), None)
    user, password = unquote(parsed.username or ""), unquote(parsed.password or "")
    if parsed.scheme == "smsru" and user:
        return SmsRu(user, sender, base=base)
    if parsed.scheme == "smsc" and user and password:
        return Smsc(user, password, sender, base=base)
    return None
