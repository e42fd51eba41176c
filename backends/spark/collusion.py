"""Doctor-pharmacy collusion (:mod:`graph.collusion`) on Spark, partitioned by institution.

Every bucket runs :func:`graph.collusion.collusion_findings` itself (its SQL unchanged, on an
in-memory DuckDB, :mod:`backends.spark.partitioned`) over the doctors whose *key* falls in
it: the doctor's institution (``practitioners.fixmedins_code``), or the doctor's own code
when the doctor has no institution (no practitioners row, or a NULL institution: such a
doctor has no colleagues, ``NULL = NULL`` being unknown). The pharmacy market, counted over
all effective settlements, is computed by Spark first (the rule base's
:data:`graph.rules.visits.PHARMACY_MARKET_SELECT`) and handed in whole. The driver merges the
kept tests (by doctor), the test counts (summed) and the other patients; it collects nothing
but the institutions, the market and the buckets' results. :func:`spark_steering_tests` gives
every test (:func:`graph.collusion.steering_tests`) from the same buckets.

A bucket holds:

* ``fee_details`` (:data:`LINE_COLUMNS` only): the lines naming one of its doctors
  (``bilg_dr_codg`` not NULL nor empty) on a settlement at a retail pharmacy
  (:func:`graph.claims.pharmacy_sql` of the settlement's institution): no other line. So
  ``fills`` holds its own doctors' fills and nobody else's, and each doctor is tested in
  exactly one bucket. Lines at other institutions are read by no query: ``fills`` and
  ``_OTHERS_SQL`` keep pharmacy settlements only, by the same predicate on the same join;
* ``settlements``: those lines' settlements (*own*, read with the lines, which carry their
  settlement's columns); every settlement at a pharmacy or at the doctor's institution of
  the patients of the bucket's doctors with :data:`graph.collusion.MIN_FILLS` fills or more
  (*theirs*: counted over all settlements, so every doctor tested over the effective ones is
  among them; about 1% of the doctors, whose patients' rows are the only ones copied); and
  the reversals of all of these;
* ``practitioners``: the rows of its doctors;
* shared: ``institutions`` and ``pharmacy_market`` (copied into the temp ``_pharmacy_market``
  that :func:`graph.collusion.steering_tests` reads and keeps: a DROP there never reaches
  the shared table).

Why that is every row each query reads for the bucket's doctors (and no more):

* ``s`` (effective settlements): a row is effective unless it is a reversal, negative, or
  has a reversal; every row of the bucket that is not itself a reversal comes with all its
  reversals, so ``s`` is the store's ``s`` restricted to the bucket's rows.
* ``fills``: a doctor's lines at pharmacies, joined to ``s`` and ``institutions``: all of the
  doctor's such lines and their settlements (with reversals) are in the doctor's bucket.
* ``per_pharmacy``/``tested``: from ``fills`` and the doctors' practitioners rows: complete.
  ``any_value(inst)`` sees one institution per doctor (``dr_codg`` is the practitioners
  key).
* ``peers``: the fills of the other doctors with the same institution: they share the key,
  hence the bucket, with all their lines.
* ``habits`` (of a tested doctor): the effective pharmacy settlements of the patients of the
  doctor's fills, minus the doctor's fills. Those patients are among *theirs* (patients of
  a doctor with enough fills), and all their pharmacy settlements are in the bucket with
  their reversals, whatever doctor's prescriptions they carry: ``habits`` reads
  settlements, not fee lines, so a patient's fills of other institutions' doctors count as
  in the store, while they are no fills here (their lines are not in the bucket).
* ``market``/``area``: the shared market, whole.
* final select: ``tested``, ``peers``, ``habits``, ``fills``, the market and
  ``institutions``: all above.
* ``_OTHERS_SQL``, for a kept doctor: the doctor's lines, their settlements (raw, at a
  pharmacy) and, for each such patient, any settlement (raw: reversals too) at the ring's
  places: the top pharmacy (a pharmacy: kept by *theirs*) and the doctor's institution
  (the institution *theirs* keeps for the patients of that doctor's lines).

Every table of a bucket is a set of the store's rows, each at most once (settlements are
deduplicated per bucket), so nothing read is counted twice. The results equal the embedded
store's field by field, floats bit for bit (``tests/backends/test_spark_collusion.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from backends.spark.partitioned import BUCKET, Job, Part, bucket_of, run_bucketed
from backends.spark.rules import rules_job, staged
from backends.spark.settlements import BROADCAST_ASKED, and_reversals
from graph.claims import effective_settlements_sql, pharmacy_sql
from graph.collusion import (
    MIN_FILLS,
    CollusionFindings,
    SteeringTest,
    collusion_findings,
    steering_tests,
)
from graph.rules import Rule
from graph.rules.visits import PHARMACY_MARKET_SELECT

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["LINE_COLUMNS", "doctor_buckets", "spark_collusion_findings",
           "spark_steering_and_doctor_rules", "spark_steering_tests"]

_INST = "_doctor_institution"
"""The institution of a fee line's doctor (NULL: none), on the lines a bucket gets."""

