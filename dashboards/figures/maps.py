"""Regional maps drawn with no internet, from the shipped boundaries.

Boundaries are the shipped WGS84 GeoJSON of :mod:`yibao.divisions` (41 cities, 305 counties of
沪苏浙皖). Two kinds of map, neither requests anything from outside the machine:

* **Choropleths** (:func:`choropleth`, :func:`empty_map`) use plotly's ``*_map`` traces with
  ``map_style="white-bg"``: maplibre in WebGL, no tiles, no topojson.
* **Point and line maps** (:func:`lines_and_points`, :func:`plain_map`) draw the outlines as
  ordinary SVG traces on longitude/latitude axes kept to scale. A maplibre map costs the
  browser a WebGL context and about 0.8 s of CPU on a machine without a GPU (measured on the
  500-member ring page); SVG draws in a fraction of that, can carry text labels (maplibre would
  fetch glyphs from the internet for them) and shows county outlines when zoomed into one city.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import cache
from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go

from yibao.divisions import boundaries_geojson, divisions_frame

__all__ = [
    "FONT",
    "MAP_STYLE",
    "choropleth",
    "empty_map",
    "lines_and_points",
    "map_view",
    "plain_map",
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


@cache
def _outline_polygons(level: Literal["city", "county"]
                      ) -> tuple[tuple[tuple[float, float, float, float], list[float | None],
                                       list[float | None]], ...]:
    """Each division's outline as (bounds, xs, ys), rings separated by ``None``."""
    out = []
    for feature in _geojson(level)["features"]:
        geom = feature["geometry"]
        polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        xs: list[float | None] = []
        ys: list[float | None] = []
        for poly in polys:
            ring = poly[0]
            xs += [float(p[0]) for p in ring] + [None]
            ys += [float(p[1]) for p in ring] + [None]
        lon = [x for x in xs if x is not None]
        lat = [y for y in ys if y is not None]
        out.append(((min(lon), min(lat), max(lon), max(lat)), xs, ys))
    return tuple(out)


def _outline_xy(level: Literal["city", "county"], box: tuple[float, float, float, float]
                ) -> tuple[list[float | None], list[float | None]]:
    """The outlines of the divisions of ``level`` that reach into ``box`` (lon0, lat0, lon1,
    lat1), as one line each for x and y."""
    xs: list[float | None] = []
    ys: list[float | None] = []
    for (x0, y0, x1, y1), px, py in _outline_polygons(level):
        if x1 >= box[0] and x0 <= box[2] and y1 >= box[1] and y0 <= box[3]:
            xs += px
            ys += py
    return xs, ys


def _division_labels(level: Literal["city", "county"], box: tuple[float, float, float, float],
                     lang: str) -> pd.DataFrame:
    """Names (Chinese, or English for ``lang="en"``) and centroids of the divisions of
    ``level`` whose centroid lies inside ``box``."""
    divs = divisions_frame()
    divs = divs[divs["level"] == level]
    inside = divs["lon"].between(box[0], box[2]) & divs["lat"].between(box[1], box[3])
    out = divs.loc[inside, ["name", "name_en", "lon", "lat"]]
    return out.assign(name=out["name_en"]) if lang == "en" else out


def plain_map(lons: Sequence[float], lats: Sequence[float], *, height: int = 520,
              min_span: float = 0.6, names: bool = True, lang: str = "zh") -> go.Figure:
    """An empty SVG map that shows the given points with a margin: the outlines of the cities
    around them (and of the counties too when the view spans less than about two degrees) with
    their names, on longitude/latitude axes kept to scale. The view spans at least ``min_span``
    degrees, so a ring in one district still shows the city around it. With no points, the
    whole Delta. ``names=False`` leaves the division names out (for a caller that labels its
    own points with them); ``lang="en"`` names them in English."""
    lon = [float(x) for x in lons if pd.notna(x)] or [_DELTA_CENTER["lon"] - 3.5,
                                                       _DELTA_CENTER["lon"] + 3.5]
    lat = [float(y) for y in lats if pd.notna(y)] or [_DELTA_CENTER["lat"] - 3.0,
                                                       _DELTA_CENTER["lat"] + 3.0]
    lo0, lo1, la0, la1 = min(lon), max(lon), min(lat), max(lat)
    pad = max(0.18 * max(lo1 - lo0, la1 - la0), (min_span - max(lo1 - lo0, la1 - la0)) / 2,
              0.05)
    box = (lo0 - pad, la0 - pad, lo1 + pad, la1 + pad)
    fig = go.Figure()
    if box[2] - box[0] < 2.0 and box[3] - box[1] < 2.0:
        cx, cy = _outline_xy("county", box)
        fig.add_trace(go.Scatter(x=cx, y=cy, mode="lines", fill="toself", fillcolor="#f4f5f7",
                                 line={"color": "#c3c9d0", "width": 0.5}, hoverinfo="skip",
                                 showlegend=False))
        x, y = _outline_xy("city", box)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", line={"color": "#7f8a96", "width": 1.0},
                                 hoverinfo="skip", showlegend=False))
    else:
        x, y = _outline_xy("city", box)
        fig.add_trace(go.Scatter(x=x, y=y, mode="lines", fill="toself", fillcolor="#f4f5f7",
                                 line={"color": "#9aa3ad", "width": 0.6}, hoverinfo="skip",
                                 showlegend=False))
    if names:
        label = _division_labels("county" if len(fig.data) == 2 else "city", box, lang)
        fig.add_trace(go.Scatter(x=label["lon"], y=label["lat"], mode="text",
                                 text=label["name"], textfont={"size": 11, "color": "#8a939c"},
                                 hoverinfo="skip", showlegend=False))
    mid_lat = (la0 + la1) / 2
    fig.update_layout(
        height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, font_family=FONT,
        plot_bgcolor="white", dragmode="pan",
        xaxis={"visible": False, "range": [box[0], box[2]]},
        yaxis={"visible": False, "range": [box[1], box[3]], "scaleanchor": "x",
               "scaleratio": 1 / math.cos(math.radians(mid_lat))},
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.01, "x": 0.01,
                "bgcolor": "rgba(255,255,255,0.8)"},
    )
    return fig


