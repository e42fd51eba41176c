"""Rings on Spark: the co-settlement projection by institution, communities per component,
candidates and their tests, the embedded store's rings to the score.

The steps and what each bucket holds (:mod:`backends.spark.partitioned`):

1. **Claims rows** (:func:`graph.claims.claim_rows_sql`), by person, in the pass of the person
   rules (:func:`claims_job`): a claims row depends only on its settlement and the reversals
   of it. Rows of persons or institutions missing from their tables are dropped, as the
   embedded store's numbering drops them.
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
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from backends.spark.partitioned import Job, Part, run_bucketed
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


CODE_COLUMNS = ("opter_id", "dise_codg")
"""The settlement columns whose codes number the claims in the rings' tests (operators,
diagnoses): all the data's codes, so the numbering is the store's."""

CLAIM_KEYS = ("psn_no", "fixmedins_code")
"""The claims' columns whose codes must be in their tables (persons, institutions)."""


def claims_job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """In a bucket of persons (every settlement of its persons with their reversals,
    :func:`backends.spark.settlements.by_original`): the claims rows of its effective
    settlements (:func:`graph.claims.claim_rows_sql`); ``codes`` (``kind``, ``code``): its
    settlements' codes of :data:`CODE_COLUMNS` and its claims' of :data:`CLAIM_KEYS` (kind
    ``claims.<column>``; a person's claims are all in one bucket, so the buckets' persons
    are distinct); ``span``: the first and last ``t`` of its claims. It runs in the pass of
    the person rules (``by_person`` of :func:`backends.spark.rules.spark_rules_and_chains`),
    which moves the settlements once for both."""
    present = {row[0] for row in con.execute("DESCRIBE settlements").fetchall()}
    con.execute(f"CREATE TEMP TABLE _claims AS {claim_rows_sql(con)}")
    codes = [f"SELECT DISTINCT '{c}' AS kind, {c}::VARCHAR AS code FROM settlements "
             f"WHERE {c} IS NOT NULL" for c in CODE_COLUMNS if c in present]
    codes += [f"SELECT DISTINCT 'claims.{c}' AS kind, {c} AS code FROM _claims "
              f"WHERE {c} IS NOT NULL" for c in CLAIM_KEYS]
    return {"claims": con.sql("SELECT * FROM _claims ORDER BY setl_id").to_arrow_table(),
            "codes": con.sql(" UNION ALL ".join(codes)).to_arrow_table(),
            "span": con.sql("SELECT min(t) AS first_t, max(t) AS last_t FROM _claims "
                            "HAVING count(*) > 0").to_arrow_table()}


EVENT_COLUMNS = ("setl_id", "psn_no", "fixmedins_code", "opter_id", "t", "inpatient")
"""The claims columns the events, traffic and operator counts read (the rest is not moved)."""


_NUMBERED = ("psn_no", "fixmedins_code", "opter_id")
"""The codes :func:`_event_claims` numbers."""


