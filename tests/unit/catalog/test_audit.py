"""What the audit log keeps of a change: the fields that differ, before and after."""

from __future__ import annotations

from server.catalog.audit import changed_fields
from server.shared.roles import OrgKind


def test_only_the_fields_that_differ_are_kept_with_old_and_new_value() -> None:
    before = {"name": "УК Заря", "phone": "+78555831245", "floors": 5, "email": None}
    after = {"name": "УК Рассвет", "phone": "+78555831245", "floors": 9, "email": None}
    assert changed_fields(before, after) == {"name": ["УК Заря", "УК Рассвет"], "floors": [5, 9]}


def test_a_new_record_lists_every_value_it_was_made_with_except_the_empty_ones() -> None:
    made = {"street": "улица Мира", "house": "5", "flats": None, "active": True}
    assert changed_fields({}, made) == {
        "street": [None, "улица Мира"],
        "house": [None, "5"],
        "active": [None, True],
    }


def test_nothing_differs_means_no_changes() -> None:
    same = {"name": "Протечка", "deadline_minutes": 30}
    assert changed_fields(same, dict(same)) == {}


def test_a_password_or_its_hash_is_never_kept_even_when_handed_over() -> None:
    changes = changed_fields(
        {"password_hash": "$argon2id$old"},
        {"password": "birch-lake-42", "password_hash": "$argon2id$new", "login": "disp9"},
    )
    assert changes == {"login": [None, "disp9"]}


def test_enum_values_are_kept_as_their_plain_value() -> None:
    changes = changed_fields({"kind": "uk"}, {"kind": OrgKind.TSJ})
    assert changes == {"kind": ["uk", "tsj"]}
    assert type(changes["kind"][1]) is str
