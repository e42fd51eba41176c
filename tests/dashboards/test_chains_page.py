"""回流药: the list renders on the detected store and follows class, search and period; a planted
resale chain opens with its hops, its rings and its network; buyers are masked; English."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import no_exception
from tests.detected import Detected


@pytest.fixture(scope="module")
def resale_code(detected: Detected) -> str:
    truth = json.loads((detected.folder / "truth.json").read_text(encoding="utf-8"))
    codes = sorted(str(c) for s in truth["scenarios"] if s["pattern"] == "resale_chain"
                   for c in s["trace_codes"])
    return codes[0]


def _table(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def test_list_renders_resale_codes_and_the_network(app: Callable[..., AppTest]) -> None:
    at = app(page="chains")
    no_exception(at)
    assert at.title[0].value.startswith("回流药")
    table = _table(at, "追溯码")
    assert len(table) > 0
    assert set(table["类型"]) == {"倒卖"}
    assert (table["结算次数"] >= 2).all()
    assert [h.value for h in at.header] == ["药店与收药人网络"]
    assert len(at.get("plotly_chart")) == 2  # the pharmacy links map and the network
    assert len(at.dataframe) == 3  # a table beside each


def test_class_filter_changes_the_list(app: Callable[..., AppTest]) -> None:
    resale = _table(app(page="chains"), "追溯码")
    refund_at = app(page="chains", classes="refund")
    no_exception(refund_at)
    refund = _table(refund_at, "追溯码")
    assert len(refund) > 0
    assert set(refund["类型"]) == {"退费"}
    assert set(refund["追溯码"]).isdisjoint(resale["追溯码"])
    every = _table(app(page="chains", classes="all"), "追溯码")
    assert len(every) > len(resale) + len(refund) - 1
    assert {"倒卖", "退费", "拆零"} <= set(every["类型"])


def test_class_widget_writes_the_url(app: Callable[..., AppTest]) -> None:
    at = app(page="chains")
    at.multiselect(key="chains_classes").set_value(["split_pack"]).run()
    no_exception(at)
    assert at.query_params["classes"] == "split_pack"
    assert set(_table(at, "追溯码")["类型"]) == {"拆零"}


def test_period_changes_the_list(app: Callable[..., AppTest]) -> None:
    whole = _table(app(page="chains"), "追溯码")
    march_at = app(page="chains", **{"from": "2024-03-01", "to": "2024-03-31"})
    no_exception(march_at)
    march = _table(march_at, "追溯码")
    assert 0 < len(march) < len(whole)
    assert (pd.to_datetime(march["首次结算"]) < pd.Timestamp("2024-04-01")).all()
    assert (pd.to_datetime(march["末次结算"]) >= pd.Timestamp("2024-03-01")).all()


def test_search_finds_part_of_a_code(app: Callable[..., AppTest], resale_code: str) -> None:
    at = app(page="chains", q=resale_code[-8:])
    no_exception(at)
    table = _table(at, "追溯码")
    assert resale_code in set(table["追溯码"])
    assert table["追溯码"].str.contains(resale_code[-8:]).all()
    nothing = app(page="chains", q="999999999999999999999")
    no_exception(nothing)
    assert any("没有找到" in i.value for i in nothing.info)


def test_opening_a_resale_chain_shows_its_hops(app: Callable[..., AppTest],
                                               resale_code: str) -> None:
    at = app(page="chains", code=resale_code)
    no_exception(at)
    assert at.title[0].value.startswith("回流药")
    assert resale_code in at.title[0].value
    assert [h.value for h in at.header] == ["流经哪里", "流转时间线", "该链所在的回流网络"]
    assert len(at.get("plotly_chart")) == 3  # hop map, timeline, network
    where = _table(at, "区县")
    when = _table(at, "结算时间")
    assert list(where["第几跳"]) == list(range(1, len(where) + 1))
    assert len(where) >= 2
    assert where["城市"].nunique() >= 2
    assert list(when["第几跳"]) == list(where["第几跳"])
    assert pd.to_datetime(when["结算时间"]).is_monotonic_increasing
    assert when["购药人"].str.fullmatch(r".\*\*").all()  # masked by default
    assert any(b.label.startswith("查看团伙") for b in at.button)


def test_period_hides_hops_outside_it(app: Callable[..., AppTest], resale_code: str,
                                      detected: Detected) -> None:
    at = app(page="chains", code=resale_code)
    times = pd.to_datetime(_table(at, "结算时间")["结算时间"])
    cut = times.iloc[0].date().isoformat()
    narrow = app(page="chains", code=resale_code, to=cut)
    no_exception(narrow)
    shown = _table(narrow, "结算时间")
    assert len(shown) == 1
    assert any("共" in c.value and "跳" in c.value for c in narrow.caption)


def test_ring_button_opens_the_ring_page(app: Callable[..., AppTest], resale_code: str) -> None:
    at = app(page="chains", code=resale_code, lang="zh")
    button = next(b for b in at.button if b.label.startswith("查看团伙"))
    ring_id = button.label.split()[1].split("（")[0]
    button.click().run()
    no_exception(at)
    assert at.query_params["ring"] == ring_id
    assert any(ring_id in title.value for title in at.title)


def test_leadership_sees_masked_buyers_and_no_toggle(app: Callable[..., AppTest],
                                                     resale_code: str) -> None:
    at = app(user="li", page="chains", code=resale_code)
    no_exception(at)
    assert not at.toggle
    assert _table(at, "结算时间")["购药人"].str.fullmatch(r".\*\*").all()


def test_unknown_code_warns(app: Callable[..., AppTest]) -> None:
    at = app(page="chains", code="00000000000000000000")
    no_exception(at)
    assert at.title[0].value.startswith("回流药")
    assert at.warning


def test_english_switch(app: Callable[..., AppTest], resale_code: str) -> None:
    at = app(page="chains", lang="en")
    no_exception(at)
    assert at.title[0].value.startswith("Resale chains")
    assert set(_table(at, "Trace code")["Class"]) == {"Resale"}
    chain = app(page="chains", lang="en", code=resale_code)
    no_exception(chain)
    assert chain.title[0].value.startswith("Resale chain")
    assert [h.value for h in chain.header] == ["Where it went", "When",
                                              "The network around this chain"]
