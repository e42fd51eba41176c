"""Rings: communities of the person projection and groups of rule hits, scored and explained.

Two sources make candidate rings:

* **communities** of the person co-settlement projection (:mod:`graph.projection`), their core
  widened by persons who co-settled with a good share of it on fewer days (a recruit who came
  on one wave only);
* **rule hits** that share places (:mod:`graph.rules`): persons with impossible trips through
  the same pharmacies (异地冒用), a doctor's prescriptions flowing to one pharmacy (医药串通),
  and traceability codes resold between the same pharmacies (倒卖回流药, via
  :mod:`graph.chains`).

Every candidate is then measured on the same named features (:mod:`graph.scoring`) over its
*ring settlements* (its members' settlements at its institutions), scored, and given evidence
sentences in Chinese and English with the numbers behind them.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb
import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from graph.claims import Claims, has_table
from graph.community import Partition
from graph.projection import PersonProjection
from graph.scoring import CommunityParams, DetectionSettings, score_from_features
from yibao.divisions import divisions_frame

__all__ = [
    "PATTERNS",
    "Ring",
    "RingCandidate",
    "RingContext",
    "community_ring_candidates",
    "ring_context_from_store",
    "ring_to_json",
    "rings_from_candidates",
    "rule_ring_candidates",
]

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

PATTERNS: dict[str, tuple[str, str]] = {
    "card_pooling": ("聚集性刷卡(套刷)", "card pooling"),
    "recruited_inpatients": ("诱导住院/虚假住院", "recruited inpatients"),
    "cross_province_card_use": ("异地冒用医保卡", "cross-province card use"),
    "resale_chain": ("倒卖医保药品(回流药)", "drug resale chain"),
    "doctor_pharmacy_collusion": ("医药串通(处方集中流向)", "doctor-pharmacy collusion"),
}
"""Pattern key -> (Chinese, English) label."""

_EPOCH = datetime(2000, 1, 1)
_CHRONIC_MED_TYPES = (14, 15, 16)


@dataclass(frozen=True)
class RingContext:
    """What scoring needs beside the claims, indexed like :class:`~graph.claims.Claims`."""

    claims: Claims
    projection: PersonProjection
    person_age: F64
    person_home: npt.NDArray[np.object_]
    person_home_lonlat: F64
    person_family_key: I64
    institution_lonlat: F64
    institution_admdvs: npt.NDArray[np.object_]
    institution_name: npt.NDArray[np.object_]
    medfee_norm: dict[int, float]
    rows_by_person: I64
    person_offsets: I64
    surname_share: F64 = field(default_factory=lambda: np.zeros(0))
    flagged_persons: frozenset[int] = frozenset()

    def surname_chance(self, n: int) -> float:
        """Chance that a member of a random group of ``n`` shares a surname with another."""
        p = self.surname_share
        return float((p * (1.0 - (1.0 - p) ** max(n - 1, 0))).sum())

    def rows_of(self, persons: Iterable[int]) -> I64:
        parts = [self.rows_by_person[self.person_offsets[p]:self.person_offsets[p + 1]]
                 for p in persons]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


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
    active_days: tuple[int, ...] = ()
    """Days the ring met (community rings): its settlements are counted on these days only."""


@dataclass(frozen=True)
class Ring:
    """A scored, explained ring. Amounts in yuan; ``fund_amount`` is what the insurance paid
    (统筹基金 + 个人账户) in the ring settlements."""

    pattern: str
    source: str
    score: float
    persons: tuple[str, ...]
    institutions: tuple[str, ...]
    practitioners: tuple[str, ...]
    trace_codes: tuple[str, ...]
    fund_amount: float
    medfee_amount: float
    n_settlements: int
    first_time: datetime | None
    last_time: datetime | None
    divisions: tuple[str, ...]
    features: dict[str, float]
    metrics: dict[str, float]
    evidence_zh: tuple[str, ...]
    evidence_en: tuple[str, ...]
    hit_ids: tuple[str, ...] = ()
    ring_id: str = ""
    suspicious: bool = False
    rank: int = 0
    core_persons: tuple[str, ...] = field(default=())

    @property
    def pattern_zh(self) -> str:
        return PATTERNS[self.pattern][0]


def _haversine_km(lon1: F64, lat1: F64, lon2: F64, lat2: F64) -> F64:
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(x, dtype=np.float64))
                              for x in (lon1, lat1, lon2, lat2))
    h = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return np.asarray(2 * 6371.0 * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))), dtype=np.float64)


def ring_context_from_store(
    con: duckdb.DuckDBPyConnection, claims: Claims, projection: PersonProjection
) -> RingContext:
    """Person and institution attributes in the claims' numbering (needs ``claims_from_store``'s
    temp tables on the same connection)."""
    ref = con.execute("SELECT max(setl_time)::DATE FROM settlements").fetchall()[0]
    ref_day = ref[0] if ref and ref[0] else datetime.now().date()
    people = con.sql("""
        SELECT i.idx, date_diff('day', p.brdy, $ref) / 365.25 AS age, p.insu_admdvs AS home,
               left(p.psn_name, 1) || '|' || p.insu_admdvs AS family,
               left(p.psn_name, 1) AS surname
        FROM _psn_idx i JOIN persons p ON p.psn_no = i.code ORDER BY i.idx
    """, params={"ref": ref_day}).fetchnumpy()
    places = con.sql("""
        SELECT i.idx, n.lon, n.lat, n.admdvs, n.fixmedins_name AS name
        FROM _ins_idx i JOIN institutions n ON n.fixmedins_code = i.code ORDER BY i.idx
    """).fetchnumpy()
    div = divisions_frame().set_index("code")
    home = np.asarray(people["home"], dtype=object)
    home_lonlat = np.column_stack([
        div["lon"].reindex(home).to_numpy(dtype=np.float64),
        div["lat"].reindex(home).to_numpy(dtype=np.float64),
    ])
    admdvs = np.asarray(places["admdvs"], dtype=object)
    lon = np.asarray(places["lon"], dtype=np.float64)
    lat = np.asarray(places["lat"], dtype=np.float64)
    # Institutions without coordinates sit at their division's centroid.
    lon = np.where(np.isnan(lon), div["lon"].reindex(admdvs).to_numpy(dtype=np.float64), lon)
    lat = np.where(np.isnan(lat), div["lat"].reindex(admdvs).to_numpy(dtype=np.float64), lat)
    _, family = np.unique(np.asarray(people["family"], dtype=object).astype(str),
                          return_inverse=True)
    _, surname_counts = np.unique(np.asarray(people["surname"], dtype=object).astype(str),
                                  return_counts=True)
    norm: dict[int, float] = {}
    for mt in np.unique(claims.med_type).tolist():
        fees = claims.medfee[claims.med_type == mt]
        norm[int(mt)] = float(max(np.median(fees), 1.0))
    order = np.argsort(claims.person, kind="stable").astype(np.int64)
    offsets = np.zeros(claims.n_persons + 1, dtype=np.int64)
    np.cumsum(np.bincount(claims.person, minlength=claims.n_persons), out=offsets[1:])
    flagged: frozenset[int] = frozenset()
    if has_table(con, "rule_hits"):
        rows = con.sql("""
            SELECT DISTINCT i.idx FROM rule_hits h, unnest(h.persons) AS u(psn_no)
            JOIN _psn_idx i ON i.code = u.psn_no WHERE h.severity IN ('high', 'medium')
        """).fetchall()
        flagged = frozenset(int(r[0]) for r in rows)
    return RingContext(
        claims=claims,
        projection=projection,
        person_age=np.asarray(people["age"], dtype=np.float64),
        person_home=home,
        person_home_lonlat=home_lonlat,
        person_family_key=family.astype(np.int64),
        institution_lonlat=np.column_stack([lon, lat]),
        institution_admdvs=admdvs,
        institution_name=np.asarray(places["name"], dtype=object),
        medfee_norm=norm,
        rows_by_person=order,
        person_offsets=offsets,
        surname_share=surname_counts / max(surname_counts.sum(), 1),
        flagged_persons=flagged,
    )


def community_ring_candidates(
    ctx: RingContext, partition: Partition, nodes: I64, params: CommunityParams
) -> list[RingCandidate]:
    """Communities of at least ``min_persons`` (``nodes[i]`` is the person of graph node i),
    widened by attachment, with the institutions that host their co-settlements."""
    c, pr = ctx.claims, ctx.projection
    ring_of = np.full(c.n_persons, -1, dtype=np.int64)
    sizes = np.bincount(partition.membership)
    big = np.flatnonzero(sizes >= params.min_persons)
    keep = np.isin(partition.membership, big)
    ring_of[nodes[keep]] = partition.membership[keep]
    pa, pb = c.person[pr.event_a].astype(np.int64), c.person[pr.event_b].astype(np.int64)
    inst = c.institution[pr.event_a].astype(np.int64)
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
    met: dict[int, set[int]] = defaultdict(set)
    if inside.any():
        for ring, day in np.unique(np.column_stack([ra[inside], c.day[pr.event_a[inside]],
                                                    ]), axis=0).tolist():
            met[ring].update((day - 1, day, day + 1))
    out = []
    for ring in big.tolist():
        core = nodes[partition.membership == ring]
        members = sorted(set(core.tolist()) | set(joins.get(ring, [])))
        places = sorted(host.get(ring, []))
        if not places:
            continue
        days = sorted(met[ring])
        rows = ctx.rows_of(members)
        rows = rows[np.isin(c.institution[rows], places) & np.isin(c.day[rows], days)]
        inpatient = c.inpatient[rows]
        pattern = "recruited_inpatients" if inpatient.mean() >= 0.5 else "card_pooling"
        out.append(RingCandidate(pattern=pattern, source="community", persons=tuple(members),
                                 institutions=tuple(places), core=tuple(sorted(core.tolist())),
                                 active_days=tuple(days)))
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


def rule_ring_candidates(con: duckdb.DuckDBPyConnection) -> list[RingCandidate]:
    """Rings made of rule hits and resale chains (empty when those tables are absent)."""
    out: list[RingCandidate] = []
    if has_table(con, "rule_hits"):
        out += _travel_rings(con)
        out += _collusion_rings(con)
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
        ))
    return out


def _collusion_rings(con: duckdb.DuckDBPyConnection) -> list[RingCandidate]:
    hits = con.sql("""
        SELECT hit_id, persons, institutions, practitioners, evidence_zh, evidence_en
        FROM rule_hits WHERE rule_id = 'DOCTOR_PHARMACY_CONCENTRATION' ORDER BY hit_id
    """).fetchall()
    return [RingCandidate(
        pattern="doctor_pharmacy_collusion", source="rule",
        persons=tuple(_index(con, "_psn_idx", h[1])),
        institutions=tuple(_index(con, "_ins_idx", h[2])),
        practitioners=tuple(sorted(h[3])), hit_ids=(h[0],), rule_evidence=((h[4], h[5]),),
    ) for h in hits]


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
            trace_codes=tuple(codes), hit_ids=tuple(h[0] for h in hits),
            rule_evidence=((f"{len(codes)} 个药品追溯码在 {len(places)} 家机构间被重复结算",
                            f"{len(codes)} traceability codes settled again across "
                            f"{len(places)} institutions"),
                           *((h[1], h[2]) for h in hits[:3])),
        ))
    return out


def _mode_share(values: I64) -> tuple[int, float]:
    values = values[values >= 0]
    if not len(values):
        return -1, 0.0
    uniq, counts = np.unique(values, return_counts=True)
    top = int(np.argmax(counts))
    return int(uniq[top]), float(counts[top] / len(values))


def _measure(ctx: RingContext, cand: RingCandidate, settings: DetectionSettings
             ) -> tuple[I64, dict[str, float], dict[str, float]]:
    """Ring settlement rows, the 0..1 features and the raw metrics of one candidate."""
    c, sc = ctx.claims, settings.scale
    rows = ctx.rows_of(cand.persons)
    rows = rows[np.isin(c.institution[rows], np.asarray(cand.institutions, dtype=np.int64))]
    if cand.active_days:
        rows = rows[np.isin(c.day[rows], np.asarray(cand.active_days, dtype=np.int64))]
    persons = np.asarray(cand.persons, dtype=np.int64)
    pr = ctx.projection
    member = np.zeros(c.n_persons, dtype=bool)
    member[persons] = True
    both = member[c.person[pr.event_a]] & member[c.person[pr.event_b]]
    paired_rows = np.union1d(pr.event_a[both], pr.event_b[both])
    co_days = len(np.unique(c.day[pr.event_a[both]]))
    n = max(len(rows), 1)
    synchrony = float(np.isin(rows, paired_rows).sum() / n)
    _, place_share = _mode_share(c.institution[rows].astype(np.int64))
    home = ctx.person_home_lonlat[c.person[rows]]
    where = ctx.institution_lonlat[c.institution[rows]]
    km = _haversine_km(home[:, 0], home[:, 1], where[:, 0], where[:, 1])
    km_median = float(np.nanmedian(km)) if len(km) and not np.isnan(km).all() else 0.0
    home_prov = np.array([str(h)[:2] for h in ctx.person_home[c.person[rows]]], dtype=object)
    inst_prov = np.array([str(a)[:2] for a in ctx.institution_admdvs[c.institution[rows]]],
                         dtype=object)
    cross = float((home_prov != inst_prov).mean()) if len(rows) else 0.0
    ages = ctx.person_age[persons]
    age_std = float(np.nanstd(ages)) if len(ages) else 0.0
    dx, dx_share = _mode_share(c.diagnosis[rows].astype(np.int64))
    norm = np.array([ctx.medfee_norm.get(int(m), 1.0) for m in c.med_type[rows]])
    ratio = float(np.median(c.medfee[rows] / norm)) if len(rows) else 0.0
    family = ctx.person_family_key[persons]
    _, inv, cnt = np.unique(family, return_inverse=True, return_counts=True)
    shared = float((cnt[inv] > 1).mean()) if len(persons) else 0.0
    chance = ctx.surname_chance(len(persons))
    family_share = max(0.0, (shared - chance) / (1.0 - chance)) if chance < 1 else 0.0
    co_admission = float((np.isin(rows, paired_rows) & c.inpatient[rows]).sum() / n)
    chronic = float(np.isin(c.med_type[rows], _CHRONIC_MED_TYPES).mean()) if len(rows) else 0.0
    flagged = float(np.mean([p in ctx.flagged_persons for p in cand.persons])) \
        if cand.persons else 0.0
    features = {
        "synchrony": synchrony,
        "concentration": place_share,
        "distance_from_home": min(1.0, km_median / sc.distance_km_full),
        "cross_province": cross,
        "age_homogeneity": max(0.0, 1.0 - age_std / sc.age_std_years_zero),
        "diagnosis_homogeneity": dx_share,
        "amount_vs_norm": min(1.0, max(0.0, math.log(max(ratio, 1e-9))
                                       / math.log(sc.amount_ratio_full))),
        "rule_evidence": flagged,
        "family_likeness": family_share,
        "co_admission": co_admission,
        "hard_evidence": float(c.flagged[rows].mean()) if len(rows) else 0.0,
        "chronic_therapy": chronic,
    }
    metrics = {
        "persons": float(len(persons)),
        "settlements": float(len(rows)),
        "co_days": float(co_days),
        "median_km_from_home": km_median,
        "median_age": float(np.nanmedian(ages)) if len(ages) else 0.0,
        "age_std": age_std,
        "median_bill_ratio": ratio,
        "modal_diagnosis": float(dx),
        "fund_amount": float(c.fund[rows].sum()),
        "medfee_amount": float(c.medfee[rows].sum()),
    }
    return rows, features, metrics


def _evidence(ctx: RingContext, cand: RingCandidate, rows: I64, f: dict[str, float],
              m: dict[str, float], window_minutes: float) -> tuple[list[str], list[str]]:
    c = ctx.claims
    zh: list[str] = []
    en: list[str] = []
    n = int(m["persons"])
    place, _ = _mode_share(c.institution[rows].astype(np.int64))
    code = str(c.institution_codes[place]) if place >= 0 else "-"
    name = str(ctx.institution_name[place]) if place >= 0 else "-"
    if m["co_days"] >= 1:
        zh.append(f"{n} 人在 {name}（{code}）于 {int(m['co_days'])} 个相同日期结算，"
                  f"{f['synchrony']:.0%} 的结算与其他成员相隔不到 {window_minutes:.0f} 分钟")
        en.append(f"{n} persons settled at {name} ({code}) on {int(m['co_days'])} of the same "
                  f"days, {f['synchrony']:.0%} within {window_minutes:.0f} minutes of another "
                  "member")
    else:
        zh.append(f"{n} 人、{len(cand.institutions)} 家机构、{int(m['settlements'])} 笔结算")
        en.append(f"{n} persons, {len(cand.institutions)} institutions, "
                  f"{int(m['settlements'])} settlements")
    zh.append(f"距参保地中位数 {m['median_km_from_home']:.0f} 公里，"
              f"跨省参保结算占 {f['cross_province']:.0%}")
    en.append(f"median {m['median_km_from_home']:.0f} km from home, "
              f"{f['cross_province']:.0%} of settlements by persons insured in another province")
    if m["modal_diagnosis"] >= 0 and f["diagnosis_homogeneity"] >= 0.5:
        dx = str(c.diagnosis_codes[int(m["modal_diagnosis"])])
        zh.append(f"{f['diagnosis_homogeneity']:.0%} 的结算诊断同为 {dx}；"
                  f"年龄中位数 {m['median_age']:.0f} 岁（标准差 {m['age_std']:.0f}）")
        en.append(f"{f['diagnosis_homogeneity']:.0%} of settlements share diagnosis {dx}; "
                  f"median age {m['median_age']:.0f} (sd {m['age_std']:.0f})")
    zh.append(f"单笔费用中位数为同类就医的 {m['median_bill_ratio']:.1f} 倍，"
              f"医保基金支付 {m['fund_amount']:,.0f} 元")
    en.append(f"median bill {m['median_bill_ratio']:.1f}x the norm of its 医疗类别, "
              f"insurance paid {m['fund_amount']:,.0f} yuan")
    if f["family_likeness"] >= 0.5:
        zh.append(f"{f['family_likeness']:.0%} 的成员同姓且同一参保地，像家庭成员同行就医")
        en.append(f"{f['family_likeness']:.0%} of members share a surname and insured city, "
                  "like a family visiting together")
    if f["chronic_therapy"] >= 0.5:
        zh.append(f"{f['chronic_therapy']:.0%} 的结算为门诊慢特病（如血液透析），可解释固定排班")
        en.append(f"{f['chronic_therapy']:.0%} of settlements are chronic-disease outpatient "
                  "care (e.g. dialysis), which explains a fixed schedule")
    for ev_zh, ev_en in cand.rule_evidence:
        zh.append(ev_zh)
        en.append(ev_en)
    return zh, en


def rings_from_candidates(
    ctx: RingContext, candidates: Sequence[RingCandidate], settings: DetectionSettings
) -> list[Ring]:
    """Measure, score and explain every candidate; ranked by score (ids assigned later)."""
    c = ctx.claims
    rings = []
    for cand in candidates:
        rows, feats, metrics = _measure(ctx, cand, settings)
        if not len(rows):
            continue
        zh, en = _evidence(ctx, cand, rows, feats, metrics,
                           settings.co_settlement.window_minutes)
        t = c.t[rows]
        places = {str(ctx.institution_admdvs[i]) for i in cand.institutions}
        homes = {str(ctx.person_home[p]) for p in cand.persons}
        rings.append(Ring(
            pattern=cand.pattern,
            source=cand.source,
            score=round(score_from_features(feats, settings.weights), 4),
            persons=tuple(sorted(str(c.person_codes[p]) for p in cand.persons)),
            institutions=tuple(sorted(str(c.institution_codes[i]) for i in cand.institutions)),
            practitioners=cand.practitioners,
            trace_codes=cand.trace_codes,
            fund_amount=round(metrics["fund_amount"], 2),
            medfee_amount=round(metrics["medfee_amount"], 2),
            n_settlements=len(rows),
            first_time=_EPOCH + timedelta(seconds=int(t.min())),
            last_time=_EPOCH + timedelta(seconds=int(t.max())),
            divisions=tuple(sorted(places | homes)),
            features={k: round(v, 4) for k, v in feats.items()},
            metrics={k: round(v, 4) for k, v in metrics.items()},
            evidence_zh=tuple(zh),
            evidence_en=tuple(en),
            hit_ids=cand.hit_ids,
            core_persons=tuple(sorted(str(c.person_codes[p]) for p in cand.core)),
        ))
    rings.sort(key=lambda r: (-r.score, -r.fund_amount, r.persons))
    return rings


def ring_to_json(ring: Ring) -> dict[str, object]:
    """The ring as JSON-ready data (the ``yibao detect --json`` shape)."""
    return {
        "ring_id": ring.ring_id, "pattern": ring.pattern, "pattern_zh": ring.pattern_zh,
        "score": ring.score, "suspicious": ring.suspicious, "rank": ring.rank,
        "persons": list(ring.persons), "institutions": list(ring.institutions),
        "practitioners": list(ring.practitioners), "fund_amount": ring.fund_amount,
        "first_time": ring.first_time.isoformat() if ring.first_time else None,
        "last_time": ring.last_time.isoformat() if ring.last_time else None,
        "evidence": list(ring.evidence_zh), "evidence_en": list(ring.evidence_en),
        "features": ring.features, "source": ring.source,
        "trace_codes": list(ring.trace_codes), "hit_ids": list(ring.hit_ids),
        "metrics": json.loads(json.dumps(ring.metrics)),
    }
