"""What the figures are about: a period of whole town days, its trend steps, and a scope.

Pure: free of the database and the web, so the pages, the export and the queries agree on
where a day, a week or a month begins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

from server.requests.deadlines import TOWN_TZ

PERIOD_PRESETS = (7, 30, 90, 365)
MAX_PERIOD_DAYS = 366 * 3

Bucket = Literal["day", "week", "month"]


def town_midnight(day: date) -> datetime:
    """The moment (UTC) a town day begins."""
    return datetime.combine(day, time(0), tzinfo=TOWN_TZ).astimezone(UTC)


def town_today(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(TOWN_TZ).date()


@dataclass(frozen=True)
class Period:
    """[start, end): both aware datetimes. Days are the town's days (Europe/Moscow)."""

    start: datetime
    end: datetime
    preset: int | None = None  # days, when chosen from the presets

    @classmethod
    def last_days(cls, days: int, now: datetime | None = None) -> Period:
        """The last `days` whole town days, today included."""
        today = town_today(now)
        return cls.of_dates(today - timedelta(days=days - 1), today, preset=days)

    @classmethod
    def of_dates(cls, first: date, last: date, preset: int | None = None) -> Period:
        if last < first:
            first, last = last, first
        if (last - first).days > MAX_PERIOD_DAYS:
            first = last - timedelta(days=MAX_PERIOD_DAYS)
        return cls(town_midnight(first), town_midnight(last + timedelta(days=1)), preset)

    @property
    def first_day(self) -> date:
        return self.start.astimezone(TOWN_TZ).date()

    @property
    def last_day(self) -> date:
        return (self.end - timedelta(microseconds=1)).astimezone(TOWN_TZ).date()

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    @property
    def bucket(self) -> Bucket:
        """The step of the trend chart: a point per day, week or month."""
        if self.days <= 45:
            return "day"
        if self.days <= 200:
            return "week"
        return "month"

    @property
    def steps(self) -> list[date]:
        """The first town day of every step of the trend, in order."""
        found: list[date] = []
        current = bucket_of(self.start, self.bucket)
        while current <= self.last_day:
            found.append(current)
            current = _next_bucket(current, self.bucket)
        return found


def parse_period(
    preset: str | None, first: str | None, last: str | None, *, default: int = 30
) -> Period:
    """A period from the picker: a preset number of days, or («custom») a range of days.

    Anything unreadable falls back to the last `default` days.
    """
    try:
        days = int(preset) if preset and preset.isdigit() else None
    except ValueError:  # digits that int() does not read, such as «²»
        days = None
    if days in PERIOD_PRESETS:
        return Period.last_days(days)
    if first or last:
        try:
            today = town_today()
            start = date.fromisoformat(first) if first else today - timedelta(days=default - 1)
            end = date.fromisoformat(last) if last else today
            return Period.of_dates(start, end)
        except ValueError:
            pass
    return Period.last_days(default)


@dataclass(frozen=True)
class Scope:
    """Which requests count: all, or one organisation's, or one category's."""

    organisation_id: int | None = None
    category_id: int | None = None


def bucket_of(moment: datetime, unit: Bucket) -> date:
    """The first town day of the day, week (Monday) or month holding this moment."""
    day = moment.astimezone(TOWN_TZ).date()
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def _next_bucket(day: date, unit: Bucket) -> date:
    if unit == "day":
        return day + timedelta(days=1)
    if unit == "week":
        return day + timedelta(days=7)
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)
