"""The CP-SAT plan equals brute force on small instances, and every plan keeps every rule."""

from __future__ import annotations

import math

import pytest
from _plan_instances import best_teams_by_brute_force, best_visits_by_brute_force, tiny_instance

from yibao.errors import PlanError
from yibao.inspection import (
    Inspector,
    PlanInputs,
    PlanOptions,
    Team,
    check_plan,
    greedy_plan,
    synthetic_candidates,
    synthetic_inspectors,
)
from yibao.inspection.model import plan_inspections, week_patterns
from yibao.inspection.teams import form_teams


def test_week_patterns_are_the_maximal_fillings() -> None:
    assert week_patterns([1, 2], 5) == [(5, 0), (3, 1), (1, 2)]
    assert week_patterns([1, 2], 4) == [(4, 0), (2, 1), (0, 2)]
    assert week_patterns([2], 5) == [(2,)]
    assert sorted(week_patterns([1, 2, 3], 5)) == sorted(
        [(5, 0, 0), (3, 1, 0), (1, 2, 0), (2, 0, 1), (0, 1, 1)])


@pytest.mark.parametrize("seed", range(8))
def test_visits_equal_brute_force(seed: int) -> None:
    inputs = tiny_instance(seed, n_candidates=6)
    plan = plan_inspections(inputs, time_limit=20, workers=1, seed=seed)
    assert check_plan(plan, inputs) == []
    assert plan.status == "OPTIMAL"
    assert plan.gap == 0.0
    assert plan.objective == best_visits_by_brute_force(inputs, plan.formation)


@pytest.mark.parametrize(
    ("seed", "kwargs"),
    [
        (101, {"n_candidates": 7}),
        (102, {"n_candidates": 6, "lengths": (1, 2, 3), "days_per_week": 4}),
        (104, {"n_candidates": 6, "cross_province": True, "team_size": 2}),
        (103, {"n_candidates": 6, "joint": False, "team_size": 2, "reserve": 1}),
        (105, {"n_candidates": 5, "weeks": 3, "days_per_week": 2}),
    ],
)
def test_visits_equal_brute_force_on_variants(seed: int, kwargs: dict[str, object]) -> None:
    inputs = tiny_instance(seed, **kwargs)  # type: ignore[arg-type]
    plan = plan_inspections(inputs, time_limit=20, workers=1, seed=seed)
    assert check_plan(plan, inputs) == []
    assert plan.visits
    assert plan.objective == best_visits_by_brute_force(inputs, plan.formation)


@pytest.mark.parametrize(
    ("seed", "kwargs"),
    [(1, {}), (2, {}), (3, {"reserve": 1}), (4, {"cross_province": True}),
     (5, {"team_size": 2, "n_teams": 3}), (6, {"joint": False, "reserve": 2})],
)
def test_teams_equal_brute_force(seed: int, kwargs: dict[str, object]) -> None:
    inputs = tiny_instance(seed, **kwargs)  # type: ignore[arg-type]
    best = best_teams_by_brute_force(inputs)
    if best is None:
        with pytest.raises(PlanError, match="cannot form"):
            form_teams(inputs, time_limit=10, workers=1)
        return
    formation = form_teams(inputs, time_limit=10, workers=1)
    assert formation.status == "OPTIMAL"
    assert formation.excluded_value == best
    placed = [m for t in formation.teams for m in t.members]
    assert sorted(placed + list(formation.reserve)) == sorted(
        i.inspector_id for i in inputs.inspectors)


def test_given_teams_are_kept_and_greedy_never_beats_the_solver() -> None:
    inputs = tiny_instance(7, n_candidates=7)
    teams = (Team(1, ("I0", "I2", "I4")), Team(2, ("I1", "I3", "I5")))
    if check_plan(greedy_plan(inputs, teams=teams), inputs):  # teams not joint here: swap
        teams = (Team(1, ("I0", "I1", "I2")), Team(2, ("I3", "I4", "I5")))
    plan = plan_inspections(inputs, teams=teams, time_limit=10, workers=1)
    assert plan.teams == teams
    greedy = greedy_plan(inputs, teams=teams)
    assert check_plan(greedy, inputs) == []
    assert check_plan(plan, inputs) == []
    assert greedy.objective <= plan.objective == best_visits_by_brute_force(
        inputs, plan.formation)
    assert math.isnan(greedy.gap)


