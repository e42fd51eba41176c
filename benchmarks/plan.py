"""Benchmark: the inspection plan (检查计划) by CP-SAT against the greedy baseline, same run.

``python -m benchmarks.plan [--candidates 2000] [--inspectors 60] [--team-days 300]
[--weeks 4] [--time-limit 60] [--cross-province] [--db STORE] [--seed 1] [--json]``

Makes ``--candidates`` synthetic candidate institutions over the 41 cities of 沪苏浙皖
(:func:`yibao.inspection.synthetic_candidates`: seeded, realistic risk and amount spreads), or
reads them from a detected store with ``--db``, and ``--inspectors`` synthetic inspectors
spread over the four provinces; then, in this process:

1. :func:`yibao.inspection.model.plan_inspections` (teams, then visits; OR-Tools CP-SAT, two
   workers, ``--time-limit`` seconds for the visits): wall seconds, status, objective
   (risk-weighted yuan), best bound, optimality gap, and from the solver's progress the times
   to its first plan, to beat greedy, to come within 1% of its final objective, and its last
   improvement;
2. :func:`yibao.inspection.greedy_plan` on the same teams: objective and seconds;
3. the ratio solver / greedy, :func:`yibao.inspection.check_plan` on both plans (the number
   of broken rules, 0 expected), and the best objective the solver had after 1, 2, 5, 10, 20,
   30 and 60 s (to choose a time limit for interactive re-planning).

Figures, not pass/fail; the wall clock on a 2-core machine is noisy.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from yibao.inspection import (
    InspectionPlan,
    PlanInputs,
    PlanOptions,
    candidates_from_store,
    check_plan,
    greedy_plan,
    synthetic_candidates,
    synthetic_inspectors,
)

CHECKPOINTS = (1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
"""Seconds at which the benchmark reports the best objective the solver had found."""


@dataclass(frozen=True)
class PlanFigures:
    """One plan's figures (yuan, seconds)."""

    method: str
    status: str
    objective: int
    best_bound: float
    gap: float
    amount: float
    visits: int
    team_days_used: int
    seconds: float
    broken_rules: int


@dataclass(frozen=True)
class Run:
    """Everything the benchmark measured."""

    source: str
    candidates: int
    inspectors: int
    teams: int
    options: dict[str, Any]
    time_limit: float
    team_status: str
    team_excluded_value: int
    team_bound: float
    team_seconds: float
    solver: PlanFigures
    greedy: PlanFigures
    ratio: float
    first_plan_seconds: float
    beat_greedy_seconds: float
    within_1pct_seconds: float
    last_improvement_seconds: float
    model_booleans: int
    model_integers: int
    objective_by_seconds: dict[str, int]


def _figures(plan: InspectionPlan, inputs: PlanInputs, seconds: float) -> PlanFigures:
    return PlanFigures(
        method=plan.method, status=plan.status, objective=plan.objective,
        best_bound=plan.best_bound, gap=plan.gap, amount=round(plan.amount, 2),
        visits=len(plan.visits), team_days_used=plan.days_used, seconds=seconds,
        broken_rules=len(check_plan(plan, inputs)),
    )


def _first_time(points: tuple[tuple[float, int], ...], at_least: float) -> float:
    return next((t for t, value in points if value >= at_least), math.nan)


