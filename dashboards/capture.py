"""A PNG of a workbench view, taken by the machine's headless Chromium (the screenshot mode's
download button).

:func:`capture_screens` opens the view's URL on the workbench's own server in a fresh browser,
signed in with a short-lived token in the session cookie, waits until the page has finished
running and every table, chart and map has drawn, and returns the page as 16:9 PNGs, one per
screen (:data:`SLIDE` CSS pixels at :data:`SCALE`, so 1920 × 1080), each with the title band
and the source line. The page is cut only at section boundaries (:mod:`dashboards.screen_plan`
decides which blocks go on which screen; here they are moved there, shrunk where needed, and
the rest hidden). Playwright drives Debian's
``chromium`` (``YIBAO_CHROMIUM`` or found on ``PATH``); no browser is downloaded and nothing is
fetched from the internet.

The JavaScript checks below are also what the browser tests and the app benchmark wait on.
No Streamlit here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from dashboards.screen_plan import Block, plan_screens
from yibao.errors import CaptureError

__all__ = ["LAUNCH_ARGS", "MAPS_IDLE_JS", "MAX_SCREENS", "RENDERED_JS", "SCALE", "SHOT_MARK",
           "SLIDE", "capture_screens", "take_screens"]

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

MAX_SCREENS = 10
"""At most this many 16:9 screens are taken of one view."""

_MARGIN = 8.0
"""CSS pixels kept clear under the title band and above the source line."""

_CONTINUED = {"zh": "（续）", "en": " (continued)"}
"""What a section's heading repeated on the next screen says after it."""

# The page's top-level blocks, measured with the main area scrolled to its top and nothing
# moved: index among the main column's children, top and bottom (CSS pixels from the page's
# top), whether the block is a heading (starts with an h1-h3), and the room between the fixed
# title band and source line. The fixed band and source line, hidden elements and elements of
# no height are left out; the measures are kept on the window for _PLACE_JS.
_BLOCKS_JS = """
([mark, margin]) => {
  const main = document.querySelector('[data-testid="stMain"]');
  main.scrollTop = 0;
  const column = document.querySelector(
    '[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"]');
  const children = [...column.children];
  for (const el of children) {
    el.style.transform = '';
    el.classList.remove('yibao-shot-hidden');
  }
  const box = column.getBoundingClientRect();
  const band = document.getElementById(mark);
  const source = document.querySelector('.yibao-shot-source');
  const top = (band ? band.getBoundingClientRect().bottom : 0) + margin;
  const bottom = (source ? source.getBoundingClientRect().top : window.innerHeight) - margin;
  const blocks = [];
  children.forEach((el, index) => {
    if (el.querySelector('#' + mark + ', .yibao-shot-source')) return;
    const r = el.getBoundingClientRect();
    if (r.height < 1 || !el.checkVisibility()) return;
    const h = el.querySelector('h1, h2, h3');
    const heading = el.matches('[data-testid="stElementContainer"]') && !!h
      && h.checkVisibility() && h.getBoundingClientRect().top - r.top < 16;
    blocks.push({index, left: r.left, top: r.top, bottom: r.bottom, heading});
  });
  window.__yibaoShot = {blocks, top, left: box.left, width: box.width};
  return {blocks: blocks.map(({index, top, bottom, heading}) => ({index, top, bottom, heading})),
          room: bottom - top};
}
"""

