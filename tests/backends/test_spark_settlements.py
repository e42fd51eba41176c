"""A reversal travels with the settlement it cancels, however the buckets are keyed
(:mod:`backends.spark.settlements`), on a real Spark in local mode."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.spark]

_COLUMNS = "setl_id string, psn_no string, fixmedins_code string, init_setl_id string"
_ROWS = [
    ("S1", "P1", "H1", None),
    ("S2", "P2", "H2", None),
    ("R1", "P9", "H9", "S1"),  # a reversal naming another person and place than its original
    ("R2", "P2", "H2", "S2"),
    ("S3", "P3", "H3", None),
]


def _settlements(spark: Any) -> Any:
    return spark.createDataFrame(_ROWS, _COLUMNS)


@pytest.mark.parametrize("broadcast", [True, False])
@pytest.mark.parametrize("key", ["psn_no", "fixmedins_code"])
def test_a_reversal_takes_its_originals_bucket(spark: Any, key: str, broadcast: bool,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from backends.spark import settlements as module
    from backends.spark.partitioned import BUCKET, bucket_of

    if not broadcast:
        monkeypatch.setattr(module, "BROADCAST_REVERSALS", 0)
    buckets = 997  # many buckets: P1 and P9 (H1 and H9) fall in different ones
    frame = _settlements(spark)
    own = {r["setl_id"]: r["b"] for r in frame.select(
        "setl_id", bucket_of(key, buckets).alias("b")).collect()}
    assert own["R1"] != own["S1"], "the test needs the two keys in different buckets"
    got = {r["setl_id"]: r[BUCKET]
           for r in module.by_original(frame, key, buckets).collect()}
    assert sorted(got) == sorted(own)  # every row once
    assert got["R1"] == got["S1"] == own["S1"]
    assert got["R2"] == got["S2"] == own["S2"]
    assert got["S3"] == own["S3"]


def test_asked_rows_come_with_their_reversals_in_the_asking_bucket(spark: Any) -> None:
    from backends.spark.partitioned import BUCKET
    from backends.spark.settlements import with_reversals

    frame = _settlements(spark)
    ids = spark.createDataFrame(
        [("S1", 0), ("S1", 1), ("R1", 1), ("S3", 2)], f"setl_id string, {BUCKET} int")
    got = sorted((r["setl_id"], r[BUCKET]) for r in with_reversals(frame, ids).collect())
    # bucket 1 asked for R1 and gets it again as S1's reversal: the part is made distinct
    assert got == [("R1", 0), ("R1", 1), ("R1", 1), ("S1", 0), ("S1", 1), ("S3", 2)]
