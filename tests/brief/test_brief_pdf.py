"""``yibao brief`` end to end on the detected store, printed by the real Chromium and read back
with poppler: one A4 page with the Chinese headings, period and region, fonts embedded, not
blank, filled down to the footer (:mod:`tests.brief.blank`), and no full ID number, phone
number, person number or name in the PDF text or in the HTML the PNG was made from. English on
request; a region changes the figures.

Needs Debian's ``chromium`` and ``poppler-utils`` (``scripts/test.sh`` installs them).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner, Result

from tests.brief.blank import MOST_BLANK, blank_above_footer
from tests.detected import Detected
from yibao.cli import cli
from yibao.leads.from_detection import leads_from_store
from yibao.leads.sqlite_ledger import SqliteLedger

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not shutil.which("chromium") or not shutil.which("pdftotext"),
                       reason="needs Debian's chromium and poppler-utils (scripts/test.sh)"),
]

HEADINGS_ZH = (
    "医保基金监管图分析简报", "内部资料", "注意保密", "一、总体情况", "二、风险热点与趋势",
    "三、重点可疑团伙", "四、违规行为统计", "序号", "违规行为", "违规例(次)数", "违规金额(万元)",
    "备注", "发现线索", "查实线索", "涉及金额", "追回金额", "可疑团伙", "涉及参保人", "数据来源",
    "yibao-graph检测结果", "个人信息已脱敏", "第1页共1页",
)


@dataclass(frozen=True)
class PersonalData:
    """What must never appear on a briefing: from the store's ``persons`` table."""

    names: frozenset[str]
    certnos: frozenset[str]
    phones: frozenset[str]
    person_codes: frozenset[str]

    def found_in(self, text: str) -> list[str]:
        """Every full name, ID, phone or ring-member person number in ``text``."""
        hits: list[str] = []
        for run in re.findall(r"[\u3400-\u9fff]{2,}", text):
            hits += [run[i:i + n] for n in (2, 3, 4) for i in range(len(run) - n + 1)
                     if run[i:i + n] in self.names]
        for run in re.findall(r"[0-9Xx]+", text):
            if run in self.certnos or run in self.phones or run in self.person_codes:
                hits.append(run)
            hits += [m for m in re.findall(r"(?=(1[3-9]\d{9}))", run) if m in self.phones]
            hits += [run[i:i + 18] for i in range(len(run) - 17) if run[i:i + 18] in self.certnos]
        return sorted(set(hits))


@pytest.fixture(scope="module")
def personal(detected: Detected) -> PersonalData:
    """Full names of ring members (any length) and every name of 3 or more characters (2-char
    names would hit ordinary words), all ID and phone numbers, ring members' person numbers."""
    with duckdb.connect(str(detected.db), read_only=True) as con:
        rows = con.execute("SELECT psn_no, psn_name, certno, tel FROM persons").fetchall()
        members = {r[0] for r in con.execute(
            "SELECT code FROM ring_members WHERE kind = 'person'").fetchall()}
    names = {name for psn, name, _, _ in rows
             if name and (len(name) >= 3 or psn in members)}
    return PersonalData(
        names=frozenset(names),
        certnos=frozenset(c for _, _, c, _ in rows if c),
        phones=frozenset(t for _, _, _, t in rows if t and len(t) == 11),
        person_codes=frozenset(members))


