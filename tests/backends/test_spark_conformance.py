"""Spark and the embedded store give the same rule hits, chains and chain links, row for row,
on the detected 100k store split into several buckets (Spark in local mode, a real JVM)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from backends.spark.lake import LOADED_TABLES, attach_lake, read_lake, write_lake
from backends.spark.rules import spark_rules_and_chains
from backends.spark.session import spark_session
from loaders.store import open_store
from tests.detected import Detected

pytestmark = [pytest.mark.integration, pytest.mark.spark]

# columns whose DuckDB JSON type travels as text through Arrow
_AS_TEXT = {"rule_hits": "metrics", "chains": "hops"}


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def lake(detected: Detected, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lake")
    with open_store(detected.db, read_only=True) as store:
        counts = write_lake(store.con, folder)
        for table in LOADED_TABLES:
            assert counts[table] == store.con.execute(
                f"SELECT count(*) FROM {table}").fetchone()[0]
    return folder


def _differences(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, int, int]:
    """Rows of the store's ``table``, and rows only the store or only Spark has."""
    text = _AS_TEXT.get(table)
    mine = f"SELECT * EXCLUDE ({text}), {text}::VARCHAR AS {text} FROM store.{table}" \
        if text else f"SELECT * FROM store.{table}"
    theirs = f"SELECT * FROM spark.{table}"
    rows = con.execute(f"SELECT count(*) FROM store.{table}").fetchone()[0]
    only_mine = con.execute(f"SELECT count(*) FROM ({mine} EXCEPT ALL {theirs})").fetchone()[0]
    only_theirs = con.execute(f"SELECT count(*) FROM ({theirs} EXCEPT ALL {mine})").fetchone()[0]
    return rows, only_mine, only_theirs


def test_rules_and_chains_on_spark_equal_the_embedded_store(detected: Detected, spark: Any,
                                                           lake: Path) -> None:
    said: list[str] = []
    result = spark_rules_and_chains(spark, read_lake(spark, lake), work=lake / "_work",
                                    rows_per_bucket=25_000, progress=said.append)
    assert result.buckets >= 3  # the store's settlements really are split
    assert said == ["rules by person", "rules by doctor", "rules on the whole",
                    "traceability codes"]
    out = lake / "results"
    for table in ("rule_hits", "chains", "chain_links"):
        getattr(result, table).write.mode("overwrite").parquet(str(out / table))
    con = duckdb.connect()
    con.execute("ATTACH ? AS store (READ_ONLY)", [str(detected.db)])
    con.execute("CREATE SCHEMA spark")
    con.execute("SET schema = 'spark'")
    attach_lake(con, out)
    con.execute("SET schema = 'main'")
    for table in ("rule_hits", "chains", "chain_links"):
        rows, only_mine, only_theirs = _differences(con, table)
        assert rows > 0, table
        assert (only_mine, only_theirs) == (0, 0), table
    by_rule = dict(con.execute("SELECT rule_id, count(*) FROM spark.rule_hits GROUP BY 1"
                               ).fetchall())
    assert set(by_rule) >= {"TRACE_REUSE", "IMPOSSIBLE_TRAVEL", "DOCTOR_PHARMACY_CONCENTRATION"}
