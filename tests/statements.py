"""Counting what an engine sends: every statement `before_cursor_execute` reports, and each
commit, with the asyncio task that ran it (used by tests and bench/filing.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from server.db.session import Database

COMMIT = "<commit>"


class Recorder:
    """Statements and commits on an engine from now on, with the task that ran each."""

    def __init__(self, db: Database) -> None:
        self.log: list[tuple[asyncio.Task[Any] | None, str]] = []
        engine = db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", lambda _conn: self._note(COMMIT))

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self._note(" ".join(statement.split()))

    def _note(self, what: str) -> None:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        self.log.append((task, what))

    def of_the_filing(self) -> list[str]:
        """The entries of the task that wrote a request: the filing POST's own (background
        workers woken by its commit read on tasks of their own)."""
        filer = next(t for t, s in self.log if "INSERT INTO requests" in s)
        return [s for t, s in self.log if t is filer]


def statements(entries: list[str]) -> list[str]:
    return [s for s in entries if s != COMMIT]
