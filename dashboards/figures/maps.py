"""Regional maps drawn with no internet: shipped boundaries, plotly's tile-free map style.

Every map uses plotly's ``*_map`` traces with ``map_style="white-bg"``: no tiles and no
topojson are requested, so maps draw on a machine without internet. Boundaries are the shipped
WGS84 GeoJSON of :mod:`yibao.divisions` (41 cities, 305 counties of 沪苏浙皖).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go

from yibao.divisions import boundaries_geojson

__all__ = [
    "FONT",
    "MAP_STYLE",
    "choropleth",
    "empty_map",
    "lines_and_points",
    "map_view",
]

MAP_STYLE = "white-bg"
FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
_DELTA_CENTER = {"lon": 119.4, "lat": 31.2}


@cache
def _geojson(level: Literal["city", "county"]) -> dict[str, Any]:
    return boundaries_geojson(level)


def _outline(level: Literal["city", "county"], codes: Sequence[str] | None) -> go.Choroplethmap:
    """Grey outlines of the divisions (drawn under the data, so empty places still show)."""
    gj = _geojson(level)
    feats = [f for f in gj["features"] if codes is None or f["properties"]["code"] in codes]
    locs = [f["properties"]["code"] for f in feats]
    return go.Choroplethmap(
        geojson={"type": "FeatureCollection", "features": feats}, locations=locs,
        featureidkey="properties.code", z=[0] * len(locs),
        colorscale=[[0, "#f4f5f7"], [1, "#f4f5f7"]], showscale=False,
        marker_line_color="#9aa3ad", marker_line_width=0.6, hoverinfo="skip",
    )


def map_view(frame_lon: Sequence[float], frame_lat: Sequence[float]
             ) -> tuple[dict[str, float], float]:
    """A centre and zoom that show the given points (the whole Delta when there are none)."""
    lons = [x for x in frame_lon if pd.notna(x)]
    lats = [y for y in frame_lat if pd.notna(y)]
    if not lons:
        return dict(_DELTA_CENTER), 5.2
    lo0, lo1, la0, la1 = min(lons), max(lons), min(lats), max(lats)
    span = max(lo1 - lo0, (la1 - la0) * 1.3, 0.05)
    zoom = 5.2 if span > 6 else 6 if span > 3 else 7 if span > 1.5 else 8 if span > 0.7 else 9
    return {"lon": (lo0 + lo1) / 2, "lat": (la0 + la1) / 2}, float(zoom)


def _layout(fig: go.Figure, center: dict[str, float], zoom: float, height: int) -> go.Figure:
    fig.update_layout(
        map={"style": MAP_STYLE, "center": center, "zoom": zoom},
        margin={"l": 0, "r": 0, "t": 0, "b": 0}, height=height, font_family=FONT,
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.01, "x": 0.01,
                "bgcolor": "rgba(255,255,255,0.8)"},
    )
    return fig


def choropleth(frame: pd.DataFrame, *, value: str, value_label: str,
               level: Literal["city", "county"] = "city", within: str | None = None,
               height: int = 560, hover: Sequence[str] = ()) -> go.Figure:
    """Divisions coloured by ``frame[value]`` (``frame`` has ``code`` and ``name``).

    ``within`` (a 2- or 4-digit code prefix) limits the outlines to one province or city.
    """
    gj = _geojson(level)
    codes = [f["properties"]["code"] for f in gj["features"]
             if within is None or f["properties"]["code"].startswith(within)]
    fig = go.Figure(_outline(level, codes))
    data = frame[frame["code"].isin(codes)]
    custom = data[["name", *hover]].to_numpy()
    hover_lines = "".join(f"<br>{h}: %{{customdata[{i + 1}]:,}}" for i, h in enumerate(hover))
    fig.add_trace(go.Choroplethmap(
        geojson=gj, locations=data["code"], featureidkey="properties.code", z=data[value],
        colorscale="OrRd", marker_line_color="#5f6b76", marker_line_width=0.6,
        marker_opacity=0.85, customdata=custom, colorbar={"title": {"text": value_label}},
        hovertemplate=f"%{{customdata[0]}}<br>{value_label}: %{{z:,.0f}}{hover_lines}"
                      "<extra></extra>",
    ))
    divs = [f for f in gj["features"] if f["properties"]["code"] in set(codes)]
    lons, lats = _feature_bounds(divs)
    center, zoom = map_view(lons, lats)
    return _layout(fig, center, zoom, height)


def _feature_bounds(features: list[dict[str, Any]]) -> tuple[list[float], list[float]]:
    lons: list[float] = []
    lats: list[float] = []
    for f in features:
        geom = f["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for poly in polys:
            ring = poly[0]
            xs = [p[0] for p in ring]
            ys = [p[1] for p in ring]
            lons += [min(xs), max(xs)]
            lats += [min(ys), max(ys)]
    return lons, lats


def empty_map(height: int = 420) -> go.Figure:
    """The Delta's city outlines with nothing on them."""
    fig = go.Figure(_outline("city", None))
    return _layout(fig, dict(_DELTA_CENTER), 5.2, height)


def lines_and_points(*, lines: pd.DataFrame | None = None, points: Sequence[pd.DataFrame] = (),
                     height: int = 520, outline: Literal["city", "county"] = "city"
                     ) -> go.Figure:
    """Lines (``lon0, lat0, lon1, lat1``, optional ``width`` and ``label``) and point layers
    (each frame: ``lon``, ``lat``, ``label``, optional ``size``; ``frame.attrs["name"]`` and
    ``frame.attrs["color"]`` name and colour the layer) over the city outlines."""
    fig = go.Figure(_outline(outline, None))
    all_lon: list[float] = []
    all_lat: list[float] = []
    if lines is not None and not lines.empty:
        widths = lines["width"] if "width" in lines else pd.Series(1.5, index=lines.index)
        for w, group in lines.groupby(widths.round(0).clip(1, 8)):
            lon: list[float | None] = []
            lat: list[float | None] = []
            for lon0, lat0, lon1, lat1 in group[["lon0", "lat0", "lon1", "lat1"]].to_numpy(
                    dtype=float):
                lon += [float(lon0), float(lon1), None]
                lat += [float(lat0), float(lat1), None]
            fig.add_trace(go.Scattermap(
                lon=lon, lat=lat, mode="lines", line={"width": float(w), "color": "#c0392b"},
                opacity=0.55, hoverinfo="skip", showlegend=False,
            ))
        all_lon += [*lines["lon0"], *lines["lon1"]]
        all_lat += [*lines["lat0"], *lines["lat1"]]
    for layer in points:
        if layer.empty:
            continue
        size = layer.get("size", 9)
        fig.add_trace(go.Scattermap(
            lon=layer["lon"], lat=layer["lat"], mode="markers",
            marker={"size": size, "color": layer.attrs.get("color", "#1f77b4"), "opacity": 0.9},
            text=layer["label"], hovertemplate="%{text}<extra></extra>",
            name=str(layer.attrs.get("name", "")),
        ))
        all_lon += list(layer["lon"])
        all_lat += list(layer["lat"])
    center, zoom = map_view(all_lon, all_lat)
    return _layout(fig, center, zoom, height)
