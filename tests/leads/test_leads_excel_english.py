"""Excel in English: English sheet names, headers and labels, the English wording of titles in
columns of their own, and the workbook reads back unchanged (the import knows both languages)."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.leads.ledger_helpers import Clock, draft
from yibao.leads.excel import import_workbook
from yibao.leads.excel_export import SHEETS, export_workbook, workbook_name
from yibao.leads.sqlite_ledger import SqliteLedger

CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")


@pytest.fixture
def filled(ledger: SqliteLedger, clock: Clock) -> SqliteLedger:
    ledger.add(draft(1, title="团伙线索", violation="card_pooling", region="330109"), by="wang")
    ledger.add(draft(2, risk="medium", violation="IMPOSSIBLE_TRAVEL",
                     amount_involved=Decimal("2500.10")), by="wang")
    ledger.add(draft(3, source="report", source_ref=None, violation="duplicate_charging"),
               by="wang")
    clock.advance(hours=1)
    ledger.transition("XS-2024-000003", "checking", expected_version=1, by="li")
    return ledger


def _cells(ws: openpyxl.worksheet.worksheet.Worksheet, skip: set[int]) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row
            if c.value is not None and c.column not in skip]


def test_an_english_workbook_is_english(filled: SqliteLedger, tmp_path: Path) -> None:
    texts = {"XS-2024-000001": ("Card pooling: a pharmacy, 8 persons", "8 persons settled")}
    path = export_workbook(filled, tmp_path / "leads.xlsx", lang="en", texts=texts)
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [en for _, en in SHEETS.values()]
    ws = book["Leads"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "lead id")
    cols = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    assert {"state", "risk", "violation type", "region name", "title (English, not imported)"
            } <= set(cols)
    row = header + 1
    english = cols["title (English, not imported)"]
    assert ws.cell(row, english).value == texts["XS-2024-000001"][0]
    assert ws.cell(row, cols["violation type"]).value == "Card pooling"
    assert ws.cell(row, cols["region name"]).value.startswith("Xiaoshan")
    # the ledger's own words (kept for the import, repeated where no English wording exists)
    stored = {cols[h] for h in ("title", "summary / evidence", "title (English, not imported)",
                                "summary (English, not imported)")}
    for sheet in book.worksheets:
        said = _cells(sheet, stored if sheet.title == "Leads" else set())
        assert not [s for s in said if CJK.search(s)], sheet.title
    assert workbook_name("en", filled.today()) == "leads_2024-05-01.xlsx"


def test_an_english_workbook_reads_back_unchanged(filled: SqliteLedger, tmp_path: Path) -> None:
    path = export_workbook(filled, tmp_path / "leads.xlsx", lang="en",
                           texts={"XS-2024-000001": ("English title", "English summary")})
    before = filled.leads()
    report = import_workbook(filled, path, by="wang")
    assert report.summary() == {"rows": 3, "updated": 0, "created": 0, "unchanged": 3,
                                "rejected": 0}
    assert filled.leads() == before
    book = openpyxl.load_workbook(path)
    ws = book["Leads"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "lead id")
    cols = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    ws.cell(header + 3, cols["state"]).value = "confirmed"
    ws.cell(header + 3, cols["note"]).value = "checked on site"
    book.save(path)
    again = import_workbook(filled, path, by="wang")
    assert (again.count("updated"), again.count("rejected")) == (1, 0)
    assert filled.get("XS-2024-000003").state == "confirmed"