_TESTS = pa.schema([
    ("doctor", pa.string()), ("doctor_institution", pa.string()), ("pharmacy", pa.string()),
    ("fills", pa.int64()), ("at_pharmacy", pa.int64()), ("pharmacies", pa.int64()),
    ("peer_share", pa.float64()), ("p_value", pa.float64()), ("surprise", pa.float64()),
    ("steered", pa.list_(pa.string())),
])
_COUNT = pa.schema([("n_tests", pa.int64())])
_OTHERS = pa.schema([("doctor", pa.string()), ("psn_no", pa.string())])


def _test_table(tests: Iterable[SteeringTest]) -> pa.Table:
    return pa.Table.from_pylist([{
        "doctor": t.doctor, "doctor_institution": t.doctor_institution, "pharmacy": t.pharmacy,
        "fills": t.fills, "at_pharmacy": t.at_pharmacy, "pharmacies": t.pharmacies,
        "peer_share": t.peer_share, "p_value": t.p_value, "surprise": t.surprise,
        "steered": list(t.steered)} for t in tests], schema=_TESTS)


def _tests_of(frame: DataFrame) -> list[SteeringTest]:
    """The tests of a job's output (a small table: collected), by doctor."""
    return sorted((SteeringTest(
        doctor=r["doctor"], doctor_institution=r["doctor_institution"],
        pharmacy=r["pharmacy"], fills=r["fills"], at_pharmacy=r["at_pharmacy"],
        pharmacies=r["pharmacies"], peer_share=r["peer_share"], p_value=r["p_value"],
        surprise=r["surprise"], steered=tuple(r["steered"] or ()))
        for r in frame.toArrow().to_pylist()), key=lambda t: t.doctor)


def _use_market(con: duckdb.DuckDBPyConnection) -> None:
    """The shared market where :func:`graph.collusion.steering_tests` reads it (and keeps it:
    its DROP never reaches the shared table)."""
    con.execute("CREATE OR REPLACE TEMP TABLE _pharmacy_market AS SELECT * FROM pharmacy_market")


def _findings_job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """One bucket's kept tests, its number of tests and the kept doctors' other patients."""
    _use_market(con)
    return _findings(con)


def _with_doctor_rules(rules: Sequence[Rule]) -> Job:
    """:func:`_findings_job` after the doctor rules (``rules``) on the same bucket: it holds
    every line its doctors wrote at pharmacies, with those settlements and their reversals,
    the doctors' rows and the market, all the rules read."""
    hits = rules_job(rules, {"pharmacy_market": "_pharmacy_market"})

    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        out = dict(hits(con))
        _use_market(con)
        return {**out, **_findings(con)}
    return job


