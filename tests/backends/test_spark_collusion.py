"""Spark and the embedded store give the same collusion findings (steering tests kept, their
count, the other patients), field by field and floats bit for bit, on the detected 100k store
split into several buckets of institutions (Spark in local mode, a real JVM)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from backends.spark.collusion import doctor_buckets, spark_collusion_findings
from backends.spark.lake import LOADED_TABLES, read_lake, write_lake
from backends.spark.partitioned import BUCKET
from backends.spark.session import spark_session
from graph.collusion import SteeringTest, collusion_findings, steering_tests
from loaders.store import open_store
from tests.detected import Detected

pytestmark = [pytest.mark.integration, pytest.mark.spark]

BUCKETS = 4


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


def test_collusion_findings_on_spark_equal_the_embedded_store(detected: Detected, spark: Any,
                                                              lake: Path) -> None:
    tables = read_lake(spark, lake)
    found = spark_collusion_findings(spark, tables, work=lake / "_work", buckets=BUCKETS)
    with open_store(detected.db, read_only=True) as store:
        expected = collusion_findings(store.con)
        tested = [t.doctor for t in steering_tests(store.con)]

    assert expected.kept, "the detected store has no kept steering test"
    assert found.n_tests == expected.n_tests == len(tested)
    assert [t.doctor for t in found.kept] == [t.doctor for t in expected.kept]
    for mine, theirs in zip(found.kept, expected.kept, strict=True):
        for f in fields(SteeringTest):
            assert getattr(mine, f.name) == getattr(theirs, f.name), (mine.doctor, f.name)
            assert repr(getattr(mine, f.name)) == repr(getattr(theirs, f.name)), \
                (mine.doctor, f.name)  # floats bit for bit
    assert dict(found.others) == dict(expected.others)
    assert list(found.others) == list(expected.others)
    assert repr(found) == repr(expected)

    # the doctors really were tested in several buckets
    placed = doctor_buckets(tables, BUCKETS)
    held = placed.where(placed.doctor.isin(tested))
    assert held.select(BUCKET).distinct().count() > 1
    assert held.count() == len(tested)
