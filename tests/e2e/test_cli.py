"""The yibao command line: synth, load --json, exit codes and one-line reasons, demo."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from yibao.cli import cli


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_help_is_bilingual() -> None:
    code, out, _ = _run("--help")
    assert code == 0
    assert "长三角医保基金监管" in out
    assert "Yangtze River Delta" in out
    code, out, _ = _run("load", "--help")
    assert code == 0
    assert "导入" in out
    assert "Load a folder" in out


def test_load_json_summary(clean_folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    code, out, _ = _run("load", str(clean_folder), "--db", str(db), "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["quarantined"] == 0
    assert {f["table"] for f in summary["files"]} == {
        "persons", "institutions", "practitioners", "settlements", "fee_details"
    }
    for f in summary["files"]:
        assert f["rows_in"] == f["loaded"] + f["quarantined"]
    assert summary["rows_in"] == summary["loaded"]


def test_load_json_counts_quarantine_reasons(dirty_folder: Path, tmp_path: Path) -> None:
    code, out, _ = _run("load", str(dirty_folder), "--db", str(tmp_path / "d.duckdb"), "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["quarantined"] == sum(summary["reasons"].values())
    assert summary["reasons"]["column_count"] >= 1


def test_nothing_loaded_exits_1_with_one_line_reason(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "persons.csv").write_text(
        "psn_no,psn_name,certno,gend,brdy,insutype,insu_admdvs\n"
        "3.41200000000000E+19,张三,123,1,1980-01-01,310,341200\n",  # a key Excel mangled
        encoding="utf-8",
    )
    code, _, err = _run("load", str(folder), "--db", str(tmp_path / "b.duckdb"))
    assert code == 1
    assert "nothing loaded: all 1 rows were quarantined" in err


def test_an_odd_descriptive_value_is_loaded_with_a_note(tmp_path: Path) -> None:
    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "persons.csv").write_text(
        "psn_no,psn_name,certno,gend,brdy,insutype,insu_admdvs\n"
        "34120000000000000001,张三,123,1,1980-01-01,310,341200\n",  # a certno of 3 digits
        encoding="utf-8",
    )
    db = tmp_path / "b.duckdb"
    code, out, _ = _run("load", str(folder), "--db", str(db), "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["loaded"], report["quarantined"], report["noted"]) == (1, 0, 1)
    assert report["notes"] == {"certno_length": 1}
    code, out, _ = _run("quarantine", "--db", str(db), "--notes", "--json")
    assert code == 0
    listed = json.loads(out)
    assert listed["total"] == 1
    assert (listed["rows"][0]["column_name"], listed["rows"][0]["raw_value"]) == ("certno", "123")


def test_missing_column_exits_1_and_lists_columns(tmp_path: Path) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "persons.csv").write_text("人员ID号,姓名\n1,张三\n", encoding="utf-8")
    code, _, err = _run("load", str(folder), "--db", str(tmp_path / "b.duckdb"))
    assert code == 1
    flat = " ".join(err.split())
    assert "psn_no (accepted: psn_no, 人员编号" in flat
    assert "Columns found: 人员ID号, 姓名" in flat


def test_empty_folder_exits_1(tmp_path: Path) -> None:
    code, _, err = _run("load", str(tmp_path), "--db", str(tmp_path / "e.duckdb"))
    assert code == 1
    assert "no table files found" in " ".join(err.split())


@pytest.mark.slow
def test_demo_builds_a_store_and_replaces_only_its_own(tmp_path: Path) -> None:
    db, data = tmp_path / "demo.duckdb", tmp_path / "data"
    args = ("demo", "--db", str(db), "--data", str(data), "--scale", "10000", "--json")
    code, out, _ = _run(*args)
    assert code == 0
    summary = json.loads(out)
    assert summary["load"]["quarantined"] == 0
    assert summary["load"]["loaded"] > 10_000
    assert (data / "truth.json").exists()
    code, out, _ = _run(*args)  # runs again from a fresh store
    assert code == 0
    assert json.loads(out)["load"]["inserted"] == summary["load"]["inserted"]

    other = tmp_path / "precious.duckdb"
    shutil.copy(db, other)
    from loaders.store import open_store

    with open_store(other) as store:
        store.con.execute("DELETE FROM meta WHERE key = 'created_by'")
    code, _, err = _run("demo", "--db", str(other), "--data", str(data), "--scale", "10000")
    assert code == 2
    assert "refusing to replace" in err
    assert other.exists()


def test_quarantine_listing_shows_empty_cells_as_empty(dirty_folder: Path, tmp_path: Path) -> None:
    db = tmp_path / "d.duckdb"
    assert _run("load", str(dirty_folder), "--db", str(db))[0] == 0
    code, out, _ = _run("quarantine", "--db", str(db), "--json", "--limit", "500")
    assert code == 0
    listing = json.loads(out)
    assert listing["total"] == len(listing["rows"])
    missing = [r for r in listing["rows"] if r["reason_code"] == "missing_value"]
    assert missing
    code, _, err = _run("quarantine", "--db", str(db), "--limit", "500")
    assert code == 0
    assert "nan" not in err
