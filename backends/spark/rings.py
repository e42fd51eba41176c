"""Rings on Spark: the co-settlement projection by institution, communities per component,
candidates and their tests, the embedded store's rings to the score.

The steps and what each bucket holds (:mod:`backends.spark.partitioned`):

1. **Claims rows** (:func:`graph.claims.claim_rows_sql`), by institution: an institution's
   settlements with the reversals of them. Rows of persons or institutions missing from their
   tables are dropped, as the embedded store's numbering drops them.
2. **Events and counts**, by institution: the co-settlement events of an institution depend
   only on its rows and the scale of all claims (:func:`graph.projection.projection_scale`:
   persons who settled, first and last day), so each bucket gives exactly the store's events
   of its institutions, in the store's order; and each institution's traffic per
   time-of-week bin and settlements per operator.
3. **Edges**, by the first person of a pair: a pair's events summed in the store's order
   (:func:`graph.projection.edges_from_events`), so the weights agree to the bit.
4. **Communities** per connected component (:func:`graph.community.communities_by_component`)
   on the driver, from the edges (not the claims: a few per suspicious pair).
5. **Candidates**: the community candidates from the events that touch their members, the
   rule candidates from the rule hits and chains, the steering tests partitioned by the
   doctor's institution (:mod:`backends.spark.collusion`).
6. **Tests**: the candidates' persons' claims only, with the statistics of all the data
   (:class:`graph.ring_context.RingStatistics`: bill norms by medical type, a job by medical
   type; surnames; all institutions' traffic) score exactly as the whole store does.

The driver holds the edges, the candidates' events and the candidates' persons' claims: the
size of what was found, not of the data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from backends.spark.partitioned import BUCKET, Job, Part, run_bucketed
from backends.spark.settlements import by_original
from graph.claims import Claims, claim_rows_sql, claims_from_codes
from graph.collusion import CollusionFindings
from graph.community import Partition, communities_by_component
from graph.projection import (
    CoSettlementParams,
    PersonProjection,
    ProjectionScale,
    co_settlement_events,
    edges_from_events,
)
from graph.ring_candidates import RingCandidate, candidates_from_events, rule_ring_candidates
from graph.ring_context import (
    SURNAMES_SQL,
    RingStatistics,
    medfee_norms,
    operator_counts,
    ring_context,
    surname_counts,
)
from graph.ring_ids import PreviousRing, assign_ring_ids
from graph.rings import Ring, rings_from_candidates
from graph.scoring import DetectionSettings
from graph.suspicion import traffic_from_claims

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkRings", "spark_rings"]

log = logging.getLogger(__name__)

_BINS = 175


@dataclass(frozen=True)
class SparkRings:
    """What the Spark ring steps found: the ranked rings with their ids, the partition of
    the projection's persons, the projection's size, and the claims rows (a DataFrame) their
    settlements are taken from."""

    rings: list[Ring]
    partition: Partition
    projection_edges: int
    projection_nodes: int
    claims: DataFrame


def _claims_job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    return {"claims": con.sql(claim_rows_sql(con) + " ORDER BY setl_id").to_arrow_table()}


def _claims_of(rows: Mapping[str, Any], **codes: Any) -> Claims:
    """Claims of rows with codes, numbered among their own codes unless ``codes`` says."""
    def own(column: str) -> list[str]:
        return sorted({str(v) for v in np.asarray(rows[column], dtype=object).tolist()
                       if v is not None})

    return claims_from_codes(
        rows, flagged=rows.get("flagged", np.zeros(len(rows["t"]), dtype=bool)),
        person_codes=codes.get("person_codes", own("psn_no")),
        institution_codes=codes.get("institution_codes", own("fixmedins_code")),
        doctor_codes=codes.get("doctor_codes", own("dr_codg")),
        operator_codes=codes.get("operator_codes", own("opter_id")),
        diagnosis_codes=codes.get("diagnosis_codes", own("dise_codg")))


EVENT_COLUMNS = ("setl_id", "psn_no", "fixmedins_code", "opter_id", "t", "inpatient")
"""The claims columns the events, traffic and operator counts read (the rest is not moved)."""


def _events_job(params: CoSettlementParams, scale: ProjectionScale) -> Job:
    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        rows = dict(con.sql("SELECT * FROM claims ORDER BY setl_id").fetchnumpy())
        n = len(rows["t"])
        for name in ("dr_codg", "dise_codg"):  # not read by these steps
            rows.setdefault(name, np.full(n, None, dtype=object))
        for name in ("med_type", "pool", "account", "medfee"):
            rows.setdefault(name, np.zeros(n))
        c = _claims_of(rows)
        ev = co_settlement_events(c, params, scale)
        persons, places = np.asarray(c.person_codes), np.asarray(c.institution_codes)
        counts = traffic_from_claims(c).counts
        inst, bins = np.nonzero(counts)
        keys, n_ops = operator_counts(c)
        width = len(c.operator_codes) + 1
        ops = np.asarray([None, *c.operator_codes.tolist()], dtype=object)
        return {
            "events": pa.table({
                "psn_a": persons[c.person[ev.a]].astype(str),
                "psn_b": persons[c.person[ev.b]].astype(str),
                "fixmedins_code": places[c.institution[ev.a]].astype(str),
                "day": c.day[ev.a].astype(np.int32), "inpatient": c.inpatient[ev.a],
                "weight": ev.weight, "seq": np.arange(len(ev.a), dtype=np.int64)}),
            "traffic": pa.table({
                "fixmedins_code": places[inst].astype(str), "bin": bins.astype(np.int32),
                "n": counts[inst, bins].astype(np.int64)}),
            "operators": pa.table({
                "fixmedins_code": places[keys // width].astype(str),
                "opter_id": pa.array(ops[keys % width].tolist(), pa.string()),
                "n": n_ops}),
        }
    return job


def _edges_job(min_co_days: int) -> Job:
    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        ev = con.sql("SELECT * FROM events ORDER BY inpatient, fixmedins_code, seq").fetchnumpy()
        persons = np.asarray(sorted(set(ev["psn_a"].tolist()) | set(ev["psn_b"].tolist())),
                             dtype=object)
        lo = np.searchsorted(persons, ev["psn_a"]).astype(np.int64)
        hi = np.searchsorted(persons, ev["psn_b"]).astype(np.int64)
        found = edges_from_events(lo, hi, np.asarray(ev["day"], dtype=np.int64),
                                  np.asarray(ev["weight"], dtype=np.float64), len(persons),
                                  min_co_days)
        n = max(len(persons), 1)
        return {"edges": pa.table({
            "psn_a": pa.array(persons[found.pairs // n].tolist(), pa.string()),
            "psn_b": pa.array(persons[found.pairs % n].tolist(), pa.string()),
            "weight": found.weight, "co_days": found.co_days, "co_events": found.co_events})}
    return job


def _norms_job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    rows = con.sql("SELECT med_type, medfee FROM claims").fetchnumpy()
    norms = medfee_norms(np.asarray(rows["med_type"], dtype=np.int16),
                         np.asarray(rows["medfee"], dtype=np.float64))
    return {"norms": pa.table({"med_type": pa.array(list(norms), pa.int32()),
                               "norm": pa.array(list(norms.values()), pa.float64())})}


def _surnames_job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    return {"surnames": con.sql(SURNAMES_SQL).to_arrow_table()}


def _codes(frame: DataFrame, column: str) -> list[str]:
    if column not in frame.columns:
        return []
    return sorted(str(r[0]) for r in frame.select(column).where(f"{column} IS NOT NULL")
                  .distinct().collect())


def _empty_projection(n_persons: int, params: CoSettlementParams) -> PersonProjection:
    z, f = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return PersonProjection(n_persons, z, z, f, z, z, z, z, z, f, params)


def spark_rings(spark: SparkSession, tables: Mapping[str, DataFrame], *, rule_hits: pa.Table,
                chains: pa.Table, collusion: CollusionFindings, settings: DetectionSettings,
                previous: Sequence[PreviousRing], work: Path, buckets: int,
                progress: Callable[[str], None] | None = None) -> SparkRings:
    """The rings of the lake's ``tables`` (see the module docstring), with the run's
    ``rule_hits`` and ``chains`` (Arrow tables: results, not data) and steering findings."""
    from pyspark.sql import functions as sf

    say = progress or (lambda _msg: None)
    st, co = settings, settings.co_settlement
    settlements = tables["settlements"]
    say("claims")
    rows = run_bucketed(spark, {"settlements": Part(
        by_original(settlements, "fixmedins_code", buckets), BUCKET)},
        _claims_job, buckets=buckets, work=work / "claims")["claims"]
    high = {s for ids_, sev in zip(rule_hits.column("setl_ids").to_pylist(),
                                   rule_hits.column("severity").to_pylist(), strict=True)
            if sev == "high" for s in ids_ or ()}
    claims = _known_only(spark, rows, tables, work / "claims_rows")
    agg = claims.agg(sf.countDistinct("psn_no"), sf.min("t"), sf.max("t")).collect()[0]
    scale = ProjectionScale(active_persons=max(1, int(agg[0] or 0)),
                            first_day=int(agg[1] or 0) // 86_400,
                            last_day=int(agg[2] or 0) // 86_400)

    say("projection")
    counted = run_bucketed(spark, {"claims": Part(claims.select(*EVENT_COLUMNS),
                                                  "fixmedins_code")},
                           _events_job(co, scale), buckets=buckets, work=work / "events")
    events = counted["events"]
    events.write.mode("overwrite").parquet(str(work / "events_rows"))
    events = spark.read.parquet(str(work / "events_rows"))
    searched = max(1, events.select("psn_a", "psn_b").distinct().count())
    edges = run_bucketed(spark, {"events": Part(events, "psn_a")}, _edges_job(co.min_co_days),
                         buckets=buckets, work=work / "edges")["edges"]
    edge_table = edges.where(f"co_days >= {int(co.min_co_days)}").toArrow()
    order = np.lexsort((np.asarray(edge_table.column("psn_b").to_pylist(), dtype=object),
                        np.asarray(edge_table.column("psn_a").to_pylist(), dtype=object)))
    src_codes = np.asarray(edge_table.column("psn_a").to_pylist(), dtype=object)[order]
    dst_codes = np.asarray(edge_table.column("psn_b").to_pylist(), dtype=object)[order]
    weight = np.asarray(edge_table.column("weight").to_numpy(), dtype=np.float64)[order]

    say("communities")
    nodes = np.asarray(sorted(set(src_codes.tolist()) | set(dst_codes.tolist())), dtype=object)
    cp = st.community
    partition = communities_by_component(
        len(nodes), np.searchsorted(nodes, src_codes), np.searchsorted(nodes, dst_codes),
        weight, engine=cp.engine or None,  # type: ignore[arg-type]
        resolution=cp.resolution, seed=cp.seed, min_size=cp.min_persons)
    sizes = np.bincount(partition.membership) if len(nodes) else np.zeros(0, dtype=np.int64)
    members = sorted(nodes[np.isin(partition.membership,
                                   np.flatnonzero(sizes >= cp.min_persons))].tolist())

    say("candidates")
    touching = events.join(spark.createDataFrame([(m,) for m in members], "code string")
                           .hint("broadcast"), sf.col("psn_a") == sf.col("code"), "left_semi") \
        .unionByName(events.join(spark.createDataFrame([(m,) for m in members], "code string")
                                 .hint("broadcast"), sf.col("psn_b") == sf.col("code"),
                                 "left_semi")).distinct().toArrow() if members else None
    community = _community_candidates(touching, nodes, partition, cp)

    persons_wanted = set(m for cand in community for m in cand[0])
    for column in ("persons",):
        for values in rule_hits.column(column).to_pylist():
            persons_wanted.update(values or ())
    for values in chains.column("persons").to_pylist():
        persons_wanted.update(values or ())
    for t in collusion.kept:
        persons_wanted.update(t.steered)
        persons_wanted.update(collusion.others.get(t.doctor, ()))
    wanted = spark.createDataFrame([(p,) for p in sorted(persons_wanted)] or [("",)],
                                   "psn_no string")
    people = tables["persons"].join(wanted.hint("broadcast"), "psn_no", "left_semi").toArrow()
    person_codes = sorted(people.column("psn_no").to_pylist())

    say("tests")
    with _timed("the candidates' claims"):
        slice_rows = claims.join(wanted.hint("broadcast"), "psn_no", "left_semi").toArrow()
        slice_rows = slice_rows.sort_by("setl_id")
    institutions = tables["institutions"].toArrow()
    place_codes = sorted(institutions.column("fixmedins_code").to_pylist())
    with _timed("operator and diagnosis codes"):
        operator_codes = _codes(settlements, "opter_id")
        diagnosis_codes = _codes(settlements, "dise_codg")
    rows_np = {name: _array(slice_rows.column(name)) for name in slice_rows.column_names}
    # a set, not np.isin: over Python strings np.isin compares pairwise (minutes at 10M)
    rows_np["flagged"] = np.fromiter((code in high for code in rows_np["setl_id"]), dtype=bool,
                                     count=len(rows_np["setl_id"]))
    sliced = _claims_of(rows_np, person_codes=person_codes, institution_codes=place_codes,
                        operator_codes=operator_codes, diagnosis_codes=diagnosis_codes)
    with _timed("statistics of all claims"):
        stats, traffic_counts, operators = _statistics(
            spark, claims, tables, counted, place_codes, operator_codes, scale, work, buckets)
    con = duckdb.connect()
    try:
        con.register("_people", people)
        con.execute("CREATE TABLE persons AS SELECT * FROM _people")
        con.register("_places", institutions)
        con.execute("CREATE TABLE institutions AS SELECT * FROM _places")
        con.register("_hits", rule_hits)
        con.execute("CREATE TABLE rule_hits AS SELECT * EXCLUDE (metrics), "
                    "metrics::JSON AS metrics FROM _hits")
        con.register("_chains", chains)
        con.execute("CREATE TABLE chains AS SELECT * FROM _chains")
        for name, codes in (("_psn_idx", person_codes), ("_ins_idx", place_codes)):
            con.register("_codes", pa.table({
                "code": pa.array(codes, pa.string()),
                "idx": pa.array(range(len(codes)), pa.int32())}))
            con.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM _codes")
            con.unregister("_codes")
        with _timed("ring context"):
            ctx = ring_context(con, sliced, _empty_projection(len(person_codes), co), stats,
                               traffic_counts=traffic_counts, operators=operators)
        index = {code: i for i, code in enumerate(person_codes)}
        place_index = {code: i for i, code in enumerate(place_codes)}
        candidates = [RingCandidate(pattern=pattern, source="community",
                                    persons=tuple(sorted(index[p] for p in ps if p in index)),
                                    institutions=tuple(sorted(place_index[i] for i in places)),
                                    core=tuple(sorted(index[p] for p in core if p in index)))
                      for ps, places, core, pattern in community]
        candidates += rule_ring_candidates(con, collusion)
        with _timed(f"scoring {len(candidates)} candidates"):
            ranked = rings_from_candidates(ctx, candidates, st, searched=searched)
    finally:
        con.close()
    return SparkRings(rings=assign_ring_ids(ranked, previous), partition=partition,
                      projection_edges=len(weight), projection_nodes=len(nodes), claims=claims)


@contextmanager
def _timed(what: str) -> Iterator[None]:
    """Log how long ``what`` took (INFO: the steps inside a progress step)."""
    started = time.perf_counter()
    yield
    log.info("%s: %.1f s", what, time.perf_counter() - started)


def _array(column: pa.ChunkedArray) -> Any:
    """A column as NumPy: codes as Python strings (what the numbering sorts), numbers as
    numbers (not one Python object per value: the slice is large at 10M)."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return np.asarray(column.to_pylist(), dtype=object)
    return column.to_numpy()


