"""Errors a use case raises; routes turn them into Russian messages (page) or JSON (API)."""

from __future__ import annotations

from server.i18n import gettext_lazy as _


class DomainError(Exception):
    status_code = 400
    code = "error"

    def __init__(self, message: str | None = None, **fields: str) -> None:
        self.message = str(message) if message is not None else str(self.default_message())
        self.fields = fields  # field name → message, for forms
        super().__init__(self.message)

    def default_message(self) -> str:
        return str(_("Не удалось выполнить действие."))


class NotFound(DomainError):
    status_code = 404
    code = "not_found"

    def default_message(self) -> str:
        return str(_("Не найдено."))


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"

    def default_message(self) -> str:
        return str(_("Недостаточно прав для этого действия."))


class StaleChange(DomainError):
    """Somebody changed the request since the page was shown."""

    status_code = 409
    code = "stale"

    def default_message(self) -> str:
        return str(_("Заявка уже изменена. Показано её текущее состояние."))


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid"

    def default_message(self) -> str:
        return str(_("Проверьте введённые данные."))


class TransitionRefused(DomainError):
    status_code = 409
    code = "transition_refused"

    def default_message(self) -> str:
        return str(_("Это действие сейчас недоступно для заявки."))
