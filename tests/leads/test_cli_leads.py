"""``yibao leads`` end to end on the detected store: from detection, list, show, move, export,
import, verify; refusals exit 1 with the reason."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner, Result

from tests.detected import Detected
from yibao.cli import cli

pytestmark = pytest.mark.slow


def _run(args: list[str], db: Path, leads: Path) -> Result:
    env = {"YIBAO_BACKEND": "embedded", "YIBAO_DB": str(db), "YIBAO_LEADS": str(leads)}
    return CliRunner().invoke(cli, ["leads", *args], env=env)


def test_leads_commands_end_to_end(detected: Detected, tmp_path: Path) -> None:
    leads = tmp_path / "leads.sqlite"
    out = _run(["from-detection", "--json"], detected.db, leads)
    assert out.exit_code == 0, out.output
    made = json.loads(out.stdout)
    assert made["created"]["ring"] == made["drafts"]["ring"] > 0
    total = sum(made["created"].values())
    again = json.loads(_run(["from-detection", "--json"], detected.db, leads).stdout)
    assert sum(again["created"].values()) == 0
    assert again["existing"] == made["drafts"]

    listed = json.loads(_run(["list", "--json"], detected.db, leads).stdout)
    assert len(listed) == total
    ring = next(x for x in listed if x["source"] == "ring")
    lead_id = ring["lead_id"]
    assert ring["state"] == "pending"
    assert ring["amount_involved"].replace(".", "").isdigit()

    out = _run(["move", lead_id, "查实", "--by", "李四"], detected.db, leads)
    assert out.exit_code == 1
    assert "待核查 (pending) cannot move to 查实 (confirmed)" in out.stderr
    assert "核查中 (checking)" in out.stderr
    out = _run(["move", lead_id, "核查中", "--by", "李四", "--note", "开始核查", "--json"],
               detected.db, leads)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["version"] == 2
    out = _run(["move", lead_id, "confirmed", "--by", "王五", "--version", "1"],
               detected.db, leads)
    assert out.exit_code == 1
    assert "by 李四" in out.stderr
    assert "reload" in out.stderr
    for args in (["confirmed"], ["handling", "--disposition", "行政处罚", "--disposition",
                                 "移送公安", "--recovered", "5000"], ["已结案"]):
        out = _run(["move", lead_id, *args, "--by", "李四"], detected.db, leads)
        assert out.exit_code == 0, out.output

    shown = json.loads(_run(["show", lead_id, "--json"], detected.db, leads).stdout)
    assert shown["lead"]["state"] == "closed"
    assert shown["lead"]["dispositions"] == ["penalty", "police"]
    assert shown["lead"]["amount_recovered"] == "5000.00"
    assert [e["action"] for e in shown["history"]] == [
        "create", "transition", "transition", "transition", "update", "transition"]
    assert shown["history"][1]["note"] == "开始核查"
    out = _run(["show", lead_id], detected.db, leads)
    assert out.exit_code == 0
    assert "变更记录" in out.stderr

    closed = json.loads(_run(["list", "--state", "已结案", "--json"], detected.db, leads).stdout)
    assert [x["lead_id"] for x in closed] == [lead_id]

    book = tmp_path / "台账.xlsx"
    out = _run(["export", "--out", str(book)], detected.db, leads)
    assert out.exit_code == 0, out.output
    assert openpyxl.load_workbook(book).sheetnames == ["线索台账", "统计", "变更记录"]
    out = _run(["import", str(book), "--by", "王五", "--json"], detected.db, leads)
    assert out.exit_code == 0, out.output
    assert json.loads(out.stdout)["summary"] == {"rows": total, "updated": 0, "created": 0,
                                                 "unchanged": total, "rejected": 0}

    ws = openpyxl.load_workbook(book)
    sheet = ws["线索台账"]
    sheet.cell(4, 3).value = "不存在的状态"
    ws.save(book)
    out = _run(["import", str(book), "--by", "王五"], detected.db, leads)
    assert out.exit_code == 1
    assert "rejected 1" in out.stderr
    assert "row 4, column 状态" in out.stderr

    out = _run(["verify"], detected.db, leads)
    assert out.exit_code == 0, out.output
    assert "ledger intact" in out.stderr


def test_usage_errors(tmp_path: Path) -> None:
    out = _run(["from-detection"], tmp_path / "none.duckdb", tmp_path / "l.sqlite")
    assert out.exit_code == 2
    assert "does not exist" in out.stderr
    out = _run(["export", "--out", str(tmp_path / "x.csv")], tmp_path / "s.duckdb",
               tmp_path / "l.sqlite")
    assert out.exit_code == 2
    out = _run(["show", "XS-2024-000001"], tmp_path / "s.duckdb", tmp_path / "l.sqlite")
    assert out.exit_code == 1
    assert "no lead 'XS-2024-000001'" in out.stderr


def test_export_of_a_period_holds_that_period_s_leads_only(detected: Detected,
                                                            tmp_path: Path) -> None:
    from loaders.store import open_store
    from yibao.leads.period import activity_spans, leads_in_period
    from yibao.leads.sqlite_ledger import SqliteLedger

    leads = tmp_path / "leads.sqlite"
    assert _run(["from-detection"], detected.db, leads).exit_code == 0
    everything = SqliteLedger(leads).leads()
    with open_store(detected.db, read_only=True) as store:
        spans = activity_spans(store.con)
    march = leads_in_period(everything, spans, date(2024, 3, 1), date(2024, 3, 31))
    assert 0 < len(march) < len(everything)
    book = tmp_path / "march.xlsx"
    out = _run(["export", "--out", str(book), "--start", "2024-03-01", "--end", "2024-03-31"],
               detected.db, leads)
    assert out.exit_code == 0, out.output
    assert f"exported {len(march)} leads (2024-03-01..2024-03-31)" in out.stderr
    ws = openpyxl.load_workbook(book)
    rows = [r for r in ws["线索台账"].iter_rows(min_row=4, values_only=True) if r[0]]
    assert sorted(str(r[0]) for r in rows) == sorted(lead.lead_id for lead in march)
    stats = [r for r in ws["统计"].iter_rows(min_row=4, values_only=True) if r[0]]
    assert sum(int(r[3]) for r in stats) == len(march)  # type: ignore[arg-type]
    logged = {str(r[1]) for r in ws["变更记录"].iter_rows(min_row=4, values_only=True) if r[0]}
    assert logged == {lead.lead_id for lead in march}
    out = _run(["export", "--out", str(book), "--start", "2024-03-01"], detected.db, leads)
    assert out.exit_code == 2
    assert "both --start and --end" in out.stderr
    out = _run(["export", "--out", str(book), "--start", "2024-03-31", "--end", "2024-03-01"],
               detected.db, leads)
    assert out.exit_code == 2
    assert "before --start" in out.stderr


def test_export_in_english(detected: Detected, tmp_path: Path) -> None:
    import openpyxl

    leads = tmp_path / "leads.sqlite"
    assert _run(["from-detection"], detected.db, leads).exit_code == 0
    book = tmp_path / "leads.xlsx"
    out = _run(["export", "--out", str(book), "--lang", "en"], detected.db, leads)
    assert out.exit_code == 0, out.output
    wb = openpyxl.load_workbook(book)
    assert wb.sheetnames == ["Leads", "Statistics", "Change log"]
    ws = wb["Leads"]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "lead id")
    cols = {ws.cell(header, c).value: c for c in range(1, ws.max_column + 1)}
    titles = [ws.cell(r, cols["title (English, not imported)"]).value
              for r in range(header + 1, ws.max_row + 1)]
    assert titles
    assert all(t.split(":")[0].isascii() for t in titles)  # English words, Chinese names
    back = _run(["import", str(book), "--by", "wang"], detected.db, leads)
    assert back.exit_code == 0, back.output  # an English workbook reads back, nothing refused
