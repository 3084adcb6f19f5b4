"""Fragments for live pages, rendered from the same templates (and blocks) as the pages.

A live message is a string of top-level elements that the htmx `ws` extension swaps out of
band. Fragments are rendered once per audience and the same bytes go to every page of it, so
they carry no secret of one browser: their forms' CSRF field is empty, and the page fills it in
from its own token when a form is sent (web/static/js/app.js; htmx sends the token as a header
from the page's `hx-headers`).
"""

from __future__ import annotations

import html
import json
from typing import Any

from jinja2 import Environment
from jinja2_fragments import render_block

CSRF_INPUT = '<input type="hidden" name="_csrf_token" value="" />'


class Renderer:
    def __init__(self, env: Environment) -> None:
        self.env = env

    def block(self, template: str, block: str, context: dict[str, Any]) -> str:
        return render_block(self.env, template, block, **context).strip()

    def template(self, name: str, context: dict[str, Any]) -> str:
        return self.env.get_template(name).render(**context).strip()


def oob(fragment: str, element_id: str, swap: str = "true") -> str:
    """Mark the element carrying `id="element_id"` for an out-of-band swap."""
    marker = f'id="{element_id}"'
    if marker not in fragment:
        return ""
    return fragment.replace(marker, f'{marker} hx-swap-oob="{swap}"', 1)


def wrap_oob(swap: str, fragment: str) -> str:
    """Insert `fragment` relative to a target, e.g. swap="beforebegin:#row-7"."""
    return f'<div hx-swap-oob="{html.escape(swap)}">{fragment}</div>'


def delete_oob(element_id: str) -> str:
    return f'<div id="{element_id}" hx-swap-oob="delete"></div>'


def control(kind: str, **data: Any) -> str:
    """A message for web/static/js/live.js rather than for htmx (it starts with "{")."""
    return json.dumps({"type": kind, **data}, ensure_ascii=False, separators=(",", ":"))
