"""Rings: candidates tested against chance, explained, and measured.

Every candidate (:mod:`graph.ring_candidates`) is measured over its *ring settlements* (its
persons' effective settlements at its institutions: one set for its money, its test and its
evidence), tested against the null model of :mod:`graph.suspicion` (or its rule's own test),
checked against the honest explanations of :mod:`graph.explanations`, and flagged by the false
discovery rate over all candidates of the run. Its evidence says, in Chinese and English, what
it shows, how likely that is by chance, and which honest explanation was tried.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from graph.explanations import (
    EXPLANATION_KEYS,
    Explanation,
    explanations_of_ring,
)
from graph.ring_candidates import RingCandidate
from graph.ring_context import RingContext, ring_context_from_store
from graph.scoring import DetectionSettings, score_from_q
from graph.suspicion import (
    CoSettlementTest,
    benjamini_hochberg,
    co_settlement_test,
    surprise_of,
    traffic_from_claims,
)
from yibao.geo import haversine_km

__all__ = [
    "PATTERNS",
    "Ring",
    "RingContext",
    "ring_context_from_store",
    "ring_to_json",
    "rings_from_candidates",
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
class Ring:
    """A tested, explained ring. Amounts in yuan; ``fund_amount`` is the insurance money of the
    ring settlements (涉及医保基金 = 统筹基金 + 个人账户, :mod:`graph.money`), with its parts in
    ``metrics["fund_pool"]`` and ``metrics["fund_account"]``; ``metrics`` also holds the test:
    ``p_value``, ``q_value``, ``surprise`` (-log10 p), ``meetings`` and ``expected``."""

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
    def explanation(self) -> str:
        """The key of the honest explanation that cleared the ring (``""``: none held)."""
        code = int(self.metrics.get("explanation", 0))
        return EXPLANATION_KEYS[code] if 0 <= code < len(EXPLANATION_KEYS) else ""

    @property
    def pattern_zh(self) -> str:
        return PATTERNS[self.pattern][0]


def _mode_share(values: I64) -> tuple[int, float]:
    values = values[values >= 0]
    if not len(values):
        return -1, 0.0
    uniq, counts = np.unique(values, return_counts=True)
    top = int(np.argmax(counts))
    return int(uniq[top]), float(counts[top] / len(values))


def _measure(ctx: RingContext, cand: RingCandidate, rows: I64, met: npt.NDArray[np.bool_],
             settings: DetectionSettings) -> tuple[dict[str, float], dict[str, float]]:
    """The descriptive 0..1 features and the raw metrics of one candidate's settlements."""
    c, sc = ctx.claims, settings.scale
    persons = np.asarray(cand.persons, dtype=np.int64)
    n = max(len(rows), 1)
    _, place_share = _mode_share(c.institution[rows].astype(np.int64))
    home = ctx.person_home_lonlat[c.person[rows]]
    where = ctx.institution_lonlat[c.institution[rows]]
    km = haversine_km(home[:, 0], home[:, 1], where[:, 0], where[:, 1])
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
    chronic = float(np.isin(c.med_type[rows], _CHRONIC_MED_TYPES).mean()) if len(rows) else 0.0
    flagged = float(np.mean([p in ctx.flagged_persons for p in cand.persons])) \
        if cand.persons else 0.0
    features = {
        "synchrony": float(met.sum() / n),
        "concentration": place_share,
        "distance_from_home": min(1.0, km_median / sc.distance_km_full),
        "cross_province": cross,
        "age_homogeneity": max(0.0, 1.0 - age_std / sc.age_std_years_zero),
        "diagnosis_homogeneity": dx_share,
        "amount_vs_norm": min(1.0, max(0.0, math.log(max(ratio, 1e-9))
                                       / math.log(sc.amount_ratio_full))),
        "rule_evidence": flagged,
        "family_likeness": family_share,
        "co_admission": float((met & c.inpatient[rows]).sum() / n),
        "hard_evidence": float(c.flagged[rows].mean()) if len(rows) else 0.0,
        "chronic_therapy": chronic,
    }
    metrics = {
        "persons": float(len(persons)),
        "settlements": float(len(rows)),
        "co_days": float(len(np.unique(c.day[rows][met]))),
        "median_km_from_home": km_median,
        "median_age": float(np.nanmedian(ages)) if len(ages) else 0.0,
        "age_std": age_std,
        "median_bill_ratio": ratio,
        "modal_diagnosis": float(dx),
        "surname_sharers": float((cnt[inv] > 1).sum()) if len(persons) else 0.0,
        "fund_amount": float(c.fund[rows].sum()),
        "fund_pool": float(c.pool[rows].sum()),
        "fund_account": float(c.account[rows].sum()),
        "medfee_amount": float(c.medfee[rows].sum()),
    }
    return features, metrics


