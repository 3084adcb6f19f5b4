"""Lighthouse 12 on the resident's start page: no failing best-practice or phone audit.

Needs `lighthouse@12.2.3` installed outside the repository (`make test-browser` installs it, see
docs/lighthouse.md); without it the test fails, since a skipped audit would pass unseen.
One page takes about 20 s.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.browser.lighthouse import LIGHTHOUSE, PWA_AUDITS, audit, session_cookie, summary


def test_lighthouse_finds_nothing_wrong_on_the_residents_start_page(
    server: str, tmp_path: Path
) -> None:
    if not LIGHTHOUSE.exists():
        pytest.fail("Lighthouse is missing: `make test-browser` installs it into /tmp/lh")
    report = audit(server + "/requests", session_cookie(server, "resident"), tmp_path / "lh.json")
    assert report["finalDisplayedUrl"] == server + "/requests", "audited signed in"
    result = summary(report)
    assert result["scores"]["best-practices"] == 100, result
    assert result["scores"]["accessibility"] >= 95, result
    assert result["scores"]["seo"] >= 90, result
    checked = {name: score for name, score in result["pwa_audits"].items() if name in PWA_AUDITS}
    assert {"viewport", "errors-in-console", "deprecations", "inspector-issues"} <= set(checked)
    assert all(score == 1 for score in checked.values()), checked
