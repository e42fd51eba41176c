"""The rule base and the traceability-code chains on Spark, partitioned by each rule's key.

Every rule runs its own SQL (:mod:`graph.rules`) in buckets of the key
:data:`graph.rules.engine.PARTITIONED_BY` names for it (:mod:`backends.spark.partitioned`):

* ``person``: a bucket holds every settlement (reversals included) of its persons. The same
  pass counts the pharmacy market (the rule base's own SQL,
  :data:`graph.rules.visits.PHARMACY_MARKET_SELECT`, per bucket; the counts summed) and runs
  the caller's ``by_person`` job (the rings' claims rows), so the settlements are moved once;
* ``doctor``: the fee lines a doctor (``D…``) wrote, their settlements and the reversals of
  those, and the doctor's own row; the pharmacy market is handed in whole;
* ``trace_code``: the rows of the codes in two or more sales, their fee lines, settlements
  and reversals; the items' usual prices (``_item_price``, a median per item over all its fee
  lines) come from a bucketed job of their own, by item; the chains are built in the same
  buckets and their links grouped per institution or person pair in one more job;
* ``whole``: one bucket with all of the rule's (small) input: the dialysis fee lines.

Hits, chains and links are the embedded store's to the row
(``tests/backends/test_spark_conformance.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from backends.spark.partitioned import BUCKET, Job, Part, bucket_of, run_bucketed
from backends.spark.session import with_conf
from backends.spark.settlements import (
    BROADCAST_ASKED,
    by_original,
    staged_reversals,
    with_reversals,
)
from graph.chains import CHAINS_SQL, HONEST_CLASSES, LINK_ROWS_SQL, LINKS_SQL
from graph.rules import Rule, classify_trace_codes, load_rulebase, run_rules
from graph.rules.engine import PARTITIONED_BY
from graph.rules.trace_codes import ITEM_PRICE_SELECT
from graph.rules.visits import PHARMACY_MARKET_SELECT
from yibao.errors import SettingsError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkRuleResult", "doctor_rules", "rules_job", "spark_rules_and_chains", "staged"]

ROWS_PER_BUCKET = 250_000
"""Settlements per bucket: a bucket's rows of every table sit in one Python worker and pass
through the JVM at once, which in local mode shares the driver's heap (768 MiB by default)."""


@dataclass(frozen=True)
class SparkRuleResult:
    """The tables a Spark rule run made, as Spark DataFrames (see :mod:`graph.rules` and
    :mod:`graph.chains` for their columns)."""

    rule_hits: DataFrame
    chains: DataFrame
    chain_links: DataFrame
    buckets: int
    market: pa.Table
    """The effective pharmacy settlements per pharmacy
    (:data:`graph.rules.visits.PHARMACY_MARKET_SELECT`), counted in the person buckets."""
    reversals: DataFrame
    """The reversal rows of the settlements (:func:`backends.spark.settlements.staged_reversals`),
    for the later steps that put reversals beside their originals."""
    by_person: dict[str, DataFrame] = field(default_factory=dict)
    """The outputs of the ``by_person`` job, by name."""


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    return con.sql(sql).to_arrow_table()


def rules_job(rules: Sequence[Rule], given: Mapping[str, str]) -> Job:
    """Run ``rules`` (after copying each ``given`` shared table into the temp table the rule
    keeps when present) and give their hits."""
    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        for shared, temp in given.items():
            con.execute(f"CREATE OR REPLACE TEMP TABLE {temp} AS SELECT * FROM {shared}")
        run_rules(con, rules)
        return {"rule_hits": _rows(con, "SELECT * EXCLUDE (metrics), metrics::VARCHAR AS metrics "
                                        "FROM rule_hits")}
    return job


def _person_job(rules: Sequence[Rule], also: Job | None) -> Job:
    """In a bucket of persons: the hits of ``rules``, the bucket's counts of the pharmacy
    market (its own SQL on the bucket's effective settlements: every settlement of the
    bucket's persons is there with its reversals, so the buckets' counts sum to the
    store's) and what ``also`` gives."""
    hits = rules_job(rules, {})

    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        out = dict(hits(con))  # run_rules made the views the market reads (_effective)
        out["market"] = _rows(con, PHARMACY_MARKET_SELECT)
        return {**out, **(also(con) if also is not None else {})}
    return job


def _trace_job(rule: Rule) -> Job:
    """The ``TRACE_REUSE`` hits, the chains and their link rows of a bucket of codes."""
    hits = rules_job([rule], {"item_prices": "_item_price"})

    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        out = dict(hits(con))
        con.execute("CREATE OR REPLACE TEMP TABLE _item_price AS SELECT * FROM item_prices")
        classify_trace_codes(con, rule)
        con.execute(CHAINS_SQL)
        con.execute(LINK_ROWS_SQL, {"honest": list(HONEST_CLASSES)})
        out["chains"] = _rows(con, "SELECT * EXCLUDE (hops), hops::VARCHAR AS hops FROM chains")
        out["link_rows"] = _rows(con, "SELECT * FROM _chain_link_rows")
        return out
    return job


