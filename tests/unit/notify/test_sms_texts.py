"""The SMS templates, their segment counts for realistic values, the reply grammar, quiet
hours and the steps that bring an SMS."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from server.i18n import set_locale
from server.notify.sms_texts import (
    STEP_OF_STATE,
    Reply,
    SmsKind,
    quiet_until,
    read_reply,
    segments,
    text_of,
)
from server.requests.workflow import State

REALISTIC = {
    "number": "2026-012345",
    "due": "04.12 12:00",
    "title": "Авария на водопроводе, нет холодной воды",
    "until": "04.12 18:00",
    "phone": "+7 85558 0-00-00",
}

# Each template, what it reads in Russian with realistic values, and its SMS segments.
TEMPLATES = [
    (SmsKind.FILED, "Заявка №2026-012345 принята. Срок: 04.12 12:00", 1),
    (SmsKind.ASSIGNED, "Заявка №2026-012345: назначен подрядчик, срок 04.12 12:00", 1),
    (SmsKind.DONE, "Заявка №2026-012345 выполнена. Ответьте 1 — решено, 2 и что не так", 1),
    (SmsKind.REWORK, "Заявка №2026-012345 возвращена на доработку, срок 04.12 12:00", 1),
    (SmsKind.CLOSED, "Заявка №2026-012345 закрыта. Спасибо!", 1),
    (SmsKind.INCIDENT, "Авария на водопроводе, нет холодной воды. Ждём до 04.12 18:00", 1),
    (SmsKind.INCIDENT_RESOLVED, "Устранено: Авария на водопроводе, нет холодной воды", 1),
    (SmsKind.UNKNOWN_SENDER, "Заявку не нашли. Единый номер: +7 85558 0-00-00", 1),
]


@pytest.mark.parametrize(("kind", "text", "count"), TEMPLATES)
def test_each_template_reads_as_written_and_fits_its_segments(
    kind: SmsKind, text: str, count: int
) -> None:
    set_locale("ru")
    assert text_of(kind, **REALISTIC) == text
    assert segments(text) == count
    assert len(text) <= 70


def test_every_template_is_in_the_table() -> None:
    assert {k for k, _, _ in TEMPLATES} == set(SmsKind) - {SmsKind.RECEIVED}


@pytest.mark.parametrize("locale", ["tt", "en"])
def test_the_other_languages_stay_within_two_segments(locale: str) -> None:
    set_locale(locale)
    try:
        for kind, _, _ in TEMPLATES:
            assert segments(text_of(kind, **REALISTIC)) <= 2, kind
    finally:
        set_locale("ru")


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("а" * 70, 1),
        ("а" * 71, 2),  # split: 67 per part
        ("а" * 134, 2),
        ("а" * 135, 3),
        ("a" * 160, 1),  # Latin fits GSM-7
        ("a" * 161, 2),
        ("[" * 80, 1),  # an extension character takes two septets
        ("[" * 81, 2),
        ("😀" * 35, 1),  # outside the BMP: two UCS-2 units each
        ("😀" * 36, 2),
    ],
)
def test_segments_follow_gsm_and_ucs2_limits(text: str, count: int) -> None:
    assert segments(text) == count


@pytest.mark.parametrize(
    ("text", "reply", "reason"),
    [
        ("1", Reply.CONFIRM, ""),
        (" да! ", Reply.CONFIRM, ""),
        ("ДА", Reply.CONFIRM, ""),
        ("2 не починили", Reply.DISPUTE, "не починили"),
        ("2, всё ещё течёт", Reply.DISPUTE, "всё ещё течёт"),
        ("НЕТ. Капает", Reply.DISPUTE, "Капает"),
        ("2", Reply.DISPUTE, ""),
        ("нет", Reply.DISPUTE, ""),
        ("12", Reply.COMMENT, "12"),
        ("нетрудно", Reply.COMMENT, "нетрудно"),
        ("Когда   придут?", Reply.COMMENT, "Когда придут?"),
        ("1 спасибо", Reply.COMMENT, "1 спасибо"),
    ],
)
def test_replies_are_read_as_the_resident_meant(text: str, reply: Reply, reason: str) -> None:
    assert read_reply(text) == (reply, reason)


@pytest.mark.parametrize(
    ("utc", "until"),
    [
        (datetime(2026, 12, 3, 18, 59, tzinfo=UTC), None),  # 21:59 in Zainsk
        (datetime(2026, 12, 3, 19, 0, tzinfo=UTC), datetime(2026, 12, 4, 5, 0, tzinfo=UTC)),
        (datetime(2026, 12, 3, 23, 0, tzinfo=UTC), datetime(2026, 12, 4, 5, 0, tzinfo=UTC)),
        (datetime(2026, 12, 4, 4, 59, tzinfo=UTC), datetime(2026, 12, 4, 5, 0, tzinfo=UTC)),
        (datetime(2026, 12, 4, 5, 0, tzinfo=UTC), None),  # 08:00: awake
    ],
)
def test_quiet_hours_run_from_ten_at_night_to_eight_town_time(
    utc: datetime, until: datetime | None
) -> None:
    assert quiet_until(utc) == until


def test_the_steps_that_bring_an_sms() -> None:
    assert STEP_OF_STATE == {
        State.ASSIGNED: SmsKind.ASSIGNED,
        State.VERIFIED: SmsKind.DONE,
        State.REWORK: SmsKind.REWORK,
        State.CLOSED: SmsKind.CLOSED,
    }
