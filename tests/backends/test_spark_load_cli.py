"""``yibao load FOLDER --lake DIR``: the loader's checks on Spark, from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loaders.load import load_folder
from loaders.store import open_store
from yibao.cli import cli

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def test_load_into_a_lake_gives_the_stores_account(spark: Any, tiny: Any, tmp_path: Path
                                                    ) -> None:
    rows = tiny.rows()
    rows["persons"].append(dict(rows["persons"][0]))  # a duplicate: one row quarantined
    folder = tiny.write_folder(tmp_path / "export", rows)
    with open_store(tmp_path / "store.duckdb") as store:
        expected = load_folder(folder, store).to_dict()
    lake = tmp_path / "lake"
    result = CliRunner().invoke(cli, ["load", str(folder), "--lake", str(lake), "--json"])
    assert result.exit_code == 0, result.output
    got = json.loads(result.stdout)
    for key in ("rows_in", "loaded", "inserted", "quarantined", "reasons"):
        assert got[key] == expected[key], key
    assert expected["quarantined"] == 1
    assert (lake / "settlements").is_dir()
    assert (lake / "quarantine").is_dir()


def test_lake_options_that_do_not_go_together(tmp_path: Path, tiny: Any) -> None:
    folder = tiny.write_folder(tmp_path / "export")
    runner = CliRunner()
    master_alone = runner.invoke(cli, ["load", str(folder), "--master", "local[1]"])
    assert master_alone.exit_code != 0
    assert "--lake" in master_alone.output
    with_table = runner.invoke(cli, ["load", str(folder), "--lake", str(tmp_path / "l"),
                                     "--table", "persons"])
    assert with_table.exit_code != 0
    assert "--table" in with_table.output


def test_a_lake_loaded_on_spark_is_detected_without_a_store(
        spark: Any, tiny: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = tiny.rows()
    rows["persons"][0]["brdy"] = "1980-01-02"  # kept with a note: not the ID's birthday
    folder = tiny.write_folder(tmp_path / "export", rows)
    lake = tmp_path / "lake"
    runner = CliRunner()
    loaded = runner.invoke(cli, ["load", str(folder), "--lake", str(lake)])
    assert loaded.exit_code == 0, loaded.output
    assert "brdy_mismatch" in loaded.output
    assert "data_notes" in loaded.output  # where a lake's notes are, not a store command
    assert "yibao quarantine" not in loaded.output
    monkeypatch.chdir(tmp_path)  # no store here
    monkeypatch.delenv("YIBAO_DB", raising=False)
    result = runner.invoke(cli, ["detect", "--backend", "spark", "--lake", str(lake), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["run_id"] == 1
    assert (lake / "rule_hits").is_dir()
    assert (lake / "detect_runs").is_dir()
    assert not (tmp_path / "yibao.duckdb").exists()
    # a store must not overwrite that lake with its own tables
    with open_store(tmp_path / "store.duckdb") as store:
        load_folder(folder, store)
    refused = runner.invoke(cli, ["detect", "--backend", "spark", "--db",
                                  str(tmp_path / "store.duckdb"), "--lake", str(lake)])
    assert refused.exit_code != 0
    assert "loaded on Spark" in refused.output
