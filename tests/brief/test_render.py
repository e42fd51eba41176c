"""Finding Chromium (``YIBAO_CHROMIUM``, else ``PATH``) and what happens when it is missing,
fails, hangs or the page never gets ready: a :class:`~yibao.errors.BriefError` that says what
to do, and no output file. The failing and hanging "browsers" are tiny shell scripts standing
in for the external program that Playwright starts.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from yibao.brief.render import A4_CSS_PX, PNG_SIZE, render_pdf_and_png
from yibao.errors import BriefError, YibaoError
from yibao.settings import Settings


def _script(path: Path, body: str) -> Path:
    path.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_chromium_comes_from_the_setting_then_path(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _script(tmp_path / "my-chrome", "exit 0")
    assert Settings.from_env({"YIBAO_CHROMIUM": str(fake)}).chromium_binary == fake
    assert Settings.from_env({"YIBAO_CHROMIUM": str(tmp_path / "none")}).chromium_binary is None
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    found = _script(bin_dir / "chromium-browser", "exit 0")
    monkeypatch.setenv("PATH", str(bin_dir))
    assert Settings.from_env({}).chromium_binary == found
    assert Settings.from_env({"YIBAO_CHROMIUM": "chromium-browser"}).chromium_binary == found
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert Settings.from_env({}).chromium_binary is None


def test_the_window_is_a4_and_the_png_a4_at_150_dpi() -> None:
    assert (round(210 / 25.4 * 96), round(297 / 25.4 * 96)) == A4_CSS_PX
    assert (round(210 / 25.4 * 150), round(297 / 25.4 * 150)) == PNG_SIZE
    scale = PNG_SIZE[0] / A4_CSS_PX[0]
    assert round(A4_CSS_PX[1] * scale) == PNG_SIZE[1]


def test_no_chromium_says_how_to_install_one(tmp_path: Path) -> None:
    with pytest.raises(BriefError, match=r"no Chromium found.*apt-get install chromium.*"
                                         r"YIBAO_CHROMIUM") as info:
        render_pdf_and_png(tmp_path / "p.html", tmp_path / "a.pdf", tmp_path / "a.png",
                           chromium=None)
    assert isinstance(info.value, YibaoError)


def test_a_failing_chromium_is_reported_with_its_last_words(tmp_path: Path) -> None:
    fake = _script(tmp_path / "chromium", 'echo "cannot open display" >&2; exit 3')
    (tmp_path / "p.html").write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(BriefError, match=r"exit code 3\): cannot open display"):
        render_pdf_and_png(tmp_path / "p.html", tmp_path / "a.pdf", tmp_path / "a.png",
                           chromium=fake)
    assert not (tmp_path / "a.pdf").exists()
    assert not (tmp_path / "a.png").exists()


@pytest.mark.skipif(os.name != "posix", reason="shell script stand-in")
def test_a_hanging_chromium_is_stopped_at_the_timeout(tmp_path: Path) -> None:
    fake = _script(tmp_path / "chromium", "exec sleep 30")
    (tmp_path / "p.html").write_text("<p>x</p>", encoding="utf-8")
    with pytest.raises(BriefError, match=r"did not finish the briefing within 1 s"):
        render_pdf_and_png(tmp_path / "p.html", tmp_path / "a.pdf", tmp_path / "a.png",
                           chromium=fake, timeout=1.0)
    assert not (tmp_path / "a.pdf").exists()


@pytest.mark.browser
@pytest.mark.skipif(Settings.from_env({}).chromium_binary is None, reason="needs chromium")
def test_a_page_that_never_gets_ready_times_out(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text("<p>no brief.js here</p>", encoding="utf-8")
    with pytest.raises(BriefError, match=r"did not finish the briefing within 5 s.*less busy"):
        render_pdf_and_png(tmp_path / "p.html", tmp_path / "a.pdf", tmp_path / "a.png",
                           chromium=Settings.from_env({}).chromium_binary, timeout=5.0)
    assert not (tmp_path / "a.pdf").exists()
