"""The briefing's HTML to PDF and PNG, printed by the machine's Chromium driven by Playwright.

One headless browser (Debian's ``chromium``: ``YIBAO_CHROMIUM`` or found on ``PATH``; no
browser is downloaded) opens the page in an A4 window (:data:`A4_CSS_PX`), waits until the
page's script has fitted the content to the page and drawn the trend chart (``<html
data-brief-ready>``, see ``templates/brief.js``), takes the PNG (:data:`PNG_SIZE`, A4 at 150
dpi) and prints the PDF with the page's CSS page size (A4, no margins, no header or footer).
The workbench's view capture (:mod:`dashboards.capture`) drives the same browser the same way.
Any failure is a :class:`~yibao.errors.BriefError` that quotes Chromium's last words and says
what to do; the files are replaced only when both were written.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from yibao.errors import BriefError

__all__ = ["A4_CSS_PX", "LAUNCH_ARGS", "PNG_SIZE", "READY_JS", "Rendered",
           "render_pdf_and_png"]

log = logging.getLogger(__name__)

A4_CSS_PX = (794, 1123)
"""A4 (210 x 297 mm) in CSS pixels (96 per inch), the browser window."""

PNG_SIZE = (1240, 1754)
"""The PNG in pixels: A4 at 150 dpi (the window scaled by the device scale factor)."""

TIMEOUT_S = 120.0
"""Seconds the whole run (start Chromium, lay out, capture, print) may take."""

LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--disable-background-networking", "--disable-component-update",
               "--disable-sync"]
"""Chromium's flags: headless on a server with no GPU, no calls home."""

READY_JS = "() => document.documentElement.hasAttribute('data-brief-ready')"
"""True once the page has been fitted and its chart drawn (set by ``templates/brief.js``)."""

INSTALL_HINT = ("install Debian's chromium (apt-get install chromium) or set YIBAO_CHROMIUM to "
                "the Chromium or Chrome binary")


@dataclass(frozen=True)
class Rendered:
    """The files written and the seconds each took: ``png_seconds`` from starting the browser
    to the screenshot (laying the page out included), ``pdf_seconds`` the printing after it."""

    pdf: Path
    png: Path
    pdf_seconds: float
    png_seconds: float


def _last_words(message: str) -> str:
    """Chromium's own output and exit code from a Playwright error, else its first line."""
    said = re.findall(r"\[pid=\d+\]\[err\] (.+)", message)
    code = re.search(r"exitCode=(\d+)", message)
    words = " | ".join(line.strip() for line in said[-3:]) or (
        message.strip().splitlines()[0] if message.strip() else "(no output)")
    return f"(exit code {code[1]}): {words}" if code else f": {words}"


def render_pdf_and_png(html: Path, pdf: Path, png: Path, *, chromium: Path | None,
                       timeout: float = TIMEOUT_S) -> Rendered:
    """Print ``html`` to ``pdf`` and screenshot it to ``png`` with the Chromium binary
    ``chromium`` (``None``: none was found, a :class:`~yibao.errors.BriefError` saying how to
    install one), all within ``timeout`` seconds. Existing files are replaced only when both
    captures succeed.

    Playwright's sync API refuses to start in a thread with a running asyncio loop (a caller's
    own Playwright session, an async server), so the browser is driven from a thread of its
    own; errors come back unchanged."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="yibao-brief-render") as pool:
        return pool.submit(_render_pdf_and_png, html, pdf, png, chromium=chromium,
                           timeout=timeout).result()


def _render_pdf_and_png(html: Path, pdf: Path, png: Path, *, chromium: Path | None,
                        timeout: float) -> Rendered:
    if chromium is None:
        raise BriefError(f"no Chromium found to print the briefing: {INSTALL_HINT}")
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import TimeoutError as PlaywrightTimeout
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise BriefError("Playwright is not installed: `pip install playwright` (the machine's "
                         "Chromium is used; no browser download)") from exc
    started = time.monotonic()

    def left_ms() -> float:
        return max(100.0, (timeout - (time.monotonic() - started)) * 1000)

    with tempfile.TemporaryDirectory(prefix="yibao-brief-") as tmp:
        tmp_pdf, tmp_png = Path(tmp) / "brief.pdf", Path(tmp) / "brief.png"
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(chromium), args=LAUNCH_ARGS,
                                             timeout=left_ms())
                try:
                    page = browser.new_page(
                        viewport={"width": A4_CSS_PX[0], "height": A4_CSS_PX[1]},
                        device_scale_factor=PNG_SIZE[0] / A4_CSS_PX[0])
                    page.goto(html.resolve().as_uri(), timeout=left_ms())
                    page.wait_for_function(READY_JS, timeout=left_ms())
                    page.screenshot(path=str(tmp_png), timeout=left_ms())
                    printed = time.monotonic()
                    page.pdf(path=str(tmp_pdf), prefer_css_page_size=True, print_background=True)
                    done = time.monotonic()
                finally:
                    browser.close()
        except PlaywrightTimeout as exc:
            raise BriefError(f"Chromium did not finish the briefing within {timeout:.0f} s: "
                             "close other Chromium windows, or run again on a less busy "
                             "machine") from exc
        except PlaywrightError as exc:
            raise BriefError(f"Chromium could not print the briefing {html} "
                             f"{_last_words(str(exc))}; check that {chromium} runs "
                             f"(`{chromium} --headless --version`), or {INSTALL_HINT}") from exc
        pdf.parent.mkdir(parents=True, exist_ok=True)
        png.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(tmp_pdf, pdf)
        shutil.move(tmp_png, png)
    log.info("chromium wrote %s and %s in %.2f s", pdf, png, done - started)
    return Rendered(pdf, png, pdf_seconds=done - printed, png_seconds=printed - started)
