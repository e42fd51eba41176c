"""An Excel import is one ledger transaction: every row reported, the accepted rows saved
together, and a failure on any row saves none of them (issue 17, item 7)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import yibao.leads.ledger as ledger_module
from tests.leads.ledger_helpers import Clock, draft
from tests.leads.test_leads_excel import Sheet
from yibao.leads.excel import export_workbook, import_workbook
from yibao.leads.seal import SealOptions
from yibao.leads.sqlite_ledger import SqliteLedger


@pytest.fixture
def five(tmp_path: Path, clock: Clock) -> SqliteLedger:
    ledger = SqliteLedger(tmp_path / "leads.sqlite", clock=clock,
                          seal=SealOptions(tmp_path / "ledger.key", tmp_path / "audit.jsonl"))
    ledger.add_many([draft(n) for n in range(1, 6)], by="张三")
    clock.advance(hours=1)
    return ledger


def _edited(ledger: SqliteLedger, tmp_path: Path) -> Sheet:
    """An export where every lead gets a new owner, plus one new lead at the bottom."""
    sheet = Sheet(export_workbook(ledger, tmp_path / "台账.xlsx"))
    for n in range(1, 6):
        sheet.set(sheet.row_of(f"XS-2024-{n:06d}"), 责任人=f"调查员{n}")
    new_row = sheet.ws.max_row + 1
    sheet.set(new_row, 标题="群众举报 新线索", 违规类型="card_pooling")
    sheet.save()
    return sheet


def _checkpoints(tmp_path: Path) -> int:
    lines = (tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    return sum(1 for line in lines if json.loads(line)["action"] == "checkpoint")


def test_a_failure_on_the_third_row_saves_nothing(five: SqliteLedger, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sheet = _edited(five, tmp_path)
    before = (five.leads(), five.events())
    real = ledger_module.apply_steps
    calls: list[int] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise ArithmeticError("boom on the third row")
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger_module, "apply_steps", failing)
    report = import_workbook(five, sheet.path, by="王五")
    assert (five.leads(), five.events()) == before  # rows 1 and 2 were not kept
    third = sheet.row_of("XS-2024-000003")
    assert report.failed_row == third
    assert report.rows_in == 6  # every row reported ...
    assert report.summary()["rejected"] == 6  # ... and none saved
    by_row = {r.row: r.reason for r in report.rows}
    assert by_row[third].startswith("ArithmeticError: boom on the third row; 导入已整体撤销")
    assert "fix this row and import the file again" in by_row[third]
    assert by_row[sheet.row_of("XS-2024-000001")].startswith(
        f"would be updated, not saved: row {third} failed")
    assert by_row[sheet.row_of("XS-2024-000004")].startswith(f"not checked: row {third} failed")
    assert by_row[sheet.ws.max_row].startswith(f"not checked: row {third} failed")
    assert five.verify().ok


def test_the_accepted_rows_are_saved_together(five: SqliteLedger, tmp_path: Path) -> None:
    sheet = _edited(five, tmp_path)
    sheet.set(sheet.row_of("XS-2024-000002"), **{"涉及金额(元)": "1e300"})
    sheet.save()
    checkpoints = _checkpoints(tmp_path)
    report = import_workbook(five, sheet.path, by="王五")
    assert report.failed_row is None
    assert report.summary() == {"rows": 6, "updated": 4, "created": 1, "unchanged": 0,
                                "rejected": 1}
    (rejected,) = report.rejected
    assert (rejected.lead_id, rejected.column) == ("XS-2024-000002", "涉及金额(元)")
    assert five.get("XS-2024-000002").owner is None  # a rejected row changes nothing
    assert five.get("XS-2024-000002").amount_involved == Decimal("12345.67")
    assert [five.get(f"XS-2024-{n:06d}").owner for n in (1, 3, 4, 5)] == [
        "调查员1", "调查员3", "调查员4", "调查员5"]
    assert _checkpoints(tmp_path) == checkpoints + 1  # one transaction, one new head
    assert five.verify().ok


def test_cli_import_says_the_import_was_undone(five: SqliteLedger, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from yibao.cli import cli

    sheet = _edited(five, tmp_path)

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise ArithmeticError("boom")

    monkeypatch.setattr(ledger_module, "apply_steps", failing)
    env = {"YIBAO_BACKEND": "embedded", "YIBAO_DB": str(tmp_path / "store.duckdb")}
    out = CliRunner().invoke(cli, ["leads", "import", str(sheet.path), "--by", "王五"], env=env)
    assert out.exit_code == 1, out.output
    assert "导入已整体撤销 / import undone" in out.stderr
    assert "rejected 6" in out.stderr
    assert len(five.events()) == 5
