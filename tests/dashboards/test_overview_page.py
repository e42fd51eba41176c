"""总览: renders on the detected store, the period and drill-down change what is shown."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from graph.figures import flagged_rings
from loaders.store import open_store
from tests.dashboards.conftest import Workbench, no_exception
from tests.detected import busiest_flagged_city


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_overview_renders_headline_and_map(app: Callable[..., AppTest]) -> None:
    at = app()
    no_exception(at)
    assert at.title[0].value.startswith("总览")
    assert int(_metric(at, "可疑团伙").replace(",", "")) > 0
    assert len(at.get("plotly_chart")) >= 2


def test_period_filter_changes_the_figures(app: Callable[..., AppTest]) -> None:
    whole = app()
    narrow = app(**{"from": "2024-03-01", "to": "2024-03-31"})
    no_exception(narrow)
    a = int(_metric(whole, "结算笔数").replace(",", ""))
    b = int(_metric(narrow, "结算笔数").replace(",", ""))
    assert 0 < b < a / 6


def test_drill_down_to_a_city_shows_its_counties(app: Callable[..., AppTest]) -> None:
    at = app(city="340100")
    no_exception(at)
    assert any("合肥市" in s.value for s in at.subheader)
    table = at.dataframe[0].value
    assert table["区划代码"].astype(str).str.startswith("3401").all()


def test_english_switch(app: Callable[..., AppTest]) -> None:
    at = app(lang="en")
    no_exception(at)
    assert at.title[0].value.startswith("Overview")


def test_the_headline_and_patterns_follow_the_drill_down(app: Callable[..., AppTest],
                                                          workbench: Workbench) -> None:
    """Drilling down to a city changes the headline to that city's figures (one definition,
    graph.figures) and the pattern chart to its rings."""
    with open_store(workbench.db, read_only=True) as store:
        city = busiest_flagged_city(store.con)
        first, last = store.con.execute("SELECT min(setl_time)::DATE, max(setl_time)::DATE "
                                        "FROM settlements").fetchone()
        rings = flagged_rings(store.con, first, last, city[:4])
        everywhere = flagged_rings(store.con, first, last)
    whole, drilled = app(), app(city=city)
    no_exception(drilled)
    assert int(_metric(drilled, "可疑团伙").replace(",", "")) == rings.rings
    assert int(_metric(whole, "可疑团伙").replace(",", "")) == everywhere.rings
    assert rings.rings < everywhere.rings
    assert _metric(drilled, "涉嫌违规基金（万元）") != _metric(whole, "涉嫌违规基金（万元）")
