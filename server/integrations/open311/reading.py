"""Reading for Open311: the active categories, and requests by filters, id or number."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from server.db.models import Category, Organisation, Request
from server.i18n import gettext as _
from server.integrations.open311.errors import not_found, request_not_found_text
from server.integrations.open311.query import RequestQuery
from server.requests import queries
from server.requests.labels import org_kind_label
from server.requests.workflow import FINAL_STATES
from server.shared.roles import OrgKind
from server.shared.services import Services

MAX_RESULTS = 1000


async def services(svc: Services) -> list[Category]:
    return await queries.categories(svc)


async def service(svc: Services, code: str) -> Category:
    async with svc.db.read() as session:
        category = (
            await session.scalars(
                select(Category).where(Category.code == code, Category.active.is_(True))
            )
        ).first()
    if category is None:
        raise not_found(_("service_code «%(code)s» не найден.", code=code))
    return category


def _loaded() -> Any:
    return (
        selectinload(Request.category),
        selectinload(Request.organisation),
        selectinload(Request.building),
    )


async def find_requests(svc: Services, query: RequestQuery) -> list[Request]:
    stmt = select(Request).options(*_loaded())
    if query.ids is not None:
        stmt = stmt.where(Request.id.in_(query.ids or [0]))
    else:
        assert query.start is not None and query.end is not None
        stmt = stmt.where(Request.created_at >= query.start, Request.created_at <= query.end)
        if query.codes:
            stmt = stmt.join(Category, Category.id == Request.category_id).where(
                Category.code.in_(query.codes)
            )
        if query.statuses and len(set(query.statuses)) == 1:
            final = [s.value for s in FINAL_STATES]
            if query.statuses[0] == "closed":
                stmt = stmt.where(Request.state.in_(final))
            else:
                stmt = stmt.where(Request.state.not_in(final))
    stmt = stmt.order_by(Request.created_at.desc(), Request.id.desc()).limit(MAX_RESULTS)
    async with svc.db.read() as session:
        return list(await session.scalars(stmt))


async def triage_agency(svc: Services) -> str:
    """Who answers for a request no organisation handles yet: the administration, whose
    triage queue it waits in."""
    async with svc.db.read() as session:
        name = await session.scalar(
            select(Organisation.name)
            .where(Organisation.kind == OrgKind.ADMINISTRATION, Organisation.active.is_(True))
            .order_by(Organisation.id)
            .limit(1)
        )
    return name or org_kind_label(OrgKind.ADMINISTRATION)


async def get_request(svc: Services, request_id: int) -> Request:
    async with svc.db.read() as session:
        request = (
            await session.scalars(
                select(Request).where(Request.id == request_id).options(*_loaded())
            )
        ).first()
    if request is None:
        raise not_found(request_not_found_text(request_id))
    return request


async def request_by_token(svc: Services, token: str) -> Request:
    """Our tokens are request numbers: people are told «заявка №2026-000123»."""
    token = token.strip().lstrip("№")
    async with svc.db.read() as session:
        request = (await session.scalars(select(Request).where(Request.number == token))).first()
    if request is None:
        raise not_found(_("Токен «%(token)s» не найден.", token=token))
    return request
