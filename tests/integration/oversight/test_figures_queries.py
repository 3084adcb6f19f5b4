"""The figures' queries give the same exact answers on PostgreSQL and SQLite.

Durations are computed by the database (to the microsecond) and the trend's steps are the
town's days; these check the edges the hand-worked history does not reach.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from server.db.models import Request
from server.db.session import Database
from server.live.bus import EventBus
from server.oversight import figures
from server.oversight.periods import Period, Scope
from server.requests.workflow import State
from server.shared.services import Services
from tests.conftest import run_async
from tests.world import World

# 23:59:59.9999 in the town on 9 March: SQLite's own date parsing would round it up a second.
FILED = datetime(2026, 3, 9, 20, 59, 59, 999_900, tzinfo=UTC)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)
MARCH = Period.of_dates(date(2026, 3, 1), date(2026, 3, 19))


def _insert(world: World, rows: list[dict[str, object]]) -> None:
    async def go() -> None:
        db = Database(world.settings.database_url)
        try:
            async with db.begin() as session:
                for n, values in enumerate(rows, start=1):
                    session.add(
                        Request(
                            number=f"2026-{700000 + n}",
                            resident_id=world.users["resident"],
                            building_id=world.buildings["lenina12"],
                            category_id=world.categories["leak"],
                            description="Проверка длительностей",
                            source="web",
                            organisation_id=world.orgs["uk1"],
                            due_at=NOW,
                            updated_at=NOW,
                            **values,
                        )
                    )
        finally:
            await db.dispose()

    run_async(go)


def _board(world: World, period: Period = MARCH) -> figures.Dashboard:
    async def go() -> figures.Dashboard:
        db = Database(world.settings.database_url)
        try:
            svc = Services(settings=world.settings, db=db, bus=EventBus())
            return await figures.dashboard(svc, period, Scope(), now=NOW)
        finally:
            await db.dispose()

    return run_async(go)


def test_durations_are_exact_to_the_microsecond(world: World) -> None:
    assigned = FILED + timedelta(seconds=1, microseconds=234_567)
    done = FILED + timedelta(hours=5, microseconds=101)
    closed = FILED + timedelta(days=3, seconds=7, microseconds=999_999)
    _insert(
        world,
        [
            {
                "state": State.CLOSED,
                "created_at": FILED,
                "assigned_at": assigned,
                "done_at": done,
                "closed_at": closed,
            }
        ],
    )
    total = _board(world).total
    assert total.to_assign.median == (assigned - FILED).total_seconds()
    assert total.to_done.p90 == (done - FILED).total_seconds()
    assert total.to_close.median == (closed - FILED).total_seconds()


def test_steps_not_taken_in_the_current_state_are_left_out(world: World) -> None:
    # Sent back for rework: assigned and once done, but its work is owed again.
    _insert(
        world,
        [
            {
                "state": State.REWORK,
                "created_at": FILED,
                "assigned_at": FILED + timedelta(minutes=10),
                "done_at": FILED + timedelta(minutes=70),
                "rework_count": 1,
            }
        ],
    )
    total = _board(world).total
    assert (total.to_assign.count, total.to_done.count, total.to_close.count) == (1, 0, 0)
    assert (total.open, total.overdue) == (1, 0)


def test_trend_steps_begin_at_the_towns_midnight(world: World) -> None:
    _insert(
        world,
        [
            {"state": State.NEW, "created_at": FILED},  # the last moment of 9 March
            {"state": State.NEW, "created_at": FILED + timedelta(microseconds=100)},  # 10 March
        ],
    )
    by_day = {p.start: p.filed for p in _board(world).trend if p.filed}
    assert by_day == {date(2026, 3, 9): 1, date(2026, 3, 10): 1}
    # Weeks begin on Monday (9 March 2026): both fall in the same week.
    weeks = Period.of_dates(date(2026, 1, 1), date(2026, 3, 31))
    assert {p.start: p.filed for p in _board(world, weeks).trend if p.filed} == {
        date(2026, 3, 9): 2
    }
