"""JSON and XML bodies from the same ordered dicts (the Spark convention of the spec), and the
format named by the extension of the last path segment."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import msgspec

from server.i18n import gettext as _
from server.integrations.open311.errors import Open311Error, bad_request, format_missing_text
from server.integrations.open311.schemas import Answer, ErrorItem

FORMATS = ("json", "xml")
# Litestar adds «; charset=utf-8» to text/* types itself.
MEDIA = {"json": "application/json; charset=utf-8", "xml": "text/xml"}
# The element of each member of a list, by the list's name.
ITEM_NAMES = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "errors": "error",
}

Item = dict[str, Any]


def split_format(name: str) -> tuple[str, str]:
    """«services.json» → («services», «json»); an unknown format is a bad request."""
    stem, dot, fmt = name.rpartition(".")
    if not dot or not stem:
        raise bad_request(format_missing_text())
    if fmt.lower() not in FORMATS:
        raise bad_request(
            _("Формат «%(fmt)s» не поддерживается: используйте .json или .xml.", fmt=fmt)
        )
    return stem, fmt.lower()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _append(parent: ET.Element, name: str, value: Any) -> None:
    node = ET.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _append(node, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _append(node, ITEM_NAMES.get(name, "item"), inner)
    else:
        node.text = _text(value)


def to_xml(root: str, value: list[Item] | Item) -> bytes:
    """`<root><item>…</item></root>` for a list, `<root>…</root>` for a single object."""
    element = ET.Element(root)
    if isinstance(value, list):
        for entry in value:
            _append(element, ITEM_NAMES.get(root, "item"), entry)
    else:
        for key, inner in value.items():
            _append(element, key, inner)
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n'
        + ET.tostring(element, encoding="unicode").encode()
    )


def body(fmt: str, value: Answer, root: str) -> bytes:
    plain = msgspec.to_builtins(value)
    if fmt == "json":
        return json.dumps(plain, ensure_ascii=False).encode()
    return to_xml(root, plain)


def error_body(error: Open311Error, fmt: str) -> bytes:
    return body(fmt, [ErrorItem(code=error.code, description=error.description)], "errors")
