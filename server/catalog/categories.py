"""Categories of requests: what residents choose, how urgent it is, its deadline, who handles it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Self

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server.catalog import records
from server.catalog.access import require_reader
from server.catalog.audit import Audited, AuditObject
from server.catalog.deadline_units import deadline_minutes, split_minutes
from server.catalog.organisations import organisations_of_kinds
from server.catalog.values import NamedForm, checked, in_range, line, names, picked
from server.db.models import Category, Organisation
from server.db.session import Database
from server.i18n import gettext as _
from server.i18n import gettext_lazy
from server.requests.routing import Handler
from server.shared.roles import Actor, OrgKind

# A category's named handler: the water supplier, or a УК that serves every house for it.
CATEGORY_HANDLER_KINDS = frozenset({OrgKind.RSO, OrgKind.UK})
PRIORITIES = ("emergency", "urgent", "normal")
CODE_RE = re.compile(r"[a-z0-9][a-z0-9_-]{1,59}")
NOT_A_HANDLER = gettext_lazy("Выберите ресурсоснабжающую организацию или УК.")


OTHER_NAMES = {"name_tt": 200, "name_en": 200}


class CategoryForm(NamedForm):
    code: str = ""
    description: str = ""
    group: str = ""
    priority: str = "normal"
    # A deadline is typed as an amount («1,5») and a unit (DEADLINE_UNITS).
    deadline_value: str = ""
    deadline_unit: str = "day"
    summer_deadline_value: str = ""
    summer_deadline_unit: str = "day"
    handler: str = Handler.MANAGER.value
    handler_organisation_id: Annotated[int, picked(NOT_A_HANDLER)] | None = None
    active: bool = True
    sort: int = 100

    STORED_AS_IS: ClassVar = (
        "name",
        "name_tt",
        "name_en",
        "code",
        "description",
        "group",
        "priority",
        "handler",
        "handler_organisation_id",
        "active",
        "sort",
    )

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Self:
        # An unticked checkbox sends nothing at all.
        return super().parse({**data, "active": "true" if data.get("active") else "false"})

    @classmethod
    def of(cls, category: Category) -> CategoryForm:
        value, unit = split_minutes(category.deadline_minutes)
        summer_value, summer_unit = split_minutes(category.summer_deadline_minutes)
        return cls(
            **{k: getattr(category, k) for k in cls.STORED_AS_IS},
            deadline_value=value,
            deadline_unit=unit,
            summer_deadline_value=summer_value if category.summer_deadline_minutes else "",
            summer_deadline_unit=summer_unit,
        )


async def _values(
    session: AsyncSession, form: CategoryForm, _stored: Category | None
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    named = names(form, _("Укажите название."), OTHER_NAMES, errors)
    code = form.code.strip().lower()
    if not CODE_RE.fullmatch(code):
        errors["code"] = _(
            "Код: 2–60 латинских строчных букв, цифр, «_» или «-», например roof_leak."
        )
    group = line(form.group, "group", errors, 100, _("Группа — не длиннее 100 знаков."))
    if form.priority not in PRIORITIES:
        errors["priority"] = _("Выберите срочность.")
    deadline = deadline_minutes(
        form.deadline_value, form.deadline_unit, "deadline", errors, required=True
    )
    summer = deadline_minutes(
        form.summer_deadline_value,
        form.summer_deadline_unit,
        "summer_deadline",
        errors,
        required=False,
    )
    handler_org_id = None
    try:
        handler = Handler(form.handler)
    except ValueError:
        handler = Handler.MANAGER
        errors["handler"] = _("Выберите, кто исполняет заявки.")
    if handler is Handler.ORGANISATION:
        org_id = form.handler_organisation_id
        org = await session.get(Organisation, org_id) if org_id is not None else None
        if org is None or OrgKind(org.kind) not in CATEGORY_HANDLER_KINDS:
            errors["handler_organisation_id"] = str(NOT_A_HANDLER)
        else:
            handler_org_id = org.id
    sort = in_range(form.sort, "sort", errors, 0, 100_000)
    description = form.description.strip()
    if len(description) > 2000:
        errors["description"] = _("Описание — не длиннее 2000 знаков.")
    return checked(
        {
            **named,
            "code": code,
            "description": description,
            "group": group,
            "priority": form.priority,
            "deadline_minutes": deadline,
            "summer_deadline_minutes": summer,
            "handler": handler.value,
            "handler_organisation_id": handler_org_id,
            "active": form.active,
            "sort": sort,
        },
        errors,
    )


CATEGORIES: records.Kind[Category, CategoryForm] = records.Kind(
    Category,
    missing=lambda: _("Категория не найдена."),
    taken=records.Taken("code", lambda: _("Категория с таким кодом уже есть.")),
    values=_values,
    audited=Audited(AuditObject.CATEGORY, name=lambda category: category.name),
)


async def list_categories(db: Database, actor: Actor) -> list[Category]:
    require_reader(actor)
    async with db.read() as session:
        return list(await session.scalars(select(Category).order_by(Category.sort, Category.name)))


async def handler_organisations(db: Database) -> list[Organisation]:
    return await organisations_of_kinds(db, CATEGORY_HANDLER_KINDS)


get_category = CATEGORIES.get
create_category = CATEGORIES.add
# A new deadline applies to requests filed from now on; filed ones keep their due time.
update_category = CATEGORIES.change
