"""异地就医: renders on the detected store with the flow map, matrix, impossible trips and
cross-province clusters; period, level, measure and top-N change what is shown; the cluster
button opens the ring page; persons are masked; English."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import no_exception
from tests.detected import Detected


def _metric(at: AppTest, label: str) -> int:
    return int(next(m.value for m in at.metric if m.label == label).replace(",", ""))


def _table(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_page_renders_flows_trips_and_clusters(app: Callable[..., AppTest],
                                               detected: Detected) -> None:
    at = app(page="cross_region")
    no_exception(at)
    assert at.title[0].value.startswith("异地就医")
    assert _metric(at, "异地结算笔数") > 0
    assert len(at.get("plotly_chart")) == 3  # flow map, matrix, trips map
    flows = _table(at, "就医地")
    assert len(flows) == 30
    assert (flows["参保地"] != flows["就医地"]).all()
    assert flows["结算笔数"].is_monotonic_decreasing
    balance = _table(at, "流出笔数")
    assert len(balance) == 41
    assert int(balance["流出笔数"].sum()) == _metric(at, "异地结算笔数")
    trips = _table(at, "折合时速（公里/小时）")
    assert len(trips) == _metric(at, "不可能行程（段）") > 0
    clusters = _table(at, "参保省份")
    expected = {r.ring_id for r in detected.result.suspicious
                if r.pattern == "cross_province_card_use"}
    assert set(clusters["团伙编号"]) == expected


def test_period_changes_the_figures(app: Callable[..., AppTest]) -> None:
    whole = app(page="cross_region")
    march = app(page="cross_region", **{"from": "2024-03-01", "to": "2024-03-31"})
    no_exception(march)
    a, b = _metric(whole, "异地结算笔数"), _metric(march, "异地结算笔数")
    assert 0 < b < a / 6
    assert _metric(march, "不可能行程（段）") < _metric(whole, "不可能行程（段）")
    first = pd.to_datetime(_table(march, "折合时速（公里/小时）")["第一笔结算"])
    assert ((first >= pd.Timestamp("2024-03-01")) & (first < pd.Timestamp("2024-04-01"))).all()


def test_province_level_switch(app: Callable[..., AppTest]) -> None:
    city = app(page="cross_region")
    at = app(page="cross_region", level="province")
    no_exception(at)
    balance = _table(at, "流出笔数")
    assert set(balance["地区"]) == {"上海市", "江苏省", "浙江省", "安徽省"}
    flows = _table(at, "就医地")
    assert len(flows) <= 12
    # crossing a province border is rarer than crossing a city border
    assert _metric(at, "异地结算笔数") < _metric(city, "异地结算笔数")


def test_level_widget_writes_the_url(app: Callable[..., AppTest]) -> None:
    at = app(page="cross_region")
    at.button_group(key="cross_level").set_value("province").run()
    no_exception(at)
    assert at.query_params["level"] == "province"
    assert len(_table(at, "流出笔数")) == 4


def test_measure_and_top_n(app: Callable[..., AppTest]) -> None:
    at = app(page="cross_region", by="fund", top="10")
    no_exception(at)
    flows = _table(at, "就医地")
    assert len(flows) == 10
    assert flows["医保基金（元）"].is_monotonic_decreasing
    at.slider(key="cross_top").set_value(50).run()
    assert len(_table(at, "就医地")) == 50
    assert at.query_params["top"] == "50"


def test_cluster_button_opens_the_ring_page(app: Callable[..., AppTest]) -> None:
    at = app(page="cross_region", lang="zh")
    ring_id = at.selectbox(key="cross_ring_pick").value
    at.button(key="cross_open_ring").click().run()
    no_exception(at)
    assert at.query_params["ring"] == ring_id
    assert any(ring_id in title.value for title in at.title)


def test_trip_persons_are_masked_for_leadership(app: Callable[..., AppTest]) -> None:
    at = app(user="li", page="cross_region")
    no_exception(at)
    assert not at.toggle
    assert _table(at, "折合时速（公里/小时）")["参保人"].str.fullmatch(r".\*\*").all()


def test_investigator_may_reveal_trip_persons(app: Callable[..., AppTest]) -> None:
    at = app(page="cross_region")
    assert _table(at, "折合时速（公里/小时）")["参保人"].str.fullmatch(r".\*\*").all()
    at.toggle[0].set_value(True).run()
    no_exception(at)
    assert not _table(at, "折合时速（公里/小时）")["参保人"].str.contains(r"\*").any()


def test_english_switch(app: Callable[..., AppTest]) -> None:
    at = app(page="cross_region", lang="en")
    no_exception(at)
    assert at.title[0].value.startswith("Cross-region")
    assert _metric(at, "Cross-division settlements") > 0
    assert "Place of care" in _table(at, "Insured division").columns
