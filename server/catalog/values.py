"""How typed-in settings values are read: one line of text, numbers with a decimal comma, ranges.

Each check adds a Russian message under the field's name to `errors` instead of raising, so a
form reports every mistake at once.
"""

from __future__ import annotations

from typing import TypeVar

from server.i18n import gettext as _

N = TypeVar("N", int, float)


def one_line(text: str) -> str:
    """Inner runs of blanks folded to one space, as names and addresses are compared."""
    return " ".join(text.split())


def in_range(value: N | None, name: str, errors: dict[str, str], lo: N, hi: N) -> N | None:
    if value is not None and not lo <= value <= hi:
        errors[name] = _("Число от %(lo)s до %(hi)s.", lo=lo, hi=hi)
        return None
    return value


def decimal(text: str, name: str, errors: dict[str, str], lo: float, hi: float) -> float | None:
    """A number typed with a point or a comma («55,2991»), or None when left empty."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[name] = _("Введите число, например 55.3012.")
        return None
    return in_range(value, name, errors, lo, hi)
