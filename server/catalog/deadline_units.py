"""A category's deadline in minutes, typed and shown in the units people use: мин, ч, сут."""

from __future__ import annotations

from server.catalog.values import decimal
from server.i18n import gettext as _

# Units a deadline is typed in, and how many minutes each holds.
DEADLINE_UNITS = {"min": 1, "hour": 60, "day": 24 * 60}
MAX_DEADLINE_MINUTES = 366 * 24 * 60


def human_minutes(minutes: int | None) -> str:
    """A deadline as people say it: «30 мин», «2 ч», «1 сут», «1 ч 30 мин»."""
    if minutes is None:
        return ""
    if minutes % (24 * 60) == 0:
        return _("%(n)s сут", n=minutes // (24 * 60))
    if minutes >= 24 * 60:
        days, rest = divmod(minutes, 24 * 60)
        return _("%(d)s сут", d=days) + " " + human_minutes(rest)
    if minutes % 60 == 0:
        return _("%(n)s ч", n=minutes // 60)
    if minutes > 60:
        return _("%(h)s ч %(m)s мин", h=minutes // 60, m=minutes % 60)
    return _("%(n)s мин", n=minutes)


def split_minutes(minutes: int | None) -> tuple[str, str]:
    """The largest whole unit for a form: 2880 → ("2", "day"), 90 → ("90", "min")."""
    if minutes is None:
        return "", "day"
    for unit in ("day", "hour"):
        if minutes % DEADLINE_UNITS[unit] == 0:
            return str(minutes // DEADLINE_UNITS[unit]), unit
    return str(minutes), "min"


def unit_choices() -> list[tuple[str, str]]:
    return [("min", _("мин")), ("hour", _("ч")), ("day", _("сут"))]


def deadline_minutes(
    value: str, unit: str, name: str, errors: dict[str, str], *, required: bool
) -> int | None:
    """Minutes from «1,5» and «hour»; a message under `name` when they make no deadline."""
    if not value.strip():
        if required:
            errors[name] = _("Укажите срок.")
        return None
    factor = DEADLINE_UNITS.get(unit)
    if factor is None:
        errors[name] = _("Выберите единицу срока.")
        return None
    amount = decimal(value, name, errors, _("Срок — число, например 30 или 1,5."))
    if amount is None:
        return None
    minutes = round(amount * factor)
    if minutes < 1 or minutes > MAX_DEADLINE_MINUTES:
        errors[name] = _("Срок — от 1 минуты до 366 суток.")
        return None
    return minutes
