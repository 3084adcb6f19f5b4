"""Open311 GeoReport v2 under /open311/v2/ — JSON and XML, errors as the specification says.

The format is the extension of the last path segment (`services.json`, `requests/12.xml`).
Each resource is its own handler, so the OpenAPI document describes each one; errors raised
anywhere below, ours or the framework's, come back as `[{"code", "description"}]` or
`<errors><error>…` with 400, 403, 404 or 503.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Request, Response, Router, get, post
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import AnyCallable
from sqlalchemy.exc import SQLAlchemyError

from server.db.models import Request as RequestRow
from server.db.models import utcnow
from server.i18n import gettext as _
from server.incidents import queries as incident_queries
from server.integrations.open311 import mapping, reading
from server.integrations.open311.docs import (
    Open311Operation,
    Open311Submission,
    SubmissionForm,
    error_responses,
    named,
    query_text,
)
from server.integrations.open311.errors import (
    Open311Error,
    bad_request,
    format_missing_text,
    invalid_key_text,
    missing_key_text,
    not_found,
    not_found_text,
    request_not_found_text,
)
from server.integrations.open311.filing import Submission, invalid_text, submit
from server.integrations.open311.formats import MEDIA, body, error_body, split_format
from server.integrations.open311.query import parse_query
from server.integrations.open311.schemas import (
    Answer,
    CreatedRequest,
    Discovery,
    RequestToken,
    Service,
    ServiceDefinition,
    ServiceRequest,
)
from server.integrations.tokens import TokenHolder, authenticate
from server.shared.error_pages import database_error, validation_errors
from server.shared.errors import DomainError, InvalidInput
from server.shared.forms import parse_id, read_upload
from server.shared.services import Services


def _format_of(request: Request[Any, Any, Any]) -> str:
    last = request.url.path.rstrip("/").rsplit("/", 1)[-1].lower()
    return "json" if last.endswith(".json") else "xml"


def _as_open311(
    request: Request[Any, Any, Any], exc: Exception
) -> tuple[Open311Error, dict[str, str]]:
    """Any error as the specification's error, and the headers its answer carries."""
    if isinstance(exc, Open311Error):
        return exc, {}
    if isinstance(exc, ValidationException):
        fields, _in_body = validation_errors(exc)
        described = " ".join(f"{name}: {message}" for name, message in fields.items())
        return bad_request(described or _("Неверные данные запроса.")), {}
    if isinstance(exc, HTTPException):
        if exc.status_code == 404:
            return not_found(not_found_text()), {}
        return Open311Error(400 if exc.status_code < 500 else exc.status_code, str(exc.detail)), {}
    if isinstance(exc, InvalidInput):
        return bad_request(invalid_text(exc)), {}
    if isinstance(exc, DomainError):
        status = exc.status_code if exc.status_code in (403, 404) else 400
        return Open311Error(status, exc.message), {}
    # The database: a value it refuses is 400, not answering is 503 with Retry-After.
    shared = database_error(request, exc)
    return Open311Error(shared.status_code or 500, shared.content.detail), dict(shared.headers)


def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    fmt = _format_of(request)
    error, headers = _as_open311(request, exc)
    return Response(
        error_body(error, fmt), status_code=error.status, media_type=MEDIA[fmt], headers=headers
    )


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if isinstance(v, str)}


def _answers(model: Any, *errors: int, status: int = 200) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            model,
            description="As JSON or XML, after the path's extension",
            generate_examples=False,
        ),
        **error_responses(*errors),
    }


def _both(stem: str) -> list[str]:
    return [f"{stem}.json", f"{stem}.xml"]


Jurisdiction = Annotated[str | None, query_text("Our jurisdiction_id (optional)")]
ApiKey = Annotated[str | None, query_text("An Open311 key: descriptions are shown to holders")]


