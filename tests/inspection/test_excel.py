"""The plan workbook: a summary sheet and one sheet per team, Chinese headers, read back whole."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pandas as pd

from yibao.inspection import (
    PlanInputs,
    PlanOptions,
    greedy_plan,
    plan_to_excel,
    synthetic_candidates,
    synthetic_inspectors,
)
from yibao.inspection.excel import SUMMARY_HEADERS, SUMMARY_SHEET, VISIT_HEADERS, team_sheet
from yibao.inspection.model import plan_inspections


def _inputs() -> PlanInputs:
    candidates = synthetic_candidates(120, seed=8)
    candidates.loc[0, "fixmedins_name"] = '=HYPERLINK("http://x","点我")'
    candidates.loc[0, "risk"] = 1.0
    candidates.loc[0, "amount"] = 9_999_999.0  # the most valuable: it is in every plan
    return PlanInputs(candidates, synthetic_inspectors(10, seed=8),
                      PlanOptions(team_days=40, weeks=3, max_spread_days=3))


def test_workbook_round_trips(tmp_path: Path) -> None:
    inputs = _inputs()
    plan = plan_inspections(inputs, time_limit=5)
    path = plan_to_excel(plan, inputs, tmp_path / "计划.xlsx")
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == [SUMMARY_SHEET, *(team_sheet(t.team_id) for t in plan.teams)]
    assert book.sheetnames[1] == "第1组"
    assert "目标值" in str(book[SUMMARY_SHEET]["A2"].value)
    assert "备勤人员" in str(book[SUMMARY_SHEET]["A3"].value)  # 10 inspectors, teams of 3

    summary = pd.read_excel(path, sheet_name=SUMMARY_SHEET, header=3, engine="calamine",
                            dtype={"成员编号": str})
    assert list(summary.columns) == list(SUMMARY_HEADERS.values())
    assert summary["检查人天（组·天）"].sum() == plan.days_used
    assert summary["风险加权金额（元）"].sum() == plan.objective
    assert list(summary["组别"]) == [team_sheet(t.team_id) for t in plan.teams]

    read_back = []
    for team in plan.teams:
        sheet = pd.read_excel(path, sheet_name=team_sheet(team.team_id), header=2,
                              engine="calamine", dtype={"定点医药机构编号": str})
        assert list(sheet.columns) == list(VISIT_HEADERS.values())
        assert sheet["检查天数"].sum() == plan.team_loads()[team.team_id]
        read_back += [(code, team.team_id, int(week)) for code, week in
                      zip(sheet["定点医药机构编号"], sheet["周次"], strict=True)]
    assert sorted(read_back) == sorted((v.fixmedins_code, v.team_id, v.week)
                                       for v in plan.visits)


def test_names_that_look_like_formulas_stay_text(tmp_path: Path) -> None:
    inputs = _inputs()
    plan = greedy_plan(inputs)
    path = plan_to_excel(plan, inputs, tmp_path / "plan.xlsx")
    with zipfile.ZipFile(path) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets"))
    assert "<f>" not in xml
    book = openpyxl.load_workbook(path)
    cells = [c for s in book.worksheets for row in s.iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("=HYPERLINK")]
    assert len(cells) == 1
    assert cells[0].data_type == "s"
    assert "—" in str(book[SUMMARY_SHEET]["A2"].value)  # greedy: no bound, no gap
