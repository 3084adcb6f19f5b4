"""Open311 GeoReport v2 under /open311/v2/ — JSON and XML, errors as the specification says.

The format is the extension of the last path segment (`services.json`, `requests/12.xml`), so
each handler takes that segment whole and splits it. Errors raised anywhere below come back as
`[{"code", "description"}]` or `<errors><error>…` with 400, 403 or 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException

from server.db.models import Request as RequestRow
from server.db.models import utcnow
from server.integrations.open311 import mapping, reading
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
from server.integrations.open311.filing import Submission, submit
from server.integrations.open311.formats import MEDIA, Item, body, error_body, split_format
from server.integrations.open311.query import parse_query
from server.integrations.tokens import TokenHolder, authenticate
from server.shared.services import Services


def _format_of(request: Request[Any, Any, Any]) -> str:
    last = request.url.path.rstrip("/").rsplit("/", 1)[-1].lower()
    return "json" if last.endswith(".json") else "xml"


def on_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    fmt = _format_of(request)
    if isinstance(exc, Open311Error):
        error = exc
    elif isinstance(exc, HTTPException) and exc.status_code == 404:
        error = not_found(str(exc.detail))
    elif isinstance(exc, HTTPException):
        error = Open311Error(400 if exc.status_code < 500 else exc.status_code, str(exc.detail))
    else:
        raise exc
    return Response(error_body(error, fmt), status_code=error.status, media_type=MEDIA[fmt])


def _query(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if isinstance(v, str)}


def _discovery(services: Services, fmt: str) -> Response[bytes]:
    return Call(services, "discovery", fmt, {}).answer(
        mapping.discovery(services.settings), "discovery"
    )


@dataclass
class Call:
    """One Open311 call: the resource named, the format asked for, the arguments given."""

    services: Services
    stem: str
    fmt: str
    params: dict[str, str]

    @classmethod
    def of(
        cls,
        request: Request[Any, Any, Any],
        services: Services,
        name: str,
        params: dict[str, str] | None = None,
    ) -> Call:
        """Split the format off and check the jurisdiction, as every resource does."""
        stem, fmt = split_format(name)
        params = _query(request) if params is None else params
        mapping.check_jurisdiction(services.settings, params.get("jurisdiction_id"))
        return cls(services, stem, fmt, params)

    def answer(self, value: list[Item] | Item, root: str, status: int = 200) -> Response[bytes]:
        return Response(body(self.fmt, value, root), status_code=status, media_type=MEDIA[self.fmt])

    async def key_holder(self, key: str | None) -> TokenHolder | None:
        return await authenticate(self.services.db, key, "open311") if key else None

    async def requests(self, found: list[RequestRow]) -> Response[bytes]:
        """Service requests; their descriptions only for the holder of a valid api_key."""
        holder = await self.key_holder(self.params.get("api_key"))
        items = mapping.request_items(
            found,
            now=utcnow(),
            town=self.services.settings.town_name,
            with_description=holder is not None,
        )
        return self.answer(items, "service_requests")


@get(["/discovery.json", "/discovery.xml"], summary="Open311: service discovery")
async def discovery(request: Request[Any, Any, Any], services: Services) -> Response[bytes]:
    """The service discovery file, also at /open311/v2/discovery.{fmt}."""
    return _discovery(services, _format_of(request))


@get("/v2/{name:str}", summary="Open311: discovery, services, requests")
async def resource(
    request: Request[Any, Any, Any], services: Services, name: str
) -> Response[bytes]:
    """GET discovery.{fmt}, services.{fmt} and requests.{fmt} (Open311 GeoReport v2).

    requests.{fmt} takes service_request_id (comma list; overrides the rest), service_code
    (comma list), start_date, end_date (w3 datetimes, at most 90 days apart; the last 90
    days by default) and status (open, closed). Descriptions are returned only with a valid
    api_key.
    """
    stem, fmt = split_format(name)
    if stem == "discovery":
        return _discovery(services, fmt)
    call = Call.of(request, services, name)
    if stem == "services":
        categories = await reading.services(services)
        return call.answer([mapping.service_item(c) for c in categories], "services")
    if stem == "requests":
        query = parse_query(call.params, utcnow())
        return await call.requests(await reading.find_requests(services, query))
    raise not_found(not_found_text())


@post("/v2/{name:str}", status_code=201, summary="Open311: file a service request")
async def create(request: Request[Any, Any, Any], services: Services, name: str) -> Response[bytes]:
    """POST requests.{fmt} with api_key, service_code and a location (lat & long,
    address_string or address_id); optional description, phone, first_name, last_name and
    attribute[flat]."""
    stem, _fmt = split_format(name)
    if stem != "requests":
        raise not_found(not_found_text())
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    call = Call.of(request, services, name, {**_query(request), **form})
    key = call.params.get("api_key")
    if not key:
        raise Open311Error(403, missing_key_text())
    holder = await call.key_holder(key)
    if holder is None:
        raise Open311Error(403, invalid_key_text())
    created = await submit(services, holder, Submission.from_form(call.params))
    return call.answer([mapping.created_item(created)], "service_requests", 201)


@get("/v2/services/{name:str}", summary="Open311: a service definition")
async def definition(
    request: Request[Any, Any, Any], services: Services, name: str
) -> Response[bytes]:
    """GET services/{service_code}.{fmt}: the attributes a request of this service takes."""
    call = Call.of(request, services, name)
    category = await reading.service(services, call.stem)
    return call.answer(mapping.service_definition(category), "service_definition")


@get("/v2/requests/{name:str}", summary="Open311: one service request")
async def one_request(
    request: Request[Any, Any, Any], services: Services, name: str
) -> Response[bytes]:
    """GET requests/{service_request_id}.{fmt}."""
    call = Call.of(request, services, name)
    try:
        request_id = int(call.stem)
    except ValueError:
        raise not_found(request_not_found_text(call.stem)) from None
    return await call.requests([await reading.get_request(services, request_id)])


@get("/v2/tokens/{name:str}", summary="Open311: the request behind a token")
async def token(request: Request[Any, Any, Any], services: Services, name: str) -> Response[bytes]:
    """GET tokens/{token}.{fmt}: our tokens are request numbers such as 2026-000123."""
    call = Call.of(request, services, name)
    found = await reading.request_by_token(services, call.stem)
    return call.answer([mapping.token_item(found, call.stem)], "service_requests")


@get(["/v2", "/v2/services", "/v2/requests", "/v2/tokens"], include_in_schema=False)
async def without_format(request: Request[Any, Any, Any]) -> Response[bytes]:
    raise bad_request(format_missing_text())


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
            resource,
            create,
            definition,
            one_request,
            token,
            without_format,
            unknown,
        ],
        exception_handlers={Open311Error: on_error, HTTPException: on_error},
        tags=["Open311 GeoReport v2"],
    )
]