@dataclass
class Call:
    """One Open311 call: the resource named, the format asked for, the arguments given."""

    services: Services
    stem: str
    fmt: str
    params: dict[str, str]

    @classmethod
    def of(
        cls, request: Request[Any, Any, Any], services: Services, params: dict[str, str]
    ) -> Call:
        """Split the format off and check the jurisdiction, as every resource does."""
        stem, fmt = split_format(request.url.path.rstrip("/").rsplit("/", 1)[-1])
        mapping.check_jurisdiction(services.settings, params.get("jurisdiction_id"))
        return cls(services, stem, fmt, params)

    def answer(self, value: Answer, root: str, status: int = 200) -> Response[bytes]:
        return Response(body(self.fmt, value, root), status_code=status, media_type=MEDIA[self.fmt])

    async def key_holder(self, key: str | None) -> TokenHolder | None:
        return await authenticate(self.services.db, key, "open311") if key else None

    async def requests(self, found: list[RequestRow]) -> Response[bytes]:
        """Service requests; their descriptions only for the holder of a valid api_key."""
        holder = await self.key_holder(self.params.get("api_key"))
        waiting = any(r.organisation_id is None for r in found)
        items = mapping.request_items(
            found,
            now=utcnow(),
            town=self.services.settings.town_name,
            agency=await reading.triage_agency(self.services) if waiting else None,
            with_description=holder is not None,
            known=await incident_queries.notices_by_building(
                self.services, {r.building_id for r in found}
            ),
        )
        return self.answer(items, "service_requests")


def _given(**params: str | None) -> dict[str, str]:
    return {name: value for name, value in params.items() if value is not None}


async def _call(
    request: Request[Any, Any, Any], services: Services, jurisdiction_id: Jurisdiction = None
) -> Call:
    """The call of a resource that takes no more arguments than the jurisdiction."""
    return Call.of(request, services, _given(jurisdiction_id=jurisdiction_id))


def _resource(
    path: str | list[str], summary: str, model: Any, *errors: int
) -> Callable[[AnyCallable], HTTPRouteHandler]:
    """A GET resource, answered in the format its path's extension names."""
    return get(
        path,
        summary=f"Open311: {summary}",
        responses=_answers(model, *errors),
        operation_class=Open311Operation,
    )


@_resource([*_both("/discovery"), *_both("/v2/discovery")], "service discovery", Discovery)
async def discovery(request: Request[Any, Any, Any], services: Services) -> Response[bytes]:
    """The service discovery file: contact, how to get a key, the endpoint and its formats."""
    call = Call.of(request, services, {})  # discovery takes no jurisdiction
    return call.answer(mapping.discovery(services.settings), "discovery")


@_resource(_both("/v2/services"), "the services (our categories)", list[Service], 404)
async def service_list(call: Call) -> Response[bytes]:
    """Every active category as an Open311 service."""
    categories = await reading.services(call.services)
    return call.answer([mapping.service_item(c) for c in categories], "services")


@_resource("/v2/services/{name:str}", "a service definition", ServiceDefinition, 404)
async def definition(
    call: Call, name: Annotated[str, named("The service_code")]
) -> Response[bytes]:
    """GET services/{service_code}.{fmt}: the attributes a request of this service takes."""
    category = await reading.service(call.services, call.stem)
    return call.answer(mapping.service_definition(category), "service_definition")


@_resource(_both("/v2/requests"), "service requests", list[ServiceRequest], 404)
async def request_list(
    request: Request[Any, Any, Any],
    services: Services,
    jurisdiction_id: Jurisdiction = None,
    api_key: ApiKey = None,
    service_request_id: Annotated[
        str | None, query_text("Request ids, comma separated; override the rest", 2000)
    ] = None,
    service_code: Annotated[str | None, query_text("Service codes, comma separated")] = None,
    start_date: Annotated[str | None, query_text("w3 datetime or date", 40)] = None,
    end_date: Annotated[str | None, query_text("w3 datetime or date", 40)] = None,
    status: Annotated[str | None, query_text("open, closed or both, comma separated")] = None,
) -> Response[bytes]:
    """Requests filed between start_date and end_date (at most 90 days apart; the last 90
    days by default), by service_code and status; or those named by service_request_id.
    Descriptions are returned only with a valid api_key."""
    params = _given(
        jurisdiction_id=jurisdiction_id, api_key=api_key, service_request_id=service_request_id,
        service_code=service_code, start_date=start_date, end_date=end_date, status=status,
    )  # fmt: skip
    call = Call.of(request, services, params)
    query = parse_query(call.params, utcnow())
    return await call.requests(await reading.find_requests(services, query))


