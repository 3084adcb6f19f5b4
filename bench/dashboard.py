"""The administration's dashboard over a year of a busy town.

Creates a dedicated PostgreSQL database, migrates it, fills it with N requests (100,000 by
default) spread over the last 400 days with their timelines and ratings, using a few
INSERT … SELECT statements, then measures:

- the figures alone (`oversight.figures.dashboard` for the last 365 days), cold;
- the full /admin?period=365 page through the app, signed in as the city admin: cold (the
  figures cache off, every load computes the year), the first look with the cache on, and
  later looks as deployed (figures at most 30 s old, kept warm in the background);
- the public /stats?period=365 page, cold and as deployed;
- the CSV export of the same year, for reference.

The database is dropped afterwards (unless --keep).

    python -m bench dashboard                  # 100,000 requests, 7 rounds
    python -m bench dashboard --requests 20000 --rounds 3 --keep

PostgreSQL comes from BENCH_DATABASE_URL or TEST_DATABASE_URL
(default postgresql://postgres@127.0.0.1:5432/test: only its server is used).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncpg

from server.db.migrate import upgrade
from server.settings import Settings, normalise_database_url

# `make bench` (every benchmark, briefly): the full 100,000 requests, fewer rounds.
QUICK = ["--rounds", "3"]
DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
LIMIT_SECONDS = 1.0

EXTRA_ORGS = 16  # УК and ТСЖ beyond the test town's, so the tables have a realistic length
EXTRA_BUILDINGS = 400


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _admin(url: str, statement: str) -> None:
    conn = await asyncpg.connect(_plain(url))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


FILL = """
-- More organisations and buildings than the test town has.
INSERT INTO organisations (kind, name, short_name, active, created_at)
SELECT CASE WHEN g % 4 = 0 THEN 'tsj' ELSE 'uk' END, 'ООО «Замер ' || g || '»', 'Замер ' || g,
       true, now()
FROM generate_series(1, {extra_orgs}) g;

INSERT INTO buildings (street, house, search_key, manager_id, created_at)
SELECT 'улица Замерная ' || (g / 40), (g % 40 + 1)::text,
       lower('улица Замерная ' || (g / 40) || ' ' || (g % 40 + 1)),
       (SELECT id FROM organisations WHERE kind IN ('uk', 'tsj')
        ORDER BY id OFFSET (g % (SELECT count(*) FROM organisations
                                 WHERE kind IN ('uk', 'tsj'))) LIMIT 1),
       now()
FROM generate_series(1, {extra_buildings}) g;

CREATE TEMP TABLE bench_buildings AS
SELECT row_number() OVER (ORDER BY id) AS rn, id, manager_id FROM buildings
WHERE manager_id IS NOT NULL;
CREATE TEMP TABLE bench_categories AS
SELECT row_number() OVER (ORDER BY id) AS rn, id, deadline_minutes FROM categories;
CREATE TEMP TABLE bench_contractors AS
SELECT row_number() OVER (ORDER BY id) AS rn, id FROM organisations WHERE kind = 'contractor';

-- The random draws of each request, then the request built from them.
CREATE TEMP TABLE bench_src AS
SELECT g,
       now() - random() * interval '400 days' AS created,
       random() AS r_state,
       5 + random() * 600 AS assign_min,
       60 + random() * 4000 AS work_min,
       60 + random() * 3000 AS close_min,
       random() AS r_rework,
       1 + (g % (SELECT count(*) FROM bench_buildings)) AS b_rn,
       1 + ((g * 7) % (SELECT count(*) FROM bench_categories)) AS c_rn,
       1 + ((g * 13) % (SELECT count(*) FROM bench_contractors)) AS k_rn
FROM generate_series(1, {n}) g;

-- Old requests are mostly finished (a few stuck for good); the last fortnight is still moving.
CREATE TEMP TABLE bench_state AS
SELECT s.*,
       CASE WHEN s.created < now() - interval '14 days' THEN
           CASE WHEN r_state < 0.86 THEN 'closed'
                WHEN r_state < 0.92 THEN 'declined'
                WHEN r_state < 0.95 THEN 'cancelled'
                WHEN r_state < 0.965 THEN 'verified'
                WHEN r_state < 0.975 THEN 'done'
                WHEN r_state < 0.985 THEN 'in_progress'
                WHEN r_state < 0.99 THEN 'assigned'
                WHEN r_state < 0.995 THEN 'rework'
                ELSE 'new' END
       ELSE
           CASE WHEN r_state < 0.45 THEN 'closed'
                WHEN r_state < 0.50 THEN 'declined'
                WHEN r_state < 0.53 THEN 'cancelled'
                WHEN r_state < 0.63 THEN 'verified'
                WHEN r_state < 0.70 THEN 'done'
                WHEN r_state < 0.80 THEN 'in_progress'
                WHEN r_state < 0.88 THEN 'assigned'
                WHEN r_state < 0.92 THEN 'rework'
                ELSE 'new' END
       END AS state
FROM bench_src s;

