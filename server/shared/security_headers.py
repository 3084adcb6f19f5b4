"""Headers that tell browsers what our pages may do, added to every HTTP response.

The pages load scripts, styles and the QR reader's WebAssembly from our own origin only, never
inline, so the policy needs no nonces; the camera is ours alone (field mode scans work orders).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.datastructures import MutableScopeHeaders

if TYPE_CHECKING:
    from litestar.types import BeforeMessageSendHookHandler, Message, Scope

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


def security_headers(*, production: bool) -> BeforeMessageSendHookHandler:
    """A before_send hook: it sees every response, the router's own 404s and 405s included."""
    values = header_values(production=production)

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start":
            headers = MutableScopeHeaders.from_message(message)
            for name, value in values:
                if name not in headers:
                    headers[name] = value

    return add_headers
