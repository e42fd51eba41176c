"""A warm start for the visit model that fills whole weeks (used as a CP-SAT hint)."""

from __future__ import annotations

import math
from collections import defaultdict

from yibao.inspection._cpsat import week_patterns
from yibao.inspection.plan import InspectionPlan, PlanInputs, TeamFormation, Visit

__all__ = ["week_filling_plan"]


def week_filling_plan(inputs: PlanInputs, formation: TeamFormation,
                  allowed: dict[int, frozenset[str]]) -> InspectionPlan:
    """A warm start that fills whole weeks: week by week, the least busy team takes the city
    where the best week it can still fill (over the patterns, within its share of the budget)
    is worth most; teams then lose their least valuable visits until loads are within
    ``max_spread_days``. Measured on 2,000 synthetic candidates: at or near the optimum when
    the budget fills every week, below greedy when the budget is small (both are tried)."""
    opts = inputs.options
    left: dict[tuple[str, int], list[int]] = defaultdict(list)
    for r in sorted(range(len(inputs.codes)),
                    key=lambda r: (-int(inputs.values[r]), inputs.codes[r])):
        if inputs.days[r] <= opts.days_per_week:
            left[inputs.cities[r], inputs.days[r]].append(r)
    lengths = sorted({d for _, d in left})
    cities = sorted({g for g, _ in left})
    team_ids = [t.team_id for t in formation.teams]
    share, extra = divmod(min(opts.team_days, len(team_ids) * opts.weeks * opts.days_per_week),
                          max(len(team_ids), 1))
    limit = {k: share + (1 if i < extra else 0) for i, k in enumerate(team_ids)}
    loads = dict.fromkeys(team_ids, 0)
    visits: list[Visit] = []
    for week in range(1, opts.weeks + 1):
        for k in sorted(loads, key=lambda k: (loads[k], k)):
            room = min(opts.days_per_week, limit[k] - loads[k])
            fitting = [d for d in lengths if d <= room]
            best: tuple[int, list[int]] = (0, [])
            for pattern in week_patterns(fitting, room) if fitting else []:
                for g in cities:
                    if g not in allowed[k]:
                        continue
                    rows = [r for d, n in zip(fitting, pattern, strict=True)
                            for r in left.get((g, d), [])[:n]]
                    value = sum(int(inputs.values[r]) for r in rows)
                    if value > best[0]:
                        best = (value, rows)
            for r in best[1]:
                left[inputs.cities[r], inputs.days[r]].remove(r)
                visits.append(Visit(inputs.codes[r], k, week, inputs.days[r]))
                loads[k] += inputs.days[r]
    while visits and max(loads.values()) - min(loads.values()) > opts.max_spread_days:
        k = max(loads, key=lambda k: (loads[k], k))
        drop = min((v for v in visits if v.team_id == k),
                   key=lambda v: (int(inputs.values[inputs.row_of[v.fixmedins_code]]),
                                  v.fixmedins_code))
        visits.remove(drop)
        loads[k] -= drop.days
    rows = [inputs.row_of[v.fixmedins_code] for v in visits]
    return InspectionPlan(
        formation=formation, visits=tuple(visits),
        objective=sum(int(inputs.values[r]) for r in rows), best_bound=math.nan,
        amount=sum(inputs.amounts[r] for r in rows), status="HEURISTIC", method="packed",
        wall_seconds=0.0)
