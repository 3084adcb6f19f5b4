"""The public figures: how each organisation handles requests. No sign-in, nothing personal.

The page is built only from organisation names and counts: no resident, flat, phone, address
or description reaches its template. Figures come from the shared cache (cache.py), so a
popular page costs the database little.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.response import Template

from server.oversight import charts
from server.oversight.cache import FiguresCache
from server.oversight.filters import FiguresQuery, query_of
from server.oversight.formatting import template_helpers
from server.shared.rendering import render

PUBLIC_PRESETS = (30, 90, 365)
DEFAULT_DAYS = 90


@get("/stats", name="public_stats", include_in_schema=False)
async def public_stats(request: Request[Any, Any, Any], figures: FiguresCache) -> Template:
    period = FiguresQuery.of(request.query_params).chosen_period(default=DEFAULT_DAYS)
    board = await figures.dashboard(period)
    ranking = charts.on_time_bars(board.ranking)
    return render(
        request,
        "public/stats.html",
        {
            "user": request.scope.get("user"),
            "period": period,
            "presets": PUBLIC_PRESETS,
            "total": board.total,
            "computed_at": board.now,
            "period_query": query_of(period),
            "rows": [r for r in board.by_organisation if r.id is not None],
            "trend_svg": charts.trend_chart(board.trend, period.bucket),
            "ranking_svg": charts.ranking_bars(ranking) if ranking else None,
            **template_helpers(),
        },
        block="figures",
    )


ROUTES = [public_stats]
