"""How typed-in settings values are read: one line of text, numbers with a decimal comma, ranges,
ids picked from a list.

Each check adds a Russian message under the field's name to `errors` instead of raising, so a
form reports every mistake at once.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from server.i18n import gettext as _
from server.shared.errors import InvalidInput
from server.shared.forms import DB_INT_MAX, Form

N = TypeVar("N", int, float)


def picked(message: Any) -> msgspec.Meta:
    """For `Annotated[int, picked(...)]`: an id chosen from a list, and what to say (a lazy
    message) when what came is none."""
    return msgspec.Meta(ge=1, le=DB_INT_MAX, extra={"error": message})


def one_line(text: str) -> str:
    """Inner runs of blanks folded to one space, as names and addresses are compared."""
    return " ".join(text.split())


def line(
    text: str,
    name: str,
    errors: dict[str, str],
    longest: int,
    too_long: str,
    missing: str | None = None,
) -> str:
    """One line of text no longer than `longest`; required when there is a `missing` message."""
    value = one_line(text)
    if not value and missing is not None:
        errors[name] = missing
    elif len(value) > longest:
        errors[name] = too_long
    return value


def other_languages(form: Any, longest: dict[str, int], errors: dict[str, str]) -> dict[str, str]:
    """Optional names in Tatar and English, by field: empty shows the Russian name."""
    return {
        field: line(
            getattr(form, field), field, errors, limit, _("Не длиннее %(n)s знаков.", n=limit)
        )
        for field, limit in longest.items()
    }


class NamedForm(Form):
    """The fields of something named in Russian, and optionally in Tatar and English."""

    name: str = ""
    name_tt: str = ""
    name_en: str = ""


def names(
    form: NamedForm, missing: str, longest: dict[str, int], errors: dict[str, str]
) -> dict[str, str]:
    """The name, required and at most 200 characters, and its optional Tatar and English forms."""
    name = line(form.name, "name", errors, 200, _("Название — не длиннее 200 знаков."), missing)
    return {"name": name, **other_languages(form, longest, errors)}


def checked(values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """A form's cleaned values, or InvalidInput with everything found wrong in it at once."""
    if errors:
        raise InvalidInput(**errors)
    return values


def in_range(value: N | None, name: str, errors: dict[str, str], lo: N, hi: N) -> N | None:
    if value is not None and not lo <= value <= hi:
        errors[name] = _("Число от %(lo)s до %(hi)s.", lo=lo, hi=hi)
        return None
    return value


def decimal(
    text: str, name: str, errors: dict[str, str], not_a_number: str | None = None
) -> float | None:
    """A number typed with a point or a comma («55,2991»), or None when left empty."""
    text = text.strip().replace(",", ".")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        errors[name] = not_a_number or _("Введите число, например 55.3012.")
        return None
