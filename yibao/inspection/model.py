"""Stage 2 of the inspection plan (检查计划求解): which team visits which institution in which
week, exact for given teams, with OR-Tools CP-SAT. Stage 1 (:mod:`yibao.inspection.teams`)
forms the teams unless they are given.

**The model** (:func:`plan_inspections`):

- Sets: candidates ``C`` (city ``g_c``, days ``d_c``, value ``v_c = round(risk * amount)``
  yuan); teams ``K``; cities ``G``; visit lengths ``D`` (the distinct ``d_c <= days_per_week``);
  week *patterns* ``P``: the maximal vectors ``n_p[d]`` with ``sum_d d * n_p[d] <=
  days_per_week`` (for D = {1, 2} and 5 days: 5x1, 3x1 + 1x2, 1x1 + 2x2). Team ``k`` may visit
  city ``g`` (``(k, g)`` *allowed*) unless ``g`` is a member's home city, or with
  ``cross_province`` lies in a member's province.
- ``q[k,g,p]`` in 0..W: weeks team ``k`` spends in city ``g`` filled by pattern ``p``;
  ``sum_{g,p} q[k,g,p] <= W`` (W = ``weeks``); only for allowed ``(k, g)``.
- ``m[k,g,d]`` >= 0: visits of length ``d`` by team ``k`` in city ``g``;
  ``m[k,g,d] <= sum_p n_p[d] * q[k,g,p]``.
- ``y[c]`` in {0,1}: ``c`` is visited; per group ``(g, d)``:
  ``sum_{c in (g,d)} y[c] = sum_k m[k,g,d]``.
- load ``L[k] = sum_{g,d} d * m[k,g,d]``; ``max_k L - min_k L <= max_spread_days``;
  ``sum_k L[k] <= team_days``.
- **maximise** ``sum_c v_c * y[c]``.

Travel grouping is a constraint: a team-week is spent in one city (a pattern fills one week in
one city). Workload balance is a constraint: team-days within ``max_spread_days`` of each other.

*Why counts instead of one variable per (candidate, team, week).* Whether a team may visit an
institution depends only on the institution's city (its province is the city's), so candidates
of one city and one visit length are interchangeable for every constraint: only how many of
them each team visits matters, and the best to visit are the highest-valued. The packing of
visits into weeks is exact through the patterns (a week holding fewer visits than its pattern
is still a feasible week). So the count model has the same optimum as the explicit one, and is
far smaller: 2,000 candidates, 20 teams, 4 weeks, 41 cities need about 2,000 booleans and 4,000
small integers instead of 152,000 booleans (measured: after 60 s the explicit model's best plan
covered 3.4% of its bound, while the count model is proven optimal or within 0.2% of its
bound; see ``benchmarks/README.md``). The brute-force tests compare it with an enumeration of
explicit assignments. CP-SAT's presolve is off for this model: measured, it weakened the bound
the cuts below give (a 120-candidate plan proven optimal in 0.1 s without it was still 0.6%
open after 20 s with it).

*Cuts.* ``F_g(n)``, the most value ``n`` team-weeks in city ``g`` can cover (tabulated over
multisets of patterns), bounds the value covered there; its least concave majorant gives
linear cuts on (value covered in ``g``, ``sum_{k,p} q[k,g,p]``). They stop the relaxation
from spending a fraction of a week in a city and still covering its best visits.
One more reduction keeps the optimum: in each group only the ``M`` most valuable candidates
are kept (``M`` = the most visits of that length the group can get from the budget and the
allowed team-weeks; with ``M`` visited, any further one could be swapped for an unvisited
better one of the same city and length). Candidates worth 0 yuan stay: with the balance rule a
low-value visit can let another team do more. Within a group ``y`` is ordered by value
(``y[j+1] <= y[j]``), and teams with the same allowed cities are ordered by load: both only
remove symmetric copies.

The better of two plans on the same teams is given as a hint, so CP-SAT starts from it: the
greedy baseline (:func:`~yibao.inspection.greedy.greedy_plan`) and a week-filling heuristic
(:mod:`yibao.inspection._week_filling`); ``time_limit`` bounds stage 2 (stage 1 gets a fifth of
it, at most 10 s). The answer reports the objective, CP-SAT's best bound and the gap between
them. With several workers a run stopped by the time limit can differ between runs;
``deterministic=True`` (interleaved search, a deterministic time limit) makes repeated runs
equal.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations_with_replacement, pairwise

import numpy as np
from ortools.sat.python import cp_model

from yibao.divisions import division, is_known_division
from yibao.errors import PlanError
from yibao.geo import km_between
from yibao.inspection._cpsat import STATUS_OK, cp_solver, week_patterns
from yibao.inspection._week_filling import week_filling_plan
from yibao.inspection.plan import (
    InspectionPlan,
    PlanInputs,
    Team,
    TeamFormation,
    Visit,
    allowed_cities,
    formation_from_teams,
)
from yibao.inspection.teams import form_teams

__all__ = ["form_teams", "plan_inspections", "week_patterns"]  # re-exported for callers

logger = logging.getLogger(__name__)

_MAX_CUT_WEEKS = 24  # F(n) is enumerated up to this many weeks per city


@dataclass(frozen=True)
class _Group:
    """Candidates of one city and one visit length, most valuable first (row numbers)."""

    city: str
    days: int
    rows: tuple[int, ...]


class _Progress(cp_model.CpSolverSolutionCallback):
    """Records (seconds, objective) at every improving solution."""

    def __init__(self) -> None:
        super().__init__()
        self.points: list[tuple[float, int]] = []

    def on_solution_callback(self) -> None:
        self.points.append((self.wall_time, round(self.objective_value)))


def plan_inspections(
    inputs: PlanInputs,
    *,
    teams: TeamFormation | Sequence[Team] | None = None,
    time_limit: float = 60.0,
    seed: int = 0,
    workers: int = 2,
    deterministic: bool = False,
    warm_start: bool = True,
) -> InspectionPlan:
    """The plan that covers the most risk-weighted suspicious amount (model in the module
    docstring): stage 1 forms the teams unless ``teams`` are given, stage 2 assigns visits to
    team-weeks exactly for those teams, within ``time_limit`` seconds (wall clock, or CP-SAT's
    deterministic time with ``deterministic=True``), ``workers`` threads, ``seed``.
    ``warm_start`` hints the greedy plan on the same teams.

    Returns an :class:`InspectionPlan` with status ``OPTIMAL`` or ``FEASIBLE`` (time limit hit:
    read ``gap``). Raises :class:`PlanError` when the teams cannot visit any candidate or no
    plan is found in time.
    """
    start = time.perf_counter()
    opts = inputs.options
    if teams is None:
        formation = form_teams(inputs, time_limit=min(10.0, max(1.0, time_limit / 5)),
                               seed=seed, workers=workers, deterministic=deterministic)
    else:
        formation = formation_from_teams(teams, inputs)
    allowed = {t.team_id: allowed_cities(t, inputs) for t in formation.teams}
    if not any(city in cities for cities in allowed.values() for city in inputs.cities):
        raise PlanError(
            "no team may visit any candidate: every candidate lies in a member's home "
            + ("province" if opts.cross_province else "city")
            + "; add inspectors from other regions"
            + (" or plan without cross_province" if opts.cross_province else "")
        )
    groups = _groups(inputs, allowed)
    hint = None
    if warm_start:
        from yibao.inspection.greedy import greedy_plan

        starts = [greedy_plan(inputs, teams=formation),
                  week_filling_plan(inputs, formation, allowed)]
        hint = max(starts, key=lambda plan: plan.objective)
    built = _build(inputs, formation, groups, allowed, hint)
    solver = cp_solver(time_limit, seed, workers, deterministic)
    # Measured: presolve weakens the bound the city cuts give (a 120-candidate plan is proven
    # optimal in 0.1 s without it and is still 0.6% open after 20 s with it); the count model
    # is small enough not to need it.
    solver.parameters.cp_model_presolve = False
    progress = _Progress()
    status = solver.solve(built.model, progress)
    if status not in STATUS_OK:
        raise PlanError(f"no plan found within {time_limit:g} s ({solver.status_name(status)})"
                        ": raise the time limit")
    visits = _decode(solver, built, inputs, formation)
    objective = int(sum(int(inputs.values[inputs.row_of[v.fixmedins_code]]) for v in visits))
    amount = sum(inputs.amounts[inputs.row_of[v.fixmedins_code]] for v in visits)
    stats = {
        "team_seconds": formation.wall_seconds,
        "assign_seconds": solver.wall_time,
        "first_solution_seconds": progress.points[0][0] if progress.points else math.nan,
        "last_improvement_seconds": progress.points[-1][0] if progress.points else math.nan,
        "booleans": float(len(built.y)),
        "integers": float(len(built.q) + len(built.m)),
        "candidates_in_model": float(sum(len(g.rows) for g in groups)),
        "hint_objective": float(hint.objective) if hint is not None else math.nan,
        "greedy_objective": float(starts[0].objective) if hint is not None else math.nan,
        "packed_objective": float(starts[1].objective) if hint is not None else math.nan,
    }
    logger.info("plan: %s objective %d bound %.0f in %.1f s", solver.status_name(status),
                objective, solver.best_objective_bound, time.perf_counter() - start)
    return InspectionPlan(
        formation=formation,
        visits=tuple(visits),
        objective=objective,
        best_bound=max(float(solver.best_objective_bound), float(objective)),
        amount=amount,
        status=solver.status_name(status),
        method="cp-sat",
        wall_seconds=time.perf_counter() - start,
        solver_stats=stats,
        progress=tuple(progress.points),
    )


def _groups(inputs: PlanInputs, allowed: dict[int, frozenset[str]]) -> list[_Group]:
    """Candidate groups (city, visit length), pruned to what can matter (module docstring)."""
    opts = inputs.options
    order = sorted(range(len(inputs.codes)),
                   key=lambda r: (-int(inputs.values[r]), inputs.codes[r]))
    rows: dict[tuple[str, int], list[int]] = defaultdict(list)
    dropped = 0
    for r in order:
        d = inputs.days[r]
        if d > opts.days_per_week:
            dropped += 1
            continue
        rows[inputs.cities[r], d].append(r)
    if dropped:
        logger.warning("%d candidate(s) need more than days_per_week=%d days and are left out",
                       dropped, opts.days_per_week)
    groups = []
    for (city, d), members in sorted(rows.items()):
        teams_here = sum(1 for t in allowed if city in allowed[t])
        most = min(teams_here * opts.weeks * (opts.days_per_week // d), opts.team_days // d)
        if most > 0:
            groups.append(_Group(city, d, tuple(members[:most])))
    return groups


@dataclass
class _Built:
    model: cp_model.CpModel
    patterns: list[tuple[int, ...]]
    lengths: list[int]
    y: dict[int, cp_model.IntVar]
    q: dict[tuple[int, str, int], cp_model.IntVar]
    m: dict[tuple[int, str, int], cp_model.IntVar]
    groups: list[_Group]
    loads: dict[int, cp_model.IntVar]
    low: cp_model.IntVar
    high: cp_model.IntVar


def _build(inputs: PlanInputs, formation: TeamFormation, groups: list[_Group],
           allowed: dict[int, frozenset[str]], hint: InspectionPlan | None) -> _Built:
    opts = inputs.options
    weeks, per_week = opts.weeks, opts.days_per_week
    lengths = sorted({g.days for g in groups})
    patterns = week_patterns(lengths, per_week)
    cities = sorted({g.city for g in groups})
    size_of = {(g.city, g.days): len(g.rows) for g in groups}
    team_ids = [t.team_id for t in formation.teams]
    model = cp_model.CpModel()
    q: dict[tuple[int, str, int], cp_model.IntVar] = {}
    m: dict[tuple[int, str, int], cp_model.IntVar] = {}
    loads = []
    for k in team_ids:
        weeks_used = []
        load_terms = []
        for g in cities:
            if g not in allowed[k]:
                continue
            for p in range(len(patterns)):
                q[k, g, p] = model.new_int_var(0, weeks, f"q{k}_{g}_{p}")
                weeks_used.append(q[k, g, p])
            for j, d in enumerate(lengths):
                if (g, d) not in size_of:
                    continue
                m[k, g, d] = model.new_int_var(0, min(weeks * (per_week // d), size_of[g, d]),
                                               f"m{k}_{g}_{d}")
                model.add(m[k, g, d] <= sum(patterns[p][j] * q[k, g, p]
                                            for p in range(len(patterns))))
                load_terms.append(d * m[k, g, d])
        model.add(sum(weeks_used) <= weeks)
        load = model.new_int_var(0, weeks * per_week, f"load{k}")
        model.add(load == sum(load_terms))
        loads.append(load)
    y: dict[int, cp_model.IntVar] = {}
    for group in groups:
        ys = [model.new_bool_var(f"y{r}") for r in group.rows]
        y.update(zip(group.rows, ys, strict=True))
        for a, b in pairwise(ys):
            model.add_implication(b, a)
        visits_here = [m[k, group.city, group.days] for k in team_ids
                       if (k, group.city, group.days) in m]
        model.add(sum(ys) == sum(visits_here))
    low = model.new_int_var(0, weeks * per_week, "low")
    high = model.new_int_var(0, weeks * per_week, "high")
    model.add_min_equality(low, loads)
    model.add_max_equality(high, loads)
    model.add(high - low <= opts.max_spread_days)
    model.add(sum(loads) <= opts.team_days)
    same: dict[frozenset[str], list[int]] = defaultdict(list)
    for pos, k in enumerate(team_ids):
        same[allowed[k]].append(pos)
    for positions in same.values():
        for first, second in pairwise(positions):
            model.add(loads[first] >= loads[second])
    _add_city_cuts(model, inputs, groups, q, y, lengths, patterns, len(team_ids))
    model.maximize(sum(int(inputs.values[r]) * var for r, var in y.items()))
    built = _Built(model, patterns, lengths, y, q, m, groups,
                   dict(zip(team_ids, loads, strict=True)), low, high)
    if hint is not None:
        _add_hint(built, hint, inputs)
    return built


def _city_values(prefix: dict[int, list[int]], lengths: list[int],
                 patterns: list[tuple[int, ...]], n: int) -> int:
    """``F(n)``: the most value ``n`` weeks in one city (all teams together) can cover: over
    every multiset of ``n`` week patterns, the best candidates of each length up to the slots
    the patterns give that length (``prefix[d][j]``: value of the ``j`` best of length ``d``)."""
    best = 0
    for chosen in combinations_with_replacement(range(len(patterns)), n):
        value = 0
        for j, d in enumerate(lengths):
            if d in prefix:
                slots = sum(patterns[p][j] for p in chosen)
                value += prefix[d][min(slots, len(prefix[d]) - 1)]
        best = max(best, value)
    return best


def _upper_hull(values: list[int]) -> list[tuple[int, int]]:
    """The vertices of the least concave majorant of the points ``(n, values[n])``."""
    hull: list[tuple[int, int]] = []
    for point in enumerate(values):
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            # the middle point goes when it lies on or below the chord to the new point
            if (y2 - y1) * (point[0] - x1) <= (point[1] - y1) * (x2 - x1):
                hull.pop()
            else:
                break
        hull.append(point)
    return hull


def _add_city_cuts(model: cp_model.CpModel, inputs: PlanInputs, groups: list[_Group],
                   q: dict[tuple[int, str, int], cp_model.IntVar], y: dict[int, cp_model.IntVar],
                   lengths: list[int], patterns: list[tuple[int, ...]], n_teams: int) -> None:
    """Valid cuts that tighten the LP bound. ``F(n)`` (:func:`_city_values`) bounds the value
    covered in a city when ``n`` team-weeks are spent there; for whole ``n`` it is below its
    least concave majorant, so each majorant segment is a linear cut on (value covered, weeks
    there). Without them the relaxation can spend 0.6 of a week in a city and still cover its
    three best visits. ``F`` is tabulated until it reaches the city's whole value or the
    team-weeks there are, and skipped (no cut) for a city that needs more than
    ``_MAX_CUT_WEEKS`` weeks."""
    team_weeks = n_teams * inputs.options.weeks
    for city in sorted({g.city for g in groups}):
        weeks_here = sum(var for (_, g, _), var in q.items() if g == city)
        mine = [g for g in groups if g.city == city]
        prefix = {g.days: [0, *np.cumsum([int(inputs.values[r]) for r in g.rows]).tolist()]
                  for g in mine}
        whole = sum(p[-1] for p in prefix.values())
        values = [0]
        while values[-1] < whole and len(values) <= team_weeks:
            if len(values) > _MAX_CUT_WEEKS:
                break
            values.append(_city_values(prefix, lengths, patterns, len(values)))
        else:
            covered = sum(int(inputs.values[r]) * y[r] for g in mine for r in g.rows)
            for (x1, y1), (x2, y2) in pairwise(_upper_hull(values)):
                model.add((x2 - x1) * covered
                          <= (x2 - x1) * y1 + (y2 - y1) * (weeks_here - x1))


def _add_hint(built: _Built, plan: InspectionPlan, inputs: PlanInputs) -> None:
    """Hint a plan as counts: its visits per (team, city, length), its weeks as the patterns
    that hold them, and in each group the same number of visits taken from the top."""
    counts: dict[tuple[int, str, int], int] = defaultdict(int)
    week_counts: dict[tuple[int, int], list[int]] = {}
    week_city: dict[tuple[int, int], str] = {}
    for v in plan.visits:
        row = inputs.row_of[v.fixmedins_code]
        city, d = inputs.cities[row], v.days
        counts[v.team_id, city, d] += 1
        key = (v.team_id, v.week)
        week_city[key] = city
        week_counts.setdefault(key, [0] * len(built.lengths))
        if d in built.lengths:
            week_counts[key][built.lengths.index(d)] += 1
    weeks: dict[tuple[int, str, int], int] = defaultdict(int)
    for key, vector in week_counts.items():
        p = next((p for p, pattern in enumerate(built.patterns)
                  if all(pattern[j] >= n for j, n in enumerate(vector))), None)
        if p is not None:
            weeks[key[0], week_city[key], p] += 1
    for q_key, var in built.q.items():
        built.model.add_hint(var, weeks.get(q_key, 0))
    for m_key, var in built.m.items():
        built.model.add_hint(var, counts.get(m_key, 0))
    loads = plan.team_loads()
    for k, var in built.loads.items():
        built.model.add_hint(var, loads.get(k, 0))
    built.model.add_hint(built.low, min(loads.values(), default=0))
    built.model.add_hint(built.high, max(loads.values(), default=0))
    for group in built.groups:
        n = sum(counts.get((k, group.city, group.days), 0)
                for k in {key[0] for key in built.m})
        for pos, r in enumerate(group.rows):
            built.model.add_hint(built.y[r], pos < n)


def _decode(solver: cp_model.CpSolver, built: _Built, inputs: PlanInputs,
            formation: TeamFormation) -> list[Visit]:
    """Visits from the counts: each group's visited candidates go to teams in team order, each
    team's visits in a city fill that city's weeks by their patterns (longest visits first),
    and a team's cities follow a nearest-neighbour route from its members' home."""
    team_ids = [t.team_id for t in formation.teams]
    mine: dict[tuple[int, str], list[int]] = defaultdict(list)
    for group in built.groups:
        visited = [r for r in group.rows if solver.boolean_value(built.y[r])]
        for k in team_ids:
            var = built.m.get((k, group.city, group.days))
            n = solver.value(var) if var is not None else 0
            mine[k, group.city].extend(visited[:n])
            visited = visited[n:]
    visits: list[Visit] = []
    for team in formation.teams:
        k = team.team_id
        bins_by_city: dict[str, list[list[int]]] = {}
        for (kk, city), rows in sorted(mine.items()):
            if kk != k or not rows:
                continue
            bins: list[tuple[list[int], list[int]]] = []  # (room per length, rows)
            for p, pattern in enumerate(built.patterns):
                for _ in range(solver.value(built.q[k, city, p])):
                    bins.append((list(pattern), []))
            for r in sorted(rows, key=lambda r: (-inputs.days[r], r)):
                j = built.lengths.index(inputs.days[r])
                room, held = next(b for b in bins if b[0][j] > 0)
                room[j] -= 1
                held.append(r)
            bins_by_city[city] = [held for _, held in bins if held]
        week = 0
        for city in _route(list(bins_by_city), team, inputs):
            for held in bins_by_city[city]:
                week += 1
                visits.extend(Visit(inputs.codes[r], k, week, inputs.days[r]) for r in held)
    return visits


def _route(cities: list[str], team: Team, inputs: PlanInputs) -> list[str]:
    """Cities in nearest-neighbour order from the team's first member's home city (straight
    lines between division centroids)."""
    def where(code: str) -> tuple[float, float]:
        if is_known_division(code):
            d = division(code)
            return d.lon, d.lat
        return 0.0, 0.0

    first = inputs.inspector_by_id.get(team.members[0]) if team.members else None
    here = where(first.city) if first else (0.0, 0.0)
    left = sorted(cities)
    out = []
    while left:
        nxt = min(left, key=lambda c: (km_between(here, where(c)), c))
        out.append(nxt)
        left.remove(nxt)
        here = where(nxt)
    return out


