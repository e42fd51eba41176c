"""领导简报 page: the heading, the choices (kept in the URL), the button that prints the
briefing with Debian's Chromium and shows its PNG with two downloads, the cache (a rerun or a
second click does not print again), the audit line, English labels, and what happens without a
ledger, with a broken ledger and without Chromium."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.audit import read_audit
from dashboards.data import brief as bd
from dashboards.data.common import data_period
from tests.dashboards.conftest import Workbench, no_exception
from tests.detected import Detected
from yibao.brief import BriefOutput
from yibao.leads.from_detection import leads_from_store
from yibao.leads.sqlite_ledger import SqliteLedger

App = Callable[..., AppTest]


@pytest.fixture
def no_ledger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app's ledger file does not exist (``YIBAO_LEADS``)."""
    path = tmp_path / "no-ledger" / "leads.sqlite"
    monkeypatch.setenv("YIBAO_LEADS", str(path))
    return path


@pytest.fixture(scope="module")
def filled_file(detected: Detected, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("brief-page-ledger") / "leads.sqlite"
    leads_from_store(detected.db, SqliteLedger(path), by="system")
    return path


@pytest.fixture
def filled(filled_file: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The app reads a ledger holding the detection leads."""
    monkeypatch.setenv("YIBAO_LEADS", str(filled_file))
    return filled_file


@pytest.fixture
def prints(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The briefings actually printed (by Chromium) while the test runs, as ``region/lang``."""
    made: list[str] = []
    real = bd.write_brief

    def counting(out: Path, **kw: object) -> BriefOutput:
        made.append(f"{getattr(kw['region'], 'code', None)}/{kw['lang']}")
        return real(out, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(bd, "write_brief", counting)
    return made


@pytest.fixture(scope="module")
def first_quarter(detected: Detected) -> str:
    with duckdb.connect(str(detected.db), read_only=True) as con:
        full = data_period(con)
    return bd.period_choices(full.start, full.end, "quarter")[0]


def _brief_entries(workbench: Workbench) -> list[tuple[str, str, str]]:
    return [(e.user, e.role, e.subject) for e in read_audit(workbench.audit)
            if e.action == "brief"]


def test_heading_choices_and_all_the_data_by_default(app: App, no_ledger: Path) -> None:
    at = app(page="brief")
    no_exception(at)
    assert at.title[0].value == "领导简报"
    assert at.segmented_control(key="brief_kind").value == "all"
    assert at.segmented_control(key="brief_lang").value == "zh"
    assert at.selectbox(key="brief_province").value == ""
    assert not [s for s in at.selectbox if s.key.startswith("brief_city")]
    assert any("全部数据" in m.value and "长三角" in m.value for m in at.markdown)
    assert any("侧栏中的时间范围不适用" in c.value for c in at.caption)
    assert any("线索数字为 0" in i.value for i in at.info)
    assert at.button(key="brief_make").label == "生成简报"
    assert not at.image
    assert not at.download_button


def test_choices_come_from_and_go_to_the_url(app: App, no_ledger: Path,
                                             first_quarter: str) -> None:
    at = app(page="brief", brief_period=first_quarter, brief_region="341200")
    no_exception(at)
    assert at.segmented_control(key="brief_kind").value == "quarter"
    assert at.selectbox(key="brief_quarter").value == first_quarter
    assert at.selectbox(key="brief_province").value == "340000"
    city = at.selectbox(key="brief_city_340000")
    assert city.value == "341200"
    assert "阜阳市" in city.options
    assert "全省" in city.options
    assert any("安徽省阜阳市" in m.value for m in at.markdown)
    at.selectbox(key="brief_province").set_value("320000").run()
    no_exception(at)
    assert at.query_params["brief_region"] == "320000"
    assert "南京市" in at.selectbox(key="brief_city_320000").options
    at.segmented_control(key="brief_kind").set_value("month").run()
    months = at.selectbox(key="brief_month")
    assert at.query_params["brief_period"] == months.value
    at.segmented_control(key="brief_kind").set_value("all").run()
    assert "brief_period" not in at.query_params
    assert any("全部数据" in m.value and "江苏省" in m.value for m in at.markdown)


def test_a_bad_url_falls_back_to_all_the_data(app: App, no_ledger: Path) -> None:
    at = app(page="brief", brief_period="1999-Q9", brief_region="999999")
    no_exception(at)
    assert at.segmented_control(key="brief_kind").value == "all"
    assert at.selectbox(key="brief_province").value == ""


def test_make_the_briefing_shows_it_caches_it_and_audits_it(
        app: App, filled: Path, workbench: Workbench, prints: list[str],
        first_quarter: str) -> None:
    at = app(user="li", page="brief", brief_period=first_quarter, brief_region="340000")
    no_exception(at)
    assert not at.warning
    assert not at.info
    at.button(key="brief_make").click().run()
    no_exception(at)
    assert prints == ["340000/zh"]
    assert len(at.image) == 1
    assert at.image[0].value[0].endswith(".png")
    downloads = {d.key: (d.label, d.proto.url.rsplit(".", 1)[-1]) for d in at.download_button}
    assert downloads == {"brief_pdf": ("下载 PDF", "pdf"), "brief_png": ("下载 PNG", "png")}
    assert any("安徽省" in c.value and "线索" in c.value for c in at.caption)
    assert _brief_entries(workbench) == [("li", "leadership", f"{first_quarter}/340000")]
    at.run()  # a rerun shows the same briefing, neither printed nor audited again
    no_exception(at)
    assert len(at.image) == 1
    assert len(at.download_button) == 2
    assert prints == ["340000/zh"]
    assert len(_brief_entries(workbench)) == 1
    second = app(user="wang", page="brief", brief_period=first_quarter, brief_region="340000")
    second.button(key="brief_make").click().run()  # another user: from the cache, audited
    no_exception(second)
    assert len(second.image) == 1
    assert prints == ["340000/zh"]
    assert [e[0] for e in _brief_entries(workbench)] == ["li", "wang"]
    at.selectbox(key="brief_province").set_value("320000").run()  # other choices: not shown
    assert not at.image
    assert not at.download_button


def test_english_labels_and_briefing(app: App, no_ledger: Path, prints: list[str],
                                     workbench: Workbench) -> None:
    at = app(page="brief", lang="en", brief_region="310000")
    no_exception(at)
    assert at.title[0].value == "Briefing"
    assert at.segmented_control(key="brief_kind_en").value == "all"
    assert at.segmented_control(key="brief_lang_en").value == "en"
    assert at.selectbox(key="brief_province_en").value == "310000"
    assert any("All the data" in m.value and "Shanghai" in m.value for m in at.markdown)
    assert any("No leads ledger yet" in i.value for i in at.info)
    assert at.button(key="brief_make").label == "Make the briefing"
    at.button(key="brief_make").click().run()
    no_exception(at)
    assert prints == ["310000/en"]
    assert {d.label for d in at.download_button} == {"Download the PDF", "Download the PNG"}
    assert any("read no leads ledger" in c.value for c in at.caption)
    assert _brief_entries(workbench) == [("wang", "investigator", "all/310000")]


def test_a_chinese_briefing_from_the_english_ui(app: App, no_ledger: Path,
                                                prints: list[str]) -> None:
    at = app(page="brief", lang="en", brief_lang="zh", brief_region="330000")
    assert at.segmented_control(key="brief_lang_en").value == "zh"
    at.button(key="brief_make").click().run()
    no_exception(at)
    assert prints == ["330000/zh"]


def test_a_broken_ledger_is_said_and_the_briefing_made_without_it(
        app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prints: list[str]) -> None:
    broken = tmp_path / "leads.sqlite"
    broken.write_bytes(b"not a database " * 100)
    monkeypatch.setenv("YIBAO_LEADS", str(broken))
    at = app(page="brief", brief_region="320000")
    no_exception(at)
    assert any("线索台账无法打开" in w.value for w in at.warning)
    at.button(key="brief_make").click().run()
    no_exception(at)
    assert len(at.image) == 1
    assert any("未读取线索台账" in c.value for c in at.caption)


def test_no_chromium_is_an_error_and_nothing_else_breaks(
        app: App, no_ledger: Path, monkeypatch: pytest.MonkeyPatch,
        workbench: Workbench) -> None:
    monkeypatch.setenv("YIBAO_CHROMIUM", "/nonexistent/chromium")
    at = app(page="brief")
    at.button(key="brief_make").click().run()
    no_exception(at)
    assert at.error
    assert "Chromium" in at.error[0].value
    assert at.error[0].value.startswith("无法生成简报")
    assert not at.image
    assert not at.download_button
    assert _brief_entries(workbench) == []
    assert at.title[0].value == "领导简报"
    assert at.button(key="brief_make")
