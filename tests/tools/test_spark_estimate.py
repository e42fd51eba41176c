"""The Spark benchmark's arithmetic: the province-year extrapolation and the step intervals
(pure functions: no Spark, no store)."""

from __future__ import annotations

import pytest

from benchmarks.spark import START, by_row, estimate_cluster, intervals


def test_bucketed_steps_spread_over_the_cluster_and_pay_the_shuffle() -> None:
    # 10 s on 2 cores for 1M settlements = 20 core-s / 1M = 2e-5 core-s per settlement;
    # 300M settlements -> 6,000 core-s, x1.5 shuffle -> 9,000, over 160 cores -> 56.25 s
    est = estimate_cluster({"rules": 10.0}, {"rules"}, measured_settlements=1_000_000,
                           measured_cores=2, target_settlements=300_000_000, executors=20,
                           cores_per_executor=8, shuffle_factor=1.5)
    assert est.core_seconds_per_settlement["rules"] == pytest.approx(2e-5)
    assert est.step_seconds["rules"] == pytest.approx(56.25)
    assert est.parallel_seconds == pytest.approx(56.25)
    assert est.driver_seconds == 0.0
    assert est.total_seconds == pytest.approx(56.25)


def test_driver_steps_scale_linearly_on_one_core() -> None:
    est = estimate_cluster({"rules": 10.0, "communities": 2.0}, {"rules"},
                           measured_settlements=1_000_000, measured_cores=2,
                           target_settlements=10_000_000, executors=5, cores_per_executor=4,
                           shuffle_factor=1.0)
    assert est.core_seconds_per_settlement["communities"] == pytest.approx(2e-6)
    assert est.step_seconds["communities"] == pytest.approx(20.0)  # no cores, no shuffle
    assert est.step_seconds["rules"] == pytest.approx(10.0 * 2 * 10 / 20)
    assert est.total_seconds == pytest.approx(est.parallel_seconds + est.driver_seconds)


def test_more_cores_shorten_only_the_bucketed_steps() -> None:
    steps = {"rules": 30.0, "store": 3.0}
    small = estimate_cluster(steps, {"rules"}, measured_settlements=1_000_000,
                             measured_cores=2, executors=10)
    big = estimate_cluster(steps, {"rules"}, measured_settlements=1_000_000,
                           measured_cores=2, executors=20)
    assert big.step_seconds["rules"] == pytest.approx(small.step_seconds["rules"] / 2)
    assert big.step_seconds["store"] == pytest.approx(small.step_seconds["store"])


def test_nonsense_cluster_is_refused() -> None:
    with pytest.raises(ValueError, match="must be positive"):
        estimate_cluster({"rules": 1.0}, {"rules"}, measured_settlements=0, measured_cores=2)
    with pytest.raises(ValueError, match="must be positive"):
        estimate_cluster({"rules": 1.0}, {"rules"}, measured_settlements=1, measured_cores=2,
                         shuffle_factor=0.0)


def test_intervals_run_from_mark_to_mark_and_rows_add_them_up() -> None:
    marks = [("rules by person", 1.0), ("rules by doctor", 4.0), ("claims", 6.0),
             ("mystery", 7.0)]
    iv = intervals(marks, 10.0)
    assert iv == {START: 1.0, "rules by person": 3.0, "rules by doctor": 2.0, "claims": 1.0,
                  "mystery": 3.0}
    rows = by_row(iv, {START: "rules", "rules by person": "rules", "rules by doctor": "rules",
                       "claims": "claims"})
    assert rows == {"rules": 6.0, "claims": 4.0}  # the unknown message joins the row before


def test_derived_rows_leave_the_embedded_total_out() -> None:
    import argparse

    from benchmarks.spark import derive

    figures = {
        "rows_per_bucket": 250_000,
        "embedded": {"settlements": 1_000_000, "timings": {
            "rules": 3.0, "chains": 1.0, "claims": 1.0, "projection": 1.0, "communities": 0.5,
            "rings": 1.0, "total": 7.6, "store": 0.1}},
        "spark": {"seconds": 20.0, "peaks": {"driver_total": 3 * 2**30}, "intervals": {
            START: 2.0, "rules by person": 8.0, "steering tests": 4.0, "claims": 2.0,
            "projection": 1.0, "communities": 0.1, "candidates": 0.9, "tests": 1.0,
            "store": 1.0}},
    }
    args = argparse.Namespace(driver_steps="communities,candidates,tests,store",
                              target_settlements=300_000_000, executors=20, executor_cores=8,
                              executor_memory_gib=32.0, shuffle_factor=1.5)
    out = derive(figures, args)
    assert out["rows"]["rules and chains"] == {"embedded": 4.0, "spark": 10.0}
    assert out["rows"]["rings"] == {"embedded": 1.0, "spark": 5.9}  # steering counts here
    assert out["rows"]["store"] == {"embedded": 0.1, "spark": 1.0}
    assert out["ratio_spark_embedded"] == pytest.approx(20.0 / 7.6)
    assert out["within_target_ratio"] is True
    assert out["driver_under_target"] is False
    assert out["parallel_steps"] == [START, "rules by person", "steering tests", "claims",
                                     "projection"]
    assert out["estimate_buckets"] == 1200
