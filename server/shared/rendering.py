"""One way to answer with a page or its htmx fragment, and flash messages."""

from __future__ import annotations

from typing import Any

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

FLASH_KEY = "flash"


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


def flash(request: Request[Any, Any, Any], message: str, kind: str = "success") -> None:
    if "session" not in request.scope:
        return
    messages = list(request.session.get(FLASH_KEY, []))
    messages.append({"kind": kind, "text": str(message)})
    request.session[FLASH_KEY] = messages[-5:]


def pop_flashes(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    if "session" not in request.scope or not request.session.get(FLASH_KEY):
        return []
    messages = list(request.session.get(FLASH_KEY, []))
    request.session.pop(FLASH_KEY, None)
    return messages


def wants_json(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/open311/")) or (
        "application/json" in request.headers.get("accept", "")
        and "text/html" not in request.headers.get("accept", "")
    )
