"""House numbers sort as people count them, not as strings."""

from __future__ import annotations

import random

from server.catalog.buildings import house_order


def test_house_numbers_sort_naturally_whatever_order_they_come_in() -> None:
    natural = ["2", "5", "5А", "5Б", "5к1", "5 корп. 2", "5стр1", "5/2", "15", "50", "б/н"]
    shuffled = random.Random(7).sample(natural, len(natural))
    assert sorted(shuffled, key=house_order) == natural


def test_a_block_number_counts_as_a_number() -> None:
    assert sorted(["5к10", "5к2"], key=house_order) == ["5к2", "5к10"]
