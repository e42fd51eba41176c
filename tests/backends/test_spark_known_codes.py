"""Claims rows of persons or institutions missing from their tables are dropped on Spark as
the store's numbering drops them, and the projection's scale is that of the rows kept
(:func:`backends.spark.rings._known_only`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from graph.projection import ProjectionScale

pytestmark = [pytest.mark.integration, pytest.mark.spark]

DAY = 86_400


def test_rows_of_unknown_codes_are_dropped_and_known_rows_kept(spark: Any, tmp_path: Path
                                                               ) -> None:
    from backends.spark.rings import _known_only

    rows = spark.createDataFrame(
        [("S1", "P1", "H1", 7 * DAY + 5), ("S2", "P2", "H1", 20 * DAY),
         ("S3", "P1", "H9", 5 * DAY)],
        "setl_id string, psn_no string, fixmedins_code string, t long")
    # what two person buckets of claims_job give for these rows: P1 in one, P2 in the other
    by_person = {
        "codes": spark.createDataFrame(
            [("claims.psn_no", "P1"), ("claims.fixmedins_code", "H1"),
             ("claims.fixmedins_code", "H9"), ("opter_id", "O1"), ("claims.psn_no", "P2"),
             ("claims.fixmedins_code", "H1")], "kind string, code string"),
        "span": spark.createDataFrame([(5 * DAY, 7 * DAY + 5), (20 * DAY, 20 * DAY)],
                                      "first_t long, last_t long")}
    persons = spark.createDataFrame([("P1",), ("P2",)], "psn_no string")
    places = spark.createDataFrame([("H1",), ("H9",)], "fixmedins_code string")
    kept, scale = _known_only(spark, rows, by_person,
                              {"persons": persons, "institutions": places}, tmp_path / "a")
    assert kept is rows  # nothing missing: no join, no copy
    assert scale == ProjectionScale(active_persons=2, first_day=5, last_day=20)
    fewer = {"persons": persons.where("psn_no = 'P1'"),
             "institutions": places.where("fixmedins_code = 'H1'")}
    got, scale = _known_only(spark, rows, by_person, fewer, tmp_path / "b")
    assert sorted(r["setl_id"] for r in got.collect()) == ["S1"]
    assert scale == ProjectionScale(active_persons=1, first_day=7, last_day=7)
