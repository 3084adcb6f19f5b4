"""Local stand-ins for SMS.ru and SMSC.ru: real HTTP servers on 127.0.0.1 that check each
request the way the providers document it (method, form encoding, UTF-8, every field and the
credentials) and answer in their documented formats. A test may script failures."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

# 11:00 in Zainsk (UTC+3) on a working day, and 23:30 the same day.
DAYTIME = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
NIGHT = datetime(2026, 12, 3, 20, 30, tzinfo=UTC)
API_ID = "A3CA597E-3ACF-4E7D-82EE-CF82B52B1A8B"
LOGIN, PASSWORD = "zainsk", "s3cret:pass"


@dataclass
class Provider:
    kind: str  # smsru | smsc
    port: int = 0
    sent: list[tuple[str, str]] = field(default_factory=list)  # (phone digits, text)
    problems: list[str] = field(default_factory=list)
    script: list[str] = field(default_factory=list)  # "500", "timeout", "refuse", "busy"
    next_id: int = 1000

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail_next(self, *how: str) -> None:
        self.script.extend(how)

    def texts(self) -> list[str]:
        return [text for _, text in self.sent]


def _check_smsru(form: dict[str, str], p: Provider) -> tuple[int, dict[str, Any]]:
    if form.get("api_id") != API_ID:
        return 200, {"status": "ERROR", "status_code": 200, "status_text": "Неправильный api_id"}
    if form.get("json") != "1":
        p.problems.append("json=1 missing")
    to, msg = form.get("to", ""), form.get("msg", "")
    if not (to.isdigit() and len(to) == 11 and to.startswith("7")):
        p.problems.append(f"to is not 7XXXXXXXXXX: {to!r}")
    if not msg:
        return 200, {"status": "ERROR", "status_code": 203, "status_text": "Нет текста"}
    how = p.script.pop(0) if p.script else ""
    if how == "refuse":
        sms = {
            to: {"status": "ERROR", "status_code": 202, "status_text": "Неправильно указан номер"}
        }
        return 200, {"status": "OK", "status_code": 100, "sms": sms, "balance": 10}
    if how == "busy":
        return 200, {"status": "ERROR", "status_code": 220, "status_text": "Сервис недоступен"}
    p.next_id += 1
    p.sent.append((to, msg))
    sms = {to: {"status": "OK", "status_code": 100, "sms_id": f"000000-{p.next_id}"}}
    return 200, {"status": "OK", "status_code": 100, "sms": sms, "balance": 10}


def _check_smsc(form: dict[str, str], p: Provider) -> tuple[int, dict[str, Any]]:
    if (form.get("login"), form.get("psw")) != (LOGIN, PASSWORD):
        return 200, {"error": "authorise error", "error_code": 2}
    for key, want in (("charset", "utf-8"), ("fmt", "3")):
        if form.get(key) != want:
            p.problems.append(f"{key} is {form.get(key)!r}")
    phones, mes, ref = form.get("phones", ""), form.get("mes", ""), form.get("id", "")
    if not (phones.startswith("+7") and len(phones) == 12 and phones[1:].isdigit()):
        p.problems.append(f"phones is not +7XXXXXXXXXX: {phones!r}")
    if not ref.isdigit() or not 1 <= int(ref) <= 2147483647:
        p.problems.append(f"id out of range: {ref!r}")
    how = p.script.pop(0) if p.script else ""
    if how == "refuse":
        return 200, {"error": "invalid number", "error_code": 7}
    if how == "busy":
        return 200, {"error": "too many", "error_code": 9}
    p.sent.append((phones.lstrip("+"), mes))
    return 200, {"id": int(ref), "cnt": 1}


class _Handler(BaseHTTPRequestHandler):
    provider: Provider

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.provider.problems.append("GET instead of POST")
        self._answer(405, {})

    def do_POST(self) -> None:
        p = self.provider
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if not self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
            p.problems.append(f"content type {self.headers.get('Content-Type')}")
        try:
            text = raw.decode("ascii")  # a form body is percent-encoded: pure ASCII
            form = {k: v[0] for k, v in parse_qs(text, encoding="utf-8", errors="strict").items()}
        except UnicodeError:
            p.problems.append("the form is not percent-encoded UTF-8")
            self._answer(400, {})
            return
        want = "/sms/send" if p.kind == "smsru" else "/sys/send.php"
        if self.path != want:
            p.problems.append(f"path {self.path}")
            self._answer(404, {})
            return
        if p.script and p.script[0] in ("500", "timeout"):
            how = p.script.pop(0)
            if how == "timeout":
                time.sleep(1.5)
            self._answer(500, {})
            return
        status, body = (_check_smsru if p.kind == "smsru" else _check_smsc)(form, p)
        self._answer(status, body)

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except OSError:
            pass  # the client gave up waiting (a timeout under test)


@contextmanager
def sms_provider(kind: str) -> Iterator[Provider]:
    provider = Provider(kind)
    handler = type("Handler", (_Handler,), {"provider": provider})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    provider.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        server.server_close()
