"""Excel: export with Chinese headers (formulas stay text), the seeds' statistics shape, the
change log; import a filled ledger back row by row, every row reported, bad rows changing
nothing."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.leads.ledger_helpers import Clock, draft
from yibao.errors import LedgerImportError
from yibao.leads import LeadFilter
from yibao.leads.excel import (
    EVENTS_SHEET,
    LEDGER_SHEET,
    STATS_SHEET,
    export_workbook,
    import_workbook,
)
from yibao.leads.sqlite_ledger import SqliteLedger

HOSTILE = '=HYPERLINK("http://evil.example","点我")'


@pytest.fixture
def filled(ledger: SqliteLedger, clock: Clock) -> SqliteLedger:
    ledger.add(draft(1, title=HOSTILE), by="张三")
    ledger.add(draft(2, risk="medium", violation="IMPOSSIBLE_TRAVEL",
                     amount_involved=Decimal("2500.10")), by="张三")
    ledger.add(draft(3, violation="IMPOSSIBLE_TRAVEL", amount_involved=Decimal("7500.00"),
                     institutions=("P9",)), by="张三")
    ledger.add(draft(4, source="report", source_ref=None, violation="duplicate_charging"),
               by="张三")
    ledger.add(draft(5), by="张三")
    clock.advance(hours=1)
    ledger.transition("XS-2024-000005", "checking", expected_version=1, by="李四")
    return ledger


class Sheet:
    """The ledger sheet of a workbook, edited by header name like a user in Excel."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.book = openpyxl.load_workbook(path)
        self.ws = self.book[LEDGER_SHEET]
        self.header_row = next(r for r in range(1, 10) if self.ws.cell(r, 1).value == "线索编号")
        self.cols = {self.ws.cell(self.header_row, c).value: c
                     for c in range(1, self.ws.max_column + 1)}

    def row_of(self, lead_id: str) -> int:
        return next(r for r in range(self.header_row + 1, self.ws.max_row + 1)
                    if self.ws.cell(r, 1).value == lead_id)

    def get(self, row: int, header: str) -> Any:
        return self.ws.cell(row, self.cols[header]).value

    def set(self, row: int, **values: object) -> None:
        for header, value in values.items():
            self.ws.cell(row, self.cols[header]).value = value

    def save(self) -> Path:
        self.book.save(self.path)
        return self.path


def test_export_has_three_sheets_with_chinese_headers(filled: SqliteLedger,
                                                      tmp_path: Path) -> None:
    path = export_workbook(filled, tmp_path / "台账.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [LEDGER_SHEET, STATS_SHEET, EVENTS_SHEET]
    sheet = Sheet(path)
    assert list(sheet.cols)[:9] == ["线索编号", "版本", "状态", "处理方式", "责任人", "办结期限",
                                    "涉及金额(元)", "追回金额(元)", "备注"]
    row = sheet.row_of("XS-2024-000005")
    assert (sheet.get(row, "版本"), sheet.get(row, "状态"), sheet.get(row, "风险等级")) == (
        2, "核查中", "高")
    assert sheet.get(row, "涉及金额(元)") == 12345.67
    assert sheet.get(row, "区划名称") == "颍州区"
    assert sheet.get(sheet.row_of("XS-2024-000002"), "违规类型") == "同日异地不可能行程"
    events = book[EVENTS_SHEET]
    assert [c.value for c in events[3]][:6] == [
        "序号", "线索编号", "版本", "时间", "操作人", "操作"]
    assert events.max_row == 3 + 6
    assert [c.value for c in events[9]][5:8] == ["状态变更", "待核查", "核查中"]


def test_a_formula_in_the_data_is_written_and_read_back_as_text(filled: SqliteLedger,
                                                                tmp_path: Path) -> None:
    path = export_workbook(filled, tmp_path / "x.xlsx")
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets"))
    assert "<f>" not in xml
    assert "<f " not in xml
    sheet = Sheet(path)
    cell = sheet.ws.cell(sheet.row_of("XS-2024-000001"), sheet.cols["标题"])
    assert (cell.value, cell.data_type) == (HOSTILE, "s")
    report = import_workbook(filled, path, by="王五")
    assert report.summary() == {"rows": 5, "updated": 0, "created": 0, "unchanged": 5,
                                "rejected": 0}
    assert filled.get("XS-2024-000001").title == HOSTILE


def test_statistics_in_the_seeds_shape(filled: SqliteLedger, tmp_path: Path) -> None:
    path = export_workbook(filled, tmp_path / "x.xlsx")
    ws = openpyxl.load_workbook(path)[STATS_SHEET]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=3)]
    assert rows[0] == ["序号", "违规行为", "违规内容", "违规例(次)数", "违规金额(万元)", "备注"]
    by_type = {r[1]: r for r in rows[1:]}
    assert set(by_type) == {"聚集性刷卡(套刷)", "同日异地不可能行程", "重复收费"}
    assert [r[1] for r in rows[1:]] == ["聚集性刷卡(套刷)", "同日异地不可能行程", "重复收费"]
    travel = by_type["同日异地不可能行程"]
    assert travel[3] == 2
    assert travel[4] == 1.0  # 2,500.10 + 7,500.00 yuan = 1.00 万元 (to two places)
    assert travel[2] == "涉及定点医药机构 2 家、参保人 2 人"
    assert by_type["聚集性刷卡(套刷)"][3] == 2
    assert by_type["聚集性刷卡(套刷)"][4] == 2.47  # 2 × 12,345.67 yuan
    assert "核查中 1" in by_type["聚集性刷卡(套刷)"][5]
    assert "举报 1" in by_type["重复收费"][5]


