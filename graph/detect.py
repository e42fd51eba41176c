"""The whole detection: rules, chains, the person projection, communities, scored rings.

:func:`detect` reads the store, runs every step and writes, in one transaction, the tables the
workbench and the CLI read: ``rule_hits`` and ``chains``/``chain_links`` (by
:mod:`graph.rules` and :mod:`graph.chains`), ``rings`` (one row per ring with its features and
evidence), ``ring_members`` (ring, kind, code, role) and ``ring_settlements`` (ring, setl_id),
and a row in ``detect_runs``. Rings keep their ids across reruns (:mod:`graph.ring_ids`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import duckdb
import numpy as np
import numpy.typing as npt

from graph.chains import build_chains
from graph.claims import claims_from_store, effective_settlements_sql
from graph.community import Partition, communities_by_component
from graph.projection import PersonProjection, person_projection_from_claims
from graph.ring_candidates import community_ring_candidates, rule_ring_candidates
from graph.ring_context import ring_context_from_store
from graph.ring_ids import PreviousRing, assign_ring_ids
from graph.rings import Ring, rings_from_candidates
from graph.rules import run_rules
from graph.scoring import CommunityParams, DetectionSettings, load_detection_settings

__all__ = ["DetectionResult", "detect", "previous_rings", "projection_communities",
           "record_run", "rings_table_ddl", "write_rings"]

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

CommunityFinder = Callable[..., Partition]
"""``finder(n, src, dst, weight, *, resolution, seed)`` → a :class:`graph.community.Partition`
of nodes ``0..n-1``: an external community engine (Neo4j GDS) in place of the in-process ones."""

_DDL = (
    """CREATE TABLE IF NOT EXISTS rings (
        ring_id VARCHAR PRIMARY KEY, pattern VARCHAR, pattern_zh VARCHAR, source VARCHAR,
        score DOUBLE, suspicious BOOLEAN, rank INTEGER,
        persons VARCHAR[], core_persons VARCHAR[], institutions VARCHAR[],
        practitioners VARCHAR[], trace_codes VARCHAR[], hit_ids VARCHAR[],
        fund_amount DOUBLE, medfee_amount DOUBLE, n_settlements BIGINT,
        first_time TIMESTAMP, last_time TIMESTAMP, divisions VARCHAR[],
        features JSON, metrics JSON, evidence_zh VARCHAR[], evidence_en VARCHAR[],
        run_id INTEGER
    )""",
    """CREATE TABLE IF NOT EXISTS ring_members (
        ring_id VARCHAR, kind VARCHAR, code VARCHAR, role VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS ring_settlements (ring_id VARCHAR, setl_id VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS detect_runs (
        run_id INTEGER PRIMARY KEY, started_at TIMESTAMP, seconds DOUBLE, engine VARCHAR,
        resolution DOUBLE, modularity DOUBLE, projection_edges BIGINT, rings INTEGER,
        suspicious INTEGER, timings JSON, settings JSON
    )""",
)


def rings_table_ddl() -> tuple[str, ...]:
    """DDL of the tables detection writes (besides the rule and chain tables)."""
    return _DDL


@dataclass(frozen=True)
class DetectionResult:
    """What one detection run found and how long each step took (seconds)."""

    run_id: int
    rings: list[Ring]
    engine: str
    modularity: float
    projection_edges: int
    projection_nodes: int
    rule_hits: dict[str, int]
    chains: int
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def suspicious(self) -> list[Ring]:
        return [r for r in self.rings if r.suspicious]


def previous_rings(con: duckdb.DuckDBPyConnection) -> list[PreviousRing]:
    """Rings stored by the last run (empty before the first)."""
    for ddl in _DDL:
        con.execute(ddl)
    rows = con.execute(
        "SELECT ring_id, pattern, persons, institutions FROM rings ORDER BY ring_id"
    ).fetchall()
    return [PreviousRing(r[0], r[1], frozenset(r[2] or ()), frozenset(r[3] or ()))
            for r in rows]


def write_rings(con: duckdb.DuckDBPyConnection, rings: list[Ring], run_id: int) -> None:
    """Replace ``rings``, ``ring_members`` and ``ring_settlements`` on ``con`` with ``rings``
    of run ``run_id``; a ring's settlements are its persons' effective settlements at its
    institutions (``settlements`` on ``con`` must hold at least those, with their
    reversals)."""
    con.execute("DELETE FROM rings")
    con.execute("DELETE FROM ring_members")
    con.execute("DELETE FROM ring_settlements")
    if not rings:
        return
    con.executemany(
        "INSERT INTO rings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?, ?, ?)",
        [[r.ring_id, r.pattern, r.pattern_zh, r.source, r.score, r.suspicious, r.rank,
          list(r.persons), list(r.core_persons), list(r.institutions), list(r.practitioners),
          list(r.trace_codes), list(r.hit_ids), r.fund_amount, r.medfee_amount,
          r.n_settlements, r.first_time, r.last_time, list(r.divisions),
          json.dumps(r.features), json.dumps(r.metrics),
          list(r.evidence_zh),
          list(r.evidence_en), run_id] for r in rings],
    )
    con.execute("""
        INSERT INTO ring_members
        SELECT ring_id, 'person', u.code,
               CASE WHEN list_contains(core_persons, u.code) OR len(core_persons) = 0
                    THEN 'core' ELSE 'attached' END
        FROM rings, unnest(persons) AS u(code)
        UNION ALL SELECT ring_id, 'institution', u.code, 'place'
        FROM rings, unnest(institutions) AS u(code)
        UNION ALL SELECT ring_id, 'practitioner', u.code, 'prescriber'
        FROM rings, unnest(practitioners) AS u(code)
    """)
    con.execute(f"""
        INSERT INTO ring_settlements
        SELECT DISTINCT p.ring_id, s.setl_id
        FROM ring_members p
        JOIN ring_members i ON i.ring_id = p.ring_id AND i.kind = 'institution'
        JOIN ({effective_settlements_sql()}) s
          ON s.psn_no = p.code AND s.fixmedins_code = i.code
        WHERE p.kind = 'person'
    """)


def record_run(con: duckdb.DuckDBPyConnection, run_id: int, timings: dict[str, float],
               partition: Partition, projection_edges: int, rings: list[Ring],
               settings: DetectionSettings, *, engine: str | None = None) -> None:
    """Add run ``run_id``'s row to ``detect_runs`` (``engine``: as stored, default the
    partition's)."""
    con.execute(
        "INSERT INTO detect_runs VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [run_id, timings["total"], engine or partition.engine, partition.resolution,
         partition.modularity, projection_edges, len(rings),
         sum(r.suspicious for r in rings), json.dumps(timings),
         json.dumps({**settings.to_json(), "threshold": settings.threshold})],
    )


def projection_communities(
    projection: PersonProjection, params: CommunityParams,
    communities: CommunityFinder | None = None,
) -> tuple[npt.NDArray[np.int64], Partition]:
    """The persons of the projection (graph node i is person ``nodes[i]``) and their
    communities, by ``communities`` or else the in-process engine ``params`` name, run on
    each connected component of at least ``min_persons`` by itself with the whole graph's
    objective (:func:`graph.community.communities_by_component`: the same communities
    whichever machine finds which component's)."""
    nodes = np.unique(np.concatenate([projection.src, projection.dst])).astype(np.int64)
    edges = (len(nodes), np.searchsorted(nodes, projection.src),
             np.searchsorted(nodes, projection.dst), projection.weight)
    if communities is not None:
        return nodes, communities(*edges, resolution=params.resolution, seed=params.seed)
    return nodes, communities_by_component(
        *edges, engine=params.engine or None,  # type: ignore[arg-type]
        resolution=params.resolution, seed=params.seed, min_size=params.min_persons)


def detect(
    con: duckdb.DuckDBPyConnection,
    *,
    settings: DetectionSettings | None = None,
    engine: str | None = None,
    progress: Progress | None = None,
    communities: CommunityFinder | None = None,
) -> DetectionResult:
    """Run the whole detection on the store behind ``con`` and store its results.

    ``engine`` overrides the community engine of ``settings`` (``networkit``, ``igraph``,
    ``networkx``; default: the fastest installed); ``communities`` replaces the in-process
    engines altogether (e.g. Neo4j GDS, :mod:`backends.neo4j_gds`).
    """
    st = settings or load_detection_settings()
    if engine:
        st = replace(st, community=replace(st.community, engine=engine))
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()

    def step(name: str) -> Callable[[], None]:
        t0 = time.perf_counter()
        say(name)

        def done() -> None:
            timings[name] = round(time.perf_counter() - t0, 3)
        return done

    con.execute("BEGIN TRANSACTION")
    try:
        done = step("rules")
        rule_run = run_rules(con)
        done()
        done = step("chains")
        chain_summary = build_chains(con)
        done()
        done = step("claims")
        claims = claims_from_store(con)
        done()
        done = step("projection")
        projection = person_projection_from_claims(claims, st.co_settlement)
        done()
        done = step("communities")
        nodes, partition = projection_communities(projection, st.community, communities)
        done()
        done = step("rings")
        ctx = ring_context_from_store(con, claims, projection)
        candidates = (community_ring_candidates(claims, projection, partition, nodes,
                                                st.community)
                      + rule_ring_candidates(con))
        ranked = rings_from_candidates(ctx, candidates, st)
        rings = assign_ring_ids(ranked, previous_rings(con))
        done()
        done = step("store")
        run_id = int(con.execute(
            "SELECT coalesce(max(run_id), 0) + 1 FROM detect_runs").fetchall()[0][0])
        write_rings(con, rings, run_id)
        timings["total"] = round(time.perf_counter() - started, 3)
        record_run(con, run_id, timings, partition, projection.n_edges, rings, st)
        done()
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    log.info("detection: %d rings (%d suspicious) in %.1f s", len(rings),
             sum(r.suspicious for r in rings), timings["total"])
    return DetectionResult(
        run_id=run_id, rings=rings, engine=partition.engine, modularity=partition.modularity,
        projection_edges=projection.n_edges, projection_nodes=len(nodes),
        rule_hits=dict(rule_run.hits), chains=chain_summary.n_chains, timings=timings,
    )
