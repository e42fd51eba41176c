"""Figures: offline SVG maps keep a sensible view, networks pick SVG or WebGL by size, and the
ring timeline per day adds up."""

from __future__ import annotations

import networkx as nx
import pandas as pd
import plotly.graph_objects as go

from dashboards.data.rings import ring_days
from dashboards.figures.maps import lines_and_points, plain_map, ring_trips_map
from dashboards.figures.network import WEBGL_FROM, network_figure
from dashboards.figures.timelines import daily_timeline


def _span(fig: go.Figure) -> tuple[float, float]:
    x0, x1 = fig.layout.xaxis.range
    y0, y1 = fig.layout.yaxis.range
    return x1 - x0, y1 - y0


def test_one_district_still_shows_its_city() -> None:
    """Points a few hundred metres apart in Hefei: the view spans at least ``min_span`` and
    draws county outlines under the city ones."""
    fig = plain_map([117.27, 117.28], [31.86, 31.87], min_span=0.6)
    dx, dy = _span(fig)
    assert dx >= 0.6 - 1e-9
    assert dy >= 0.6 - 1e-9
    outlines, names = fig.data[:2], fig.data[2]
    assert [t.mode for t in outlines] == ["lines", "lines"]  # counties (filled), cities
    assert all(isinstance(t, go.Scatter) for t in fig.data)
    assert "蜀山区" in list(names.text)  # the district's neighbours are named


def test_delta_wide_view_draws_city_outlines_only() -> None:
    fig = plain_map([116.5, 121.9], [29.0, 34.5])
    assert len(fig.data) == 2  # city outlines and city names
    assert "南京市" in list(fig.data[1].text)
    dx, _ = _span(fig)
    assert dx > 5


def test_lines_and_points_draw_without_map_tiles() -> None:
    lines = pd.DataFrame({"lon0": [118.8], "lat0": [32.0], "lon1": [120.6], "lat1": [31.3],
                          "width": [3.0]})
    points = pd.DataFrame({"lon": [118.8, 120.6], "lat": [32.0, 31.3], "label": ["a", "b"]})
    points.attrs.update(name="机构", color="#d62728")
    fig = lines_and_points(lines=lines, points=[points])
    assert not [t for t in fig.data if t.type.endswith("map")]
    names = [t.name for t in fig.data]
    assert "机构" in names
    assert any(t.mode == "lines" and list(t.x)[:2] == [118.8, 120.6] for t in fig.data)


def _star(n: int) -> nx.Graph:
    g = nx.Graph()
    for i in range(n - 1):
        g.add_edge(("institution", "H1"), ("person", f"P{i}"), settlements=1)
    return g


def test_network_uses_svg_below_the_webgl_threshold() -> None:
    small = network_figure(_star(50), label_of=lambda n, d: n[1], kind_names={})
    big = network_figure(_star(WEBGL_FROM), label_of=lambda n, d: n[1], kind_names={})
    assert {t.type for t in small.data} == {"scatter"}
    assert {t.type for t in big.data} == {"scattergl"}
    persons = next(t for t in small.data if t.name == "person")
    assert len(persons.x) == 49


def test_ring_days_counts_members_per_day_and_place() -> None:
    settlements = pd.DataFrame({
        "setl_id": ["s1", "s2", "s3", "s4"],
        "setl_time": pd.to_datetime(["2024-07-01 09:00", "2024-07-01 10:00",
                                     "2024-07-01 11:00", "2024-07-02 09:00"]),
        "psn_no": ["p1", "p2", "p1", "p1"],
        "fixmedins_code": ["H1", "H1", "H1", "H2"],
        "fixmedins_name": ["甲药房", "甲药房", "甲药房", "乙药房"],
        "fund": [10.0, 20.0, 5.0, 7.0],
    })
    days = ring_days(settlements)
    assert days[["persons", "settlements", "fund"]].to_numpy().tolist() == [[2, 3, 35.0],
                                                                              [1, 1, 7.0]]
    fig = daily_timeline(days, labels={"persons": "人数", "settlements": "笔数",
                                       "fund": "基金", "institutions": "机构"})
    assert list(fig.data[0].y) == ["甲药房", "乙药房"]


def test_english_map_names_places_in_english() -> None:
    fig = plain_map([117.27, 117.28], [31.86, 31.87], lang="en")
    assert "Shushan District" in list(fig.data[2].text)


def test_ring_trips_map_points_lines_and_english_homes() -> None:
    trips = pd.DataFrame({
        "insu_admdvs": ["341200", "341200"], "home": ["阜阳市", "阜阳市"],
        "home_lon": [115.8, 115.8], "home_lat": [32.9, 32.9],
        "fixmedins_code": ["P1", "P2"], "fixmedins_name": ["甲药房", "乙药房"],
        "lon": [120.0, 117.3], "lat": [30.5, 31.8], "fund": [1000.4, 250.0],
        "persons": [3, 2], "settlements": [8, 2]})
    fig = ring_trips_map(trips, homes_name="Insured division", institutions_name="Institutions",
                         yuan=" yuan", lang="en")
    markers = {t.name: t for t in fig.data if t.mode == "markers"}
    assert list(markers["Insured division"].text) == ["Fuyang"]
    assert list(markers["Institutions"].text) == ["甲药房 1000.0 yuan", "乙药房 250.0 yuan"]
    lines = [t for t in fig.data if t.mode == "lines" and t.line.color == "#c0392b"]
    assert sum(len([x for x in t.x if x is not None]) for t in lines) == 4  # two trips
