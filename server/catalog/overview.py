"""The settings at a glance: how many of each, and how many houses nobody manages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from server.catalog.access import require_reader
from server.db.models import Building, Category, Organisation, User
from server.db.session import Database
from server.shared.roles import Actor


@dataclass
class Overview:
    organisations: int
    buildings: int
    unmanaged_buildings: int
    categories: int
    users: int


async def overview(db: Database, actor: Actor) -> Overview:
    require_reader(actor)
    async with db.read() as session:

        async def count(model: Any, *where: Any) -> int:
            return await session.scalar(select(func.count()).select_from(model).where(*where)) or 0

        return Overview(
            organisations=await count(Organisation),
            buildings=await count(Building),
            unmanaged_buildings=await count(Building, Building.manager_id.is_(None)),
            categories=await count(Category),
            users=await count(User),
        )