# One screen: the blocks of ``pieces`` ({index, y, continued}) moved under the title band at
# ``y`` (times ``scale``) and shrunk by ``scale`` about their top left, centred across the
# page, every other block hidden. Transforms and visibility change no layout, so nothing is
# drawn again (tables, charts and maps keep their size). A repeated heading says ``more``.
_PLACE_JS = """
([pieces, scale, more]) => {
  const shot = window.__yibaoShot;
  const column = document.querySelector(
    '[data-testid="stMainBlockContainer"] > [data-testid="stVerticalBlock"]');
  const children = [...column.children];
  if (!document.getElementById('yibao-shot-continued')) {
    const style = document.createElement('style');
    style.id = 'yibao-shot-continued';
    // some elements set their own visibility: hiding a block hides all inside it
    style.textContent = '.yibao-shot-hidden, .yibao-shot-hidden * {'
      + ' visibility: hidden !important; }'
      + ' [data-yibao-continued]::after { content: attr(data-yibao-continued);'
      + ' font-size: 0.6em; font-weight: 400; color: #666; }';
    document.head.appendChild(style);
  }
  const placed = new Map(pieces.map((p) => [p.index, p]));
  const dx = shot.width * (1 - scale) / 2;
  for (const b of shot.blocks) {
    const el = children[b.index];
    const piece = placed.get(b.index);
    const h = el.querySelector('h1, h2, h3');
    if (h) delete h.dataset.yibaoContinued;
    if (!piece) {
      el.classList.add('yibao-shot-hidden');
      el.style.transform = '';
      continue;
    }
    const x = shot.left + (b.left - shot.left) * scale + dx;
    const y = shot.top + piece.y * scale;
    el.classList.remove('yibao-shot-hidden');
    el.style.transformOrigin = '0 0';
    el.style.transform = `translate(${x - b.left}px, ${y - b.top}px) scale(${scale})`;
    if (piece.continued && h) h.dataset.yibaoContinued = more;
  }
}
"""


def _screens_of(page: Any, *, most: int, more: str,
                on_screen: Callable[[Any], None] | None) -> list[bytes]:
    """The screens of the drawn view in Playwright's ``page``: the page cut at section
    boundaries (:func:`dashboards.screen_plan.plan_screens`), each laid out, then taken."""
    measured = page.evaluate(_BLOCKS_JS, [SHOT_MARK, _MARGIN])
    blocks = [Block(int(b["index"]), float(b["top"]), float(b["bottom"]), bool(b["heading"]))
              for b in measured["blocks"]]
    screens = []
    for screen in plan_screens(blocks, max(float(measured["room"]), 100.0), most=most):
        pieces = [{"index": p.index, "y": p.y, "continued": p.continued} for p in screen.pieces]
        page.evaluate(_PLACE_JS, [pieces, screen.scale, more])
        page.evaluate(MAPS_IDLE_JS)
        page.wait_for_timeout(150)
        if on_screen is not None:
            on_screen(page)
        screens.append(bytes(page.screenshot()))
    return screens


def capture_screens(url: str, *, cookie: tuple[str, str], chromium: Path | None,
                    timeout: float = 60.0, most: int = MAX_SCREENS) -> list[bytes]:
    """PNGs of the view at ``url`` (the workbench's screenshot mode), signed in with the
    session ``cookie`` (name, token): :data:`SLIDE` at :data:`SCALE` each, under the fixed
    title band and above the source line, cut only at section boundaries (see
    :mod:`dashboards.screen_plan`), at most ``most``.

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
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS)
            try:
                return take_screens(browser, url, cookie=cookie, timeout=timeout, most=most)
            finally:
                browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CaptureError(f"the view {url} could not be captured: {first} (is Chromium "
                           f"{chromium} working? Try `{chromium} --headless --version`)") from exc


def take_screens(browser: Any, url: str, *, cookie: tuple[str, str], timeout: float = 60.0,
                 most: int = MAX_SCREENS, on_screen: Callable[[Any], None] | None = None
                 ) -> list[bytes]:
    """:func:`capture_screens` in a fresh context of Playwright's running ``browser``;
    ``on_screen(page)`` is called with each screen laid out, just before it is taken (the
    browser tests look at the page there). Playwright's errors are not translated."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    lang = parse_qs(urlsplit(url).query).get("lang", ["zh"])[0]
    width, height = SLIDE
    context = browser.new_context(viewport={"width": width, "height": height},
                                  device_scale_factor=SCALE, locale="zh-CN")
    try:
        context.add_cookies([{"name": cookie[0], "value": cookie[1], "url": origin,
                              "sameSite": "Strict"}])
        page = context.new_page()
        page.goto(url, timeout=timeout * 1000)
        page.wait_for_selector(f"#{SHOT_MARK}", timeout=timeout * 1000)
        page.wait_for_function(RENDERED_JS, arg="", polling="raf", timeout=timeout * 1000)
        page.evaluate(MAPS_IDLE_JS)
        page.wait_for_timeout(_SETTLE_MS)
        return _screens_of(page, most=most, more=_CONTINUED.get(lang, _CONTINUED["zh"]),
                           on_screen=on_screen)
    finally:
        context.close()