@pytest.mark.slow
def test_two_thousand_candidates_keep_every_rule_and_beat_greedy() -> None:
    candidates = synthetic_candidates(2000, seed=3)
    inputs = PlanInputs(candidates, synthetic_inspectors(60, seed=3),
                        PlanOptions(team_days=300, weeks=4))
    plan = plan_inspections(inputs, time_limit=8, seed=1)
    greedy = greedy_plan(inputs, teams=plan.formation)
    assert check_plan(plan, inputs) == []
    assert check_plan(greedy, inputs) == []
    assert len(plan.teams) == 20
    assert plan.objective >= greedy.objective
    assert plan.objective <= plan.best_bound
    assert 0.0 <= plan.gap < 0.05
    assert plan.days_used <= 300
    assert plan.solver_stats["hint_objective"] >= greedy.objective


def test_deterministic_runs_stopped_by_the_limit_are_equal() -> None:
    inputs = PlanInputs(synthetic_candidates(400, seed=4), synthetic_inspectors(15, seed=4),
                        PlanOptions(team_days=60, weeks=3, max_spread_days=3))
    first = plan_inspections(inputs, time_limit=0.2, deterministic=True)
    second = plan_inspections(inputs, time_limit=0.2, deterministic=True)
    assert first.status == "FEASIBLE"  # stopped by the (deterministic) limit, not proven
    assert first.visits == second.visits
    assert first.teams == second.teams
    assert check_plan(first, inputs) == []


def test_a_split_no_joint_team_can_mix_is_refused() -> None:
    inspectors = (*(Inspector(f"A{i}", "甲", "320000", "320100") for i in range(5)),
                  Inspector("B0", "乙", "340000", "341200"))
    inputs = PlanInputs(synthetic_candidates(30, seed=1), inspectors,
                        PlanOptions(team_days=10, weeks=1))
    with pytest.raises(PlanError, match=r"cannot form 2 joint teams of 3.*320000: 5"):
        plan_inspections(inputs, time_limit=5)


def test_teams_shut_out_of_every_candidate_are_refused() -> None:
    candidates = synthetic_candidates(80, seed=2)
    candidates = candidates[candidates["province"].isin(["320000", "340000"])]
    inspectors = (Inspector("A", "甲", "320000", "320100"),
                  Inspector("B", "乙", "320000", "320500"),
                  Inspector("C", "丙", "340000", "341200"),
                  Inspector("D", "丁", "340000", "340100"))
    shut = PlanInputs(candidates, inspectors, PlanOptions(
        team_days=10, weeks=2, team_size=2, cross_province=True))
    with pytest.raises(PlanError, match=r"no team may visit any candidate.*cross_province"):
        plan_inspections(shut, time_limit=5)


@pytest.mark.parametrize("seed", range(6))
def test_the_week_filling_warm_start_keeps_every_rule(seed: int) -> None:
    from yibao.inspection._week_filling import week_filling_plan
    from yibao.inspection.plan import allowed_cities

    inputs = tiny_instance(seed, n_candidates=6, lengths=(1, 2, 3), days_per_week=4)
    formation = form_teams(inputs, time_limit=5, workers=1)
    allowed = {t.team_id: allowed_cities(t, inputs) for t in formation.teams}
    start = week_filling_plan(inputs, formation, allowed)
    assert check_plan(start, inputs) == []
    assert start.objective <= best_visits_by_brute_force(inputs, formation)


def test_given_teams_must_name_roster_inspectors_once() -> None:
    inputs = tiny_instance(2)
    with pytest.raises(PlanError, match="name unknown inspectors X9; list I0 twice"):
        plan_inspections(inputs, teams=(Team(1, ("I0", "I1", "X9")), Team(2, ("I0", "I3", "I4"))))
