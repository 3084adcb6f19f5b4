"""Shared fixtures: a real database (SQLite file, or PostgreSQL when TEST_DATABASE_URL is set),
migrated with Alembic once per run and emptied between tests, and a small town to work in."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from server.db.migrate import upgrade
from server.db.models import Base
from server.settings import Settings, normalise_database_url
from tests.world import World, build_world

TEST_DB = os.environ.get("TEST_DATABASE_URL", "")


def run_async(awaitable_factory, *args):  # type: ignore[no-untyped-def]
    """Run async set-up code on its own thread: Playwright's sync API owns the main loop."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(awaitable_factory(*args))).result()


def run_in_thread(fn, *args):  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args).result()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh database for this test run, migrated to head."""
    if TEST_DB:
        base = normalise_database_url(TEST_DB)
        name = f"zayavka_test_{uuid.uuid4().hex[:10]}"
        admin_url = base.rsplit("/", 1)[0] + "/postgres"
        url = base.rsplit("/", 1)[0] + "/" + name
        run_async(_pg_admin, admin_url, f'CREATE DATABASE "{name}"')
        try:
            run_in_thread(upgrade, url)
            yield url
        finally:
            run_async(_pg_admin, admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        path = tmp_path_factory.mktemp("db") / "test.db"
        url = f"sqlite+aiosqlite:///{path}"
        run_in_thread(upgrade, url)
        yield url


async def _pg_admin(url: str, statement: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def _empty(url: str) -> None:
    from server.db.session import Database

    db = Database(url)
    try:
        async with db.begin() as session:
            tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
            if db.is_postgres:
                await session.execute(
                    text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
                )
            else:
                for table in tables:
                    await session.execute(text(f"DELETE FROM {table}"))
    finally:
        await db.dispose()


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return empty_town_settings(database_url, tmp_path)


def empty_town_settings(database_url: str, work_dir: Path) -> Settings:
    """Empty the test database; the settings of an app on it, its media under `work_dir`."""
    run_async(_empty, database_url)
    return Settings.from_env(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key-not-for-production-0123456789",
            "BASE_URL": "http://testserver.local",
            "MEDIA_DIR": str(work_dir / "media"),
            "BROADCAST_URL": "memory://",
            "LOGIN_ATTEMPTS_PER_MINUTE": "100000",
        }
    )


@pytest.fixture
def world(settings: Settings) -> World:
    """A small town: two УК, a ТСЖ, a water supplier, contractors, buildings, people."""
    return run_async(build_world, settings)
