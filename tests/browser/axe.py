"""axe-core, vendored (tests/browser/vendor/axe.min.js), run inside a page by Playwright."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
BLOCKING = ("critical", "serious")


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def blocking_violations(page: Any) -> list[str]:
    """The page's critical and serious axe violations, one line each (rule, impact, where).

    The script goes in through the DevTools protocol, which the page's CSP does not block."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_source())
    found = page.evaluate(
        """async () => {
          const result = await axe.run(document, {resultTypes: ["violations"]});
          return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
          }));
        }"""
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {', '.join(v['targets'])}"
        for v in found
        if v["impact"] in BLOCKING
    ]