def _findings(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    found = collusion_findings(con)
    others = pa.Table.from_pylist([{"doctor": dr, "psn_no": psn}
                                   for dr, persons in found.others.items()
                                   for psn in persons], schema=_OTHERS)
    return {"kept": _test_table(found.kept),
            "count": pa.Table.from_pylist([{"n_tests": found.n_tests}], schema=_COUNT),
            "others": others}


def _steering_job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """Every test of one bucket."""
    _use_market(con)
    return {"tests": _test_table(steering_tests(con))}


LINE_COLUMNS = ("setl_id", "bilg_dr_codg")
"""The fee lines' columns the steering tests and the doctor rules read: both read a doctor's
lines only as distinct (doctor, settlement) pairs (``fills``, ``_OTHERS_SQL``, the rule's
``rx``), so a line's other columns (its serial number, a drug's name) are not moved: a fee
line is one of some 30 million at 10M settlements, and every byte of them is shuffled to meet
the pharmacies' settlements. A query that reads one more column fails loudly in every bucket;
one that counted lines rather than pairs would differ from the store, which the conformance
tests (every hit and test compared) would show."""

_SETTLEMENT = "_s__"
"""Prefix of the settlement's columns carried on a pharmacy line (:func:`_pharmacy_lines`)."""


def _pharmacy_lines(tables: Mapping[str, DataFrame], buckets: int) -> DataFrame:
    """The fee lines naming a doctor on settlements at retail pharmacies, with the doctor's
    institution (:data:`_INST`), bucket (of the institution, else of the doctor) and their
    settlement's columns (prefixed :data:`_SETTLEMENT`: read with the line, not joined again)."""
    from pyspark.sql import functions as sf

    settlements, institutions = tables["settlements"].alias("s"), tables["institutions"].alias("i")
    at_pharmacy = settlements.join(
        sf.broadcast(institutions.where(sf.expr(pharmacy_sql("i")))),
        sf.col("i.fixmedins_code") == sf.col("s.fixmedins_code")
    ).select(*(sf.col(f"s.{c}").alias(_SETTLEMENT + c) for c in tables["settlements"].columns))
    staff = tables["practitioners"].select(sf.col("dr_codg").alias("bilg_dr_codg"),
                                           sf.col("fixmedins_code").alias(_INST))
    fees = tables["fee_details"].select(*LINE_COLUMNS)
    lines = (fees.where("bilg_dr_codg IS NOT NULL AND bilg_dr_codg <> ''")
             .join(at_pharmacy, sf.col("setl_id") == sf.col(_SETTLEMENT + "setl_id"))
             .join(staff, "bilg_dr_codg", "left"))
    return lines.select(*fees.columns, _INST, *(c for c in at_pharmacy.columns)).withColumn(
        BUCKET, bucket_of(sf.coalesce(sf.col(_INST), sf.col("bilg_dr_codg")), buckets))


def doctor_buckets(tables: Mapping[str, DataFrame], buckets: int) -> DataFrame:
    """The bucket (:data:`~backends.spark.partitioned.BUCKET`) of every doctor with a fee line
    at a pharmacy (``doctor``): where :func:`spark_collusion_findings` tests the doctor."""
    from pyspark.sql import functions as sf

    return _pharmacy_lines(tables, buckets).select(
        sf.col("bilg_dr_codg").alias("doctor"), BUCKET).distinct()


def _market(spark: SparkSession, tables: Mapping[str, DataFrame]) -> pa.Table:
    """The pharmacy market by Spark SQL (the rule base's own SQL, unchanged), for a caller
    that did not count it in the person buckets
    (:attr:`backends.spark.rules.SparkRuleResult.market`)."""
    for name, frame in tables.items():
        frame.createOrReplaceTempView(name)
    spark.sql(effective_settlements_sql()).createOrReplaceTempView("_effective")
    return spark.sql(PHARMACY_MARKET_SELECT).toArrow()


def _run(spark: SparkSession, tables: Mapping[str, DataFrame], job: Job, *, work: Path,
         buckets: int, market: pa.Table | None = None, reversals: DataFrame | None = None
         ) -> dict[str, DataFrame]:
    """``job`` in every bucket of institutions (see the module docstring)."""
    from pyspark.sql import functions as sf

    if market is None:
        market = _market(spark, tables)
    institutions = tables["institutions"].toArrow()
    settlements = tables["settlements"]

    lines = staged(spark, _pharmacy_lines(tables, buckets), work / "lines")  # read thrice
    columns = settlements.columns
    own = lines.select(*(sf.col(_SETTLEMENT + c).alias(c) for c in columns), BUCKET)
    # the patients' other settlements matter to tested doctors only (MIN_FILLS fills or more:
    # counted here over all settlements, so a superset of those tested over the effective)
    tested = lines.groupBy("bilg_dr_codg").agg(
        sf.countDistinct("setl_id").alias("_fills")).where(f"_fills >= {int(MIN_FILLS)}")
    patients = lines.join(tested, "bilg_dr_codg", "left_semi").select(
        sf.col(_SETTLEMENT + "psn_no").alias("psn_no"), BUCKET, _INST).distinct()
    patients = staged(spark, patients, work / "patients")
    if patients.count() <= BROADCAST_ASKED:
        patients = sf.broadcast(patients)
    patients = patients.alias("p")
    theirs = settlements.alias("s").join(
        patients, sf.col("p.psn_no") == sf.col("s.psn_no")
    ).join(tables["institutions"].alias("i"),
           sf.col("i.fixmedins_code") == sf.col("s.fixmedins_code"), "left").where(
        sf.expr(pharmacy_sql("i")) | (sf.col("s.fixmedins_code") == sf.col(f"p.{_INST}"))
    ).select(*(sf.col(f"s.{c}").alias(c) for c in columns), sf.col(f"p.{BUCKET}").alias(BUCKET))
    doctors = lines.select(sf.col("bilg_dr_codg").alias("dr_codg"), BUCKET).distinct()
    return run_bucketed(spark, {
        "fee_details": Part(lines.select(*LINE_COLUMNS, BUCKET), BUCKET),
        "settlements": Part(and_reversals(settlements, own.unionByName(theirs), reversals), BUCKET,
                            distinct=True),
        "practitioners": Part(tables["practitioners"].join(doctors, "dr_codg"), BUCKET),
    }, job, buckets=buckets, shared={"institutions": institutions, "pharmacy_market": market},
        work=work)


def spark_collusion_findings(spark: SparkSession, tables: Mapping[str, DataFrame], *,
                             work: Path, buckets: int) -> CollusionFindings:
    """:func:`graph.collusion.collusion_findings` over ``tables`` (the lake's,
    :func:`backends.spark.lake.read_lake`), computed on Spark in ``buckets`` buckets of
    institutions (see the module docstring); intermediate files go under ``work``."""
    return _merged(_run(spark, tables, _findings_job, work=work / "collusion",
                        buckets=buckets))


def spark_steering_and_doctor_rules(spark: SparkSession, tables: Mapping[str, DataFrame], *,
                                    rules: Sequence[Rule], work: Path, buckets: int,
                                    market: pa.Table | None = None,
                                    reversals: DataFrame | None = None
                                    ) -> tuple[CollusionFindings, DataFrame]:
    """:func:`spark_collusion_findings` and the hits of the doctor ``rules`` (split by doctor,
    :data:`graph.rules.engine.PARTITIONED_BY`) from the same buckets: one pass over the
    doctors' lines instead of two. ``market`` and ``reversals``: the pharmacy market and the
    reversal rows when at hand already (:class:`backends.spark.rules.SparkRuleResult`)."""
    out = _run(spark, tables, _with_doctor_rules(rules), work=work / "collusion",
               buckets=buckets, market=market, reversals=reversals)
    return _merged(out), out["rule_hits"]


def _merged(out: Mapping[str, DataFrame]) -> CollusionFindings:
    kept = _tests_of(out["kept"])
    n_tests = sum(int(n) for n in out["count"].toArrow().column("n_tests").to_pylist())
    persons: dict[str, list[str]] = defaultdict(list)
    for row in out["others"].toArrow().to_pylist():
        persons[row["doctor"]].append(row["psn_no"])
    return CollusionFindings(kept=tuple(kept), n_tests=n_tests,
                             others={t.doctor: tuple(sorted(persons[t.doctor])) for t in kept})


def spark_steering_tests(spark: SparkSession, tables: Mapping[str, DataFrame], *, work: Path,
                         buckets: int) -> list[SteeringTest]:
    """:func:`graph.collusion.steering_tests` (every test, kept or not, by doctor) on Spark,
    as :func:`spark_collusion_findings` computes them; collects one row per tested doctor."""
    return _tests_of(_run(spark, tables, _steering_job, work=work / "steering",
                          buckets=buckets)["tests"])
