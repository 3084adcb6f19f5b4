"""Human names for states, actions, roles and organisation kinds, through the catalogue."""

from __future__ import annotations

from datetime import datetime

from server.db.models import TimelineEntry
from server.i18n import gettext as _
from server.i18n import local_time
from server.requests.qr import QR_REASONS
from server.requests.workflow import ACTIONS, Action, State
from server.shared.roles import OrgKind, Role


def state_label(state: str) -> str:
    return {
        State.NEW: _("Новая"),
        State.ASSIGNED: _("Назначена"),
        State.IN_PROGRESS: _("В работе"),
        State.DONE: _("Выполнена"),
        State.VERIFIED: _("Проверена"),
        State.CLOSED: _("Закрыта"),
        State.REWORK: _("На доработке"),
        State.DECLINED: _("Отклонена"),
        State.CANCELLED: _("Отменена"),
        State.DUPLICATE: _("Дубликат"),
    }.get(State(state), state)


def state_explanation(state: str) -> str:
    """What the state means for the resident, in one sentence."""
    return {
        State.NEW: _("Заявка принята и передана обслуживающей организации."),
        State.ASSIGNED: _("Назначен подрядчик, работы скоро начнутся."),
        State.IN_PROGRESS: _("Подрядчик выполняет работы."),
        State.DONE: _("Подрядчик сообщил о выполнении, диспетчер проверяет."),
        State.VERIFIED: _("Работа проверена. Подтвердите, что проблема решена."),
        State.CLOSED: _("Заявка закрыта: вы подтвердили выполнение."),
        State.REWORK: _("Работа возвращена на доработку."),
        State.DECLINED: _("Организация отклонила заявку."),
        State.CANCELLED: _("Заявка отменена."),
        State.DUPLICATE: _("Эта проблема уже известна по другой заявке: теперь вы следите за ней."),
    }.get(State(state), "")


def action_label(action: str) -> str:
    """The button that takes the action."""
    return str(ACTIONS[Action(action)].button)


def entry_label(kind: str) -> str:
    """A timeline entry's headline."""
    if kind in ACTIONS:
        return str(ACTIONS[Action(kind)].entry)
    # Entries that are not workflow actions: filing, and what the service notes itself.
    return {
        "file": _("Заявка подана"),
        "print": _("Заказ-наряд распечатан"),
        "qr_confirmed": _("QR-код заказ-наряда подтверждён"),
        "qr_flagged": _("Фото требует проверки"),
        "deadline_warning": _("Срок скоро истекает"),
        "phone_call": _("Обращение по телефону"),
        "phone_call_ended": _("Звонок завершён"),
    }.get(kind, kind)


# Notes the service writes itself: what they say follows from their kind and data, worded in the
# reader's language. Older rows kept a Russian text beside them; it is not shown.
SYSTEM_NOTES = frozenset({"print", "qr_confirmed", "qr_flagged", "deadline_warning"})


def entry_body(entry: TimelineEntry) -> str:
    """A timeline entry's text under its headline: what a person wrote, or a system note's."""
    if entry.kind not in SYSTEM_NOTES:
        return entry.text
    data = entry.data or {}
    if entry.kind == "qr_flagged":
        reason = QR_REASONS.get(str(data.get("status")), QR_REASONS["missing"])
        return str(reason)
    if entry.kind == "deadline_warning" and isinstance(data.get("due_at"), str):
        due = datetime.fromisoformat(data["due_at"])
        return _("Срок выполнения истекает %(due)s.", due=local_time(due))
    return ""


def done_label(action: Action) -> str:
    """What the person is told once the action is taken."""
    return _("Готово: %(what)s.", what=ACTIONS[action].done)


def role_label(role: str) -> str:
    return {
        Role.RESIDENT: _("Житель"),
        Role.OPERATOR: _("Оператор единого номера"),
        Role.DISPATCHER: _("Диспетчер"),
        Role.CONTRACTOR: _("Диспетчер подрядчика"),
        Role.WORKER: _("Исполнитель"),
        Role.CITY_ADMIN: _("Администрация"),
        Role.SYSADMIN: _("Администратор системы"),
        Role.SYSTEM: _("Система"),
    }.get(Role(role), role)


def org_kind_label(kind: str) -> str:
    return {
        OrgKind.UK: _("Управляющая компания"),
        OrgKind.TSJ: _("ТСЖ"),
        OrgKind.RSO: _("Ресурсоснабжающая организация"),
        OrgKind.CONTRACTOR: _("Подрядная организация"),
        OrgKind.ADMINISTRATION: _("Администрация"),
    }.get(OrgKind(kind), kind)


def source_label(source: str) -> str:
    return {
        "web": _("Приложение"),
        "phone": _("По телефону"),
        "api": _("Через API"),
        "open311": _("Open311"),
    }.get(source, source)


def priority_label(priority: str) -> str:
    return {
        "emergency": _("Аварийная"),
        "urgent": _("Срочная"),
        "normal": _("Обычная"),
    }.get(priority, priority)


# What the templates call to put a stored value into words, under the same names.
FOR_TEMPLATES = {
    "state_label": state_label,
    "state_explanation": state_explanation,
    "action_label": action_label,
    "entry_label": entry_label,
    "entry_body": entry_body,
    "role_label": role_label,
    "org_kind_label": org_kind_label,
    "source_label": source_label,
    "priority_label": priority_label,
}
