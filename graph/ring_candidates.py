"""Candidate rings: communities of the person projection and groups of rule hits.

Two sources make candidates, which :mod:`graph.rings` then tests and explains:

* **communities** of the person co-settlement projection (:mod:`graph.projection`), their core
  widened by persons who co-settled with a good share of it on fewer days (a recruit who came
  on one wave only), at the institutions that host their co-settlements;
* **rule hits** that share places (:mod:`graph.rules`): persons with impossible trips through
  the same pharmacies (异地冒用) and traceability codes resold between the same pharmacies
  (倒卖回流药, via :mod:`graph.chains`);
* **steering tests** (:mod:`graph.collusion`): a doctor's prescriptions flowing to one pharmacy
  far beyond their peers' for the same drugs (医药串通), with the rule's hit attached when
  ``DOCTOR_PHARMACY_CONCENTRATION`` fired too.

A candidate's settlements are always its persons' effective settlements at its institutions
(table ``ring_settlements``): one set, used for its money, its test and its evidence.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from graph.claims import Claims, has_table
from graph.collusion import CollusionFindings, collusion_findings, ring_places
from graph.community import Partition
from graph.projection import PersonProjection
from graph.scoring import CommunityParams

__all__ = ["RingCandidate", "candidates_from_events", "collusion_candidates",
           "community_ring_candidates", "rule_ring_candidates"]

I64 = npt.NDArray[np.int64]



@dataclass(frozen=True)
class RingCandidate:
    """A group to be scored: dense person and institution indices plus rule context."""

    pattern: str
    source: str
    persons: tuple[int, ...]
    institutions: tuple[int, ...]
    practitioners: tuple[str, ...] = ()
    trace_codes: tuple[str, ...] = ()
    hit_ids: tuple[str, ...] = ()
    rule_evidence: tuple[tuple[str, str], ...] = ()
    core: tuple[int, ...] = ()
    p_value: float | None = None
    """The candidate's p-value when a rule decided it (0: hard evidence, e.g. a resold
    traceability code; a binomial test for steered prescriptions); None: test co-settlement."""
    null_tests: int = 0
    """Tests behind this candidate's rule that found nothing (they count in the
    false-discovery control as p = 1)."""
    test_zh: str = ""
    test_en: str = ""
    """The rule's test in words (shown as evidence)."""



def community_ring_candidates(
    claims: Claims, projection: PersonProjection, partition: Partition, nodes: I64,
    params: CommunityParams,
) -> list[RingCandidate]:
    """Communities of at least ``min_persons`` (``nodes[i]`` is the person of graph node i),
    widened by attachment, with the institutions that host their co-settlements."""
    c, pr = claims, projection
    return candidates_from_events(
        c.n_persons, c.person[pr.event_a].astype(np.int64),
        c.person[pr.event_b].astype(np.int64), c.institution[pr.event_a].astype(np.int64),
        c.inpatient[pr.event_a], partition, nodes, params)


def candidates_from_events(
    n_persons: int, pa: I64, pb: I64, inst: I64, inpatient: npt.NDArray[np.bool_],
    partition: Partition, nodes: I64, params: CommunityParams,
) -> list[RingCandidate]:
    """:func:`community_ring_candidates` from the co-settlement events themselves (persons
    ``pa`` < ``pb`` numbered among ``n_persons``, institution, whether a stay), in the
    projection's order: every event that touches a member of a community of at least
    ``min_persons`` must be there, others may be left out."""
    ring_of = np.full(n_persons, -1, dtype=np.int64)
    sizes = np.bincount(partition.membership)
    big = np.flatnonzero(sizes >= params.min_persons)
    keep = np.isin(partition.membership, big)
    ring_of[nodes[keep]] = partition.membership[keep]
    ra, rb = ring_of[pa], ring_of[pb]
    inside = (ra >= 0) & (ra == rb)
    # Institutions hosting at least a fifth of a ring's internal events.
    host: dict[int, list[int]] = defaultdict(list)
    if inside.any():
        key, counts = np.unique(np.column_stack([ra[inside], inst[inside]]), axis=0,
                                return_counts=True)
        totals = np.bincount(key[:, 0], weights=counts, minlength=int(ring_of.max()) + 1)
        for (ring, place), n in zip(key.tolist(), counts.tolist(), strict=True):
            if n >= 0.2 * totals[ring]:
                host[ring].append(place)
    # Attach outsiders who co-settled there with enough distinct core members.
    joins: dict[int, list[int]] = defaultdict(list)
    for core_side, other_side, core_ring in ((pa, pb, ra), (pb, pa, rb)):
        sel = (core_ring >= 0) & (ring_of[other_side] < 0)
        if not sel.any():
            continue
        triples = np.unique(np.column_stack([core_ring[sel], other_side[sel], core_side[sel],
                                             inst[sel]]), axis=0)
        hosted = np.array([place in host.get(r, ()) for r, place in
                           zip(triples[:, 0].tolist(), triples[:, 3].tolist(), strict=True)],
                          dtype=bool)
        pairs = np.unique(triples[hosted][:, :3], axis=0)
        if not len(pairs):
            continue
        key, partners = np.unique(pairs[:, :2], axis=0, return_counts=True)
        for (ring, person), n in zip(key.tolist(), partners.tolist(), strict=True):
            need = max(params.attach_min, math.ceil(params.attach_share * sizes[ring]))
            if n >= need:
                joins[ring].append(person)
    out = []
    for ring in big.tolist():
        core = nodes[partition.membership == ring]
        members = sorted(set(core.tolist()) | set(joins.get(ring, [])))
        places = sorted(host.get(ring, []))
        if not places:
            continue
        # The pattern follows the ring's own co-settlements: admissions or visits.
        ring_stays = inpatient[inside & (ra == ring)]
        pattern = ("recruited_inpatients" if len(ring_stays) and ring_stays.mean() >= 0.5
                   else "card_pooling")
        out.append(RingCandidate(pattern=pattern, source="community", persons=tuple(members),
                                 institutions=tuple(places), core=tuple(sorted(core.tolist()))))
    return out


