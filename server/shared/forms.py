"""Typed forms: submitted fields parsed into a msgspec Struct before anything reads them.

Each field's type says what it may hold (`Id`, `Text[200]` …); a value that does not fit becomes
a Russian message under that field's name, raised together as one `InvalidInput`, so pages show
every mistake beside its field and nothing out of range ever reaches the database.
"""

from __future__ import annotations

import functools
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Self

import msgspec
from litestar import Request
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException

from server.i18n import gettext as _
from server.i18n import gettext_lazy
from server.shared.errors import InvalidInput

# The database's integer columns are 32-bit on PostgreSQL.
DB_INT_MAX = 2**31 - 1
# One photo or scan at most; the request body allows five of them and the rest of the form.
UPLOAD_LIMIT_BYTES = 15 * 1024 * 1024
MAX_UPLOADS = 5
REQUEST_BODY_LIMIT_BYTES = (MAX_UPLOADS + 1) * UPLOAD_LIMIT_BYTES

Id = Annotated[int, msgspec.Meta(ge=1, le=DB_INT_MAX)]
Count = Annotated[int, msgspec.Meta(ge=0, le=DB_INT_MAX)]

# The version of the request as the page that sent the form showed it. Every change of a request
# made by a person carries it, so that a change made meanwhile by someone else is shown to them
# (409) instead of being overwritten; a form without it comes from a page that is not ours.
NO_VERSION = gettext_lazy("В форме нет версии заявки. Обновите страницу и повторите действие.")
SeenVersion = Annotated[Count, msgspec.Meta(extra={"error": NO_VERSION, "missing": NO_VERSION})]

# Control characters other than tab and line breaks: never part of what a person types.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def parse_id(raw: object) -> int | None:
    """A database id from a path, query or form value; None for anything else."""
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        return None
    return value if 1 <= value <= DB_INT_MAX else None


async def refuse_ids_out_of_range(request: Request[Any, Any, Any]) -> None:
    """A before_request hook: an integer path parameter the database cannot hold names nothing.

    Path parameters are typed by the route (`{request_id:int}`), so this is the one place that
    bounds them all, before any handler sends them to the database. A coroutine, like every
    hook of the app: Litestar runs a plain function hook on a worker thread.
    """
    for value in request.path_params.values():
        if isinstance(value, int) and not 0 <= value <= DB_INT_MAX:
            raise NotFoundException()


def clean_text(raw: object) -> str:
    """Text as typed: Windows line ends folded, outer blanks dropped."""
    return str(raw if raw is not None else "").replace("\r\n", "\n").strip()


def has_control_characters(text: str) -> bool:
    return _CONTROL.search(text) is not None


def _meta_of(tp: Any) -> tuple[Any, list[msgspec.Meta]]:
    if typing.get_origin(tp) is Annotated:
        base, *extras = typing.get_args(tp)
        return base, [m for m in extras if isinstance(m, msgspec.Meta)]
    return tp, []


def _optional_base(tp: Any) -> tuple[Any, bool]:
    args = typing.get_args(tp)
    if args and type(None) in args:
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1:
            return rest[0], True
    return tp, False


def _extra(metas: list[msgspec.Meta], name: str) -> str | None:
    for meta in metas:
        if meta.extra and name in meta.extra:
            return str(meta.extra[name])
    return None


def _missing(tp: Any) -> str:
    """The message for a required field left out: its own (`extra={"missing": …}`) or the usual."""
    return _extra(_meta_of(tp)[1], "missing") or _("Заполните это поле.")


def _message(base: Any, metas: list[msgspec.Meta]) -> str:
    if (own := _extra(metas, "error")) is not None:
        return own
    limits = {k: getattr(m, k) for m in metas for k in ("ge", "le", "max_length") if getattr(m, k)}
    if base is int:
        if "ge" in limits and "le" in limits and limits["le"] < DB_INT_MAX:
            return _("Введите целое число от %(lo)s до %(hi)s.", lo=limits["ge"], hi=limits["le"])
        return _("Введите целое число.")
    if base is float:
        return _("Введите число.")
    if base is bool:
        return _("Выберите «да» или «нет».")
    if "max_length" in limits:
        return _("Не длиннее %(n)s знаков.", n=limits["max_length"])
    return _("Неверное значение.")


@dataclass(frozen=True)
class _Field:
    info: msgspec.structs.FieldInfo
    optional: bool
    base: Any
    metas: list[msgspec.Meta]


@functools.cache
def _fields_of(cls: type[msgspec.Struct]) -> tuple[_Field, ...]:
    """A form's fields as `parse` reads them, worked out once per class: msgspec resolves the
    annotations anew on every `fields()` call, which cost more than parsing the form."""
    fields = []
    for info in msgspec.structs.fields(cls):
        tp, optional = _optional_base(info.type)
        base, metas = _meta_of(tp)
        fields.append(_Field(info, optional, base, metas))
    return tuple(fields)


class Form(msgspec.Struct, kw_only=True):
    """Subclass with typed fields; `parse` fills them from submitted form or query data.

    Empty values take the field's default (usually None or ""), so use cases still decide what
    is required and say so in their own words.
    """

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        for field in _fields_of(cls):
            info, optional, base, metas = field.info, field.optional, field.base, field.metas
            raw = data.get(info.encode_name)
            if isinstance(raw, UploadFile):
                continue
            if base is str:
                text = clean_text(raw)
                if has_control_characters(text):
                    errors[info.encode_name] = _("Текст содержит недопустимые символы.")
                    continue
                if text == "" and optional:
                    continue
                raw = text
            elif raw is None or (isinstance(raw, str) and raw.strip() == ""):
                continue
            elif isinstance(raw, str):
                raw = raw.strip()
            try:
                values[info.name] = msgspec.convert(raw, info.type, strict=False)
            except msgspec.ValidationError:
                errors[info.encode_name] = _message(base, metas)
        if errors:
            raise InvalidInput(**errors)
        try:
            return cls(**values)
        except TypeError as exc:  # a required field is missing
            missing = {
                f.info.encode_name: _missing(f.info.type)
                for f in _fields_of(cls)
                if f.info.name not in values and f.info.required
            }
            raise InvalidInput(**missing) from exc


async def read_upload(value: object, field: str, limit: int = UPLOAD_LIMIT_BYTES) -> bytes | None:
    """The bytes of one uploaded file, None when nothing was chosen, refused when too large."""
    if not isinstance(value, UploadFile):
        return None
    data = await value.read(limit + 1)
    if len(data) > limit:
        raise InvalidInput(**{field: _("Файл больше %(mb)s МБ.", mb=limit // (1024 * 1024))})
    if not data and value.filename:
        raise InvalidInput(**{field: _("Файл пустой — выберите другой.")})
    return data or None


async def read_uploads(
    values: list[object], field: str, limit: int = UPLOAD_LIMIT_BYTES
) -> list[bytes]:
    """Every file chosen for a multi-file field."""
    found: list[bytes] = []
    for value in values:
        data = await read_upload(value, field, limit)
        if data is not None:
            found.append(data)
    return found
