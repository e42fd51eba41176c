"""Spark and the embedded store give the same collusion findings (steering tests kept, their
count, the other patients), field by field and floats bit for bit, on the detected 100k store
split into several buckets of institutions (Spark in local mode, a real JVM)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from backends.spark.collusion import (
    doctor_buckets,
    spark_collusion_findings,
    spark_steering_tests,
)
from backends.spark.lake import read_lake
from backends.spark.partitioned import BUCKET
from graph.collusion import SteeringTest, collusion_findings, steering_tests
from loaders.store import open_store
from tests.detected import Detected

pytestmark = [pytest.mark.integration, pytest.mark.spark]

BUCKETS = 4



def _same_tests(mine: Sequence[SteeringTest], theirs: Sequence[SteeringTest]) -> None:
    assert [t.doctor for t in mine] == [t.doctor for t in theirs]
    for a, b in zip(mine, theirs, strict=True):
        for f in fields(SteeringTest):
            assert getattr(a, f.name) == getattr(b, f.name), (a.doctor, f.name)
            assert repr(getattr(a, f.name)) == repr(getattr(b, f.name)), \
                (a.doctor, f.name)  # floats bit for bit


def test_collusion_findings_on_spark_equal_the_embedded_store(detected: Detected, spark: Any,
                                                              detected_lake: Path) -> None:
    tables = read_lake(spark, detected_lake)
    found = spark_collusion_findings(spark, tables, work=detected_lake / "_work", buckets=BUCKETS)
    every = spark_steering_tests(spark, tables, work=detected_lake / "_work", buckets=BUCKETS)
    with open_store(detected.db, read_only=True) as store:
        expected = collusion_findings(store.con)
        tests = steering_tests(store.con)
    tested = [t.doctor for t in tests]

    assert expected.kept, "the detected store has no kept steering test"
    assert found.n_tests == expected.n_tests == len(tested)
    _same_tests(found.kept, expected.kept)
    assert dict(found.others) == dict(expected.others)
    assert list(found.others) == list(expected.others)
    assert repr(found) == repr(expected)
    # every test, kept or not: the colleagues' and the patients' shares (peers, habits) of
    # the doctors far from any flag line too
    _same_tests(every, tests)

    # the doctors really were tested in several buckets
    placed = doctor_buckets(tables, BUCKETS)
    held = placed.where(placed.doctor.isin(tested))
    assert held.select(BUCKET).distinct().count() > 1
    assert held.count() == len(tested)