def _known_only(spark: SparkSession, rows: DataFrame, tables: Mapping[str, DataFrame],
                path: Path) -> DataFrame:
    """``rows`` without those of persons or institutions missing from their tables (the
    store's numbering drops them). A loaded lake has none (the loader quarantines a row
    whose references do not resolve), so the codes are checked first, distinct, and the
    rows joined only when one is missing."""
    checks = (("psn_no", tables["persons"]), ("fixmedins_code", tables["institutions"]))
    if not any(rows.select(column).distinct().join(table.select(column), column, "left_anti")
               .limit(1).count() for column, table in checks):
        return rows
    for column, table in checks:
        rows = rows.join(table.select(column), column, "left_semi")
    rows.write.mode("overwrite").parquet(str(path))
    return spark.read.parquet(str(path))


def _community_candidates(touching: pa.Table | None, nodes: Any, partition: Partition,
                          params: Any) -> list[tuple[list[str], list[str], list[str], str]]:
    """Community candidates as codes: persons, institutions, core, pattern."""
    if touching is None or not touching.num_rows:
        return []
    pa_codes = np.asarray(touching.column("psn_a").to_pylist(), dtype=object)
    pb_codes = np.asarray(touching.column("psn_b").to_pylist(), dtype=object)
    persons = np.asarray(sorted(set(pa_codes.tolist()) | set(pb_codes.tolist())
                                | set(nodes.tolist())), dtype=object)
    places_of = np.asarray(touching.column("fixmedins_code").to_pylist(), dtype=object)
    places = np.asarray(sorted(set(places_of.tolist())), dtype=object)
    found = candidates_from_events(
        len(persons), np.searchsorted(persons, pa_codes).astype(np.int64),
        np.searchsorted(persons, pb_codes).astype(np.int64),
        np.searchsorted(places, places_of).astype(np.int64),
        np.asarray(touching.column("inpatient").to_pylist(), dtype=bool), partition,
        np.searchsorted(persons, nodes).astype(np.int64), params)
    return [([str(persons[p]) for p in c.persons], [str(places[i]) for i in c.institutions],
             [str(persons[p]) for p in c.core], c.pattern) for c in found]


