"""Stage 1 of the inspection plan: forming the teams (组建检查组), with OR-Tools CP-SAT.

Inspectors ``I``, ``K = |I| // s`` teams of ``s = team_size``; the rest are the reserve (备勤). An
*area* is a city (a province with ``cross_province``): inspectors from one area are
interchangeable for every later rule, so the model counts them. ``n_a`` inspectors come from
area ``a``; ``V_a`` is the risk-weighted yuan of the candidates in ``a``, which a team with a
member from ``a`` may not visit; ``cap = s - 1`` for joint teams (no team is all from one
province), else ``s``.

- ``c[k,a]`` in 0..min(cap, n_a): members of team ``k`` from area ``a``;
  ``sum_a c[k,a] = s``; ``sum_k c[k,a] <= n_a``.
- joint: ``sum_{a in province P} c[k,a] <= s - 1`` for every province ``P``.
- ``e[k,a]`` in {0,1}: team ``k`` has a member from ``a``: ``e[k,a] <= c[k,a] <= cap *
  e[k,a]``.
- **minimise** ``sum_{k,a} V_a * e[k,a]``: the value the teams are shut out of, which keeps
  same-city colleagues together and spreads the rest.
- Symmetry and bound: team costs ``sum_a V_a * e[k,a]`` are non-increasing in ``k`` (teams are
  interchangeable); valid cuts ``sum_k e[k,a] >= ceil((n_a - reserve) / cap)`` (an area's
  members fill that many teams) and ``sum_a e[k,a] >= ceil(s / cap)`` (a team spans that many
  areas). With them the LP bound is usually the optimum: measured on 8 rosters of 60, every
  one proven optimal in 0.02 to 2 s.
- Hint: each area's inspectors in as few blocks of ``cap`` as possible, packed into teams
  largest first (a block is split when they do not pack).

Stage 2 (:mod:`yibao.inspection.model`) then assigns visits exactly for these teams.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from itertools import pairwise

from ortools.sat.python import cp_model

from yibao.errors import PlanError
from yibao.inspection._cpsat import STATUS_OK, cp_solver
from yibao.inspection.inspectors import Inspector
from yibao.inspection.plan import PlanInputs, Team, TeamFormation

__all__ = ["form_teams"]


def _area(code: str, cross_province: bool) -> str:
    return code[:2] + "0000" if cross_province else code


def form_teams(
    inputs: PlanInputs,
    *,
    time_limit: float = 10.0,
    seed: int = 0,
    workers: int = 2,
    deterministic: bool = False,
) -> TeamFormation:
    """The teams that are shut out of the least risk-weighted value (model in the module
    docstring). Raises :class:`PlanError` when no such teams exist (joint teams from too
    few provinces) or none is found within ``time_limit`` seconds."""
    start = time.perf_counter()
    opts = inputs.options
    inspectors = sorted(inputs.inspectors, key=lambda i: i.inspector_id)
    n_teams, size = inputs.n_teams, opts.team_size
    area_value: dict[str, int] = defaultdict(int)
    for city, value, d in zip(inputs.cities, inputs.values, inputs.days, strict=True):
        if d <= opts.days_per_week:
            area_value[_area(city, opts.cross_province)] += int(value)

    ids_in: dict[str, list[str]] = defaultdict(list)
    for person in inspectors:
        ids_in[_area(person.city, opts.cross_province)].append(person.inspector_id)
    areas = sorted(ids_in)
    provinces = sorted({a[:2] for a in areas})
    cap = size - 1 if opts.joint else size
    reserve = len(inspectors) - n_teams * size
    dealt = sorted(_packed_teams(ids_in, area_value, n_teams, size, cap, opts.joint)
                   or _dealt_teams(inspectors, n_teams, opts.cross_province),
                   key=lambda team: -sum(area_value.get(a, 0) for a in team))

    model = cp_model.CpModel()
    c = {(k, a): model.new_int_var(0, min(cap, len(ids_in[a])), f"c{k}_{a}")
         for k in range(n_teams) for a in areas}
    e = {(k, a): model.new_bool_var(f"e{k}_{a}") for k in range(n_teams) for a in areas}
    costs = []
    for k in range(n_teams):
        model.add(sum(c[k, a] for a in areas) == size)
        if opts.joint:
            for p in provinces:
                model.add(sum(c[k, a] for a in areas if a[:2] == p) <= size - 1)
        # a team of s with at most cap from one area spans at least ceil(s / cap) areas
        model.add(sum(e[k, a] for a in areas) >= -(-size // cap))
        cost = model.new_int_var(0, sum(area_value.values()), f"cost{k}")
        model.add(cost == sum(area_value.get(a, 0) * e[k, a] for a in areas))
        costs.append(cost)
        for a in areas:
            model.add(e[k, a] <= c[k, a])
            model.add(c[k, a] <= cap * e[k, a])
            model.add_hint(e[k, a], dealt[k].get(a, 0) > 0)
            model.add_hint(c[k, a], dealt[k].get(a, 0))
        model.add_hint(cost, sum(area_value.get(a, 0) for a in dealt[k]))
    for a in areas:
        model.add(sum(c[k, a] for k in range(n_teams)) <= len(ids_in[a]))
        # Valid cut: the members from a outside the reserve fill ceil(n / cap) teams.
        need = -(-max(0, len(ids_in[a]) - reserve) // cap)
        model.add(sum(e[k, a] for k in range(n_teams)) >= need)
    for first, second in pairwise(costs):
        model.add(first >= second)
    model.minimize(sum(costs))

    solver = cp_solver(time_limit, seed, workers, deterministic)
    status = solver.solve(model)
    if status == cp_model.INFEASIBLE:
        per_province: dict[str, int] = defaultdict(int)
        for person in inspectors:
            per_province[person.province] += 1
        listed = ", ".join(f"{p}: {n}" for p, n in sorted(per_province.items()))
        raise PlanError(
            f"cannot form {n_teams} joint teams of {size} that each mix two provinces from "
            f"these inspectors ({listed}): add inspectors from other provinces, lower "
            "team_size, or plan without joint teams"
        )
    if status not in STATUS_OK:
        raise PlanError(f"no teams found within {time_limit:g} s "
                        f"({solver.status_name(status)}): raise the time limit")
    left = {a: list(ids) for a, ids in ids_in.items()}
    chosen: dict[int, list[str]] = defaultdict(list)
    for k in range(n_teams):
        for a in areas:
            n = solver.value(c[k, a])
            chosen[k].extend(left[a][:n])
            left[a] = left[a][n:]
    teams = tuple(Team(k + 1, tuple(sorted(chosen[k]))) for k in range(n_teams))
    placed = {m for t in teams for m in t.members}
    return TeamFormation(
        teams=teams,
        reserve=tuple(i.inspector_id for i in inspectors if i.inspector_id not in placed),
        excluded_value=round(solver.objective_value),
        best_bound=solver.best_objective_bound,
        status=solver.status_name(status),
        wall_seconds=time.perf_counter() - start,
    )


def _packed_teams(ids_in: dict[str, list[str]], area_value: dict[str, int], n_teams: int,
                  size: int, cap: int, joint: bool) -> list[Counter[str]] | None:
    """The hint for stage 1, as members per area: each area's inspectors in as few blocks of
    at most ``cap`` as possible, the reserve taken from single-member blocks of the most
    valuable areas, then the blocks packed into teams (:func:`_pack`). When they do not pack,
    the block of the least valuable area among the largest is split in two and packing is
    tried again. None when that does not help either."""
    blocks: list[tuple[str, int]] = []
    for a, ids in ids_in.items():
        n = len(ids)
        blocks += [(a, cap)] * (n // cap) + ([(a, n % cap)] if n % cap else [])
    surplus = sum(n for _, n in blocks) - n_teams * size
    blocks.sort(key=lambda b: (b[1] != 1, -area_value.get(b[0], 0), b[0]))
    while surplus > 0 and blocks:
        a, n = blocks.pop(0)
        take = min(n, surplus)
        surplus -= take
        if n > take:
            blocks.append((a, n - take))
    for _ in range(len(blocks) * size):
        packed = _pack(blocks, area_value, n_teams, size, joint)
        if packed is not None:
            return packed
        largest = max(n for _, n in blocks)
        if largest == 1:
            return None
        a, n = min((b for b in blocks if b[1] == largest),
                   key=lambda b: (area_value.get(b[0], 0), b[0]))
        blocks.remove((a, n))
        blocks += [(a, n - 1), (a, 1)]
    return None


def _pack(blocks: list[tuple[str, int]], area_value: dict[str, int], n_teams: int,
          size: int, joint: bool) -> list[Counter[str]] | None:
    """Blocks (area, members) into teams, largest first, each into the fullest team that can
    hold it without a second block of its area and, for joint teams, without filling a team
    from one province; among equal blocks, from the province with the most left (so the last
    teams still find two provinces). None when a block finds no team."""
    teams = [Counter[str]() for _ in range(n_teams)]
    left = sorted(blocks, key=lambda b: (-b[1], -area_value.get(b[0], 0), b[0]))
    while left:
        per_province = Counter(a[:2] for a, n in left if n == left[0][1])
        a, n = min((b for b in left if b[1] == left[0][1]),
                   key=lambda b: (-per_province[b[0][:2]], -area_value.get(b[0], 0), b[0]))
        left.remove((a, n))
        fits = [t for t in teams if t.total() + n <= size and a not in t
                and not (joint and t.total() + n == size and all(b[:2] == a[:2] for b in t))]
        if not fits:
            return None
        max(fits, key=lambda t: t.total())[a] += n
    return teams


def _dealt_teams(inspectors: list[Inspector], n_teams: int,
                 cross_province: bool) -> list[Counter[str]]:
    """The hint for stage 1, as members per area: inspectors sorted by province dealt
    round-robin (that mixes provinces when no province has most of them)."""
    order = sorted(inspectors, key=lambda i: (i.province, i.inspector_id))
    size = len(order) // max(n_teams, 1)
    dealt = [Counter[str]() for _ in range(n_teams)]
    for pos, person in enumerate(order[: n_teams * size]):
        dealt[pos % n_teams][_area(person.city, cross_province)] += 1
    return dealt
