"""Headers that tell browsers what our pages may do, added to every HTTP response.

The pages load scripts, styles and the QR reader's WebAssembly from our own origin only, never
inline, so the policy needs no nonces; the camera is ours alone (field mode scans work orders).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import AbstractMiddleware

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        # The QR polyfill compiles its WebAssembly module: allowed without allowing eval.
        "script-src 'self' 'wasm-unsafe-eval'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(self), microphone=(), geolocation=(self), payment=(), usb=()"
# Two years, the value browsers' preload lists ask for.
HSTS = "max-age=63072000; includeSubDomains"


def header_values(*, production: bool) -> list[tuple[str, str]]:
    values = [
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
        ("Permissions-Policy", PERMISSIONS_POLICY),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if production:
        values.append(("Strict-Transport-Security", HSTS))
    return values


class SecurityHeadersMiddleware(AbstractMiddleware):
    def __init__(self, app: ASGIApp, production: bool = False) -> None:
        super().__init__(app, scopes={ScopeType.HTTP})
        self.values = header_values(production=production)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                for name, value in self.values:
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
