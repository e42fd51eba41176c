"""GCJ-02 <-> WGS84: the inverse undoes the forward shift to far below a centimetre."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao._gcj02 import gcj02_to_wgs84, wgs84_to_gcj02

# mainland China, where the datum applies (the Delta is well inside)
_LON = st.floats(97.0, 134.0, allow_nan=False)
_LAT = st.floats(18.0, 53.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(lon=_LON, lat=_LAT)
def test_round_trip_error_below_1e_6_degrees(lon: float, lat: float) -> None:
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    w_lon, w_lat = gcj02_to_wgs84(g_lon, g_lat)
    assert abs(float(w_lon) - lon) < 1e-6
    assert abs(float(w_lat) - lat) < 1e-6


def test_round_trip_on_arrays_of_the_delta() -> None:
    rng = np.random.default_rng(0)
    lon = rng.uniform(114.8, 123.0, 10_000)
    lat = rng.uniform(27.0, 35.2, 10_000)
    w_lon, w_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert w_lon.shape == lon.shape
    assert np.abs(w_lon - lon).max() < 1e-6
    assert np.abs(w_lat - lat).max() < 1e-6


def test_shift_is_a_few_hundred_metres_in_the_delta() -> None:
    # Shanghai People's Square, Fuyang, Hangzhou: GCJ-02 lies east and south of WGS84 here
    lon = np.array([121.4737, 115.8142, 120.1551])
    lat = np.array([31.2304, 32.8897, 30.2741])
    g_lon, g_lat = wgs84_to_gcj02(lon, lat)
    metres_lon = (g_lon - lon) * 111_320 * np.cos(np.radians(lat))
    metres_lat = (g_lat - lat) * 110_574
    shift = np.hypot(metres_lon, metres_lat)
    assert ((shift > 100) & (shift < 1000)).all()
    assert (g_lon > lon).all()
    assert (g_lat < lat).all()


def test_more_iterations_converge_further() -> None:
    g = wgs84_to_gcj02(121.4737, 31.2304)
    one = gcj02_to_wgs84(*g, iterations=1)
    four = gcj02_to_wgs84(*g, iterations=4)
    assert abs(float(four[0]) - 121.4737) <= abs(float(one[0]) - 121.4737)
    assert abs(float(four[0]) - 121.4737) < 1e-9
