"""The installable app: the manifest, the service worker at the root, and the offline page."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.response import Template

from server.i18n import current_locale
from server.i18n import gettext as _
from server.settings import ROOT

WEB = ROOT / "web"
SERVICE_WORKER = ROOT / "service_worker"
SW_FILE = SERVICE_WORKER / "sw.js"
FIELD_SYNC_FILE = SERVICE_WORKER / "field_sync.js"  # field mode's offline completion queue
MANIFEST_FILE = WEB / "manifest.webmanifest"
OFFLINE_URL = "/offline"

# The app shell: what a page needs to look right, precached by the service worker. Only the
# files that exist are listed, so a missing optional file cannot break the worker's install.
SHELL_STATIC = [
    "css/app.css",
    "css/live.css",
    "vendor/htmx.min.js",
    "vendor/ws.min.js",
    "js/app.js",
    "js/live.js",
    "js/push.js",
    "js/field.js",
    "js/offline-queue.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/badge-72.png",
    "icons/apple-touch-icon.png",
    "icons/favicon.svg",
]
# Files whose change must make browsers fetch a new shell (hashed into the worker's version).
_VERSIONED_TEMPLATES = ["offline.html", "base.html"]

NO_CACHE = {"Cache-Control": "no-cache"}
_SHELL_BLOCK = re.compile(r"// <shell>.*?// </shell>", re.S)
_VERSION_LINE = re.compile(r'^const VERSION = "[^"]*";$', re.M)
_MESSAGES_BLOCK = re.compile(r"// <messages>.*?// </messages>", re.S)


def worker_messages() -> dict[str, str]:
    """What the service worker itself says, in the current language."""
    return {
        "lang": current_locale(),
        "title": _("Заявка ЖКХ"),
        "offline": _("Нет связи с интернетом. Обновите страницу, когда связь появится."),
        "savedCopy": _(
            "Нет связи: показана сохранённая копия страницы. Обновите её, когда связь появится."
        ),
    }


class _Built:
    """The worker script with its shell list, messages and version filled in, one per language,
    rebuilt when a file it depends on changes (so a deploy, or an edit in development, updates
    browsers)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stamp: tuple[float, ...] | None = None
        self._scripts: dict[str, bytes] = {}

    def _inputs(self) -> list[Path]:
        files = [SW_FILE, FIELD_SYNC_FILE, MANIFEST_FILE]
        files += [WEB / "static" / name for name in SHELL_STATIC]
        files += [WEB / "templates" / name for name in _VERSIONED_TEMPLATES]
        return files

    def script(self) -> bytes:
        inputs = self._inputs()
        stamp = tuple(p.stat().st_mtime if p.exists() else -1.0 for p in inputs)
        locale = current_locale()
        with self._lock:
            if stamp != self._stamp:
                self._scripts.clear()
                self._stamp = stamp
            if locale not in self._scripts:
                self._scripts[locale] = self._build(inputs, locale)
            return self._scripts[locale]

    def _build(self, inputs: list[Path], locale: str) -> bytes:
        digest = hashlib.sha256(locale.encode())
        for path in inputs:
            digest.update(path.name.encode())
            if path.exists():
                digest.update(path.read_bytes())
        version = digest.hexdigest()[:12]
        shell = [OFFLINE_URL, "/manifest.webmanifest"] + [
            f"/static/{name}" for name in SHELL_STATIC if (WEB / "static" / name).exists()
        ]
        source = SW_FILE.read_text(encoding="utf-8")
        block = "// <shell>\nconst SHELL = " + json.dumps(shell, indent=2) + ";\n// </shell>"
        source = _SHELL_BLOCK.sub(lambda _m: block, source, count=1)
        source = _VERSION_LINE.sub(f'const VERSION = "{version}";', source, count=1)
        messages = json.dumps(worker_messages(), ensure_ascii=False, indent=2)
        block = "// <messages>\nconst MESSAGES = " + messages + ";\n// </messages>"
        source = _MESSAGES_BLOCK.sub(lambda _m: block, source, count=1)
        return source.encode("utf-8")


_built = _Built()


@get("/sw.js", include_in_schema=False, sync_to_thread=False)
def service_worker() -> Response[bytes]:
    # At the root so that its scope is the whole site; never served stale, so fixes reach
    # every phone on the next visit.
    return Response(
        _built.script(),
        media_type="text/javascript; charset=utf-8",
        # In the reader's language: a cache between browser and server must keep them apart.
        headers={**NO_CACHE, "Service-Worker-Allowed": "/", "Vary": "Cookie"},
    )


@get("/sw-field-sync.js", include_in_schema=False, sync_to_thread=False)
def field_sync() -> Response[bytes]:
    """Field mode's offline completion, imported by the service worker when installed."""
    body = (
        FIELD_SYNC_FILE.read_bytes()
        if FIELD_SYNC_FILE.exists()
        else b"// Field mode is not installed.\n"
    )
    return Response(body, media_type="text/javascript; charset=utf-8", headers=NO_CACHE)


@get("/manifest.webmanifest", include_in_schema=False, sync_to_thread=False)
def manifest() -> Response[bytes]:
    return Response(
        MANIFEST_FILE.read_bytes(),
        media_type="application/manifest+json; charset=utf-8",
        headers=NO_CACHE,
    )


@get(OFFLINE_URL, include_in_schema=False, name="offline")
async def offline(request: Request[Any, Any, Any]) -> Template:
    # Kept by the service worker for everyone: nothing personal on it, and no flash message
    # is taken from the session while it is precached.
    return Template("offline.html", context={"user": None, "flashes": []}, headers=NO_CACHE)


ROUTES = [service_worker, field_sync, manifest, offline]