def _links_job(sample_codes: int) -> Job:
    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        con.execute(LINKS_SQL, {"sample": int(sample_codes)})
        return {"chain_links": _rows(con, "SELECT * FROM chain_links")}
    return job


def _item_price_job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """The usual prices of a bucket of items, from ``price_counts`` (each price of an item's
    fee lines with ``cnt > 0``, and how many lines have it)."""
    con.execute("CREATE TABLE fee_details AS SELECT med_list_codg, pric, 1 AS cnt "
                "FROM (SELECT med_list_codg, pric, unnest(range(n)) FROM price_counts)")
    return {"item_prices": _rows(con, ITEM_PRICE_SELECT.format(items="fee_details"))}


def staged(spark: SparkSession, frame: DataFrame, path: Path) -> DataFrame:
    """``frame`` written to Parquet at ``path`` and read back: computed once, however many
    later steps read it (Spark would otherwise compute it again for each)."""
    frame.write.mode("overwrite").parquet(str(path))
    return spark.read.parquet(str(path))


def _reused_code_rows(spark: SparkSession, sold: DataFrame, work: Path) -> DataFrame:
    """The rows of ``sold`` (traceability codes) whose code is in two or more rows.

    Nearly every code is sold once (99.6% at 10M settlements), so counting the codes is a
    shuffle of all of them, and a count before the shuffle reduces nothing. The codes are
    counted by their 64-bit hash (a shuffle of longs, not strings) in one aggregation after
    the shuffle; the rows of the hashes seen twice or more (the reused codes and, rarely, a
    collision) are picked where they lie by a broadcast of those hashes and counted again by
    code, exactly."""
    from pyspark.sql import functions as sf

    hashed = sf.xxhash64("drug_trac_codg")
    with with_conf(spark, {"spark.sql.execution.bypassPartialAggregation": "true"}):
        twice = staged(spark, sold.select(hashed.alias("_hash")).groupBy("_hash").count()
                       .where("count > 1").select("_hash"), work / "reused_hashes")
    if twice.count() <= BROADCAST_ASKED:
        twice = sf.broadcast(twice)
    maybe = staged(spark, sold.join(twice, hashed == sf.col("_hash"), "left_semi"),
                   work / "reused_hash_rows")
    codes = maybe.groupBy("drug_trac_codg").count().where("count > 1").select("drug_trac_codg")
    return maybe.join(codes, "drug_trac_codg", "left_semi")


def doctor_rules(rules: Sequence[Rule] | None = None) -> list[Rule]:
    """The enabled rules of ``rules`` (default: the shipped rule base) split by doctor."""
    return _rule_groups(tuple(load_rulebase() if rules is None else rules)).get("doctor", [])


def _rule_groups(rules: Sequence[Rule]) -> dict[str, list[Rule]]:
    groups: dict[str, list[Rule]] = {}
    for rule in rules:
        if not rule.enabled:
            continue
        key = PARTITIONED_BY.get(rule.id)
        if key is None:
            raise SettingsError(
                f"rule {rule.id} has no partition key: add it to "
                "graph.rules.engine.PARTITIONED_BY before running it on Spark")
        groups.setdefault(key, []).append(rule)
    return groups


