"""Our rows as Open311 items: discovery, services (categories), service requests.

Plain functions of the rows and the settings; reading the rows is `reading`'s job.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal
from urllib.parse import urlparse

from server.db.models import Category, Request
from server.i18n import gettext as _
from server.i18n import local_time
from server.integrations.open311.errors import SPEC, not_found
from server.integrations.open311.schemas import (
    Attribute,
    CreatedRequest,
    Discovery,
    Endpoint,
    RequestToken,
    Service,
    ServiceDefinition,
    ServiceRequest,
)
from server.requests.deadlines import TOWN_TZ, is_overdue
from server.requests.labels import priority_label, state_label
from server.requests.workflow import CLOSED_STATES, FINAL_STATES, FIXED_STATES, State
from server.settings import Settings

# When our services or their definitions last changed shape; bump it when they do.
CHANGESET = "2026-12-01 00:00"
FLAT_ATTRIBUTE = "flat"
# Fixed but not yet closed: the resident still has to confirm.
AWAITING_RESIDENT = FIXED_STATES - FINAL_STATES


def w3(moment: datetime) -> str:
    """ISO 8601 with the town's offset, e.g. 2026-03-02T12:00:00+03:00."""
    return moment.astimezone(TOWN_TZ).isoformat(timespec="seconds")


# --------------------------------------------------------------------------------------------
# Jurisdiction and discovery


def jurisdiction(settings: Settings) -> str:
    """Our jurisdiction_id: settings.extra["open311_jurisdiction"] or the host of BASE_URL."""
    return settings.extra.get("open311_jurisdiction") or (
        urlparse(settings.base_url).hostname or "localhost"
    )


def check_jurisdiction(settings: Settings, value: str | None) -> None:
    """We serve one jurisdiction: the argument is optional, but a wrong one is not found."""
    if value and value.strip().lower() != jurisdiction(settings).lower():
        raise not_found(
            _(
                "jurisdiction_id «%(value)s» не найден; здесь обслуживается «%(ours)s».",
                value=value,
                ours=jurisdiction(settings),
            )
        )


def discovery(settings: Settings) -> Discovery:
    return Discovery(
        changeset=CHANGESET,
        contact=_(
            "Заявка ЖКХ, %(town)s. Вопросы по API: администрация системы, %(url)s",
            town=settings.shown_town_name,
            url=settings.base_url,
        ),
        key_service=_(
            "Ключ для подачи заявок (api_key) выдаёт администратор системы по запросу "
            "организации. jurisdiction_id: %(j)s. Фото прикладывайте файлом в поле media "
            "(multipart/form-data); media_url не принимается: сервис не загружает файлы "
            "по ссылкам.",
            j=jurisdiction(settings),
        ),
        endpoints=[
            Endpoint(
                specification=SPEC,
                url=f"{settings.base_url}/open311/v2",
                changeset=CHANGESET,
                type="test" if settings.demo else "production",
                formats=["text/xml", "application/json"],
            )
        ],
    )


# --------------------------------------------------------------------------------------------
# Services (our categories)


def service_item(category: Category) -> Service:
    keywords = [w for w in (category.group, priority_label(category.priority)) if w]
    return Service(
        service_code=category.code,
        service_name=category.shown_name,
        description=category.description or category.shown_name,
        metadata=True,
        type="realtime",
        keywords=", ".join(keywords),
        group=category.group or priority_label(category.priority),
    )


def service_definition(category: Category) -> ServiceDefinition:
    return ServiceDefinition(
        service_code=category.code,
        attributes=[
            Attribute(
                variable=True,
                code=FLAT_ATTRIBUTE,
                datatype="string",
                required=False,
                datatype_description=_("Номер квартиры, например 12 или 12А."),
                order=1,
                description=_("Квартира, если проблема в квартире, а не в общем имуществе."),
            )
        ],
    )


# --------------------------------------------------------------------------------------------
# Service requests


def status_of(state: str) -> Literal["open", "closed"]:
    return "closed" if State(state) in FINAL_STATES else "open"


def request_item(
    request: Request,
    *,
    now: datetime,
    town: str,
    agency: str | None,
    with_description: bool,
    known: str = "",
) -> ServiceRequest:
    """One service request; `agency` answers for a request still in the administration's
    triage queue, which no organisation handles yet; `known`, what is known of an outage of
    its building (`incidents.queries.notices_by_building`)."""
    building = request.building
    state = State(request.state)
    notes = state_label(request.state)
    if is_overdue(state, request.due_at, now):
        notes += ". " + _("Срок выполнения истёк")
    elif state in AWAITING_RESIDENT:
        notes += ". " + _("Ожидает подтверждения жителем")
    updated = request.closed_at if state in CLOSED_STATES and request.closed_at else None
    lat = request.latitude if request.latitude is not None else building.latitude
    lon = request.longitude if request.longitude is not None else building.longitude
    return ServiceRequest(
        service_request_id=request.id,
        status=status_of(request.state),
        status_notes=notes,
        service_name=request.category.shown_name,
        service_code=request.category.code,
        description=request.description if with_description else None,
        agency_responsible=request.organisation.shown_name if request.organisation else agency,
        service_notice=" ".join(
            [_("Срок выполнения — до %(due)s.", due=local_time(request.due_at)), known]
        ).strip(),
        requested_datetime=w3(request.created_at),
        updated_datetime=w3(updated or request.updated_at),
        expected_datetime=w3(request.due_at),
        address=f"{building.address}, {town}",
        address_id=building.id,
        zipcode=None,
        lat=lat,
        long=lon,
        media_url=None,
    )


def request_items(
    requests: list[Request],
    *,
    now: datetime,
    town: str,
    agency: str | None,
    with_description: bool,
    known: Mapping[int, str] | None = None,
) -> list[ServiceRequest]:
    known = known or {}
    return [
        request_item(
            r,
            now=now,
            town=town,
            agency=agency,
            with_description=with_description,
            known=known.get(r.building_id, ""),
        )
        for r in requests
    ]


def created_item(request: Request) -> CreatedRequest:
    return CreatedRequest(
        service_request_id=request.id,
        service_notice=_(
            "Заявка №%(n)s принята. Срок выполнения — до %(due)s.",
            n=request.number,
            due=local_time(request.due_at),
        ),
        account_id=None,
    )


def token_item(request: Request, token: str) -> RequestToken:
    return RequestToken(service_request_id=request.id, token=token)
