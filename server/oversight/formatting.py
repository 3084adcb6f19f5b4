"""How figures read on the pages: durations, shares and ratings as text.

Figures stay numbers until they reach a template (or the export's sheet), so the figures cache
holds nothing in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from server.i18n import decimal, percent
from server.i18n import gettext as _
from server.oversight.figures import Row


def format_duration(seconds: float | None) -> str:
    """«2 ч 05 мин», «3 дн 4 ч», «45 мин»; a dash when there is nothing to show."""
    if seconds is None:
        return "—"
    minutes = max(0, round(seconds / 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s дн %(h)s ч", d=days, h=hours)
    if hours:
        return _("%(h)s ч %(m)02d мин", h=hours, m=mins)
    return _("%(m)s мин", m=mins)


def format_share(value: float | None) -> str:
    return "—" if value is None else percent(value)


def format_rating(value: float | None) -> str:
    return "—" if value is None else decimal(value)


def row_name(row: Row) -> str:
    """A breakdown row's name; the row without one holds the requests awaiting triage."""
    return row.shown_name or _("Ожидают разбора в администрации")


def template_helpers() -> dict[str, Callable[..., Any]]:
    """What the figures' templates call to show them."""
    return {
        "duration": format_duration,
        "share": format_share,
        "rating": format_rating,
        "row_name": row_name,
    }
