"""Errors as people see them: a Russian page, a redirect to sign-in, or JSON for the API."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from sqlalchemy import exc as sa_exc

from server.i18n import gettext as _
from server.shared.errors import DomainError
from server.shared.outage import is_outage

log = logging.getLogger(__name__)


@dataclass
class ErrorBody:
    """The one error body of the JSON API, as its OpenAPI document describes it."""

    detail: str  # what went wrong, in the reader's language
    code: str  # a stable word for programs: invalid, not_found, stale, unauthorized …
    errors: dict[str, str] = field(default_factory=dict)  # field name → what is wrong with it


def api_error(
    status: int,
    code: str,
    message: str,
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ErrorBody]:
    return Response(
        ErrorBody(detail=message, code=code, errors=dict(fields or {})),
        status_code=status,
        headers=headers,
    )


def _page(
    request: Request[Any, Any, Any],
    status: int,
    title: str,
    message: str,
    *,
    outage: bool = False,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    if request.headers.get("hx-request") == "true":
        # htmx swaps this into a small error area (see base.html's response handling).
        return Response(
            f'<div class="flash flash-error" role="alert">{_escape(message)}</div>',
            status_code=status,
            media_type="text/html",
            headers={"HX-Retarget": "#flash-area", "HX-Reswap": "innerHTML", **(headers or {})},
        )
    return Template(
        "errors/error.html",
        # During an outage nobody's session can be read: the page says so instead of offering
        # to sign in, which would tell a signed-in person they were signed out.
        context={"title": title, "message": message, "status": status, "outage": outage},
        status_code=status,
        headers=headers,
    )


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _is_api(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith(("/api/", "/open311/"))


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if _is_api(request):
        return api_error(exc.status_code, exc.code, exc.message, exc.fields)
    message = exc.message
    if exc.fields:
        message = " ".join([message, *exc.fields.values()])
    return _page(request, exc.status_code, _("Ошибка"), message)


def not_authorized(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    if _is_api(request):
        return api_error(401, "unauthorized", _("Нужна авторизация."))
    target = "/login?next=" + request.url.path
    if request.headers.get("hx-request") == "true":
        return ClientRedirect(target)
    return Redirect(target, status_code=303)


def forbidden(request: Request[Any, Any, Any], exc: PermissionDeniedException) -> Response[Any]:
    if "csrf" in str(exc.detail).lower():
        return http_error(request, exc)
    if _is_api(request):
        return api_error(403, "forbidden", _("Недостаточно прав."))
    return _page(request, 403, _("Нет доступа"), _("У вас нет доступа к этой странице."))


def not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Any]:
    if _is_api(request):
        return api_error(404, "not_found", _("Не найдено."))
    return _page(request, 404, _("Не найдено"), _("Такой страницы нет."))


_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_LONGER_THAN = re.compile(r"of length <= (\d+)")


def _field_message(raw: str) -> str:
    """A validator's English complaint about one value, said in the reader's language."""
    if _MISSING_FIELD.search(raw):
        return _("Заполните это поле.")
    if longer := _LONGER_THAN.search(raw):
        return _("Не длиннее %(n)s знаков.", n=longer.group(1))
    if "matching regex" in raw:
        return _("Текст содержит недопустимые символы.")
    if "Expected `int`" in raw:
        return _("Введите целое число в допустимых пределах.")
    return _("Неверное значение.")


def validation_errors(exc: ValidationException) -> tuple[dict[str, str], bool]:
    """Each refused value by its field name, and whether any of them was in the body."""
    fields: dict[str, str] = {}
    in_body = False
    for item in exc.extra or []:
        if not isinstance(item, dict):
            continue
        raw = str(item.get("message", ""))
        missing = _MISSING_FIELD.search(raw)
        key = missing.group(1) if missing else str(item.get("key") or "")
        in_body = in_body or item.get("source") == "body"
        if key:
            fields[key] = _field_message(raw)
    return fields, in_body


def validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    if _is_api(request):
        # A body that does not fit its schema is 422, like the use cases' own refusals; a query
        # or path value that does not is 400.
        fields, in_body = validation_errors(exc)
        status = 422 if in_body else 400
        return api_error(status, "invalid", _("Неверные данные запроса."), fields)
    return _page(request, 400, _("Ошибка"), _("Неверные данные запроса."))


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status == 403 and "csrf" in str(exc.detail).lower():
        message = _("Страница устарела. Обновите её и повторите.")
    elif status == 429:
        message = _("Слишком много попыток. Подождите минуту и попробуйте снова.")
    elif status == 413:
        message = _("Файл слишком большой.")
    elif status == 405:
        message = _("Такой запрос не поддерживается.")
    else:
        message = _("Не удалось выполнить запрос.")
    if _is_api(request):
        return api_error(status, f"http_{status}", message)
    return _page(request, status, _("Ошибка"), message)


def server_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    message = _("Что-то пошло не так. Мы уже знаем об этом; попробуйте ещё раз.")
    if _is_api(request):
        return api_error(500, "internal", message)
    return _page(request, 500, _("Ошибка"), message)


# Seconds a client is asked to wait before trying again while the database is unreachable.
RETRY_AFTER = 5


def database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, sa_exc.DataError):
        # A value the database cannot store (a number out of range, a NUL byte) that no form
        # caught: refused as bad input; the transaction was rolled back, nothing is half-written.
        log.warning("value refused by the database on %s: %s", request.url.path, exc)
        if _is_api(request):
            return api_error(400, "invalid", _("Неверные данные запроса."))
        return _page(request, 400, _("Ошибка"), _("Неверные данные запроса."))
    if not is_outage(exc):
        return server_error(request, exc)
    log.warning("database unavailable on %s: %s", request.url.path, exc)
    message = _("Сервис временно недоступен. Попробуйте через минуту — ваши данные сохранены.")
    headers = {"Retry-After": str(RETRY_AFTER)}
    if _is_api(request):
        return api_error(503, "unavailable", message, headers=headers)
    return _page(request, 503, _("Временно недоступно"), message, outage=True, headers=headers)


HANDLERS = {
    sa_exc.SQLAlchemyError: database_error,
    ConnectionError: database_error,
    TimeoutError: database_error,
    DomainError: domain_error,
    NotAuthorizedException: not_authorized,
    PermissionDeniedException: forbidden,
    NotFoundException: not_found,
    ValidationException: validation,
    HTTPException: http_error,
    500: server_error,
}
