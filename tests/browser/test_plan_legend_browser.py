"""The inspection plan's map legend covers none of the map: it lies outside the plot area, and
no city name and no institution marker lies under it (it used to sit in the map's north-west
corner, over the western cities)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser.conftest import Tab

pytestmark = pytest.mark.browser

# What of the plan map lies under its legend: the plot area (pixels), city names, markers.
_UNDER_LEGEND_JS = """
() => {
  const plot = document.querySelector('.st-key-plan_map .js-plotly-plot');
  if (!plot) return null;
  const legend = plot.querySelector('g.legend');
  if (!legend) return {legend: false, area: 0, names: [], markers: 0};
  const box = legend.getBoundingClientRect();
  const overlap = (r) => Math.max(0, Math.min(r.right, box.right) - Math.max(r.left, box.left))
    * Math.max(0, Math.min(r.bottom, box.bottom) - Math.max(r.top, box.top));
  const under = (el) => overlap(el.getBoundingClientRect()) > 0;
  return {
    legend: true,
    area: overlap(plot.querySelector('.draglayer .nsewdrag').getBoundingClientRect()),
    names: [...plot.querySelectorAll('.cartesianlayer g.textpoint text')]
      .filter(under).map((t) => t.textContent),
    markers: [...plot.querySelectorAll('.cartesianlayer path.point')].filter(under).length,
  };
}
"""


@pytest.mark.parametrize(("path", "heading"), [("/plan", "检查计划"),
                                               ("/plan?lang=en", "Inspection plan")])
def test_plan_legend_covers_no_city_and_no_institution(
        open_tab: Callable[..., Tab], path: str, heading: str) -> None:
    tab = open_tab(path, user="wang", heading=heading)
    under = tab.page.evaluate(_UNDER_LEGEND_JS)
    assert under is not None, "the plan page drew no map"
    assert under["legend"], "the plan map has no legend"
    assert under["area"] == 0, f"the legend covers {under['area']:.0f} px² of the map"
    assert under["names"] == [], f"the legend covers {under['names']}"
    assert under["markers"] == 0, f"the legend covers {under['markers']} institutions"
