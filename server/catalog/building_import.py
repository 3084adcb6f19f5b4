"""Loading the register of houses from a spreadsheet saved as CSV: all rows or none.

A file with any bad row changes nothing, and every bad row is reported with its line number and
what is wrong with it, in the words the house form uses.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from server.catalog import audit
from server.catalog.access import require_sysadmin
from server.catalog.buildings import MANAGER_KINDS, BuildingForm, building_values
from server.db.models import Building, Organisation
from server.db.session import Database
from server.i18n import gettext as _
from server.shared.errors import InvalidInput
from server.shared.roles import SYSTEM_ACTOR, Actor, OrgKind

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
HOUSE_COLUMNS = ("street", "house", "latitude", "longitude", "floors", "flats")
# The address is the key; its spelling in the register stays as it was.
ADDRESS_FIELDS = frozenset({"street", "house", "search_key"})
_QUOTES = str.maketrans("", "", "«»\"'“”„`‘’")


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
    return await import_buildings_csv(db, data, actor)


async def import_buildings_csv(
    db: Database, data: bytes, actor: Actor = SYSTEM_ACTOR
) -> ImportReport:
    """Add or update houses by (street, house), as the command line and the page do; a file
    that changed something is one entry in the audit log, with its counts."""
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
        by_key = _manager_index(list(await session.scalars(select(Organisation))))
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
            changes = {k: v for k, v in values.items() if k not in ADDRESS_FIELDS}
            if any(getattr(building, k) != v for k, v in changes.items()):
                for column, value in changes.items():
                    setattr(building, column, value)
                report.updated += 1
            else:
                report.unchanged += 1
        await session.flush()
        if report.added or report.updated:
            audit.record(
                session,
                actor,
                audit.AuditAction.BUILDINGS_IMPORTED,
                audit.AuditObject.BUILDING,
                None,
                added=report.added,
                updated=report.updated,
                unchanged=report.unchanged,
            )
    return report


def _house_fields(cells: Mapping[str, str]) -> tuple[BuildingForm, dict[str, str]]:
    """The row read as the house form reads it; a cell of the wrong type is left out and
    reported, so the row's other mistakes are found too."""
    try:
        return BuildingForm.parse(cells), {}
    except InvalidInput as exc:
        rest = {k: v for k, v in cells.items() if k not in exc.fields}
        return BuildingForm.parse(rest), exc.fields


def _import_row(
    record: list[str], columns: dict[str, int], managers_by_key: dict[str, Organisation]
) -> tuple[dict[str, Any], list[str]]:
    def cell(name: str) -> str:
        index = columns.get(name)
        return record[index].strip() if index is not None and index < len(record) else ""

    form, errors = _house_fields({name: cell(name) for name in HOUSE_COLUMNS})
    values = building_values(form, errors)
    labels = {
        "street": _("улица"),
        "house": _("дом"),
        "latitude": _("широта"),
        "longitude": _("долгота"),
        "floors": _("этажей"),
        "flats": _("квартир"),
    }
    problems = [
        f"{labels[name]}: {errors[name][:1].lower()}{errors[name][1:].rstrip('.')}"
        for name in HOUSE_COLUMNS
        if name in errors
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
    return values, problems