def lines_and_points(*, lines: pd.DataFrame | None = None, points: Sequence[pd.DataFrame] = (),
                     height: int = 520, min_span: float = 0.6, lang: str = "zh"
                     ) -> go.Figure:
    """Lines (``lon0, lat0, lon1, lat1``, optional ``width``) and point layers (each frame:
    ``lon``, ``lat``, ``label``, optional ``size``; ``frame.attrs["name"]`` and
    ``frame.attrs["color"]`` name and colour the layer) on a :func:`plain_map` of the area."""
    all_lon: list[float] = []
    all_lat: list[float] = []
    if lines is not None and not lines.empty:
        all_lon += [*lines["lon0"], *lines["lon1"]]
        all_lat += [*lines["lat0"], *lines["lat1"]]
    for layer in points:
        all_lon += list(layer["lon"])
        all_lat += list(layer["lat"])
    fig = plain_map(all_lon, all_lat, height=height, min_span=min_span, lang=lang)
    if lines is not None and not lines.empty:
        widths = lines["width"] if "width" in lines else pd.Series(1.5, index=lines.index)
        for w, group in lines.groupby(widths.round(0).clip(1, 8)):
            lon: list[float | None] = []
            lat: list[float | None] = []
            for lon0, lat0, lon1, lat1 in group[["lon0", "lat0", "lon1", "lat1"]].to_numpy(
                    dtype=float):
                lon += [float(lon0), float(lon1), None]
                lat += [float(lat0), float(lat1), None]
            fig.add_trace(go.Scatter(
                x=lon, y=lat, mode="lines", line={"width": float(w), "color": "#c0392b"},
                opacity=0.55, hoverinfo="skip", showlegend=False,
            ))
    for layer in points:
        if layer.empty:
            continue
        size = layer.get("size", 9)
        fig.add_trace(go.Scatter(
            x=layer["lon"], y=layer["lat"], mode="markers",
            marker={"size": size, "color": layer.attrs.get("color", "#1f77b4"), "opacity": 0.9,
                    "line": {"color": "white", "width": 0.8}},
            text=layer["label"], hovertemplate="%{text}<extra></extra>",
            name=str(layer.attrs.get("name", "")),
        ))
    return fig


def ring_trips_map(trips: pd.DataFrame, *, homes_name: str, institutions_name: str,
                   yuan: str, height: int = 480, lang: str = "zh") -> go.Figure:
    """A ring's trips (:func:`dashboards.data.rings.ring_trips`: insured division → institution)
    on a :func:`lines_and_points` map: one blue point per insured division (``homes_name``),
    one red point per institution labelled with its fund (``yuan`` is the unit's word), and a
    line per trip, wider with more settlements."""
    from dashboards.i18n import place

    inst = trips.groupby(["fixmedins_code", "fixmedins_name", "lon", "lat"], as_index=False).agg(
        fund=("fund", "sum"))
    inst = inst.assign(label=inst["fixmedins_name"] + " " + inst["fund"].round(0).astype(str)
                       + yuan, size=12)
    inst.attrs.update(name=institutions_name, color="#d62728")
    homes = trips.groupby(["insu_admdvs", "home", "home_lon", "home_lat"], as_index=False).agg(
        persons=("persons", "max"))
    homes = homes.rename(columns={"home_lon": "lon", "home_lat": "lat"}).assign(
        label=homes["home"].map(lambda h: place(h, "en" if lang == "en" else "zh")), size=10)
    homes.attrs.update(name=homes_name, color="#1f77b4")
    lines = trips.rename(columns={"home_lon": "lon0", "home_lat": "lat0", "lon": "lon1",
                                  "lat": "lat1"})
    lines = lines.assign(width=1 + 2 * (lines["settlements"] / max(
        float(lines["settlements"].max()), 1.0)) ** 0.5)
    return lines_and_points(lines=lines, points=[homes, inst], height=height, lang=lang)
