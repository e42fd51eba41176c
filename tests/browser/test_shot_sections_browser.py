"""截图模式's PNGs cut only at section boundaries: :func:`dashboards.capture.take_screens` is driven
on the served workbench (the overview, the largest ring's page and the cross-region page, in
Chinese and English), and before each screen is taken the page is looked at as the picture
will show it.

On every screen: no heading starts in the screen's last 5 %; every heading, paragraph, list
item, metric, table and chart shown lies wholly between the title band and the source line
(nothing cut at either edge). Across the screens: nothing but a section's heading (repeated
above the rest of a split section) shows twice, and everything the page shows is on some
screen.

The screens land in ``build/screenshots/shot_sections_<page>_<lang>_<n>.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from dashboards.capture import MAX_SCREENS, SHOT_MARK, SLIDE, take_screens
from dashboards.sessions import COOKIE
from tests.browser.conftest import SCREENSHOTS, Server, new_tab
from tests.detected import Detected

pytestmark = pytest.mark.browser

# Every unit of content in the main area (not the title band or the source line): its id
# (stamped on first sight, so the same element is recognised on every screen), whether the
# page lays it out at all (an inactive tab's content is not), whether it shows on this
# screen, and where.
_UNITS_JS = """
([mark]) => {
  const band = document.getElementById(mark).getBoundingClientRect().bottom;
  const source = document.querySelector('.yibao-shot-source').getBoundingClientRect().top;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  let next = Number(document.body.dataset.probeNext || 0);
  const units = [];
  const selector = 'h1, h2, h3, p, li, [data-testid="stMetric"], [data-testid="stDataFrame"], '
    + '[data-testid="stPlotlyChart"], [data-testid="stImage"]';
  for (const el of main.querySelectorAll(selector)) {
    if (el.closest('#' + mark) || el.closest('.yibao-shot-source')) continue;
    if (!el.dataset.probe) el.dataset.probe = String(next++);
    const r = el.getBoundingClientRect();
    const laidOut = el.checkVisibility() && r.width >= 1 && r.height >= 1;
    const shown = laidOut && el.checkVisibility({visibilityProperty: true, opacityProperty: true})
      && r.bottom > band + 1 && r.top < source - 1;
    units.push({id: el.dataset.probe, tag: el.tagName.toLowerCase(),
                text: (el.textContent || '').trim().slice(0, 40), laid_out: laidOut, shown,
                top: r.top, bottom: r.bottom});
  }
  document.body.dataset.probeNext = String(next);
  return {band, source, height: window.innerHeight, units};
}
"""

HEADINGS = ("h1", "h2", "h3")


@dataclass
class Screens:
    """What each screen showed, as :data:`_UNITS_JS` saw it."""

    seen: list[dict[str, Any]] = field(default_factory=list)

    def look(self, page: Any) -> None:
        self.seen.append(page.evaluate(_UNITS_JS, [SHOT_MARK]))


@pytest.fixture(scope="module")
def session_cookie(workbench_server: Server, chromium_browser: Any) -> Iterator[tuple[str, str]]:
    """The investigator's session cookie, signed in through the form."""
    context, tab = new_tab(chromium_browser, workbench_server, "/")
    tab.sign_in("wang", "")
    for _ in range(200):
        found = [c for c in context.cookies() if c["name"] == COOKIE]
        if found:
            break
        tab.page.wait_for_timeout(50)
    assert found, "the sign-in set no session cookie"
    yield COOKIE, str(found[0]["value"])
    context.close()


def _path(page: str, detected: Detected) -> str:
    if page == "rings":
        ring = max(detected.result.suspicious, key=lambda r: (len(r.persons), r.ring_id))
        return f"rings?ring={ring.ring_id}"
    return page


@pytest.mark.parametrize(("page", "lang"), [("overview", "zh"), ("rings", "zh"),
                                            ("rings", "en"), ("overview", "en"),
                                            ("cross_region", "zh")])
def test_screens_are_cut_at_section_boundaries(
        page: str, lang: str, workbench_server: Server, chromium_browser: Any,
        session_cookie: tuple[str, str], detected: Detected) -> None:
    path = _path(page, detected)
    sep = "&" if "?" in path else "?"
    url = f"{workbench_server.url}/{path}{sep}lang={lang}&shot=capture"
    screens = Screens()
    pngs = take_screens(chromium_browser, url, cookie=session_cookie, on_screen=screens.look)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for n, png in enumerate(pngs, start=1):
        (SCREENSHOTS / f"shot_sections_{page}_{lang}_{n}.png").write_bytes(png)
    assert len(screens.seen) == len(pngs) >= 1

    problems: list[str] = []
    on_screens: dict[str, list[int]] = {}
    laid_out: dict[str, str] = {}
    for n, seen in enumerate(screens.seen, start=1):
        band, source, height = seen["band"], seen["source"], seen["height"]
        assert height == SLIDE[1]
        for unit in seen["units"]:
            label = f"{unit['tag']} {unit['text']!r}"
            if unit["laid_out"]:
                laid_out[unit["id"]] = label
            if not unit["shown"]:
                continue
            if unit["tag"] in HEADINGS and unit["top"] >= 0.95 * height:
                problems.append(f"screen {n}: {label} starts in the last 5% "
                                f"(at {unit['top']:.0f} of {height} px)")
            if unit["top"] < band - 1 or unit["bottom"] > source + 1:
                problems.append(f"screen {n}: {label} is cut ({unit['top']:.0f}-"
                                f"{unit['bottom']:.0f} px, content between {band:.0f} and "
                                f"{source:.0f})")
            else:
                on_screens.setdefault(unit["id"], []).append(n)
    for unit_id, where in on_screens.items():
        label = laid_out.get(unit_id, unit_id)
        if len(where) > 1 and not label.startswith(HEADINGS):
            problems.append(f"{label} shows on screens {where}")
    if len(pngs) < MAX_SCREENS:  # past the most taken, the rest of a long page is left out
        missing = [label for unit_id, label in laid_out.items() if unit_id not in on_screens]
        problems += [f"{label} is on no screen" for label in missing]
    assert not problems, f"{len(pngs)} screens of {path}:\n" + "\n".join(problems)