def _event_claims(con: duckdb.DuckDBPyConnection) -> Claims:
    """The bucket's claims (:data:`EVENT_COLUMNS`) in ``setl_id`` order, each code numbered
    among the bucket's own sorted codes (``-1``: none), as :func:`claims_from_codes` would.
    The numbering is SQL's (a dense rank): DuckDB orders text by its UTF-8 bytes, which is
    Python's order of ``str``; the rows' codes never become Python objects. The columns the
    events, traffic and operator counts do not read are empty."""
    ranks = ", ".join(f"CASE WHEN {c} IS NULL THEN -1 ELSE dense_rank() OVER (ORDER BY {c}) - 1 "
                      f"END::INTEGER AS {c}" for c in _NUMBERED)
    rows = con.sql(f"SELECT t, inpatient, {ranks} FROM claims ORDER BY setl_id").fetchnumpy()
    own = {c: np.asarray(con.sql(f"SELECT DISTINCT {c} FROM claims WHERE {c} IS NOT NULL "
                                 f"ORDER BY 1").fetchnumpy()[c], dtype=object)
           for c in _NUMBERED}
    t = np.asarray(rows["t"], dtype=np.int64)
    n = len(t)
    none, zero = np.full(n, -1, dtype=np.int32), np.zeros(n, dtype=np.float64)
    return Claims(
        person=np.asarray(rows["psn_no"], dtype=np.int32),
        institution=np.asarray(rows["fixmedins_code"], dtype=np.int32),
        doctor=none, t=t, day=(t // 86_400).astype(np.int32),
        inpatient=np.asarray(rows["inpatient"], dtype=bool),
        med_type=np.zeros(n, dtype=np.int16), diagnosis=none, fund=zero, pool=zero,
        account=zero, medfee=zero, flagged=np.zeros(n, dtype=bool),
        person_codes=own["psn_no"], institution_codes=own["fixmedins_code"],
        doctor_codes=np.zeros(0, dtype=object), diagnosis_codes=np.zeros(0, dtype=object),
        operator=np.asarray(rows["opter_id"], dtype=np.int32),
        operator_codes=own["opter_id"])


def _events_job(params: CoSettlementParams, scale: ProjectionScale) -> Job:
    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        c = _event_claims(con)
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
        pairs = con.sql("SELECT count(*) AS pairs FROM (SELECT DISTINCT psn_a, psn_b FROM events)")
        return {"edges": pa.table({
            "psn_a": pa.array(persons[found.pairs // n].tolist(), pa.string()),
            "psn_b": pa.array(persons[found.pairs % n].tolist(), pa.string()),
            "weight": found.weight, "co_days": found.co_days, "co_events": found.co_events}),
            "searched": pairs.to_arrow_table()}
    return job


def _norms_job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    rows = con.sql("SELECT med_type, medfee FROM claims").fetchnumpy()
    norms = medfee_norms(np.asarray(rows["med_type"], dtype=np.int16),
                         np.asarray(rows["medfee"], dtype=np.float64))
    return {"norms": pa.table({"med_type": pa.array(list(norms), pa.int32()),
                               "norm": pa.array(list(norms.values()), pa.float64())})}


def _codes(codes: DataFrame) -> dict[str, list[str]]:
    """The settlements' codes of :func:`claims_job`'s buckets, sorted, by column."""
    from pyspark.sql import functions as sf

    found: dict[str, set[str]] = {column: set() for column in CODE_COLUMNS}
    # distinct first: an operator works for many persons, so for many buckets
    table = codes.where(sf.col("kind").isin(list(CODE_COLUMNS))).distinct().toArrow()
    for kind, code in zip(table.column("kind").to_pylist(), table.column("code").to_pylist(),
                          strict=True):
        found[kind].add(str(code))
    return {kind: sorted(values) for kind, values in found.items()}


def _empty_projection(n_persons: int, params: CoSettlementParams) -> PersonProjection:
    z, f = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    return PersonProjection(n_persons, z, z, f, z, z, z, z, z, f, params)


def spark_rings(spark: SparkSession, tables: Mapping[str, DataFrame], *,
                by_person: Mapping[str, DataFrame], rule_hits: pa.Table, chains: pa.Table,
                collusion: CollusionFindings, settings: DetectionSettings,
                previous: Sequence[PreviousRing], work: Path, buckets: int,
                progress: Callable[[str], None] | None = None) -> SparkRings:
    """The rings of the lake's ``tables`` (see the module docstring), with the outputs of
    :func:`claims_job` in the person buckets (``by_person``: ``claims``, ``codes``), the run's
    ``rule_hits`` and ``chains`` (Arrow tables: results, not data) and steering findings."""
    from pyspark.sql import functions as sf

    say = progress or (lambda _msg: None)
    st, co = settings, settings.co_settlement
    say("claims")
    rows = by_person["claims"]
    high = {s for ids_, sev in zip(rule_hits.column("setl_ids").to_pylist(),
                                   rule_hits.column("severity").to_pylist(), strict=True)
            if sev == "high" for s in ids_ or ()}
    claims, scale = _known_only(spark, rows, by_person, tables, work / "claims_rows")

    say("projection")
    counted = run_bucketed(spark, {"claims": Part(claims.select(*EVENT_COLUMNS),
                                                  "fixmedins_code")},
                           _events_job(co, scale), buckets=buckets, work=work / "events")
    events = counted["events"]
    paired = run_bucketed(spark, {"events": Part(events, "psn_a")}, _edges_job(co.min_co_days),
                          buckets=buckets, work=work / "edges")
    edges = paired["edges"]
    # a pair's events are all in its first person's bucket: the buckets' pairs are distinct
    searched = max(1, int(paired["searched"].agg(sf.sum("pairs")).collect()[0][0] or 0))
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
    touching = _touching(spark, events, members).toArrow() if members else None
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
        known = _codes(by_person["codes"])
    operator_codes, diagnosis_codes = known["opter_id"], known["dise_codg"]
    with _timed(f"numbering {slice_rows.num_rows} claims of {len(person_codes)} persons"):
        marked = pc.is_in(slice_rows.column("setl_id"),
                          value_set=pa.array(sorted(high), pa.string())).fill_null(False)
        sliced = claims_from_codes(
            slice_rows, flagged=np.asarray(marked.to_numpy(), dtype=bool),
            person_codes=person_codes, institution_codes=place_codes,
            doctor_codes=_sorted_unique(slice_rows.column("dr_codg").combine_chunks().cast(
                pa.string())).to_pylist(),
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
    """Log how long ``what`` took and the driver's memory after it (INFO: the steps inside a
    progress step)."""
    started = time.perf_counter()
    yield
    log.info("%s: %.1f s, driver RSS %s MiB", what, time.perf_counter() - started, _rss_mib())


def _rss_mib() -> str:
    """This process's resident memory in MiB (``?`` where ``/proc`` is not there)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
    except OSError:
        return "?"
    return str(pages * os.sysconf("SC_PAGE_SIZE") // 2**20)


def _known_only(spark: SparkSession, rows: DataFrame, by_person: Mapping[str, DataFrame],
                tables: Mapping[str, DataFrame], path: Path
                ) -> tuple[DataFrame, ProjectionScale]:
    """The claims ``rows`` without those of persons or institutions missing from their
    tables (the store's numbering drops them), and their :class:`ProjectionScale`. A loaded
    lake has none (the loader quarantines a row whose references do not resolve): the
    buckets' distinct codes (:func:`claims_job`) are checked, and the scale summed from the
    buckets; the rows are joined and counted again only when a code is missing."""
    from pyspark.sql import functions as sf

    codes = by_person["codes"]
    checks = (("psn_no", tables["persons"]), ("fixmedins_code", tables["institutions"]))
    if not any(codes.where(sf.col("kind") == f"claims.{column}").select(
            sf.col("code").alias(column)).join(table.select(column), column, "left_anti")
               .limit(1).count() for column, table in checks):
        persons = codes.where(sf.col("kind") == "claims.psn_no").count()
        span = by_person["span"].agg(sf.min("first_t"), sf.max("last_t")).collect()[0]
        return rows, _scale(persons, span[0], span[1])
    for column, table in checks:
        rows = rows.join(table.select(column), column, "left_semi")
    rows.write.mode("overwrite").parquet(str(path))
    known = spark.read.parquet(str(path))
    agg = known.agg(sf.countDistinct("psn_no"), sf.min("t"), sf.max("t")).collect()[0]
    return known, _scale(agg[0], agg[1], agg[2])


def _scale(persons: int | None, first_t: int | None, last_t: int | None) -> ProjectionScale:
    return ProjectionScale(active_persons=max(1, int(persons or 0)),
                           first_day=int(first_t or 0) // 86_400,
                           last_day=int(last_t or 0) // 86_400)


def _community_candidates(touching: pa.Table | None, nodes: Any, partition: Partition,
                          params: Any) -> list[tuple[list[str], list[str], list[str], str]]:
    """Community candidates as codes: persons, institutions, core, pattern. The events'
    codes are numbered in Arrow (sorted by their UTF-8 bytes, which is Python's order of
    ``str``), so the touching events (millions at 10M) never become Python strings."""
    if touching is None or not touching.num_rows:
        return []
    psn_a = touching.column("psn_a").combine_chunks()
    psn_b = touching.column("psn_b").combine_chunks()
    everyone = pa.concat_arrays([psn_a.cast(pa.string()), psn_b.cast(pa.string()),
                                 pa.array(nodes.tolist(), pa.string())])
    persons = _sorted_unique(everyone)
    places_of = touching.column("fixmedins_code").combine_chunks().cast(pa.string())
    places = _sorted_unique(places_of)
    found = candidates_from_events(
        len(persons), _positions(psn_a, persons), _positions(psn_b, persons),
        _positions(places_of, places),
        np.asarray(touching.column("inpatient").to_numpy(), dtype=bool), partition,
        _positions(pa.array(nodes.tolist(), pa.string()), persons), params)
    person_code, place_code = persons.to_pylist(), places.to_pylist()
    return [([person_code[p] for p in c.persons], [place_code[i] for i in c.institutions],
             [person_code[p] for p in c.core], c.pattern) for c in found]


def _sorted_unique(values: pa.Array) -> pa.Array:
    """The distinct non-null ``values``, sorted (by their UTF-8 bytes: Python's ``sorted``)."""
    unique = pc.unique(values.drop_null())
    return unique.take(pc.sort_indices(unique))


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
    # plain SQL (``left`` counts characters in both engines): Spark runs the store's own
    tables["persons"].createOrReplaceTempView("persons")
    names = spark.sql(SURNAMES_SQL).toArrow()
    counts = np.zeros((len(place_codes), _BINS), dtype=np.float64)
    places = pa.array(place_codes, pa.string())
    for traffic in _bucket_files(counted["traffic"]):  # a row per institution and hour: millions
        at = _positions(traffic.column("fixmedins_code"), places)
        if (at < 0).any():  # _known_only keeps the claims of known institutions only
            raise ValueError("traffic of an institution missing from the institutions table")
        np.add.at(counts, (at, _numbers(traffic.column("bin"), np.int64)),
                  _numbers(traffic.column("n"), np.float64))
    width = len(operator_codes) + 1
    operators = pa.array(operator_codes, pa.string())
    key_parts, n_parts = [np.zeros(0, dtype=np.int64)], [np.zeros(0, dtype=np.int64)]
    for ops in _bucket_files(counted["operators"]):
        key_parts.append(_positions(ops.column("fixmedins_code"), places) * width
                         + _positions(ops.column("opter_id"), operators) + 1)
        n_parts.append(_numbers(ops.column("n"), np.int64))
    keys, n_ops = np.concatenate(key_parts), np.concatenate(n_parts)
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
    return stats, counts, (keys[order], n_ops[order])


ISIN_MEMBERS = 50_000
"""Members up to which the events touching them are found by one scan with a set of codes
in the query (Spark's ``InSet``), rather than by two broadcast joins and a distinct."""


def _touching(spark: SparkSession, events: DataFrame, members: list[str]) -> DataFrame:
    """The ``events`` whose first or second person is one of ``members`` (each once)."""
    from pyspark.sql import functions as sf

    if len(members) <= ISIN_MEMBERS:
        return events.where(sf.col("psn_a").isin(members) | sf.col("psn_b").isin(members))
    codes = sf.broadcast(spark.createDataFrame([(m,) for m in members], "code string"))
    return events.join(codes, sf.col("psn_a") == sf.col("code"), "left_semi").unionByName(
        events.join(codes, sf.col("psn_b") == sf.col("code"), "left_semi")).distinct()


def _bucket_files(frame: DataFrame) -> Iterator[pa.Table]:
    """The rows of a bucketed job's output (:func:`backends.spark.partitioned.run_bucketed`),
    one of its Parquet files at a time: the driver never holds the whole output at once."""
    for uri in sorted(frame.inputFiles()):
        yield pq.read_table(uri)


def _positions(values: pa.ChunkedArray, codes: pa.Array) -> Any:
    """Each value's position in ``codes`` (``-1``: none or not listed), looked up in Arrow:
    no Python string per row (the traffic has a row per institution and hour of the week)."""
    at = pc.index_in(values, value_set=codes).fill_null(-1)
    return np.asarray(at.to_numpy(), dtype=np.int64)


def _numbers(values: pa.ChunkedArray, dtype: Any) -> Any:
    return np.asarray(values.to_numpy(), dtype=dtype)