def _pairs_searched(ctx: RingContext) -> int:
    """Distinct pairs of persons that co-settled at least once: the search behind every
    community candidate."""
    pr, c = ctx.projection, ctx.claims
    a = c.person[pr.event_a].astype(np.int64)
    b = c.person[pr.event_b].astype(np.int64)
    return max(1, len(np.unique(np.minimum(a, b) * c.n_persons + np.maximum(a, b))))


@dataclass(frozen=True)
class _Tested:
    """One candidate after its test, before the false-discovery line is drawn."""

    cand: RingCandidate
    rows: I64
    features: dict[str, float]
    metrics: dict[str, float]
    p_value: float
    explanation: Explanation | None
    evidence_zh: list[str]
    evidence_en: list[str]


def _ring_rows(ctx: RingContext, cand: RingCandidate) -> I64:
    """The ring settlements: the candidate's persons' settlements at its institutions."""
    c = ctx.claims
    rows = ctx.rows_of(cand.persons)
    return np.sort(rows[np.isin(c.institution[rows],
                                np.asarray(cand.institutions, dtype=np.int64))])


def _test(ctx: RingContext, cand: RingCandidate, settings: DetectionSettings,
          searched: int) -> _Tested | None:
    c = ctx.claims
    rows = _ring_rows(ctx, cand)
    if not len(rows):
        return None
    co = settings.co_settlement
    traffic = ctx.traffic if ctx.traffic is not None else traffic_from_claims(c)
    window = co.window_minutes * 60.0
    inpatient_window = co.inpatient_window_days * 86_400.0

    def run(selected: I64) -> CoSettlementTest:
        return co_settlement_test(c, traffic, selected, window_seconds=window,
                                  inpatient_window_seconds=inpatient_window,
                                  smoothing=settings.suspicion.smoothing)

    test = run(rows)
    features, metrics = _measure(ctx, cand, rows, test.met, settings)
    pharmacy = ctx.institution_is_pharmacy[c.institution[rows]]
    found = explanations_of_ring(
        person=c.person[rows].astype(np.int64), day=c.day[rows].astype(np.int64),
        diagnosis=c.diagnosis[rows].astype(np.int64), at_pharmacy=pharmacy, met=test.met,
        bill_ratio=metrics["median_bill_ratio"], classes=ctx.diagnosis_classes,
        n_persons=len(cand.persons), surname_sharers=int(metrics["surname_sharers"]))
    found = [e for e in found if e.key in settings.suspicion.explanations]
    best = found[0] if found and found[0].coverage >= settings.suspicion.explained_share \
        else None
    # A community was picked out of every pair that ever co-settled: its p-value is
    # corrected for that search (Bonferroni over the pairs the projection could link).
    p = min(1.0, test.p_value * searched) if cand.p_value is None else cand.p_value
    if best is not None and cand.p_value != 0.0:
        # Test again what the explanation leaves: the settlements outside its diagnosis class
        # (therapy, health check), or nothing (a family, a weekly session).
        klass = ctx.diagnosis_classes.get(best.key)
        left = rows[~klass[np.maximum(c.diagnosis[rows], 0)] | (c.diagnosis[rows] < 0)] \
            if klass is not None and len(klass) else rows[:0]
        p = max(p, min(1.0, run(left).p_value * searched) if len(left) >= 2 else 1.0)
    metrics.update({"p_value": p, "surprise": surprise_of(p), "meetings": float(test.meetings),
                    "expected": test.expected, "meeting_days": float(test.meeting_days),
                    "busiest_day_meetings": float(test.busiest_day_meetings),
                    "test_p_value": test.p_value, "pairs_searched": float(searched)})
    zh, en = _evidence(ctx, cand, rows, features, metrics, test, found, best,
                       co.window_minutes)
    return _Tested(cand, rows, features, metrics, p, best, zh, en)


