"""The pure list diff: what a live list sends to turn one order of rows into another."""

from __future__ import annotations

import random

from server.live.list_diff import RowPatch, diff_rows, pinned_order


def apply(before: list[int], patch: RowPatch) -> list[int]:
    """What the page shows after the swaps, as htmx would perform them."""
    shown = [rid for rid in before if rid not in patch.removed and rid not in patch.lifted]
    for rid, successor in patch.placed:
        if rid in shown:
            shown.remove(rid)
        shown.insert(len(shown) if successor is None else shown.index(successor), rid)
    return shown


def test_unchanged_list_needs_no_operation() -> None:
    hashes = {1: 10, 2: 20}
    patch = diff_rows([1, 2], hashes, [1, 2], hashes)
    assert patch == RowPatch(removed=[], replaced=[], lifted=[], placed=[])


def test_changed_row_in_place_is_replaced_where_it_stands() -> None:
    patch = diff_rows([1, 2, 3], {1: 1, 2: 2, 3: 3}, [1, 2, 3], {1: 1, 2: 22, 3: 3})
    assert patch is not None and patch.replaced == [2] and not patch.placed


def test_gone_row_is_removed_and_new_row_placed_before_its_successor() -> None:
    patch = diff_rows([1, 2, 3], {1: 1, 2: 2, 3: 3}, [1, 4, 3], {1: 1, 4: 4, 3: 3})
    assert patch is not None
    assert patch.removed == [2] and patch.placed == [(4, 3)] and patch.lifted == []
    assert apply([1, 2, 3], patch) == [1, 4, 3]


def test_changed_row_that_moves_is_lifted_then_placed() -> None:
    patch = diff_rows([1, 2, 3], {1: 1, 2: 2, 3: 3}, [2, 1, 3], {1: 1, 2: 22, 3: 3})
    assert patch is not None and patch.lifted == [2] and patch.placed == [(2, 1)]


def test_unchanged_rows_changing_order_need_the_whole_list() -> None:
    assert diff_rows([1, 2], {1: 1, 2: 2}, [2, 1], {1: 1, 2: 2}) is None


def test_too_many_changes_need_the_whole_list() -> None:
    before = list(range(10))
    hashes = {rid: rid for rid in before}
    assert diff_rows(before, hashes, before, {rid: -rid - 1 for rid in before}, limit=5) is None


def test_any_patch_turns_the_old_order_into_the_new() -> None:
    rng = random.Random(7)
    for _round in range(500):
        before = rng.sample(range(30), rng.randint(1, 12))
        before_hashes = {rid: rid for rid in before}
        desired = rng.sample(range(30), rng.randint(1, 12))
        hashes = {rid: rid if rng.random() < 0.7 else rid + 100 for rid in desired}
        patch = diff_rows(before, before_hashes, desired, hashes)
        if patch is not None:
            assert apply(before, patch) == desired, (before, desired, patch)


def test_new_rows_arriving_while_watched_are_pinned_on_top() -> None:
    pinned, order = pinned_order([], [(1, False), (2, True), (3, True)], {1, 3}, pin_arrivals=True)
    assert pinned == [2] and order == [2, 1, 3]


def test_pinned_row_leaves_the_top_once_no_longer_new() -> None:
    pinned, order = pinned_order([2], [(1, False), (2, False)], {1, 2}, pin_arrivals=True)
    assert pinned == [] and order == [1, 2]


def test_without_pinning_rows_keep_the_list_order() -> None:
    pinned, order = pinned_order([], [(1, False), (2, True)], set(), pin_arrivals=False)
    assert pinned == [] and order == [1, 2]
