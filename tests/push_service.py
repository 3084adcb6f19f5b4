"""A push service on 127.0.0.1 for tests, and fake browsers that subscribe to it.

It does what FCM or Mozilla's autopush do with a message, strictly: it checks the VAPID
`Authorization` header (ES256 signature, audience, expiry, subject, the server's key), the
TTL, Urgency and Topic headers, and decrypts the aes128gcm payload with the browser's own
P-256 key and auth secret. Anything wrong is answered 400 and written to `problems`.
"""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

URGENCIES = {"very-low", "low", "normal", "high"}
TOPIC_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class FakeBrowser:
    """What a browser keeps for one subscription: its ECDH key pair and auth secret."""

    name: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        """`PushSubscription.toJSON()` as the page would post it."""
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64e(point), "auth": b64e(self.auth)},
        }


@dataclass
class Delivered:
    browser: str
    payload: dict[str, Any]
    ttl: int
    urgency: str
    topic: str | None
    claims: dict[str, Any]


class PushService:
    def __init__(self, vapid_public_key: str) -> None:
        self.vapid_public_key = vapid_public_key
        self.browsers: dict[str, FakeBrowser] = {}
        self.answers: dict[str, deque[tuple[int, dict[str, str]]]] = {}
        self.delivered: list[Delivered] = []
        self.attempts: list[tuple[str, int]] = []
        self.problems: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> PushService:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def browser(self, name: str) -> FakeBrowser:
        browser = FakeBrowser(name, f"{self.origin}/push/{name}")
        self.browsers[name] = browser
        return browser

    def answer(self, name: str, *answers: tuple[int, dict[str, str]]) -> None:
        """Answer this browser's next messages with these statuses (then 201 again)."""
        self.answers.setdefault(name, deque()).extend(answers)

    def to(self, name: str) -> list[Delivered]:
        with self._lock:
            found = [d for d in self.delivered if d.browser == name]
        return sorted(found, key=lambda d: d.payload.get("ts", 0))

    def titles(self, name: str) -> list[str]:
        return [d.payload["title"] for d in self.to(name)]

    def wait_for(self, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.delivered) >= count or self.problems:
                    return
            time.sleep(0.05)
        raise AssertionError(
            f"expected {count} deliveries, got {len(self.delivered)}: "
            f"{[(d.browser, d.payload.get('title')) for d in self.delivered]}"
        )

    # ---------------------------------------------------------------------------------------

    def _check(self, name: str, headers: Any, body: bytes) -> Delivered:
        browser = self.browsers.get(name)
        assert browser is not None, f"no subscription {name}"
        assert headers.get("Content-Encoding") == "aes128gcm", "aes128gcm content encoding"
        ttl = int(headers.get("TTL", "-1"))
        assert ttl > 0, "a TTL is set"
        urgency = headers.get("Urgency", "normal")
        assert urgency in URGENCIES, f"valid urgency {urgency}"
        topic = headers.get("Topic")
        if topic is not None:
            assert len(topic) <= 32 and set(topic) <= TOPIC_CHARS, f"valid topic {topic}"
        claims = self._vapid(headers.get("Authorization", ""))
        assert len(body) <= 4096, "at most 4096 bytes"
        plain = http_ece.decrypt(
            body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
        )
        return Delivered(name, json.loads(plain), ttl, urgency, topic, claims)

    def _vapid(self, authorization: str) -> dict[str, Any]:
        scheme, _, params = authorization.partition(" ")
        assert scheme == "vapid", f"VAPID scheme, got {authorization[:20]!r}"
        parts = dict(item.split("=", 1) for item in params.split(","))
        token, key = parts["t"], parts["k"]
        assert key == self.vapid_public_key, "signed with the server's published key"
        header_b64, claims_b64, signature_b64 = token.split(".")
        header = json.loads(b64d(header_b64))
        assert header.get("alg") == "ES256", "ES256"
        signature = b64d(signature_b64)
        assert len(signature) == 64, "raw r||s signature"
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
        try:
            public.verify(
                encode_dss_signature(
                    int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
                ),
                f"{header_b64}.{claims_b64}".encode(),
                ec.ECDSA(hashes.SHA256()),
            )
        except InvalidSignature:
            raise AssertionError("VAPID signature does not verify") from None
        claims = json.loads(b64d(claims_b64))
        assert claims.get("aud") == self.origin, f"audience is the push service: {claims}"
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, "expiry within 24 h"
        assert str(claims.get("sub", "")).startswith(("mailto:", "https:")), "a contact subject"
        return claims

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                name = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    delivered = service._check(name, self.headers, body)
                except Exception as exc:
                    with service._lock:
                        service.problems.append(f"{name}: {type(exc).__name__}: {exc}")
                    self._reply(400, {})
                    return
                with service._lock:
                    queue = service.answers.get(name)
                    status, headers = queue.popleft() if queue else (201, {})
                    service.attempts.append((name, status))
                    if status < 300:
                        service.delivered.append(delivered)
                self._reply(status, headers)

            def _reply(self, status: int, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler


@contextmanager
def push_service(vapid_public_key: str) -> Iterator[PushService]:
    service = PushService(vapid_public_key).start()
    try:
        yield service
    finally:
        service.stop()
