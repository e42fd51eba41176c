"""The briefing fills its one A4 page: hand-made facts from nothing flagged to more than fits,
printed by the real Chromium, leave no blank band above the footer (in the PNG and in the PDF,
read back with poppler), never push the footer off the page, and keep it clear of the
content."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.brief.blank import MOST_BLANK, Blank, blank_above_footer
from tests.brief.handmade import crowded_facts, dense_facts, empty_facts, handmade_facts
from yibao.brief.facts import BriefFacts
from yibao.brief.page import brief_html
from yibao.brief.render import PNG_SIZE, render_pdf_and_png
from yibao.brief.scope import Lang
from yibao.settings import Settings

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Settings.from_env({}).chromium_binary or not shutil.which("pdftoppm"),
                       reason="needs Debian's chromium and poppler-utils (scripts/test.sh)"),
]

def _print(facts: BriefFacts, lang: Lang, folder: Path) -> tuple[Blank, Blank, str]:
    """The blank above the footer in the PNG and in the PDF, and the PDF's text."""
    page = folder / "brief.html"
    page.write_text(brief_html(facts, lang=lang), encoding="utf-8")
    pdf, png = folder / "brief.pdf", folder / "brief.png"
    render_pdf_and_png(page, pdf, png, chromium=Settings.from_env({}).chromium_binary)
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    assert "Pages:           1\n" in info, info
    subprocess.run(["pdftoppm", "-r", "150", "-aa", "no", "-aaVector", "no", "-png",
                    "-singlefile", str(pdf), str(folder / "pdf")], check=True)
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    from PIL import Image

    assert Image.open(png).size == PNG_SIZE
    return blank_above_footer(png), blank_above_footer(folder / "pdf.png"), "".join(text.split())


@pytest.mark.parametrize(("make", "lang"), [
    pytest.param(handmade_facts, "zh", id="one-ring-zh"),
    pytest.param(dense_facts, "en", id="dense-en"),
    pytest.param(crowded_facts, "en", id="crowded-en"),  # shrunk to fit (zoom 0.96), then filled
    pytest.param(empty_facts, "zh", id="nothing-flagged-zh"),
])
def test_the_page_is_full_down_to_the_footer(make: Callable[[], BriefFacts], lang: Lang,
                                              tmp_path: Path) -> None:
    png, pdf, text = _print(make(), lang, tmp_path)
    assert png.share < MOST_BLANK, f"{png.mm:.0f} mm blank above the footer in the PNG"
    assert pdf.share < MOST_BLANK, f"{pdf.mm:.0f} mm blank above the footer in the PDF"
    # printing lays text out a little wider than the screen: the footer still has room
    assert pdf.mm > 0.5, f"the footer touches the content in the PDF ({pdf})"
    last = "不列姓名、证件号码和联系电话" if lang == "zh" else "nonames,IDorphonenumbers"
    assert last in text


def test_a_full_statistics_table_replaces_its_others_row_when_there_is_room(
        tmp_path: Path) -> None:
    _, _, text = _print(handmade_facts(), "zh", tmp_path)
    assert "其他（" not in text
    for name in ("药品追溯码重复结算", "同日多家药店购药"):  # the 8th and 9th type
        assert name in text
