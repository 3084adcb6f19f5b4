"""The figures pages read their query string as a typed form; nonsense shows the defaults."""

from __future__ import annotations

from datetime import date

from server.oversight.filters import FiguresQuery, query_of
from server.oversight.periods import Period, Scope


def test_a_range_of_days_and_a_scope_are_read() -> None:
    query = FiguresQuery.of(
        {"period": "custom", "from": "2026-03-01", "to": "2026-03-19", "org": "7", "category": "3"}
    )
    assert query.chosen_period(default=30) == Period.of_dates(date(2026, 3, 1), date(2026, 3, 19))
    assert query.scope == Scope(organisation_id=7, category_id=3)


def test_unreadable_values_fall_back_to_the_defaults() -> None:
    query = FiguresQuery.of({"period": "²", "from": "nope", "org": "x", "category": "-4"})
    assert query.chosen_period(default=90).days == 90
    assert query.scope == Scope()
    # Control characters make the whole query unreadable: the defaults, not an error page.
    assert FiguresQuery.of({"org": "1\x00"}) == FiguresQuery()


def test_the_query_string_shows_the_same_figures_again() -> None:
    period = Period.of_dates(date(2026, 3, 1), date(2026, 3, 19))
    scope = Scope(organisation_id=7)
    again = FiguresQuery.of(dict(pair.split("=") for pair in query_of(period, scope).split("&")))
    assert (again.chosen_period(default=30), again.scope) == (period, scope)
    assert query_of(Period.last_days(30)) == "period=30"
