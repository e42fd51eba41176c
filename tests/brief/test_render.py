"""Finding Chromium (``YIBAO_CHROMIUM``, else ``PATH``) and what happens when it is missing,
fails or hangs: a :class:`~yibao.errors.BriefError` that says what to do, and no output file.
The failing and hanging "browsers" are tiny shell scripts standing in for the external program.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from yibao.brief.render import PNG_SIZE, chromium_command, render_pdf_and_png
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


def test_the_command_prints_or_screenshots_at_a4(tmp_path: Path) -> None:
    html = tmp_path / "p.html"
    pdf = chromium_command(Path("/usr/bin/chromium"), html, tmp_path / "prof", pdf=tmp_path / "a")
    assert "--headless" in pdf
    assert "--no-pdf-header-footer" in pdf
    assert f"--print-to-pdf={tmp_path / 'a'}" in pdf
    assert pdf[-1] == html.resolve().as_uri()
    png = chromium_command(Path("/usr/bin/chromium"), html, tmp_path / "prof", png=tmp_path / "b")
    assert "--window-size=794,1123" in png
    assert "--hide-scrollbars" in png
    scale = float(next(a for a in png if a.startswith("--force-device")).split("=")[1])
    assert round(794 * scale) == PNG_SIZE[0]
    assert round(1123 * scale) == PNG_SIZE[1]
    with pytest.raises(ValueError, match="exactly one"):
        chromium_command(Path("c"), html, tmp_path)


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
    with pytest.raises(BriefError, match=r"did not finish the PDF within 1 s"):
        render_pdf_and_png(tmp_path / "p.html", tmp_path / "a.pdf", tmp_path / "a.png",
                           chromium=fake, timeout=1.0)
    assert not (tmp_path / "a.pdf").exists()
