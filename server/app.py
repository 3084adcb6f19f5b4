"""create_app(settings): the one place where plugins, middleware and routes meet."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from jinja2 import Environment
from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.template.config import TemplateConfig

from server import i18n
from server.accounts import routes as accounts_routes
from server.accounts.middleware import CurrentUserMiddleware
from server.accounts.people import format_phone
from server.accounts.sessions import DatabaseStore, RotatingSessionConfig
from server.catalog import routes as catalog_routes
from server.db.session import Database, PoolSize
from server.incidents import routes as incident_routes
from server.integrations import api_routes, open311_routes
from server.live import routes as live_routes
from server.live.bus import make_bus
from server.live.connection import RAW_SEND
from server.live.hub import Hub
from server.live.render import Renderer
from server.notify import push_outbox, sms_replies, sms_routes, sms_texts, webhooks
from server.notify import routes as notify_routes
from server.notify.delivery import Deliverer
from server.notify.outbox import OutboxWorker
from server.notify.push_sender import PushDeliverer
from server.notify.sms_outbox import SmsWriter
from server.notify.sms_sender import SmsDeliverer
from server.notify.webhook_sender import WebhookDeliverer
from server.notify.worker import start_in_process
from server.oversight import public_routes
from server.oversight import routes as oversight_routes
from server.oversight.cache import FiguresCache
from server.oversight.deadline_watch import Watcher as DeadlineWatcher
from server.phone import routes as phone_routes
from server.pwa import routes as pwa_routes
from server.requests import actions, labels, work_orders, workflow
from server.requests.routes import (
    contractor,
    directory,
    dispatch,
    operator,
    page,
    resident,
    triage,
)
from server.requests.routes import field as field_routes
from server.requests.routes import following as following_routes
from server.requests.routes import media as media_routes
from server.settings import ROOT, Settings
from server.shared import health
from server.shared.error_pages import HANDLERS
from server.shared.forms import REQUEST_BODY_LIMIT_BYTES, refuse_ids_out_of_range
from server.shared.rendering import flash_cookie
from server.shared.security_headers import security_headers
from server.shared.services import OutboxWriter, Services

log = logging.getLogger(__name__)
WEB = ROOT / "web"


def _template_engine(settings: Settings):  # type: ignore[no-untyped-def]
    def configure(engine: JinjaTemplateEngine) -> None:
        env: Environment = engine.engine
        env.add_extension("jinja2.ext.i18n")
        env.install_gettext_callables(  # type: ignore[attr-defined]
            i18n.gettext, i18n.ngettext, newstyle=True
        )
        env.globals.update(
            labels.FOR_TEMPLATES,
            settings=settings,
            action_spec=workflow.ACTIONS.__getitem__,
            actions_for=actions.actions_for,
            prints_work_orders=work_orders.prints_work_orders,
            sees_photo_check=workflow.sees_photo_check,
            current_locale=i18n.current_locale,
            sms_status_label=sms_texts.status_label,
        )
        env.filters.update(
            local_time=i18n.local_time,
            short_time=i18n.short_time,
            short_date=i18n.short_date,
            phone=format_phone,
        )
        env.trim_blocks = True
        env.lstrip_blocks = True
        # Templates change with a release, like the code: checking each file's time on every
        # render cost a stat per template and fragment, thousands per change with many pages.
        env.auto_reload = False

    return TemplateConfig(
        directory=WEB / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=configure,
    )


async def _vary_on_htmx(response: Response[Any]) -> Response[Any]:
    # A page and its htmx fragment share a URL: caches must keep them apart.
    response.headers["Vary"] = "HX-Request, Cookie"
    return response


# Forms that check a password: a stolen session must not become a way to guess it either.
PASSWORD_FORMS = ("/login", "/register", "/profile/delete")


async def _is_sign_in_attempt(request: Request[Any, Any, Any]) -> bool:
    return request.method == "POST" and request.url.path in PASSWORD_FORMS


def outbox_deliverers(db: Database, settings: Settings) -> list[Deliverer]:
    """Every channel the outbox worker serves, here and in `python -m server worker`. A new
    channel is one deliverer here and its writer in `create_app`."""
    push = PushDeliverer.from_settings(db, settings)
    sms = SmsDeliverer.from_settings(db, settings)
    optional = [d for d in (push, sms) if d is not None]
    return [*optional, WebhookDeliverer(db)]


class App(Litestar):
    """Litestar, keeping the server's own `send` of each WebSocket in its scope: live sockets
    write shared frames with it, past the send wrappers of the HTTP middleware."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
        await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    if services is None:
        pool = PoolSize(settings.db_pool_size, settings.db_pool_overflow, settings.db_pool_timeout)
        db = Database(settings.database_url, pool)
        services = Services(settings=settings, db=db, bus=make_bus(settings.broadcast_url))
    svc = services

    # Background work, each started and stopped by the lifespan below.
    outbox_worker = None
    if settings.push_worker_in_process:
        channels = outbox_deliverers(svc.db, settings)
        for channel in channels:
            sms_replies.listen_to(channel, svc)
        outbox_worker = OutboxWorker(svc.db, channels)
    deadline_watcher = DeadlineWatcher(svc)
    figures = FiguresCache(svc)
    hub_holder: dict[str, Hub] = {}

    # Written inside every change's transaction, so that messages exist exactly when it does.
    # Services may be shared by several apps (tests): each writer is registered once.
    outbox_writers: list[OutboxWriter] = [
        push_outbox.write_messages,
        webhooks.write_messages,
        SmsWriter(settings),
    ]
    svc.outbox_writers[:] = [
        w for w in svc.outbox_writers if w not in outbox_writers
    ] + outbox_writers
    svc.outbox_committed = outbox_worker.wake if outbox_worker is not None else None

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await svc.bus.start()
        hub = Hub(svc, Renderer(app.template_engine.engine))  # type: ignore[union-attr]
        await hub.start()
        hub_holder["hub"] = hub
        running_outbox = start_in_process(outbox_worker) if outbox_worker is not None else None
        deadline_watcher.start()
        try:
            yield
        finally:
            await figures.close()
            await deadline_watcher.close()
            if running_outbox is not None:
                await running_outbox.close()
            await hub.stop()
            await svc.bus.stop()
            await svc.db.dispose()

    stores: dict[str, Any] = {
        "sessions": RedisStore.with_client(url=settings.redis_url, namespace="zayavka_sessions")
        if settings.redis_url
        else DatabaseStore(services.db),
        "rate_limit": RedisStore.with_client(url=settings.redis_url, namespace="zayavka_rate")
        if settings.redis_url
        else MemoryStore(),
    }
    session_config = RotatingSessionConfig(
        store="sessions",
        key="zayavka_session",
        max_age=60 * 60 * 24 * 30,
        secure=settings.production,
        samesite="lax",
        httponly=True,
        renew_on_access=False,
        # Files fetched around sign-in must not carry a session cookie back: a slow static
        # response would overwrite the fresh sign-in cookie with the old one.
        exclude=[
            r"^/static/",
            r"^/sw\.js$",
            r"^/sw-field-sync\.js$",
            r"^/manifest\.webmanifest$",
            r"^/offline$",
            # Probes must answer from the process alone, whatever the session store's state.
            r"^/healthz$",
            r"^/readyz$",
        ],
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="zayavka_csrf",
        cookie_secure=settings.production,
        cookie_samesite="strict",
        # Integrations, the PBX and the SMS providers authenticate with tokens or signatures, not
        # cookies, so CSRF cannot reach them.
        exclude=["^/api/", "^/open311/", "^/pbx/", "^/webhooks/sms/"],
    )

    # Password guessing: attempts at the password forms per address and minute.
    throttle = RateLimitConfig(
        rate_limit=("minute", settings.login_attempts_per_minute),
        check_throttle_handler=_is_sign_in_attempt,
        store="rate_limit",
    )

    route_handlers: list[Any] = [
        create_static_files_router(
            path="/static",
            directories=[WEB / "static"],
            # Not fingerprinted: an hour in caches, then revalidated (the service worker
            # precaches the shell under a versioned cache of its own).
            cache_control=CacheControlHeader(public=True, max_age=3600),
            include_in_schema=False,
        )
    ]
    route_handlers += [
        *accounts_routes.ROUTES,
        *directory.ROUTES,
        *page.ROUTES,
        *resident.ROUTES,
        *following_routes.ROUTES,
        *operator.ROUTES,
        *dispatch.ROUTES,
        *contractor.ROUTES,
        *field_routes.ROUTES,
        *media_routes.ROUTES,
        *triage.ROUTES,
        *incident_routes.ROUTES,
        *live_routes.ROUTES,
        *notify_routes.ROUTES,
        *sms_routes.ROUTES,
        *pwa_routes.ROUTES,
        *oversight_routes.ROUTES,
        *public_routes.ROUTES,
        *catalog_routes.ROUTES,
        *api_routes.ROUTES,
        *open311_routes.ROUTES,
        *phone_routes.ROUTES,
        *health.ROUTES,
    ]

    app = App(
        route_handlers=route_handlers,
        state=State({"services": services, "settings": settings}),
        dependencies={
            "services": Provide(lambda: svc, use_cache=True, sync_to_thread=False),
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "figures": Provide(lambda: figures, use_cache=True, sync_to_thread=False),
            "hub": Provide(lambda: hub_holder["hub"], sync_to_thread=False),
        },
        lifespan=[lifespan],
        stores=stores,
        middleware=[
            throttle.middleware,
            session_config.middleware,
            CurrentUserMiddleware.define(svc.db),
        ],
        csrf_config=csrf,
        template_config=_template_engine(settings),
        plugins=[HTMXPlugin()],
        exception_handlers=HANDLERS,  # type: ignore[arg-type]
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=500, gzip_compress_level=6
        ),
        before_request=refuse_ids_out_of_range,
        after_request=_vary_on_htmx,
        before_send=[
            security_headers(production=settings.production),
            flash_cookie(secret=settings.secret_key, secure=settings.production),
        ],
        openapi_config=OpenAPIConfig(
            title="Заявка ЖКХ API",
            version="1.0.0",
            path="/schema",
            use_handler_docstrings=True,
            # JSON and YAML only: the HTML viewers load their scripts from CDNs.
            render_plugins=[JsonRenderPlugin(), YamlRenderPlugin()],
            components=Components(
                security_schemes={
                    "BearerToken": SecurityScheme(
                        type="http", scheme="bearer", description="ApiToken of kind «api»"
                    )
                }
            ),
        ),
        request_max_body_size=REQUEST_BODY_LIMIT_BYTES,
        # The OpenAPI document describes the JSON API and Open311 only (their routers opt in).
        include_in_schema=False,
        debug=False,
    )
    return app
