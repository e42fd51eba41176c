"""Bucketed jobs (:mod:`backends.spark.partitioned`) on a real Spark in local mode: rows of
equal keys meet in one bucket, shared tables reach every bucket, a ``distinct`` part keeps
one of identical rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def test_parts_meet_by_key_and_distinct_parts_drop_repeats(spark: Any, tmp_path: Path
                                                           ) -> None:
    from backends.spark.partitioned import Part, run_bucketed

    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        # defined here, so Spark's workers get it by value (they cannot import tests)
        return {"met": con.sql(
            "SELECT a.k, count(DISTINCT a.v) AS a_rows, count(DISTINCT b.w) AS b_rows, "
            "(SELECT count(*) FROM b b2 WHERE b2.k = a.k) AS b_lines, "
            "(SELECT max(x) FROM shared_one) AS shared "
            "FROM a JOIN b USING (k) GROUP BY a.k").to_arrow_table()}

    a = spark.createDataFrame(
        [(f"k{i}", i) for i in range(40)], "k string, v int")
    # every b row twice: the distinct part keeps one of each
    b = spark.createDataFrame(
        [(f"k{i}", f"w{i}-{j}") for i in range(40) for j in range(3)] * 2, "k string, w string")
    out = run_bucketed(spark, {"a": Part(a, "k"), "b": Part(b, "k", distinct=True)}, job,
                       buckets=5, shared={"shared_one": pa.table({"x": [7]})},
                       work=tmp_path)["met"]
    rows = {r["k"]: r for r in out.collect()}
    assert sorted(rows) == sorted(f"k{i}" for i in range(40))
    assert {(r["a_rows"], r["b_rows"], r["b_lines"], r["shared"]) for r in rows.values()} == {
        (1, 3, 3, 7)}
