"""Inspection plans (检查计划) for the workbench: candidates narrowed to the chosen area, a
roster from an uploaded CSV, the plan's figures against the greedy baseline, and each team's
route (visits in order) for the map.

The planning itself is :mod:`yibao.inspection` (candidates from the store, the CP-SAT model,
the greedy baseline, the validator); nothing here imports Streamlit or plotly.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from yibao.divisions import division, division_name, is_known_division
from yibao.geo import km_between
from yibao.i18n import Lang, list_join
from yibao.inspection import InspectionPlan, Inspector, PlanInputs, inspectors_from_csv
from yibao.inspection.inspectors import inspectors_to_frame
from yibao.inspection.plan import plan_to_frame, teams_to_frame

__all__ = [
    "PlanFigures",
    "candidates_in",
    "inspectors_from_upload",
    "plan_figures",
    "roster_frame",
    "roster_rows",
    "team_routes",
    "teams_frame",
]


def candidates_in(candidates: pd.DataFrame, *, provinces: Sequence[str] = (),
                  cities: Sequence[str] = ()) -> pd.DataFrame:
    """The candidates in the chosen provinces and cities (6-digit codes; empty: everywhere),
    renumbered from 0."""
    keep = pd.Series(True, index=candidates.index)
    if provinces:
        keep &= candidates["province"].astype(str).isin(list(provinces))
    if cities:
        keep &= candidates["city"].astype(str).isin(list(cities))
    return candidates[keep].reset_index(drop=True)


def inspectors_from_upload(data: bytes, name: str = "roster.csv") -> tuple[Inspector, ...]:
    """Inspectors from the bytes of an uploaded CSV roster (see
    :func:`yibao.inspection.inspectors_from_csv` for the columns; its errors name the bad
    rows)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(name).name or "roster.csv")
        path.write_bytes(data)
        return inspectors_from_csv(path)


def roster_rows(inspectors: Sequence[Inspector]) -> tuple[tuple[str, str, str, str], ...]:
    """Inspectors as plain (id, name, province, city) tuples: a cache key and back."""
    return tuple((i.inspector_id, i.name, i.province, i.city) for i in inspectors)


@dataclass(frozen=True)
class PlanFigures:
    """How good a plan is. Money in yuan; ``value`` is the risk-weighted suspicious amount
    (``round(risk * amount)``) the solver maximises.

    ``coverage``: value covered / value of every candidate; ``amount_share``: suspicious amount
    covered / all; ``gap``: relative optimality gap (NaN without a bound); ``vs_greedy``: how
    much more value the plan covers than the greedy baseline on the same teams (0.05 = 5 %
    more; NaN when greedy covers nothing).
    """

    status: str
    objective: int
    best_bound: float
    gap: float
    total_value: int
    coverage: float
    amount: float
    total_amount: float
    amount_share: float
    greedy_objective: int
    vs_greedy: float
    visits: int
    days_used: int
    team_days: int
    teams: int
    reserve: int
    wall_seconds: float


def plan_figures(plan: InspectionPlan, greedy: InspectionPlan, inputs: PlanInputs
                 ) -> PlanFigures:
    """The figures of ``plan`` for ``inputs``, compared with the ``greedy`` plan."""
    total_value = int(inputs.values.sum())
    total_amount = float(sum(inputs.amounts))
    return PlanFigures(
        status=plan.status, objective=plan.objective, best_bound=plan.best_bound,
        gap=plan.gap, total_value=total_value,
        coverage=plan.objective / total_value if total_value else 0.0,
        amount=plan.amount, total_amount=total_amount,
        amount_share=plan.amount / total_amount if total_amount else 0.0,
        greedy_objective=greedy.objective,
        vs_greedy=(plan.objective / greedy.objective - 1.0) if greedy.objective else math.nan,
        visits=len(plan.visits), days_used=plan.days_used,
        team_days=inputs.options.team_days, teams=len(plan.teams),
        reserve=len(plan.reserve), wall_seconds=plan.wall_seconds,
    )


def _where(code: str) -> tuple[float, float]:
    if is_known_division(code):
        d = division(code)
        return d.lon, d.lat
    return math.nan, math.nan


