"""Lighthouse on a running copy of the app, signed in as a resident.

    mkdir -p /tmp/lh && (cd /tmp/lh && npm i -E lighthouse@12.2.3)
    .venv/bin/python -m tests.browser.lighthouse            # prints scores and problems

Lighthouse is not part of `make test` (it needs npm and takes a while); see docs/lighthouse.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from server.db.migrate import upgrade
from server.settings import Settings
from tests.server_process import running_server
from tests.world import PASSWORD, build_world

LIGHTHOUSE = Path(os.environ.get("LIGHTHOUSE_DIR", "/tmp/lh")) / "node_modules/.bin/lighthouse"
CHROME = os.environ.get("CHROME_PATH", "/usr/bin/chromium")
CHROME_FLAGS = "--headless --no-sandbox --disable-gpu"
PAGES = ["/requests", "/requests/new", "/login"]
CATEGORIES = ["performance", "accessibility", "best-practices", "seo"]
# Audits about the installable app and its pages on a phone. Lighthouse 12 dropped the PWA
# category with themed-omnibox, maskable-icon, splash-screen, content-width, apple-touch-icon,
# installable-manifest and service-worker; the ones still there are checked, the others are
# covered by tests/browser/test_pwa.py (Chromium's own installability check).
PWA_AUDITS = [
    "themed-omnibox",
    "maskable-icon",
    "splash-screen",
    "viewport",
    "content-width",
    "apple-touch-icon",
    "installable-manifest",
    "service-worker",
    "errors-in-console",
    "valid-source-maps",
    "is-on-https",
    "redirects-http",
    "charset",
    "doctype",
    "inspector-issues",
    "deprecations",
    "font-size",
    "tap-targets",
    "image-aspect-ratio",
    "image-size-responsive",
]


SCORED = ("binary", "numeric", "metricSavings")


def session_cookie(base: str, login: str) -> str:
    with httpx.Client(base_url=base, follow_redirects=False) as client:
        client.get("/login")
        token = client.cookies["zayavka_csrf"]
        response = client.post(
            "/login",
            data={"login": login, "password": PASSWORD},
            headers={"x-csrftoken": token},
        )
        assert response.status_code == 303, response.text
        return f"zayavka_session={client.cookies['zayavka_session']}"


def audit(url: str, cookie: str | None, out: Path) -> dict[str, Any]:
    """Run Lighthouse on one page (mobile, simulated throttling) and return its JSON report."""
    command = [
        str(LIGHTHOUSE),
        url,
        "--quiet",
        "--output=json",
        f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--form-factor=mobile",
    ]
    if cookie:
        command.append("--extra-headers=" + json.dumps({"Cookie": cookie}))
    subprocess.run(command, check=True, env={**os.environ, "CHROME_PATH": CHROME}, timeout=300)
    return json.loads(out.read_text())


def summary(report: dict[str, Any]) -> dict[str, Any]:
    scores = {k: round((v.get("score") or 0) * 100) for k, v in report["categories"].items()}
    audits = report["audits"]
    pwa = {
        name: audits[name]["score"]
        for name in PWA_AUDITS
        if name in audits and audits[name].get("scoreDisplayMode") in SCORED
    }
    failing = {
        name: a["score"]
        for name, a in sorted(audits.items())
        if a.get("scoreDisplayMode") in SCORED and a.get("score") is not None and a["score"] < 0.9
    }
    return {"scores": scores, "pwa_audits": pwa, "failing": failing}


def run(pages: list[str] = PAGES) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = f"sqlite+aiosqlite:///{root / 'lh.db'}"
        upgrade(url)
        settings = Settings.from_env(
            {
                "DATABASE_URL": url,
                "SECRET_KEY": "lighthouse-secret-key-0123456789abcdef0123",
                "MEDIA_DIR": str(root / "media"),
            }
        )
        asyncio.run(build_world(settings))
        results: dict[str, Any] = {}
        with running_server(settings) as base:
            cookie = session_cookie(base, "resident")
            for index, page in enumerate(pages):
                started = time.monotonic()
                signed = None if page == "/login" else cookie
                report = audit(base + page, signed, root / f"report-{index}.json")
                results[page] = {**summary(report), "seconds": round(time.monotonic() - started)}
                results[page]["lighthouse"] = report["lighthouseVersion"]
        return results


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1:] or PAGES), ensure_ascii=False, indent=2))