@pytest.fixture(scope="module")
def ledger_file(detected: Detected, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger holding the leads of the detected store, a few of them confirmed."""
    path = tmp_path_factory.mktemp("brief-ledger") / "leads.sqlite"
    ledger = SqliteLedger(path)
    with duckdb.connect(str(detected.db), read_only=True) as con:
        leads_from_store(con, ledger, by="tester")
    for lead in ledger.leads()[:4]:
        lead = ledger.transition(lead.lead_id, "checking", expected_version=lead.version, by="t")
        ledger.transition(lead.lead_id, "confirmed", expected_version=lead.version, by="t")
    return path


def _brief(detected: Detected, ledger: Path, out: Path, *args: str) -> Result:
    env = {"YIBAO_BACKEND": "embedded", "YIBAO_LEADS": str(ledger), "YIBAO_DB": None}
    result = CliRunner().invoke(cli, ["brief", "--db", str(detected.db), "--out", str(out),
                                      "--keep-html", *args], env=env)
    assert result.exit_code == 0, result.output
    return result


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout


def _flat(text: str) -> str:
    return "".join(text.split())


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                          text=True).stdout
    match = re.search(r"^Pages:\s+(\d+)", info, re.MULTILINE)
    assert match, info
    assert re.search(r"^Page size:.*\(A4\)", info, re.MULTILINE), info
    return int(match[1])


def _ink(png: Path) -> tuple[float, float]:
    """Grey-level variance and the share of pixels that are not near-white."""
    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(png).convert("L"), dtype=np.float64)
    return float(grey.var()), float((grey < 200).mean())


@pytest.fixture(scope="module")
def brief_zh(detected: Detected, ledger_file: Path,
             tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("brief-zh") / "brief.pdf"
    _brief(detected, ledger_file, out)
    return out


def test_the_chinese_briefing_is_one_full_a4_page(brief_zh: Path, tmp_path: Path) -> None:
    text = _flat(_text(brief_zh))
    missing = [h for h in HEADINGS_ZH if h not in text]
    assert not missing, missing
    assert "全部数据（2024年1月1日至2024年12月31日）" in text
    assert "长三角（沪苏浙皖）" in text
    assert _pages(brief_zh) == 1
    fonts = subprocess.run(["pdffonts", str(brief_zh)], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    assert fonts
    assert all(line.split()[-5] == "yes" for line in fonts), fonts  # the "emb" column
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(brief_zh), str(tmp_path / "page")],
                   check=True)
    (page,) = tmp_path.glob("page*.png")
    variance, ink = _ink(page)
    assert variance > 500, variance
    assert ink > 0.08, ink
    from PIL import Image

    png = brief_zh.with_suffix(".png")
    assert Image.open(png).size == (1240, 1754)
    variance, ink = _ink(png)
    assert variance > 500, variance
    assert ink > 0.08, ink
    blank = blank_above_footer(png)
    assert blank.share < MOST_BLANK, f"{blank.mm:.0f} mm blank above the footer"


def test_no_personal_data_in_the_pdf_or_the_page_source(brief_zh: Path,
                                                        personal: PersonalData) -> None:
    html = brief_zh.with_suffix(".html").read_text(encoding="utf-8")
    text = _text(brief_zh)
    assert personal.found_in(text) == []
    assert personal.found_in(_flat(text)) == []
    assert personal.found_in(html) == []
    # the check itself finds what it looks for
    name = next(iter(personal.names))
    phone = next(iter(personal.phones))
    assert personal.found_in(f"某药店 {name} 电话{phone}") == sorted({name, phone})


def test_the_page_embeds_plotly_and_needs_no_internet(brief_zh: Path) -> None:
    from plotly.offline import get_plotlyjs

    html = brief_zh.with_suffix(".html").read_text(encoding="utf-8")
    assert f"<script>{get_plotlyjs()}</script>" in html  # the package's own plotly.js, inlined
    markup = re.sub(r"<script[^>]*>.*?</script>", "", html, flags=re.DOTALL)
    assert not re.search(r"(src|href)=[\"']?(https?:)?//", markup), "nothing is fetched"
    assert "@import" not in markup
    assert "url(" not in markup
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in markup
    assert 'class="map"' in markup


def test_english_on_request(detected: Detected, ledger_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "brief-en.pdf"
    _brief(detected, ledger_file, out, "--lang", "en")
    text = " ".join(_text(out).split())  # -layout spreads a centred title's words apart
    for heading in ("Graph Analysis Brief", "INTERNAL — CONFIDENTIAL", "1. Overview",
                    "2. Hot spots and trend", "3. Top suspicious rings", "4. Violations by type",
                    "Personal data masked", "All data (1 Jan 2024 – 31 Dec 2024)"):
        assert heading in text, heading
    assert "一、总体情况" not in text
    assert _pages(out) == 1
    assert "10k yuan: " in out.with_suffix(".html").read_text(encoding="utf-8")  # the legend
    blank = blank_above_footer(out.with_suffix(".png"))
    assert blank.share < MOST_BLANK, f"{blank.mm:.0f} mm blank above the footer"


def test_a_region_and_period_change_the_figures(detected: Detected, ledger_file: Path,
                                                brief_zh: Path, tmp_path: Path) -> None:
    out = tmp_path / "anhui.pdf"
    result = _brief(detected, ledger_file, out, "--period", "2024-Q3", "--region", "340000")
    text = _flat(_text(out))
    assert "2024年第三季度（2024年7月1日至2024年9月30日）" in text
    assert "安徽省（340000）" in text
    assert "仅统计机构所在地位于安徽省的定点医药机构" in text
    amount = re.compile(r"涉及医保基金([\d,]+\.\d\d)万元")
    whole, anhui = amount.search(_flat(_text(brief_zh))), amount.search(text)
    assert whole
    assert anhui
    assert float(anhui[1].replace(",", "")) < float(whole[1].replace(",", ""))
    assert "安徽省" in result.stderr
    assert _pages(out) == 1
    blank = blank_above_footer(out.with_suffix(".png"))
    assert blank.share < MOST_BLANK, f"{blank.mm:.0f} mm blank above the footer"


def test_bad_inputs_exit_2_with_the_fix(detected: Detected, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["brief", "--db", str(detected.db), "--out", str(tmp_path / "b.pdf")]
    out = runner.invoke(cli, [*base, "--period", "2024-Q5"])
    assert out.exit_code == 2
    assert "2024-Q3" in out.stderr
    assert "2024-07" in out.stderr
    out = runner.invoke(cli, [*base, "--region", "110000"])
    assert out.exit_code == 2
    assert "340000" in out.stderr
    out = runner.invoke(cli, [*base, "--from", "2024-07-01"])
    assert out.exit_code == 2
    assert "--to" in out.stderr
    out = runner.invoke(cli, [*base, "--period", "2024", "--from", "2024-07-01", "--to",
                              "2024-07-02"])
    assert out.exit_code == 2
    assert "not both" in out.stderr
    out = runner.invoke(cli, [*base, "--region", "340000"],
                        env={"YIBAO_CHROMIUM": str(tmp_path / "no-such-chromium"),
                             "YIBAO_LEADS": str(tmp_path / "none.sqlite")})
    assert out.exit_code == 2
    assert "no Chromium found" in out.stderr
    assert "YIBAO_CHROMIUM" in out.stderr
    assert not (tmp_path / "b.pdf").exists()
    assert not (tmp_path / "none.sqlite").exists()
