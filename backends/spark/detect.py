"""The whole detection on Spark, from a lake to the lake: ``yibao detect --backend spark``.

Reads the loaded tables of the lake (:mod:`backends.spark.lake`), runs the rules and chains
(:mod:`backends.spark.rules`), the steering tests (:mod:`backends.spark.collusion`) and the
rings (:mod:`backends.spark.rings`), and writes every result table beside them as Parquet:
``rule_hits``, ``chains``, ``chain_links``, ``rings``, ``ring_members``,
``ring_settlements`` and ``detect_runs``, with the columns of the embedded store. Rings keep
their ids across runs (the previous run's ``rings`` in the lake). The ring tables are made by
the embedded store's own code (:func:`graph.detect.write_rings`) on the driver, from the rings
and their persons' settlements only.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from backends.spark.lake import DETECTION_COLUMNS, LOADED_TABLES, lake_tables, read_lake
from backends.spark.partitioned import BUCKET
from backends.spark.rings import claims_job, spark_rings
from backends.spark.rules import ROWS_PER_BUCKET, doctor_rules, spark_rules_and_chains
from backends.spark.settlements import and_reversals, staged_reversals
from graph.detect import record_run, rings_table_ddl, write_rings
from graph.ring_ids import PreviousRing
from graph.rings import Ring
from graph.scoring import DetectionSettings, load_detection_settings
from loaders._sql import literal

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["SparkDetection", "spark_detect"]

RING_TABLES = ("rings", "ring_members", "ring_settlements", "detect_runs")


@dataclass(frozen=True)
class SparkDetection:
    """What a Spark detection found and how long each step took (seconds)."""

    run_id: int
    rings: list[Ring]
    rule_hits: dict[str, int]
    chains: int
    buckets: int
    engine: str
    modularity: float
    projection_edges: int
    projection_nodes: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def suspicious(self) -> list[Ring]:
        return [r for r in self.rings if r.suspicious]



def _previous(lake: Path) -> tuple[list[PreviousRing], int]:
    """The rings of the lake's last run and the next run id."""
    present = set(lake_tables(lake))
    con = duckdb.connect()
    try:
        previous: list[PreviousRing] = []
        if "rings" in present:
            rows = con.execute(
                "SELECT ring_id, pattern, persons, institutions FROM read_parquet("
                f"{literal(str(lake / 'rings' / '*.parquet'))}) ORDER BY ring_id").fetchall()
            previous = [PreviousRing(r[0], r[1], frozenset(r[2] or ()), frozenset(r[3] or ()))
                        for r in rows]
        run_id = 1
        if "detect_runs" in present:
            row = con.execute(f"SELECT coalesce(max(run_id), 0) + 1 FROM read_parquet("
                              f"{literal(str(lake / 'detect_runs' / '*.parquet'))})").fetchone()
            run_id = int(row[0]) if row else 1
        return previous, run_id
    finally:
        con.close()


def spark_detect(spark: SparkSession, lake: Path, *, settings: DetectionSettings | None = None,
                 rows_per_bucket: int = ROWS_PER_BUCKET,
                 previous: Sequence[PreviousRing] | None = None, run_id: int | None = None,
                 progress: Callable[[str], None] | None = None) -> SparkDetection:
    """Run the whole detection on the lake ``lake`` with ``spark`` and write its results
    into the lake (see the module docstring). ``previous`` rings keep their ids and
    ``run_id`` numbers the run (default: the lake's last run's). Intermediate files go to
    ``lake/_work``, removed at the end."""
    from pyspark.sql import functions as sf

    from backends.spark.collusion import spark_steering_and_doctor_rules

    st = settings or load_detection_settings()
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    work = lake / "_work"
    tables = read_lake(spark, lake, LOADED_TABLES, columns=DETECTION_COLUMNS)
    last, next_id = _previous(lake)
    previous = list(last if previous is None else previous)
    run_id = next_id if run_id is None else run_id

    t0 = time.perf_counter()
    settlements = read_lake(spark, lake, ("settlements",))["settlements"]  # every column
    # every column: the ring tables' settlements below take the reversals from these too
    reversals = staged_reversals(spark, settlements, work / "reversals")
    rules = spark_rules_and_chains(spark, tables, work=work / "rules",
                                   rows_per_bucket=rows_per_bucket, skip=("doctor",),
                                   by_person=claims_job, reversals=reversals, progress=say)
    timings["rules_and_chains"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    say("steering tests")  # with the rules split by doctor: their buckets hold a doctor whole
    collusion, doctor_hits = spark_steering_and_doctor_rules(
        spark, tables, rules=doctor_rules(), work=work / "collusion", buckets=rules.buckets,
        market=rules.market, reversals=rules.reversals)
    staged = work / "out"
    rules.rule_hits.unionByName(doctor_hits).write.mode("overwrite").parquet(
        str(staged / "rule_hits"))
    for name in ("chains", "chain_links"):
        getattr(rules, name).write.mode("overwrite").parquet(str(staged / name))
    hits = spark.read.parquet(str(staged / "rule_hits")).toArrow()
    chains = spark.read.parquet(str(staged / "chains")).toArrow()
    timings["steering"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    found = spark_rings(spark, tables, by_person=rules.by_person, rule_hits=hits,
                        chains=chains, collusion=collusion, settings=st, previous=previous,
                        work=work / "rings", buckets=rules.buckets, progress=say)
    timings["rings"] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    say("store")
    persons = sorted({p for ring in found.rings for p in ring.persons})
    mine = settlements.join(
        spark.createDataFrame([(p,) for p in persons] or [("",)], "psn_no string")
        .hint("broadcast"), "psn_no", "left_semi").withColumn(BUCKET, sf.lit(0))
    own = and_reversals(settlements, mine, reversals).drop(BUCKET).toArrow()
    con = duckdb.connect()
    try:
        con.register("_own", own)
        con.execute("CREATE TABLE settlements AS SELECT DISTINCT * FROM _own")
        for ddl in rings_table_ddl():
            con.execute(ddl)
        write_rings(con, found.rings, run_id)
        timings["store"] = round(time.perf_counter() - t0, 3)
        timings["total"] = round(time.perf_counter() - started, 3)
        if "detect_runs" in lake_tables(lake):
            con.execute("INSERT INTO detect_runs SELECT * FROM read_parquet("
                        f"{literal(str(lake / 'detect_runs' / '*.parquet'))}) WHERE run_id <> ?",
                        [run_id])
        record_run(con, run_id, timings, found.partition, found.projection_edges, found.rings,
                   st, engine=f"spark:{found.partition.engine}")
        for name in RING_TABLES:
            (staged / name).mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY (SELECT * FROM {name}) TO "
                        f"{literal(str(staged / name / 'data.parquet'))} (FORMAT parquet)")
    finally:
        con.close()
    # every result table replaces its old one only now, when all of them are written
    for name in ("rule_hits", "chains", "chain_links", *RING_TABLES):
        shutil.rmtree(lake / name, ignore_errors=True)
        (staged / name).rename(lake / name)
    shutil.rmtree(work, ignore_errors=True)
    by_rule: dict[str, int] = {}
    for rule in hits.column("rule_id").to_pylist():
        by_rule[rule] = by_rule.get(rule, 0) + 1
    return SparkDetection(run_id=run_id, rings=found.rings, rule_hits=by_rule,
                          chains=chains.num_rows, buckets=rules.buckets,
                          engine=f"spark:{found.partition.engine}",
                          modularity=found.partition.modularity,
                          projection_edges=found.projection_edges,
                          projection_nodes=found.projection_nodes, timings=timings)
