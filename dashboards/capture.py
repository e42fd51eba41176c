"""A PNG of a workbench view, taken by the machine's headless Chromium (the screenshot mode's
download button).

:func:`capture_screens` opens the view's URL on the workbench's own server in a fresh browser,
signed in with a short-lived token in the session cookie, waits until the page has finished
running and every table, chart and map has drawn, and returns the page as 16:9 PNGs, one per
screen (:data:`SLIDE` CSS pixels at :data:`SCALE`, so 1920 × 1080), each with the title band
and the source line. Playwright drives Debian's
``chromium`` (``YIBAO_CHROMIUM`` or found on ``PATH``); no browser is downloaded and nothing is
fetched from the internet.

The JavaScript checks below are also what the browser tests and the app benchmark wait on.
No Streamlit here.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from yibao.errors import CaptureError

__all__ = ["LAUNCH_ARGS", "MAPS_IDLE_JS", "MAX_SCREENS", "RENDERED_JS", "SCALE", "SHOT_MARK",
           "SLIDE", "capture_screens"]

SLIDE = (1280, 720)
"""The captured view in CSS pixels: 16:9, the shape of a slide."""

SCALE = 1.5
"""Device pixels per CSS pixel: the PNG is 1920 × 1080."""

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
"""Chromium's flags: headless on a server with no GPU, no calls home."""

# True once an h1 containing ``heading`` shows, the app is not running, no element is stale or
# still a loading skeleton, every visible table has its canvas and every plotly chart has drawn
# (map subplots: maplibre loaded).
RENDERED_JS = """
(heading) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (![...document.querySelectorAll('h1')].some((h) => h.textContent.includes(heading))) {
    return false;
  }
  if (document.querySelector('[data-stale="true"]')) return false;
  // lazily loaded elements (charts, tables) show a skeleton until their code has arrived
  if (document.querySelector('[data-testid^="stSkeleton"], [data-testid="stAppSkeleton"]')) {
    return false;
  }
  for (const table of document.querySelectorAll('[data-testid="stDataFrame"]')) {
    // tables in an inactive tab are hidden and draw nothing
    if (table.checkVisibility() && !table.querySelector('canvas')) return false;
  }
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    const el = chart.querySelector('.js-plotly-plot');
    if (!el || !el._fullLayout) return false;
    for (const id of (el._fullLayout._subplots.map || [])) {
      const sub = el._fullLayout[id] && el._fullLayout[id]._subplot;
      if (!sub || !sub.map || !sub.map.loaded()) return false;
    }
  }
  return true;
}
"""

# Resolves once every map has repainted and has nothing left to do (maplibre's ``idle``): a
# viewport resize makes plotly redraw its maps, and a screenshot taken before shows them blank.
MAPS_IDLE_JS = """
async () => {
  const maps = [];
  for (const el of document.querySelectorAll('.js-plotly-plot')) {
    const layout = el._fullLayout;
    for (const id of ((layout && layout._subplots.map) || [])) {
      const sub = layout[id] && layout[id]._subplot;
      if (sub && sub.map) maps.push(sub.map);
    }
  }
  await Promise.all(maps.map((m) => new Promise((resolve) => {
    const timer = setTimeout(resolve, 10000);
    m.once('idle', () => { clearTimeout(timer); resolve(); });
    m.triggerRepaint();
  })));
  return maps.length;
}
"""

SHOT_MARK = "yibao-shot-band"
"""The id of the screenshot mode's title band: drawn only for a signed-in user, so a capture
that landed on the sign-in form is refused rather than saved."""

_SETTLE_MS = 400  # plotly's resize handler is debounced; fonts and SVG finish painting

MAX_SCREENS = 8
"""At most this many 16:9 screens are taken of one view."""

# The scroll positions of the page's screens: the main area scrolls under the fixed title band
# and source line by at most the height left between them, so no part of the page is missed;
# a screen starts at the last section heading that fits in that step (when it is past a third
# of it), so sections are not cut where a heading could start them.
_SCREENS_JS = """
([most, mark]) => {
  const main = document.querySelector('[data-testid="stMain"]');
  const band = document.getElementById(mark);
  const source = document.querySelector('.yibao-shot-source');
  const top = band ? band.getBoundingClientRect().bottom : 0;
  const bottom = source ? source.getBoundingClientRect().top : window.innerHeight;
  const step = Math.max(bottom - top - 8, 100);
  const last = Math.max(main.scrollHeight - main.clientHeight, 0);
  const heads = [...document.querySelectorAll('[data-testid="stMain"] h2')]
    .map((h) => h.getBoundingClientRect().top + main.scrollTop - top - 6)
    .sort((a, b) => a - b);
  const out = [0];
  while (out.length < most && out[out.length - 1] < last) {
    const at = out[out.length - 1];
    const fits = heads.filter((y) => y > at + step / 3 && y <= at + step);
    out.push(Math.min(fits.length ? fits[fits.length - 1] : at + step, last));
  }
  return out;
}
"""

_SCROLL_JS = """
(y) => { document.querySelector('[data-testid="stMain"]').scrollTop = y; }
"""


def capture_screens(url: str, *, cookie: tuple[str, str], chromium: Path | None,
                    timeout: float = 60.0, most: int = MAX_SCREENS) -> list[bytes]:
    """PNGs of the view at ``url`` (the workbench's screenshot mode), signed in with the
    session ``cookie`` (name, token): :data:`SLIDE` at :data:`SCALE` each, the first from the
    top of the page, the next ones scrolled on under the fixed title band and source line, at
    most ``most``.

    Raises :class:`~yibao.errors.CaptureError` when Playwright or Chromium is missing, or the
    page did not finish drawing within ``timeout`` seconds (the message says which)."""
    if chromium is None:
        raise CaptureError("Chromium was not found: install it (`sudo apt-get install chromium "
                           "fonts-noto-cjk`) or set YIBAO_CHROMIUM to its path")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise CaptureError("Playwright is not installed: `pip install playwright` (the "
                           "machine's Chromium is used; no browser download)") from exc
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    width, height = SLIDE
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS)
            try:
                context = browser.new_context(viewport={"width": width, "height": height},
                                              device_scale_factor=SCALE, locale="zh-CN")
                context.add_cookies([{"name": cookie[0], "value": cookie[1], "url": origin,
                                      "sameSite": "Strict"}])
                page = context.new_page()
                page.goto(url, timeout=timeout * 1000)
                page.wait_for_selector(f"#{SHOT_MARK}", timeout=timeout * 1000)
                page.wait_for_function(RENDERED_JS, arg="", polling="raf",
                                       timeout=timeout * 1000)
                page.evaluate(MAPS_IDLE_JS)
                page.wait_for_timeout(_SETTLE_MS)
                screens = []
                for y in page.evaluate(_SCREENS_JS, [most, SHOT_MARK]):
                    page.evaluate(_SCROLL_JS, y)
                    page.wait_for_timeout(150)
                    screens.append(bytes(page.screenshot()))
                return screens
            finally:
                browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CaptureError(f"the view {url} could not be captured: {first} (is Chromium "
                           f"{chromium} working? Try `{chromium} --headless --version`)") from exc
