"""The greedy baseline (贪心基线): how a plan is made in a spreadsheet today.

Sort the candidates by risk-weighted suspicious amount (``round(risk * amount)``, most first;
ties by code), and give each to the first team-week that may take it: teams from the least
busy (then by team number), weeks in order. A team-week may take a candidate when the team may
visit its city (no member's home city; with ``cross_province`` no member's province), the week
is empty or already in that city, the visit fits the week's days, the budget has the days left,
and the team's load after it stays within ``max_spread_days`` of the least busy team. Those are
the solver's rules, so :func:`~yibao.inspection.plan.check_plan` holds for both. No bound:
``best_bound`` and ``gap`` are NaN.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

from yibao.inspection.plan import (
    InspectionPlan,
    PlanInputs,
    Team,
    TeamFormation,
    Visit,
    allowed_cities,
    formation_from_teams,
)

__all__ = ["greedy_plan"]


def greedy_plan(
    inputs: PlanInputs,
    *,
    teams: TeamFormation | Sequence[Team] | None = None,
) -> InspectionPlan:
    """The greedy plan for ``inputs`` (rules in the module docstring) on ``teams``, by default
    the teams the solver's first stage forms (:func:`~yibao.inspection.model.form_teams`), so
    that the two plans differ only in how visits are assigned."""
    start = time.perf_counter()
    opts = inputs.options
    if teams is None:
        from yibao.inspection.teams import form_teams

        formation = form_teams(inputs)
    else:
        formation = formation_from_teams(teams, inputs)
    allowed = {t.team_id: allowed_cities(t, inputs) for t in formation.teams}
    codes, cities, days = inputs.codes, inputs.cities, inputs.days
    order = sorted(range(len(codes)), key=lambda r: (-int(inputs.values[r]), codes[r]))

    loads = dict.fromkeys(allowed, 0)
    week_city: dict[tuple[int, int], str] = {}
    week_days: dict[tuple[int, int], int] = {}
    used = 0
    visits: list[Visit] = []
    for r in order:
        d = days[r]
        if used + d > opts.team_days or d > opts.days_per_week:
            continue
        least = min(loads.values())
        for k in sorted(loads, key=lambda k: (loads[k], k)):
            if cities[r] not in allowed[k] or loads[k] + d - least > opts.max_spread_days:
                continue
            week = next((w for w in range(1, opts.weeks + 1)
                         if week_city.get((k, w), cities[r]) == cities[r]
                         and week_days.get((k, w), 0) + d <= opts.days_per_week), None)
            if week is None:
                continue
            week_city[k, week] = cities[r]
            week_days[k, week] = week_days.get((k, week), 0) + d
            loads[k] += d
            used += d
            visits.append(Visit(codes[r], k, week, d))
            break
    visits.sort(key=lambda v: (v.team_id, v.week, v.fixmedins_code))
    rows = [inputs.row_of[v.fixmedins_code] for v in visits]
    return InspectionPlan(
        formation=formation,
        visits=tuple(visits),
        objective=int(sum(int(inputs.values[r]) for r in rows)),
        best_bound=math.nan,
        amount=sum(inputs.amounts[r] for r in rows),
        status="HEURISTIC",
        method="greedy",
        wall_seconds=time.perf_counter() - start,
    )
