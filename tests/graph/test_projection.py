"""The person co-settlement projection on tiny hand-made claims."""

from __future__ import annotations

import math

import numpy as np
import pytest

from graph.claims import Claims
from graph.projection import CoSettlementParams, person_projection_from_claims

DAY = 86_400


def _claims(rows: list[tuple[int, int, int, bool]], n_persons: int, n_inst: int) -> Claims:
    """rows: (person, institution, t seconds, inpatient)."""
    person, inst, t, inpatient = (np.array(x) for x in zip(*rows, strict=True))
    n = len(rows)
    return Claims(
        person=person.astype(np.int32), institution=inst.astype(np.int32),
        doctor=np.full(n, -1, dtype=np.int32), t=t.astype(np.int64),
        day=(t // DAY).astype(np.int32), inpatient=inpatient.astype(bool),
        med_type=np.where(inpatient, 21, 41).astype(np.int16),
        diagnosis=np.full(n, -1, dtype=np.int32), fund=np.ones(n), pool=np.ones(n),
        account=np.zeros(n), medfee=np.ones(n),
        flagged=np.zeros(n, dtype=bool),
        person_codes=np.array([f"P{i}" for i in range(n_persons)], dtype=object),
        institution_codes=np.array([f"I{i}" for i in range(n_inst)], dtype=object),
        doctor_codes=np.array([], dtype=object), diagnosis_codes=np.array([], dtype=object),
    )


def test_repeated_co_settlement_makes_an_edge_with_discounted_weight() -> None:
    h = 3600
    claims = _claims([
        (0, 0, DAY + 10 * h, False), (1, 0, DAY + 10 * h + 600, False),
        (2, 0, DAY + 10 * h + 300, False),          # with 0 and 1, but on one day only
        (0, 0, 5 * DAY + 15 * h, False), (1, 0, 5 * DAY + 15 * h + 1200, False),
        (3, 1, DAY + 10 * h, False),                # same time, other institution
    ], n_persons=4, n_inst=2)
    pr = person_projection_from_claims(claims)
    assert (pr.src.tolist(), pr.dst.tolist()) == ([0], [1])
    assert pr.co_days.tolist() == [2]
    assert pr.co_events.tolist() == [2]
    # idf of institution 0: log(4 active / 3 users) is below the floor log 2.
    # Day 1: three settlements around (weight idf/2); day 5: two (idf/1).
    assert pr.weight[0] == pytest.approx(math.log(2) * 1.5)
    # Every co-settlement event is kept, those of pairs met on one day with edge -1.
    assert len(pr.event_a) == 4
    assert sorted(pr.event_edge.tolist()) == [-1, -1, 0, 0]


def test_events_need_the_window_and_one_day_is_not_enough() -> None:
    h = 3600
    claims = _claims([
        (0, 0, DAY + 10 * h, False), (1, 0, DAY + 10 * h + 31 * 60, False),
        (0, 0, 2 * DAY + 10 * h, False), (1, 0, 2 * DAY + 10 * h + 31 * 60, False),
    ], n_persons=2, n_inst=1)
    assert person_projection_from_claims(claims).n_edges == 0
    wide = person_projection_from_claims(claims, CoSettlementParams(window_minutes=40))
    assert wide.n_edges == 1
    assert person_projection_from_claims(
        claims, CoSettlementParams(window_minutes=40, min_co_days=3)).n_edges == 0


def test_busy_hours_form_no_events() -> None:
    # A big place: a settlement every 50 s from 8:00 to 20:00 on 20 days, by 300 persons in
    # turn; persons 0 and 1 always come together, yet a busy hour says nothing.
    rows = []
    for day in range(1, 21):
        for k in range(864):
            rows.append((2 + (day * 864 + k) % 300, 0, day * DAY + 8 * 3600 + 50 * k, False))
        rows += [(0, 0, day * DAY + 10 * 3600, False), (1, 0, day * DAY + 10 * 3600 + 60, False)]
    claims = _claims(rows, n_persons=302, n_inst=1)
    def pair_linked(params: CoSettlementParams) -> bool:
        pr = person_projection_from_claims(claims, params)
        return bool(((pr.src == 0) & (pr.dst == 1)).any())

    assert not pair_linked(CoSettlementParams(max_local=60))
    assert pair_linked(CoSettlementParams(max_local=200))


def test_a_burst_at_a_quiet_place_forms_events_however_many() -> None:
    # 70 cards within 12 minutes at a pharmacy that sees nobody else, on two days: no busy
    # hour but a burst (the place usually has almost no one), so the pairs are formed.
    base = DAY + 9 * 3600
    rows = [(p, 0, base + 10 * p, False) for p in range(70)]
    rows += [(p, 0, 3 * DAY + 10 * p, False) for p in range(70)]
    claims = _claims(rows, n_persons=70, n_inst=1)
    assert person_projection_from_claims(claims, CoSettlementParams(max_local=60)).n_edges == (
        70 * 69 // 2)
    never = CoSettlementParams(max_local=60, burst_ratio=1e9)
    assert person_projection_from_claims(claims, never).n_edges == 0


def test_inpatient_stays_pair_by_admission_day() -> None:
    rows = []
    for wave in (10, 60):
        rows += [(p, 0, (wave + p % 2) * DAY, True) for p in range(4)]
    claims = _claims(rows, n_persons=4, n_inst=1)
    pr = person_projection_from_claims(claims)
    assert pr.n_edges == 6  # admitted within a day of each other, twice
    none = person_projection_from_claims(claims, CoSettlementParams(inpatient_window_days=0))
    assert none.n_edges == 2  # only same-day admissions: {0, 2} and {1, 3}
