"""What a new password must be: long enough, and not one that people are known to choose.

The common passwords are the 10,000 most frequent of zxcvbn's list (from leaked password sets),
with the Russian ones a resident of Zainsk is likely to try; a password is compared without
regard to case and to digits added at its end («Password2024» is «password»).
"""

from __future__ import annotations

import re
from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from server.i18n import gettext as _

MIN_LENGTH = 8
MAX_LENGTH = 256
COMMON_COUNT = 10_000
# Words and keyboard runs Russian speakers use as passwords, typed in either layout.
RUSSIAN_COMMON = (
    "пароль",
    "gfhjkm",  # «пароль» typed on a Latin layout
    "йцукен",
    "йцукенг",
    "qwertyu",
    "любовь",
    "привет",
    "ghbdtn",  # «привет» on a Latin layout
    "наташа",
    "солнышко",
    "россия",
    "татарстан",
    "заинск",
    "zainsk",
    "казань",
    "kazan",
    "квартира",
    "жкх",
)
_TRAILING_DIGITS = re.compile(r"[\d!.?_\-]+$")


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_COUNT]) | frozenset(RUSSIAN_COMMON)


def _variants(password: str) -> set[str]:
    lowered = password.lower()
    return {lowered, _TRAILING_DIGITS.sub("", lowered)}


def password_problem(password: str, *, personal: tuple[str, ...] = ()) -> str | None:
    """Why this password may not be chosen, in Russian; None when it may.

    `personal` holds what others may know of the person (login, phone, name): a password equal
    to one of them is as weak as a common one.
    """
    if len(password) < MIN_LENGTH:
        return _("Пароль — не короче %(n)s символов.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Пароль — не длиннее %(n)s символов.", n=MAX_LENGTH)
    if len(set(password)) < 3:
        return _("Пароль из одного-двух повторяющихся знаков легко угадать.")
    variants = _variants(password)
    if variants & common_passwords():
        return _(
            "Этот пароль слишком распространён — его подбирают первым. Придумайте другой: "
            "например, три не связанных слова."
        )
    known = {item.lower() for item in personal if item and len(item) >= 4}
    # A phone number written with 8 or +7 in front is the same number.
    digits = re.sub(r"\D", "", password)[-10:]
    phones = {re.sub(r"\D", "", item)[-10:] for item in known}
    if variants & known or (len(digits) >= 7 and digits in phones):
        return _("Пароль не должен совпадать с логином, телефоном или именем.")
    return None
