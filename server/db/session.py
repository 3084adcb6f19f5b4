"""Engine and session factory. Services open their own transactions with `db.begin()`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


@dataclass(frozen=True)
class PoolSize:
    """Connections one process keeps open, to PostgreSQL or to the SQLite file.

    `size` is the requests one process runs against the database at once (a process serves
    about 20 concurrent filings before its CPU is the limit); a request beyond it waits for a
    free connection instead of queueing inside the database. No overflow by default: an
    overflow connection is closed as soon as it is returned, so a steady load above `size`
    would open and close one per request. `size + overflow` per process, times the
    processes, must stay below PostgreSQL's `max_connections` (docs/requests.md).
    """

    size: int = 20
    overflow: int = 0
    timeout: float = 30.0  # seconds a request waits for a free connection before failing
    recycle: int = 1800  # seconds: reconnect before idle-killing proxies drop a connection


def make_engine(url: str, pool: PoolSize | None = None, **kwargs: Any) -> AsyncEngine:
    pool = pool or PoolSize()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            # A queue pool (aiosqlite's default for a file) of the same size: each connection
            # is a thread of its own with its pragmas set once; WAL lets the readers run side
            # by side, and writers queue at BEGIN IMMEDIATE. No recycle: no server drops them.
            kwargs.setdefault("pool_size", pool.size)
            kwargs.setdefault("max_overflow", pool.overflow)
            kwargs.setdefault("pool_timeout", pool.timeout)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        event.listen(engine.sync_engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_size", pool.size)
    kwargs.setdefault("max_overflow", pool.overflow)
    kwargs.setdefault("pool_timeout", pool.timeout)
    kwargs.setdefault("pool_recycle", pool.recycle)
    # No ping on every checkout (with asyncpg that is BEGIN, a query and ROLLBACK before each
    # use): a connection the server dropped fails its first statement instead, SQLAlchemy then
    # discards the whole pool, and that one request is answered 503.
    kwargs.setdefault("pool_pre_ping", False)
    return create_async_engine(url, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Take control of transactions so that BEGIN IMMEDIATE below is honoured.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Any) -> None:
    # Writers queue up at BEGIN instead of failing with "database is locked" half-way;
    # readers take no lock at all. A single statement is atomic by itself: no BEGIN.
    options = conn.get_execution_options()
    if options.get("single"):
        return
    if options.get("write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


class Database:
    def __init__(self, url: str, pool: PoolSize | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, pool, **engine_kwargs)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = async_sessionmaker(
            self.engine.execution_options(write=True), expire_on_commit=False
        )
        single: dict[str, Any] = {"single": True}
        if self.is_postgres:
            single["isolation_level"] = "AUTOCOMMIT"
        self._single = async_sessionmaker(
            self.engine.execution_options(**single), expire_on_commit=False
        )

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed when the block ends, rolled back on any error."""
        async with self._writer() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session:
            yield session

    @asynccontextmanager
    async def single(self) -> AsyncIterator[AsyncSession]:
        """For work that is ONE statement, atomic by itself (a keyed read, an upsert): no
        BEGIN and COMMIT around it, which on a hot path are two of its three round trips.
        Each statement is committed as it runs; never run two that must agree."""
        async with self._single() as session:
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
