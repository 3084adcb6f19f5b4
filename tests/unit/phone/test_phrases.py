"""The voice menu's phrases: numbers, times and dates in Russian words, over tables of cases."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from server.phone.numerals import cardinal, day_of_month, plural, relative_day, until_time
from server.phone.phrases import caller_phrase, keyed_number, request_phrase, spoken_number
from server.requests.deadlines import TOWN_TZ
from server.requests.workflow import State

CARDINALS = [
    (0, "ноль"),
    (1, "один"),
    (2, "два"),
    (5, "пять"),
    (11, "одиннадцать"),
    (12, "двенадцать"),
    (14, "четырнадцать"),
    (21, "двадцать один"),
    (40, "сорок"),
    (100, "сто"),
    (111, "сто одиннадцать"),
    (123, "сто двадцать три"),
    (999, "девятьсот девяносто девять"),
    (1000, "одна тысяча"),
    (1001, "одна тысяча один"),
    (2000, "две тысячи"),
    (2026, "две тысячи двадцать шесть"),
    (5000, "пять тысяч"),
    (11000, "одиннадцать тысяч"),
    (21000, "двадцать одна тысяча"),
    (1_000_000, "один миллион"),
    (2_500_000, "два миллиона пятьсот тысяч"),
]


@pytest.mark.parametrize(("n", "words"), CARDINALS)
def test_cardinal(n: int, words: str) -> None:
    assert cardinal(n) == words


@pytest.mark.parametrize(
    ("n", "words"), [(1, "одна"), (2, "две"), (3, "три"), (22, "двадцать две")]
)
def test_feminine_cardinal(n: int, words: str) -> None:
    assert cardinal(n, feminine=True) == words


@pytest.mark.parametrize(
    ("n", "form"), [(1, "заявка"), (2, "заявки"), (5, "заявок"), (11, "заявок"), (21, "заявка")]
)
def test_plural(n: int, form: str) -> None:
    assert plural(n, ("заявка", "заявки", "заявок")) == form


@pytest.mark.parametrize(
    ("number", "words"),
    [
        ("2026-000123", "сто двадцать три"),
        ("2026-000001", "один"),
        ("2026-001000", "одна тысяча"),
        ("2027-000021", "двадцать один"),
        ("2026-100000", "сто тысяч"),
    ],
)
def test_request_number_is_read_by_its_tail(number: str, words: str) -> None:
    assert spoken_number(number) == words


@pytest.mark.parametrize(
    ("typed", "parsed"),
    [
        ("123", (None, 123)),
        ("2026000123", ("2026-000123", None)),
        ("2026-000123", ("2026-000123", None)),
        ("#", (None, None)),
        ("1" * 13, (None, None)),
    ],
)
def test_keyed_number(typed: str, parsed: tuple[str | None, int | None]) -> None:
    assert keyed_number(typed) == parsed


@pytest.mark.parametrize(
    ("hour", "minute", "words"),
    [
        (12, 0, "до двенадцати"),
        (18, 30, "до восемнадцати тридцати"),
        (9, 5, "до девяти ноль пяти"),
        (0, 0, "до полуночи"),
        (1, 0, "до часу"),
        (2, 0, "до двух"),
        (21, 41, "до двадцати одного сорока одного"),
        (13, 15, "до тринадцати пятнадцати"),
        (23, 59, "до двадцати трёх пятидесяти девяти"),
    ],
)
def test_until_time(hour: int, minute: int, words: str) -> None:
    assert until_time(time(hour, minute)) == words


@pytest.mark.parametrize(
    ("day", "words"),
    [
        (date(2026, 12, 3), "третьего декабря"),
        (date(2026, 1, 1), "первого января"),
        (date(2026, 5, 21), "двадцать первого мая"),
        (date(2026, 3, 8), "восьмого марта"),
        (date(2026, 8, 30), "тридцатого августа"),
        (date(2026, 10, 31), "тридцать первого октября"),
    ],
)
def test_day_of_month(day: date, words: str) -> None:
    assert day_of_month(day) == words


def test_relative_day() -> None:
    today = date(2026, 12, 3)
    assert relative_day(today, today) == "сегодня"
    assert relative_day(date(2026, 12, 4), today) == "завтра"
    assert relative_day(date(2026, 12, 5), today) == "пятого декабря"
    assert relative_day(date(2027, 1, 1), date(2026, 12, 31)) == "завтра"


NOW = datetime(2026, 12, 3, 10, 15, tzinfo=TOWN_TZ)


@pytest.mark.parametrize(
    ("state", "due", "phrase"),
    [
        (
            State.ASSIGNED,
            datetime(2026, 12, 4, 12, 0, tzinfo=TOWN_TZ),
            "Заявка номер сто двадцать три: назначен подрядчик, срок — завтра до двенадцати.",
        ),
        (
            State.NEW,
            datetime(2026, 12, 3, 18, 30, tzinfo=TOWN_TZ),
            "Заявка номер сто двадцать три: принята, исполнитель ещё не назначен, "
            "срок — сегодня до восемнадцати тридцати.",
        ),
        (
            State.IN_PROGRESS,
            datetime(2026, 12, 7, 9, 0, tzinfo=TOWN_TZ),
            "Заявка номер сто двадцать три: работы идут, срок — седьмого декабря до девяти.",
        ),
        (
            State.REWORK,
            datetime(2026, 12, 2, 9, 0, tzinfo=TOWN_TZ),
            "Заявка номер сто двадцать три: возвращена на доработку, срок истёк.",
        ),
        (
            State.DONE,
            datetime(2026, 12, 2, 9, 0, tzinfo=TOWN_TZ),
            "Заявка номер сто двадцать три: работы выполнены, идёт проверка.",
        ),
        (State.CLOSED, NOW, "Заявка номер сто двадцать три: закрыта."),
    ],
)
def test_request_phrase(state: State, due: datetime, phrase: str) -> None:
    assert request_phrase("2026-000123", state, due, NOW) == phrase


def test_deadline_is_read_in_town_time_whatever_zone_it_is_stored_in() -> None:
    from datetime import UTC

    due = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
    assert request_phrase("2026-000005", State.ASSIGNED, due, NOW).endswith(
        "срок — завтра до двенадцати."
    )


def test_caller_phrase_counts_the_open_requests() -> None:
    due = datetime(2026, 12, 4, 12, 0, tzinfo=TOWN_TZ)
    assert caller_phrase([], NOW) == "По вашему номеру открытых заявок нет."
    two = [("2026-000124", State.NEW, due), ("2026-000123", State.ASSIGNED, due)]
    spoken = caller_phrase(two, NOW)
    assert spoken.startswith("Открытых заявок: две. Заявка номер сто двадцать четыре: принята")
    assert "Заявка номер сто двадцать три: назначен подрядчик" in spoken
