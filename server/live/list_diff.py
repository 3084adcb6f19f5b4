"""How a live list follows the database: which rows to pin on top, and the fewest row
operations that turn what a page shows into what it should show. Pure: ids and hashes in,
ids out; `views.lists` renders the operations as htmx swaps."""

from __future__ import annotations

from collections.abc import Container, Mapping
from dataclasses import dataclass

MAX_ROW_OPS = 40  # beyond this many row changes, sending the whole list is simpler


@dataclass(frozen=True)
class RowPatch:
    removed: list[int]  # rows no longer in the list
    replaced: list[int]  # changed rows, replaced where they stand (the order holds)
    lifted: list[int]  # changed rows that move: taken out first…
    # …then each put before its successor (None: at the end of the list), in this order, so
    # that every successor already stands where it belongs.
    placed: list[tuple[int, int | None]]


def pinned_order(
    pinned: list[int],
    rows: list[tuple[int, bool]],
    shown: Container[int],
    *,
    pin_arrivals: bool,
) -> tuple[list[int], list[int]]:
    """(rows pinned on top, the whole order) for `rows` as (id, is new) in the list's order.

    A new row that arrives while the page is open (`pin_arrivals`, not in `shown`) joins the
    pinned rows on top; a pinned row stays there while it is new and listed."""
    new = {rid for rid, is_new in rows if is_new}
    pinned = list(pinned)
    if pin_arrivals:
        for rid, _is_new in rows:
            if rid in new and rid not in shown and rid not in pinned:
                pinned.insert(0, rid)
    pinned = [rid for rid in pinned if rid in new]
    on_top = set(pinned)
    return pinned, pinned + [rid for rid, _is_new in rows if rid not in on_top]


def diff_rows(
    before: list[int],
    before_hashes: Mapping[int, int],
    desired: list[int],
    hashes: Mapping[int, int],
    *,
    limit: int = MAX_ROW_OPS,
) -> RowPatch | None:
    """The operations from `before` to `desired`, or None when the whole list is simpler: too
    many changes, or rows that did not change would have to move."""
    removed = [rid for rid in before if rid not in hashes]
    changed = [rid for rid in desired if before_hashes.get(rid) != hashes[rid]]
    if len(removed) + len(changed) > limit:
        return None
    kept = [rid for rid in before if rid in hashes]
    if kept == desired:
        return RowPatch(removed=removed, replaced=changed, lifted=[], placed=[])
    changed_set = set(changed)
    stable_now = [rid for rid in desired if rid not in changed_set]
    stable_before = [rid for rid in kept if rid not in changed_set]
    if stable_now != stable_before:
        return None
    placed: list[tuple[int, int | None]] = []
    for index in range(len(desired) - 1, -1, -1):
        rid = desired[index]
        if rid in changed_set:
            placed.append((rid, desired[index + 1] if index + 1 < len(desired) else None))
    return RowPatch(
        removed=removed,
        replaced=[],
        lifted=[rid for rid in changed if rid in before_hashes],
        placed=placed,
    )
