"""When a request is due, and whether it is overdue.

Default deadlines follow Russian rules (ПП РФ №416 for emergency containment, ПП РФ №290 and
Госстрой №170 for the rest); each deployment may change them per category.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.requests.workflow import OPEN_WORK_STATES, State

TOWN_TZ = ZoneInfo("Europe/Moscow")

# The cold season in Tatarstan spans the heating season; glass and doors are urgent then.
COLD_MONTHS = frozenset({10, 11, 12, 1, 2, 3, 4})

# Warn the dispatcher when this share of the time allowed is left, but never later than
# WARN_AT_LEAST before the deadline.
WARN_SHARE = 0.2
WARN_AT_LEAST = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class DeadlineRule:
    minutes: int
    summer_minutes: int | None = None  # a different allowance in the warm season

    def allowance(self, filed_at: datetime) -> timedelta:
        local = filed_at.astimezone(TOWN_TZ)
        if self.summer_minutes is not None and local.month not in COLD_MONTHS:
            return timedelta(minutes=self.summer_minutes)
        return timedelta(minutes=self.minutes)


def due_at(filed_at: datetime, rule: DeadlineRule) -> datetime:
    return filed_at + rule.allowance(filed_at)


def is_overdue(state: State, due: datetime | None, now: datetime) -> bool:
    """Overdue: the work is still owed and its time has passed."""
    return due is not None and state in OPEN_WORK_STATES and now > due


def warn_at(filed_at: datetime, due: datetime) -> datetime:
    """When the dispatcher should be told the deadline is near."""
    lead = max((due - filed_at) * WARN_SHARE, WARN_AT_LEAST)
    return due - min(lead, due - filed_at)


# Defaults offered to a new deployment, in minutes.
DEFAULT_RULES: dict[str, DeadlineRule] = {
    "emergency": DeadlineRule(30),
    "sewer_blockage": DeadlineRule(120),
    "roof_leak": DeadlineRule(24 * 60),
    "lift": DeadlineRule(24 * 60),
    "window": DeadlineRule(24 * 60, summer_minutes=3 * 24 * 60),
    "ordinary": DeadlineRule(8 * 24 * 60),
}
