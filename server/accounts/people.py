"""People: sign-in, residents' self-registration, staff accounts, phone numbers."""

from __future__ import annotations

import re
from typing import Any, Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.forms import RegistrationForm
from server.accounts.password_rules import password_problem
from server.catalog import audit
from server.db.models import Organisation, User
from server.db.session import Database
from server.i18n import gettext as _
from server.shared.errors import InvalidInput
from server.shared.roles import ROLE_ORG_KINDS, SYSTEM_ACTOR, Actor, OrgKind, Role

_hasher = PasswordHasher()
# Verifying against this keeps the time of a failed sign-in the same for unknown logins.
_DUMMY_HASH = _hasher.hash("not a password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def normalise_phone(raw: str) -> str | None:
    """+7XXXXXXXXXX from the ways people write Russian numbers, or None."""
    digits = re.sub(r"\D", "", raw or "")
    if len(digits) == 11 and digits[0] in "78":
        digits = "7" + digits[1:]
    elif len(digits) == 10 and digits[0] == "9":
        digits = "7" + digits
    else:
        return None
    return "+" + digits


def format_phone(phone: str | None) -> str:
    if not phone or len(phone) != 12:
        return phone or ""
    d = phone[2:]
    return f"+7 {d[0:3]} {d[3:6]}-{d[6:8]}-{d[8:10]}"


class Person(Protocol):
    """Whoever is signed in, as the rules look at them: a `User` row, or what a live socket
    keeps of one (`live.views.base.SignedIn`)."""

    @property
    def id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def organisation_id(self) -> int | None: ...


def actor_of(user: Person) -> Actor:
    return Actor(user_id=user.id, role=Role(user.role), organisation_id=user.organisation_id)


async def authenticate(db: Database, login: str, password: str) -> User | None:
    login = login.strip()
    phone = normalise_phone(login)
    async with db.read() as session:
        query = select(User).where(User.active.is_(True))
        if phone:
            query = query.where((User.phone == phone) | (User.login == login.lower()))
        else:
            query = query.where(User.login == login.lower())
        user = (await session.scalars(query.limit(1))).first()
    if user is None:
        verify_password(None, password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if _hasher.check_needs_rehash(user.password_hash or ""):
        async with db.begin() as session:
            stored = await session.get(User, user.id)
            if stored is not None:
                stored.password_hash = hash_password(password)
    return user


async def get_user(db: Database, user_id: int) -> User | None:
    async with db.read() as session:
        user = await session.get(User, user_id)
    return user if user is not None and user.active else None


def check_password(password: str, errors: dict[str, str], *personal: str | None) -> None:
    """A new password is refused when it is short, common or one of the person's own details."""
    problem = password_problem(password, personal=tuple(item for item in personal if item))
    if problem is not None:
        errors["password"] = problem


async def register_resident(db: Database, form: RegistrationForm) -> User:
    errors: dict[str, str] = {}
    phone = normalise_phone(form.phone)
    if phone is None:
        errors["phone"] = _("Укажите номер телефона, например +7 917 123-45-67.")
    name = " ".join(form.name.split())
    if not name:
        errors["name"] = _("Укажите имя.")
    elif len(name) > 200:
        errors["name"] = _("Слишком длинное имя.")
    check_password(form.password, errors, phone, form.phone, name)
    if errors or phone is None:
        raise InvalidInput(**errors)
    try:
        async with db.begin() as session:
            existing = (await session.scalars(select(User).where(User.phone == phone))).first()
            if existing is not None:
                if existing.role != Role.RESIDENT or existing.password_hash:
                    raise InvalidInput(
                        phone=_(
                            "Этот номер уже зарегистрирован. Войдите или обратитесь к оператору."
                        )
                    )
                # Filed by phone earlier: the caller now claims the account with a password.
                existing.name = name
                existing.password_hash = hash_password(form.password)
                return existing
            return await _add_user(
                session,
                login=phone,
                phone=phone,
                name=name,
                role=Role.RESIDENT,
                password_hash=hash_password(form.password),
            )
    except IntegrityError:
        raise InvalidInput(phone=_("Этот номер уже зарегистрирован.")) from None


async def _add_user(session: AsyncSession, **columns: Any) -> User:
    user = User(**columns)
    session.add(user)
    await session.flush()
    return user


async def find_or_create_caller(session: AsyncSession, phone: str, name: str) -> User:
    """The resident behind a phone call, created without a password when new."""
    user = (await session.scalars(select(User).where(User.phone == phone))).first()
    if user is not None:
        if user.role != Role.RESIDENT:
            raise InvalidInput(phone=_("Этот номер принадлежит сотруднику, а не жителю."))
        if name and not user.name:
            user.name = name
        return user
    return await _add_user(
        session, login=phone, phone=phone, name=name or _("Житель"), role=Role.RESIDENT
    )


def staff_phone(raw: str | None, errors: dict[str, str]) -> str | None:
    """An account's optional phone number, normalised; a wrong one goes to `errors`."""
    if not raw:
        return None
    phone = normalise_phone(raw)
    if phone is None:
        errors["phone"] = _("Неверный номер телефона.")
    return phone


async def organisation_for(
    session: AsyncSession, role: Role, organisation_id: int | None
) -> int | None:
    """The organisation a staff role works in, checked to be of a kind the role belongs to;
    none for roles that belong to none (residents, operators, system admins)."""
    kinds = ROLE_ORG_KINDS.get(role)
    if kinds is None:
        return None
    org = await session.get(Organisation, organisation_id) if organisation_id else None
    if org is None or OrgKind(org.kind) not in kinds:
        raise InvalidInput(organisation_id=_("Выберите организацию, подходящую для этой роли."))
    return org.id


async def create_user(
    db: Database,
    *,
    login: str,
    name: str,
    role: str,
    password: str,
    organisation_id: int | None = None,
    phone: str | None = None,
    actor: Actor = SYSTEM_ACTOR,
) -> User:
    """A staff (or resident) account made by the system admin or the command line (the
    system), logged as made by them."""
    errors: dict[str, str] = {}
    login = login.strip().lower()
    if not re.fullmatch(r"[a-z0-9_.@+-]{3,80}", login):
        errors["login"] = _("Логин: 3–80 латинских букв, цифр или знаков _.-@+")
    try:
        role_value = Role(role)
    except ValueError:
        role_value = None
        errors["role"] = _("Неизвестная роль.")
    if role_value is Role.SYSTEM:
        errors["role"] = _("Неизвестная роль.")
    check_password(password, errors, login, name, phone)
    phone_value = staff_phone(phone, errors)
    if errors or role_value is None:
        raise InvalidInput(**errors)
    try:
        async with db.begin() as session:
            shown = {
                "login": login,
                "name": " ".join(name.split()) or login,
                "role": role_value,
                "organisation_id": await organisation_for(session, role_value, organisation_id),
                "phone": phone_value,
            }
            user = await _add_user(session, **shown, password_hash=hash_password(password))
            audit.USERS.added(session, actor, user, shown)
            return user
    except IntegrityError:
        raise InvalidInput(login=_("Такой логин или телефон уже есть.")) from None


async def set_locale(db: Database, user_id: int, locale: str) -> None:
    async with db.begin() as session:
        user = await session.get(User, user_id)
        if user is not None:
            user.locale = locale
