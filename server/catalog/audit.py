"""The audit log: each change a system administrator makes to people, roles and organisations,
written in the same transaction as the change, and read back on the sysadmin's pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum, StrEnum
from typing import Any, Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.db.models import AuditEntry, User
from server.db.session import Database
from server.shared.errors import Forbidden
from server.shared.roles import Actor, Role

PAGE_SIZE = 100
# Never written to the log, whatever a caller hands over: a reset is logged as the fact alone.
SECRET_FIELDS = frozenset({"password", "password_hash"})
# What names a person: gone from the log with their account (152-ФЗ), what was done remains.
PERSONAL_FIELDS = frozenset({"login", "name", "phone"})

R = TypeVar("R")


class AuditAction(StrEnum):
    USER_CREATED = "user_created"
    USER_CHANGED = "user_changed"
    USER_ACTIVATED = "user_activated"
    USER_DEACTIVATED = "user_deactivated"
    PASSWORD_RESET = "password_reset"
    ORGANISATION_CREATED = "organisation_created"
    ORGANISATION_CHANGED = "organisation_changed"
    ORGANISATION_ACTIVATED = "organisation_activated"
    ORGANISATION_DEACTIVATED = "organisation_deactivated"
    CONTRACTOR_LINKED = "contractor_linked"
    CONTRACTOR_UNLINKED = "contractor_unlinked"
    BUILDING_CREATED = "building_created"
    BUILDING_CHANGED = "building_changed"
    BUILDINGS_IMPORTED = "buildings_imported"
    CATEGORY_CREATED = "category_created"
    CATEGORY_CHANGED = "category_changed"
    ACCOUNT_DELETED = "account_deleted"  # by the resident, for their own account


class AuditObject(StrEnum):
    USER = "user"
    ORGANISATION = "organisation"
    BUILDING = "building"
    CATEGORY = "category"


@dataclass(frozen=True)
class Audited(Generic[R]):
    """How changes to one kind of record are logged: under which name, whether it is switched
    on and off, and which columns are left out (ones derived from others, not worth a line of
    their own). The actions are the object's: `<object>_created`, `<object>_changed`…"""

    object_type: AuditObject
    name: Callable[[R], str]  # the entry's summary: the record as people know it
    switchable: bool = False  # switched off rather than deleted (organisations, accounts)
    derived: frozenset[str] = frozenset()

    def action(self, what: str) -> AuditAction:
        return AuditAction(f"{self.object_type}_{what}")

    def added(self, session: AsyncSession, actor: Actor, row: R, values: dict[str, Any]) -> None:
        # A field left blank on a new record (an optional translation) is no news.
        changes = changed_fields({}, {k: v for k, v in self._shown(values).items() if v != ""})
        self._write(session, actor, self.action("created"), row, changes)

    def edited(
        self,
        session: AsyncSession,
        actor: Actor,
        row: R,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        """Logged only when something really differs: saving an unchanged form is no change."""
        changes = changed_fields(self._shown(before), self._shown(after))
        if changes:
            self._write(session, actor, self.action("changed"), row, changes)

    def switched(self, session: AsyncSession, actor: Actor, row: R, was: bool, now: bool) -> None:
        if self.switchable and was != now:
            action = self.action("activated" if now else "deactivated")
            self._write(session, actor, action, row, {"active": [was, now]})

    def _shown(self, values: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in values.items() if k not in self.derived}

    def _write(
        self,
        session: AsyncSession,
        actor: Actor,
        action: AuditAction,
        row: R,
        changes: dict[str, list[Any]],
    ) -> None:
        record(
            session,
            actor,
            action,
            self.object_type,
            getattr(row, "id", None),
            self.name(row),
            changes=changes,
        )


# Accounts are written by the sign-in side (creation) and the catalogue (switches, passwords).
USERS: Audited[User] = Audited(AuditObject.USER, name=lambda user: user.login, switchable=True)


def record(
    session: AsyncSession,
    actor: Actor,
    action: AuditAction,
    object_type: str,
    object_id: int | None,
    summary: str = "",
    **details: Any,
) -> None:
    """Add the entry to the change's own transaction: both are kept, or neither."""
    session.add(
        AuditEntry(
            actor_id=actor.user_id,
            action=action,
            object_type=object_type,
            object_id=object_id,
            summary=summary,
            details={k: v for k, v in details.items() if k not in SECRET_FIELDS},
        )
    )


async def forget_person(session: AsyncSession, user_id: int) -> None:
    """Take a deleted account's name, login and phone out of the entries about it."""
    about = await session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == AuditObject.USER, AuditEntry.object_id == user_id
        )
    )
    for entry in about:
        details = {k: v for k, v in (entry.details or {}).items() if k not in PERSONAL_FIELDS}
        if isinstance(details.get("changes"), dict):
            details["changes"] = {
                k: v for k, v in details["changes"].items() if k not in PERSONAL_FIELDS
            }
        entry.details = details
        entry.summary = f"#{user_id}"


def _plain(value: Any) -> Any:
    """A value as the JSON column keeps it: an enum member becomes its value."""
    return value.value if isinstance(value, Enum) else value


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field → [old, new] for what differs; a password or its hash is never among them."""
    return {
        k: [_plain(before.get(k)), _plain(v)]
        for k, v in after.items()
        if k not in SECRET_FIELDS and before.get(k) != v
    }


async def entries(db: Database, actor: Actor, page: int = 1) -> tuple[list[AuditEntry], int]:
    """Newest first, a page at a time, with the total count."""
    if actor.role is not Role.SYSADMIN:
        raise Forbidden()
    page = max(1, page)
    async with db.read() as session:
        total = await session.scalar(select(func.count(AuditEntry.id))) or 0
        rows = (
            await session.scalars(
                select(AuditEntry)
                .options(selectinload(AuditEntry.actor))
                .order_by(AuditEntry.id.desc())
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
        ).all()
    return list(rows), total