def measure(inputs: PlanInputs, *, source: str, time_limit: float, seed: int,
            workers: int) -> Run:
    """Plan ``inputs`` with CP-SAT, then greedily on the same teams; return the figures."""
    from yibao.inspection.model import plan_inspections

    start = time.perf_counter()
    plan = plan_inspections(inputs, time_limit=time_limit, seed=seed, workers=workers)
    solver_seconds = time.perf_counter() - start
    start = time.perf_counter()
    greedy = greedy_plan(inputs, teams=plan.formation)
    greedy_seconds = time.perf_counter() - start
    points = plan.progress
    team_seconds = plan.formation.wall_seconds
    # progress times count from the start of the visit stage: add the team stage to them
    shift = solver_seconds - plan.solver_stats["assign_seconds"]
    return Run(
        source=source, candidates=len(inputs.candidates), inspectors=len(inputs.inspectors),
        teams=len(plan.teams), options=asdict(inputs.options), time_limit=time_limit,
        team_status=plan.formation.status, team_excluded_value=plan.formation.excluded_value,
        team_bound=plan.formation.best_bound, team_seconds=team_seconds,
        solver=_figures(plan, inputs, solver_seconds),
        greedy=_figures(greedy, inputs, greedy_seconds),
        ratio=plan.objective / greedy.objective if greedy.objective else math.nan,
        first_plan_seconds=shift + points[0][0] if points else math.nan,
        beat_greedy_seconds=shift + _first_time(points, greedy.objective + 1),
        within_1pct_seconds=shift + _first_time(points, 0.99 * plan.objective),
        last_improvement_seconds=shift + points[-1][0] if points else math.nan,
        model_booleans=int(plan.solver_stats["booleans"]),
        model_integers=int(plan.solver_stats["integers"]),
        objective_by_seconds={
            f"{t:g}": max((v for s, v in points if shift + s <= t), default=0)
            for t in CHECKPOINTS if t <= solver_seconds},
    )


def _print(run: Run) -> None:
    o = run.options
    print(f"inspection plan: {run.candidates:,} candidates ({run.source}), {run.inspectors} "
          f"inspectors -> {run.teams} teams of {o['team_size']}; {o['weeks']} weeks x "
          f"{o['days_per_week']} days, budget {o['team_days']} team-days, joint={o['joint']}, "
          f"cross_province={o['cross_province']}, max spread {o['max_spread_days']} days")
    print(f"  teams (stage 1): {run.team_status}, excluded value {run.team_excluded_value:,} "
          f"yuan (bound {run.team_bound:,.0f}), {run.team_seconds:.2f} s")
    for f in (run.solver, run.greedy):
        bound = "" if math.isnan(f.best_bound) else (
            f", bound {f.best_bound:,.0f}, gap {f.gap:.3%}")
        print(f"  {f.method:<7} {f.status:<9} objective {f.objective:>12,} yuan{bound}; "
              f"{f.visits} visits, {f.team_days_used} team-days, amount {f.amount:,.0f} yuan; "
              f"{f.seconds:.3f} s; broken rules: {f.broken_rules}")
    print(f"  solver / greedy: {run.ratio:.4f}")
    print(f"  solver progress (s from the start): first plan {run.first_plan_seconds:.2f}, "
          f"beats greedy {run.beat_greedy_seconds:.2f}, within 1% of final "
          f"{run.within_1pct_seconds:.2f}, last improvement {run.last_improvement_seconds:.2f} "
          f"(limit {run.time_limit:g} s for the visit stage); model {run.model_booleans:,} "
          f"booleans, {run.model_integers:,} integers")
    if run.objective_by_seconds:
        print("  solver objective by then (s: yuan, % of final): " + "; ".join(
            f"{t}: {v:,} ({v / run.solver.objective:.2%})"
            for t, v in run.objective_by_seconds.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--inspectors", type=int, default=60)
    parser.add_argument("--team-days", type=int, default=300)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--team-size", type=int, default=3)
    parser.add_argument("--cross-province", action="store_true")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", type=Path, help="plan the candidates of this detected store")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = parser.parse_args()

    if args.db:
        from loaders.store import open_store

        with open_store(args.db, read_only=True) as store:
            candidates = candidates_from_store(store.con)
        source = f"store {args.db}"
    else:
        candidates = synthetic_candidates(args.candidates, seed=args.seed)
        source = f"synthetic, seed {args.seed}"
    inputs = PlanInputs(candidates, synthetic_inspectors(args.inspectors, seed=args.seed),
                        PlanOptions(team_days=args.team_days, weeks=args.weeks,
                                    team_size=args.team_size,
                                    cross_province=args.cross_province))
    run = measure(inputs, source=source, time_limit=args.time_limit, seed=args.seed,
                  workers=args.workers)
    if args.json:
        print(json.dumps(asdict(run), indent=2, ensure_ascii=False))
    else:
        _print(run)


if __name__ == "__main__":
    main()
