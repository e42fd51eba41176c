"""Explore and tune (graph.tuning): a rerun on a scope reads only, reproduces the stored run
when nothing changes, and reports what a change gains and loses."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from graph.scoring import load_detection_settings
from graph.tuning import TuningScope, ring_changes, stored_rings_in_scope, tune_in_scope
from loaders.store import open_store
from tests.detected import Detected, busiest_flagged_city

pytestmark = pytest.mark.integration


def _everything(con) -> TuningScope:  # type: ignore[no-untyped-def]
    first, last = con.execute("SELECT min(setl_time)::DATE, max(setl_time)::DATE "
                              "FROM settlements").fetchone()
    return TuningScope(start=first, end=last)


def test_a_rerun_of_everything_with_the_stored_settings_is_the_stored_run(
        detected: Detected) -> None:
    with open_store(detected.db, read_only=True) as store:
        scope = _everything(store.con)
        run = tune_in_scope(store.con, scope, load_detection_settings())
        stored = stored_rings_in_scope(store.con, scope)
        q = dict(store.con.execute("SELECT ring_id, score FROM rings").fetchall())
    changes = ring_changes(run, stored)
    assert stored, "the detected store has no flagged ring"
    assert (changes.gained, changes.lost) == ([], [])
    assert sorted(r.ring_id for r in run.flagged) == sorted(stored)
    assert all(abs(r.score - q[r.ring_id]) < 1e-9 for r in run.flagged)


def test_a_stricter_rerun_on_a_city_loses_rings_and_writes_nothing(detected: Detected) -> None:
    with open_store(detected.db, read_only=True) as store:
        con = store.con
        city = busiest_flagged_city(con)
        everything = _everything(con)
        scope = TuningScope(start=everything.start, end=everything.end, division=city)
        base = load_detection_settings()
        strict = replace(base, co_settlement=replace(base.co_settlement, min_co_days=6,
                                                     window_minutes=5.0),
                         suspicion=replace(base.suspicion, fdr=0.001))
        runs_before = con.execute("SELECT count(*) FROM detect_runs").fetchone()
        same = tune_in_scope(con, scope, base)
        stricter = tune_in_scope(con, scope, strict)
        stored = stored_rings_in_scope(con, scope)
        assert con.execute("SELECT count(*) FROM detect_runs").fetchone() == runs_before
    assert stored
    assert same.settlements == stricter.settlements > 0
    lost = ring_changes(stricter, stored).lost
    assert lost, "a 5-minute window, 6 shared days and q <= 0.001 should lose a ring"
    assert set(lost) <= set(stored)


def test_a_scope_prefix_follows_the_division_code() -> None:
    day = date(2024, 1, 1)
    assert TuningScope(day, day, division="320500").prefix == "3205"
    assert TuningScope(day, day, division="310000").prefix == "31"
    assert TuningScope(day, day, division="320506").prefix == "320506"
    assert TuningScope(day, day).prefix is None
