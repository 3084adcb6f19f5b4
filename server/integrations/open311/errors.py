"""Errors as the specification wants them: an HTTP status and [{code, description}]."""

from __future__ import annotations

from server.i18n import gettext as _

SPEC = "http://wiki.open311.org/GeoReport_v2"


class Open311Error(Exception):
    def __init__(self, status: int, description: str, code: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.code = code or status
        self.description = description


def bad_request(description: str) -> Open311Error:
    return Open311Error(400, description)


def not_found(description: str) -> Open311Error:
    return Open311Error(404, description)


def not_found_text() -> str:
    return _("Такого ресурса Open311 нет. Список: %(spec)s", spec=SPEC)


def request_not_found_text(value: object) -> str:
    return _("Заявка %(id)s не найдена.", id=value)


def missing_key_text() -> str:
    return _("Не передан api_key: подать заявку можно только с ключом.")


def invalid_key_text() -> str:
    return _("Неверный api_key: заявка не принята.")


def format_missing_text() -> str:
    return _("Укажите формат ответа в адресе: .json или .xml.")
