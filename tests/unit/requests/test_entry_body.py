"""System notes on the timeline are worded in the reader's language, old rows included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from server import i18n
from server.db.models import TimelineEntry
from server.requests.labels import entry_body, entry_label


@pytest.fixture
def english() -> Iterator[None]:
    i18n.set_locale("en")
    yield
    i18n.set_locale("ru")


def note(kind: str, text: str = "", **data: object) -> TimelineEntry:
    return TimelineEntry(kind=kind, text=text, data=data, actor_role="system")


def test_an_old_printing_note_stored_in_russian_reads_in_english(english: None) -> None:
    old = note("print", "Заказ-наряд распечатан")
    assert entry_label(old.kind) == "Work order printed"
    assert entry_body(old) == ""


def test_a_flagged_photo_says_why_from_its_status(english: None) -> None:
    old = note(
        "qr_flagged",
        "На фото не найден QR-код заказ-наряда. Нужна проверка диспетчером.",
        status="missing",
    )
    new = note("qr_flagged", status="mismatch")
    assert entry_body(old).startswith("No work order QR code found in the photo.")
    assert entry_body(new).startswith("The photo shows the QR code of a different work order.")


def test_a_deadline_warning_names_its_moment_in_the_readers_language(english: None) -> None:
    warning = note("deadline_warning", due_at="2026-11-30T11:00:00+00:00")
    assert entry_body(warning) == "The deadline is 30 November 2026, 14:00."


def test_what_people_wrote_is_shown_as_they_wrote_it(english: None) -> None:
    assert entry_body(note("comment", "Дверь в подвал закрыта")) == "Дверь в подвал закрыта"


def test_russian_readers_see_russian() -> None:
    assert entry_body(note("qr_flagged", status="missing")).startswith("На фото не найден QR-код")
