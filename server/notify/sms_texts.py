"""What residents read by SMS, and the plain rules around it: which step of a request is worth
an SMS, how many segments a text takes, when the town sleeps.

Texts carry the request's number, its state and its deadline — nothing the resident does not
already know, no names, no address. Cyrillic goes as UCS-2: 70 characters in one segment, 67
per part once a message is split (`segments`); `tests/unit/notify/test_sms_texts.py` states
the count of every template for realistic values.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from enum import StrEnum

from server.i18n import gettext as _
from server.requests.deadlines import TOWN_TZ
from server.requests.workflow import State


class SmsKind(StrEnum):
    FILED = "filed"
    ASSIGNED = "assigned"
    DONE = "done"  # the work is checked: the resident may confirm or dispute by reply
    REWORK = "rework"
    CLOSED = "closed"
    INCIDENT = "incident"
    INCIDENT_RESOLVED = "incident_resolved"
    UNKNOWN_SENDER = "unknown_sender"
    RECEIVED = "received"  # an incoming SMS, kept as it came


class SmsStatus(StrEnum):
    QUEUED = "queued"  # in the outbox (possibly waiting for the morning, or retrying)
    SENT = "sent"  # the provider accepted it
    DELIVERED = "delivered"  # the phone received it (delivery report)
    UNDELIVERED = "undelivered"  # the network gave up (delivery report)
    FAILED = "failed"  # the provider refused it, or every attempt failed
    CAPPED = "capped"  # not sent: the resident's daily cap was reached
    RECEIVED = "received"


_STATUS_LABELS: dict[SmsStatus, Callable[[], str]] = {
    SmsStatus.QUEUED: lambda: _("в очереди"),
    SmsStatus.SENT: lambda: _("отправлено"),
    SmsStatus.DELIVERED: lambda: _("доставлено"),
    SmsStatus.UNDELIVERED: lambda: _("не доставлено"),
    SmsStatus.FAILED: lambda: _("не отправлено"),
    SmsStatus.CAPPED: lambda: _("не отправлено: дневной лимит"),
    SmsStatus.RECEIVED: lambda: _("получено"),
}


def status_label(status: str) -> str:
    return _STATUS_LABELS[SmsStatus(status)]()


# The state a request enters → the SMS its resident gets. Filing is told by its own entry.
STEP_OF_STATE: dict[State, SmsKind] = {
    State.ASSIGNED: SmsKind.ASSIGNED,
    # Only a checked job can be confirmed, so «done» is told when the dispatcher verified it.
    State.VERIFIED: SmsKind.DONE,
    State.REWORK: SmsKind.REWORK,
    State.CLOSED: SmsKind.CLOSED,
}

QUIET_FROM, QUIET_UNTIL = time(22, 0), time(8, 0)

_TEMPLATES: dict[SmsKind, Callable[..., str]] = {
    SmsKind.FILED: lambda **v: _("Заявка №%(number)s принята. Срок: %(due)s", **v),
    SmsKind.ASSIGNED: lambda **v: _("Заявка №%(number)s: назначен подрядчик, срок %(due)s", **v),
    SmsKind.DONE: lambda **v: _(
        "Заявка №%(number)s выполнена. Ответьте 1 — решено, 2 и что не так", **v
    ),
    SmsKind.REWORK: lambda **v: _("Заявка №%(number)s возвращена на доработку, срок %(due)s", **v),
    SmsKind.CLOSED: lambda **v: _("Заявка №%(number)s закрыта. Спасибо!", **v),
    SmsKind.INCIDENT: lambda **v: _("%(title)s. Ждём до %(until)s", **v),
    SmsKind.INCIDENT_RESOLVED: lambda **v: _("Устранено: %(title)s", **v),
    SmsKind.UNKNOWN_SENDER: lambda **v: _("Заявку не нашли. Единый номер: %(phone)s", **v),
}


def text_of(kind: SmsKind, **values: str) -> str:
    """The text of one SMS in the current language (the caller speaks the resident's)."""
    return " ".join(_TEMPLATES[kind](**values).split())


def due_text(moment: datetime) -> str:
    """A deadline as short as it can be read: «04.12 12:00», town time."""
    return moment.astimezone(TOWN_TZ).strftime("%d.%m %H:%M")


# GSM 03.38: the basic set, and the extension characters that take two septets.
_GSM_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = "^{}\\[~]|€\f"


def segments(text: str) -> int:
    """How many SMS a text takes: GSM-7 160 (153 per part), else UCS-2 70 (67 per part)."""
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        units, single, part = sum(2 if c in _GSM_EXTENDED else 1 for c in text), 160, 153
    else:
        units, single, part = len(text.encode("utf-16-be")) // 2, 70, 67
    if units <= single:
        return 1
    return -(-units // part)


def quiet_until(now: datetime) -> datetime | None:
    """In the town's quiet hours (22:00–08:00): the moment they end, else None."""
    local = now.astimezone(TOWN_TZ)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    morning = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(morning, QUIET_UNTIL, tzinfo=TOWN_TZ)


def town_day_start(now: datetime) -> datetime:
    local = now.astimezone(TOWN_TZ)
    return datetime.combine(local.date(), time(0), tzinfo=TOWN_TZ)


class Reply(StrEnum):
    CONFIRM = "confirm"
    DISPUTE = "dispute"
    COMMENT = "comment"


_CONFIRM = re.compile(r"^\s*(1|да)\s*[.!]*\s*$", re.IGNORECASE)
_DISPUTE = re.compile(r"^\s*(2|нет)(?![0-9a-zа-яё])[\s.,:;!—-]*(.*)$", re.IGNORECASE | re.DOTALL)


def read_reply(text: str) -> tuple[Reply, str]:
    """«1»/«да» confirms; «2 …»/«нет …» disputes with the rest as the reason; else a comment."""
    if _CONFIRM.match(text):
        return Reply.CONFIRM, ""
    if match := _DISPUTE.match(text):
        return Reply.DISPUTE, " ".join(match.group(2).split())
    return Reply.COMMENT, " ".join(text.split())
