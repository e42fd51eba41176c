"""Explore and tune: detection rerun on one scope with other settings, compared with the stored
run, without writing anything.

An investigator who doubts a ring, or suspects one the run missed, changes the detection's
knobs (co-settlement window, minimum shared days, community engine or resolution, false
discovery rate, honest explanations) for a region or an institution and a period, and sees
which flagged rings the change gains and loses. The rerun is the stored run's own pipeline
(:mod:`graph.projection`, :mod:`graph.community`, :mod:`graph.rings`) on the scope's effective
settlements; rule and resale candidates come from the stored rule hits and chains (their
settings do not change here) when they touch the scope. The false-discovery rate is
controlled over the scope's own candidates, so a q-value here is not the stored run's.

It only reads (temporary tables aside), so it runs on the workbench's read-only snapshot.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np

from graph.claims import Claims, claims_from_store, create_index_tables, has_table
from graph.detect import projection_communities
from graph.projection import person_projection_from_claims
from graph.ring_candidates import RingCandidate, community_ring_candidates, rule_ring_candidates
from graph.ring_context import ring_context_from_store
from graph.ring_ids import PreviousRing, assign_ring_ids
from graph.rings import Ring, rings_from_candidates
from graph.scoring import DetectionSettings

__all__ = [
    "RingChanges",
    "TunedRun",
    "TuningScope",
    "ring_changes",
    "store_rule_candidates",
    "stored_rings_in_scope",
    "tune_in_scope",
]


@dataclass(frozen=True)
class TuningScope:
    """Settlements from ``start`` to ``end`` (inclusive) at the institutions of one division
    (a province, city or county code; ``None``: all) or one institution."""

    start: date
    end: date
    division: str | None = None
    institution: str | None = None

    @property
    def prefix(self) -> str | None:
        """The division's code prefix (``320100`` → ``3201``, ``310000`` → ``31``)."""
        if not self.division:
            return None
        code = self.division
        while code.endswith("00") and len(code) > 2:
            code = code[:-2]
        return code

    def where(self) -> tuple[str, dict[str, object]]:
        """SQL on settlement alias ``s`` selecting the scope, and its named parameters."""
        parts = ["s.setl_time >= $scope_start", "s.setl_time < $scope_end"]
        params: dict[str, object] = {"scope_start": self.start,
                                     "scope_end": self.end + timedelta(days=1)}
        if self.institution:
            parts.append("s.fixmedins_code = $scope_institution")
            params["scope_institution"] = self.institution
        if self.prefix:
            parts.append("s.fixmedins_code IN (SELECT fixmedins_code FROM institutions "
                         "WHERE starts_with(admdvs, $scope_prefix))")
            params["scope_prefix"] = self.prefix
        return " AND ".join(parts), params


@dataclass(frozen=True)
class TunedRun:
    """The rings of a rerun on one scope (ranked, ids matched to the stored run's)."""

    scope: TuningScope
    settings: DetectionSettings
    rings: list[Ring]
    settlements: int
    persons: frozenset[str]
    """Every person with a settlement in the scope."""
    seconds: float

    @property
    def flagged(self) -> list[Ring]:
        return [r for r in self.rings if r.suspicious]


@dataclass(frozen=True)
class RingChanges:
    """Flagged rings of a rerun against the stored run's flagged rings in the same scope."""

    gained: list[Ring]
    """Flagged now, not flagged (or not found) by the stored run."""
    lost: list[str]
    """Ids of stored flagged rings of the scope the rerun no longer flags."""
    kept: list[Ring]


def tune_in_scope(con: duckdb.DuckDBPyConnection, scope: TuningScope,
                  settings: DetectionSettings,
                  rule_candidates: list[RingCandidate] | None = None) -> TunedRun:
    """Detection on ``scope`` with ``settings``; nothing is written. ``rule_candidates``: the
    store's rule and resale candidates, when the caller keeps them between reruns (they do
    not depend on the settings tuned here; :func:`rule_ring_candidates` after
    ``claims_from_store`` on the same connection)."""
    started = time.perf_counter()
    where, params = scope.where()
    claims = claims_from_store(con, where, params)
    candidates: list[RingCandidate] = []
    ranked: list[Ring] = []
    if len(claims):
        projection = person_projection_from_claims(claims, settings.co_settlement)
        ctx = ring_context_from_store(con, claims, projection)
        if projection.n_edges:
            nodes, partition = projection_communities(projection, settings.community)
            candidates = community_ring_candidates(claims, projection, partition, nodes,
                                                   settings.community)
        rules = rule_ring_candidates(con) if rule_candidates is None else rule_candidates
        candidates += _touching(rules, claims)
        ranked = rings_from_candidates(ctx, candidates, settings)
    rings = assign_ring_ids(ranked, _stored(con))
    persons = frozenset(str(p) for p in claims.person_codes[np.unique(claims.person)])
    return TunedRun(scope=scope, settings=settings, rings=rings, settlements=len(claims),
                    persons=persons, seconds=round(time.perf_counter() - started, 3))


def store_rule_candidates(con: duckdb.DuckDBPyConnection) -> list[RingCandidate]:
    """The store's rule and resale candidates (impossible travel, steering tests, resold
    trace codes), to keep between reruns of :func:`tune_in_scope` on one snapshot."""
    create_index_tables(con)
    return rule_ring_candidates(con)


def _touching(candidates: list[RingCandidate], claims: Claims) -> list[RingCandidate]:
    """The candidates at an institution with settlements in the scope's claims."""
    present = np.zeros(claims.n_institutions, dtype=bool)
    present[claims.institution] = True
    return [c for c in candidates if any(present[i] for i in c.institutions)]


def _stored(con: duckdb.DuckDBPyConnection) -> list[PreviousRing]:
    if not has_table(con, "rings"):
        return []
    rows = con.execute(
        "SELECT ring_id, pattern, persons, institutions FROM rings ORDER BY ring_id").fetchall()
    return [PreviousRing(r[0], r[1], frozenset(r[2] or ()), frozenset(r[3] or ()))
            for r in rows]


def stored_rings_in_scope(con: duckdb.DuckDBPyConnection, scope: TuningScope
                          ) -> list[str]:
    """Ids of the stored run's flagged rings with a ring settlement in ``scope``."""
    if not has_table(con, "ring_settlements"):
        return []
    where, params = scope.where()
    rows = con.execute(f"""
        SELECT DISTINCT r.ring_id FROM rings r
        JOIN ring_settlements rs ON rs.ring_id = r.ring_id
        JOIN settlements s ON s.setl_id = rs.setl_id
        WHERE r.suspicious AND {where}
        ORDER BY r.ring_id""", params).fetchall()
    return [str(r[0]) for r in rows]


def ring_changes(run: TunedRun, stored_flagged: list[str]) -> RingChanges:
    """What the rerun flags that the stored run did not, and the reverse (ring ids are matched
    by members, :mod:`graph.ring_ids`)."""
    before = set(stored_flagged)
    now = {r.ring_id for r in run.flagged}
    return RingChanges(
        gained=[r for r in run.flagged if r.ring_id not in before],
        lost=sorted(before - now),
        kept=[r for r in run.flagged if r.ring_id in before],
    )
