"""``yibao detect`` and ``yibao evaluate`` end to end on the detected synthetic store."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from tests.detected import Detected
from yibao.cli import cli


def test_detect_json_has_rings_and_chains(detected: Detected, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    shutil.copy(detected.db, db)
    out = CliRunner().invoke(cli, ["detect", "--db", str(db), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["rings"]
    for ring in data["rings"]:
        assert set(ring) >= {"ring_id", "pattern", "score", "persons", "institutions",
                             "practitioners", "fund_amount", "evidence"}
        assert ring["evidence"]
        assert isinstance(ring["evidence"][0], str)
    assert {r["ring_id"] for r in data["rings"]} == {r.ring_id for r in detected.result.rings}
    assert any(c["hit_class"] == "resale" for c in data["chains"])
    for chain in data["chains"]:
        assert set(chain) >= {"drug_trac_codg", "setl_ids", "institutions"}
        assert len(chain["setl_ids"]) >= 2


def test_evaluate_prints_the_per_scenario_table(detected: Detected, tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    shutil.copy(detected.db, db)
    out = CliRunner().invoke(cli, ["evaluate", str(detected.folder), "--db", str(db),
                                   "--no-detect", "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["recall"] >= 0.95
    assert data["precision"] >= 0.90
    patterns = {s["pattern"] for s in data["scenarios"]}
    assert {"card_pooling", "family_visits", "dialysis_cohort"} <= patterns
    text = CliRunner().invoke(cli, ["evaluate", str(detected.folder), "--db", str(db),
                                    "--no-detect"])
    assert text.exit_code == 0
    assert "recall" in text.stdout
    assert "precision" in text.stdout


def test_detect_on_a_missing_store_says_how_to_fix(tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["detect", "--db", str(tmp_path / "none.duckdb")])
    assert out.exit_code == 2
    assert "yibao load" in out.output


def test_evaluate_without_truth_is_refused(detected: Detected, tmp_path: Path) -> None:
    out = CliRunner().invoke(cli, ["evaluate", str(tmp_path), "--db", str(detected.db),
                                   "--no-detect"])
    assert out.exit_code == 2
    assert "truth.json" in out.output
