"""The dashboard's figures against a history whose answers were worked out by hand.

The history is in oversight_fixture.py. Percentiles use linear interpolation between the two
nearest ranks (PostgreSQL's percentile_cont): for n sorted values the p-th percentile sits at
position p·(n−1), counting from 0.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from server.oversight import counts
from server.oversight import figures as stats
from server.oversight.figures import Figures, Period, Scope
from server.shared.services import Services
from tests.conftest import run_async
from tests.integration.oversight.oversight_fixture import (
    NOW,
    PERIOD_END,
    PERIOD_START,
    History,
    build_history,
)
from tests.world import World

MARCH = Period.of_dates(date(2026, 3, 1), date(2026, 3, 19))


def minutes(value: float | None) -> float | None:
    return None if value is None else round(value / 60, 6)


@pytest.fixture
def history(world: World) -> History:
    return run_async(build_history, world)


def figures_of(world: World, scope: Scope = Scope(), *, now=NOW) -> stats.Dashboard:  # type: ignore[no-untyped-def]
    async def go() -> stats.Dashboard:
        from server.db.session import Database
        from server.live.bus import EventBus

        db = Database(world.settings.database_url)
        try:
            svc = Services(settings=world.settings, db=db, bus=EventBus())
            return await stats.dashboard(svc, MARCH, scope, now=now)
        finally:
            await db.dispose()

    return run_async(go)


def row(rows: list[stats.Row], row_id: int | None) -> Figures:
    return next(r.figures for r in rows if r.id == row_id)


# --- the method ---------------------------------------------------------------------------


def test_percentile_interpolates_between_nearest_ranks() -> None:
    assert stats.percentile([4, 1, 3, 2], 0.5) == 2.5
    assert stats.percentile([10, 20, 30, 40, 100], 0.9) == pytest.approx(76)
    assert stats.percentile([10, 20, 30, 40, 100], 0.5) == 30
    assert stats.percentile([7], 0.9) == 7
    assert stats.percentile([], 0.5) is None


def test_period_is_whole_town_days() -> None:
    assert MARCH.start == PERIOD_START
    assert MARCH.end == PERIOD_END
    assert MARCH.days == 19
    assert MARCH.bucket == "day"
    assert Period.of_dates(date(2026, 1, 1), date(2026, 12, 31)).bucket == "month"
    assert Period.of_dates(date(2026, 1, 1), date(2026, 3, 31)).bucket == "week"


def test_last_days_ends_today_in_the_town() -> None:
    period = Period.last_days(7, NOW)
    assert period.last_day == date(2026, 3, 20)
    assert period.first_day == date(2026, 3, 14)


# --- the whole town -------------------------------------------------------------------------


def test_counts_of_requests_filed_in_the_period(world: World, history: History) -> None:
    total = figures_of(world).total
    # R1–R9 and R13, plus R11 filed at the very first moment; R10 a minute before and R12 at
    # midnight after the last day are outside.
    assert total.filed == 11
    assert total.closed == 4
    assert total.declined == 1
    assert total.cancelled == 1
    assert total.open == 5
    assert total.returns == 2
    assert total.disputes == 1
    assert total.closed_without_rework == 2
    assert total.without_rework_share == 0.5


def test_median_and_90th_percentile_of_each_step(world: World, history: History) -> None:
    total = figures_of(world).total
    # Assignment: 10 20 30 40 50 60 100 minutes.
    assert total.to_assign.count == 7
    assert minutes(total.to_assign.median) == 40
    assert minutes(total.to_assign.p90) == pytest.approx(76)
    # Work done: 60 70 90 180 1440 minutes (R8 verified counts; open requests do not).
    assert total.to_done.count == 5
    assert minutes(total.to_done.median) == 90
    assert minutes(total.to_done.p90) == pytest.approx(936)
    # Closed by the resident: 120 240 300 2880 minutes.
    assert total.to_close.count == 4
    assert minutes(total.to_close.median) == 270
    assert minutes(total.to_close.p90) == pytest.approx(2106)


def test_deadlines_met_missed_and_overdue(world: World, history: History) -> None:
    total = figures_of(world).total
    # On time: R1, R3, R8 and R13 (done exactly at its deadline). Late: R2. Overdue: R4, R6.
    assert (total.on_time, total.late, total.overdue) == (4, 1, 2)
    assert total.on_time_share == pytest.approx(4 / 7)


def test_overdue_count_moves_across_the_deadline_boundary(world: World, history: History) -> None:
    # R4 falls due a minute before «now», R5 a minute after.
    assert figures_of(world, now=NOW - timedelta(minutes=2)).total.overdue == 1
    assert figures_of(world, now=NOW).total.overdue == 2
    assert figures_of(world, now=NOW + timedelta(minutes=2)).total.overdue == 3


def test_average_rating(world: World, history: History) -> None:
    total = figures_of(world).total
    assert total.rating_count == 3
    assert total.rating == 4.0


# --- per organisation and per category ------------------------------------------------------


def test_figures_per_organisation(world: World, history: History) -> None:
    board = figures_of(world)
    uk1 = row(board.by_organisation, world.orgs["uk1"])
    assert (uk1.filed, uk1.closed, uk1.declined, uk1.cancelled, uk1.open) == (9, 3, 1, 1, 4)
    assert (uk1.on_time, uk1.late, uk1.overdue) == (3, 1, 2)
    assert minutes(uk1.to_assign.median) == 35  # 10 20 30 40 50 100
    assert minutes(uk1.to_assign.p90) == pytest.approx(75)
    assert minutes(uk1.to_done.median) == 80  # 60 70 90 180
    assert minutes(uk1.to_done.p90) == pytest.approx(153)
    assert minutes(uk1.to_close.median) == 240  # 120 240 300
    assert minutes(uk1.to_close.p90) == pytest.approx(288)
    assert uk1.without_rework_share == pytest.approx(1 / 3)
    assert uk1.rating == 4.0

    uk2 = row(board.by_organisation, world.orgs["uk2"])
    assert (uk2.filed, uk2.closed, uk2.open, uk2.overdue, uk2.on_time) == (2, 1, 1, 0, 1)
    assert minutes(uk2.to_assign.median) == 60
    assert minutes(uk2.to_close.p90) == 2880
    assert uk2.rating is None

    # Organisations with nothing filed are listed with zeros, so nobody is missing.
    tsj = row(board.by_organisation, world.orgs["tsj"])
    assert tsj.filed == 0 and tsj.to_close.median is None
    # Contractors and the administration do not receive requests.
    assert world.orgs["c1"] not in [r.id for r in board.by_organisation]


def test_ranking_puts_best_share_on_time_first(world: World, history: History) -> None:
    ranking = figures_of(world).ranking
    assert [r.id for r in ranking] == [world.orgs["uk2"], world.orgs["uk1"]]


def test_figures_per_category(world: World, history: History) -> None:
    board = figures_of(world)
    leak = row(board.by_category, world.categories["leak"])
    assert (leak.filed, leak.closed) == (3, 3)
    assert minutes(leak.to_close.median) == 240
    lift = row(board.by_category, world.categories["lift"])
    assert (lift.filed, lift.overdue, lift.open) == (3, 1, 3)
    other = row(board.by_category, world.categories["other"])
    assert (other.filed, other.overdue, other.declined, other.cancelled) == (4, 1, 1, 1)
    assert row(board.by_category, world.categories["water"]).filed == 0


def test_scope_narrows_every_figure(world: World, history: History) -> None:
    uk2 = figures_of(world, Scope(organisation_id=world.orgs["uk2"]))
    assert uk2.total.filed == 2
    assert [r.id for r in uk2.by_organisation] == [world.orgs["uk2"]]
    assert row(uk2.by_category, world.categories["lift"]).filed == 1
    assert minutes(uk2.total.to_assign.median) == 60

    leak = figures_of(world, Scope(category_id=world.categories["leak"]))
    assert leak.total.filed == 3
    assert minutes(leak.total.to_close.median) == 240
    assert [r.id for r in leak.by_category] == [world.categories["leak"]]
    assert sum(t.closed for t in leak.trend) == 4  # R1–R3, and R10 closed on 3 March


# --- over time ------------------------------------------------------------------------------


def test_trend_counts_filings_and_closings_per_town_day(world: World, history: History) -> None:
    trend = figures_of(world).trend
    assert len(trend) == 19
    assert trend[0].start == date(2026, 3, 1)
    by_day = {p.start.day: (p.filed, p.closed) for p in trend if p.filed or p.closed}
    assert by_day == {1: (1, 0), 2: (9, 3), 3: (0, 1), 5: (1, 0), 7: (0, 1)}


def test_overdue_list_holds_every_overdue_request_oldest_first(
    world: World, history: History
) -> None:
    async def go():  # type: ignore[no-untyped-def]
        from server.db.session import Database
        from server.live.bus import EventBus

        db = Database(world.settings.database_url)
        try:
            svc = Services(settings=world.settings, db=db, bus=EventBus())
            return await counts.overdue_now(svc, now=NOW)
        finally:
            await db.dispose()

    total, rows = run_async(go)
    assert total == 3
    assert [r.request.id for r in rows] == [history.ids[k] for k in ("R14", "R6", "R4")]
    assert rows[-1].overdue_for == timedelta(minutes=1)


def test_empty_period_has_no_figures(world: World) -> None:
    board = figures_of(world)
    assert board.total.filed == 0
    assert board.total.to_close.median is None
    assert board.total.on_time_share is None
    assert board.ranking == []


# --- the cache the pages read through -------------------------------------------------------


def test_cached_figures_are_reused_while_fresh_then_recomputed(
    world: World, history: History
) -> None:
    import asyncio

    from server.db.models import Request
    from server.db.session import Database
    from server.live.bus import EventBus
    from server.oversight.cache import FiguresCache

    async def go() -> tuple[int, int, int]:
        db = Database(world.settings.database_url)
        cache = FiguresCache(
            Services(settings=world.settings, db=db, bus=EventBus()), fresh_for=0.5
        )
        try:
            first = (await cache.dashboard(MARCH)).total.filed
            async with db.begin() as session:
                source = await session.get(Request, history.ids["R1"])
                assert source is not None
                session.add(
                    Request(
                        number="2026-900001",
                        resident_id=source.resident_id,
                        building_id=source.building_id,
                        category_id=source.category_id,
                        description="Ещё одна протечка",
                        source="web",
                        state="new",
                        organisation_id=source.organisation_id,
                        due_at=source.due_at,
                        created_at=source.created_at,
                        updated_at=source.created_at,
                    )
                )
            still = (await cache.dashboard(MARCH)).total.filed  # fresh: not recomputed
            await asyncio.sleep(0.8)  # the keep-warm task recomputed it meanwhile
            later = (await cache.dashboard(MARCH)).total.filed
            return first, still, later
        finally:
            await cache.close()
            await db.dispose()

    assert run_async(go) == (11, 11, 12)