def team_routes(plan: InspectionPlan, inputs: PlanInputs, *, lang: Lang = "zh"
                ) -> pd.DataFrame:
    """Every visit of ``plan`` with its place in the team's route: the columns of
    :func:`yibao.inspection.plan.plan_to_frame` (team_id, week, the candidate's columns,
    ``value``, ``city_name``, ``county_name``, names in ``lang``) plus ``stop`` (1, 2, … per
    team), ``leg_km`` (straight-line km from the previous stop; from the first member's home
    city for the first) and ``home_lon`` / ``home_lat`` (that home). Weeks come in order;
    within a week the team goes to the nearest institution not yet visited. Institutions
    without coordinates stand at their county's centroid."""
    frame = plan_to_frame(plan, inputs)
    cols = [*frame.columns, "stop", "leg_km", "home_lon", "home_lat"]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    if "lon" not in frame.columns:
        frame["lon"], frame["lat"] = math.nan, math.nan
    places = frame["county"] if "county" in frame.columns else frame["city"]
    centre = places.astype(str).map(_where)
    frame["lon"] = frame["lon"].astype(float).fillna(centre.map(lambda p: p[0]))
    frame["lat"] = frame["lat"].astype(float).fillna(centre.map(lambda p: p[1]))
    first_home = {t.team_id: _where(inputs.inspector_by_id[t.members[0]].city)
                  for t in plan.teams if t.members and t.members[0] in inputs.inspector_by_id}
    lon = [float(x) for x in frame["lon"]]
    lat = [float(y) for y in frame["lat"]]
    code = [str(c) for c in frame["fixmedins_code"]]
    teams = [int(k) for k in frame["team_id"]]
    weeks = [int(w) for w in frame["week"]]
    order: list[int] = []
    legs: list[float] = []
    homes: list[tuple[float, float]] = []

    def km(at: tuple[float, float], i: int) -> float:
        return 0.0 if math.isnan(at[0]) else km_between(at, (lon[i], lat[i]))

    for team_id in sorted(set(teams)):
        home = first_home.get(team_id, (math.nan, math.nan))
        here = home
        for week in sorted({weeks[i] for i in range(len(teams)) if teams[i] == team_id}):
            left = [i for i in range(len(teams)) if teams[i] == team_id and weeks[i] == week]
            while left:
                start = here
                nxt = min(left, key=lambda i: (km(start, i), code[i]))
                left.remove(nxt)
                legs.append(round(km(here, nxt), 1))
                homes.append(home)
                order.append(nxt)
                here = (lon[nxt], lat[nxt])
    out = frame.loc[order].reset_index(drop=True)
    out["stop"] = out.groupby("team_id").cumcount() + 1
    out["leg_km"] = legs
    out["home_lon"] = [h[0] for h in homes]
    out["home_lat"] = [h[1] for h in homes]
    for level in ("city", "county"):
        if level in out.columns:
            out[f"{level}_name"] = out[level].astype(str).map(lambda c: division_name(c, lang))
    return out[cols]


def teams_frame(plan: InspectionPlan, inputs: PlanInputs, *, lang: Lang = "zh"
                ) -> pd.DataFrame:
    """:func:`yibao.inspection.plan.teams_to_frame` with the members' names, provinces and
    cities listed in ``lang`` (the persons' names as the roster spells them)."""
    teams = teams_to_frame(plan, inputs)
    if lang == "zh" or teams.empty:
        return teams
    by_id = inputs.inspector_by_id
    members = [[by_id[m] for m in t.members if m in by_id] for t in plan.teams]

    def listed(codes: set[str]) -> str:
        return list_join(sorted(division_name(c, lang) for c in codes), lang)

    return teams.assign(
        members=[list_join(list(t.members), lang) for t in plan.teams],
        names=[list_join([m.name for m in team], lang) for team in members],
        provinces=[listed({m.province for m in team}) for team in members],
        cities=[listed({m.city for m in team}) for team in members],
    )


def roster_frame(inspectors: tuple[Inspector, ...], *, lang: Lang = "zh") -> pd.DataFrame:
    """:func:`yibao.inspection.inspectors.inspectors_to_frame` with ``province_name`` and
    ``city_name`` in ``lang``."""
    frame = inspectors_to_frame(inspectors)
    if lang == "zh":
        return frame
    return frame.assign(province_name=frame["province"].map(lambda c: division_name(c, lang)),
                        city_name=frame["city"].map(lambda c: division_name(c, lang)))
