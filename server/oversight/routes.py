"""The administration's dashboard (read-only, city admin only), its exports and live counters."""

from __future__ import annotations

import asyncio
from typing import Any

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request, Response, get
from litestar.response import Template

from server.oversight import charts, counts, export
from server.oversight.cache import FiguresCache
from server.oversight.filters import FiguresQuery, query_of
from server.oversight.formatting import template_helpers
from server.oversight.periods import PERIOD_PRESETS, Period, Scope
from server.requests import queries
from server.shared.guards import roles
from server.shared.rendering import render
from server.shared.roles import Role
from server.shared.services import Services

admin_only = [roles(Role.CITY_ADMIN)]
TEMPLATE = "admin/dashboard.html"
DEFAULT_DAYS = 30
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def choices(request: Request[Any, Any, Any]) -> tuple[Period, Scope]:
    """The period and scope picked on the page."""
    query = FiguresQuery.of(request.query_params)
    return query.chosen_period(default=DEFAULT_DAYS), query.scope


async def dashboard_context(
    request: Request[Any, Any, Any],
    services: Services,
    figures: FiguresCache,
    period: Period,
    scope: Scope,
) -> dict[str, Any]:
    # Independent reads, each on its own connection: the page waits for the slowest only.
    board, (overdue_total, overdue), live, organisations, categories = await asyncio.gather(
        figures.dashboard(period, scope),
        counts.overdue_now(services, scope, limit=50),
        counts.live_counts(services),
        counts.handling_organisations(services),
        queries.categories(services),
    )
    ranking = charts.on_time_bars(board.ranking)
    return {
        "user": request.scope["user"],
        "board": board,
        "period": period,
        "scope": scope,
        "presets": PERIOD_PRESETS,
        "organisations": organisations,
        "categories": categories,
        "overdue": overdue,
        "overdue_total": overdue_total,
        "counts": live,
        "trend_svg": charts.trend_chart(board.trend, period.bucket),
        "ranking_svg": charts.ranking_bars(ranking) if ranking else None,
        "export_query": query_of(period, scope),
        "org_link": lambda row: "/admin?" + query_of(period, Scope(row.id, scope.category_id)),
        "category_link": lambda row: (
            "/admin?" + query_of(period, Scope(scope.organisation_id, row.id))
        ),
        **template_helpers(),
    }


@get("/admin", guards=admin_only, name="admin_dashboard", include_in_schema=False)
async def dashboard(
    request: Request[Any, Any, Any], figures: FiguresCache, services: Services
) -> Template:
    period, scope = choices(request)
    context = await dashboard_context(request, services, figures, period, scope)
    return render(request, TEMPLATE, context, block="dashboard")


@get("/admin/counts", guards=admin_only, include_in_schema=False)
async def live_counts(request: Request[Any, Any, Any], services: Services) -> Template:
    """The live counters alone: what the page reloads when a live signal arrives."""
    return HTMXBlockTemplate(
        template_name=TEMPLATE,
        block_name="live_counts",
        context={"counts": await counts.live_counts(services)},
    )


def _download(body: bytes, media_type: str, period: Period, extension: str) -> Response[bytes]:
    """An export as a file to save; never kept by caches, it holds residents' data."""
    name = f"zayavki_{period.first_day:%Y%m%d}-{period.last_day:%Y%m%d}.{extension}"
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@get("/admin/export.csv", guards=admin_only, include_in_schema=False)
async def export_csv(request: Request[Any, Any, Any], services: Services) -> Response[bytes]:
    period, scope = choices(request)
    rows = await export.export_rows(services, period, scope)
    return _download(export.to_csv(rows), "text/csv", period, "csv")


@get("/admin/export.xlsx", guards=admin_only, include_in_schema=False)
async def export_xlsx(
    request: Request[Any, Any, Any], figures: FiguresCache, services: Services
) -> Response[bytes]:
    period, scope = choices(request)
    rows, board = await asyncio.gather(
        export.export_rows(services, period, scope), figures.dashboard(period, scope)
    )
    return _download(export.to_xlsx(rows, board), XLSX, period, "xlsx")


ROUTES = [dashboard, live_counts, export_csv, export_xlsx]
