"""Telling a database outage from a bug, and how background work waits one out."""

from __future__ import annotations

import logging

import asyncpg
import pytest
from sqlalchemy import exc as sa_exc

from server.shared.outage import OutagePause, is_outage

log = logging.getLogger("test.outage")


def test_refused_closed_and_shutting_down_connections_are_outages() -> None:
    refused = ConnectionRefusedError(111, "Connection refused")
    assert is_outage(refused)
    assert is_outage(OSError("Multiple exceptions: [Errno 111] Connect call failed"))
    assert is_outage(TimeoutError())
    assert is_outage(sa_exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")))
    assert is_outage(sa_exc.OperationalError("SELECT 1", {}, Exception("gone")))
    assert is_outage(asyncpg.CannotConnectNowError("the database system is shutting down"))
    assert is_outage(asyncpg.AdminShutdownError("terminating connection"))
    assert is_outage(asyncpg.ConnectionDoesNotExistError("connection was closed"))
    wrapped = RuntimeError("while rendering")
    wrapped.__cause__ = refused
    assert is_outage(wrapped), "found through the chain of causes"


def test_bugs_and_refused_values_are_not_outages() -> None:
    assert not is_outage(ValueError("bad"))
    assert not is_outage(KeyError("state"))
    assert not is_outage(sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert not is_outage(asyncpg.UniqueViolationError("duplicate key"))
    loop = RuntimeError("a")
    loop.__cause__ = loop
    assert not is_outage(loop)


def test_pause_warns_once_waits_longer_each_round_and_notes_the_resume(
    caplog: pytest.LogCaptureFixture,
) -> None:
    pause = OutagePause("outbox worker", log, first=2.0, cap=60.0)
    caplog.set_level(logging.INFO, logger="test.outage")
    assert pause.failed(ValueError("a bug"), 1.0) is None, "a bug is the caller's to report"
    assert not pause.paused and caplog.records == []

    waits = [pause.failed(ConnectionRefusedError(111, "refused"), 1.0) for _ in range(8)]
    assert pause.paused
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "outbox worker: database unavailable" in caplog.records[0].getMessage()
    assert all(w is not None and 1.0 <= w <= 60.0 for w in waits)
    assert waits[-1] is not None and waits[0] is not None and waits[-1] > waits[0] * 4

    pause.succeeded()
    pause.succeeded()
    assert [r.levelname for r in caplog.records] == ["WARNING", "INFO"]
    assert "outbox worker: database answers again" in caplog.records[1].getMessage()
    assert not pause.paused
    again = pause.failed(ConnectionRefusedError(111, "refused"))
    assert again is not None and again <= 2.0, "the back-off starts over after a recovery"


def test_pause_never_waits_less_than_the_loops_own_interval() -> None:
    pause = OutagePause("deadline watch", log, first=2.0, cap=60.0)
    assert pause.failed(ConnectionResetError(), 60.0) == 60.0
