"""Which new passwords are refused, and the reason a person is given."""

from __future__ import annotations

import pytest

from server.accounts.password_rules import password_problem

PERSON = ("gulnaz.sh", "+79171234567", "Гульназ Шарипова")


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("demo", "не короче 8"),
        ("password", "распространён"),
        ("Password", "распространён"),
        ("password2024!", "распространён"),
        ("qwerty123", "распространён"),
        ("12345678", "распространён"),
        ("iloveyou", "распространён"),
        ("gfhjkm12", "распространён"),
        ("пароль123", "распространён"),
        ("йцукенг1", "распространён"),
        ("zzzzzzzz", "повторяющихся"),
        ("abababab", "повторяющихся"),
        ("gulnaz.sh2024", "логином"),
        ("89171234567", "телефоном"),
        ("x" * 300, "не длиннее"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, reason: str) -> None:
    problem = password_problem(password, personal=PERSON)
    assert problem is not None and reason in problem


@pytest.mark.parametrize(
    "password", ["Тихий-Клён-Зайсан", "correct horse battery", "в0да-из-крана-течёт", "Zx7#kq9!Lm"]
)
def test_unusual_passwords_are_accepted(password: str) -> None:
    assert password_problem(password, personal=PERSON) is None
