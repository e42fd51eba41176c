"""Candidates from the detected synthetic store: who, how risky, how much money, how long."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from loaders.store import Store, open_store
from tests.detected import Detected
from yibao.divisions import division
from yibao.errors import PlanError
from yibao.inspection import (
    CANDIDATE_COLUMNS,
    PlanInputs,
    PlanOptions,
    candidates_from_store,
    check_plan,
    greedy_plan,
    synthetic_candidates,
    synthetic_inspectors,
    visit_days,
)
from yibao.inspection.model import plan_inspections


def _flagged_by_hand(store: Store) -> dict[str, dict[str, float]]:
    """Institution -> {setl_id: fund} of flagged settlements, in Python from the raw tables."""
    con = store.con
    setl_ids: set[str] = set()
    for (ids,) in con.execute("SELECT list(setl_id) FROM ring_settlements JOIN rings "
                              "USING (ring_id) WHERE suspicious GROUP BY ring_id").fetchall():
        setl_ids.update(ids)
    for rule, severity, ids in con.execute(
            "SELECT rule_id, severity, setl_ids FROM rule_hits").fetchall():
        if severity != "info" and rule != "TRACE_REUSE":
            setl_ids.update(ids)
    for hit_class, ids in con.execute("SELECT hit_class, setl_ids FROM chains").fetchall():
        if hit_class not in ("refund", "split_pack"):
            setl_ids.update(ids)
    out: dict[str, dict[str, float]] = defaultdict(dict)
    for setl_id, inst, fund in con.execute(
            "SELECT setl_id, fixmedins_code, "
            "(coalesce(fund_pay_sumamt, 0) + coalesce(acct_pay, 0))::DOUBLE FROM settlements"
    ).fetchall():
        if setl_id in setl_ids:
            out[inst][setl_id] = fund
    return out


def test_candidates_are_the_institutions_with_flagged_money(detected_store: Store) -> None:
    frame = candidates_from_store(detected_store.con)
    assert list(frame.columns) == list(CANDIDATE_COLUMNS)
    by_hand = _flagged_by_hand(detected_store)
    assert set(frame["fixmedins_code"]) == set(by_hand)
    assert len(frame) >= 20
    for row in frame.itertuples():
        expected = max(0.0, sum(by_hand[row.fixmedins_code].values()))
        assert row.amount == pytest.approx(expected, abs=0.01)
        assert row.n_settlements == len(by_hand[row.fixmedins_code])
        assert 0.0 <= row.risk <= 1.0
        assert row.risk >= row.ring_score - 1e-9
        assert row.city == row.county[:4] + "00"
        assert row.province == row.county[:2] + "0000"
        assert division(row.city).level == "city"
        assert row.days == (2 if row.fixmedins_type == "1" and row.hosp_lv in
                            ("01", "02", "03", "04", "05", "06", "07") else 1)


def test_risk_follows_the_evidence(detected_store: Store) -> None:
    frame = candidates_from_store(detected_store.con)
    in_ring = frame[frame["n_rings"] > 0]
    assert len(in_ring) > 0
    assert (in_ring["risk"] >= in_ring["ring_score"] - 1e-9).all()
    one_hit = frame[(frame["n_rings"] == 0) & (frame["n_chains"] == 0)
                    & (frame["n_rule_hits"] == 1)]
    # one rule hit alone: its severity's weight (0.3 high, 0.15 medium, 0.05 low)
    assert set(one_hit["risk"].round(4)) <= {0.3, 0.15, 0.05}
    many = frame[frame["n_chains"] >= 3]
    assert (many["risk"] >= 1 - 0.8**3 - 1e-4).all()


def test_region_and_period_narrow_the_candidates(detected_store: Store) -> None:
    everything = candidates_from_store(detected_store.con)
    province = everything["province"].mode()[0]
    within = candidates_from_store(detected_store.con, region=province)
    assert len(within) > 0
    assert set(within["fixmedins_code"]) == set(
        everything.loc[everything["province"] == province, "fixmedins_code"])
    city = within["city"].iloc[0]
    assert set(candidates_from_store(detected_store.con, region=city)["city"]) == {city}
    assert candidates_from_store(detected_store.con, period=(date(2030, 1, 1),
                                                             date(2030, 12, 31))).empty
    first, last = detected_store.con.execute(
        "SELECT min(setl_time)::DATE, max(setl_time)::DATE FROM settlements").fetchone()
    whole = candidates_from_store(detected_store.con, period=(first, last))
    assert whole.equals(everything)
    with pytest.raises(PlanError, match="region '999999' is not a 沪苏浙皖 division code"):
        candidates_from_store(detected_store.con, region="999999")
    with pytest.raises(PlanError, match="ends before it starts"):
        candidates_from_store(detected_store.con, period=(last, first))


def test_a_store_without_detection_is_refused(store: Store) -> None:
    with pytest.raises(PlanError, match="run 'yibao detect --db STORE' first"):
        candidates_from_store(store.con)


def test_a_plan_from_the_detected_store_keeps_every_rule(detected: Detected) -> None:
    with open_store(detected.db, read_only=True) as store:
        candidates = candidates_from_store(store.con)
    inputs = PlanInputs(candidates, synthetic_inspectors(12, seed=5),
                        PlanOptions(team_days=30, weeks=2))
    plan = plan_inspections(inputs, time_limit=10)
    assert check_plan(plan, inputs) == []
    assert check_plan(greedy_plan(inputs, teams=plan.formation), inputs) == []
    assert plan.visits
    assert plan.objective >= greedy_plan(inputs, teams=plan.formation).objective


def test_visit_days() -> None:
    assert visit_days("1", "02") == 2
    assert visit_days("1", "07") == 2
    assert visit_days("1", "08") == 1
    assert visit_days("1", None) == 1
    assert visit_days("2", None) == 1


def test_synthetic_candidates_cover_the_delta_and_repeat_by_seed(tmp_path: Path) -> None:
    frame = synthetic_candidates(2000, seed=1)
    assert list(frame.columns) == list(CANDIDATE_COLUMNS)
    assert frame["city"].nunique() == 41
    assert set(frame["province"]) == {"310000", "320000", "330000", "340000"}
    assert frame["fixmedins_code"].is_unique
    assert frame["risk"].between(0, 1).all()
    assert (frame["amount"] >= 0).all()
    assert set(frame["days"]) == {1, 2}
    assert 1000 < frame["amount"].median() < 3000
    assert frame.equals(synthetic_candidates(2000, seed=1))
    assert not frame.equals(synthetic_candidates(2000, seed=2))
