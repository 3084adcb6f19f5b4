"""The JSON API for integrators under /api/v1, documented at /schema (OpenAPI).

Every call carries `Authorization: Bearer <token>` (an ApiToken of kind «api»). A token bound
to an organisation sees only that organisation's requests; a town-wide token sees all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, post
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from server.i18n import gettext as _
from server.integrations import api as integrations
from server.integrations.api import (
    STATE_FILTERS,
    ActionIn,
    ApiFilters,
    CategoryOut,
    NewRequestIn,
    RequestOut,
    RequestPageOut,
)
from server.integrations.api_docs import TEXT_PATTERN, error_responses
from server.integrations.tokens import TokenHolder, authenticate
from server.notify import webhooks
from server.notify.webhooks import WebhookIn, WebhookOut
from server.requests.workflow import Action
from server.shared.error_pages import api_error
from server.shared.forms import DB_INT_MAX
from server.shared.services import Services

SECURITY: list[dict[str, list[str]]] = [{"BearerToken": []}]


async def token_holder(request: Request[Any, Any, Any], services: Services) -> TokenHolder:
    header = request.headers.get("authorization", "")
    scheme, _sep, value = header.partition(" ")
    holder = None
    if scheme.lower() == "bearer" and value.strip():
        holder = await authenticate(services.db, value.strip(), "api")
    if holder is None:
        raise NotAuthorizedException(_("Нужен действующий ключ: Authorization: Bearer <ключ>."))
    return holder


def unauthorized(request: Request[Any, Any, Any], exc: NotAuthorizedException) -> Response[Any]:
    return api_error(
        401, "unauthorized", str(exc.detail), headers={"WWW-Authenticate": 'Bearer realm="zayavka"'}
    )


@get("/requests", summary="List requests", responses=error_responses(422))
async def list_requests(
    services: Services,
    holder: TokenHolder,
    state_filter: Annotated[
        str | None,
        Parameter(
            query="state",
            description="A state, «open» or «overdue».",
            schema_extra={"enum": list(STATE_FILTERS)},
        ),
    ] = None,
    category: Annotated[str | None, Parameter(max_length=64, pattern=TEXT_PATTERN)] = None,
    organisation_id: Annotated[int | None, Parameter(ge=1, le=DB_INT_MAX)] = None,
    filed_from: datetime | None = None,
    filed_to: datetime | None = None,
    updated_since: datetime | None = None,
    page: Annotated[int, Parameter(ge=1, le=DB_INT_MAX)] = 1,
    per_page: Annotated[int, Parameter(ge=1, le=integrations.MAX_PER_PAGE)] = 50,
) -> RequestPageOut:
    """Requests the token may see, newest first, a page at a time. Filters: state (a state,
    «open» or «overdue»), category (code), organisation_id, filed_from / filed_to /
    updated_since (ISO 8601)."""
    filters = ApiFilters(
        state=state_filter, category=category, organisation_id=organisation_id,
        filed_from=filed_from, filed_to=filed_to, updated_since=updated_since,
        page=page, per_page=per_page,
    )  # fmt: skip
    return await integrations.list_requests(services, holder, filters)


RequestId = Annotated[int, Parameter(ge=1, le=DB_INT_MAX)]


@get(
    "/requests/{request_id:int}",
    summary="Read a request with its timeline",
    responses=error_responses(404),
)
async def read_request(
    services: Services, holder: TokenHolder, request_id: RequestId
) -> RequestOut:
    """The request and every entry of its timeline (who acted is named by role and
    organisation). 404 for a request the token may not see."""
    return await integrations.read_request(services, holder, request_id)


@post(
    "/requests",
    summary="File a request",
    responses={
        200: ResponseSpec(RequestOut, description="Filed before with this idempotency key"),
        **error_responses(422),
    },
)
async def file_request(
    request: Request[Any, Any, Any], services: Services, holder: TokenHolder, data: NewRequestIn
) -> Response[RequestOut]:
    """Files a request on a caller's behalf: the resident is found by phone or created. The
    request is routed like any other. Send the same idempotency_key (or the Idempotency-Key
    header) again to get the same request back with 200 instead of 201."""
    if not data.idempotency_key and request.headers.get("idempotency-key"):
        data.idempotency_key = request.headers["idempotency-key"][:200]
    out, created = await integrations.file(services, holder, data)
    return Response(out, status_code=201 if created else 200)


@post(
    "/requests/{request_id:int}/actions/{action:str}",
    summary="Take a workflow action",
    status_code=200,
    responses=error_responses(403, 404, 409, 422),
)
async def take_action(
    services: Services, holder: TokenHolder, request_id: RequestId, action: Action, data: ActionIn
) -> RequestOut:
    """Assign, transfer, decline, start, verify, return, comment … as the token's organisation
    with the same rules as its staff on the request page. `version` is required: the request's
    version as last read; if the request changed since, the answer is 409 and nothing is done.
    Answers the request as it is now, with its timeline."""
    return await integrations.act(services, holder, request_id, action, data)


@get("/categories", summary="List categories", responses=error_responses())
async def list_categories(services: Services, holder: TokenHolder) -> list[CategoryOut]:
    """Codes to file requests with."""
    return await integrations.categories(services)


@get("/webhooks", summary="List this token's webhooks", responses=error_responses())
async def list_webhooks(services: Services, holder: TokenHolder) -> list[WebhookOut]:
    """Subscriptions made with this token."""
    return await webhooks.list_webhooks(services, holder)


@post("/webhooks", summary="Subscribe to changes", responses=error_responses(422))
async def subscribe(services: Services, holder: TokenHolder, data: WebhookIn) -> WebhookOut:
    """Every change of a request the token may see is POSTed to the URL as JSON (event,
    request_id, number, state, version, entry_id, entry_kind, occurred_at), signed with
    `X-Zayavka-Signature: sha256=<hex HMAC-SHA256 of the body with the secret>`. The secret is
    shown only in this answer. Failed deliveries are retried with backoff."""
    return await webhooks.subscribe(services, holder, data)


@delete("/webhooks/{webhook_id:int}", summary="Unsubscribe", responses=error_responses(404))
async def unsubscribe(
    services: Services,
    holder: TokenHolder,
    webhook_id: Annotated[int, Parameter(ge=1, le=DB_INT_MAX)],
) -> None:
    """Stop deliveries to this webhook."""
    await webhooks.unsubscribe(services, holder, webhook_id)


ROUTES = [
    Router(
        include_in_schema=True,
        path="/api/v1",
        route_handlers=[
            list_requests,
            read_request,
            file_request,
            take_action,
            list_categories,
            list_webhooks,
            subscribe,
            unsubscribe,
        ],
        dependencies={"holder": Provide(token_holder)},
        exception_handlers={NotAuthorizedException: unauthorized},
        security=SECURITY,
        tags=["API v1"],
    )
]
