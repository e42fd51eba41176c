"""Workbooks written from tables keep text as text: no data value becomes a formula."""

from __future__ import annotations

import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from yibao.spreadsheet import is_formula_like, write_workbook

HOSTILE = ["=HYPERLINK(\"http://x\",\"点我\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "普通文本"]


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_like(text: str) -> None:
    assert is_formula_like(text) == (text != "普通文本")


def test_no_formula_survives(tmp_path: Path) -> None:
    frame = pd.DataFrame({"名称": HOSTILE, "金额": [1.5, 2, 3, 4, 5, 6],
                          "时间": [datetime(2024, 7, 1)] * 6})
    path = write_workbook(tmp_path / "x.xlsx", {"台账": frame}, titles={"台账": ["标题"]})
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml
    assert "<f " not in xml
    sheet = openpyxl.load_workbook(path)["台账"]
    assert sheet["A1"].value == "标题"
    assert [c.value for c in sheet[2]] == ["名称", "金额", "时间"]
    assert [sheet.cell(row=r, column=1).value for r in range(3, 9)] == HOSTILE
    assert all(sheet.cell(row=r, column=1).data_type == "s" for r in range(3, 9))
    assert sheet["B3"].value == 1.5
    assert sheet["C3"].value == datetime(2024, 7, 1)


def test_every_c0_control_character_is_exported_visibly(tmp_path: Path) -> None:
    """A control character in a ledger note or a loaded name never breaks an export."""
    controls = [chr(c) for c in range(0x20)]
    frame = pd.DataFrame({"备注": [f"核查{c}完毕" for c in controls]})
    path = write_workbook(tmp_path / "c.xlsx", {"台账": frame})
    sheet = openpyxl.load_workbook(path)["台账"]
    got = [sheet.cell(row=r, column=1).value for r in range(2, 2 + len(controls))]
    for c, value in zip(controls, got, strict=True):
        if c in "\t\n":
            assert value == f"核查{c}完毕"  # an .xlsx holds these as they are
        elif c == "\r":
            assert value == "核查\n完毕"  # XML reads a line end as LF
        else:
            assert value == f"核查{chr(0x2400 + ord(c))}完毕"  # e.g. ␁ for U+0001