def _statistics(spark: SparkSession, claims: DataFrame, tables: Mapping[str, DataFrame],
                counted: Mapping[str, DataFrame], place_codes: list[str],
                operator_codes: list[str], scale: ProjectionScale, work: Path, buckets: int
                ) -> tuple[RingStatistics, Any, tuple[Any, Any]]:
    """The statistics of all the data, all institutions' traffic and the operator counts in
    the numbering of ``place_codes`` and ``operator_codes``."""
    from pyspark.sql import functions as sf

    norms = run_bucketed(spark, {"claims": Part(claims.select("med_type", "medfee"), "med_type")},
                         _norms_job,
                         buckets=buckets, work=work / "norms")["norms"].toArrow()
    names = run_bucketed(spark, {"persons": Part(tables["persons"], "psn_no")}, _surnames_job,
                         buckets=buckets, work=work / "surnames")["surnames"] \
        .groupBy("surname").agg(sf.sum("n").alias("n")).toArrow()
    traffic = counted["traffic"].toArrow()
    counts = np.zeros((len(place_codes), _BINS), dtype=np.float64)
    at = np.searchsorted(np.asarray(place_codes, dtype=object),
                         np.asarray(traffic.column("fixmedins_code").to_pylist(), dtype=object))
    np.add.at(counts, (at, np.asarray(traffic.column("bin").to_pylist(), dtype=np.int64)),
              np.asarray(traffic.column("n").to_pylist(), dtype=np.float64))
    ops = counted["operators"].toArrow()
    width = len(operator_codes) + 1
    op_index = {code: k + 1 for k, code in enumerate(operator_codes)}
    op_at = np.asarray([0 if o is None else op_index[o]
                        for o in ops.column("opter_id").to_pylist()], dtype=np.int64)
    inst_at = np.searchsorted(np.asarray(place_codes, dtype=object),
                              np.asarray(ops.column("fixmedins_code").to_pylist(), dtype=object))
    keys = inst_at.astype(np.int64) * width + op_at
    order = np.argsort(keys)
    ref = tables["settlements"].agg(sf.max("setl_time")).collect()[0][0]
    stats = RingStatistics(
        reference_day=ref.date(),
        medfee_norm={int(m): float(v) for m, v in zip(norms.column("med_type").to_pylist(),
                                                     norms.column("norm").to_pylist(),
                                                     strict=True)},
        surname_share=surname_counts(names.column("surname").to_pylist(),
                                     names.column("n").to_pylist()),
        traffic_totals=counts.sum(axis=0), weeks=max(scale.days / 7.0, 1.0))
    return stats, counts, (keys[order], np.asarray(ops.column("n").to_pylist(),
                                                   dtype=np.int64)[order])
