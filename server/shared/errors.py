"""Errors a use case raises; routes turn them into Russian messages (page) or JSON (API)."""

from __future__ import annotations

from typing import Any

from server.i18n import gettext_lazy as _


class DomainError(Exception):
    status_code = 400
    code = "error"
    # Lazy: the message is put into words in the language of whoever reads it.
    default_message: Any = _("Не удалось выполнить действие.")

    def __init__(self, message: str | None = None, **fields: str) -> None:
        self.message = str(message if message is not None else self.default_message)
        self.fields = fields  # field name → message, for forms
        super().__init__(self.message)


class NotFound(DomainError):
    status_code, code, default_message = 404, "not_found", _("Не найдено.")


class Forbidden(DomainError):
    status_code, code = 403, "forbidden"
    default_message = _("Недостаточно прав для этого действия.")


class StaleChange(DomainError):
    """Somebody changed the request since the page was shown."""

    status_code, code = 409, "stale"
    default_message = _("Заявка уже изменена. Показано её текущее состояние.")


class InvalidInput(DomainError):
    status_code, code, default_message = 422, "invalid", _("Проверьте введённые данные.")


class TransitionRefused(DomainError):
    status_code, code = 409, "transition_refused"
    default_message = _("Это действие сейчас недоступно для заявки.")
