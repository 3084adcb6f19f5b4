"""What a figures page was asked to show: the period picker and the dashboard's filters.

Anything unreadable falls back to the defaults (the last N days, the whole town): a link
someone mistyped still shows figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from server.oversight.periods import Period, Scope, parse_period
from server.shared.errors import InvalidInput
from server.shared.forms import Form, parse_id


class FiguresQuery(Form):
    """`?period=30`, or `?period=custom&from=2026-03-01&to=2026-03-19`; `org`, `category`."""

    period: str | None = None
    first: str | None = msgspec.field(default=None, name="from")
    last: str | None = msgspec.field(default=None, name="to")
    org: str | None = None
    category: str | None = None

    @classmethod
    def of(cls, query: Mapping[str, Any]) -> FiguresQuery:
        try:
            return cls.parse(query)
        except InvalidInput:
            return cls()

    def chosen_period(self, *, default: int) -> Period:
        return parse_period(self.period, self.first, self.last, default=default)

    @property
    def scope(self) -> Scope:
        return Scope(organisation_id=parse_id(self.org), category_id=parse_id(self.category))


def query_of(period: Period, scope: Scope = Scope()) -> str:
    """The query string that shows this period and scope again."""
    if period.preset is not None:
        parts = [f"period={period.preset}"]
    else:
        parts = [f"from={period.first_day.isoformat()}", f"to={period.last_day.isoformat()}"]
    if scope.organisation_id is not None:
        parts.append(f"org={scope.organisation_id}")
    if scope.category_id is not None:
        parts.append(f"category={scope.category_id}")
    return "&".join(parts)
