"""Small random planning instances and brute-force optima, written independently of the solver.

``tiny_instance(seed)`` draws a few candidates in real 沪苏浙皖 cities and a few inspectors from
some of those cities. ``best_visits_by_brute_force`` enumerates every explicit assignment of
candidates to (team, week) and keeps the best one that :func:`check_plan` accepts;
``best_teams_by_brute_force`` enumerates every way to split the inspectors into teams. Neither
uses the solver's count model, patterns or pruning.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from yibao.inspection import (
    InspectionPlan,
    Inspector,
    PlanInputs,
    PlanOptions,
    Team,
    TeamFormation,
    Visit,
    check_plan,
)

CITIES = {  # two or three cities in each of the four provinces
    "310000": ["310100"],
    "320000": ["320100", "320500", "321000"],
    "330000": ["330100", "330500"],
    "340000": ["340100", "341200", "340700"],
}


def tiny_instance(
    seed: int,
    *,
    n_candidates: int = 6,
    team_size: int = 3,
    n_teams: int = 2,
    reserve: int = 0,
    weeks: int = 2,
    days_per_week: int = 3,
    lengths: Sequence[int] = (1, 2),
    joint: bool = True,
    cross_province: bool = False,
) -> PlanInputs:
    """A random instance: candidates spread over a few cities of three provinces, inspectors
    from some of those cities (at least two provinces), a budget that usually binds."""
    rng = np.random.default_rng(seed)
    provinces = sorted(rng.choice(sorted(CITIES), size=3, replace=False))
    cities = [c for p in provinces for c in CITIES[p]]
    picked = [cities[int(i)] for i in rng.integers(0, len(cities), n_candidates)]
    frame = pd.DataFrame({
        "fixmedins_code": [f"C{i:02d}" for i in range(n_candidates)],
        "fixmedins_name": [f"机构{i}" for i in range(n_candidates)],
        "city": picked,
        "province": [c[:2] + "0000" for c in picked],
        "risk": rng.uniform(0.05, 1.0, n_candidates).round(3),
        "amount": rng.lognormal(8.0, 1.0, n_candidates).round(2),
        "days": rng.choice(list(lengths), n_candidates),
    })
    n_inspectors = team_size * n_teams + reserve
    homes = [cities[int(i)] for i in rng.integers(0, len(cities), n_inspectors)]
    if len({h[:2] for h in homes}) < 2:
        other = next(p for p in provinces if p[:2] != homes[-1][:2])
        homes[0] = CITIES[other][0]
    inspectors = tuple(Inspector(f"I{i}", f"检查员{i}", h[:2] + "0000", h)
                       for i, h in enumerate(homes))
    total_days = int(frame["days"].sum())
    options = PlanOptions(
        team_days=int(rng.integers(max(2, total_days // 3), total_days + 1)),
        weeks=weeks, team_size=team_size, days_per_week=days_per_week, joint=joint,
        cross_province=cross_province, max_spread_days=int(rng.integers(0, 4)),
    )
    return PlanInputs(frame, inspectors, options)


def _may_visit(team: Team, city: str, inputs: PlanInputs) -> bool:
    for member in team.members:
        home = next(i for i in inputs.inspectors if i.inspector_id == member)
        if home.city == city:
            return False
        if inputs.options.cross_province and home.province[:2] == city[:2]:
            return False
    return True


def _value(inputs: PlanInputs, rows: Sequence[int]) -> int:
    frame = inputs.candidates
    return sum(round(float(frame.at[r, "risk"]) * float(frame.at[r, "amount"])) for r in rows)


def best_visits_by_brute_force(inputs: PlanInputs, formation: TeamFormation) -> int:
    """The largest objective of any explicit plan on these teams that :func:`check_plan`
    accepts: subsets of candidates from the most valuable down, each tried with every
    (team, week) for every member, the first that passes wins."""
    frame = inputs.candidates
    n = len(frame)
    weeks = range(1, inputs.options.weeks + 1)
    slots = {r: [(t.team_id, w) for t in formation.teams if _may_visit(t, frame.at[r, "city"],
                                                                       inputs) for w in weeks]
             for r in range(n)}
    subsets = sorted((s for k in range(n + 1) for s in itertools.combinations(range(n), k)),
                     key=lambda s: -_value(inputs, s))
    for subset in subsets:
        if sum(int(frame.at[r, "days"]) for r in subset) > inputs.options.team_days:
            continue
        for choice in itertools.product(*(slots[r] for r in subset)):
            visits = tuple(Visit(str(frame.at[r, "fixmedins_code"]), team, week,
                                 int(frame.at[r, "days"]))
                           for r, (team, week) in zip(subset, choice, strict=True))
            plan = InspectionPlan(
                formation=formation, visits=visits, objective=_value(inputs, subset),
                best_bound=math.nan, amount=sum(float(frame.at[r, "amount"]) for r in subset),
                status="BRUTE", method="brute-force", wall_seconds=0.0)
            if not check_plan(plan, inputs):
                return plan.objective
    raise AssertionError("not even the empty plan passes check_plan")


def _splits(people: list[str], size: int, teams: int) -> Iterator[list[tuple[str, ...]]]:
    """Every way to pick ``teams`` unordered teams of ``size`` from ``people``."""
    if teams == 0:
        yield []
        return
    if len(people) < size * teams:
        return
    first, rest = people[0], people[1:]
    # first is in the next team, or (when there is room) left out
    for mates in itertools.combinations(rest, size - 1):
        left = [p for p in rest if p not in mates]
        for others in _splits(left, size, teams - 1):
            yield [(first, *mates), *others]
    if len(rest) >= size * teams:
        yield from _splits(rest, size, teams)


def best_teams_by_brute_force(inputs: PlanInputs) -> int | None:
    """The least excluded value over every split into teams (None: no split is allowed):
    a team is shut out of each area (city; province with cross_province) of its members,
    worth the risk-weighted value of the candidates there."""
    opts = inputs.options
    frame = inputs.candidates
    area_value: dict[str, int] = {}
    for r in range(len(frame)):
        if int(frame.at[r, "days"]) <= opts.days_per_week:
            city = str(frame.at[r, "city"])
            area = city[:2] + "0000" if opts.cross_province else city
            area_value[area] = area_value.get(area, 0) + _value(inputs, [r])
    home = {i.inspector_id: i for i in inputs.inspectors}
    best: int | None = None
    for split in _splits(sorted(home), opts.team_size, inputs.n_teams):
        if opts.joint and any(len({home[m].province for m in t}) < 2 for t in split):
            continue
        cost = 0
        for team in split:
            areas = {home[m].province if opts.cross_province else home[m].city for m in team}
            cost += sum(area_value.get(a, 0) for a in areas)
        best = cost if best is None else min(best, cost)
    return best
