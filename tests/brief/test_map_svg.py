"""The hot-spot map: quantile classes, one outline per division of the region, the darkest
fill on the largest amount, and a valid SVG document."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from yibao.brief import region_from_code
from yibao.brief.facts import DivisionAmount
from yibao.brief.map_svg import (
    CLASS_COLOURS,
    NONE_COLOUR,
    amount_classes,
    hot_spot_map_svg,
    map_legend,
)
from yibao.divisions import divisions_frame

SVG = "{http://www.w3.org/2000/svg}"


def test_amount_classes_are_ascending_quantiles_of_positive_values() -> None:
    values = [0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0]
    bounds = amount_classes(values)
    assert bounds == [20.0, 40.0, 60.0, 80.0, 100.0]
    assert amount_classes([5.0, 5.0, 5.0]) == [5.0]
    assert amount_classes([0.0, -1.0]) == []


def test_legend_runs_from_highest_class_down_with_contiguous_bounds() -> None:
    legend = map_legend([20.0, 40.0, 100.0])
    assert [(lo, hi) for _, lo, hi in legend] == [(40.0, 100.0), (20.0, 40.0), (0.0, 20.0)]
    assert legend[0][0] == CLASS_COLOURS[-1]  # the top class is always the darkest


def _paths(svg: str) -> list[ET.Element]:
    return ET.fromstring(svg).findall(f"{SVG}path")


def test_a_province_map_fills_each_county_and_darkens_the_largest() -> None:
    region = region_from_code("340000")
    spots = [DivisionAmount("341202", 900_000.0, 30), DivisionAmount("340102", 1_000.0, 2)]
    svg = hot_spot_map_svg(spots, region=region, level="county")
    counties = divisions_frame().query("level == 'county' and province == '340000'")
    fills = [p.get("fill") for p in _paths(svg) if p.get("fill") != "none"]
    assert len(fills) == len(counties)
    assert fills.count(CLASS_COLOURS[-1]) == 1
    assert fills.count(NONE_COLOUR) == len(counties) - 2
    assert "颍州区" in svg
    assert ">1<" in svg
    assert re.search(r"\d+ 公里", svg)


def test_a_county_region_is_drawn_in_its_city_and_outlined() -> None:
    region = region_from_code("341202")
    svg = hot_spot_map_svg([DivisionAmount("341202", 5_000.0, 3)], region=region, level="county")
    fills = [p.get("fill") for p in _paths(svg) if p.get("fill") != "none"]
    city_counties = divisions_frame().query("level == 'county' and parent == '341200'")
    assert len(fills) == len(city_counties) > 1
    assert 'stroke="#111827" stroke-width="1.6"' in svg


def test_the_whole_delta_is_drawn_by_city_in_english() -> None:
    svg = hot_spot_map_svg([DivisionAmount("320500", 10.0, 1)], region=region_from_code(None),
                           level="city", lang="en")
    filled = [p for p in _paths(svg) if p.get("fill") != "none"]
    assert len(filled) == 41
    assert "Suzhou" in svg
    assert " km<" in svg
