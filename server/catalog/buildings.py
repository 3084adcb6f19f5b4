"""The register of houses: address, who manages it, where it stands on the map."""

from __future__ import annotations

import re
from typing import Annotated, Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.catalog import records
from server.catalog.access import LIST_LIMIT, require_reader
from server.catalog.audit import Audited, AuditObject
from server.catalog.organisations import organisations_of_kinds
from server.catalog.values import checked, decimal, in_range, line, picked
from server.db.models import Building, Organisation
from server.db.session import Database
from server.i18n import gettext as _
from server.i18n import gettext_lazy
from server.shared.forms import Form
from server.shared.roles import Actor, OrgKind

# Who may manage a house.
MANAGER_KINDS = frozenset({OrgKind.UK, OrgKind.TSJ})
NOT_A_MANAGER = gettext_lazy("Дом обслуживает УК или ТСЖ: выберите из списка.")


class BuildingForm(Form):
    street: str = ""
    house: str = ""
    manager_id: Annotated[int, picked(NOT_A_MANAGER)] | None = None
    # Typed with a decimal comma as often as with a point.
    latitude: str = ""
    longitude: str = ""
    floors: int | None = None
    flats: int | None = None

    @classmethod
    def of(cls, building: Building) -> BuildingForm:
        def text(value: float | None) -> str:
            return "" if value is None else str(value)

        same = {
            k: getattr(building, k) for k in ("street", "house", "manager_id", "floors", "flats")
        }
        return cls(**same, latitude=text(building.latitude), longitude=text(building.longitude))


def search_key(street: str, house: str) -> str:
    return f"{street} {house}".lower()


# The parts of a Russian house number after its leading figure, in the order a postman walks:
# a letter (литера, 5А), a block (корпус, 5к1), a structure (строение, 5с2), a fraction (5/2).
_HOUSE_PART = re.compile(r"\d+|корпус|корп|к|строение|стр|с|/|[^\W\d_]+")
_MARKER_RANK = {"корпус": 2, "корп": 2, "к": 2, "строение": 3, "стр": 3, "с": 3, "/": 4}
_LETTER_RANK = 1

HouseOrder = tuple[int, tuple[tuple[int, int, str], ...], str]


def house_order(house: str) -> HouseOrder:
    """A sort key putting house numbers in natural order: 5 < 5А < 5к1 < 5/2 < 15."""
    text = house.lower().replace(" ", "").replace(".", "")
    number = re.match(r"\d+", text)
    if number is None:
        # No figure first (a name, «б/н»): after every numbered house, alphabetically.
        return (2**31, (), text)
    parts: list[tuple[int, int, str]] = []
    for part in _HOUSE_PART.findall(text, number.end()):
        if part.isdigit():
            parts.append((0, int(part), ""))
        elif part in _MARKER_RANK:
            parts.append((_MARKER_RANK[part], 0, ""))
        else:
            parts.append((_LETTER_RANK, 0, part))
    return (int(number.group()), tuple(parts), text)


def building_values(form: BuildingForm, errors: dict[str, str]) -> dict[str, Any]:
    """The columns a house form gives, apart from its manager; mistakes go to `errors`."""
    street = line(
        form.street, "street", errors, 200, _("Улица — не длиннее 200 знаков."), _("Укажите улицу.")
    )
    house = line(
        form.house,
        "house",
        errors,
        20,
        _("Номер дома — не длиннее 20 знаков."),
        _("Укажите номер дома."),
    )
    return {
        "street": street,
        "house": house,
        "search_key": search_key(street, house),
        "latitude": in_range(
            decimal(form.latitude, "latitude", errors), "latitude", errors, -90, 90
        ),
        "longitude": in_range(
            decimal(form.longitude, "longitude", errors), "longitude", errors, -180, 180
        ),
        "floors": in_range(form.floors, "floors", errors, 1, 200),
        "flats": in_range(form.flats, "flats", errors, 1, 10_000),
    }


async def _values(
    session: AsyncSession, form: BuildingForm, _stored: Building | None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values = building_values(form, errors)
    values["manager_id"] = None
    if form.manager_id is not None:
        manager = await session.get(Organisation, form.manager_id)
        if manager is None or OrgKind(manager.kind) not in MANAGER_KINDS:
            errors["manager_id"] = str(NOT_A_MANAGER)
        else:
            values["manager_id"] = manager.id
    return checked(values, errors)


HOUSES: records.Kind[Building, BuildingForm] = records.Kind(
    Building,
    missing=lambda: _("Дом не найден."),
    taken=records.Taken("house", lambda: _("Такой дом уже есть в реестре.")),
    values=_values,
    audited=Audited(
        AuditObject.BUILDING,
        name=lambda building: building.address,
        derived=frozenset({"search_key"}),  # follows from the address
    ),
)


async def list_buildings(
    db: Database, actor: Actor, query: str = "", limit: int = LIST_LIMIT
) -> list[Building]:
    require_reader(actor)
    words = [w for w in query.lower().replace(",", " ").split() if w][:4]
    stmt = select(Building).options(selectinload(Building.manager))
    for word in words:
        stmt = stmt.where(Building.search_key.contains(word))
    async with db.read() as session:
        found = await session.scalars(stmt.order_by(Building.street, Building.house).limit(limit))
    # The database compares house numbers as text (15 before 5); the list reads naturally.
    return sorted(found, key=lambda b: (b.street.lower(), house_order(b.house)))


async def count_buildings(db: Database, actor: Actor) -> int:
    require_reader(actor)
    async with db.read() as session:
        return await session.scalar(select(func.count()).select_from(Building)) or 0


get_building = HOUSES.get
create_building = HOUSES.add
update_building = HOUSES.change


async def managers(db: Database) -> list[Organisation]:
    """Organisations that may manage a house (УК, ТСЖ)."""
    return await organisations_of_kinds(db, MANAGER_KINDS)
