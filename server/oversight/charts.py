"""Charts drawn on the server as SVG: no chart library, no CDN, no JavaScript.

Each function returns markup safe to place in a template. Colours are presentation attributes,
so the charts look right even where the stylesheet has no rules for them (and in print).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from babel.dates import format_date
from markupsafe import Markup, escape

from server.i18n import current_locale, percent
from server.i18n import gettext as _
from server.oversight.figures import Row, TrendPoint
from server.oversight.formatting import format_share, row_name

FILED_COLOUR = "#1d4ed8"
CLOSED_COLOUR = "#15803d"
BAR_COLOUR = "#1d4ed8"
BAR_WEAK_COLOUR = "#b91c1c"
GRID_COLOUR = "#d9dee7"
TEXT_COLOUR = "#4b5563"
# A day on the time axis: «30.11» in Russian and Tatar, «30 Nov» in English.
DAY_LABEL = {"en": "d MMM"}


def month_short(month: int) -> str:
    names = (
        _("янв"), _("фев"), _("мар"), _("апр"), _("май"), _("июн"),
        _("июл"), _("авг"), _("сен"), _("окт"), _("ноя"), _("дек"),
    )  # fmt: skip
    return names[month - 1]


def nice_ticks(maximum: float, wanted: int = 4) -> list[float]:
    """Round gridline values from 0 up to at least `maximum` (1, 2 or 5 × 10ⁿ apart)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / wanted
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    step = max(step, 1)
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(round(top / step) + 1)]


def _label(point: TrendPoint, unit: str) -> str:
    day = point.start
    if unit == "month":
        return f"{month_short(day.month)} {day.year % 100:02d}"
    return format_date(day, DAY_LABEL.get(current_locale(), "dd.MM"), locale=current_locale())


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def trend_chart(points: Sequence[TrendPoint], unit: str, *, title: str = "") -> Markup:
    """Two lines over time: requests filed and requests closed per day, week or month."""
    width, height = 720, 260
    left, right, top, bottom = 44, 12, 16, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max([p.filed for p in points] + [p.closed for p in points] + [0]))
    top_value = ticks[-1] or 1
    n = len(points)

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / n if n else 0)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / top_value

    title = title or _("Поданные и закрытые заявки")
    total_filed = sum(p.filed for p in points)
    total_closed = sum(p.closed for p in points)
    desc = _(
        "Подано %(filed)s, закрыто %(closed)s за период.", filed=total_filed, closed=total_closed
    )
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="trend-title trend-desc" class="trend-chart">',
        f'<title id="trend-title">{escape(title)}</title>',
        f'<desc id="trend-desc">{escape(desc)}</desc>',
    ]
    for value in ticks:
        ty = y(value)
        parts.append(
            f'<line class="gridline" x1="{left}" x2="{width - right}" y1="{_num(ty)}" '
            f'y2="{_num(ty)}" stroke="{GRID_COLOUR}" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_num(ty + 4)}" text-anchor="end" font-size="12" '
            f'fill="{TEXT_COLOUR}">{_num(value)}</text>'
        )
    every = max(1, math.ceil(n / 12))
    for i, point in enumerate(points):
        if i % every == 0:
            parts.append(
                f'<text x="{_num(x(i))}" y="{height - bottom + 18}" text-anchor="middle" '
                f'font-size="12" fill="{TEXT_COLOUR}">{escape(_label(point, unit))}</text>'
            )
    for series, colour, name in (
        ("filed", FILED_COLOUR, _("Подано")),
        ("closed", CLOSED_COLOUR, _("Закрыто")),
    ):
        values = [getattr(p, series) for p in points]
        if n == 1:
            coords = f"{left},{_num(y(values[0]))} {width - right},{_num(y(values[0]))}"
        else:
            coords = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in enumerate(values))
        parts.append(
            f'<polyline class="line line-{series}" points="{coords}" fill="none" '
            f'stroke="{colour}" stroke-width="2.5" stroke-linejoin="round">'
            f"<title>{escape(name)}</title></polyline>"
        )
        if n <= 62:
            for i, v in enumerate(values):
                label = f"{_label(points[i], unit)}: {name.lower()} {v}"
                parts.append(
                    f'<circle cx="{_num(x(i))}" cy="{_num(y(v))}" r="3" fill="{colour}">'
                    f"<title>{escape(label)}</title></circle>"
                )
    legend_y = height - 8
    # Outside the f-string: on Python 3.11 pybabel cannot see a _() inside one.
    filed_legend, closed_legend = escape(_("Подано")), escape(_("Закрыто жителем"))
    parts.append(
        f'<g font-size="12" fill="{TEXT_COLOUR}">'
        f'<rect x="{left}" y="{legend_y - 9}" width="14" height="4" fill="{FILED_COLOUR}"/>'
        f'<text x="{left + 20}" y="{legend_y}">{filed_legend}</text>'
        f'<rect x="{left + 110}" y="{legend_y - 9}" width="14" height="4" '
        f'fill="{CLOSED_COLOUR}"/>'
        f'<text x="{left + 130}" y="{legend_y}">{closed_legend}</text></g>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None  # a share, 0..1
    note: str = ""  # shown after the bar, e.g. «12 из 15»


def ranking_bars(bars: Sequence[Bar], *, title: str = "") -> Markup:
    """Horizontal bars, one per organisation, for a share from 0 to 100 %."""
    row_h, label_w, bar_w, width = 30, 250, 330, 720
    height = max(1, len(bars)) * row_h + 28
    title = title or _("Доля заявок, выполненных в срок")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="ranking-title" class="ranking-chart">',
        f'<title id="ranking-title">{escape(title)}</title>',
    ]
    for pct in (0, 50, 100):
        gx = label_w + bar_w * pct / 100
        parts.append(
            f'<line class="gridline" x1="{_num(gx)}" x2="{_num(gx)}" y1="0" '
            f'y2="{height - 22}" stroke="{GRID_COLOUR}"/>'
            f'<text x="{_num(gx)}" y="{height - 6}" text-anchor="middle" font-size="12" '
            f'fill="{TEXT_COLOUR}">{percent(pct / 100)}</text>'
        )
    for i, bar in enumerate(bars):
        top = i * row_h + 4
        share = bar.value or 0.0
        colour = BAR_COLOUR if share >= 0.8 else BAR_WEAK_COLOUR
        label = bar.label if len(bar.label) <= 34 else bar.label[:33] + "…"
        value_text = format_share(bar.value)
        parts.append(
            f'<text x="{label_w - 8}" y="{top + 17}" text-anchor="end" font-size="13" '
            f'fill="#1f2937">{escape(label)}<title>{escape(bar.label)}</title></text>'
            f'<rect class="bar{"" if share >= 0.8 else " bar-bad"}" x="{label_w}" y="{top + 4}" '
            f'width="{_num(bar_w * share)}" height="{row_h - 10}" rx="3" fill="{colour}">'
            f"<title>{escape(bar.label)}: {escape(value_text)}</title></rect>"
            f'<text x="{_num(label_w + bar_w * share + 6)}" y="{top + 17}" font-size="12" '
            f'fill="{TEXT_COLOUR}">{escape(value_text)}'
            f"{escape(' · ' + bar.note) if bar.note else ''}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def on_time_bars(rows: Sequence[Row]) -> list[Bar]:
    """The ranking's bars: each organisation's share of work done on time."""
    return [
        Bar(
            row_name(r),
            r.figures.on_time_share,
            f"{r.figures.on_time} / {r.figures.deadline_known}",
        )
        for r in rows
    ]
