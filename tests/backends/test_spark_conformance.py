"""Spark and the embedded store detect the same things: on the detected 100k store split into
several buckets (Spark in local mode, a real JVM), the rule hits, chains, chain links, rings
(ids, members, scores, evidence), ring members and ring settlements written to the lake equal
the store's row for row, and the figures read from the lake equal the store's."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from backends.spark.detect import spark_detect
from backends.spark.lake import attach_lake
from graph.figures import flagged_rings, rule_hits_by_rule, suspicious_fund
from loaders.store import open_store
from tests.detected import Detected

pytestmark = [pytest.mark.integration, pytest.mark.spark]

# columns whose DuckDB JSON type travels as text through Arrow; columns of the run itself
_AS_TEXT = {"rule_hits": ("metrics",), "chains": ("hops",), "rings": ("features", "metrics")}
_LEFT_OUT = {"rings": ("run_id",)}
_TABLES = ("rule_hits", "chains", "chain_links", "rings", "ring_members", "ring_settlements")



def _select(table: str, schema: str) -> str:
    text = _AS_TEXT.get(table, ())
    drop = (*text, *_LEFT_OUT.get(table, ()))
    columns = ", ".join(f"{c}::VARCHAR AS {c}" for c in text)
    head = f"* EXCLUDE ({', '.join(drop)})" if drop else "*"
    return f"SELECT {head}{', ' + columns if columns else ''} FROM {schema}.{table}"


def _differences(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int, int]:
    """Rows of the store's ``table``, and rows only the store or only Spark has."""
    mine, theirs = _select(table, "store"), _select(table, "spark")
    rows = con.execute(f"SELECT count(*) FROM store.{table}").fetchone()[0]
    only_mine = con.execute(f"SELECT count(*) FROM ({mine} EXCEPT ALL {theirs})").fetchone()[0]
    only_theirs = con.execute(f"SELECT count(*) FROM ({theirs} EXCEPT ALL {mine})").fetchone()[0]
    return rows, only_mine, only_theirs


def test_detection_on_spark_equals_the_embedded_store(detected: Detected, spark: Any,
                                                      detected_lake: Path) -> None:
    said: list[str] = []
    found = spark_detect(spark, detected_lake, rows_per_bucket=25_000, progress=said.append)
    assert found.buckets >= 3  # the store's settlements really are split
    assert "rules by person" in said
    assert "steering tests" in said
    assert found.rings
    con = duckdb.connect()
    con.execute("ATTACH ? AS store (READ_ONLY)", [str(detected.db)])
    con.execute("CREATE SCHEMA spark")
    con.execute("SET schema = 'spark'")
    attach_lake(con, detected_lake)
    for table in _TABLES:
        rows, only_mine, only_theirs = _differences(con, table)
        assert rows > 0, table
        assert (only_mine, only_theirs) == (0, 0), table
    runs = con.execute("SELECT run_id, engine, rings FROM spark.detect_runs").fetchall()
    assert runs == [(1, f"spark:{found.rings and runs[0][1].split(':')[1]}", len(found.rings))]

    # the figures read from the lake are the store's
    with open_store(detected.db, read_only=True) as store:
        first, last = store.con.execute("SELECT min(setl_time)::DATE, max(setl_time)::DATE "
                                        "FROM settlements").fetchone()
        expected = [(suspicious_fund(store.con, a, b), flagged_rings(store.con, a, b),
                     rule_hits_by_rule(store.con, a, b))
                    for a, b in ((first, last), (date(2024, 4, 1), date(2024, 6, 30)))]
    view = duckdb.connect()
    attach_lake(view, detected_lake)
    got = [(suspicious_fund(view, a, b), flagged_rings(view, a, b), rule_hits_by_rule(view, a, b))
           for a, b in ((first, last), (date(2024, 4, 1), date(2024, 6, 30)))]
    for (fund, rings, hits), (want_fund, want_rings, want_hits) in zip(got, expected,
                                                                       strict=True):
        # the same settlements; their money summed in another order, the same to the cent
        assert fund.fund == pytest.approx(want_fund.fund, abs=0.005)
        assert (fund.settlements, fund.persons, fund.institutions) == (
            want_fund.settlements, want_fund.persons, want_fund.institutions)
        assert (rings, hits) == (want_rings, want_hits)
    assert expected[0][0].fund > 0


def test_yibao_detect_on_spark_puts_the_same_results_in_the_store(
        detected: Detected, spark: Any, tmp_path: Path) -> None:
    import shutil

    from click.testing import CliRunner

    from yibao.cli import cli

    db = tmp_path / "store.duckdb"
    shutil.copy(detected.db, db)
    result = CliRunner().invoke(cli, ["detect", "--db", str(db), "--backend", "spark",
                                      "--lake", str(tmp_path / "lake"), "--json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "lake" / "SOURCE.json").is_file()
    con = duckdb.connect()
    con.execute("ATTACH ? AS store (READ_ONLY)", [str(detected.db)])
    con.execute("ATTACH ? AS spark (READ_ONLY)", [str(db)])
    for table in _TABLES:  # same rows and the same column types as the embedded run's
        _rows, only_mine, only_theirs = _differences(con, table)
        assert (only_mine, only_theirs) == (0, 0), table
        mine = con.execute(f"DESCRIBE store.{table}").fetchall()
        theirs = con.execute(f"DESCRIBE spark.{table}").fetchall()
        assert [r[:2] for r in mine] == [r[:2] for r in theirs], table
    engine, run_id = con.execute("SELECT engine, run_id FROM spark.detect_runs "
                                 "ORDER BY run_id DESC LIMIT 1").fetchone()
    assert engine.startswith("spark:")
    assert run_id == con.execute("SELECT max(run_id) FROM store.detect_runs").fetchone()[0] + 1
    con.close()
    assert (tmp_path / "store.duckdb.published").is_dir()  # the workbench sees the run
    # a second run finds the lake current and does not copy the tables again
    again = CliRunner().invoke(cli, ["detect", "--db", str(db), "--backend", "spark",
                                     "--lake", str(tmp_path / "lake")])
    assert again.exit_code == 0, again.output
    assert "copying the store's tables" not in again.output