INSERT INTO requests (number, resident_id, building_id, flat, category_id, description, source,
                      state, organisation_id, contractor_id, due_at, created_at, updated_at,
                      assigned_at, done_at, closed_at, rework_count, version)
SELECT 'Z-' || lpad(s.g::text, 8, '0'), {resident}, b.id, (1 + s.g % 120)::text, c.id,
       'Заявка для замера №' || s.g, CASE WHEN s.g % 5 = 0 THEN 'phone' ELSE 'web' END,
       s.state, b.manager_id,
       CASE WHEN s.state IN ('new', 'declined', 'cancelled') THEN NULL ELSE k.id END,
       s.created + c.deadline_minutes * interval '1 minute',
       s.created, s.created,
       CASE WHEN s.state IN ('new', 'declined', 'cancelled') THEN NULL
            ELSE s.created + s.assign_min * interval '1 minute' END,
       CASE WHEN s.state IN ('done', 'verified', 'closed', 'rework')
            THEN s.created + (s.assign_min + s.work_min) * interval '1 minute' END,
       CASE WHEN s.state = 'closed'
            THEN s.created + (s.assign_min + s.work_min + s.close_min) * interval '1 minute' END,
       CASE WHEN s.state = 'rework' THEN 1
            WHEN s.state = 'closed' AND s.r_rework < 0.15 THEN 1 ELSE 0 END,
       1
FROM bench_state s
JOIN bench_buildings b ON b.rn = s.b_rn
JOIN bench_categories c ON c.rn = s.c_rn
JOIN bench_contractors k ON k.rn = s.k_rn;

INSERT INTO timeline_entries (request_id, at, kind, from_state, to_state, actor_role, text, data)
SELECT id, created_at, 'file', NULL, 'new', 'resident', '', '{{}}'::json FROM requests
UNION ALL
SELECT id, assigned_at, 'assign', 'new', 'assigned', 'dispatcher', '', '{{}}'::json
FROM requests WHERE assigned_at IS NOT NULL
UNION ALL
SELECT id, assigned_at + interval '20 minutes', 'start', 'assigned', 'in_progress', 'worker',
       '', '{{}}'::json
FROM requests WHERE assigned_at IS NOT NULL AND state <> 'assigned'
UNION ALL
SELECT id, done_at, 'complete', 'in_progress', 'done', 'worker', '', '{{}}'::json
FROM requests WHERE done_at IS NOT NULL
UNION ALL
SELECT id, done_at + interval '1 hour', 'return', 'done', 'rework', 'dispatcher',
       'Не устранено', '{{}}'::json
FROM requests WHERE rework_count > 0
UNION ALL
SELECT id, done_at + interval '2 hours', 'verify', 'done', 'verified', 'dispatcher', '',
       '{{}}'::json
FROM requests WHERE state IN ('verified', 'closed')
UNION ALL
SELECT id, closed_at, 'confirm', 'verified', 'closed', 'resident', '', '{{}}'::json
FROM requests WHERE state = 'closed'
UNION ALL
SELECT id, created_at + interval '3 hours', 'decline', 'new', 'declined', 'dispatcher',
       'Не наша зона', '{{}}'::json
FROM requests WHERE state = 'declined'
UNION ALL
SELECT id, created_at + interval '10 minutes', 'cancel', 'new', 'cancelled', 'resident', '',
       '{{}}'::json
FROM requests WHERE state = 'cancelled';

INSERT INTO ratings (request_id, resident_id, score, comment, created_at)
SELECT id, {resident}, 1 + (id % 5), '', closed_at FROM requests
WHERE state = 'closed' AND id % 2 = 0;

