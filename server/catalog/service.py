"""The system admin's settings: organisations, buildings, categories with deadlines, users.

Every use case takes the acting person. Only the system admin changes anything; the city
administration may read. Form values arrive as the strings the browser sent; parsing them is
part of the use case, so a bad value comes back as a Russian message next to its field and
nothing is written.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from server.accounts import people as accounts
from server.accounts.people import normalise_phone
from server.db.models import (
    Building,
    Category,
    Organisation,
    OrganisationContractor,
    User,
)
from server.db.session import Database
from server.i18n import gettext as _
from server.requests.routing import Handler
from server.shared.errors import Forbidden, InvalidInput, NotFound
from server.shared.roles import HANDLING_KINDS, Actor, OrgKind, Role

LIST_LIMIT = 300
MANAGER_KINDS = frozenset({OrgKind.UK, OrgKind.TSJ})
# A category's named handler: the water supplier, or a УК that serves every house for it.
CATEGORY_HANDLER_KINDS = frozenset({OrgKind.RSO, OrgKind.UK})
PRIORITIES = ("emergency", "urgent", "normal")
# Units a deadline is typed in, and how many minutes each holds.
DEADLINE_UNITS = {"min": 1, "hour": 60, "day": 24 * 60}
MAX_DEADLINE_MINUTES = 366 * 24 * 60
CODE_RE = re.compile(r"[a-z0-9][a-z0-9_-]{1,59}")
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_QUOTES = str.maketrans("", "", "«»\"'“”„`‘’")


# --------------------------------------------------------------------------------------------
# Who may


def require_sysadmin(actor: Actor) -> None:
    if actor.role is not Role.SYSADMIN:
        raise Forbidden()


def require_reader(actor: Actor) -> None:
    if actor.role not in (Role.SYSADMIN, Role.CITY_ADMIN):
        raise Forbidden()


# --------------------------------------------------------------------------------------------
# Parsing what forms send


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())


def _int_or_none(raw: Any, name: str, errors: dict[str, str], lo: int, hi: int) -> int | None:
    text = _text(raw)
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        errors[name] = _("Введите целое число.")
        return None
    if not lo <= value <= hi:
        errors[name] = _("Число от %(lo)s до %(hi)s.", lo=lo, hi=hi)
        return None
    return value


def _float_or_none(
    raw: Any, name: str, errors: dict[str, str], lo: float, hi: float
) -> float | None:
    text = _text(raw).replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        errors[name] = _("Введите число, например 55.3012.")
        return None
    if not lo <= value <= hi:
        errors[name] = _("Число от %(lo)s до %(hi)s.", lo=lo, hi=hi)
        return None
    return value


def _id(raw: Any) -> int | None:
    try:
        return int(str(raw).strip())
    except (TypeError, ValueError):
        return None


def human_minutes(minutes: int | None) -> str:
    """A deadline as people say it: «30 мин», «2 ч», «1 сут», «1 ч 30 мин»."""
    if minutes is None:
        return ""
    if minutes % (24 * 60) == 0:
        return _("%(n)s сут", n=minutes // (24 * 60))
    if minutes >= 24 * 60:
        days, rest = divmod(minutes, 24 * 60)
        return _("%(d)s сут", d=days) + " " + human_minutes(rest)
    if minutes % 60 == 0:
        return _("%(n)s ч", n=minutes // 60)
    if minutes > 60:
        return _("%(h)s ч %(m)s мин", h=minutes // 60, m=minutes % 60)
    return _("%(n)s мин", n=minutes)


def split_minutes(minutes: int | None) -> tuple[str, str]:
    """The largest whole unit for a form: 2880 → ("2", "day"), 90 → ("90", "min")."""
    if minutes is None:
        return "", "day"
    for unit in ("day", "hour"):
        if minutes % DEADLINE_UNITS[unit] == 0:
            return str(minutes // DEADLINE_UNITS[unit]), unit
    return str(minutes), "min"


def _deadline(
    value: Any, unit: Any, name: str, errors: dict[str, str], required: bool
) -> int | None:
    text = _text(value).replace(",", ".")
    if not text:
        if required:
            errors[name] = _("Укажите срок.")
        return None
    factor = DEADLINE_UNITS.get(str(unit or ""))
    if factor is None:
        errors[name] = _("Выберите единицу срока.")
        return None
    try:
        amount = float(text)
    except ValueError:
        errors[name] = _("Срок — число, например 30 или 1,5.")
        return None
    minutes = round(amount * factor)
    if minutes < 1 or minutes > MAX_DEADLINE_MINUTES:
        errors[name] = _("Срок — от 1 минуты до 366 суток.")
        return None
    return minutes


# --------------------------------------------------------------------------------------------
# Organisations


@dataclass
class OrganisationForm:
    kind: str = ""
    name: str = ""
    short_name: str = ""
    phone: str = ""
    email: str = ""
    inn: str = ""

    @classmethod
    def of(cls, data: dict[str, Any]) -> OrganisationForm:
        return cls(**{k: str(data.get(k) or "") for k in cls.__dataclass_fields__})


@dataclass
class OrganisationDetail:
    organisation: Organisation
    contractors: list[Organisation]  # working for this УК/ТСЖ/РСО
    clients: list[Organisation]  # for a contractor: whom it works for
    available_contractors: list[Organisation]  # may be linked
    buildings: int
    users: int


def _clean_organisation(form: OrganisationForm) -> dict[str, Any]:
    errors: dict[str, str] = {}
    try:
        kind = OrgKind(form.kind)
    except ValueError:
        kind = None
        errors["kind"] = _("Выберите вид организации.")
    name = _text(form.name)
    if not name:
        errors["name"] = _("Укажите полное название.")
    elif len(name) > 200:
        errors["name"] = _("Название — не длиннее 200 знаков.")
    short_name = _text(form.short_name) or name
    if len(short_name) > 80:
        errors["short_name"] = _("Краткое название — не длиннее 80 знаков.")
    phone = None
    if _text(form.phone):
        phone = normalise_phone(form.phone)
        if phone is None:
            errors["phone"] = _("Неверный номер телефона, например +7 85558 3-12-45.")
    email = _text(form.email) or None
    if email and (len(email) > 200 or not EMAIL_RE.fullmatch(email)):
        errors["email"] = _("Неверный адрес почты.")
    inn = re.sub(r"\s", "", form.inn or "") or None
    if inn and not re.fullmatch(r"\d{10}|\d{12}", inn):
        errors["inn"] = _("ИНН — 10 или 12 цифр.")
    if errors:
        raise InvalidInput(**errors)
    return {
        "kind": kind,
        "name": name,
        "short_name": short_name,
        "phone": phone,
        "email": email,
        "inn": inn,
    }


async def list_organisations(
    db: Database, actor: Actor, kind: str | None = None
) -> list[Organisation]:
    require_reader(actor)
    query = select(Organisation).order_by(Organisation.kind, Organisation.name)
    if kind:
        query = query.where(Organisation.kind == kind)
    async with db.read() as session:
        return list(await session.scalars(query))


async def contractor_links(db: Database, actor: Actor) -> dict[int, list[Organisation]]:
    """For every УК/ТСЖ/РСO: the contractors working for it."""
    require_reader(actor)
    links: dict[int, list[Organisation]] = {}
    async with db.read() as session:
        rows = await session.execute(
            select(OrganisationContractor.organisation_id, Organisation)
            .join(Organisation, Organisation.id == OrganisationContractor.contractor_id)
            .order_by(Organisation.name)
        )
        for organisation_id, contractor in rows.all():
            links.setdefault(organisation_id, []).append(contractor)
    return links


async def get_organisation(db: Database, actor: Actor, organisation_id: int) -> OrganisationDetail:
    require_reader(actor)
    async with db.read() as session:
        org = await session.get(Organisation, organisation_id)
        if org is None:
            raise NotFound(_("Организация не найдена."))
        contractors = list(
            await session.scalars(
                select(Organisation)
                .join(
                    OrganisationContractor,
                    OrganisationContractor.contractor_id == Organisation.id,
                )
                .where(OrganisationContractor.organisation_id == org.id)
                .order_by(Organisation.name)
            )
        )
        clients = list(
            await session.scalars(
                select(Organisation)
                .join(
                    OrganisationContractor,
                    OrganisationContractor.organisation_id == Organisation.id,
                )
                .where(OrganisationContractor.contractor_id == org.id)
                .order_by(Organisation.name)
            )
        )
        linked = {c.id for c in contractors}
        available = [
            c
            for c in await session.scalars(
                select(Organisation)
                .where(Organisation.kind == OrgKind.CONTRACTOR)
                .order_by(Organisation.name)
            )
            if c.id not in linked
        ]
        buildings = await session.scalar(
            select(func.count()).select_from(Building).where(Building.manager_id == org.id)
        )
        users = await session.scalar(
            select(func.count()).select_from(User).where(User.organisation_id == org.id)
        )
    return OrganisationDetail(org, contractors, clients, available, buildings or 0, users or 0)


async def create_organisation(db: Database, actor: Actor, form: OrganisationForm) -> Organisation:
    require_sysadmin(actor)
    values = _clean_organisation(form)
    try:
        async with db.begin() as session:
            org = Organisation(**values, active=True)
            session.add(org)
            await session.flush()
            return org
    except IntegrityError:
        raise InvalidInput(name=_("Организация с таким названием уже есть.")) from None


async def _organisation_in_use(session: AsyncSession, org_id: int) -> bool:
    checks = [
        select(User.id).where(User.organisation_id == org_id),
        select(Building.id).where(Building.manager_id == org_id),
        select(Category.id).where(Category.handler_organisation_id == org_id),
        select(OrganisationContractor.contractor_id).where(
            or_(
                OrganisationContractor.organisation_id == org_id,
                OrganisationContractor.contractor_id == org_id,
            )
        ),
    ]
    for query in checks:
        if (await session.scalar(query.limit(1))) is not None:
            return True
    return False


async def update_organisation(
    db: Database, actor: Actor, organisation_id: int, form: OrganisationForm
) -> Organisation:
    require_sysadmin(actor)
    values = _clean_organisation(form)
    try:
        async with db.begin() as session:
            org = await session.get(Organisation, organisation_id)
            if org is None:
                raise NotFound(_("Организация не найдена."))
            if values["kind"] != org.kind and await _organisation_in_use(session, org.id):
                # Its dispatchers, houses or contracts were made for the old kind.
                raise InvalidInput(
                    kind=_(
                        "Вид нельзя сменить: у организации есть сотрудники, дома, "
                        "категории или подрядчики."
                    )
                )
            for key, value in values.items():
                setattr(org, key, value)
            await session.flush()
            return org
    except IntegrityError:
        raise InvalidInput(name=_("Организация с таким названием уже есть.")) from None


async def set_organisation_active(
    db: Database, actor: Actor, organisation_id: int, active: bool
) -> Organisation:
    """Switching an organisation off sends its new requests to triage; nothing is deleted."""
    require_sysadmin(actor)
    async with db.begin() as session:
        org = await session.get(Organisation, organisation_id)
        if org is None:
            raise NotFound(_("Организация не найдена."))
        org.active = active
        return org


async def link_contractor(
    db: Database, actor: Actor, organisation_id: int, contractor_id: int | None
) -> None:
    require_sysadmin(actor)
    async with db.begin() as session:
        org = await session.get(Organisation, organisation_id)
        if org is None:
            raise NotFound(_("Организация не найдена."))
        if OrgKind(org.kind) not in HANDLING_KINDS:
            raise InvalidInput(contractor_id=_("Подрядчиков назначают только УК, ТСЖ и РСО."))
        contractor = await session.get(Organisation, contractor_id or 0)
        if contractor is None or contractor.kind != OrgKind.CONTRACTOR:
            raise InvalidInput(contractor_id=_("Выберите подрядную организацию."))
        exists = await session.get(OrganisationContractor, (org.id, contractor.id))
        if exists is None:
            session.add(OrganisationContractor(organisation_id=org.id, contractor_id=contractor.id))


async def unlink_contractor(
    db: Database, actor: Actor, organisation_id: int, contractor_id: int
) -> None:
    """Ends the contract for new work; orders already given to the contractor stay with it."""
    require_sysadmin(actor)
    async with db.begin() as session:
        link = await session.get(OrganisationContractor, (organisation_id, contractor_id))
        if link is None:
            raise NotFound(_("Такой связи нет."))
        await session.delete(link)


async def managers(db: Database) -> list[Organisation]:
    """Organisations that may manage a house (УК, ТСЖ)."""
    async with db.read() as session:
        return list(
            await session.scalars(
                select(Organisation)
                .where(Organisation.kind.in_([k.value for k in MANAGER_KINDS]))
                .order_by(Organisation.name)
            )
        )


# --------------------------------------------------------------------------------------------
# Buildings


@dataclass
class BuildingForm:
    street: str = ""
    house: str = ""
    manager_id: str = ""
    latitude: str = ""
    longitude: str = ""
    floors: str = ""
    flats: str = ""

    @classmethod
    def of(cls, data: dict[str, Any]) -> BuildingForm:
        return cls(**{k: str(data.get(k) or "") for k in cls.__dataclass_fields__})

    @classmethod
    def from_building(cls, b: Building) -> BuildingForm:
        def text(value: object) -> str:
            return "" if value is None else str(value)

        return cls(
            street=b.street,
            house=b.house,
            manager_id=text(b.manager_id),
            latitude=text(b.latitude),
            longitude=text(b.longitude),
            floors=text(b.floors),
            flats=text(b.flats),
        )


def search_key(street: str, house: str) -> str:
    return f"{street} {house}".lower()


def _clean_building_fields(
    street_raw: Any,
    house_raw: Any,
    latitude: Any,
    longitude: Any,
    floors: Any,
    flats: Any,
    errors: dict[str, str],
) -> dict[str, Any]:
    street = _text(street_raw)
    if not street:
        errors["street"] = _("Укажите улицу.")
    elif len(street) > 200:
        errors["street"] = _("Улица — не длиннее 200 знаков.")
    house = _text(house_raw)
    if not house:
        errors["house"] = _("Укажите номер дома.")
    elif len(house) > 20:
        errors["house"] = _("Номер дома — не длиннее 20 знаков.")
    return {
        "street": street,
        "house": house,
        "latitude": _float_or_none(latitude, "latitude", errors, -90, 90),
        "longitude": _float_or_none(longitude, "longitude", errors, -180, 180),
        "floors": _int_or_none(floors, "floors", errors, 1, 200),
        "flats": _int_or_none(flats, "flats", errors, 1, 10_000),
    }


async def _clean_building(session: AsyncSession, form: BuildingForm) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values = _clean_building_fields(
        form.street, form.house, form.latitude, form.longitude, form.floors, form.flats, errors
    )
    manager_id = None
    if form.manager_id.strip():
        manager = await session.get(Organisation, _id(form.manager_id) or 0)
        if manager is None or OrgKind(manager.kind) not in MANAGER_KINDS:
            errors["manager_id"] = _("Дом обслуживает УК или ТСЖ: выберите из списка.")
        else:
            manager_id = manager.id
    if errors:
        raise InvalidInput(**errors)
    values["manager_id"] = manager_id
    values["search_key"] = search_key(values["street"], values["house"])
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
    async with db.read() as session:
        building = await session.get(Building, building_id)
    if building is None:
        raise NotFound(_("Дом не найден."))
    return building


def _duplicate_house() -> str:
    return _("Такой дом уже есть в реестре.")


async def create_building(db: Database, actor: Actor, form: BuildingForm) -> Building:
    require_sysadmin(actor)
    try:
        async with db.begin() as session:
            building = Building(**await _clean_building(session, form))
            session.add(building)
            await session.flush()
            return building
    except IntegrityError:
        raise InvalidInput(house=_duplicate_house()) from None


async def update_building(
    db: Database, actor: Actor, building_id: int, form: BuildingForm
) -> Building:
    require_sysadmin(actor)
    try:
        async with db.begin() as session:
            building = await session.get(Building, building_id)
            if building is None:
                raise NotFound(_("Дом не найден."))
            for key, value in (await _clean_building(session, form)).items():
                setattr(building, key, value)
            await session.flush()
            return building
    except IntegrityError:
        raise InvalidInput(house=_duplicate_house()) from None


# --------------------------------------------------------------------------------------------
# Importing the register of houses from CSV

MAX_IMPORT_BYTES = 5 * 1024 * 1024
# Column names people use in a spreadsheet, in English or Russian.
COLUMN_ALIASES = {
    "street": {"street", "улица"},
    "house": {"house", "дом", "номер дома"},
    "manager": {
        "manager",
        "ук",
        "управляющая организация",
        "управляющая компания",
        "обслуживает",
    },
    "latitude": {"latitude", "lat", "широта"},
    "longitude": {"longitude", "lon", "lng", "долгота"},
    "floors": {"floors", "этажей", "этажность"},
    "flats": {"flats", "квартир", "квартиры"},
}
REQUIRED_COLUMNS = ("street", "house", "manager")
ADDRESS_FIELDS = frozenset({"street", "house", "search_key"})


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return _("Файл не загружен, ничего не изменено. Ошибок: %(n)s.", n=len(self.errors))
        return _(
            "Добавлено: %(added)s, обновлено: %(updated)s, без изменений: %(same)s.",
            added=self.added,
            updated=self.updated,
            same=self.unchanged,
        )


def _decode(data: bytes) -> str:
    # Excel on Russian Windows saves CSV in cp1251; everything else sends UTF-8.
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")


def _delimiter(text: str) -> str:
    header = text.lstrip().split("\n", 1)[0]
    return ";" if header.count(";") >= header.count(",") and ";" in header else ","


def _columns(header: list[str]) -> tuple[dict[str, int], list[str]]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = " ".join(raw.strip().lower().split())
        for column, aliases in COLUMN_ALIASES.items():
            if name in aliases and column not in found:
                found[column] = index
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    return found, missing


def _org_key(text: str) -> str:
    return " ".join(text.translate(_QUOTES).lower().split())


def _manager_index(orgs: list[Organisation]) -> dict[str, Organisation]:
    index: dict[str, Organisation] = {}
    for org in orgs:
        for key in (org.name, org.short_name, org.inn or ""):
            if key:
                index.setdefault(_org_key(key), org)
    return index


async def import_buildings(db: Database, actor: Actor, data: bytes) -> ImportReport:
    require_sysadmin(actor)
    return await import_buildings_csv(db, data)


async def import_buildings_csv(db: Database, data: bytes) -> ImportReport:
    """Add or update houses by (street, house). All rows or none: a file with any bad row
    changes nothing, and every bad row is reported with its line number."""
    report = ImportReport()
    if not data.strip():
        report.errors.append(_("Файл пустой."))
        return report
    if len(data) > MAX_IMPORT_BYTES:
        report.errors.append(_("Файл больше 5 МБ: разбейте его на части."))
        return report
    text = _decode(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        report.errors.append(_("Файл пустой."))
        return report
    columns, missing = _columns(header)
    if missing:
        report.errors.append(
            _(
                "Строка 1: нет столбцов %(names)s. Нужны столбцы street, house, manager "
                "(необязательные: latitude, longitude, floors, flats).",
                names=", ".join(missing),
            )
        )
        return report

    async with db.begin() as session:
        orgs = list(await session.scalars(select(Organisation)))
        by_key = _manager_index(orgs)
        existing = {
            (b.street.lower(), b.house.lower()): b for b in await session.scalars(select(Building))
        }
        rows: list[tuple[Building | None, dict[str, Any]]] = []
        seen: dict[tuple[str, str], int] = {}
        try:
            for record in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in record):
                    continue
                values, problems = _import_row(record, columns, by_key)
                key = (values["street"].lower(), values["house"].lower())
                if values["street"] and values["house"]:
                    if key in seen:
                        problems.append(_("этот дом уже был в строке %(n)s", n=seen[key]))
                    seen.setdefault(key, line)
                if problems:
                    report.errors.append(
                        _("Строка %(n)s: %(problems)s.", n=line, problems="; ".join(problems))
                    )
                    continue
                rows.append((existing.get(key), values))
        except csv.Error as exc:
            report.errors.append(
                _("Строка %(n)s: файл повреждён (%(error)s).", n=reader.line_num, error=exc)
            )
        if report.errors:
            return report  # nothing was written in this transaction
        for building, values in rows:
            if building is None:
                session.add(Building(**values))
                report.added += 1
                continue
            # The address is the key; its spelling in the register stays as it was.
            changes = {k: v for k, v in values.items() if k not in ADDRESS_FIELDS}
            if any(getattr(building, k) != v for k, v in changes.items()):
                for key, value in changes.items():
                    setattr(building, key, value)
                report.updated += 1
            else:
                report.unchanged += 1
        await session.flush()
    return report


def _import_row(
    record: list[str], columns: dict[str, int], managers_by_key: dict[str, Organisation]
) -> tuple[dict[str, Any], list[str]]:
    def cell(name: str) -> str:
        index = columns.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    errors: dict[str, str] = {}
    values = _clean_building_fields(
        cell("street"),
        cell("house"),
        cell("latitude"),
        cell("longitude"),
        cell("floors"),
        cell("flats"),
        errors,
    )
    labels = {
        "street": _("улица"),
        "house": _("дом"),
        "latitude": _("широта"),
        "longitude": _("долгота"),
        "floors": _("этажей"),
        "flats": _("квартир"),
    }
    problems = [
        f"{labels[name]}: {message[:1].lower()}{message[1:].rstrip('.')}"
        for name, message in errors.items()
    ]
    manager_text = cell("manager")
    manager = managers_by_key.get(_org_key(manager_text)) if manager_text else None
    if not manager_text:
        problems.append(_("не указана управляющая организация"))
    elif manager is None:
        problems.append(_("организация «%(name)s» не найдена", name=manager_text))
    elif OrgKind(manager.kind) not in MANAGER_KINDS:
        problems.append(
            _("«%(name)s» — не УК и не ТСЖ, дома она не обслуживает", name=manager_text)
        )
    values["manager_id"] = manager.id if manager is not None else None
    values["search_key"] = search_key(values["street"], values["house"])
    return values, problems


# --------------------------------------------------------------------------------------------
# Categories and deadlines


@dataclass
class CategoryForm:
    name: str = ""
    code: str = ""
    description: str = ""
    group: str = ""
    priority: str = "normal"
    deadline_value: str = ""
    deadline_unit: str = "day"
    summer_deadline_value: str = ""
    summer_deadline_unit: str = "day"
    handler: str = "manager"
    handler_organisation_id: str = ""
    active: str = "on"
    sort: str = "100"

    @classmethod
    def of(cls, data: dict[str, Any]) -> CategoryForm:
        form = cls(**{k: str(data.get(k) or "") for k in cls.__dataclass_fields__})
        form.active = "on" if data.get("active") else ""
        return form

    @classmethod
    def from_category(cls, c: Category) -> CategoryForm:
        value, unit = split_minutes(c.deadline_minutes)
        summer_value, summer_unit = split_minutes(c.summer_deadline_minutes)
        return cls(
            name=c.name,
            code=c.code,
            description=c.description,
            group=c.group,
            priority=c.priority,
            deadline_value=value,
            deadline_unit=unit,
            summer_deadline_value=summer_value if c.summer_deadline_minutes else "",
            summer_deadline_unit=summer_unit,
            handler=c.handler,
            handler_organisation_id=str(c.handler_organisation_id or ""),
            active="on" if c.active else "",
            sort=str(c.sort),
        )


async def _clean_category(session: AsyncSession, form: CategoryForm) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = _text(form.name)
    if not name:
        errors["name"] = _("Укажите название.")
    elif len(name) > 200:
        errors["name"] = _("Название — не длиннее 200 знаков.")
    code = form.code.strip().lower()
    if not CODE_RE.fullmatch(code):
        errors["code"] = _(
            "Код: 2–60 латинских строчных букв, цифр, «_» или «-», например roof_leak."
        )
    group = _text(form.group)
    if len(group) > 100:
        errors["group"] = _("Группа — не длиннее 100 знаков.")
    if form.priority not in PRIORITIES:
        errors["priority"] = _("Выберите срочность.")
    deadline = _deadline(form.deadline_value, form.deadline_unit, "deadline", errors, True)
    summer = _deadline(
        form.summer_deadline_value, form.summer_deadline_unit, "summer_deadline", errors, False
    )
    handler_org_id = None
    try:
        handler = Handler(form.handler)
    except ValueError:
        handler = Handler.MANAGER
        errors["handler"] = _("Выберите, кто исполняет заявки.")
    if handler is Handler.ORGANISATION:
        org = await session.get(Organisation, _id(form.handler_organisation_id) or 0)
        if org is None or OrgKind(org.kind) not in CATEGORY_HANDLER_KINDS:
            errors["handler_organisation_id"] = _("Выберите ресурсоснабжающую организацию или УК.")
        else:
            handler_org_id = org.id
    sort = _int_or_none(form.sort, "sort", errors, 0, 100_000)
    description = (form.description or "").strip()
    if len(description) > 2000:
        errors["description"] = _("Описание — не длиннее 2000 знаков.")
    if errors:
        raise InvalidInput(**errors)
    return {
        "name": name,
        "code": code,
        "description": description,
        "group": group,
        "priority": form.priority,
        "deadline_minutes": deadline,
        "summer_deadline_minutes": summer,
        "handler": handler.value,
        "handler_organisation_id": handler_org_id,
        "active": bool(form.active),
        "sort": 100 if sort is None else sort,
    }


async def list_categories(db: Database, actor: Actor) -> list[Category]:
    require_reader(actor)
    async with db.read() as session:
        return list(await session.scalars(select(Category).order_by(Category.sort, Category.name)))


async def get_category(db: Database, actor: Actor, category_id: int) -> Category:
    require_reader(actor)
    async with db.read() as session:
        category = await session.get(Category, category_id)
    if category is None:
        raise NotFound(_("Категория не найдена."))
    return category


async def handler_organisations(db: Database) -> list[Organisation]:
    async with db.read() as session:
        return list(
            await session.scalars(
                select(Organisation)
                .where(Organisation.kind.in_([k.value for k in CATEGORY_HANDLER_KINDS]))
                .order_by(Organisation.name)
            )
        )


def _duplicate_code() -> str:
    return _("Категория с таким кодом уже есть.")


async def create_category(db: Database, actor: Actor, form: CategoryForm) -> Category:
    require_sysadmin(actor)
    try:
        async with db.begin() as session:
            category = Category(**await _clean_category(session, form))
            session.add(category)
            await session.flush()
            return category
    except IntegrityError:
        raise InvalidInput(code=_duplicate_code()) from None


async def update_category(
    db: Database, actor: Actor, category_id: int, form: CategoryForm
) -> Category:
    """A new deadline applies to requests filed from now on; filed ones keep their due time."""
    require_sysadmin(actor)
    try:
        async with db.begin() as session:
            category = await session.get(Category, category_id)
            if category is None:
                raise NotFound(_("Категория не найдена."))
            for key, value in (await _clean_category(session, form)).items():
                setattr(category, key, value)
            await session.flush()
            return category
    except IntegrityError:
        raise InvalidInput(code=_duplicate_code()) from None


# --------------------------------------------------------------------------------------------
# Users


@dataclass
class UserForm:
    login: str = ""
    name: str = ""
    role: str = ""
    organisation_id: str = ""
    phone: str = ""
    password: str = ""

    @classmethod
    def of(cls, data: dict[str, Any]) -> UserForm:
        return cls(**{k: str(data.get(k) or "") for k in cls.__dataclass_fields__})


ASSIGNABLE_ROLES = [r for r in Role if r is not Role.SYSTEM]


async def list_users(
    db: Database, actor: Actor, *, role: str = "", query: str = "", limit: int = LIST_LIMIT
) -> list[User]:
    require_reader(actor)
    stmt = select(User).options(selectinload(User.organisation))
    if role:
        stmt = stmt.where(User.role == role)
    text = query.strip().lower()
    if text:
        like = f"%{text}%"
        stmt = stmt.where(
            or_(
                User.login.like(like),
                func.lower(User.name).like(like),
                User.phone.like(like),
            )
        )
    async with db.read() as session:
        return list(await session.scalars(stmt.order_by(User.role, User.login).limit(limit)))


async def staff_organisations(db: Database) -> list[Organisation]:
    """Organisations a staff account may belong to, active ones only."""
    async with db.read() as session:
        return list(
            await session.scalars(
                select(Organisation)
                .where(Organisation.active.is_(True))
                .order_by(Organisation.kind, Organisation.name)
            )
        )


async def create_user(db: Database, actor: Actor, form: UserForm) -> User:
    require_sysadmin(actor)
    # accounts.create_user checks the organisation against the role and drops it for roles
    # that belong to none (residents, operators, system admins).
    return await accounts.create_user(
        db,
        login=form.login,
        name=form.name,
        role=form.role,
        password=form.password,
        organisation_id=_id(form.organisation_id),
        phone=form.phone.strip() or None,
    )


async def set_user_active(db: Database, actor: Actor, user_id: int, active: bool) -> User:
    """A switched-off account cannot sign in, and its open sessions stop working at once."""
    require_sysadmin(actor)
    if user_id == actor.user_id and not active:
        raise InvalidInput(active=_("Нельзя отключить собственную учётную запись."))
    async with db.begin() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound(_("Пользователь не найден."))
        user.active = active
        return user


async def reset_password(db: Database, actor: Actor, user_id: int, password: str) -> User:
    require_sysadmin(actor)
    if len(password) < accounts.MIN_PASSWORD:
        raise InvalidInput(
            password=_("Пароль — не короче %(n)s символов.", n=accounts.MIN_PASSWORD)
        )
    async with db.begin() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound(_("Пользователь не найден."))
        user.password_hash = accounts.hash_password(password)
        return user


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
