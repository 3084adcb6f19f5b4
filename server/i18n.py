"""Translations. Russian is the source language; catalogues for Tatar and English follow it.

Messages are written in Russian in the code and templates and wrapped in `_()`; `make
translations` extracts them into `server/translations/messages.pot`.
"""

from __future__ import annotations

import contextvars
from datetime import date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal, format_percent
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


def in_reader_language(russian: str, **others: str | None) -> str:
    """A name people typed (an organisation, a category), in the reader's language when one was
    given, else the Russian one."""
    return others.get(current_locale()) or russian


def local_time(value: datetime | None, fmt: str = "d MMMM yyyy, HH:mm") -> str:
    """A moment as the town sees it (Europe/Moscow), in the current language."""
    if value is None:
        return ""
    return format_datetime(value, fmt, tzinfo=TOWN_TZ, locale=current_locale())


# Day first with digits reads naturally in Russian and Tatar; an English reader expects the
# month by name («30 Nov 2026»), which no digit order makes ambiguous.
SHORT_DATE = {"en": "d MMM yyyy"}
SHORT_TIME = {"en": "d MMM yyyy, HH:mm"}


def short_time(value: datetime | None) -> str:
    return local_time(value, SHORT_TIME.get(current_locale(), "dd.MM.yyyy HH:mm"))


def short_date(value: date | None) -> str:
    """A calendar day (a period's first or last), in the current language."""
    if value is None:
        return ""
    return format_date(
        value, SHORT_DATE.get(current_locale(), "dd.MM.yyyy"), locale=current_locale()
    )


def decimal(value: float, pattern: str = "0.0") -> str:
    """A number with the current language's decimal sign: «4,3» in Russian, «4.3» in English."""
    return format_decimal(value, pattern, locale=current_locale())


def percent(share: float) -> str:
    """A share as the current language writes it: «45 %» in Russian, «45%» in English."""
    return format_percent(share, locale=current_locale())


def accepted_locale(header: str) -> str:
    """The best of our languages for an Accept-Language header; Russian when none fits."""
    best, best_q = DEFAULT_LOCALE, 0.0
    for part in header.split(","):
        tag, _sep, params = part.strip().partition(";")
        language = tag.strip().lower().split("-")[0]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if language in LOCALES and q > best_q:
            best, best_q = language, q
    return best