def spark_rules_and_chains(spark: SparkSession, tables: Mapping[str, DataFrame], *, work: Path,
                           rules: Sequence[Rule] | None = None,
                           rows_per_bucket: int = ROWS_PER_BUCKET, sample_codes: int = 20,
                           skip: Collection[str] = (), by_person: Job | None = None,
                           reversals: DataFrame | None = None,
                           progress: Callable[[str], None] | None = None) -> SparkRuleResult:
    """Run ``rules`` (default: the shipped rule base) and build the chains over ``tables``
    (the lake's, :func:`backends.spark.lake.read_lake`) on Spark; intermediate files go
    under ``work``. Nothing is collected to the driver but the small shared tables
    (institutions, the pharmacy market, the items' prices). ``skip``: partition keys whose
    rules run elsewhere (``doctor``: in the steering tests' buckets, which hold every line of
    a doctor, :func:`backends.spark.collusion.spark_steering_and_doctor_rules`).
    ``by_person``: a job that also runs in the person buckets (each holds every settlement of
    its persons, with their reversals), in the same pass over the settlements; its outputs
    come back in :attr:`SparkRuleResult.by_person`. ``reversals``: the settlements' reversal
    rows, staged already (:func:`backends.spark.settlements.staged_reversals`; they may have
    more columns than ``tables``), else staged here."""
    from pyspark.sql import functions as sf

    say = progress or (lambda _msg: None)
    chosen = tuple(load_rulebase() if rules is None else rules)
    groups = _rule_groups(chosen)
    settlements, fees = tables["settlements"], tables["fee_details"]
    buckets = max(1, math.ceil(settlements.count() / rows_per_bucket))
    if reversals is None:
        reversals = staged_reversals(spark, settlements, work / "reversals")
    institutions = tables["institutions"].toArrow()
    hits: list[DataFrame] = []

    say("rules by person")
    person = run_bucketed(spark, {"settlements": Part(
        by_original(settlements, "psn_no", buckets, reversals), BUCKET)},
        _person_job(groups.get("person", []), by_person), buckets=buckets,
        shared={"institutions": institutions}, work=work / "person")
    hits.append(person.pop("rule_hits"))
    market = person.pop("market").groupBy("pharmacy", "admdvs").agg(
        sf.sum("n").alias("n")).toArrow()

    if "doctor" in groups and "doctor" not in skip:
        say("rules by doctor")
        lines = staged(spark, fees.where(sf.col("bilg_dr_codg").like("D%")).withColumn(
            BUCKET, bucket_of("bilg_dr_codg", buckets)), work / "doctor_lines")
        ids = lines.select("setl_id", BUCKET).distinct()
        out = run_bucketed(spark, {
            "fee_details": Part(lines, BUCKET),
            "settlements": Part(with_reversals(settlements, ids, reversals), BUCKET,
                                    distinct=True),
            "practitioners": Part(tables["practitioners"], "dr_codg"),
        }, rules_job(groups["doctor"], {"pharmacy_market": "_pharmacy_market"}),
            buckets=buckets, shared={"institutions": institutions, "pharmacy_market": market},
            work=work / "doctor")
        hits.append(out["rule_hits"])

    if "whole" in groups:
        say("rules on the whole")
        codes = sorted({c for rule in groups["whole"] if rule.id == "DIALYSIS_CAPACITY"
                        for c in rule.codes("dialysis_item_codes")})
        lines = staged(spark, fees.where(sf.col("med_list_codg").isin(codes)).withColumn(
            BUCKET, sf.lit(0)), work / "whole_lines")
        ids = lines.select("setl_id", BUCKET).distinct()
        out = run_bucketed(spark, {
            "fee_details": Part(lines, BUCKET),
            "settlements": Part(with_reversals(settlements, ids, reversals), BUCKET,
                                    distinct=True),
        }, rules_job(groups["whole"], {}), buckets=1,
            shared={"institutions": institutions}, work=work / "whole")
        hits.append(out["rule_hits"])

    say("traceability codes")
    trace_rule = next((r for r in chosen if r.id == "TRACE_REUSE"), None)
    if trace_rule is None:
        trace_rule = next(r for r in load_rulebase() if r.id == "TRACE_REUSE")
    rows = staged(spark, _reused_code_rows(spark, tables["trace_codes"], work).withColumn(
        BUCKET, bucket_of("drug_trac_codg", buckets)), work / "code_rows")
    keys = rows.select("setl_id", "feedetl_sn", BUCKET)
    if keys.count() <= BROADCAST_ASKED:  # few: the fee lines stay where they are
        keys = sf.broadcast(keys)
    lines = staged(spark, fees.join(keys, ["setl_id", "feedetl_sn"]), work / "code_lines")
    # an item's usual price is the median of its fee lines' prices: Spark counts each price
    # (a small table), the bucket rebuilds the prices from the counts and DuckDB takes the
    # median itself, so the value is the store's to the bit
    items = sf.broadcast(lines.select("med_list_codg").distinct())
    price_counts = fees.join(items, "med_list_codg").where("cnt > 0 AND pric > 0") \
        .groupBy("med_list_codg", "pric").agg(sf.count("*").alias("n"))
    prices = run_bucketed(spark, {"price_counts": Part(price_counts, "med_list_codg")},
                          _item_price_job, buckets=buckets, work=work / "prices")
    item_prices = prices["item_prices"].toArrow()
    ids = rows.select("setl_id", BUCKET).distinct()
    out = run_bucketed(spark, {
        "trace_codes": Part(rows, BUCKET),
        "fee_details": Part(lines, BUCKET, distinct=True),
        "settlements": Part(with_reversals(settlements, ids, reversals), BUCKET,
                                    distinct=True),
    }, _trace_job(trace_rule), buckets=buckets,
        shared={"institutions": institutions, "item_prices": item_prices}, work=work / "trace")
    if trace_rule.enabled and (rules is None or trace_rule in chosen):
        hits.append(out["rule_hits"])
    link_rows = out["link_rows"].withColumn("_link", sf.concat_ws("|", "kind", "src", "dst"))
    links = run_bucketed(spark, {"_chain_link_rows": Part(link_rows, "_link")},
                         _links_job(sample_codes), buckets=buckets, work=work / "links")

    rule_hits = hits[0]
    for more in hits[1:]:
        rule_hits = rule_hits.unionByName(more)
    return SparkRuleResult(rule_hits=rule_hits, chains=out["chains"],
                           chain_links=links["chain_links"], buckets=buckets, market=market,
                           reversals=reversals, by_person=person)
