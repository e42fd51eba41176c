"""The briefing's trend chart (plotly) and the plotly.js it is drawn with.

The page inlines the plotly.js that ships inside the ``plotly`` Python package
(:func:`plotly.offline.get_plotlyjs`), never a CDN, so a briefing renders on a machine with no
internet. Charts are static (``staticPlot``) and sized in CSS pixels, so the screen layout and
the printed page agree; the page's script draws a chart from its :func:`figure_spec` once it
has laid the page out (``templates/brief.js``), at the size it settled on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from yibao.brief.facts import TrendPoint, TrendUnit
from yibao.brief.scope import Lang

__all__ = ["BAR_COLOUR", "CHART_CONFIG", "FONT_FAMILY", "figure_spec", "plotly_js", "trend_figure"]

FONT_FAMILY = "Noto Sans CJK SC, Noto Sans CJK, sans-serif"
BAR_COLOUR = "#b3121a"


def plotly_js() -> str:
    """The full plotly.js bundled with the installed ``plotly`` package (about 4.8 MB)."""
    from plotly.offline import get_plotlyjs

    text: str = get_plotlyjs()
    return text


def _tick(point: TrendPoint, unit: TrendUnit, lang: Lang, years: int) -> str:
    d = point.start
    if unit == "week":
        return f"{d.month}/{d.day}"
    if years > 1:
        return f"{d.year}-{d.month:02d}"
    if lang == "zh":
        return f"{d.month}月"
    return ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
            "Dec")[d.month - 1]


def trend_figure(points: Sequence[TrendPoint], *, unit: TrendUnit, lang: Lang = "zh",
                 width: int = 320, height: int = 150) -> Any:
    """A bar chart (plotly ``Figure``) of suspicious fund per month or week, in 万元, each bar
    labelled with its amount (two decimals)."""
    import plotly.graph_objects as go

    years = len({p.start.year for p in points})
    x = [_tick(p, unit, lang, years) for p in points]
    y = [round(p.fund / 10_000, 2) for p in points]
    many = len(points) > 8
    fig = go.Figure(go.Bar(
        x=x, y=y, marker={"color": BAR_COLOUR}, text=[f"{v:.2f}" if v else "" for v in y],
        textposition="outside", cliponaxis=False,
        textfont={"size": 7 if many else 9, "color": "#374151"}))
    top = max(y, default=0) or 1
    fig.update_layout(
        width=width, height=height, margin={"l": 34, "r": 4, "t": 12, "b": 22},
        font={"family": FONT_FAMILY, "size": 9, "color": "#374151"},
        plot_bgcolor="white", paper_bgcolor="white", showlegend=False, bargap=0.3,
        xaxis={"type": "category", "tickfont": {"size": 8 if many else 9},
               "linecolor": "#9ca3af", "ticks": ""},
        yaxis={"title": {"text": "万元" if lang == "zh" else "10k yuan",
                         "font": {"size": 8}, "standoff": 2},
               "range": [0, top * 1.18], "gridcolor": "#e5e7eb", "zeroline": False,
               "tickfont": {"size": 8}, "nticks": 5},
    )
    return fig


CHART_CONFIG: dict[str, bool] = {"staticPlot": True, "displayModeBar": False}
"""plotly.js options of every chart on the page: static, no mode bar."""


def figure_spec(fig: Any) -> dict[str, Any]:
    """``fig`` as plain JSON data for ``Plotly.newPlot``: ``data``, ``layout`` and ``config``
    (:data:`CHART_CONFIG`)."""
    import plotly.io as pio

    spec: dict[str, Any] = json.loads(pio.to_json(fig, validate=False))
    return {"data": spec.get("data", []), "layout": spec.get("layout", {}),
            "config": dict(CHART_CONFIG)}
