"""Distances on the earth: one great-circle formula for every module (NumPy, plain floats and
DuckDB SQL), on the mean earth radius."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = ["EARTH_RADIUS_KM", "haversine_km", "haversine_km_sql", "km_between"]

EARTH_RADIUS_KM = 6371.0088
"""The mean earth radius (IUGG), km."""

F64 = npt.NDArray[np.float64]


def haversine_km(lon1: npt.ArrayLike, lat1: npt.ArrayLike, lon2: npt.ArrayLike,
                 lat2: npt.ArrayLike) -> F64:
    """Great-circle distance in km between WGS84 points in degrees, element-wise (NaN where a
    coordinate is missing)."""
    lo1, la1, lo2, la2 = (np.radians(np.asarray(x, dtype=np.float64))
                          for x in (lon1, lat1, lon2, lat2))
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))),
                      dtype=np.float64)


def km_between(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in km between two ``(lon, lat)`` points."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, h)))


def haversine_km_sql(lon1: str, lat1: str, lon2: str, lat2: str) -> str:
    """DuckDB SQL for the great-circle distance in km between two points given as columns."""
    return (
        f"(2 * {EARTH_RADIUS_KM} * asin(sqrt(least(1.0, pow(sin(radians({lat2} - {lat1}) / 2), 2)"
        f" + cos(radians({lat1})) * cos(radians({lat2})) * "
        f"pow(sin(radians({lon2} - {lon1}) / 2), 2)))))"
    )
