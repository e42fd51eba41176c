"""Planted scenarios: fraud rings and the honest patterns that look like them, with their truth.

Fraud (the tool must expose): ``card_pooling`` (聚集性刷卡), ``recruited_inpatients``
(诱导住院/挂床), ``cross_province_card_use`` (异地冒用: impossible travel), ``resale_chain``
(倒卖回流药: a traceability code settled again elsewhere) and ``doctor_pharmacy_collusion``
(医药串通). Honest look-alikes (a good detector leaves them alone): ``family_visits``,
``dialysis_cohort``, ``nursing_home``, ``refund_resale``, ``split_pack``,
``cross_border_commuters``, ``chemo_cycles``, ``rehab_course``, ``checkup_day`` and
``market_day_clinic``. The shapes of card pooling, collusion and recruited inpatients follow
:class:`~yibao.synth.knobs.ScenarioKnobs` (each knob left open is drawn over its whole range);
each scenario's drawn shape is its ``params``. The rows are built by :class:`Planter` and
merged into the ordinary stream by time, with identifiers from the same spaces as every other
row. The rings of card pooling, cross-province card use and doctor-pharmacy collusion are
keyed at their pharmacies by one operator each (``operators`` in ``truth.json``); the honest
look-alikes by whoever is on duty, as every ordinary settlement.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from yibao.synth import _fraud, _fraud_rings, _honest, _honest_events, _honest_therapy
from yibao.synth._batch import TraceAllocator
from yibao.synth._planter import FRAUD_PATTERNS, HONEST_PATTERNS, Plan, Planter, Scenario
from yibao.synth.knobs import ScenarioKnobs
from yibao.synth.persons import PersonSpec
from yibao.synth.population import Geography, Institutions, Pools, Practitioners

__all__ = [
    "FRAUD_PATTERNS",
    "HONEST_PATTERNS",
    "LABELS_ZH",
    "Plan",
    "Scenario",
    "ScenarioKnobs",
    "plan_scenarios",
    "scenario_count",
]

LABELS_ZH: dict[str, str] = {
    "card_pooling": "聚集性刷卡(套刷)",
    "recruited_inpatients": "诱导住院/虚假住院",
    "cross_province_card_use": "异地冒用医保卡",
    "resale_chain": "倒卖医保药品(回流药)",
    "doctor_pharmacy_collusion": "医药串通(处方集中流向)",
    "family_visits": "家庭成员同行就医",
    "dialysis_cohort": "血液透析固定排班",
    "nursing_home": "养老机构定期巡诊",
    "refund_resale": "退货后再销售",
    "split_pack": "拆零销售",
    "cross_border_commuters": "跨省通勤就医",
    "chemo_cycles": "肿瘤化疗周期",
    "rehab_course": "康复治疗疗程",
    "checkup_day": "单位集中健康体检",
    "market_day_clinic": "乡村集日门诊",
}
SETTLEMENTS_PER_SCENARIO: dict[str, int] = {
    "card_pooling": 250_000, "recruited_inpatients": 300_000, "cross_province_card_use": 200_000,
    "resale_chain": 250_000, "doctor_pharmacy_collusion": 300_000, "family_visits": 100_000,
    "dialysis_cohort": 400_000, "nursing_home": 400_000, "refund_resale": 150_000,
    "split_pack": 150_000, "cross_border_commuters": 200_000, "chemo_cycles": 300_000,
    "rehab_course": 300_000, "checkup_day": 250_000, "market_day_clinic": 250_000,
}
"""One scenario of each pattern per this many settlements (at least one of each)."""


def scenario_count(pattern: str, scale: int, rng: np.random.Generator) -> int:
    """How many scenarios of ``pattern`` to plant at ``scale`` (at least one)."""
    return max(1, int(rng.poisson(scale / SETTLEMENTS_PER_SCENARIO[pattern])))


def plan_scenarios(
    geo: Geography, inst: Institutions, pools: Pools, prac: Practitioners, base: PersonSpec,
    scale: int, rng: np.random.Generator, alloc: TraceAllocator,
    knobs: ScenarioKnobs | None = None,
) -> Plan:
    """Plant every pattern (counts grow with scale) and return the rows and their truth.

    ``knobs`` pins the shapes of the knob-driven fraud rings (default: all drawn at random).
    """
    planters: dict[str, Callable[[Planter], None]] = {
        "card_pooling": _fraud_rings.card_pooling,
        "recruited_inpatients": _fraud_rings.recruited_inpatients,
        "cross_province_card_use": _fraud.cross_province_card_use,
        "resale_chain": _fraud.resale_chain,
        "doctor_pharmacy_collusion": _fraud_rings.doctor_pharmacy_collusion,
        "family_visits": _honest.family_visits,
        "dialysis_cohort": _honest.dialysis_cohort,
        "nursing_home": _honest.nursing_home,
        "refund_resale": _honest.refund_resale,
        "split_pack": _honest.split_pack,
        "cross_border_commuters": _honest.cross_border_commuters,
        "chemo_cycles": _honest_therapy.chemo_cycles,
        "rehab_course": _honest_therapy.rehab_course,
        "checkup_day": _honest_events.checkup_day,
        "market_day_clinic": _honest_events.market_day_clinic,
    }
    pl = Planter(geo, inst, pools, prac, base, scale, rng, alloc, knobs)
    for pattern in (*FRAUD_PATTERNS, *HONEST_PATTERNS):
        for _ in range(scenario_count(pattern, scale, rng)):
            planters[pattern](pl)
    return pl.finish()
