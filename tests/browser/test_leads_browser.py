"""线索台账 and 检查计划 in a real browser: signed in through the form, leads created from
detection with the button, a lead's page with its ring on the map, the ledger downloaded,
filled in and uploaded back, the plan with its routes; no Streamlit exception, the Chinese
headings (and the English ones), nothing requested from outside the machine.

Screenshots land in ``build/screenshots/leads*.png``, ``lead.png`` and ``plan*.png``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.browser.conftest import Server, Tab, new_tab
from tests.detected import Detected
from yibao.leads.sqlite_ledger import SqliteLedger

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def tab(workbench_server: Server, chromium_browser: Any) -> Iterator[Tab]:
    """One investigator's tab on the ledger, shared by the tests of this module (in order)."""
    context, tab = new_tab(chromium_browser, workbench_server, "/leads")
    tab.sign_in("wang", "线索台账")
    yield tab
    context.close()


def _ledger(server: Server) -> SqliteLedger:
    return SqliteLedger(server.db.with_name("leads.sqlite"))  # the default beside the store


def _problems(tab: Tab, heading: str, *, charts: int = 0) -> list[str]:
    problems = [f"Streamlit error: {e}" for e in tab.exceptions()]
    if not any(heading in h for h in tab.headings()):
        problems.append(f"no heading with {heading!r} in {tab.headings()}")
    drawn = [c for c in tab.charts() if c["traces"] and c["paths"]]
    if len(drawn) < charts:
        problems.append(f"{len(drawn)} charts drew, expected {charts}: {tab.charts()}")
    problems += [f"request left the machine: {u}" for u in tab.outside_requests()]
    return problems


def _open_tools(tab: Tab) -> None:
    tab.page.get_by_text("台账导入导出与生成").click()
    tab.page.get_by_role("button", name="生成线索").wait_for(state="visible")


def test_leads_from_detection_fill_the_ledger(tab: Tab, workbench_server: Server) -> None:
    before = len(_ledger(workbench_server).leads())
    _open_tools(tab)
    tab.click(tab.page.get_by_role("button", name="生成线索"), "线索台账")
    assert tab.page.get_by_text("新生成").count() == 1, tab.text()[:2000]
    assert len(_ledger(workbench_server).leads()) > before
    tab.open("/leads", "线索台账")
    tab.screenshot("leads")
    assert _problems(tab, "线索台账") == []
    assert "XS-" in tab.text()


def test_lead_page_draws_its_ring(tab: Tab, workbench_server: Server,
                                  detected: Detected) -> None:
    ring = max(detected.result.suspicious, key=lambda r: len(r.persons))
    lead = _ledger(workbench_server).find("ring", ring.ring_id)
    assert lead is not None
    tab.open(f"/leads?lead={lead.lead_id}", f"线索 {lead.lead_id}")
    tab.screenshot("lead")
    assert _problems(tab, f"线索 {lead.lead_id}", charts=1) == []
    text = tab.text()
    for part in ("基本信息", "办理", "涉及地点", "涉及人员", "变更记录", "转为：核查中"):
        assert part in text, part


def test_ledger_goes_to_excel_and_back(tab: Tab, workbench_server: Server,
                                       tmp_path: Path) -> None:
    tab.open("/leads", "线索台账")
    _open_tools(tab)
    with tab.page.expect_download() as download:
        tab.page.get_by_role("button", name="下载台账（Excel）").click()
    path = tmp_path / "ledger.xlsx"
    download.value.save_as(path)
    book = load_workbook(path)
    sheet = book["线索台账"]
    header = next(r for r in range(1, 10) if sheet.cell(r, 1).value == "线索编号")
    names = [c.value for c in sheet[header]]
    lead_id = str(sheet.cell(header + 1, names.index("线索编号") + 1).value)
    sheet.cell(header + 1, names.index("责任人") + 1).value = "王调查"
    sheet.cell(header + 1, names.index("备注") + 1).value = "台账导入测试"
    book.save(path)
    tab.page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    tab.page.get_by_role("button", name="导入台账").wait_for(state="visible")
    tab.page.wait_for_function(
        "() => [...document.querySelectorAll('button')].some("
        "(b) => b.textContent.includes('导入台账') && !b.disabled)", timeout=30_000)
    tab.click(tab.page.get_by_role("button", name="导入台账"), "线索台账")
    # the import's report may come a rerun after the heading: wait for it, then read the page
    with contextlib.suppress(PlaywrightTimeoutError):
        tab.page.get_by_text("更新 1").first.wait_for(timeout=30_000)
    assert tab.page.get_by_text("更新 1").count() >= 1, (
        tab.exceptions(), tab.page.locator('[data-testid="stMain"]').inner_text()[:3000])
    tab.screenshot("leads_import")
    lead = _ledger(workbench_server).get(lead_id)
    assert lead.owner == "王调查"
    assert _ledger(workbench_server).history(lead_id)[-1].note == "台账导入测试"
    assert _problems(tab, "线索台账") == []


def test_plan_page_draws_the_routes(tab: Tab) -> None:
    tab.open("/plan?budget=40", "检查计划")
    tab.screenshot("plan")
    assert _problems(tab, "检查计划", charts=1) == []
    assert "计划已通过全部约束校验" in tab.text()


def test_english_pages(tab: Tab) -> None:
    tab.open("/plan?budget=40", "检查计划")
    sidebar = tab.page.locator('[data-testid="stSidebar"]')
    tab.click(sidebar.get_by_role("radio", name="English"), "Inspection plan")
    assert "lang=en" in tab.page.url
    tab.screenshot("plan_en")
    assert _problems(tab, "Inspection plan", charts=1) == []
    tab.click(sidebar.get_by_role("link", name="Leads ledger"), "Leads ledger")
    tab.screenshot("leads_en")
    assert _problems(tab, "Leads ledger") == []
