"""Open311 GeoReport v2 under /open311/v2/ — JSON and XML, errors as the specification says.

The format is the extension of the last path segment (`services.json`, `requests/12.xml`), so
each handler takes that segment whole and splits it. Errors raised anywhere below come back as
`[{"code", "description"}]` or `<errors><error>…` with 400, 403 or 404.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.exceptions import HTTPException

from server.db.models import utcnow
from server.integrations import open311
from server.integrations.open311 import Open311Error, Submission, not_found
from server.integrations.tokens import TokenHolder, authenticate
from server.shared.services import Services

# Litestar adds «; charset=utf-8» to text/* types itself.
MEDIA = {"json": "application/json; charset=utf-8", "xml": "text/xml"}


def _format_of(request: Request[Any, Any, Any]) -> str:
    last = request.url.path.rstrip("/").rsplit("/", 1)[-1].lower()
    return "json" if last.endswith(".json") else "xml"


def _answer(fmt: str, value: Any, root: str, status_code: int = 200) -> Response[bytes]:
    body = (
        json.dumps(value, ensure_ascii=False).encode()
        if fmt == "json"
        else open311.to_xml(root, value)
    )
    return Response(body, status_code=status_code, media_type=MEDIA[fmt])


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
    return Response(open311.error_body(error, fmt), status_code=error.status, media_type=MEDIA[fmt])


def _params(request: Request[Any, Any, Any]) -> dict[str, str]:
    return {k: v for k, v in request.query_params.items() if isinstance(v, str)}


async def _key_holder(services: Services, key: str | None) -> TokenHolder | None:
    return await authenticate(services.db, key, "open311") if key else None


@get(["/discovery.json", "/discovery.xml"], summary="Open311: service discovery")
async def discovery(request: Request[Any, Any, Any], services: Services) -> Response[bytes]:
    """The service discovery file, also at /open311/v2/discovery.{fmt}."""
    fmt = _format_of(request)
    return _answer(fmt, open311.discovery(services), "discovery")


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
    svc = services
    stem, fmt = open311.split_format(name)
    params = _params(request)
    if stem == "discovery":
        return _answer(fmt, open311.discovery(svc), "discovery")
    open311.check_jurisdiction(svc, params.get("jurisdiction_id"))
    if stem == "services":
        items = [open311.service_item(c) for c in await open311.services(svc)]
        return _answer(fmt, items, "services")
    if stem == "requests":
        query = open311.parse_query(params, utcnow())
        found = await open311.find_requests(svc, query)
        holder = await _key_holder(services, params.get("api_key"))
        items = open311.items(found, svc, with_description=holder is not None)
        return _answer(fmt, items, "service_requests")
    raise not_found(open311.not_found_text())


@post("/v2/{name:str}", status_code=201, summary="Open311: file a service request")
async def create(request: Request[Any, Any, Any], services: Services, name: str) -> Response[bytes]:
    """POST requests.{fmt} with api_key, service_code and a location (lat & long,
    address_string or address_id); optional description, phone, first_name, last_name and
    attribute[flat]."""
    svc = services
    stem, fmt = open311.split_format(name)
    if stem != "requests":
        raise not_found(open311.not_found_text())
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    form = {**_params(request), **form}
    open311.check_jurisdiction(svc, form.get("jurisdiction_id"))
    key = form.get("api_key")
    if not key:
        raise Open311Error(403, open311.missing_key_text())
    holder = await _key_holder(services, key)
    if holder is None:
        raise Open311Error(403, open311.invalid_key_text())
    created = await open311.submit(svc, holder, Submission.from_form(form))
    return _answer(fmt, [open311.created_item(created)], "service_requests", 201)


@get("/v2/services/{name:str}", summary="Open311: a service definition")
async def definition(
    request: Request[Any, Any, Any], services: Services, name: str
) -> Response[bytes]:
    """GET services/{service_code}.{fmt}: the attributes a request of this service takes."""
    svc = services
    code, fmt = open311.split_format(name)
    open311.check_jurisdiction(svc, _params(request).get("jurisdiction_id"))
    category = await open311.service(svc, code)
    return _answer(fmt, open311.service_definition(category), "service_definition")


@get("/v2/requests/{name:str}", summary="Open311: one service request")
async def one_request(
    request: Request[Any, Any, Any], services: Services, name: str
) -> Response[bytes]:
    """GET requests/{service_request_id}.{fmt}."""
    svc = services
    stem, fmt = open311.split_format(name)
    params = _params(request)
    open311.check_jurisdiction(svc, params.get("jurisdiction_id"))
    try:
        request_id = int(stem)
    except ValueError:
        raise not_found(open311.request_not_found_text(stem)) from None
    found = await open311.get_request(svc, request_id)
    holder = await _key_holder(services, params.get("api_key"))
    return _answer(
        fmt, open311.items([found], svc, with_description=holder is not None), "service_requests"
    )


@get("/v2/tokens/{name:str}", summary="Open311: the request behind a token")
async def token(request: Request[Any, Any, Any], services: Services, name: str) -> Response[bytes]:
    """GET tokens/{token}.{fmt}: our tokens are request numbers such as 2026-000123."""
    svc = services
    stem, fmt = open311.split_format(name)
    open311.check_jurisdiction(svc, _params(request).get("jurisdiction_id"))
    found = await open311.request_by_token(svc, stem)
    return _answer(fmt, [{"service_request_id": found.id, "token": stem}], "service_requests")


@get(["/v2", "/v2/services", "/v2/requests", "/v2/tokens"], include_in_schema=False)
async def without_format(request: Request[Any, Any, Any]) -> Response[bytes]:
    raise open311.bad_request(open311.format_missing_text())


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
    raise not_found(open311.not_found_text())


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
