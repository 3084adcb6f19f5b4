"""Adding, changing and switching settings records, written once for every kind of record.

Each runs in one transaction. A record's own rules come in as `values`: given the session (and
the stored record when changing), they return the columns to write or raise `InvalidInput`. A
unique column that is already taken comes back as the message for its field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.db.session import Database
from server.shared.errors import InvalidInput, NotFound


class Switchable(Protocol):
    active: bool


R = TypeVar("R")
S = TypeVar("S", bound=Switchable)


@dataclass(frozen=True)
class Taken:
    """The field to blame, and what to say, when a unique value is already in use."""

    field: str
    message: Callable[[], str]

    def error(self) -> InvalidInput:
        return InvalidInput(**{self.field: self.message()})


async def get(db: Database, model: type[R], record_id: int, missing: Callable[[], str]) -> R:
    async with db.read() as session:
        record = await session.get(model, record_id)
    if record is None:
        raise NotFound(missing())
    return record


async def add(
    db: Database,
    model: Callable[..., R],
    values: Callable[[AsyncSession], Awaitable[dict[str, Any]]],
    taken: Taken,
) -> R:
    try:
        async with db.begin() as session:
            record = model(**await values(session))
            session.add(record)
            await session.flush()
            return record
    except IntegrityError:
        raise taken.error() from None


async def change(
    db: Database,
    model: type[R],
    record_id: int,
    missing: Callable[[], str],
    values: Callable[[AsyncSession, R], Awaitable[dict[str, Any]]],
    taken: Taken,
) -> R:
    try:
        async with db.begin() as session:
            record = await session.get(model, record_id)
            if record is None:
                raise NotFound(missing())
            for key, value in (await values(session, record)).items():
                setattr(record, key, value)
            await session.flush()
            return record
    except IntegrityError:
        raise taken.error() from None


async def switch(
    db: Database, model: type[S], record_id: int, missing: Callable[[], str], active: bool
) -> S:
    """Switched off, nothing is deleted: the record stays for what already refers to it."""
    async with db.begin() as session:
        record = await session.get(model, record_id)
        if record is None:
            raise NotFound(missing())
        record.active = active
        return record
