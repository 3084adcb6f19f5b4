"""The register of houses: address, who manages it, where it stands on the map."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.catalog import records
from server.catalog.access import LIST_LIMIT, require_reader, require_sysadmin
from server.catalog.organisations import organisations_of_kinds
from server.catalog.values import decimal, in_range, one_line
from server.db.models import Building, Organisation
from server.db.session import Database
from server.i18n import gettext as _
from server.i18n import gettext_lazy
from server.shared.errors import InvalidInput
from server.shared.forms import DB_INT_MAX, Form
from server.shared.roles import Actor, OrgKind

# Who may manage a house.
MANAGER_KINDS = frozenset({OrgKind.UK, OrgKind.TSJ})
NOT_A_MANAGER = gettext_lazy("Дом обслуживает УК или ТСЖ: выберите из списка.")

ManagerId = Annotated[int, msgspec.Meta(ge=1, le=DB_INT_MAX, extra={"error": NOT_A_MANAGER})]


class BuildingForm(Form):
    street: str = ""
    house: str = ""
    manager_id: ManagerId | None = None
    # Typed with a decimal comma as often as with a point.
    latitude: str = ""
    longitude: str = ""
    floors: int | None = None
    flats: int | None = None

    @classmethod
    def of(cls, building: Building) -> BuildingForm:
        def text(value: float | None) -> str:
            return "" if value is None else str(value)

        return cls(
            street=building.street,
            house=building.house,
            manager_id=building.manager_id,
            latitude=text(building.latitude),
            longitude=text(building.longitude),
            floors=building.floors,
            flats=building.flats,
        )


def search_key(street: str, house: str) -> str:
    return f"{street} {house}".lower()


def _missing() -> str:
    return _("Дом не найден.")


TAKEN_ADDRESS = records.Taken("house", lambda: _("Такой дом уже есть в реестре."))


def building_values(form: BuildingForm, errors: dict[str, str]) -> dict[str, Any]:
    """The columns a house form gives, apart from its manager; mistakes go to `errors`."""
    street = one_line(form.street)
    if not street:
        errors["street"] = _("Укажите улицу.")
    elif len(street) > 200:
        errors["street"] = _("Улица — не длиннее 200 знаков.")
    house = one_line(form.house)
    if not house:
        errors["house"] = _("Укажите номер дома.")
    elif len(house) > 20:
        errors["house"] = _("Номер дома — не длиннее 20 знаков.")
    return {
        "street": street,
        "house": house,
        "search_key": search_key(street, house),
        "latitude": decimal(form.latitude, "latitude", errors, -90, 90),
        "longitude": decimal(form.longitude, "longitude", errors, -180, 180),
        "floors": in_range(form.floors, "floors", errors, 1, 200),
        "flats": in_range(form.flats, "flats", errors, 1, 10_000),
    }


async def _values(session: AsyncSession, form: BuildingForm) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values = building_values(form, errors)
    values["manager_id"] = None
    if form.manager_id is not None:
        manager = await session.get(Organisation, form.manager_id)
        if manager is None or OrgKind(manager.kind) not in MANAGER_KINDS:
            errors["manager_id"] = str(NOT_A_MANAGER)
        else:
            values["manager_id"] = manager.id
    if errors:
        raise InvalidInput(**errors)
    return values


async def list_buildings(
    db: Database, actor: Actor, query: str = "", limit: int = LIST_LIMIT
) -> list[Building]:
    require_reader(actor)
    words = [w for w in query.lower().replace(",", " ").split() if w][:4]
    stmt = select(Building).options(selectinload(Building.manager))
    for word in words:
        stmt = stmt.where(Building.search_key.contains(word))
    async with db.read() as session:
        return list(
            await session.scalars(stmt.order_by(Building.street, Building.house).limit(limit))
        )


async def count_buildings(db: Database, actor: Actor) -> int:
    require_reader(actor)
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Building)) or 0


async def get_building(db: Database, actor: Actor, building_id: int) -> Building:
    require_reader(actor)
    return await records.get(db, Building, building_id, _missing)


async def create_building(db: Database, actor: Actor, form: BuildingForm) -> Building:
    require_sysadmin(actor)

    return await records.add(db, Building, lambda session: _values(session, form), TAKEN_ADDRESS)


async def update_building(
    db: Database, actor: Actor, building_id: int, form: BuildingForm
) -> Building:
    require_sysadmin(actor)

    return await records.change(
        db,
        Building,
        building_id,
        _missing,
        lambda session, _record: _values(session, form),
        TAKEN_ADDRESS,
    )


async def managers(db: Database) -> list[Organisation]:
    """Organisations that may manage a house (УК, ТСЖ)."""
    return await organisations_of_kinds(db, MANAGER_KINDS)
