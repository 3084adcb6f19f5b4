"""Field mode for workers on a phone: today's jobs, one job, completing it with a photo.

The completion endpoint answers JSON to the page's script and to the service worker's
background sync (both send `Accept: application/json`), and a redirect to a plain form post.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template

from server.i18n import gettext as _
from server.requests import field, queries
from server.requests.actions import ActionInput, perform
from server.requests.labels import done_label, state_label
from server.requests.workflow import FIXED_STATES, Action, State
from server.shared.errors import DomainError, InvalidInput, StaleChange
from server.shared.forms import REQUEST_BODY_LIMIT_BYTES, Form, SeenVersion, read_upload
from server.shared.guards import current_actor, roles
from server.shared.rendering import flash, redirect, render, wants_json
from server.shared.roles import Role
from server.shared.services import Services

field_staff = [roles(Role.CONTRACTOR, Role.WORKER)]


class CompletionForm(Form):
    expected_version: SeenVersion = msgspec.field(name="version")
    # Made on the phone for one send, so a retry of it is told from a new completion.
    completion_key: str | None = None


@get("/field", guards=field_staff, name="field")
async def field_jobs(request: Request[Any, Any, Any], services: Services) -> Template:
    day = await field.worker_day(services, current_actor(request))
    return render(request, "field/jobs.html", {"user": request.scope["user"], "day": day})


async def _job_context(
    request: Request[Any, Any, Any], services: Services, request_id: int, **extra: Any
) -> dict[str, Any]:
    page = await queries.request_page(services, current_actor(request), request_id)
    signed = [a for a in page.attachments if a.kind == "signed_order"]
    return {
        "user": request.scope["user"],
        "page": page,
        "req": page.request,
        "signed": signed[-1] if signed else None,
        "can_start": Action.START in page.actions,
        "can_complete": Action.COMPLETE in page.actions,
        "finished": State(page.request.state) in FIXED_STATES,
        "errors": {},
        **extra,
    }


@get("/field/jobs/{request_id:int}", guards=field_staff, name="field_job")
async def field_job(
    request: Request[Any, Any, Any], services: Services, request_id: int
) -> Template:
    return render(request, "field/job.html", await _job_context(request, services, request_id))


class StartForm(Form):
    expected_version: SeenVersion = msgspec.field(name="version")


@post("/field/jobs/{request_id:int}/start", guards=field_staff, name="field_start")
async def field_start(
    request: Request[Any, Any, Any], services: Services, request_id: int
) -> Redirect | ClientRedirect | Template:
    """«Начать работы» on the phone: the resident reads that the contractor is at work."""
    try:
        sent = StartForm.parse(await request.form())
        data = ActionInput(expected_version=sent.expected_version)
        outcome = await perform(services, current_actor(request), request_id, Action.START, data)
    except (InvalidInput, StaleChange) as exc:
        notice = exc.message if isinstance(exc, StaleChange) else exc.fields.get("version")
        context = await _job_context(request, services, request_id, notice=notice)
        return render(request, "field/job.html", context, status_code=exc.status_code)
    if outcome.created:
        flash(request, done_label(Action.START))
    return redirect(request, f"/field/jobs/{request_id}")


@post(
    "/field/jobs/{request_id:int}/complete",
    guards=field_staff,
    name="field_complete",
    request_max_body_size=REQUEST_BODY_LIMIT_BYTES,
)
async def field_complete(
    request: Request[Any, Any, Any], services: Services, request_id: int
) -> Response[Any] | Redirect | Template:
    as_json = wants_json(request)
    form = await request.form()
    try:
        photo = await read_upload(form.get("photo"), "photo")
        sent = CompletionForm.parse(form)
        done = await field.complete(
            services,
            current_actor(request),
            request_id,
            photo,
            sent.completion_key,
            sent.expected_version,
        )
    except DomainError as exc:
        if as_json:
            return Response(
                {
                    "ok": False,
                    "error": exc.code,
                    "message": _message(exc),
                    "fields": sorted(exc.fields),
                },
                status_code=exc.status_code,
            )
        if isinstance(exc, InvalidInput | StaleChange):
            # The job as it is now, with the message; the worker chooses the photo again.
            notice = exc.message if isinstance(exc, StaleChange) else exc.fields.get("version")
            context = await _job_context(
                request, services, request_id, errors=exc.fields, notice=notice
            )
            return render(request, "field/job.html", context, status_code=exc.status_code)
        raise
    if as_json:
        return Response(
            {
                "ok": True,
                "created": done.created,
                "state": done.state,
                "state_label": state_label(done.state),
                "qr": done.qr_status,
                "message": done.message,
                "url": f"/field/jobs/{request_id}",
            },
            status_code=200,
        )
    if done.created:
        flash(request, _("Готово: выполнение отмечено."))
    return redirect(request, f"/field/jobs/{request_id}")


def _message(exc: DomainError) -> str:
    return " ".join([exc.message, *exc.fields.values()]) if exc.fields else exc.message


# /sw-field-sync.js (service_worker/field_sync.js) is served by server/routes/pwa.py.


ROUTES = [field_jobs, field_job, field_start, field_complete]
