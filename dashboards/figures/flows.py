"""Figures of movement: origin→destination flows between divisions (a map and a matrix), and the
hops of one trace-code chain (a numbered map with arrows and a timeline).

All draw without internet. The flow map uses plotly's tile-free ``Scattermap`` over the city
outlines of :func:`dashboards.figures.maps.empty_map`. The hop map must show numbers and
arrows, which a ``Scattermap`` cannot do offline (its text needs glyph files from a font
server, and it has no arrows), so it is drawn on plain axes in longitude/latitude, with the
shipped division outlines, plotly annotations as arrows and text labels in the page's own font.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.figures.maps import FONT, empty_map, map_view, plain_map
from yibao.i18n import Lang, bracket

__all__ = ["flow_map", "flow_matrix", "hop_map", "hop_timeline"]

_REDS = ["#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#b30000", "#7f0000"]
_EFFECTIVE = "#c0392b"
_REVERSED = "#95a5a6"


# -- flows between divisions -------------------------------------------------------------------


def _arc(lon0: float, lat0: float, lon1: float, lat1: float, *, bend: float = 0.18,
         steps: int = 16) -> tuple[list[float], list[float]]:
    """Points of a quadratic curve from (lon0, lat0) to (lon1, lat1) bending to the right of the
    direction of travel, so that A→B and B→A are two separate arcs."""
    dx, dy = lon1 - lon0, lat1 - lat0
    mx, my = (lon0 + lon1) / 2 + bend * dy, (lat0 + lat1) / 2 - bend * dx
    t = np.linspace(0.0, 1.0, steps)
    xs = (1 - t) ** 2 * lon0 + 2 * (1 - t) * t * mx + t**2 * lon1
    ys = (1 - t) ** 2 * lat0 + 2 * (1 - t) * t * my + t**2 * lat1
    return [float(x) for x in xs], [float(y) for y in ys]


def flow_map(flows: pd.DataFrame, *, value: str, value_label: str, height: int = 560
             ) -> go.Figure:
    """Flows as arcs between division centroids over the city outlines, width and colour by
    ``flows[value]``; a dot near each arc's end marks the destination.

    ``flows`` has ``origin_name``, ``destination_name``, ``origin_lon``/``origin_lat``,
    ``destination_lon``/``destination_lat`` and ``value`` (rows without centroids are skipped).
    Hovering the dot shows origin → destination and the value.
    """
    fig = empty_map(height)
    data = flows.dropna(subset=["origin_lon", "origin_lat", "destination_lon",
                                "destination_lat"])
    data = data[data[value] > 0]
    if data.empty:
        return fig
    top = float(data[value].max())
    bucket = np.clip(np.ceil(np.sqrt(data[value].to_numpy(dtype=float) / top) * 7), 1, 7)
    ends_lon: list[float] = []
    ends_lat: list[float] = []
    ends_text: list[str] = []
    ends_color: list[str] = []
    for b in sorted(set(bucket.astype(int))):
        lon: list[float | None] = []
        lat: list[float | None] = []
        for row in data[bucket == b].to_dict("records"):
            xs, ys = _arc(float(row["origin_lon"]), float(row["origin_lat"]),
                          float(row["destination_lon"]), float(row["destination_lat"]))
            lon += [*xs, None]
            lat += [*ys, None]
            ends_lon.append(xs[-3])
            ends_lat.append(ys[-3])
            amount = float(row[value])
            ends_text.append(f"{row['origin_name']} → {row['destination_name']}<br>"
                             f"{value_label}: {amount:,.0f}")
            ends_color.append(_REDS[b - 1])
        fig.add_trace(go.Scattermap(
            lon=lon, lat=lat, mode="lines", hoverinfo="skip", showlegend=False,
            line={"width": 0.8 + 1.2 * b, "color": _REDS[b - 1]}, opacity=0.75,
        ))
    fig.add_trace(go.Scattermap(
        lon=ends_lon, lat=ends_lat, mode="markers", showlegend=False,
        marker={"size": 7, "color": ends_color, "opacity": 0.95}, text=ends_text,
        hovertemplate="%{text}<extra></extra>",
    ))
    places = pd.concat([
        data[["origin_name", "origin_lon", "origin_lat"]].set_axis(["name", "lon", "lat"],
                                                                   axis=1),
        data[["destination_name", "destination_lon", "destination_lat"]].set_axis(
            ["name", "lon", "lat"], axis=1),
    ]).drop_duplicates("name")
    fig.add_trace(go.Scattermap(
        lon=places["lon"], lat=places["lat"], mode="markers", showlegend=False,
        marker={"size": 6, "color": "#34495e"}, text=places["name"],
        hovertemplate="%{text}<extra></extra>",
    ))
    center, zoom = map_view(list(places["lon"]), list(places["lat"]))
    fig.update_layout(map={"center": center, "zoom": min(zoom, 6.0)})
    return fig


def flow_matrix(flows: pd.DataFrame, *, value: str, value_label: str,
                order: list[str] | None = None, origin_label: str = "",
                destination_label: str = "", height: int = 620) -> go.Figure:
    """Origin × destination heatmap of ``flows[value]`` (rows: ``origin_name``, columns:
    ``destination_name``), coloured on a log scale spanning the data so small flows still show
    and large ones still differ; ``order`` lists the division names in axis order (default:
    sorted)."""
    if flows.empty:
        fig = go.Figure()
        fig.update_layout(height=200, font_family=FONT)
        return fig
    pivot = flows.pivot_table(index="origin_name", columns="destination_name", values=value,
                              aggfunc="sum")
    names = order or sorted(set(pivot.index) | set(pivot.columns))
    pivot = pivot.reindex(index=[n for n in names if n in pivot.index],
                          columns=[n for n in names if n in pivot.columns])
    z = pivot.to_numpy(dtype=float)
    zlog = np.where(z > 0, np.log10(np.where(z > 0, z, 1.0)), np.nan)
    finite = np.isfinite(zlog).any()
    top = max(math.ceil(float(np.nanmax(zlog))), 1) if finite else 1
    bottom = min(math.floor(float(np.nanmin(zlog))), top - 1) if finite else 0
    ticks = list(range(bottom, top + 1))
    fig = go.Figure(go.Heatmap(
        z=zlog, x=list(pivot.columns), y=list(pivot.index), customdata=z,
        colorscale="OrRd", zmin=bottom, zmax=top, hoverongaps=False,
        colorbar={"title": {"text": value_label}, "tickvals": ticks,
                  "ticktext": [f"{10 ** k:,}" for k in ticks]},
        hovertemplate=f"%{{y}} → %{{x}}<br>{value_label}: %{{customdata:,.0f}}<extra></extra>",
    ))
    fig.update_layout(
        height=height, margin={"l": 0, "r": 0, "t": 10, "b": 0}, font_family=FONT,
        xaxis={"title": {"text": destination_label}, "tickangle": -60, "side": "bottom",
               "showgrid": False},
        yaxis={"title": {"text": origin_label}, "autorange": "reversed", "showgrid": False},
        plot_bgcolor="white",
    )
    return fig


# -- one chain's hops --------------------------------------------------------------------------


def hop_map(hops: pd.DataFrame, *, labels: Mapping[str, str], height: int = 520,
            lang: Lang = "zh") -> go.Figure:
    """A chain's hops on a map: institutions as points numbered with their hop(s) and labelled
    with their city (the name is in the hover text), an arrow from each hop's institution to
    the next one's (grey when the next hop was reversed), and the days and kilometres of each
    move beside its arrow.

    ``hops`` has ``hop``, ``fixmedins_code``, ``fixmedins_name``, ``city``, ``city_name``,
    ``lon``, ``lat``, ``setl_time``, ``effective``, ``gap_days``, ``km`` and ``buyer`` (already
    masked by the caller). ``labels`` names ``hop``, ``days``, ``km``, ``buyer``; ``lang``
    brackets the city after the institution's name as the language does.
    """
    data = hops.dropna(subset=["lon", "lat"]).sort_values("hop")
    fig = plain_map(list(data["lon"]), list(data["lat"]), height=height, names=False)
    if data.empty:
        return fig
    places = data.groupby("fixmedins_code", sort=False).agg(
        name=("fixmedins_name", "first"), city=("city_name", "first"), lon=("lon", "first"),
        lat=("lat", "first"), hops=("hop", lambda s: ",".join(str(int(h)) for h in s)),
        effective=("effective", "any"),
        detail=("hop", lambda s: "<br>".join(_hop_line(data.loc[s.index], labels))),
    ).reset_index()
    size = [26 if "," not in h else 18 + 7 * len(h.split(",")) for h in places["hops"]]
    fig.add_trace(go.Scatter(
        x=places["lon"], y=places["lat"], mode="markers+text",
        text="  " + places["city"].fillna(""), textposition="middle right",
        textfont={"size": 12, "color": "#34495e"},
        marker={"size": size, "symbol": "circle", "opacity": 1.0,
                "color": [_EFFECTIVE if e else _REVERSED for e in places["effective"]],
                "line": {"color": "white", "width": 1.5}},
        customdata=places[["name", "city", "detail"]].to_numpy(),
        hovertemplate=("%{customdata[0]}" + bracket("%{customdata[1]}", lang)
                       + "<br>%{customdata[2]}<extra></extra>"),
        showlegend=False,
    ))
    fig.add_trace(go.Scatter(
        x=places["lon"], y=places["lat"], mode="text", text=places["hops"],
        textposition="middle center", textfont={"size": 13, "color": "white"},
        hoverinfo="skip", showlegend=False,
    ))
    for prev, row in itertools.pairwise(data.to_dict("records")):
        if prev["fixmedins_code"] == row["fixmedins_code"]:
            continue
        color = _EFFECTIVE if bool(row["effective"]) else _REVERSED
        fig.add_annotation(x=row["lon"], y=row["lat"], ax=prev["lon"], ay=prev["lat"],
                           xref="x", yref="y",
                           axref="x", ayref="y", showarrow=True, arrowhead=3, arrowsize=1.4,
                           arrowwidth=2.2, arrowcolor=color, standoff=14, startstandoff=14,
                           text="")
        note = []
        if pd.notna(row["gap_days"]):
            note.append(f"{float(row['gap_days']):.0f} {labels['days']}")
        if pd.notna(row["km"]):
            note.append(f"{float(row['km']):.0f} {labels['km']}")
        fig.add_annotation(x=(float(prev["lon"]) + float(row["lon"])) / 2,
                           y=(float(prev["lat"]) + float(row["lat"])) / 2, showarrow=False,
                           text=f"{int(prev['hop'])}→{int(row['hop'])}: " + " · ".join(note),
                           font={"size": 10, "color": "#566573"},
                           bgcolor="rgba(255,255,255,0.75)")
    fig.update_layout(showlegend=False)
    return fig


def _hop_line(rows: pd.DataFrame, labels: Mapping[str, str]) -> list[str]:
    return [f"{labels['hop']} {int(r['hop'])}: {pd.Timestamp(r['setl_time']):%Y-%m-%d %H:%M} "
            f"{labels['buyer']} {r['buyer']}" for r in rows.to_dict("records")]


def hop_timeline(hops: pd.DataFrame, *, labels: Mapping[str, str], height: int | None = None,
                 lang: Lang = "zh") -> go.Figure:
    """A chain's hops in time: one row per institution (in order of first visit), a numbered
    marker per hop joined in hop order; red when the sale counts, grey when it was reversed.

    ``hops`` has ``hop``, ``setl_time``, ``fixmedins_name``, ``city_name``, ``buyer`` (masked
    by the caller), ``amount``, ``effective``; ``labels`` names ``hop``, ``buyer``, ``amount``,
    ``effective`` and ``reversed``; a row is the institution's name with its city bracketed
    as ``lang`` does.
    """
    data = hops.sort_values("hop").assign(
        row=lambda f: f["fixmedins_name"].fillna("") + f["city_name"].fillna("").map(
            lambda city: bracket(city, lang)))
    rows = list(dict.fromkeys(data["row"]))
    colors = [_EFFECTIVE if bool(e) else _REVERSED for e in data["effective"]]
    status = [labels["effective"] if bool(e) else labels["reversed"] for e in data["effective"]]
    fig = go.Figure(go.Scatter(
        x=data["setl_time"], y=data["row"], mode="lines+markers+text",
        text=[str(int(h)) for h in data["hop"]], textposition="middle center",
        textfont={"color": "white", "size": 11},
        line={"color": "#aab7b8", "width": 1.5, "dash": "dot"},
        marker={"size": 22, "color": colors, "line": {"color": "#1b2631", "width": 1}},
        customdata=np.column_stack([data["buyer"].astype(str), data["amount"].fillna(0.0),
                                    status]),
        hovertemplate=(f"{labels['hop']} %{{text}}: %{{x|%Y-%m-%d %H:%M}}<br>%{{y}}<br>"
                       f"{labels['buyer']}: %{{customdata[0]}}<br>"
                       f"{labels['amount']}: %{{customdata[1]:,.2f}}<br>%{{customdata[2]}}"
                       "<extra></extra>"),
        showlegend=False,
    ))
    fig.update_layout(
        height=height or max(260, 70 * len(rows) + 90), font_family=FONT,
        margin={"l": 0, "r": 10, "t": 10, "b": 0}, plot_bgcolor="white",
        yaxis={"categoryorder": "array", "categoryarray": rows[::-1], "title": None,
               "gridcolor": "#ecf0f1"},
        xaxis={"title": None, "gridcolor": "#ecf0f1"},
    )
    return fig
