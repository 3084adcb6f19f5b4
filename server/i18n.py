"""Translations. Russian is the source language; catalogues for Tatar and English follow it.

Messages are written in Russian in the code and templates and wrapped in `_()`; `make
translations` extracts them into `server/translations/messages.pot`.
"""

from __future__ import annotations

import contextvars
from datetime import datetime
from pathlib import Path
from typing import Any

from babel.dates import format_datetime
from babel.support import LazyProxy, NullTranslations, Translations

from server.requests.deadlines import TOWN_TZ

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
LOCALES = ("ru", "tt", "en")
DEFAULT_LOCALE = "ru"

_current_locale: contextvars.ContextVar[str] = contextvars.ContextVar(
    "locale", default=DEFAULT_LOCALE
)
_cache: dict[str, NullTranslations] = {}


def translations(locale: str) -> NullTranslations:
    if locale not in _cache:
        if locale == DEFAULT_LOCALE:
            _cache[locale] = NullTranslations()
        else:
            _cache[locale] = Translations.load(str(TRANSLATIONS_DIR), [locale], domain="messages")
    return _cache[locale]


def set_locale(locale: str) -> None:
    _current_locale.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def current_locale() -> str:
    return _current_locale.get()


def gettext(message: str, **params: Any) -> str:
    text = translations(current_locale()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = translations(current_locale()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


def gettext_lazy(message: str, **params: Any) -> LazyProxy:
    return LazyProxy(gettext, message, **params, enable_cache=False)


_ = gettext


def local_time(value: datetime | None, fmt: str = "d MMMM yyyy, HH:mm") -> str:
    """A moment as the town sees it (Europe/Moscow), in the current language."""
    if value is None:
        return ""
    return format_datetime(value, fmt, tzinfo=TOWN_TZ, locale=current_locale())


def short_time(value: datetime | None) -> str:
    return local_time(value, "dd.MM.yyyy HH:mm")
