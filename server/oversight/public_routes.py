"""The public figures: how each organisation handles requests. No sign-in, nothing personal.

The page is built only from organisation names and counts: no resident, flat, phone, address
or description reaches its template. Figures come from the shared cache (stats_cache), so a
popular page costs the database little.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, get
from litestar.params import Parameter
from litestar.response import Template

from server.oversight import charts
from server.oversight import figures as stats
from server.oversight.cache import FiguresCache
from server.shared.rendering import render

PUBLIC_PRESETS = (30, 90, 365)

Text = Annotated[str | None, Parameter(required=False)]


@get("/stats", name="public_stats", include_in_schema=False)
async def public_stats(
    request: Request[Any, Any, Any],
    figures: FiguresCache,
    period: Text = None,
    first: Annotated[str | None, Parameter(query="from", required=False)] = None,
    last: Annotated[str | None, Parameter(query="to", required=False)] = None,
) -> Template:
    chosen = stats.parse_period(period, first, last, default=90)
    board = await figures.dashboard(chosen)
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
            "computed_at": board.now,
            "rows": rows,
            "trend_svg": charts.trend_chart(board.trend, chosen.bucket),
            "ranking_svg": charts.ranking_bars(ranking) if ranking else None,
            **stats.template_helpers(),
        },
        block="figures",
    )


ROUTES = [public_stats]
