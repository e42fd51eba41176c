"""Claims rows of persons or institutions missing from their tables are dropped on Spark as
the store's numbering drops them (:func:`backends.spark.rings._known_only`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.spark]


def test_rows_of_unknown_codes_are_dropped_and_known_rows_kept(spark: Any, tmp_path: Path
                                                               ) -> None:
    from backends.spark.rings import _known_only

    rows = spark.createDataFrame([("S1", "P1", "H1"), ("S2", "P2", "H1"), ("S3", "P1", "H9")],
                                 "setl_id string, psn_no string, fixmedins_code string")
    persons = spark.createDataFrame([("P1",), ("P2",)], "psn_no string")
    places = spark.createDataFrame([("H1",), ("H9",)], "fixmedins_code string")
    kept = _known_only(spark, rows, {"persons": persons, "institutions": places}, tmp_path / "a")
    assert kept is rows  # nothing missing: no join, no copy
    fewer = {"persons": persons.where("psn_no = 'P1'"),
             "institutions": places.where("fixmedins_code = 'H1'")}
    got = _known_only(spark, rows, fewer, tmp_path / "b")
    assert sorted(r["setl_id"] for r in got.collect()) == ["S1"]