def test_round_trip_every_row_reported(filled: SqliteLedger, clock: Clock,
                                       tmp_path: Path) -> None:
    sheet = Sheet(export_workbook(filled, tmp_path / "x.xlsx"))
    r1, r2, r3 = (sheet.row_of(f"XS-2024-00000{k}") for k in (1, 2, 3))
    r4, r5 = sheet.row_of("XS-2024-000004"), sheet.row_of("XS-2024-000005")
    # 1: pending → 查实 (through 核查中), owner and due set, with a note
    sheet.set(r1, 状态="查实", 责任人="李四", 办结期限=datetime(2024, 6, 20), 备注="现场核查属实")
    # 2: pending → 处理 with two dispositions and money recovered
    sheet.set(r2, 状态="处理", 处理方式="协议处理、行政处罚", **{"追回金额(元)": 1200.5})
    # 3: an amount that is not one
    sheet.set(r3, 责任人="赵六", **{"涉及金额(元)": "一万"})
    # 4: edited in Excel, but someone changes the lead in the ledger meanwhile
    sheet.set(r4, 责任人="钱七")
    # 5: not touched, though the ledger changes it meanwhile: unchanged, not a conflict
    new_row = sheet.ws.max_row + 1
    sheet.set(new_row, 标题="群众举报：某诊所虚开处方", 来源="举报", 风险等级="高",
              区划代码=341282, **{"涉及金额(元)": 300})
    sheet.save()
    filled.update("XS-2024-000004", {"owner": "孙八"}, expected_version=1, by="孙八")
    filled.update("XS-2024-000005", {"owner": "周九"}, expected_version=2, by="周九")
    before_3 = filled.history("XS-2024-000003")
    report = import_workbook(filled, sheet.path, by="王五")
    assert report.rows_in == 6
    assert report.summary() == {"rows": 6, "updated": 2, "created": 1, "unchanged": 1,
                                "rejected": 2}
    outcome = {r.row: r for r in report.rows}
    assert outcome[r1].outcome == outcome[r2].outcome == "updated"
    assert outcome[r5].outcome == "unchanged"
    assert outcome[new_row].outcome == "created"
    bad = outcome[r3]
    assert (bad.outcome, bad.sheet, bad.row, bad.column) == ("rejected", LEDGER_SHEET, r3,
                                                             "涉及金额(元)")
    assert "not a number" in bad.reason
    assert str(bad).startswith(f"{sheet.path} [线索台账] row {r3}, column 涉及金额(元)")
    stale = outcome[r4]
    assert (stale.outcome, stale.column) == ("rejected", "版本")
    assert "by 孙八" in stale.reason
    assert "reload" in stale.reason

    one = filled.get("XS-2024-000001")
    assert (one.state, one.owner, one.due, one.version) == (
        "confirmed", "李四", date(2024, 6, 20), 4)
    assert [e.note for e in filled.history(one.lead_id)[1:]] == ["现场核查属实"] * 3
    two = filled.get("XS-2024-000002")
    assert (two.state, two.dispositions, two.amount_recovered) == (
        "handling", ("agreement", "penalty"), Decimal("1200.50"))
    assert filled.history("XS-2024-000003") == before_3  # a rejected row changes nothing
    assert filled.get("XS-2024-000003").owner is None
    assert filled.get("XS-2024-000004").owner == "孙八"
    assert filled.get("XS-2024-000005").owner == "周九"
    (created,) = filled.leads(LeadFilter(sources=("report",), text="某诊所"))
    assert (created.lead_id, created.risk, created.region, created.amount_involved,
            created.created_by) == ("XS-2024-000006", "high", "341282", Decimal("300.00"), "王五")
    assert filled.verify().ok


@pytest.mark.parametrize(("header", "value", "why"), [
    ("状态", "已结案", "through 排除 (cleared) or 查实 (confirmed)"),
    ("状态", "完成", "'完成' is not a lead state"),
    ("处理方式", "罚款", "'罚款' is not a disposition"),
    ("追回金额(元)", 100, "追回金额(元) (amount recovered (yuan)) is recorded from 查实"),
    ("区划代码", "3412", "not a 6-digit division code"),
    ("版本", "abc", "must be the whole number exported"),
    ("版本", 7, "has no version 7"),
    ("线索编号", "XS-2099-000001", "no lead 'XS-2099-000001'"),
    ("办结期限", "下周", "not a date"),
])
def test_bad_cells_are_reported_with_their_column(filled: SqliteLedger, tmp_path: Path,
                                                  header: str, value: object,
                                                  why: str) -> None:
    sheet = Sheet(export_workbook(filled, tmp_path / "x.xlsx"))
    row = sheet.row_of("XS-2024-000002")
    sheet.set(row, **{header: value})
    before = (filled.leads(), filled.events())
    report = import_workbook(filled, sheet.save(), by="王五")
    (bad,) = report.rejected
    assert (bad.row, bad.column) == (row, header)
    assert why in bad.reason
    assert report.count("unchanged") == 4
    assert (filled.leads(), filled.events()) == before


def test_a_workbook_without_the_ledger_sheet_is_refused(tmp_path: Path,
                                                        ledger: SqliteLedger) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Sheet1"
    book.save(tmp_path / "other.xlsx")
    with pytest.raises(LedgerImportError, match="no sheet '线索台账'"):
        import_workbook(ledger, tmp_path / "other.xlsx", by="a")
    (tmp_path / "junk.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(LedgerImportError, match="cannot read the workbook"):
        import_workbook(ledger, tmp_path / "junk.xlsx", by="a")
