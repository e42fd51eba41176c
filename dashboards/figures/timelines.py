"""When a ring settled: per member for a small ring, per day and institution for a big one.

Both are SVG scatter plots (a WebGL context costs a browser without a GPU more than a few
hundred SVG markers do). A small ring shows one row per member and one marker per settlement,
coloured by institution; beyond :data:`PER_PERSON_UP_TO` members one row per member is
unreadable, so the timeline shows one row per institution and one marker per day, sized by
how many members settled there that day (the co-settlement pattern of card pooling and
recruited patients).
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboards.figures.maps import FONT

__all__ = ["PER_PERSON_UP_TO", "daily_timeline", "person_timeline"]

PER_PERSON_UP_TO = 60
"""Rings with at most this many members get one timeline row per member."""


def person_timeline(settlements: pd.DataFrame, *, labels: Mapping[str, str]) -> go.Figure:
    """One row per member (the last six digits of ``psn_no``), one marker per settlement sized
    by fund money and coloured by institution. ``settlements`` has ``setl_time``, ``psn_no``,
    ``fixmedins_name``, ``fund`` and ``setl_id``; ``labels`` names ``persons`` and
    ``institutions``."""
    frame = settlements.assign(person="…" + settlements["psn_no"].str[-6:],
                               institution=settlements["fixmedins_name"])
    fig = px.scatter(frame, x="setl_time", y="person", color="institution", size="fund",
                     size_max=14, hover_data={"setl_id": True, "fund": ":.2f"},
                     labels={"setl_time": "", "person": labels["persons"],
                             "institution": labels["institutions"]})
    rows = frame["person"].nunique()
    return _layout(fig, height=max(300, min(900, 18 * rows)))


def daily_timeline(days: pd.DataFrame, *, labels: Mapping[str, str]) -> go.Figure:
    """One row per institution, one marker per day the ring settled there, sized by the
    members who settled that day and coloured by fund money. ``days`` is
    :func:`dashboards.data.rings.ring_days`; ``labels`` names ``persons``, ``settlements``,
    ``fund`` and ``institutions``."""
    size = 4 + 12 * (days["persons"] / max(float(days["persons"].max()), 1.0)) ** 0.5
    fig = go.Figure(go.Scatter(
        x=days["day"], y=days["fixmedins_name"], mode="markers",
        marker={"size": size, "color": days["fund"], "colorscale": "OrRd", "opacity": 0.85,
                "line": {"color": "#7f0000", "width": 0.5},
                "colorbar": {"title": {"text": labels["fund"]}, "thickness": 12}},
        customdata=days[["persons", "settlements", "fund"]].to_numpy(),
        hovertemplate=(f"%{{x|%Y-%m-%d}} %{{y}}<br>{labels['persons']}: %{{customdata[0]}}"
                       f"<br>{labels['settlements']}: %{{customdata[1]}}"
                       f"<br>{labels['fund']}: %{{customdata[2]:,.2f}}<extra></extra>"),
        showlegend=False,
    ))
    fig.update_yaxes(title={"text": labels["institutions"]})
    rows = days["fixmedins_name"].nunique()
    return _layout(fig, height=max(260, min(700, 70 * rows + 120)))


def _layout(fig: go.Figure, *, height: int) -> go.Figure:
    fig.update_layout(height=height, margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      font_family=FONT, legend={"orientation": "h", "y": -0.15},
                      yaxis={"type": "category"}, xaxis={"title": None},
                      plot_bgcolor="white")
    fig.update_xaxes(gridcolor="#ecf0f1")
    fig.update_yaxes(gridcolor="#ecf0f1")
    return fig
