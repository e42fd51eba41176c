"""``yibao plan``: a joint inspection plan (检查计划) from a detected store and a roster.

Reads the candidate institutions from the store (detection must have run), the inspectors from
a CSV roster, solves the plan with CP-SAT (:func:`yibao.inspection.plan_inspections`), checks it
(:func:`yibao.inspection.check_plan`) and writes the Excel workbook; the summary (objective,
bound, optimality gap, the greedy baseline on the same teams) goes to stderr, or as JSON to
stdout with ``--json``.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from yibao._cli_common import CONTEXT, _fail, _settings, err
from yibao.errors import YibaoError

if TYPE_CHECKING:
    from yibao.inspection import InspectionPlan

__all__ = ["plan_command"]


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        _fail(f"date {text!r} is not YYYY-MM-DD, e.g. 2024-03-31")


@click.command("plan", context_settings=CONTEXT, short_help="检查计划 / plan joint inspections")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="已检测的存储文件 / a store on which 'yibao detect' has run")
@click.option("--inspectors", "roster", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="检查人员名单 CSV（编号,姓名,城市代码[,省份代码]）/ inspector roster CSV")
@click.option("--team-days", required=True, type=int,
              help="预算：总组·天 / budget: total team-days")
@click.option("--weeks", default=4, show_default=True, type=int, help="周数 / weeks")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default=Path("plan.xlsx"), show_default=True, help="Excel 输出 / workbook to write")
@click.option("--team-size", default=3, show_default=True, type=int,
              help="每组人数 / inspectors per team")
@click.option("--days-per-week", default=5, show_default=True, type=int,
              help="每周工作日 / working days per week")
@click.option("--joint/--no-joint", default=True, show_default=True,
              help="联合检查：每组至少两省 / joint: every team mixes provinces")
@click.option("--cross-province", is_flag=True,
              help="交叉互查：不查组员本省 / no team visits a member's province")
@click.option("--max-spread", default=2, show_default=True, type=int,
              help="各组工作量最大差（组·天）/ most team-days between busiest and idlest team")
@click.option("--start", "start_day", default=None,
              help="只计此日起的结算 YYYY-MM-DD / period start")
@click.option("--end", "end_day", default=None, help="截至此日 YYYY-MM-DD / period end")
@click.option("--region", default=None,
              help="只查此区划（省/市/县代码）/ only institutions in this division")
@click.option("--time-limit", default=60.0, show_default=True, type=float,
              help="求解时限（秒）/ solver time limit, seconds")
@click.option("--workers", default=2, show_default=True, type=int, help="求解线程 / threads")
@click.option("--seed", default=0, show_default=True, type=int, help="随机种子 / seed")
@click.option("--json", "as_json", is_flag=True, help="输出 JSON 摘要 / print a JSON summary")
def plan_command(db: Path | None, roster: Path, team_days: int, weeks: int, out: Path,
                 team_size: int, days_per_week: int, joint: bool, cross_province: bool,
                 max_spread: int, start_day: str | None, end_day: str | None,
                 region: str | None, time_limit: float, workers: int, seed: int,
                 as_json: bool) -> None:
    """制定检查计划：按风险和疑点金额选机构、组成跨地区检查组、按周安排。

    Plan inspections: choose institutions by risk and suspicious amount, form cross-regional
    teams (nobody inspects their own city; joint teams mix provinces), schedule them by week
    (a team-week stays in one city) within the team-days budget, and write the plan to OUT.
    """
    from loaders.store import open_published
    from yibao.inspection import (
        PlanInputs,
        PlanOptions,
        candidates_from_store,
        check_plan,
        greedy_plan,
        inspectors_from_csv,
        plan_to_excel,
    )
    from yibao.inspection.model import plan_inspections

    settings = _settings(db=db)
    if not settings.db.exists():
        _fail(f"store {settings.db} does not exist: load data and run 'yibao detect' first")
    first, last = _day(start_day), _day(end_day)
    if (first is None) != (last is None):
        _fail("give both --start and --end, or neither")
    try:
        inspectors = inspectors_from_csv(roster)  # the user's file first: a bad one fails fast
        with open_published(settings.db) as store:
            candidates = candidates_from_store(
                store.con, period=(first, last) if first and last else None, region=region)
        inputs = PlanInputs(candidates, inspectors, PlanOptions(
            team_days=team_days, weeks=weeks, team_size=team_size,
            days_per_week=days_per_week, joint=joint, cross_province=cross_province,
            max_spread_days=max_spread))
        if not as_json:
            err.print(f"[dim]… {len(candidates):,} candidate institutions, "
                      f"{len(inputs.inspectors)} inspectors, {inputs.n_teams} teams; "
                      f"solving (up to {time_limit:g} s)[/]", highlight=False)
        plan = plan_inspections(inputs, time_limit=time_limit, seed=seed, workers=workers)
        baseline = greedy_plan(inputs, teams=plan.formation)
        problems = check_plan(plan, inputs)
        if problems:  # a solver bug: refuse to hand out a plan that breaks a rule
            _fail("the plan breaks rules (please report): " + "; ".join(problems[:5]), code=1)
        plan_to_excel(plan, inputs, out)
    except YibaoError as exc:
        _fail(str(exc))
    summary = {
        "out": str(out), "candidates": len(candidates), "inspectors": len(inputs.inspectors),
        "teams": len(plan.teams), "reserve": list(plan.reserve), "visits": len(plan.visits),
        "team_days_used": plan.days_used, "objective": plan.objective,
        "best_bound": plan.best_bound, "gap": plan.gap, "status": plan.status,
        "amount": round(plan.amount, 2), "seconds": round(plan.wall_seconds, 2),
        "greedy_objective": baseline.objective,
        "ratio_to_greedy": plan.objective / baseline.objective if baseline.objective else None,
    }
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    _print_plan(plan, baseline, out)


def _print_plan(plan: InspectionPlan, baseline: InspectionPlan, out: Path) -> None:
    table = Table(title=f"检查计划 / plan → {out}")
    table.add_column("指标 figure")
    table.add_column("值 value", justify="right")
    rows = [
        ("检查组 teams", f"{len(plan.teams)}" + (f" (备勤 reserve {len(plan.reserve)})"
                                                  if plan.reserve else "")),
        ("检查机构 visits", f"{len(plan.visits):,}"),
        ("已用组·天 team-days", f"{plan.days_used:,}"),
        ("风险加权金额 objective (元)", f"{plan.objective:,}"),
        ("上界 best bound (元)", f"{plan.best_bound:,.0f}"),
        ("最优性差距 gap", f"{plan.gap:.2%}"),
        ("状态 status", plan.status),
        ("贪心基线 greedy, same teams (元)", f"{baseline.objective:,}"),
        ("疑点金额 amount (元)", f"{plan.amount:,.2f}"),
        ("用时 seconds", f"{plan.wall_seconds:.1f}"),
    ]
    for name, value in rows:
        table.add_row(name, value)
    err.print(table)
    err.print("各组人天 / team-days per team: "
              + ", ".join(f"{k}:{v}" for k, v in sorted(plan.team_loads().items())),
              highlight=False)
