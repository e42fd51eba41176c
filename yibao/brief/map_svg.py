"""The hot-spot map of a briefing as plain inline SVG: divisions coloured by suspicious fund.

Outlines come from :func:`yibao.divisions.boundaries_geojson` (shipped with the package), so
the map needs no tiles and no internet, prints as vectors and is drawn before any script runs.
Longitude is scaled by the cosine of the middle latitude, so shapes keep their proportions
(an equirectangular view, fine at the scale of a province). Colours are five quantile classes
of the divisions with suspicious fund (分级设色), grey for none.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from html import escape
from typing import Any

from yibao.brief.facts import DivisionAmount, MapLevel
from yibao.brief.scope import Lang, Region

__all__ = [
    "CLASS_COLOURS",
    "NONE_COLOUR",
    "amount_classes",
    "hot_spot_map_svg",
    "map_legend",
]

CLASS_COLOURS: tuple[str, ...] = ("#fde0c5", "#f9b384", "#f07c4a", "#d7402b", "#a3141c")
"""Fill of the five classes, lowest to highest."""

NONE_COLOUR = "#eef0f3"
"""Fill of a division with no suspicious fund."""

_KM_PER_DEG_LAT = 111.32


@dataclass(frozen=True)
class _Box:
    lon0: float
    lat0: float
    lon1: float
    lat1: float


def amount_classes(values: Iterable[float], n: int = len(CLASS_COLOURS)) -> list[float]:
    """Upper bounds of up to ``n`` quantile classes of the positive ``values`` (ascending; the
    last is the largest value). Fewer distinct values give fewer classes."""
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return []
    bounds: list[float] = []
    for k in range(1, n + 1):
        idx = min(len(positive) - 1, math.ceil(k * len(positive) / n) - 1)
        if not bounds or positive[idx] > bounds[-1]:
            bounds.append(positive[idx])
    return bounds


def _class_colour(value: float, bounds: Sequence[float]) -> str:
    if value <= 0 or not bounds:
        return NONE_COLOUR
    # spread fewer classes over the whole ramp, so the top class is always the darkest
    offset = len(CLASS_COLOURS) - len(bounds)
    for k, upper in enumerate(bounds):
        if value <= upper:
            return CLASS_COLOURS[offset + k]
    return CLASS_COLOURS[-1]


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def _box(features: Sequence[dict[str, Any]]) -> _Box:
    lons = [pt[0] for f in features for ring in _rings(f["geometry"]) for pt in ring]
    lats = [pt[1] for f in features for ring in _rings(f["geometry"]) for pt in ring]
    return _Box(min(lons), min(lats), max(lons), max(lats))


class _Projection:
    """Lon/lat to SVG pixels inside ``width`` x ``height`` with ``margin`` around the box."""

    def __init__(self, box: _Box, width: float, height: float, margin: float) -> None:
        self.kx = math.cos(math.radians((box.lat0 + box.lat1) / 2))
        span_x = max((box.lon1 - box.lon0) * self.kx, 1e-6)
        span_y = max(box.lat1 - box.lat0, 1e-6)
        self.scale = min((width - 2 * margin) / span_x, (height - 2 * margin) / span_y)
        self.box = box
        self.ox = (width - span_x * self.scale) / 2
        self.oy = (height - span_y * self.scale) / 2

    def __call__(self, lon: float, lat: float) -> tuple[float, float]:
        return (self.ox + (lon - self.box.lon0) * self.kx * self.scale,
                self.oy + (self.box.lat1 - lat) * self.scale)

    @property
    def px_per_km(self) -> float:
        return self.scale / _KM_PER_DEG_LAT


@cache
def _province_outlines() -> tuple[dict[str, Any], ...]:
    """Province outlines (GeoJSON geometries): the city boundaries dissolved by province
    (GeoPandas); a buffer out and back in closes the slivers the separately simplified city
    borders leave."""
    from shapely.geometry import mapping

    from yibao.divisions import divisions_gdf

    provinces = divisions_gdf("city").dissolve(by="province")
    return tuple(
        {"id": str(code), "geometry": mapping(geom.buffer(0.01).buffer(-0.01))}
        for code, geom in sorted(provinces.geometry.items()))


def _path(geometry: dict[str, Any], proj: _Projection) -> str:
    parts = []
    for ring in _rings(geometry):
        pts: list[str] = []
        last = ""
        for lon, lat, *_ in ring:
            x, y = proj(lon, lat)
            p = f"{x:.1f},{y:.1f}"
            if p != last:
                pts.append(p)
                last = p
        if len(pts) >= 3:
            parts.append("M" + "L".join(pts) + "Z")
    return "".join(parts)


def _short_name(name_zh: str, name_en: str, lang: Lang) -> str:
    if lang == "zh":
        return name_zh
    for suffix in (" New Area", " District", " County", " City", " Autonomous County"):
        name_en = name_en.removesuffix(suffix)
    return name_en


def _nice_km(target: float) -> int:
    for km in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500):
        if km >= target:
            return km
    return 1000


def map_legend(bounds: Sequence[float]) -> list[tuple[str, float, float]]:
    """The legend of classes ``bounds`` (:func:`amount_classes`): (fill, lower, upper) yuan,
    highest first; the "none" class is :data:`NONE_COLOUR`. The page shows the bounds in the
    unit of its hot-spot table (万元, or yuan when every hot spot is under 1 万元)."""
    offset = len(CLASS_COLOURS) - len(bounds)
    lowers = [0.0, *bounds[:-1]]
    return [(CLASS_COLOURS[offset + k], lowers[k], upper)
            for k, upper in reversed(list(enumerate(bounds)))]


def _scale_bar(proj: _Projection, lang: Lang, x: float, y: float, width: float) -> str:
    km = _nice_km(width * 0.18 / proj.px_per_km)
    length = km * proj.px_per_km
    unit = "公里" if lang == "zh" else "km"
    return (f'<g class="scale"><rect x="{x - 4:.1f}" y="{y - 16:.1f}" '
            f'width="{length + 8:.1f}" height="19" fill="#ffffff" fill-opacity="0.85"/>'
            f'<path d="M{x:.1f},{y - 4:.1f}V{y:.1f}H{x + length:.1f}V{y - 4:.1f}" fill="none" '
            'stroke="#4b5563" stroke-width="1"/>'
            f'<text x="{x + length / 2:.1f}" y="{y - 6:.1f}" class="lg" text-anchor="middle">'
            f'{km} {unit}</text></g>')


def hot_spot_map_svg(spots: Sequence[DivisionAmount], *, region: Region, level: MapLevel,
                     width: int = 400, height: int = 330, lang: Lang = "zh",
                     labelled: int = 5) -> str:
    """An ``<svg>`` of the region's divisions at ``level`` filled by suspicious fund
    (``spots``, classes of :func:`amount_classes`; the legend is :func:`map_legend`), the
    ``labelled`` largest marked with their rank and name, and a scale bar. A county region is
    drawn inside its city, the county outlined. Width and height are CSS pixels."""
    from yibao.divisions import boundaries_geojson, divisions_frame

    shown = region.prefix[:4] if region.level == "county" else region.prefix
    features = [f for f in boundaries_geojson(level)["features"] if str(f["id"]).startswith(shown)]
    if not features:
        return f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}"></svg>'
    proj = _Projection(_box(features), width, height, margin=10)
    amounts = {s.code: s.fund for s in spots}
    bounds = amount_classes(amounts.values())
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" class="map">']
    for f in features:
        code = str(f["id"])
        fill = _class_colour(amounts.get(code, 0.0), bounds)
        out.append(f'<path d="{_path(f["geometry"], proj)}" fill="{fill}" fill-rule="evenodd" '
                   f'stroke="#ffffff" stroke-width="{0.5 if level == "county" else 0.8}"/>')
    if region.level == "delta":
        for f in _province_outlines():
            out.append(f'<path d="{_path(f["geometry"], proj)}" fill="none" '
                       'stroke="#4b5563" stroke-width="1.1"/>')
    if level == "county":
        for f in boundaries_geojson("city")["features"]:
            if str(f["id"]).startswith(shown):
                out.append(f'<path d="{_path(f["geometry"], proj)}" fill="none" '
                           'stroke="#6b7280" stroke-width="0.9"/>')
    if region.level == "county" and region.code:
        own = next((f for f in features if f["id"] == region.code), None)
        if own is not None:
            out.append(f'<path d="{_path(own["geometry"], proj)}" fill="none" '
                       'stroke="#111827" stroke-width="1.6"/>')
    places = {str(r["code"]): r for r in divisions_frame().to_dict("records")}
    ranked = sorted((s for s in spots if s.fund > 0 and s.code in places),
                    key=lambda s: (-s.fund, s.code))[:labelled]
    for rank, spot in enumerate(ranked, start=1):
        row = places[spot.code]
        x, y = proj(float(row["lon"]), float(row["lat"]))
        name = _short_name(str(row["name"]), str(row.get("name_en") or row["name"]), lang)
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6.5" fill="#111827"/>'
                   f'<text x="{x:.1f}" y="{y + 3:.1f}" class="badge" '
                   f'text-anchor="middle">{rank}</text>'
                   f'<text x="{x + 9:.1f}" y="{y + 3.5:.1f}" class="spot">{escape(name)}</text>')
    out.append(_scale_bar(proj, lang, width - 10 - width * 0.2, height - 8, width))
    out.append("</svg>")
    return "".join(out)
