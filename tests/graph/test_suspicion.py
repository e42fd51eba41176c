"""The null model of detection: the co-settlement test, the binomial test, Benjamini-Hochberg,
and the honest explanations tested on a ring's own settlements."""

from __future__ import annotations

import numpy as np
import pytest

from graph.claims import Claims
from graph.explanations import diagnosis_classes, explanations_of_ring
from graph.suspicion import (
    benjamini_hochberg,
    binomial_surprise,
    co_settlement_test,
    traffic_from_claims,
)

DAY = 86_400
HOUR = 3_600


def _claims(person: list[int], inst: list[int], t: list[int], n_persons: int,
            n_inst: int) -> Claims:
    n = len(person)
    tt = np.asarray(t, dtype=np.int64)
    return Claims(
        person=np.asarray(person, dtype=np.int32), institution=np.asarray(inst, dtype=np.int32),
        doctor=np.full(n, -1, dtype=np.int32), t=tt, day=(tt // DAY).astype(np.int32),
        inpatient=np.zeros(n, dtype=bool), med_type=np.full(n, 41, dtype=np.int16),
        diagnosis=np.full(n, -1, dtype=np.int32), fund=np.ones(n), pool=np.ones(n),
        account=np.zeros(n), medfee=np.ones(n), flagged=np.zeros(n, dtype=bool),
        person_codes=np.array([f"P{i}" for i in range(n_persons)], dtype=object),
        institution_codes=np.array([f"I{i}" for i in range(n_inst)], dtype=object),
        doctor_codes=np.array([], dtype=object), diagnosis_codes=np.array([], dtype=object),
    )


def _world(ring_in_step: bool, seed: int = 0) -> tuple[Claims, np.ndarray]:
    """A pharmacy (institution 0) with 300 regulars over a year, 8-20 h, and a group of 10
    persons who each come 8 times: together within minutes, or each at their own times."""
    rng = np.random.default_rng(seed)
    person, inst, t = [], [], []
    for p in range(300):
        for d in rng.choice(365, size=12, replace=False):
            person.append(p)
            inst.append(0)
            t.append(int(d) * DAY + int(rng.uniform(8, 20) * HOUR))
    group = list(range(300, 310))
    days = rng.choice(365, size=8, replace=False)
    for k, p in enumerate(group):
        for j, d in enumerate(days):
            person.append(p)
            inst.append(0)
            if ring_in_step:
                t.append(int(d) * DAY + 14 * HOUR + 120 * k)
            else:
                own = rng.choice(365)
                t.append(int(own) * DAY + int(rng.uniform(8, 20) * HOUR) + j)
    claims = _claims(person, inst, t, n_persons=310, n_inst=1)
    rows = np.flatnonzero(claims.person >= 300)
    return claims, rows


def test_a_group_in_lockstep_is_astronomically_unlikely() -> None:
    claims, rows = _world(ring_in_step=True)
    test = co_settlement_test(claims, traffic_from_claims(claims), rows, window_seconds=1800,
                              inpatient_window_seconds=DAY)
    assert test.meetings == 7 * 9  # 8 days, the busiest left out, 9 later arrivals each
    assert test.expected < 5
    assert test.p_value < 1e-30
    assert test.meeting_days == 8
    assert test.met.sum() == 8 * 9


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_same_persons_at_their_own_times_are_not_surprising(seed: int) -> None:
    claims, rows = _world(ring_in_step=False, seed=seed)
    test = co_settlement_test(claims, traffic_from_claims(claims), rows, window_seconds=1800,
                              inpatient_window_seconds=DAY)
    assert test.p_value > 0.01


def test_one_day_never_makes_a_ring_on_its_own() -> None:
    # 40 persons at a clinic within two hours of one day (a check-up), then ordinary visits.
    person = list(range(40)) + list(range(40))
    t = [100 * DAY + 9 * HOUR + 180 * k for k in range(40)] + [
        (k * 7 % 360) * DAY + 10 * HOUR + k for k in range(40)]
    claims = _claims(person, [0] * 80, t, n_persons=40, n_inst=1)
    test = co_settlement_test(claims, traffic_from_claims(claims), np.arange(80),
                              window_seconds=1800, inpatient_window_seconds=DAY)
    assert test.busiest_day_meetings >= 39
    assert test.meetings <= 2
    assert test.p_value > 0.01


def test_benjamini_hochberg_against_its_definition() -> None:
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.2])
    assert q.tolist() == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2])
    assert benjamini_hochberg([]).tolist() == []
    assert benjamini_hochberg([0.0, 1.0]).tolist() == [0.0, 1.0]


def test_binomial_surprise_of_steered_prescriptions() -> None:
    p, s = binomial_surprise(50, 51, 0.03)
    assert p < 1e-70
    assert s > 70
    p_fair, _ = binomial_surprise(2, 51, 0.03)  # what peers' patients would do
    assert p_fair > 0.3


def _explain(diagnosis: str, gaps: list[int], pharmacy: bool = False) -> list[str]:
    """Five members who meet on a schedule with the given gaps (days)."""
    days = np.cumsum([0, *gaps])
    person = np.repeat(np.arange(5), len(days))
    day = np.tile(days, 5)
    classes = diagnosis_classes(np.array([diagnosis], dtype=object))
    found = explanations_of_ring(
        person=person.astype(np.int64), day=day.astype(np.int64),
        diagnosis=np.zeros(len(person), dtype=np.int64),
        at_pharmacy=np.full(len(person), pharmacy), met=np.ones(len(person), dtype=bool),
        bill_ratio=3.0, classes=classes, n_persons=5, surname_sharers=0)
    return [e.key for e in found if e.coverage >= 0.6]


def test_therapy_is_recognised_by_diagnosis_and_rhythm_together() -> None:
    assert _explain("N18.500", [2, 2, 3] * 8)[:1] == ["dialysis"]
    assert _explain("C34.900x001", [21] * 6)[:1] == ["chemotherapy"]
    assert _explain("Z51.100", [14] * 6)[:1] == ["chemotherapy"]
    # The right diagnosis on the wrong rhythm, the rhythm without the diagnosis, or at a
    # retail pharmacy: no explanation.
    assert "chemotherapy" not in _explain("C34.900", [40, 9, 33, 57, 5])
    assert _explain("J06.900", [2, 2, 3] * 8) == []
    assert _explain("N18.500", [2, 2, 3] * 8, pharmacy=True) == []


def test_a_family_is_recognised_with_a_mother_of_another_surname() -> None:
    classes = diagnosis_classes(np.array(["J06.900"], dtype=object))

    def family(n: int, sharers: int, bill_ratio: float = 0.8) -> float:
        found = explanations_of_ring(
            person=np.arange(n, dtype=np.int64), day=np.zeros(n, dtype=np.int64),
            diagnosis=np.zeros(n, dtype=np.int64), at_pharmacy=np.ones(n, dtype=bool),
            met=np.ones(n, dtype=bool), bill_ratio=bill_ratio, classes=classes, n_persons=n,
            surname_sharers=sharers)
        return next((e.coverage for e in found if e.key == "family"), 0.0)

    assert family(4, 3) == 1.0          # father, child, grandfather; the mother
    assert family(5, 3) == 0.75         # the same with a stranger met once
    assert family(8, 2) < 0.6           # two of eight: chance
    assert family(4, 3, bill_ratio=6.0) == 0.0  # expensive drugs are no family errand
    assert family(20, 19) == 0.0        # no family of twenty
