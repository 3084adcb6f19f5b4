"""Organisations: УК, ТСЖ, water suppliers, contractors, the administration; who works for whom."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from server.accounts.people import normalise_phone
from server.catalog import records
from server.catalog.access import require_reader, require_sysadmin
from server.catalog.audit import AuditAction, Audited, AuditObject, record
from server.catalog.values import NamedForm, checked, names, one_line, picked
from server.db.models import Building, Category, Organisation, OrganisationContractor, User
from server.db.session import Database
from server.i18n import gettext as _
from server.i18n import gettext_lazy
from server.shared.errors import InvalidInput, NotFound
from server.shared.forms import Form
from server.shared.roles import HANDLING_KINDS, Actor, OrgKind

EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
INN_RE = re.compile(r"\d{10}|\d{12}")
OTHER_NAMES = {"name_tt": 200, "name_en": 200, "short_name_tt": 80, "short_name_en": 80}
NOT_A_CONTRACTOR = gettext_lazy("Выберите подрядную организацию.")


class OrganisationForm(NamedForm):
    kind: str = ""
    short_name: str = ""
    short_name_tt: str = ""
    short_name_en: str = ""
    phone: str = ""
    email: str = ""
    inn: str = ""

    @classmethod
    def of(cls, org: Organisation) -> OrganisationForm:
        return cls(**{k: getattr(org, k) or "" for k in cls.__struct_fields__})


class ContractorForm(Form):
    contractor_id: Annotated[int, picked(NOT_A_CONTRACTOR)] | None = None


@dataclass
class OrganisationDetail:
    organisation: Organisation
    contractors: list[Organisation]  # working for this УК/ТСЖ/РСО
    clients: list[Organisation]  # for a contractor: whom it works for
    available_contractors: list[Organisation]  # may be linked
    buildings: int
    users: int


def _missing() -> str:
    return _("Организация не найдена.")


def _clean(form: OrganisationForm) -> dict[str, Any]:
    errors: dict[str, str] = {}
    try:
        kind = OrgKind(form.kind)
    except ValueError:
        kind = None
        errors["kind"] = _("Выберите вид организации.")
    named = names(form, _("Укажите полное название."), OTHER_NAMES, errors)
    short_name = one_line(form.short_name) or named["name"]
    if len(short_name) > 80:
        errors["short_name"] = _("Краткое название — не длиннее 80 знаков.")
    phone = None
    if form.phone:
        phone = normalise_phone(form.phone)
        if phone is None:
            errors["phone"] = _("Неверный номер телефона, например +7 85558 3-12-45.")
    email = one_line(form.email) or None
    if email and (len(email) > 200 or not EMAIL_RE.fullmatch(email)):
        errors["email"] = _("Неверный адрес почты.")
    inn = re.sub(r"\s", "", form.inn) or None
    if inn and not INN_RE.fullmatch(inn):
        errors["inn"] = _("ИНН — 10 или 12 цифр.")
    return checked(
        {
            "kind": kind,
            **named,
            "short_name": short_name,
            "phone": phone,
            "email": email,
            "inn": inn,
        },
        errors,
    )


async def list_organisations(
    db: Database, actor: Actor, kind: str | None = None
) -> list[Organisation]:
    require_reader(actor)
    query = select(Organisation).order_by(Organisation.kind, Organisation.name)
    if kind:
        query = query.where(Organisation.kind == kind)
    async with db.read() as session:
        return list(await session.scalars(query))


async def contractor_links(db: Database, actor: Actor) -> dict[int, list[Organisation]]:
    """For every УК/ТСЖ/РСO: the contractors working for it."""
    require_reader(actor)
    links: dict[int, list[Organisation]] = {}
    async with db.read() as session:
        rows = await session.execute(
            select(OrganisationContractor.organisation_id, Organisation)
            .join(Organisation, Organisation.id == OrganisationContractor.contractor_id)
            .order_by(Organisation.name)
        )
        for organisation_id, contractor in rows.all():
            links.setdefault(organisation_id, []).append(contractor)
    return links


def _linked(mine: Any, theirs: Any, org_id: int) -> Any:
    """Organisations on the `theirs` side of a contract whose `mine` side is `org_id`."""
    return (
        select(Organisation)
        .join(OrganisationContractor, theirs == Organisation.id)
        .where(mine == org_id)
        .order_by(Organisation.name)
    )


async def get_organisation(db: Database, actor: Actor, organisation_id: int) -> OrganisationDetail:
    require_reader(actor)
    link = OrganisationContractor
    async with db.read() as session:
        org = await session.get(Organisation, organisation_id)
        if org is None:
            raise NotFound(_missing())
        contractors = list(
            await session.scalars(_linked(link.organisation_id, link.contractor_id, org.id))
        )
        clients = list(
            await session.scalars(_linked(link.contractor_id, link.organisation_id, org.id))
        )
        linked = {c.id for c in contractors}
        available = [
            c
            for c in await session.scalars(
                select(Organisation)
                .where(Organisation.kind == OrgKind.CONTRACTOR)
                .order_by(Organisation.name)
            )
            if c.id not in linked
        ]
        buildings = await session.scalar(
            select(func.count()).select_from(Building).where(Building.manager_id == org.id)
        )
        users = await session.scalar(
            select(func.count()).select_from(User).where(User.organisation_id == org.id)
        )
    return OrganisationDetail(org, contractors, clients, available, buildings or 0, users or 0)


async def _in_use(session: AsyncSession, org_id: int) -> bool:
    checks = [
        select(User.id).where(User.organisation_id == org_id),
        select(Building.id).where(Building.manager_id == org_id),
        select(Category.id).where(Category.handler_organisation_id == org_id),
        select(OrganisationContractor.contractor_id).where(
            or_(
                OrganisationContractor.organisation_id == org_id,
                OrganisationContractor.contractor_id == org_id,
            )
        ),
    ]
    for query in checks:
        if (await session.scalar(query.limit(1))) is not None:
            return True
    return False


async def _values(
    session: AsyncSession, form: OrganisationForm, stored: Organisation | None
) -> dict[str, Any]:
    values = _clean(form)
    if stored is None:
        return {**values, "active": True}
    if values["kind"] != stored.kind and await _in_use(session, stored.id):
        # Its dispatchers, houses or contracts were made for the old kind.
        raise InvalidInput(
            kind=_(
                "Вид нельзя сменить: у организации есть сотрудники, дома, категории или подрядчики."
            )
        )
    return values


AUDITED: Audited[Organisation] = Audited(
    AuditObject.ORGANISATION, name=lambda org: org.short_name, switchable=True
)
ORGANISATIONS: records.Kind[Organisation, OrganisationForm] = records.Kind(
    Organisation,
    missing=_missing,
    taken=records.Taken("name", lambda: _("Организация с таким названием уже есть.")),
    values=_values,
    audited=AUDITED,
)


create_organisation = ORGANISATIONS.add
update_organisation = ORGANISATIONS.change


async def set_organisation_active(
    db: Database, actor: Actor, organisation_id: int, active: bool
) -> Organisation:
    """Switching an organisation off sends its new requests to triage; nothing is deleted."""
    require_sysadmin(actor)
    return await records.switch(db, actor, Organisation, AUDITED, organisation_id, _missing, active)


async def link_contractor(
    db: Database, actor: Actor, organisation_id: int, contractor_id: int | None
) -> None:
    require_sysadmin(actor)
    async with db.begin() as session:
        org = await session.get(Organisation, organisation_id)
        if org is None:
            raise NotFound(_missing())
        if OrgKind(org.kind) not in HANDLING_KINDS:
            raise InvalidInput(contractor_id=_("Подрядчиков назначают только УК, ТСЖ и РСО."))
        contractor = await session.get(Organisation, contractor_id) if contractor_id else None
        if contractor is None or contractor.kind != OrgKind.CONTRACTOR:
            raise InvalidInput(contractor_id=str(NOT_A_CONTRACTOR))
        exists = await session.get(OrganisationContractor, (org.id, contractor.id))
        if exists is None:
            session.add(OrganisationContractor(organisation_id=org.id, contractor_id=contractor.id))
            _contract_logged(session, actor, AuditAction.CONTRACTOR_LINKED, org, contractor)


async def unlink_contractor(
    db: Database, actor: Actor, organisation_id: int, contractor_id: int
) -> None:
    """Ends the contract for new work; orders already given to the contractor stay with it."""
    require_sysadmin(actor)
    async with db.begin() as session:
        link = await session.get(OrganisationContractor, (organisation_id, contractor_id))
        org = await session.get(Organisation, organisation_id)
        contractor = await session.get(Organisation, contractor_id)
        if link is None or org is None or contractor is None:
            raise NotFound(_("Такой связи нет."))
        await session.delete(link)
        _contract_logged(session, actor, AuditAction.CONTRACTOR_UNLINKED, org, contractor)


def _contract_logged(
    session: AsyncSession,
    actor: Actor,
    action: AuditAction,
    org: Organisation,
    contractor: Organisation,
) -> None:
    """Logged on the side that gives the work, naming the contractor as it was called then."""
    record(
        session,
        actor,
        action,
        AuditObject.ORGANISATION,
        org.id,
        org.short_name,
        contractor_id=contractor.id,
        contractor=contractor.short_name,
    )


async def organisations_of_kinds(db: Database, kinds: frozenset[OrgKind]) -> list[Organisation]:
    """For a form's choice: e.g. who may manage a house, or handle a category."""
    async with db.read() as session:
        return list(
            await session.scalars(
                select(Organisation)
                .where(Organisation.kind.in_([k.value for k in kinds]))
                .order_by(Organisation.name)
            )
        )
