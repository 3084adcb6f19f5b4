"""Staff accounts as the system admin keeps them: who works where, switched on or off."""

from __future__ import annotations

from typing import Annotated, Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from server.accounts import people as accounts
from server.accounts.forms import PasswordForm
from server.catalog import audit, records
from server.catalog.access import LIST_LIMIT, require_reader, require_sysadmin
from server.catalog.values import line, picked
from server.db.models import Organisation, User
from server.db.session import Database
from server.i18n import gettext as _
from server.i18n import gettext_lazy
from server.shared.errors import InvalidInput, NotFound
from server.shared.roles import Actor, Role

ASSIGNABLE_ROLES = [r for r in Role if r is not Role.SYSTEM]
WRONG_ORGANISATION = gettext_lazy("Выберите организацию, подходящую для этой роли.")


class UserForm(PasswordForm):
    login: str = ""
    name: str = ""
    role: str = ""
    organisation_id: Annotated[int, picked(WRONG_ORGANISATION)] | None = None
    phone: str = ""

    @classmethod
    def of(cls, user: User) -> UserForm:
        """The edit form: everything but the password, which is set on its own."""
        return cls(
            login=user.login,
            name=user.name,
            role=user.role,
            organisation_id=user.organisation_id,
            phone=accounts.format_phone(user.phone) if user.phone else "",
        )


def _missing() -> str:
    return _("Пользователь не найден.")


async def list_users(
    db: Database, actor: Actor, *, role: str = "", query: str = "", limit: int = LIST_LIMIT
) -> list[User]:
    require_reader(actor)
    stmt = select(User).options(selectinload(User.organisation))
    if role:
        stmt = stmt.where(User.role == role)
    text = query.strip().lower()
    if text:
        like = f"%{text}%"
        stmt = stmt.where(
            or_(
                User.login.like(like),
                func.lower(User.name).like(like),
                User.phone.like(like),
            )
        )
    async with db.read() as session:
        return list(await session.scalars(stmt.order_by(User.role, User.login).limit(limit)))


async def staff_organisations(db: Database) -> list[Organisation]:
    """Organisations a staff account may belong to, active ones only."""
    async with db.read() as session:
        return list(
            await session.scalars(
                select(Organisation)
                .where(Organisation.active.is_(True))
                .order_by(Organisation.kind, Organisation.name)
            )
        )


async def create_user(db: Database, actor: Actor, form: UserForm) -> User:
    require_sysadmin(actor)
    # accounts.create_user checks the organisation against the role and drops it for roles
    # that belong to none (residents, operators, system admins).
    return await accounts.create_user(
        db,
        login=form.login,
        name=form.name,
        role=form.role,
        password=form.password,
        organisation_id=form.organisation_id,
        phone=form.phone or None,
        actor=actor,
    )


async def get_user(db: Database, actor: Actor, user_id: int) -> User:
    require_reader(actor)
    user = await accounts.get_user(db, user_id)
    if user is None:
        raise NotFound(_missing())
    return user


async def update_user(db: Database, actor: Actor, user_id: int, form: UserForm) -> User:
    """A new name, phone, role or organisation; the login stays, the password is set apart.

    A resident stays a resident and staff stay staff: a resident's requests and a staff
    member's work are kept under the role they were made in."""
    require_sysadmin(actor)
    errors: dict[str, str] = {}
    name = line(form.name, "name", errors, 200, _("Имя — не длиннее 200 знаков."))
    try:
        role = Role(form.role)
    except ValueError:
        role = None
    if role not in ASSIGNABLE_ROLES:
        errors["role"] = _("Неизвестная роль.")
    phone = accounts.staff_phone(form.phone, errors)
    if errors or role is None:
        raise InvalidInput(**errors)
    try:
        async with db.begin() as session:
            user = await session.get(User, user_id)
            if user is None:
                raise NotFound(_missing())
            if role != user.role and user.id == actor.user_id:
                raise InvalidInput(role=_("Нельзя сменить роль собственной учётной записи."))
            if role != user.role and Role.RESIDENT in (role, user.role):
                raise InvalidInput(
                    role=_("Житель не может стать сотрудником, а сотрудник — жителем.")
                )
            values: dict[str, Any] = {
                "name": name or user.login,
                "role": role,
                "organisation_id": await accounts.organisation_for(
                    session, role, form.organisation_id
                ),
                "phone": phone,
            }
            await records.write_changes(session, actor, audit.USERS, user, values)
            return user
    except IntegrityError:
        raise InvalidInput(phone=_("Этот номер уже зарегистрирован.")) from None


async def set_user_active(db: Database, actor: Actor, user_id: int, active: bool) -> User:
    """A switched-off account cannot sign in, and its open sessions stop working at once."""
    require_sysadmin(actor)
    if user_id == actor.user_id and not active:
        raise InvalidInput(active=_("Нельзя отключить собственную учётную запись."))
    return await records.switch(db, actor, User, audit.USERS, user_id, _missing, active)


async def reset_password(db: Database, actor: Actor, user_id: int, password: str) -> User:
    require_sysadmin(actor)
    errors: dict[str, str] = {}
    accounts.check_password(password, errors)
    if errors:
        raise InvalidInput(**errors)
    async with db.begin() as session:
        user = await session.get(User, user_id)
        if user is None:
            raise NotFound(_missing())
        user.password_hash = accounts.hash_password(password)
        # That it was reset, and by whom; never the password nor its hash.
        audit.record(
            session,
            actor,
            audit.AuditAction.PASSWORD_RESET,
            audit.AuditObject.USER,
            user.id,
            user.login,
        )
        return user
