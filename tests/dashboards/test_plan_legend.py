"""The plan map's legend sits outside the map (inside, any corner covers cities: the
north-west one covered the western cities of Anhui), with routes and without.
``tests/browser/test_plan_legend_browser.py`` checks the drawn map in a browser."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import pytest

from dashboards.figures.plan import plan_map

CANDIDATES = pd.DataFrame({
    "fixmedins_code": ["H1", "H2", "H3", "H4"],
    "fixmedins_name": ["阜阳市人民医院", "合肥药房", "南京医院", "杭州药房"],
    "lon": [115.81, 117.23, 118.80, 120.16], "lat": [32.89, 31.82, 32.06, 30.27],
})
ROUTES = pd.DataFrame({
    "team_id": [1, 1, 2], "stop": [1, 2, 1], "week": [1, 2, 1],
    "fixmedins_code": ["H1", "H2", "H3"],
    "fixmedins_name": ["阜阳市人民医院", "合肥药房", "南京医院"],
    "lon": [115.81, 117.23, 118.80], "lat": [32.89, 31.82, 32.06],
    "value": [10.0, 5.0, 8.0], "amount": [1000.0, 500.0, 800.0],
})


def _legend_outside_the_map(fig: go.Figure) -> bool:
    """Whether the legend is anchored beyond one edge of the plot area (paper 0..1)."""
    legend = fig.layout.legend
    x, y = legend.x, legend.y
    return bool((y is not None and y <= 0 and legend.yanchor == "top")
                or (y is not None and y >= 1 and legend.yanchor == "bottom")
                or (x is not None and x >= 1 and legend.xanchor == "left")
                or (x is not None and x <= 0 and legend.xanchor == "right"))


@pytest.mark.parametrize("routes", [ROUTES, ROUTES.iloc[0:0]], ids=["routes", "no routes"])
def test_the_plan_legend_is_outside_the_map(routes: pd.DataFrame) -> None:
    fig = plan_map(routes, CANDIDATES, team_names={1: "第1组", 2: "第2组"},
                   hover={"week": "周", "value": "风险加权", "amount": "疑点金额"},
                   unvisited_name="未安排")
    assert any(trace.showlegend is not False and trace.name for trace in fig.data)
    assert _legend_outside_the_map(fig), f"the legend is on the map: {fig.layout.legend}"
