"""The shipped divisions of 沪苏浙皖: counts, code hierarchy, centroids, boundaries, sampling."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from yibao.divisions import (
    PROVINCE_CODES,
    boundaries_geojson,
    division,
    division_geometries,
    divisions_frame,
    is_known_division,
    random_points_in_division,
)

FRAME = divisions_frame()
CITIES = sorted(FRAME.loc[FRAME["level"] == "city", "code"])
COUNTIES = sorted(FRAME.loc[FRAME["level"] == "county", "code"])


def test_counts_per_level_and_province() -> None:
    assert len(FRAME) == 350
    assert FRAME["level"].value_counts().to_dict() == {"province": 4, "city": 41, "county": 305}
    cities = FRAME[FRAME["level"] == "city"].groupby("province").size().to_dict()
    assert cities == {"310000": 1, "320000": 13, "330000": 11, "340000": 16}
    assert set(FRAME.loc[FRAME["level"] == "province", "code"]) == set(PROVINCE_CODES)


def test_codes_are_unique_six_digit_text() -> None:
    assert FRAME["code"].is_unique
    assert FRAME["code"].str.fullmatch(r"[1-9][0-9]{5}").all()
    assert FRAME["code"].map(type).eq(str).all()
    assert FRAME["name"].str.len().gt(0).all()


def test_codes_agree_with_their_parents() -> None:
    for row in FRAME.itertuples():
        assert row.province == row.code[:2] + "0000"
        if row.level == "province":
            assert row.parent == ""
            assert row.name == PROVINCE_CODES[row.code]
        elif row.level == "city":
            assert row.parent == row.province
            assert row.code.endswith("00")
            assert row.code[:4] != row.code[:2] + "00"
        else:
            assert row.parent == row.code[:4] + "00"
            assert row.parent in CITIES
            assert not row.code.endswith("00")


def test_division_lookup() -> None:
    d = division("341282")
    assert (d.name, d.level, d.parent, d.province, d.city) == (
        "界首市", "county", "341200", "340000", "341200"
    )
    assert division("310000").city == ""
    assert division("341200").city == "341200"
    assert d.area_km2 > 0
    assert is_known_division("341282")
    assert not is_known_division("341282.0")
    assert not is_known_division("110000")
    with pytest.raises(KeyError, match=r"unknown division code '110000': expected a 6-digit "
                       r"code of 沪苏浙皖, e\.g\. 341200"):
        division("110000")


@pytest.mark.parametrize("level", ["city", "county"])
def test_boundaries_cover_every_division(level: str) -> None:
    data = boundaries_geojson(level)  # type: ignore[arg-type]
    ids = sorted(f["id"] for f in data["features"])
    assert ids == (CITIES if level == "city" else COUNTIES)
    geoms = division_geometries(level)  # type: ignore[arg-type]
    assert all(g.is_valid and not g.is_empty for g in geoms.values())


@pytest.mark.parametrize("level", ["city", "county"])
def test_centroids_lie_in_their_boundary(level: str) -> None:
    geoms = division_geometries(level)  # type: ignore[arg-type]
    rows = FRAME[FRAME["level"] == level]
    far = []
    for row in rows.itertuples():
        geom = geoms[row.code]
        point = shapely.Point(row.lon, row.lat)
        # inside, or nearly: a crescent-shaped county's centroid may fall just outside
        if not geom.contains(point) and geom.distance(point) > 0.05:
            far.append(row.code)
    assert far == []


def test_divisions_lie_in_the_delta() -> None:
    assert FRAME["lon"].between(114.8, 123.0).all()
    assert FRAME["lat"].between(27.0, 35.2).all()


def test_counties_lie_in_their_city() -> None:
    cities = division_geometries("city")
    counties = division_geometries("county")
    for code, geom in counties.items():
        city = cities[code[:4] + "00"]
        assert city.buffer(0.01).contains(geom.representative_point()), code


@pytest.mark.parametrize("code", ["310101", "341282", "341200", "330100", "320500"])
def test_random_points_lie_inside(code: str) -> None:
    level = "county" if division(code).level == "county" else "city"
    geom = division_geometries(level)[code]  # type: ignore[index]
    lon, lat = random_points_in_division(code, 200, np.random.default_rng(3))
    assert lon.shape == lat.shape == (200,)
    assert shapely.contains_xy(geom, lon, lat).all()


@settings(max_examples=25, deadline=None)
@given(code=st.sampled_from(COUNTIES + CITIES), seed=st.integers(0, 2**32 - 1),
       n=st.integers(1, 30))
def test_random_points_are_deterministic_by_seed(code: str, seed: int, n: int) -> None:
    first = random_points_in_division(code, n, np.random.default_rng(seed))
    again = random_points_in_division(code, n, np.random.default_rng(seed))
    other = random_points_in_division(code, n, np.random.default_rng(seed + 1))
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])
    assert len(first[0]) == n


def test_no_points_is_two_empty_arrays() -> None:
    lon, lat = random_points_in_division("341282", 0, np.random.default_rng(0))
    assert lon.shape == lat.shape == (0,)
