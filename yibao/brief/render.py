"""HTML to PDF and PNG with the machine's Chromium, headless, called directly (no driver).

``chromium --headless --print-to-pdf`` prints the page with its CSS page size (A4 in
:mod:`yibao.brief.page`); ``--screenshot`` takes the same page as a PNG at A4 proportions
(:data:`PNG_SIZE`). ``--virtual-time-budget`` lets the page's scripts (plotly drawing the trend
chart) run to the end before the capture, and ``--no-pdf-header-footer`` leaves out the URL and
date Chromium would print in the margins. Both captures run at once, each with its own throwaway
profile, and each under a timeout; any failure is a :class:`~yibao.errors.BriefError` quoting
Chromium's last words.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from yibao.errors import BriefError

__all__ = ["A4_CSS_PX", "PNG_SIZE", "Rendered", "chromium_command", "render_pdf_and_png"]

log = logging.getLogger(__name__)

A4_CSS_PX = (794, 1123)
"""A4 (210 x 297 mm) in CSS pixels (96 per inch), the screenshot's window."""

PNG_SIZE = (1240, 1754)
"""The PNG in pixels: A4 at 150 dpi (the window scaled by the device scale factor)."""

VIRTUAL_TIME_MS = 15_000
"""Virtual time the page gets to run its scripts before the capture."""

TIMEOUT_S = 120.0
"""Seconds one Chromium run may take before it is stopped."""

INSTALL_HINT = ("install Debian's chromium (apt-get install chromium) or set YIBAO_CHROMIUM to "
                "the Chromium or Chrome binary")


@dataclass(frozen=True)
class Rendered:
    """The files written and the seconds each Chromium run took."""

    pdf: Path
    png: Path
    pdf_seconds: float
    png_seconds: float


def chromium_command(binary: Path, html: Path, profile: Path, *, pdf: Path | None = None,
                     png: Path | None = None) -> list[str]:
    """The Chromium command line that prints ``html`` to ``pdf`` or screenshots it to ``png``
    (exactly one of them), with ``profile`` as its user-data directory."""
    if (pdf is None) == (png is None):
        raise ValueError("give exactly one of pdf= and png=")
    command = [str(binary), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
               "--disable-extensions", "--hide-scrollbars", "--mute-audio",
               f"--user-data-dir={profile}", f"--virtual-time-budget={VIRTUAL_TIME_MS}"]
    if pdf is not None:
        command += ["--no-pdf-header-footer", f"--print-to-pdf={pdf}"]
    else:
        scale = PNG_SIZE[0] / A4_CSS_PX[0]
        command += [f"--screenshot={png}", f"--window-size={A4_CSS_PX[0]},{A4_CSS_PX[1]}",
                    f"--force-device-scale-factor={scale:.6f}"]
    command.append(html.resolve().as_uri())
    return command


def _last_words(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return " | ".join(lines[-3:]) or "(no output)"


def _start(command: list[str]) -> subprocess.Popen[bytes]:
    try:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    except OSError as exc:
        raise BriefError(f"cannot run Chromium {command[0]!r} ({exc}): {INSTALL_HINT}") from exc


def _finish(proc: subprocess.Popen[bytes], out: Path, started: float, timeout: float,
            what: str) -> float:
    try:
        _, stderr = proc.communicate(timeout=max(0.1, timeout - (time.monotonic() - started)))
    except subprocess.TimeoutExpired as exc:
        proc.kill()
        proc.communicate()
        raise BriefError(f"Chromium did not finish the {what} within {timeout:.0f} s: close "
                         "other Chromium windows, or run again on a less busy machine") from exc
    seconds = time.monotonic() - started
    if proc.returncode != 0 or not out.exists() or out.stat().st_size == 0:
        raise BriefError(f"Chromium could not write the {what} {out} (exit code "
                         f"{proc.returncode}): {_last_words(stderr)}; check that the folder is "
                         f"writable, or {INSTALL_HINT}")
    log.info("chromium wrote %s in %.2f s", out, seconds)
    return seconds


def render_pdf_and_png(html: Path, pdf: Path, png: Path, *, chromium: Path | None,
                       timeout: float = TIMEOUT_S) -> Rendered:
    """Print ``html`` to ``pdf`` and screenshot it to ``png`` with the Chromium binary
    ``chromium`` (``None``: none was found, a :class:`~yibao.errors.BriefError` saying how to
    install one). Existing files are replaced only when Chromium succeeds."""
    if chromium is None:
        raise BriefError(f"no Chromium found to print the briefing: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory(prefix="yibao-brief-") as tmp:
        work = Path(tmp)
        tmp_pdf, tmp_png = work / "brief.pdf", work / "brief.png"
        started = time.monotonic()
        procs = [_start(chromium_command(chromium, html, work / "profile-pdf", pdf=tmp_pdf))]
        try:
            procs.append(_start(chromium_command(chromium, html, work / "profile-png",
                                                 png=tmp_png)))
            pdf_s = _finish(procs[0], tmp_pdf, started, timeout, "PDF")
            png_s = _finish(procs[1], tmp_png, started, timeout, "PNG")
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        pdf.parent.mkdir(parents=True, exist_ok=True)
        png.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(tmp_pdf, pdf)
        shutil.move(tmp_png, png)
    return Rendered(pdf, png, pdf_s, png_s)
