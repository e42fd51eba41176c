"""``yibao plan`` end to end on the detected synthetic store."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
from click.testing import CliRunner

from tests.detected import Detected
from yibao.cli import cli
from yibao.inspection import synthetic_inspectors


def _roster(path: Path, n: int = 12) -> Path:
    lines = ["工号,姓名,城市代码,省份代码"] + [
        f"{i.inspector_id},{i.name},{i.city},{i.province}" for i in synthetic_inspectors(n, 6)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_plan_writes_the_workbook_and_a_summary(detected: Detected, tmp_path: Path) -> None:
    out = tmp_path / "plan.xlsx"
    result = CliRunner().invoke(cli, [
        "plan", "--db", str(detected.db), "--inspectors", str(_roster(tmp_path / "r.csv")),
        "--team-days", "30", "--weeks", "2", "--out", str(out), "--time-limit", "10",
        "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["teams"] == 4
    assert summary["visits"] > 0
    assert summary["team_days_used"] <= 30
    assert summary["objective"] >= summary["greedy_objective"]
    assert summary["objective"] <= summary["best_bound"]
    assert summary["status"] in {"OPTIMAL", "FEASIBLE"}
    assert openpyxl.load_workbook(out).sheetnames == ["汇总", "第1组", "第2组", "第3组", "第4组"]


def test_plan_prints_a_table_without_json(detected: Detected, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [
        "plan", "--db", str(detected.db), "--inspectors", str(_roster(tmp_path / "r.csv")),
        "--team-days", "20", "--weeks", "2", "--out", str(tmp_path / "p.xlsx"),
        "--time-limit", "5", "--cross-province"])
    assert result.exit_code == 0, result.output
    assert "最优性差距 gap" in result.output


def test_plan_refuses_a_roster_from_one_province(detected: Detected, tmp_path: Path) -> None:
    roster = tmp_path / "r.csv"
    roster.write_text("id,name,city\nA,甲,320100\nB,乙,320500\nC,丙,321000\n", encoding="utf-8")
    result = CliRunner().invoke(cli, [
        "plan", "--db", str(detected.db), "--inspectors", str(roster), "--team-days", "10",
        "--out", str(tmp_path / "p.xlsx")])
    assert result.exit_code == 2
    assert "add inspectors from another province or set joint=False" in result.output
    assert not (tmp_path / "p.xlsx").exists()


def test_plan_needs_a_detected_store(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, [
        "plan", "--db", str(tmp_path / "none.duckdb"), "--inspectors",
        str(_roster(tmp_path / "r.csv")), "--team-days", "10"])
    assert result.exit_code == 2
    assert "does not exist" in result.output
