"""The public figures: how each organisation handles requests. No sign-in, nothing personal.

The page is built only from organisation names and counts: no resident, flat, phone, address
or description reaches its template. Figures are cached for a minute per period, so a popular
page costs the database little.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from server.app import services_of
from server.routes.admin import helpers
from server.routes.rendering import render
from server.services import charts, stats
from server.services.stats import Period

CACHE_SECONDS = 60.0
PUBLIC_PRESETS = (30, 90, 365)

Text = Annotated[str | None, Parameter(required=False)]


async def _figures(request: Request[Any, Any, Any], period: Period) -> stats.Dashboard:
    state = request.app.state
    cache: dict[tuple[Any, ...], tuple[float, stats.Dashboard]] = state.setdefault(
        "public_stats_cache", {}
    )
    key = (period.start, period.end)
    hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    board = await stats.dashboard(services_of(request), period)
    if len(cache) > 50:
        cache.clear()
    cache[key] = (time.monotonic(), board)
    return board


@get("/stats", name="public_stats", include_in_schema=False)
async def public_stats(
    request: Request[Any, Any, Any],
    period: Text = None,
    first: Annotated[str | None, Parameter(query="from", required=False)] = None,
    last: Annotated[str | None, Parameter(query="to", required=False)] = None,
) -> Template:
    chosen = stats.parse_period(period, first, last, default=90)
    board = await _figures(request, chosen)
    rows = [r for r in board.by_organisation if r.id is not None]
    ranking = charts.on_time_bars(board.ranking)
    return render(
        request,
        "public/stats.html",
        {
            "user": request.scope.get("user"),
            "period": chosen,
            "presets": PUBLIC_PRESETS,
            "total": board.total,
            "rows": rows,
            "trend_svg": charts.trend_chart(board.trend, chosen.bucket),
            "ranking_svg": charts.ranking_bars(ranking) if ranking else None,
            **helpers(),
        },
        block="figures",
    )


ROUTES = [public_stats]
