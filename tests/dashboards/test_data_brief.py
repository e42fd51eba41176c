"""The briefing page's data: periods the store covers, provinces and cities, the scope of the
choices (and the errors for impossible ones), the download names, the ledger's state, and the
briefing itself as PDF and PNG bytes from the detected store (Debian's Chromium prints it)."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from dashboards.data import brief as bd
from dashboards.data.common import data_period
from tests.detected import Detected
from yibao.brief import DELTA
from yibao.errors import BriefError
from yibao.leads.from_detection import leads_from_store
from yibao.leads.sqlite_ledger import SqliteLedger
from yibao.settings import Settings

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MADE_ON = date(2025, 1, 2)


# -- choices ---------------------------------------------------------------------------------

def test_period_choices_are_the_ones_the_data_covers() -> None:
    start, end = date(2023, 11, 15), date(2024, 2, 3)
    assert bd.period_choices(start, end, "all") == []
    assert bd.period_choices(start, end, "year") == ["2023", "2024"]
    assert bd.period_choices(start, end, "quarter") == ["2023-Q4", "2024-Q1"]
    assert bd.period_choices(start, end, "month") == ["2023-11", "2023-12", "2024-01",
                                                      "2024-02"]


def test_period_choices_of_the_detected_store(detected: Detected) -> None:
    with duckdb.connect(str(detected.db), read_only=True) as con:
        full = data_period(con)
    quarters = bd.period_choices(full.start, full.end, "quarter")
    months = bd.period_choices(full.start, full.end, "month")
    assert quarters
    assert months
    assert f"{full.start.year}-{full.start.month:02d}" == months[0]
    assert f"{full.end.year}-{full.end.month:02d}" == months[-1]
    assert len(months) <= 3 * len(quarters)


def test_period_kinds_and_names() -> None:
    assert [bd.period_kind(k) for k in (None, "", "2024", "2024-Q3", "2024-07")] == [
        "all", "all", "year", "quarter", "month"]
    assert bd.period_name("2024-Q3", "zh") == "2024年第三季度"
    assert bd.period_name("2024-Q3", "en") == "2024 Q3"
    assert bd.period_name("2024-07", "zh") == "2024年7月"
    assert bd.period_name(None, "zh") == "全部数据"
    assert bd.period_name(None, "en") == "All the data"


def test_provinces_and_their_cities() -> None:
    assert bd.province_choices() == ["310000", "320000", "330000", "340000"]
    anhui = bd.city_choices("340000")
    assert "341200" in anhui
    assert "340100" in anhui
    assert all(c.startswith("34") and c.endswith("00") and c != "340000" for c in anhui)
    assert bd.city_choices("310000") == []  # 上海市's only city is itself
    assert bd.city_choices("999999") == []


def test_region_names_in_both_languages() -> None:
    assert bd.region_name("340000", "zh") == "安徽省"
    assert bd.region_name("340000", "en") == "Anhui"
    assert bd.region_name("341200", "zh") == "阜阳市"
    assert bd.region_name("341200", "en") == "Fuyang"
    assert bd.region_name(None, "zh") == "长三角（沪苏浙皖）"


# -- scope -----------------------------------------------------------------------------------

def test_scope_from_choices() -> None:
    everything = bd.scope_from_choices(None, None)
    assert everything.period is None
    assert everything.region == DELTA
    assert everything.key == "all/delta"
    q3 = bd.scope_from_choices("2024-q3", "340000")
    assert q3.period is not None
    assert (q3.period.start, q3.period.end, q3.period.kind) == (date(2024, 7, 1),
                                                                 date(2024, 9, 30), "quarter")
    assert q3.period_key == "2024-Q3"
    assert q3.region.code == "340000"
    assert q3.region.prefix == "34"
    assert q3.key == "2024-Q3/340000"
    city = bd.scope_from_choices("2024-7", "340000", "341200")
    assert city.period_key == "2024-07"
    assert city.region.code == "341200"
    assert city.region.name_zh == "安徽省阜阳市"
    assert bd.scope_from_choices(None, None, "341200").region.code == "341200"


def test_impossible_choices_say_what_is_accepted() -> None:
    with pytest.raises(BriefError, match="does not lie in province 320000"):
        bd.scope_from_choices(None, "320000", "341200")
    with pytest.raises(BriefError, match="not a province of 沪苏浙皖"):
        bd.scope_from_choices(None, "341200")
    with pytest.raises(BriefError, match="not a city code"):
        bd.scope_from_choices(None, "340000", "341202")
    with pytest.raises(BriefError, match="2024-Q3"):
        bd.scope_from_choices("2024-Q5", None)


def test_file_names() -> None:
    q3 = bd.scope_from_choices("2024-Q3", "340000")
    assert bd.file_names(q3, "zh") == ("医保基金监管简报_2024Q3_安徽省.pdf",
                                       "医保基金监管简报_2024Q3_安徽省.png")
    assert bd.file_names(q3, "en") == ("Fund-supervision-briefing_2024Q3_Anhui.pdf",
                                       "Fund-supervision-briefing_2024Q3_Anhui.png")
    city = bd.scope_from_choices("2024-07", "340000", "341200")
    assert bd.file_names(city, "zh")[0] == "医保基金监管简报_202407_安徽省阜阳市.pdf"
    assert bd.file_names(city, "en")[0] == "Fund-supervision-briefing_202407_Fuyang-Anhui.pdf"
    everything = bd.scope_from_choices(None, None)
    assert bd.file_names(everything, "zh")[0] == "医保基金监管简报_全部数据_长三角.pdf"
    assert bd.file_names(everything, "en")[1] == "Fund-supervision-briefing_all-data_" \
                                                 "Yangtze-River-Delta.png"
    assert bd.file_names(bd.scope_from_choices("2024", "310000"), "en")[0] == \
        "Fund-supervision-briefing_2024_Shanghai.pdf"


# -- cache keys ------------------------------------------------------------------------------

def test_ledger_state_changes_with_every_event(detected: Detected, tmp_path: Path) -> None:
    assert bd.ledger_state(None) == (0, "")
    clock = [datetime(2024, 5, 1, 9, 0)]
    ledger = SqliteLedger(tmp_path / "leads.sqlite", clock=lambda: clock[0])
    assert bd.ledger_state(ledger) == (0, "")
    leads_from_store(detected.db, ledger, by="system")
    n = len(ledger.leads())
    assert n > 0
    assert bd.ledger_state(ledger) == (n, "2024-05-01T09:00:00")
    lead = ledger.leads()[0]
    clock[0] = datetime(2024, 5, 2, 10, 30)
    ledger.transition(lead.lead_id, "checking", expected_version=lead.version, by="wang")
    assert bd.ledger_state(ledger) == (n + 1, "2024-05-02T10:30:00")


def test_store_version_changes_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "store.duckdb"
    path.write_bytes(b"one")
    before = bd.store_version(path)
    assert before.startswith(str(path))
    assert bd.store_version(path) == before
    path.write_bytes(b"two, longer")
    os.utime(path, ns=(1, 1))
    assert bd.store_version(path) != before


# -- the briefing ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def filled_ledger(detected: Detected, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("brief-ledger") / "leads.sqlite"
    leads_from_store(detected.db, SqliteLedger(path), by="system")
    return path


@pytest.fixture(scope="module")
def settings(detected: Detected, filled_ledger: Path) -> Settings:
    assert shutil.which("chromium"), "Debian's chromium is needed (scripts/test.sh installs it)"
    return Settings(db=detected.db, leads_file=filled_ledger)


@pytest.fixture(scope="module")
def delta(settings: Settings, filled_ledger: Path) -> bd.BriefFiles:
    """All the data, the whole Delta, in Chinese, leads from the filled ledger."""
    return bd.brief_files(settings, bd.scope_from_choices(None, None), "zh",
                          ledger=SqliteLedger(filled_ledger), made_on=MADE_ON)


@pytest.mark.slow
def test_the_briefing_comes_as_pdf_and_png_bytes(delta: bd.BriefFiles) -> None:
    assert delta.pdf.startswith(b"%PDF-")
    assert delta.pdf.rstrip().endswith(b"%%EOF")
    assert delta.png.startswith(PNG_SIGNATURE)
    assert len(delta.png) > 50_000  # a drawn page, not a blank one
    assert delta.with_ledger
    assert delta.facts.made_on == MADE_ON
    assert delta.facts.region == DELTA
    assert not delta.facts.period_given
    assert delta.facts.suspicious_settlements > 0
    assert delta.facts.leads.leads > 0
    assert set(delta.seconds) >= {"facts", "pdf", "png", "total"}


@pytest.mark.slow
def test_a_region_and_a_period_change_the_facts(settings: Settings, delta: bd.BriefFiles,
                                                detected: Detected) -> None:
    with duckdb.connect(str(detected.db), read_only=True) as con:
        full = data_period(con)
    quarter = bd.period_choices(full.start, full.end, "quarter")[0]
    scope = bd.scope_from_choices(quarter, "340000")
    anhui = bd.brief_files(settings, scope, "en", ledger=SqliteLedger(settings.leads_path),
                           made_on=MADE_ON)
    facts = anhui.facts
    assert facts.region.code == "340000"
    assert facts.period_given
    assert facts.period == scope.period
    assert 0 < facts.settlements < delta.facts.settlements
    assert facts.suspicious_settlements <= delta.facts.suspicious_settlements
    assert facts.hot_spots
    assert all(s.code.startswith("34") for s in facts.hot_spots)
    assert facts.leads.leads <= delta.facts.leads.leads
    assert anhui.pdf.startswith(b"%PDF-")
    assert anhui.png.startswith(PNG_SIGNATURE)
    assert anhui.png != delta.png


@pytest.mark.slow
def test_no_ledger_means_no_lead_figures_not_the_settings_ledger(settings: Settings) -> None:
    assert settings.leads_path.exists()  # write_brief would read it if asked to open one
    made = bd.brief_files(settings, bd.scope_from_choices(None, "320000"), "zh", ledger=None,
                          made_on=MADE_ON)
    assert not made.with_ledger
    assert made.facts.leads.leads == 0
    assert made.facts.ledger_total == 0
    assert made.pdf.startswith(b"%PDF-")


def test_a_missing_chromium_is_a_brief_error(settings: Settings) -> None:
    broken = replace(settings, chromium="/nonexistent/chromium")
    with pytest.raises(BriefError, match=r"(?i)chromium"):
        bd.brief_files(broken, bd.scope_from_choices(None, None), "zh", ledger=None)
