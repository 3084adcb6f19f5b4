"""The audit log as the system admin reads it: when, who, what, and each change in words.

Fields and values are named through the catalogue, as the settings forms name them; an
organisation an entry refers to by id is shown by its name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from server.accounts.people import format_phone
from server.catalog.audit import PAGE_SIZE, AuditAction, AuditObject, entries
from server.catalog.building_import import ImportReport
from server.catalog.deadline_units import human_minutes
from server.db.models import AuditEntry, Organisation
from server.db.session import Database
from server.i18n import LazyProxy, gettext_lazy
from server.i18n import gettext as _
from server.requests.labels import org_kind_label, priority_label, role_label
from server.requests.routing import Handler
from server.shared.roles import Actor

# Columns that hold an organisation's id.
ORGANISATION_FIELDS = frozenset({"organisation_id", "manager_id", "handler_organisation_id"})
# A new record has no «before»: its entry lists the values it was made with.
CREATIONS = frozenset(
    {
        AuditAction.USER_CREATED,
        AuditAction.ORGANISATION_CREATED,
        AuditAction.BUILDING_CREATED,
        AuditAction.CATEGORY_CREATED,
    }
)


@dataclass(frozen=True)
class Change:
    label: str
    before: str | None  # None: the record was created with this value
    after: str


@dataclass(frozen=True)
class JournalRow:
    at: datetime
    who: str
    who_role: str
    action: str
    subject: str  # the kind of record and its name
    link: str | None
    changes: list[Change]
    note: str  # what a change without fields says (the contractor, the import's counts)


@dataclass(frozen=True)
class Journal:
    rows: list[JournalRow]
    page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


# What each logged action, kind of record and column is called on the journal page.
ACTION_TEXTS: dict[str, LazyProxy] = {
    AuditAction.USER_CREATED: gettext_lazy("Пользователь добавлен"),
    AuditAction.USER_CHANGED: gettext_lazy("Пользователь изменён"),
    AuditAction.USER_ACTIVATED: gettext_lazy("Учётная запись включена"),
    AuditAction.USER_DEACTIVATED: gettext_lazy("Учётная запись отключена"),
    AuditAction.PASSWORD_RESET: gettext_lazy("Задан новый пароль"),
    AuditAction.ORGANISATION_CREATED: gettext_lazy("Организация добавлена"),
    AuditAction.ORGANISATION_CHANGED: gettext_lazy("Организация изменена"),
    AuditAction.ORGANISATION_ACTIVATED: gettext_lazy("Организация включена"),
    AuditAction.ORGANISATION_DEACTIVATED: gettext_lazy("Организация отключена"),
    AuditAction.CONTRACTOR_LINKED: gettext_lazy("Подрядчик назначен"),
    AuditAction.CONTRACTOR_UNLINKED: gettext_lazy("Подрядчик отвязан"),
    AuditAction.BUILDING_CREATED: gettext_lazy("Дом добавлен"),
    AuditAction.BUILDING_CHANGED: gettext_lazy("Дом изменён"),
    AuditAction.BUILDINGS_IMPORTED: gettext_lazy("Реестр домов загружен из файла"),
    AuditAction.CATEGORY_CREATED: gettext_lazy("Категория добавлена"),
    AuditAction.CATEGORY_CHANGED: gettext_lazy("Категория изменена"),
    AuditAction.ACCOUNT_DELETED: gettext_lazy("Учётная запись удалена владельцем"),
}
OBJECT_LABELS: dict[str, LazyProxy] = {
    AuditObject.USER: gettext_lazy("Пользователь"),
    AuditObject.ORGANISATION: gettext_lazy("Организация"),
    AuditObject.BUILDING: gettext_lazy("Дом"),
    AuditObject.CATEGORY: gettext_lazy("Категория"),
}
# «name» means the person's name on an account and the full name of an organisation.
NAME_LABELS: dict[str, LazyProxy] = {
    AuditObject.USER: gettext_lazy("Имя и фамилия"),
    AuditObject.ORGANISATION: gettext_lazy("Полное название"),
}
FIELD_LABELS: dict[str, LazyProxy] = {
    "login": gettext_lazy("Логин"),
    "role": gettext_lazy("Роль"),
    "organisation_id": gettext_lazy("Организация"),
    "phone": gettext_lazy("Телефон"),
    "active": gettext_lazy("Действует"),
    "kind": gettext_lazy("Вид"),
    "short_name": gettext_lazy("Краткое название"),
    "email": gettext_lazy("Электронная почта"),
    "inn": gettext_lazy("ИНН"),
    "street": gettext_lazy("Улица"),
    "house": gettext_lazy("Дом"),
    "manager_id": gettext_lazy("Обслуживает (УК или ТСЖ)"),
    "latitude": gettext_lazy("Широта"),
    "longitude": gettext_lazy("Долгота"),
    "floors": gettext_lazy("Этажей"),
    "flats": gettext_lazy("Квартир"),
    "code": gettext_lazy("Код"),
    "description": gettext_lazy("Пояснение для жителя"),
    "group": gettext_lazy("Группа"),
    "priority": gettext_lazy("Срочность"),
    "deadline_minutes": gettext_lazy("Срок исполнения"),
    "summer_deadline_minutes": gettext_lazy("Срок летом"),
    "handler": gettext_lazy("Кто исполняет"),
    "handler_organisation_id": gettext_lazy("Организация"),
    "sort": gettext_lazy("Порядок в списке"),
}


def action_text(action: str) -> str:
    return str(ACTION_TEXTS.get(action, action))


def object_label(object_type: str) -> str:
    return str(OBJECT_LABELS.get(object_type, object_type))


def field_label(object_type: str, name: str) -> str:
    if name == "name":
        return str(NAME_LABELS.get(object_type, _("Название")))
    return str(FIELD_LABELS.get(name, name))


def _handler_label(handler: str) -> str:
    labels: dict[str, str] = {
        Handler.MANAGER: _("УК или ТСЖ, которые обслуживают дом"),
        Handler.ORGANISATION: _("Названная организация (например, водоканал)"),
    }
    return labels.get(handler, handler)


VALUE_LABELS: dict[str, Callable[[Any], str]] = {
    "role": role_label,
    "kind": org_kind_label,
    "priority": priority_label,
    "handler": _handler_label,
    "phone": format_phone,
    "deadline_minutes": human_minutes,
    "summer_deadline_minutes": human_minutes,
}


def value_text(name: str, value: Any, organisations: dict[int, str]) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("да") if value else _("нет")
    if name in ORGANISATION_FIELDS:
        return organisations.get(value, f"№ {value}")
    shown = VALUE_LABELS.get(name)
    return shown(value) if shown is not None else str(value)


def _changes(entry: AuditEntry, organisations: dict[int, str]) -> list[Change]:
    created = entry.action in CREATIONS
    found = []
    for name, (before, after) in (entry.details.get("changes") or {}).items():
        found.append(
            Change(
                field_label(entry.object_type, name),
                None if created else value_text(name, before, organisations),
                value_text(name, after, organisations),
            )
        )
    return found


def _note(entry: AuditEntry) -> str:
    details = entry.details
    if entry.action == AuditAction.BUILDINGS_IMPORTED:
        counts = ImportReport(
            added=details.get("added", 0),
            updated=details.get("updated", 0),
            unchanged=details.get("unchanged", 0),
        )
        return counts.summary()
    if "contractor" in details:
        return _("Подрядчик: %(name)s", name=details["contractor"])
    return ""


def _link(entry: AuditEntry) -> str | None:
    if entry.object_id is None:
        return None
    if entry.object_type == AuditObject.USER:
        return "/sysadmin/users?q=" + quote(entry.summary)
    sections: dict[str, str] = {
        AuditObject.ORGANISATION: "organisations",
        AuditObject.BUILDING: "buildings",
        AuditObject.CATEGORY: "categories",
    }
    section = sections.get(entry.object_type)
    return f"/sysadmin/{section}/{entry.object_id}" if section else None


def _subject(entry: AuditEntry) -> str:
    """«Организация «УК Заря»»; nothing for a change of many records (an import), whose
    action says it all."""
    if not entry.summary:
        return "" if entry.object_id is None else object_label(entry.object_type)
    return f"{object_label(entry.object_type)} «{entry.summary}»"


def _row(entry: AuditEntry, organisations: dict[int, str]) -> JournalRow:
    if entry.actor is None:
        who, who_role = _("Система (командная строка)"), ""
    else:
        who, who_role = f"{entry.actor.name} ({entry.actor.login})", role_label(entry.actor.role)
    return JournalRow(
        at=entry.at,
        who=who,
        who_role=who_role,
        action=action_text(entry.action),
        subject=_subject(entry),
        link=_link(entry),
        changes=_changes(entry, organisations),
        note=_note(entry),
    )


async def _organisation_names(db: Database, rows: list[AuditEntry]) -> dict[int, str]:
    ids = {
        value
        for entry in rows
        for name, pair in (entry.details.get("changes") or {}).items()
        if name in ORGANISATION_FIELDS
        for value in pair
        if isinstance(value, int)
    }
    if not ids:
        return {}
    async with db.read() as session:
        found = await session.execute(
            select(Organisation.id, Organisation.short_name).where(Organisation.id.in_(ids))
        )
        return {org_id: name for org_id, name in found.all()}


async def journal(db: Database, actor: Actor, page: int = 1) -> Journal:
    """One page of the log, newest first; the system admin's alone (`entries` checks)."""
    rows, total = await entries(db, actor, page)
    organisations = await _organisation_names(db, rows)
    return Journal([_row(entry, organisations) for entry in rows], max(1, page), total)
