"""create_app(settings): the one place where plugins, middleware and routes meet."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jinja2 import Environment
from litestar import Litestar, Request, Response
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
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

from server import i18n, labels
from server.db.session import Database
from server.live.bus import make_bus
from server.routes.auth_middleware import CurrentUserMiddleware
from server.routes.errors import HANDLERS
from server.services.accounts import format_phone
from server.services.context import Services
from server.sessions import DatabaseStore, RotatingSessionConfig
from server.settings import ROOT, Settings

log = logging.getLogger(__name__)
WEB = ROOT / "web"

# Route modules, one per audience. Each exposes ROUTES (handlers, controllers or routers),
# and may expose `async def on_startup(app)` / `async def on_shutdown(app)`.
ROUTE_MODULES = [
    "server.routes.auth",
    "server.routes.directory",
    "server.routes.requests",
    "server.routes.resident",
    "server.routes.operator",
    "server.routes.dispatch",
    "server.routes.contractor",
    "server.routes.media",
]
OPTIONAL_ROUTE_MODULES = [
    # Added as their issues land; missing modules are skipped so work can proceed in parallel.
    "server.routes.admin",
    "server.routes.sysadmin",
    "server.routes.triage",
    "server.routes.live",
    "server.routes.pwa",
    "server.routes.push",
    "server.routes.field",
    "server.routes.api",
    "server.routes.open311",
    "server.routes.public",
]


def _modules() -> list[Any]:
    modules = [importlib.import_module(name) for name in ROUTE_MODULES]
    for name in OPTIONAL_ROUTE_MODULES:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return modules


def _template_engine(settings: Settings):  # type: ignore[no-untyped-def]
    def configure(engine: JinjaTemplateEngine) -> None:
        env: Environment = engine.engine
        env.add_extension("jinja2.ext.i18n")
        env.install_gettext_callables(  # type: ignore[attr-defined]
            i18n.gettext, i18n.ngettext, newstyle=True
        )
        env.globals.update(
            settings=settings,
            state_label=labels.state_label,
            state_explanation=labels.state_explanation,
            action_label=labels.action_label,
            entry_label=labels.entry_label,
            role_label=labels.role_label,
            org_kind_label=labels.org_kind_label,
            source_label=labels.source_label,
            priority_label=labels.priority_label,
            current_locale=i18n.current_locale,
        )
        env.filters.update(
            local_time=i18n.local_time,
            short_time=i18n.short_time,
            phone=format_phone,
        )
        env.trim_blocks = True
        env.lstrip_blocks = True

    return TemplateConfig(
        directory=WEB / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=configure,
    )


def _vary_on_htmx(response: Response[Any]) -> Response[Any]:
    # A page and its htmx fragment share a URL: caches must keep them apart.
    response.headers["Vary"] = "HX-Request, Cookie"
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _is_sign_in_attempt(request: Request[Any, Any, Any]) -> bool:
    return request.method == "POST" and request.url.path in ("/login", "/register")


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    if services is None:
        db = Database(settings.database_url)
        services = Services(settings=settings, db=db, bus=make_bus(settings.broadcast_url))
    modules = _modules()

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await services.bus.start()
        for module in modules:
            if hasattr(module, "on_startup"):
                await module.on_startup(app)
        try:
            yield
        finally:
            for module in reversed(modules):
                if hasattr(module, "on_shutdown"):
                    await module.on_shutdown(app)
            await services.bus.stop()
            await services.db.dispose()

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
        secure=settings.base_url.startswith("https://"),
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
        ],
    )
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="zayavka_csrf",
        cookie_secure=settings.base_url.startswith("https://"),
        cookie_samesite="strict",
        # Integrations authenticate with tokens, not cookies, so CSRF cannot reach them.
        exclude=["^/api/", "^/open311/"],
    )

    # Password guessing: sign-in and registration attempts per address and minute.
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
    for module in modules:
        route_handlers.extend(module.ROUTES)

    app = Litestar(
        route_handlers=route_handlers,
        state=State({"services": services, "settings": settings}),
        lifespan=[lifespan],
        stores=stores,
        middleware=[throttle.middleware, session_config.middleware, CurrentUserMiddleware],
        csrf_config=csrf,
        template_config=_template_engine(settings),
        plugins=[HTMXPlugin()],
        exception_handlers=HANDLERS,  # type: ignore[arg-type]
        compression_config=CompressionConfig(
            backend="gzip", minimum_size=500, gzip_compress_level=6
        ),
        after_request=_vary_on_htmx,
        openapi_config=OpenAPIConfig(
            title="Заявка ЖКХ API",
            version="1.0.0",
            path="/schema",
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
        request_max_body_size=80 * 1024 * 1024,
        debug=False,
    )
    return app


def services_of(request: Request[Any, Any, Any]) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def web_path(*parts: str) -> Path:
    return WEB.joinpath(*parts)
