"""An inspection plan as an Excel workbook (检查计划表), Chinese headers, formula-safe.

Sheet 汇总 (summary): title lines with the plan's figures (objective, bound, gap, status,
team-days), then one row per team. Then one sheet per team, 第N组, one row per visit in week
order. Written by :func:`yibao.spreadsheet.write_workbook`, so no institution or inspector name
ever becomes a formula.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from yibao.inspection.plan import InspectionPlan, PlanInputs, plan_to_frame, teams_to_frame
from yibao.spreadsheet import write_workbook

__all__ = ["SUMMARY_HEADERS", "SUMMARY_SHEET", "VISIT_HEADERS", "plan_to_excel", "team_sheet"]

SUMMARY_SHEET = "汇总"

SUMMARY_HEADERS = {
    "team_id": "组别", "members": "成员编号", "names": "成员姓名", "provinces": "成员所在省",
    "cities": "成员所在市", "visits": "检查机构数", "days": "检查人天（组·天）",
    "amount": "疑点金额（元）", "value": "风险加权金额（元）",
}
"""Summary columns (frame column → header)."""

VISIT_HEADERS = {
    "week": "周次", "fixmedins_code": "定点医药机构编号", "fixmedins_name": "机构名称",
    "type_name": "机构类型", "city_name": "所在市", "county_name": "所在区县",
    "risk": "风险分", "amount": "疑点金额（元）", "value": "风险加权金额（元）", "days": "检查天数",
}
"""Team-sheet columns (frame column → header)."""


def team_sheet(team_id: int) -> str:
    """The sheet name of a team: 第1组, 第2组, …"""
    return f"第{team_id}组"


def _type_name(fixmedins_type: object) -> str:
    if str(fixmedins_type) == "2":
        return "零售药店"
    return "医疗机构" if str(fixmedins_type) == "1" else str(fixmedins_type or "")


def plan_to_excel(plan: InspectionPlan, inputs: PlanInputs, path: Path) -> Path:
    """Write ``plan`` (made from ``inputs``) to the workbook ``path``; returns ``path``."""
    summary = teams_to_frame(plan, inputs)
    summary["team_id"] = summary["team_id"].map(team_sheet)
    summary = summary.rename(columns=SUMMARY_HEADERS)[list(SUMMARY_HEADERS.values())]
    gap = "—" if math.isnan(plan.gap) else f"{plan.gap:.2%}"
    bound = "—" if math.isnan(plan.best_bound) else f"{plan.best_bound:,.0f}"
    opts = inputs.options
    titles = {SUMMARY_SHEET: [
        "长三角医保基金联合检查计划" if opts.joint else "医保基金交叉检查计划",
        f"目标值（风险加权疑点金额）：{plan.objective:,} 元；上界：{bound} 元；最优性差距：{gap}；"
        f"求解状态：{plan.status}（{plan.method}，{plan.wall_seconds:.1f} 秒）",
        f"{len(plan.teams)} 个检查组，每组 {opts.team_size} 人；{opts.weeks} 周，每周 "
        f"{opts.days_per_week} 天；预算 {opts.team_days} 组·天，已用 {plan.days_used} 组·天；"
        f"覆盖疑点金额 {plan.amount:,.2f} 元"
        + (f"；备勤人员：{'、'.join(plan.reserve)}" if plan.reserve else ""),
    ]}
    sheets: dict[str, pd.DataFrame] = {SUMMARY_SHEET: summary}
    visits = plan_to_frame(plan, inputs)
    if "county_name" not in visits.columns:
        visits["county_name"] = ""
    if "fixmedins_name" not in visits.columns:
        visits["fixmedins_name"] = visits["fixmedins_code"]
    if "fixmedins_type" not in visits.columns:
        visits["fixmedins_type"] = ""
    visits["type_name"] = visits["fixmedins_type"].map(_type_name)
    by_id = inputs.inspector_by_id
    for team in plan.teams:
        mine = visits[visits["team_id"] == team.team_id]
        sheet = team_sheet(team.team_id)
        sheets[sheet] = mine.rename(columns=VISIT_HEADERS)[list(VISIT_HEADERS.values())]
        names = "、".join(f"{by_id[m].name}（{m}）" for m in team.members if m in by_id)
        titles[sheet] = [f"{sheet}检查安排", f"成员：{names}"]
    return write_workbook(path, sheets, titles=titles)
