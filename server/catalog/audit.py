"""The audit log: each change a system administrator makes to people, roles and organisations,
written in the same transaction as the change, and read back on the sysadmin's pages."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.db.models import AuditEntry
from server.db.session import Database
from server.shared.errors import Forbidden
from server.shared.roles import Actor, Role

PAGE_SIZE = 100


class AuditAction(StrEnum):
    USER_CREATED = "user_created"
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
            details=details,
        )
    )


def changed_fields(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Field → [old, new] for what differs; passwords never reach this."""
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


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