UPDATE requests SET number = to_char(created_at, 'YYYY') || '-' || lpad(id::text, 6, '0');
"""


async def fill(url: str, n: int) -> dict[str, Any]:
    from tests.world import build_world

    settings = _settings(url)
    world = await build_world(settings)
    started = time.perf_counter()
    conn = await asyncpg.connect(_plain(url))
    try:
        await conn.execute(
            FILL.format(
                n=n,
                resident=world.users["resident"],
                extra_orgs=EXTRA_ORGS,
                extra_buildings=EXTRA_BUILDINGS,
            )
        )
        # What autovacuum does on a live database: statistics and the visibility map (which
        # lets the dashboard read its index alone).
        for table in ("requests", "timeline_entries", "ratings"):
            await conn.execute(f"VACUUM ANALYZE {table}")
        counts = {
            table: await conn.fetchval(f"SELECT count(*) FROM {table}")
            for table in ("requests", "timeline_entries", "ratings", "organisations", "buildings")
        }
    finally:
        await conn.close()
    counts["fill_seconds"] = round(time.perf_counter() - started, 1)
    return counts


def _settings(url: str) -> Settings:
    media = Path(tempfile.mkdtemp(prefix="zayavka-bench-"))
    return Settings.from_env(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "BASE_URL": "http://bench.local",
            "MEDIA_DIR": str(media),
            "BROADCAST_URL": "memory://",
            "DEADLINE_WATCH_SECONDS": "0",
            "WEBHOOK_POLL_SECONDS": "0",
        }
    )


def _timed(fn: Callable[[], Any], rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


async def _service_times(url: str, rounds: int) -> list[float]:
    from server.db.session import Database
    from server.live.bus import EventBus
    from server.oversight import figures
    from server.oversight.periods import Period
    from server.shared.services import Services

    db = Database(url)
    svc = Services(settings=_settings(url), db=db, bus=EventBus())
    try:
        period = Period.last_days(365)
        await figures.dashboard(svc, period)  # connect and warm the pool
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            board = await figures.dashboard(svc, period)
            times.append(time.perf_counter() - started)
        assert board.total.filed > 0
        return times
    finally:
        await db.dispose()


def _page_times(url: str, rounds: int) -> dict[str, list[float]]:
    import dataclasses

    from litestar.testing import TestClient

    from server.app import create_app
    from tests.http import login

    results: dict[str, list[float]] = {}
    # Cold: the figures cache off, so every load computes the year.
    cold = dataclasses.replace(_settings(url), extra={"stats_cache_seconds": "0"})
    with TestClient(create_app(cold)) as client:
        login(client, "cityadmin")
        client.get("/admin?period=365")  # warm the pool and the templates

        def admin() -> None:
            page = client.get("/admin?period=365")
            assert page.status_code == 200 and "Мониторинг заявок" in page.text

        results["admin_cold"] = _timed(admin, rounds)
        results["public_cold"] = _timed(lambda: client.get("/stats?period=365"), rounds)
        results["csv_export"] = _timed(lambda: client.get("/admin/export.csv?period=365"), 1)
    # As deployed: the first look computes, later looks read figures at most 30 s old.
    with TestClient(create_app(_settings(url))) as client:
        login(client, "cityadmin")
        results["admin_first"] = _timed(admin_page(client), 1)
        results["admin_warm"] = _timed(admin_page(client), rounds)
        results["public_warm"] = _timed(lambda: client.get("/stats?period=365"), rounds)
    return results


def admin_page(client: Any) -> Callable[[], None]:
    def load() -> None:
        page = client.get("/admin?period=365")
        assert page.status_code == 200 and "Мониторинг заявок" in page.text

    return load


def _summary(times: list[float]) -> str:
    ms = sorted(t * 1000 for t in times)
    return f"median {statistics.median(ms):7.0f} ms   best {ms[0]:7.0f} ms   worst {ms[-1]:7.0f} ms"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench dashboard", description=__doc__)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument(
        "--database", help="measure an existing (kept) bench database instead of filling one"
    )
    args = parser.parse_args(argv)

    base = normalise_database_url(
        os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_URL
    )
    if not base.startswith("postgresql"):
        print("bench dashboard needs PostgreSQL (BENCH_DATABASE_URL).", file=sys.stderr)
        return 2
    name = args.database or f"zayavka_bench_{uuid.uuid4().hex[:10]}"
    admin_url = base.rsplit("/", 1)[0] + "/postgres"
    url = base.rsplit("/", 1)[0] + "/" + name
    if args.database:
        args.keep = True
    else:
        try:
            asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
        except (OSError, asyncpg.PostgresError) as exc:
            print(f"PostgreSQL is not reachable at {admin_url}: {exc}", file=sys.stderr)
            return 2
    try:
        upgrade(url)
        if not args.database:
            print(f"database {name}: filling {args.requests:,} requests…", flush=True)
            counts = asyncio.run(fill(url, args.requests))
            print(
                f"  {counts['requests']:,} requests, {counts['timeline_entries']:,} timeline "
                f"entries, {counts['ratings']:,} ratings, {counts['organisations']} "
                f"organisations, {counts['buildings']} buildings in {counts['fill_seconds']} s",
                flush=True,
            )
        service = asyncio.run(_service_times(url, args.rounds))
        pages = _page_times(url, args.rounds)
        load = os.getloadavg()
        print(f"load average while measuring: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        print(f"stats service, one year, cold     {_summary(service)}")
        print(f"/admin?period=365, cold           {_summary(pages['admin_cold'])}")
        print(f"/admin?period=365, first look     {_summary(pages['admin_first'])}")
        print(f"/admin?period=365, as deployed    {_summary(pages['admin_warm'])}")
        print(f"/stats?period=365, cold           {_summary(pages['public_cold'])}")
        print(f"/stats?period=365, as deployed    {_summary(pages['public_warm'])}")
        print(f"CSV export of the year            {_summary(pages['csv_export'])}")
        worst = max(pages["admin_cold"])
        verdict = "OK" if worst < LIMIT_SECONDS else "TOO SLOW"
        limit = LIMIT_SECONDS * 1000
        print(f"worst cold full page {worst * 1000:.0f} ms; limit {limit:.0f} ms: {verdict}")
        return 0 if worst < LIMIT_SECONDS else 1
    finally:
        if args.keep:
            print(f"kept database {url}")
        else:
            asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