def _evidence(ctx: RingContext, cand: RingCandidate, rows: I64, f: dict[str, float],
              m: dict[str, float], test: CoSettlementTest, found: list[Explanation],
              best: Explanation | None, window_minutes: float) -> tuple[list[str], list[str]]:
    c = ctx.claims
    zh: list[str] = []
    en: list[str] = []
    n = int(m["persons"])
    place, _ = _mode_share(c.institution[rows].astype(np.int64))
    code = str(c.institution_codes[place]) if place >= 0 else "-"
    name = str(ctx.institution_name[place]) if place >= 0 else "-"
    if cand.source == "community" and m["co_days"] >= 1:
        stays = bool((test.met & c.inpatient[rows]).any())
        where_zh = f"等 {len(cand.institutions)} 家机构" if len(cand.institutions) > 1 else ""
        zh.append(f"{n} 人在 {name}（{code}）{where_zh}于 {int(m['co_days'])} 个日期同时段结算，"
                  f"{f['synchrony']:.0%} 的结算与其他成员"
                  + ("入院相隔不到 1 天" if stays else
                     f"相隔不到 {window_minutes:.0f} 分钟"))
        more = len(cand.institutions) - 1
        also = f" and {more} more institution{'s' if more > 1 else ''}" if more else ""
        en.append(f"{n} persons settled together at {name} ({code}){also} on "
                  f"{int(m['co_days'])} days, {f['synchrony']:.0%} "
                  + ("admitted within a day of another member" if stays else
                     f"within {window_minutes:.0f} minutes of another member"))
    else:
        zh.append(f"{n} 人、{len(cand.institutions)} 家机构、{int(m['settlements'])} 笔结算")
        en.append(f"{n} persons, {len(cand.institutions)} institutions, "
                  f"{int(m['settlements'])} settlements")
    if cand.test_zh:
        zh.append(cand.test_zh)
        en.append(cand.test_en)
    else:
        s = surprise_of(test.p_value)
        chance_zh = f"约为 10^-{s:.0f}" if s >= 1 else f"为 {test.p_value:.2f}"
        chance_en = f"about 10^-{s:.0f}" if s >= 1 else f"{test.p_value:.2f}"
        zh.append(f"若各自按本人就诊次数和机构平常时段独立就诊，除最集中的一天外仍有 "
                  f"{test.meetings} 笔同时段结算（期望 {test.expected:.1f} 笔），概率{chance_zh}"
                  f"（再按全部 {m['pairs_searched']:,.0f} 对曾同时段结算的人校正搜索）")
        en.append(f"if each member visited independently, at their own rates and the "
                  f"institutions' usual hours, {test.meetings} co-settlements besides the "
                  f"busiest day (expected {test.expected:.1f}) has a chance of {chance_en} "
                  f"(then corrected for the search over all {m['pairs_searched']:,.0f} pairs "
                  "that ever co-settled)")
    zh_op, en_op = _operator_evidence(ctx, rows, test.met)
    zh += zh_op
    en += en_op
    if best is not None:
        zh.append(f"正常解释成立（覆盖 {best.coverage:.0%}），不列为可疑：{best.zh}")
        en.append(f"an honest explanation holds (covers {best.coverage:.0%}), so the ring is "
                  f"not flagged: {best.en}")
    elif found:
        zh.append(f"已检验的正常解释不足以解释（最多覆盖 {found[0].coverage:.0%}）：{found[0].zh}")
        en.append(f"the honest explanations tried fall short (at most {found[0].coverage:.0%} "
                  f"covered): {found[0].en}")
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
    zh.append(f"单笔费用中位数为同类就医的 {m['median_bill_ratio']:.1f} 倍；涉及医保基金 "
              f"{m['fund_amount']:,.2f} 元（统筹 {m['fund_pool']:,.2f} 元，个人账户 "
              f"{m['fund_account']:,.2f} 元）")
    en.append(f"median bill {m['median_bill_ratio']:.1f}x the norm of its medical type; "
              f"insurance money {m['fund_amount']:,.2f} yuan (pooled fund "
              f"{m['fund_pool']:,.2f}, personal account {m['fund_account']:,.2f})")
    for ev_zh, ev_en in cand.rule_evidence:
        zh.append(ev_zh)
        en.append(ev_en)
    return zh, en


def _operator_evidence(ctx: RingContext, rows: I64, met: npt.NDArray[np.bool_]
                       ) -> tuple[list[str], list[str]]:
    """"One operator, many cards within minutes": who keyed the ring's co-settlements (经办人,
    where the export carries ``opter_id``), against that operator's usual share there."""
    c = ctx.claims
    if len(c.operator) != len(c) or not len(ctx.operator_keys):
        return [], []
    sel = rows[met & (c.operator[rows] >= 0)]
    if len(sel) < 5:
        return [], []
    op, share = _mode_share(c.operator[sel].astype(np.int64))
    place, _ = _mode_share(c.institution[sel].astype(np.int64))
    usual = ctx.operator_share(place, op)
    if share < 0.8 or share < usual + 0.2:
        return [], []
    code = str(c.operator_codes[op])
    return ([f"{share:.0%} 的同时段结算由同一经办人（{code}）录入，该经办人平时只录入该机构 "
             f"{usual:.0%} 的结算"],
            [f"{share:.0%} of the co-settlements were keyed by one operator ({code}), who keys "
             f"{usual:.0%} of the institution's settlements otherwise"])


