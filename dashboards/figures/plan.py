"""The inspection plan on the map (检查计划地图): each team in its own colour, its route (the
institutions in visit order, week by week, joined by lines), the candidates left unvisited in
grey, on the offline SVG map of :func:`dashboards.figures.maps.plain_map` (no tiles, nothing
fetched)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.graph_objects as go
from plotly.colors import qualitative

from dashboards.figures.maps import plain_map
from yibao.i18n import Lang

__all__ = ["TEAM_COLORS", "plan_map", "team_color"]

TEAM_COLORS: tuple[str, ...] = tuple(qualitative.Dark24)
"""Team colours, by team number (cycled beyond 24 teams)."""


def team_color(team_id: int) -> str:
    """The colour of team ``team_id`` (1, 2, …) on the map and in the tables."""
    return TEAM_COLORS[(team_id - 1) % len(TEAM_COLORS)]


def _sizes(values: pd.Series, largest: float) -> pd.Series:
    """Marker sizes 7..20 px growing with the square root of the value (area ~ money)."""
    return 7 + 13 * (values.astype(float).clip(lower=0) / max(largest, 1.0)) ** 0.5


def plan_map(routes: pd.DataFrame, candidates: pd.DataFrame, *,
             team_names: Mapping[int, str], hover: Mapping[str, str],
             unvisited_name: str, selected: int | None = None, height: int = 620,
             lang: Lang = "zh") -> go.Figure:
    """The plan's map.

    ``routes``: :func:`dashboards.data.plan.team_routes` (``team_id``, ``stop``, ``week``,
    ``lon``, ``lat``, ``fixmedins_name``, ``value``, ``amount``); ``candidates``: every
    candidate (``fixmedins_code``, ``fixmedins_name``, ``lon``, ``lat``), those not in a route
    drawn as small grey points named ``unvisited_name``. ``team_names``: legend name per team;
    ``hover``: labels for ``week``, ``value`` and ``amount`` (yuan) in the hover text.
    ``selected``: a team to bring forward (the others are faded); ``lang`` names the map's
    divisions."""
    fig = plain_map(list(candidates["lon"]) + list(routes.get("lon", [])),
                    list(candidates["lat"]) + list(routes.get("lat", [])), height=height,
                    lang=lang)
    visited = set(routes["fixmedins_code"]) if not routes.empty else set()
    rest = candidates[~candidates["fixmedins_code"].isin(visited)].dropna(subset=["lon", "lat"])
    if not rest.empty:
        fig.add_trace(go.Scatter(
            x=rest["lon"], y=rest["lat"], mode="markers", name=unvisited_name,
            marker={"size": 5, "color": "#9aa3ad", "opacity": 0.6},
            text=rest["fixmedins_name"], hovertemplate="%{text}<extra></extra>"))
    # below the map, outside it: inside, any corner covers cities (the north-west one, the
    # western cities of Anhui)
    fig.update_layout(legend={"orientation": "h", "xanchor": "left", "x": 0, "yanchor": "top",
                              "y": -0.01, "bgcolor": "rgba(255,255,255,0)"})
    if routes.empty:
        return fig
    largest = float(routes["value"].max())
    for k in sorted({int(v) for v in routes["team_id"]}):
        team = routes[routes["team_id"] == k].sort_values("stop")
        color = team_color(k)
        faded = selected is not None and k != selected
        opacity = 0.18 if faded else 0.95
        name = team_names.get(k, str(k))
        fig.add_trace(go.Scatter(
            x=team["lon"], y=team["lat"], mode="lines", legendgroup=name, showlegend=False,
            line={"color": color, "width": 3 if k == selected else 2}, opacity=opacity,
            hoverinfo="skip"))
        custom = team[["week", "stop", "value", "amount"]].to_numpy()
        fig.add_trace(go.Scatter(
            x=team["lon"], y=team["lat"], mode="markers", name=name, legendgroup=name,
            marker={"size": _sizes(team["value"], largest), "color": color,
                    "opacity": opacity, "line": {"color": "white", "width": 0.8}},
            text=team["fixmedins_name"], customdata=custom,
            hovertemplate=(f"<b>{name}</b> · %{{text}}<br>{hover['week']} %{{customdata[0]}}"
                           f" · #%{{customdata[1]}}<br>{hover['value']}: "
                           f"%{{customdata[2]:,.0f}}<br>{hover['amount']}: "
                           "%{customdata[3]:,.0f}<extra></extra>")))
    return fig
