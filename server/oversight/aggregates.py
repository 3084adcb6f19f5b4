"""Two SQL expressions that PostgreSQL and SQLite spell differently, as Core constructs.

- `seconds_between(later, earlier)`: the seconds from one moment to another, to the microsecond.
- `value_list(expr)`: an aggregate, every value of the group as one list (a PostgreSQL array,
  a SQLite JSON array), read back as a Python list in ascending order.

With these the figures' queries are written once and the durations of a whole year come back
as a few hundred lists (one per cell) instead of one row per request.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Float, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator


class seconds_between(FunctionElement[float]):
    type = Float()
    inherit_cache = True


@compiles(seconds_between)
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)
    # date_part (double precision) rather than extract (numeric since PostgreSQL 14).
    return f"date_part('epoch', {later} - {earlier})"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(clause, **kw) for clause in element.clauses)

    # Stored as «YYYY-MM-DD HH:MM:SS.ffffff». SQLite's own parsing keeps milliseconds only (and
    # rounds them), so the whole seconds come from the text before the point and the
    # microseconds from the text after it; one division at the end makes the value equal to
    # Python's timedelta.total_seconds().
    def micros(moment: str) -> str:
        return (
            f"(CAST(strftime('%s', substr({moment}, 1, 19)) AS INTEGER) * 1000000"
            f" + CAST(substr({moment}, 21, 6) AS INTEGER))"
        )

    return f"(({micros(later)} - {micros(earlier)}) / 1000000.0)"


class SortedFloats(TypeDecorator[list[float]]):
    """A list of numbers, sorted on the way out of the database."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> list[float]:
        if value is None:
            return []
        values = json.loads(value) if isinstance(value, str) else list(value)
        values.sort()
        return values


class value_list(FunctionElement[list[float]]):
    type = SortedFloats()
    inherit_cache = True


@compiles(value_list)
def _list_postgresql(element: value_list, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"array_agg({value})"


@compiles(value_list, "sqlite")
def _list_sqlite(element: value_list, compiler: SQLCompiler, **kw: Any) -> str:
    (value,) = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"json_group_array({value})"