@post(
    _both("/v2/requests"),
    summary="Open311: file a service request",
    status_code=201,
    responses=_answers(list[CreatedRequest], 403, 404, status=201),
    operation_class=Open311Submission,
)
async def create(request: Request[Any, Any, Any], services: Services) -> Response[bytes]:
    """Form-encoded, or multipart/form-data with a photo as `media`: api_key (an Open311 key),
    service_code and a location (lat & long, address_string or address_id); optional
    description, phone, first_name, last_name and attribute[flat]. `media_url` is refused:
    the service never fetches what a URL points to."""
    form = await request.form()
    fields = SubmissionForm.parse({**_query(request), **form})
    photo = await read_upload(form.get("media"), "media")
    call = Call.of(request, services, {"jurisdiction_id": fields.jurisdiction_id})
    if not fields.api_key:
        raise Open311Error(403, missing_key_text())
    holder = await call.key_holder(fields.api_key)
    if holder is None:
        raise Open311Error(403, invalid_key_text())
    created = await submit(services, holder, Submission.from_form(fields, photo))
    return call.answer([mapping.created_item(created)], "service_requests", 201)


@_resource("/v2/requests/{name:str}", "one service request", list[ServiceRequest], 404)
async def one_request(
    request: Request[Any, Any, Any],
    services: Services,
    name: Annotated[str, named("The service_request_id")],
    jurisdiction_id: Jurisdiction = None,
    api_key: ApiKey = None,
) -> Response[bytes]:
    """GET requests/{service_request_id}.{fmt}."""
    call = Call.of(request, services, _given(jurisdiction_id=jurisdiction_id, api_key=api_key))
    request_id = parse_id(call.stem)
    if request_id is None:
        raise not_found(request_not_found_text(call.stem))
    return await call.requests([await reading.get_request(services, request_id)])


@_resource("/v2/tokens/{name:str}", "the request behind a token", list[RequestToken], 404)
async def token(call: Call, name: Annotated[str, named("The token")]) -> Response[bytes]:
    """GET tokens/{token}.{fmt}: our tokens are request numbers such as 2026-000123."""
    found = await reading.request_by_token(call.services, call.stem)
    return call.answer([mapping.token_item(found, call.stem)], "service_requests")


@get(["/v2", "/v2/services", "/v2/requests", "/v2/tokens"], include_in_schema=False)
async def without_format(request: Request[Any, Any, Any]) -> Response[bytes]:
    raise bad_request(format_missing_text())


@get("/v2/{name:str}", include_in_schema=False)
async def unknown_resource(request: Request[Any, Any, Any], name: str) -> Response[bytes]:
    split_format(name)  # an unknown format is a bad request, an unknown name is not found
    raise not_found(not_found_text())


@post("/v2/{name:str}", include_in_schema=False)
async def unknown_submission(request: Request[Any, Any, Any], name: str) -> Response[bytes]:
    split_format(name)
    raise not_found(not_found_text())


@get(
    [
        "/{rest:path}",
        "/v2/{segment:str}/{rest:path}",
        "/v2/services/{segment:str}/{rest:path}",
        "/v2/requests/{segment:str}/{rest:path}",
        "/v2/tokens/{segment:str}/{rest:path}",
    ],
    include_in_schema=False,
)
async def unknown(request: Request[Any, Any, Any], rest: str) -> Response[bytes]:
    # Unknown Open311 URLs still answer in the specification's error format.
    raise not_found(not_found_text())


ROUTES = [
    Router(
        include_in_schema=True,
        path="/open311",
        route_handlers=[
            discovery,
            service_list,
            definition,
            request_list,
            create,
            one_request,
            token,
            without_format,
            unknown_resource,
            unknown_submission,
            unknown,
        ],
        exception_handlers={
            error: on_error
            for error in (
                Open311Error,
                HTTPException,
                DomainError,
                SQLAlchemyError,
                ConnectionError,
                TimeoutError,
            )
        },
        dependencies={"call": Provide(_call)},
        tags=["Open311 GeoReport v2"],
    )
]
