"""One way to answer with a page or its htmx fragment, and flash messages."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from itsdangerous import BadData, URLSafeSerializer
from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

if TYPE_CHECKING:
    from litestar.types import BeforeMessageSendHookHandler, Message, Scope


def render(
    request: Request[Any, Any, Any],
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Template:
    """The full page, or, for an htmx request that names a block, just that block."""
    context = dict(context or {})
    context.setdefault("flashes", pop_flashes(request))
    if block is not None and request.headers.get("hx-request") == "true":
        return HTMXBlockTemplate(
            template_name=template,
            block_name=block,
            context=context,
            status_code=status_code,
            headers=headers,
        )
    return Template(
        template_name=template, context=context, status_code=status_code, headers=headers
    )


def redirect(request: Request[Any, Any, Any], url: str) -> Redirect | ClientRedirect:
    if request.headers.get("hx-request") == "true":
        return ClientRedirect(url)
    return Redirect(url, status_code=303)


# Flash messages travel in a signed cookie of their own, not in the session: a form that says
# «done» and the page that shows it then write nothing to the session store.
FLASH_COOKIE = "zayavka_flash"
MAX_FLASHES = 5
_PENDING = "zayavka.flashes"  # the request's messages as they will leave, once touched


def flash(request: Request[Any, Any, Any], message: str, kind: str = "success") -> None:
    messages = _messages(request)
    messages.append({"kind": kind, "text": str(message)})
    del messages[:-MAX_FLASHES]


def pop_flashes(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    messages = _messages(request)
    shown = list(messages)
    messages.clear()
    return shown


def _messages(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    scope = cast("dict[str, Any]", request.scope)
    if _PENDING not in scope:
        secret = request.app.state["settings"].secret_key
        scope[_PENDING] = _decode(request.cookies.get(FLASH_COOKIE, ""), secret)
        scope[_PENDING + ".sent"] = bool(scope[_PENDING])
    return cast("list[dict[str, str]]", scope[_PENDING])


def _signer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt="zayavka.flash")


def _encode(messages: list[dict[str, str]], secret: str) -> str:
    return _signer(secret).dumps(messages)


def _decode(value: str, secret: str) -> list[dict[str, str]]:
    if not value:
        return []
    try:
        messages = _signer(secret).loads(value)
    except BadData:
        return []
    return (
        [
            {"kind": str(m.get("kind", "")), "text": str(m.get("text", ""))}
            for m in messages[-MAX_FLASHES:]
            if isinstance(m, dict)
        ]
        if isinstance(messages, list)
        else []
    )


def flash_cookie(*, secret: str, secure: bool) -> BeforeMessageSendHookHandler:
    """A before_send hook: sends the flash cookie of a request whose messages changed."""

    async def send_flashes(message: Message, scope: Scope) -> None:
        extras = cast("dict[str, Any]", scope)
        if message["type"] != "http.response.start" or _PENDING not in extras:
            return
        messages = extras[_PENDING]
        if not messages and not extras.get(_PENDING + ".sent"):
            return
        cookie = Cookie(
            key=FLASH_COOKIE,
            value=_encode(messages, secret) if messages else "",
            max_age=None if messages else 0,
            path="/",
            httponly=True,
            secure=secure,
            samesite="lax",
        )
        MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))

    return send_flashes


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/open311/")) or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )
