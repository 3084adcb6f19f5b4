"""Deadlines (PRODUCT.md, «Deadlines»): when a request is due, overdue, and near its deadline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.requests.deadlines import (
    DEFAULT_RULES,
    TOWN_TZ,
    DeadlineRule,
    due_at,
    is_overdue,
    warn_at,
)
from server.requests.workflow import State

MOSCOW = ZoneInfo("Europe/Moscow")

JANUARY = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
JULY = datetime(2025, 7, 15, 9, 0, tzinfo=UTC)

# PRODUCT.md: emergency containment 30 minutes (ПП РФ №416), sewer blockage 2 hours, roof leak
# 1 day, broken window 1 day in winter / 3 in summer, lift 1 day, 8 days for an ordinary request.
EXPECTED_WINTER = {
    "emergency": timedelta(minutes=30),
    "sewer_blockage": timedelta(hours=2),
    "roof_leak": timedelta(days=1),
    "lift": timedelta(days=1),
    "window": timedelta(days=1),
    "ordinary": timedelta(days=8),
}
EXPECTED_SUMMER = {**EXPECTED_WINTER, "window": timedelta(days=3)}

# States in which the work is still owed (the request can be overdue).
OVERDUE_STATES = frozenset({State.NEW, State.ASSIGNED, State.IN_PROGRESS, State.REWORK})


def test_town_is_evaluated_in_moscow_time() -> None:
    assert TOWN_TZ.key == "Europe/Moscow"


def test_default_rules_cover_exactly_the_product_categories() -> None:
    assert set(DEFAULT_RULES) == set(EXPECTED_WINTER)


@pytest.mark.parametrize(("category", "allowance"), sorted(EXPECTED_WINTER.items()))
def test_default_rule_due_in_winter(category: str, allowance: timedelta) -> None:
    assert due_at(JANUARY, DEFAULT_RULES[category]) == JANUARY + allowance


@pytest.mark.parametrize(("category", "allowance"), sorted(EXPECTED_SUMMER.items()))
def test_default_rule_due_in_summer(category: str, allowance: timedelta) -> None:
    assert due_at(JULY, DEFAULT_RULES[category]) == JULY + allowance


def test_emergency_containment_due_in_thirty_minutes() -> None:
    assert due_at(JANUARY, DEFAULT_RULES["emergency"]) == datetime(2025, 1, 15, 9, 30, tzinfo=UTC)


def test_broken_window_due_next_day_in_january() -> None:
    assert due_at(JANUARY, DEFAULT_RULES["window"]) == datetime(2025, 1, 16, 9, 0, tzinfo=UTC)


def test_broken_window_due_in_three_days_in_july() -> None:
    assert due_at(JULY, DEFAULT_RULES["window"]) == datetime(2025, 7, 18, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("filed_at", "allowance"),
    [
        # 23:30 UTC on 30 September is 02:30 on 1 October in Moscow: already winter.
        pytest.param(datetime(2025, 9, 30, 23, 30, tzinfo=UTC), timedelta(days=1), id="oct-1-msk"),
        # 20:59 UTC on 30 September is 23:59 on 30 September in Moscow: still summer.
        pytest.param(datetime(2025, 9, 30, 20, 59, tzinfo=UTC), timedelta(days=3), id="sep-30-msk"),
        # 21:00 UTC on 30 September is midnight on 1 October in Moscow: winter begins.
        pytest.param(datetime(2025, 9, 30, 21, 0, tzinfo=UTC), timedelta(days=1), id="oct-1-0000"),
        # 21:30 UTC on 30 April is 00:30 on 1 May in Moscow: already summer.
        pytest.param(datetime(2025, 4, 30, 21, 30, tzinfo=UTC), timedelta(days=3), id="may-1-msk"),
        # 20:30 UTC on 30 April is 23:30 on 30 April in Moscow: still winter.
        pytest.param(datetime(2025, 4, 30, 20, 30, tzinfo=UTC), timedelta(days=1), id="apr-30-msk"),
    ],
)
def test_window_season_is_decided_by_the_date_in_moscow(
    filed_at: datetime, allowance: timedelta
) -> None:
    assert due_at(filed_at, DEFAULT_RULES["window"]) == filed_at + allowance


def test_season_is_decided_in_moscow_whatever_zone_the_time_is_given_in() -> None:
    # 05:30 on 1 October in Yekaterinburg is 03:30 on 1 October in Moscow: winter.
    ekb = datetime(2025, 10, 1, 5, 30, tzinfo=ZoneInfo("Asia/Yekaterinburg"))
    assert due_at(ekb, DEFAULT_RULES["window"]) == ekb + timedelta(days=1)
    # 01:30 on 1 October in Yekaterinburg is 23:30 on 30 September in Moscow: summer.
    ekb_night = datetime(2025, 10, 1, 1, 30, tzinfo=ZoneInfo("Asia/Yekaterinburg"))
    assert due_at(ekb_night, DEFAULT_RULES["window"]) == ekb_night + timedelta(days=3)


def test_due_time_is_the_same_instant_as_an_aware_datetime() -> None:
    filed_msk = datetime(2025, 1, 15, 12, 0, tzinfo=MOSCOW)
    due = due_at(filed_msk, DEFAULT_RULES["sewer_blockage"])
    assert due == datetime(2025, 1, 15, 11, 0, tzinfo=UTC)
    assert due.tzinfo is not None


@pytest.mark.parametrize("month", range(1, 13), ids=[f"month-{m:02d}" for m in range(1, 13)])
def test_rule_without_summer_allowance_is_the_same_all_year(month: int) -> None:
    filed_at = datetime(2025, month, 10, 12, 0, tzinfo=UTC)
    assert due_at(filed_at, DeadlineRule(90)) == filed_at + timedelta(minutes=90)


# The heating season in Tatarstan: October to April.
HEATING_SEASON = frozenset({10, 11, 12, 1, 2, 3, 4})


@pytest.mark.parametrize("month", range(1, 13), ids=[f"month-{m:02d}" for m in range(1, 13)])
def test_seasonal_rule_uses_winter_allowance_in_the_heating_season(month: int) -> None:
    rule = DeadlineRule(60, summer_minutes=180)
    filed_at = datetime(2025, month, 15, 12, 0, tzinfo=UTC)
    expected = timedelta(minutes=60 if month in HEATING_SEASON else 180)
    assert due_at(filed_at, rule) == filed_at + expected


# --------------------------------------------------------------------------------------------
# is_overdue

DUE = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("state", list(State))
def test_request_is_overdue_only_while_work_is_owed(state: State) -> None:
    after = DUE + timedelta(seconds=1)
    assert is_overdue(state, DUE, after) is (state in OVERDUE_STATES)


@pytest.mark.parametrize("state", sorted(OVERDUE_STATES))
def test_request_is_not_overdue_at_the_due_time_itself(state: State) -> None:
    assert is_overdue(state, DUE, DUE) is False


@pytest.mark.parametrize("state", sorted(OVERDUE_STATES))
def test_request_is_not_overdue_before_the_due_time(state: State) -> None:
    assert is_overdue(state, DUE, DUE - timedelta(microseconds=1)) is False


@pytest.mark.parametrize("state", sorted(OVERDUE_STATES))
def test_request_is_overdue_a_moment_after_the_due_time(state: State) -> None:
    assert is_overdue(state, DUE, DUE + timedelta(microseconds=1)) is True


@pytest.mark.parametrize("state", list(State))
def test_request_without_due_time_is_never_overdue(state: State) -> None:
    assert is_overdue(state, None, DUE + timedelta(days=365)) is False


@pytest.mark.parametrize("state", [State.DONE, State.VERIFIED])
def test_finished_work_waiting_for_checks_is_not_overdue(state: State) -> None:
    assert is_overdue(state, DUE, DUE + timedelta(days=30)) is False


def test_overdue_is_compared_as_instants_across_time_zones() -> None:
    now_msk = datetime(2025, 1, 15, 15, 0, 1, tzinfo=MOSCOW)  # 12:00:01 UTC
    assert is_overdue(State.NEW, DUE, now_msk) is True
    assert is_overdue(State.NEW, DUE, datetime(2025, 1, 15, 15, 0, tzinfo=MOSCOW)) is False


# --------------------------------------------------------------------------------------------
# warn_at


def test_thirty_minute_deadline_warns_ten_minutes_before() -> None:
    filed = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    due = due_at(filed, DEFAULT_RULES["emergency"])
    # A fifth of 30 minutes is 6 minutes, but the warning comes no later than 10 minutes before.
    assert warn_at(filed, due) == datetime(2025, 1, 15, 9, 20, tzinfo=UTC)


def test_eight_day_deadline_warns_when_a_fifth_of_the_time_is_left() -> None:
    filed = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    due = due_at(filed, DEFAULT_RULES["ordinary"])
    assert due == datetime(2025, 1, 23, 9, 0, tzinfo=UTC)
    # A fifth of 8 days is 1 day 14 h 24 min.
    assert warn_at(filed, due) == datetime(2025, 1, 21, 18, 36, tzinfo=UTC)
    assert due - warn_at(filed, due) == timedelta(days=1, hours=14, minutes=24)


def test_one_day_deadline_warns_four_hours_forty_eight_minutes_before() -> None:
    filed = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    due = due_at(filed, DEFAULT_RULES["roof_leak"])
    assert due - warn_at(filed, due) == timedelta(hours=4, minutes=48)


def test_fifty_minute_deadline_warns_at_exactly_ten_minutes_before() -> None:
    # A fifth of 50 minutes is exactly the 10-minute floor.
    filed = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    due = filed + timedelta(minutes=50)
    assert warn_at(filed, due) == filed + timedelta(minutes=40)


def test_deadline_shorter_than_ten_minutes_warns_at_filing_not_before() -> None:
    filed = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)
    due = filed + timedelta(minutes=5)
    assert warn_at(filed, due) == filed


@pytest.mark.parametrize("category", sorted(DEFAULT_RULES))
@pytest.mark.parametrize("filed", [JANUARY, JULY], ids=["january", "july"])
def test_warning_falls_between_filing_and_deadline(category: str, filed: datetime) -> None:
    due = due_at(filed, DEFAULT_RULES[category])
    warning = warn_at(filed, due)
    assert filed <= warning < due
    assert due - warning >= min(timedelta(minutes=10), due - filed)