def _components(groups: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[list[int]]:
    """Group indices whose right-hand sets overlap (connected components of the bipartite
    graph group -- item)."""
    if not groups:
        return []
    items: dict[int, int] = {}
    rows, cols = [], []
    for g, (_, right) in enumerate(groups):
        for x in right:
            rows.append(g)
            cols.append(items.setdefault(x, len(items)))
    n = len(groups) + len(items)
    adj = coo_matrix((np.ones(len(rows)), (rows, [len(groups) + c for c in cols])), shape=(n, n))
    _, label = connected_components(adj, directed=False)
    found: dict[int, list[int]] = defaultdict(list)
    for g in range(len(groups)):
        found[int(label[g])].append(g)
    return list(found.values())


def rule_ring_candidates(con: duckdb.DuckDBPyConnection,
                         collusion: CollusionFindings | None = None) -> list[RingCandidate]:
    """Rings made of rule hits and resale chains (empty when those tables are absent), and of
    the steering tests (``collusion``: findings computed elsewhere, e.g. partitioned; default:
    run on ``con``)."""
    out: list[RingCandidate] = []
    if has_table(con, "rule_hits"):
        out += _travel_rings(con)
    out += _collusion_rings(con, collusion)
    if has_table(con, "chains"):
        out += _resale_rings(con)
    return out


def _index(con: duckdb.DuckDBPyConnection, table: str, codes: Iterable[str]) -> list[int]:
    wanted = sorted(set(codes))
    if not wanted:
        return []
    rows = con.sql(f"SELECT idx FROM {table} WHERE code IN (SELECT unnest($c))",
                   params={"c": wanted}).fetchall()
    return sorted(int(r[0]) for r in rows)


def _travel_rings(con: duckdb.DuckDBPyConnection) -> list[RingCandidate]:
    hits = con.sql("""
        SELECT hit_id, persons, institutions, evidence_zh, evidence_en FROM rule_hits
        WHERE rule_id = 'IMPOSSIBLE_TRAVEL' ORDER BY hit_id
    """).fetchall()
    groups = [(h[1], h[2]) for h in hits]
    out = []
    for comp in _components(groups):
        persons = sorted({p for g in comp for p in hits[g][1]})
        if len(persons) < 2:
            continue
        counts: dict[str, int] = defaultdict(int)
        for g in comp:
            for place in set(hits[g][2]):
                counts[place] += 1
        shared = [p for p, n in counts.items() if n >= 2] or list(counts)
        out.append(RingCandidate(
            pattern="cross_province_card_use", source="rule",
            persons=tuple(_index(con, "_psn_idx", persons)),
            institutions=tuple(_index(con, "_ins_idx", shared)),
            hit_ids=tuple(hits[g][0] for g in comp),
            rule_evidence=tuple((hits[g][3], hits[g][4]) for g in comp[:3]),
            p_value=0.0,
            test_zh="行程在时间上不可能完成：确凿证据，不依赖概率",
            test_en="the journeys cannot be made in the time between them: hard evidence, "
                    "not a matter of chance",
        ))
    return out


def _collusion_rings(con: duckdb.DuckDBPyConnection,
                     findings: CollusionFindings | None = None) -> list[RingCandidate]:
    """Doctors whose prescriptions go to one pharmacy far more than their peers' for the same
    drugs (:mod:`graph.collusion`). Doctors whose test is far from any flag line are left out
    of the candidates but count in the false-discovery control (``null_tests``)."""
    if findings is None and not has_table(con, "fee_details"):
        return []
    hits: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    if has_table(con, "rule_hits"):
        for hit_id, dr, ev_zh, ev_en in con.execute("""
            SELECT hit_id, subject_id, evidence_zh, evidence_en FROM rule_hits
            WHERE rule_id = 'DOCTOR_PHARMACY_CONCENTRATION' ORDER BY hit_id""").fetchall():
            hits[dr].append((hit_id, ev_zh, ev_en))
    return collusion_candidates(findings or collusion_findings(con), hits,
                                lambda codes: _index(con, "_psn_idx", codes),
                                lambda codes: _index(con, "_ins_idx", codes))


def collusion_candidates(findings: CollusionFindings,
                         hits: Mapping[str, Sequence[tuple[str, str, str]]],
                         person_index: Callable[[Iterable[str]], list[int]],
                         institution_index: Callable[[Iterable[str]], list[int]]
                         ) -> list[RingCandidate]:
    """The candidates of the kept steering tests (by doctor), with the rule's hits of each
    doctor (``hit_id``, evidence in Chinese and English); ``person_index`` and
    ``institution_index`` number codes as the run's claims do."""
    out = []
    n_tests = findings.n_tests
    for k, t in enumerate(findings.kept):
        core = person_index(t.steered)
        found = hits.get(t.doctor, [])
        out.append(RingCandidate(
            pattern="doctor_pharmacy_collusion", source="rule" if found else "test",
            persons=tuple(sorted(set(core) | set(person_index(findings.others[t.doctor])))),
            core=tuple(core), institutions=tuple(institution_index(ring_places(t))),
            practitioners=(t.doctor,), hit_ids=tuple(h[0] for h in found),
            rule_evidence=tuple((h[1], h[2]) for h in found[:2]),
            p_value=t.p_value, null_tests=n_tests - len(findings.kept) if k == 0 else 0,
            test_zh=(f"医师 {t.doctor} 在药店结算的 {t.fills} 张处方中 {t.at_pharmacy} 张"
                     f"流向同一药店；若按同机构其他医师处方或这些患者平时购药流向该药店的"
                     f"比例（取较大者，约 {t.peer_share:.1%}），"
                     f"概率约为 10^-{t.surprise:.0f}（按其用过的 {t.pharmacies} 家药店校正，"
                     f"并与检验过的 {n_tests:,} 名医师一起控制错误发现率）"),
            test_en=(f"{t.at_pharmacy} of doctor {t.doctor}'s {t.fills} prescriptions filled at "
                     f"pharmacies went to one pharmacy; if they went there as often as their "
                     f"colleagues' prescriptions or these patients' own purchases do (the larger, "
                     f"about {t.peer_share:.1%}), the chance is about "
                     f"10^-{t.surprise:.0f} (corrected for the doctor's {t.pharmacies} "
                     f"pharmacies, with the false-discovery rate "
                     f"controlled over the {n_tests:,} doctors tested)"),
        ))
    return out


def _resale_rings(con: duckdb.DuckDBPyConnection) -> list[RingCandidate]:
    chains = con.sql("""
        SELECT drug_trac_codg, institutions, persons FROM chains
        WHERE hit_class = 'resale' ORDER BY drug_trac_codg
    """).fetchall()
    out = []
    for comp in _components([(c[2], c[1]) for c in chains]):
        codes = sorted(chains[g][0] for g in comp)
        persons = sorted({p for g in comp for p in chains[g][2]})
        places = sorted({p for g in comp for p in chains[g][1]})
        hits = con.execute("""
            SELECT DISTINCT hit_id, evidence_zh, evidence_en
            FROM rule_hits, unnest(trace_codes) AS u(code)
            WHERE rule_id = 'TRACE_REUSE' AND u.code IN (SELECT unnest($c)) ORDER BY 1
        """, {"c": codes}).fetchall() if has_table(con, "rule_hits") else []
        out.append(RingCandidate(
            pattern="resale_chain", source="rule",
            persons=tuple(_index(con, "_psn_idx", persons)),
            institutions=tuple(_index(con, "_ins_idx", places)),
            trace_codes=tuple(codes), hit_ids=tuple(h[0] for h in hits), p_value=0.0,
            test_zh="一盒药只能销售一次：追溯码重复结算是确凿证据，不依赖概率",
            test_en="a box can be sold once: a traceability code settled again is hard "
                    "evidence, not a matter of chance",
            rule_evidence=((f"{len(codes)} 个药品追溯码在 {len(places)} 家机构间被重复结算",
                            f"{len(codes)} traceability codes settled again across "
                            f"{len(places)} institutions"),
                           *((h[1], h[2]) for h in hits[:3])),
        ))
    return out


