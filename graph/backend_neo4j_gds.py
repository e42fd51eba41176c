"""Neo4j Graph Data Science as an extra community engine, used only when the server has it.

:func:`gds_version` asks ``CALL gds.version() YIELD gdsVersion``: a Neo4j server with GDS names
its version; a server without it fails the call, and ArcadeDB answers ``gds.version()`` with
its *own* version in a column named ``value`` (so ``gdsVersion`` is null), which also counts as
absent. GDS is never required: detection's default engines run in our code.

With GDS, :func:`communities_from_edges_gds` projects the person co-settlement projection into
a GDS in-memory graph (:class:`GdsProjection`, dropped on exit), runs seeded single-threaded
Leiden with the same resolution and returns the same :class:`graph.community.Partition` as the
in-process engines. :func:`detect_with_gds` runs the detection of :func:`graph.detect.detect`
step for step with that community step; ``graph.detect.detect`` has no hook for an external
community engine yet, so this module mirrors its steps (keep the two in step).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import duckdb
import numpy as np
import numpy.typing as npt

from queries.runner import Runner
from yibao.errors import BackendError, CommunityError

if TYPE_CHECKING:
    from graph.community import Partition
    from graph.detect import DetectionResult
    from graph.scoring import DetectionSettings

__all__ = ["GdsProjection", "communities_from_edges_gds", "detect_with_gds", "gds_version"]

log = logging.getLogger(__name__)


def gds_version(runner: Runner) -> str | None:
    """The server's Graph Data Science version, or ``None`` when it has none."""
    try:
        rows = runner.run("read/gds_version")
    except BackendError as exc:
        log.debug("no GDS: %s", exc)
        return None
    version = rows[0].get("gdsVersion") if rows else None
    return str(version) if version else None


class GdsProjection:
    """A GDS in-memory graph of edges ``src[i] - dst[i]`` (weight ``weight[i]``) on nodes
    ``0..n-1``, named at random; it is dropped when the ``with`` block ends."""

    def __init__(self, runner: Runner, src: npt.ArrayLike, dst: npt.ArrayLike,
                 weight: npt.ArrayLike) -> None:
        self.runner = runner
        self.name = f"yibao-{secrets.token_hex(6)}"
        self.edges = [[int(s), int(d), float(w)] for s, d, w in
                      zip(np.asarray(src).tolist(), np.asarray(dst).tolist(),
                          np.asarray(weight).tolist(), strict=True)]

    def __enter__(self) -> GdsProjection:
        self.runner.run("gds/project", {"graph": self.name, "edges": self.edges})
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.runner.run("gds/drop", {"graph": self.name})


def communities_from_edges_gds(
    runner: Runner, n_nodes: int, src: npt.ArrayLike, dst: npt.ArrayLike,
    weight: npt.ArrayLike, *, resolution: float = 1.0, seed: int = 0,
) -> Partition:
    """Communities of nodes ``0..n_nodes-1`` by the server's GDS Leiden, as a canonical
    :class:`~graph.community.Partition` (nodes GDS does not return stay alone)."""
    from graph.community import _canonical, modularity

    if resolution <= 0:
        raise CommunityError(f"resolution must be positive, not {resolution}")
    with GdsProjection(runner, src, dst, weight) as projection:
        rows = runner.run("gds/leiden", {"graph": projection.name, "resolution": resolution,
                                         "seed": int(seed)})
    raw = np.arange(n_nodes, dtype=np.int64) + n_nodes  # unreturned nodes: alone
    for r in rows:
        raw[int(r["nodeId"])] = int(r["communityId"])
    membership = _canonical(raw)
    from graph.community import Partition

    return Partition(
        membership=membership,
        modularity=modularity(membership, src, dst, weight, resolution=resolution),
        engine=cast(Any, "gds"), resolution=resolution,
    )


def detect_with_gds(
    con: duckdb.DuckDBPyConnection, runner: Runner, *,
    settings: DetectionSettings | None = None, progress: Callable[[str], None] | None = None,
) -> DetectionResult:
    """:func:`graph.detect.detect` on the store behind ``con`` with GDS Leiden as the
    community engine (the same steps, tables and result)."""
    from graph.chains import build_chains
    from graph.claims import claims_from_store
    from graph.detect import DetectionResult, _write, previous_rings
    from graph.projection import person_projection_from_claims
    from graph.ring_ids import assign_ring_ids
    from graph.rings import (
        community_ring_candidates,
        ring_context_from_store,
        rings_from_candidates,
        rule_ring_candidates,
    )
    from graph.rules import run_rules
    from graph.scoring import load_detection_settings

    st = settings or load_detection_settings()
    say = progress or (lambda _msg: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    con.execute("BEGIN TRANSACTION")
    try:
        say("rules")
        rule_run = run_rules(con)
        say("chains")
        chain_summary = build_chains(con)
        say("projection")
        claims = claims_from_store(con)
        projection = person_projection_from_claims(claims, st.co_settlement)
        say("communities (gds)")
        t0 = time.perf_counter()
        nodes = np.unique(np.concatenate([projection.src, projection.dst]))
        partition = communities_from_edges_gds(
            runner, len(nodes), np.searchsorted(nodes, projection.src),
            np.searchsorted(nodes, projection.dst), projection.weight,
            resolution=st.community.resolution, seed=st.community.seed)
        timings["communities"] = round(time.perf_counter() - t0, 3)
        say("rings")
        ctx = ring_context_from_store(con, claims, projection)
        candidates = (community_ring_candidates(ctx, partition, nodes, st.community)
                      + rule_ring_candidates(con))
        ranked = [replace(r, rank=k + 1, suspicious=r.score >= st.threshold)
                  for k, r in enumerate(rings_from_candidates(ctx, candidates, st))]
        rings = assign_ring_ids(ranked, previous_rings(con))
        run_id = int(con.execute(
            "SELECT coalesce(max(run_id), 0) + 1 FROM detect_runs").fetchall()[0][0])
        _write(con, rings, run_id)
        timings["total"] = round(time.perf_counter() - started, 3)
        con.execute(
            "INSERT INTO detect_runs VALUES (?, now()::TIMESTAMP, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [run_id, timings["total"], "gds", partition.resolution, partition.modularity,
             projection.n_edges, len(rings), sum(r.suspicious for r in rings),
             json.dumps(timings),
             json.dumps({"weights": dict(st.weights), "threshold": st.threshold})])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return DetectionResult(
        run_id=run_id, rings=rings, engine="gds", modularity=partition.modularity,
        projection_edges=projection.n_edges, projection_nodes=len(nodes),
        rule_hits=dict(rule_run.hits), chains=chain_summary.n_chains, timings=timings,
    )
