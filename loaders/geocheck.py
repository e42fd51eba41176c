"""An institution's coordinates against its declared division, by a spatial join (GeoPandas).

An export can carry coordinates that do not belong to the institution: geocoded from a wrong
address, GCJ-02 (Amap) coordinates taken for WGS84, latitude and longitude swapped within the
Delta's bounds, a head office's point for a branch. Distances, maps and the impossible-travel
rule then mislead. The row is kept (coordinates are descriptive) with a data-quality note when
the point lies more than :data:`TOLERANCE_KM` outside its declared county (or city), naming the
division it falls in. The shipped boundaries are simplified, hence the tolerance.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from yibao.divisions import divisions_gdf

__all__ = ["TOLERANCE_KM", "note_coordinates_outside_division"]

TOLERANCE_KM = 3.0
"""How far outside its declared division a point may lie before it is noted: the shipped
boundaries are simplified to about a kilometre."""

_METRIC_CRS = "EPSG:32651"
"""UTM zone 51N (metres): distances across the Delta (114.9-122.9 E) within a few percent,
enough for a 3 km tolerance."""


def note_coordinates_outside_division(con: duckdb.DuckDBPyConnection) -> int:
    """Append a ``coordinates_outside_division`` note to each institution row of ``checked``
    (the load's validated rows) whose point lies more than :data:`TOLERANCE_KM` outside its
    declared division; the number of rows noted. Rows already refused or unchanged, without
    coordinates, or with an unknown division are left to the other checks."""
    import geopandas as gpd

    rows = con.execute("""
        SELECT _row, try_cast(v_lon AS DOUBLE) AS lon, try_cast(v_lat AS DOUBLE) AS lat,
               CAST(v_admdvs AS VARCHAR) AS admdvs
        FROM checked
        WHERE len(_problems) = 0 AND NOT _unchanged AND v_lon IS NOT NULL
          AND v_lat IS NOT NULL AND v_admdvs IS NOT NULL""").df()
    if rows.empty:
        return 0
    shapes = pd.concat([divisions_gdf("county"), divisions_gdf("city")], ignore_index=True)
    declared = shapes.set_index("code").reindex(rows["admdvs"])
    known = declared["geometry"].notna().to_numpy()
    rows, declared = rows[known].reset_index(drop=True), declared[known].reset_index()
    if rows.empty:
        return 0
    points = gpd.GeoSeries(gpd.points_from_xy(rows["lon"], rows["lat"]), crs="EPSG:4326")
    areas = gpd.GeoSeries(declared["geometry"].to_numpy(), crs="EPSG:4326")
    km = points.to_crs(_METRIC_CRS).distance(areas.to_crs(_METRIC_CRS)) / 1000.0
    far = (km > TOLERANCE_KM).to_numpy()
    if not far.any():
        return 0
    outside = gpd.GeoDataFrame(rows[far].assign(km=km[far].round(0)),
                               geometry=points[far].to_numpy(), crs="EPSG:4326")
    counties = divisions_gdf("county")[["code", "name", "geometry"]]
    found = gpd.sjoin(outside, counties, how="left", predicate="within")
    found = found[~found.index.duplicated()]
    where = [f"{code} {name}" if isinstance(code, str) else "?"
             for code, name in zip(found["code"], found["name"], strict=True)]
    notes = pd.DataFrame({
        "_row": found["_row"].astype("int64"),
        "value": [f"{lon:g},{lat:g}" for lon, lat in zip(found["lon"], found["lat"],
                                                            strict=True)],
        "detail": [f"{admdvs} → {there}, {km:.0f} km"
                   for admdvs, there, km in zip(found["admdvs"], where, found["km"],
                                                strict=True)],
    })
    con.register("_far_points", notes)
    try:
        con.execute("""
            UPDATE checked SET _notes = list_append(_notes, {'column': 'lon', 'code':
                'coordinates_outside_division', 'value': f.value, 'detail': f.detail})
            FROM _far_points f WHERE checked._row = f._row""")
    finally:
        con.unregister("_far_points")
    return len(notes)
