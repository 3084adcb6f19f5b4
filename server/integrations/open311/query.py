"""The filters of GET requests.{fmt}, checked: errors are 400s with a description."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from server.i18n import gettext as _
from server.integrations.open311.errors import bad_request
from server.requests.deadlines import TOWN_TZ
from server.shared.forms import DB_INT_MAX

MAX_SPAN = timedelta(days=90)
STATUSES = ("open", "closed")


@dataclass
class RequestQuery:
    ids: list[int] | None = None
    codes: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] | None = None


def parse_w3(value: str, name: str, *, end_of_day: bool = False) -> datetime:
    """A w3 datetime; a bare date is the town's midnight, a time without offset town time."""
    text = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=TOWN_TZ)
            # A bare end date means the whole of that day.
            return day + timedelta(days=1, microseconds=-1) if end_of_day else day
        if "T" in text and " " in text:
            text = text.replace(" ", "+")  # a «+» the client forgot to encode in the URL
        moment = datetime.fromisoformat(text)
        # A moment without a UTC equivalent (year 1 at +23:00) cannot be compared or stored.
        (moment if moment.tzinfo else moment.replace(tzinfo=TOWN_TZ)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise bad_request(
            _(
                "%(name)s: неверная дата «%(value)s»; нужен формат 2026-01-31T00:00:00Z.",
                name=name,
                value=value,
            )
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=TOWN_TZ)


def _listed(params: dict[str, str], name: str) -> list[str]:
    return [part.strip() for part in (params.get(name) or "").split(",") if part.strip()]


def _period(params: dict[str, str], now: datetime) -> tuple[datetime, datetime]:
    start_raw = (params.get("start_date") or "").strip()
    end_raw = (params.get("end_date") or "").strip()
    start = parse_w3(start_raw, "start_date") if start_raw else None
    end = parse_w3(end_raw, "end_date", end_of_day=True) if end_raw else None
    try:
        if start is None and end is None:
            end, start = now, now - MAX_SPAN
        elif start is None:
            assert end is not None
            start = end - MAX_SPAN
        elif end is None:
            end = start + MAX_SPAN
    except OverflowError:
        raise bad_request(_("Период поиска выходит за пределы календаря.")) from None
    if start > end:
        raise bad_request(_("start_date позже end_date."))
    if end - start > MAX_SPAN:
        raise bad_request(_("Период поиска не может быть длиннее 90 дней."))
    return start, end


def parse_query(params: dict[str, str], now: datetime) -> RequestQuery:
    raw_ids = (params.get("service_request_id") or "").strip()
    if raw_ids:
        try:
            # The ids override every other argument.
            ids = [int(x) for x in raw_ids.split(",") if x.strip()]
        except ValueError:
            raise bad_request(
                _("service_request_id: перечислите номера заявок через запятую.")
            ) from None
        # Ids the database cannot hold name no request.
        return RequestQuery(ids=[i for i in ids if 1 <= i <= DB_INT_MAX])
    statuses = [s.lower() for s in _listed(params, "status")]
    if any(status not in STATUSES for status in statuses):
        raise bad_request(_("status: допустимы только open и closed."))
    start, end = _period(params, now)
    return RequestQuery(
        codes=_listed(params, "service_code") or None,
        statuses=statuses or None,
        start=start,
        end=end,
    )
