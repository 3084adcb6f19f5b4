"""The administration's dashboard (read-only, city admin only), its exports and live counters.

Starting the app also starts the deadline watch (services.deadline_watch): it belongs with
oversight, and every process may run it safely.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from jinja2_fragments.litestar import HTMXBlockTemplate
from litestar import Request, Response, get
from litestar.params import Parameter
from litestar.response import Template

from server.oversight import charts, export
from server.oversight import figures as stats
from server.oversight.cache import FiguresCache
from server.oversight.figures import Period, Scope
from server.requests import queries
from server.shared.guards import roles
from server.shared.rendering import render
from server.shared.roles import Role
from server.shared.services import Services

admin_only = [roles(Role.CITY_ADMIN)]
TEMPLATE = "admin/dashboard.html"

Text = Annotated[str | None, Parameter(required=False)]


def _int(value: str | None) -> int | None:
    try:
        return int(str(value).strip()) if value else None
    except ValueError:
        return None


def choices(
    period: str | None, first: str | None, last: str | None, org: str | None, cat: str | None
) -> tuple[Period, Scope]:
    """The period and scope picked on the page; anything unreadable falls back to defaults."""
    chosen = stats.parse_period(period, first, last, default=30)
    return chosen, Scope(organisation_id=_int(org), category_id=_int(cat))


async def dashboard_context(
    request: Request[Any, Any, Any],
    services: Services,
    figures: FiguresCache,
    period: Period,
    scope: Scope,
) -> dict[str, Any]:
    svc = services
    # Independent reads, each on its own connection: the page waits for the slowest only.
    board, (overdue_total, overdue), counts, organisations, categories = await asyncio.gather(
        figures.dashboard(period, scope),
        stats.overdue_now(svc, scope, limit=50),
        stats.live_counts(svc),
        stats.handling_organisations(svc),
        queries.categories(svc),
    )
    ranking = charts.on_time_bars(board.ranking)
    return {
        "user": request.scope["user"],
        "board": board,
        "period": period,
        "scope": scope,
        "presets": stats.PERIOD_PRESETS,
        "organisations": organisations,
        "categories": categories,
        "overdue": overdue,
        "overdue_total": overdue_total,
        "counts": counts,
        "trend_svg": charts.trend_chart(board.trend, period.bucket),
        "ranking_svg": charts.ranking_bars(ranking) if ranking else None,
        "export_query": query_of(period, scope),
        "org_link": lambda row: "/admin?" + query_of(period, Scope(row.id, scope.category_id)),
        "category_link": lambda row: (
            "/admin?" + query_of(period, Scope(scope.organisation_id, row.id))
        ),
        **stats.template_helpers(),
    }


def query_of(period: Period, scope: Scope) -> str:
    """The query string that shows this period and scope again."""
    if period.preset is not None:
        parts = [f"period={period.preset}"]
    else:
        parts = [f"from={period.first_day.isoformat()}", f"to={period.last_day.isoformat()}"]
    if scope.organisation_id is not None:
        parts.append(f"org={scope.organisation_id}")
    if scope.category_id is not None:
        parts.append(f"category={scope.category_id}")
    return "&".join(parts)


@get("/admin", guards=admin_only, name="admin_dashboard", include_in_schema=False)
async def dashboard(
    request: Request[Any, Any, Any],
    figures: FiguresCache,
    services: Services,
    period: Text = None,
    first: Annotated[str | None, Parameter(query="from", required=False)] = None,
    last: Annotated[str | None, Parameter(query="to", required=False)] = None,
    org: Text = None,
    category: Text = None,
) -> Template:
    chosen, scope = choices(period, first, last, org, category)
    context = await dashboard_context(request, services, figures, chosen, scope)
    return render(request, TEMPLATE, context, block="dashboard")


@get("/admin/counts", guards=admin_only, include_in_schema=False)
async def counts(request: Request[Any, Any, Any], services: Services) -> Template:
    """The live counters alone: what the page reloads when a live signal arrives."""
    return HTMXBlockTemplate(
        template_name=TEMPLATE,
        block_name="live_counts",
        context={"counts": await stats.live_counts(services)},
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
async def export_csv(
    request: Request[Any, Any, Any],
    services: Services,
    period: Text = None,
    first: Annotated[str | None, Parameter(query="from", required=False)] = None,
    last: Annotated[str | None, Parameter(query="to", required=False)] = None,
    org: Text = None,
    category: Text = None,
) -> Response[bytes]:
    chosen, scope = choices(period, first, last, org, category)
    rows = await export.export_rows(services, chosen, scope)
    return _download(export.to_csv(rows), "text/csv", chosen, "csv")


@get("/admin/export.xlsx", guards=admin_only, include_in_schema=False)
async def export_xlsx(
    request: Request[Any, Any, Any],
    figures: FiguresCache,
    services: Services,
    period: Text = None,
    first: Annotated[str | None, Parameter(query="from", required=False)] = None,
    last: Annotated[str | None, Parameter(query="to", required=False)] = None,
    org: Text = None,
    category: Text = None,
) -> Response[bytes]:
    chosen, scope = choices(period, first, last, org, category)
    svc = services
    rows = await export.export_rows(svc, chosen, scope)
    board = await figures.dashboard(chosen, scope)
    return _download(export.to_xlsx(rows, board), XLSX, chosen, "xlsx")


ROUTES = [dashboard, counts, export_csv, export_xlsx]
