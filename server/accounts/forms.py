"""What the sign-in, registration, account deletion and language forms send, parsed before
anything reads it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from server.i18n import DEFAULT_LOCALE
from server.shared.forms import Form


class PasswordForm(Form):
    """A form with a password, which is taken exactly as typed: blanks around it count."""

    password: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        raw = data.get("password")
        form = super().parse({k: v for k, v in data.items() if k != "password"})
        form.password = raw if isinstance(raw, str) else ""
        return form


class LoginForm(PasswordForm):
    login: str = ""  # a login or a phone number
    next: str = ""  # where to go after signing in


class RegistrationForm(PasswordForm):
    phone: str = ""
    name: str = ""


class DeleteAccountForm(PasswordForm):
    """Deleting one's own account: the current password, and nothing naming whose account."""


class LanguageForm(Form):
    lang: str = DEFAULT_LOCALE
