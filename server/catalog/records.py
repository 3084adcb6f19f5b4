"""Reading, adding, changing and switching settings records, written once for every kind.

Each change runs in one transaction, together with its entry in the audit log. A unique column
that is already taken comes back as the message for its field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.catalog.access import require_reader, require_sysadmin
from server.catalog.audit import Audited
from server.db.session import Database
from server.shared.errors import InvalidInput, NotFound
from server.shared.roles import Actor


class Switchable(Protocol):
    id: int
    active: bool


R = TypeVar("R")
F = TypeVar("F")
S = TypeVar("S", bound=Switchable)


@dataclass(frozen=True)
class Taken:
    """The field to blame, and what to say, when a unique value is already in use."""

    field: str
    message: Callable[[], str]

    def error(self) -> InvalidInput:
        return InvalidInput(**{self.field: self.message()})


@dataclass(frozen=True)
class Kind(Generic[R, F]):
    """One kind of settings record (a table) and the rules its form is checked by; the city
    administration reads it, the system admin changes it.

    `values` gets the session, the form and, when changing, the stored record; it returns the
    columns to write or raises `InvalidInput`.
    """

    model: type[R]
    missing: Callable[[], str]
    taken: Taken
    values: Callable[[AsyncSession, F, R | None], Awaitable[dict[str, Any]]]
    audited: Audited[R]

    async def get(self, db: Database, actor: Actor, record_id: int) -> R:
        require_reader(actor)
        async with db.read() as session:
            record = await session.get(self.model, record_id)
        if record is None:
            raise NotFound(self.missing())
        return record

    async def add(self, db: Database, actor: Actor, form: F) -> R:
        require_sysadmin(actor)
        try:
            async with db.begin() as session:
                values = await self.values(session, form, None)
                record = self.model(**values)
                session.add(record)
                await session.flush()
                self.audited.added(session, actor, record, values)
                return record
        except IntegrityError:
            raise self.taken.error() from None

    async def change(self, db: Database, actor: Actor, record_id: int, form: F) -> R:
        require_sysadmin(actor)
        try:
            async with db.begin() as session:
                record = await session.get(self.model, record_id)
                if record is None:
                    raise NotFound(self.missing())
                values = await self.values(session, form, record)
                await write_changes(session, actor, self.audited, record, values)
                return record
        except IntegrityError:
            raise self.taken.error() from None


async def write_changes(
    session: AsyncSession, actor: Actor, audited: Audited[R], record: R, values: dict[str, Any]
) -> None:
    """Set the columns, and log what they were and what they are now."""
    before = {key: getattr(record, key) for key in values}
    for key, value in values.items():
        setattr(record, key, value)
    await session.flush()
    audited.edited(session, actor, record, before, values)


async def switch(
    db: Database,
    actor: Actor,
    model: type[S],
    audited: Audited[S],
    record_id: int,
    missing: Callable[[], str],
    active: bool,
) -> S:
    """Switched off, nothing is deleted: the record stays for what already refers to it."""
    async with db.begin() as session:
        record = await session.get(model, record_id)
        if record is None:
            raise NotFound(missing())
        audited.switched(session, actor, record, record.active, active)
        record.active = active
        return record