def rings_from_candidates(
    ctx: RingContext, candidates: Sequence[RingCandidate], settings: DetectionSettings,
    *, searched: int | None = None,
) -> list[Ring]:
    """Test, explain and measure every candidate, then flag by the false-discovery rate.

    Returned ranked: flagged rings first, then by score (evidence against chance, saturating at
    ``surprise_full``), then by money; ids are assigned later. ``searched``: the pairs of
    persons that ever co-settled (default: counted in ``ctx``'s projection, which a context of
    a few candidates' claims does not hold in full).
    """
    c = ctx.claims
    searched = _pairs_searched(ctx) if searched is None else searched
    tested = [t for t in (_test(ctx, cand, settings, searched) for cand in candidates)
              if t is not None]
    null_tests = sum(cand.null_tests for cand in candidates)
    q_values = benjamini_hochberg([t.p_value for t in tested] + [1.0] * null_tests)[
        :len(tested)]
    sp = settings.suspicion
    rings = []
    for t, q in zip(tested, q_values.tolist(), strict=True):
        cand, rows, metrics = t.cand, t.rows, dict(t.metrics)
        metrics["q_value"] = q
        metrics["tests"] = float(len(tested) + null_tests)
        metrics["explanation"] = float(
            EXPLANATION_KEYS.index(t.explanation.key) if t.explanation else 0)
        times = c.t[rows]
        places = {str(ctx.institution_admdvs[i]) for i in cand.institutions}
        homes = {str(ctx.person_home[p]) for p in cand.persons}
        rings.append(Ring(
            pattern=cand.pattern,
            source=cand.source,
            score=score_from_q(q, sp.surprise_full),
            suspicious=q <= sp.fdr,
            persons=tuple(sorted(str(c.person_codes[p]) for p in cand.persons)),
            institutions=tuple(sorted(str(c.institution_codes[i]) for i in cand.institutions)),
            practitioners=cand.practitioners,
            trace_codes=cand.trace_codes,
            fund_amount=round(metrics["fund_amount"], 2),
            medfee_amount=round(metrics["medfee_amount"], 2),
            n_settlements=len(rows),
            first_time=_EPOCH + timedelta(seconds=int(times.min())),
            last_time=_EPOCH + timedelta(seconds=int(times.max())),
            divisions=tuple(sorted(places | homes)),
            features={k: round(v, 4) for k, v in t.features.items()},
            metrics={k: (v if k in ("p_value", "q_value", "test_p_value") else round(v, 4))
                     for k, v in metrics.items()},
            evidence_zh=tuple(t.evidence_zh),
            evidence_en=tuple(t.evidence_en),
            hit_ids=cand.hit_ids,
            core_persons=tuple(sorted(str(c.person_codes[p]) for p in cand.core)),
        ))
    rings.sort(key=lambda r: (not r.suspicious, -r.score, -r.fund_amount, r.persons))
    return [replace(r, rank=k + 1) for k, r in enumerate(rings)]


def ring_to_json(ring: Ring) -> dict[str, object]:
    """The ring as JSON-ready data (the ``yibao detect --json`` shape)."""
    return {
        "ring_id": ring.ring_id, "pattern": ring.pattern, "pattern_zh": ring.pattern_zh,
        "score": ring.score, "suspicious": ring.suspicious, "rank": ring.rank,
        "persons": list(ring.persons), "institutions": list(ring.institutions),
        "practitioners": list(ring.practitioners), "fund_amount": ring.fund_amount,
        "fund_pool": ring.metrics.get("fund_pool"), "fund_account": ring.metrics.get(
            "fund_account"),
        "p_value": ring.metrics.get("p_value"), "q_value": ring.metrics.get("q_value"),
        "explanation": ring.explanation,
        "first_time": ring.first_time.isoformat() if ring.first_time else None,
        "last_time": ring.last_time.isoformat() if ring.last_time else None,
        "evidence": list(ring.evidence_zh), "evidence_en": list(ring.evidence_en),
        "features": ring.features, "source": ring.source,
        "trace_codes": list(ring.trace_codes), "hit_ids": list(ring.hit_ids),
        "metrics": json.loads(json.dumps(ring.metrics)),
    }
