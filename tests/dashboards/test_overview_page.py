"""总览: renders on the detected store, the period and drill-down change what is shown."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import no_exception


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
    assert table.iloc[:, 0].astype(str).str.startswith("3401").all()


def test_english_switch(app: Callable[..., AppTest]) -> None:
    at = app(lang="en")
    no_exception(at)
    assert at.title[0].value.startswith("Overview")
