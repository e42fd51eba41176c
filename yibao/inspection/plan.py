"""The inspection plan (检查计划): its inputs, its result, and the validator every plan must pass.

:class:`PlanInputs` bundles the candidates (a frame, see :mod:`yibao.inspection.candidates`),
the inspectors and the :class:`PlanOptions`, and refuses inputs no plan can be made from with a
:class:`~yibao.errors.PlanError` listing every problem. An :class:`InspectionPlan` holds the
teams (which inspectors), the visits (which team visits which institution in which week), the
objective and, for the solver, its best bound and optimality gap.

:func:`check_plan` checks a plan against its inputs from scratch, with its own reading of the
rules (explicit weeks, explicit teams; it shares no code with the solver or the greedy
baseline): the tests run it on every plan, the benchmark on both plans it makes, and the
workbench page before it shows one.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import numpy.typing as npt
import pandas as pd

from yibao.divisions import PROVINCE_CODES, division, is_known_division
from yibao.errors import PlanError
from yibao.inspection.candidates import REQUIRED_CANDIDATE_COLUMNS, candidate_values
from yibao.inspection.inspectors import Inspector

__all__ = [
    "InspectionPlan",
    "PlanInputs",
    "PlanOptions",
    "Team",
    "TeamFormation",
    "Visit",
    "allowed_cities",
    "check_plan",
    "formation_from_teams",
    "plan_to_frame",
    "teams_to_frame",
]


@dataclass(frozen=True)
class PlanOptions:
    """How to plan.

    ``team_days``: the budget, total team-days (组·天) over all teams and weeks. ``weeks``: the
    period, in weeks. ``team_size``: inspectors per team. ``days_per_week``: working days in a
    team-week (its capacity). ``joint``: joint inspection (联合检查): every team has members
    from at least two provinces. ``cross_province``: 交叉互查 between provinces: a team never
    visits an institution in any member's province (without it, only members' cities are
    excluded; that rule always holds). ``max_spread_days``: workload balance: the busiest and
    the least busy team differ by at most this many team-days.
    """

    team_days: int
    weeks: int = 4
    team_size: int = 3
    days_per_week: int = 5
    joint: bool = True
    cross_province: bool = False
    max_spread_days: int = 2

    def problems(self) -> list[str]:
        """What is wrong with these options (empty when nothing is)."""
        out = [f"{name}={value}: must be at least {low}" for name, value, low in (
            ("team_days", self.team_days, 1), ("weeks", self.weeks, 1),
            ("team_size", self.team_size, 1), ("days_per_week", self.days_per_week, 1),
            ("max_spread_days", self.max_spread_days, 0),
        ) if value < low]
        if self.joint and self.team_size < 2:
            out.append(f"team_size={self.team_size}: a joint inspection team needs at least 2 "
                       "members (from two provinces); raise team_size or set joint=False")
        return out


@dataclass(frozen=True, eq=False)
class PlanInputs:
    """Candidates, inspectors and options, checked: a :class:`PlanError` lists every problem.

    ``candidates`` needs the columns :data:`~yibao.inspection.candidates.REQUIRED_CANDIDATE_COLUMNS`
    (code, city, province, risk in [0, 1], amount in yuan >= 0, days >= 1); it is copied, so
    changing the caller's frame later changes nothing here.
    """

    candidates: pd.DataFrame
    inspectors: tuple[Inspector, ...]
    options: PlanOptions

    def __post_init__(self) -> None:
        object.__setattr__(self, "candidates", self.candidates.reset_index(drop=True).copy())
        object.__setattr__(self, "inspectors", tuple(self.inspectors))
        problems = self.options.problems()
        problems += _candidate_problems(self.candidates, self.options)
        problems += _inspector_problems(self.inspectors, self.options)
        if problems:
            raise PlanError("cannot plan: " + "; ".join(problems))

    @cached_property
    def values(self) -> npt.NDArray[np.int64]:
        """Risk-weighted suspicious amount of each candidate row, whole yuan."""
        return candidate_values(self.candidates)

    @cached_property
    def codes(self) -> list[str]:
        """``fixmedins_code`` per candidate row."""
        return self.candidates["fixmedins_code"].astype(str).tolist()

    @cached_property
    def cities(self) -> list[str]:
        """City code per candidate row."""
        return self.candidates["city"].astype(str).tolist()

    @cached_property
    def provinces(self) -> list[str]:
        """Province code per candidate row."""
        return self.candidates["province"].astype(str).tolist()

    @cached_property
    def days(self) -> list[int]:
        """Team-days a visit takes, per candidate row."""
        return [int(d) for d in self.candidates["days"]]

    @cached_property
    def amounts(self) -> list[float]:
        """Suspicious amount (yuan) per candidate row."""
        return [float(a) for a in self.candidates["amount"]]

    @cached_property
    def row_of(self) -> dict[str, int]:
        """Candidate row number by ``fixmedins_code``."""
        return {c: i for i, c in enumerate(self.codes)}

    @cached_property
    def inspector_by_id(self) -> dict[str, Inspector]:
        """Inspectors by id."""
        return {i.inspector_id: i for i in self.inspectors}

    @property
    def n_teams(self) -> int:
        """How many teams the inspectors make: ``len(inspectors) // team_size``."""
        return len(self.inspectors) // self.options.team_size


def _candidate_problems(frame: pd.DataFrame, options: PlanOptions) -> list[str]:
    missing = [c for c in REQUIRED_CANDIDATE_COLUMNS if c not in frame.columns]
    if missing:
        return [f"candidates lack column(s) {', '.join(missing)} (columns found: "
                f"{', '.join(map(str, frame.columns))}); make them with candidates_from_store"]
    if frame.empty:
        return ["there are no candidate institutions: run detection first ('yibao detect') "
                "or widen the period or region"]
    out: list[str] = []
    codes = frame["fixmedins_code"].astype(str)
    repeated = sorted(codes[codes.duplicated()].unique())
    if repeated:
        out.append(f"candidate codes repeat: {', '.join(repeated[:5])}; keep one row each")
    risk = pd.to_numeric(frame["risk"], errors="coerce")
    bad = codes[~risk.between(0.0, 1.0)]
    if len(bad):
        out.append(f"risk must lie in [0, 1]: not so for {', '.join(bad[:5])}")
    amount = pd.to_numeric(frame["amount"], errors="coerce")
    bad = codes[~(amount >= 0.0)]
    if len(bad):
        out.append(f"amount (yuan) must be 0 or more: not so for {', '.join(bad[:5])}")
    days = pd.to_numeric(frame["days"], errors="coerce")
    bad = codes[~((days >= 1) & (days == days.round()))]
    if len(bad):
        out.append(f"days must be a whole number >= 1: not so for {', '.join(bad[:5])}")
    elif (days > options.days_per_week).all():
        out.append(f"every visit takes more than days_per_week={options.days_per_week} days: "
                   "raise days_per_week")
    city = frame["city"].astype(str)
    province = frame["province"].astype(str)
    bad = codes[~(city.str.fullmatch(r"\d{4}00") & (province == city.str[:2] + "0000"))]
    if len(bad):
        out.append("city must be a 6-digit city code and province its province code: not so "
                   f"for {', '.join(bad[:5])}")
    return out


def _inspector_problems(inspectors: tuple[Inspector, ...], options: PlanOptions) -> list[str]:
    if not inspectors:
        return ["there are no inspectors: pass a roster (one inspector a line)"]
    out: list[str] = []
    ids = Counter(i.inspector_id for i in inspectors)
    repeated = sorted(k for k, n in ids.items() if n > 1)
    if repeated:
        out.append(f"inspector ids repeat: {', '.join(repeated[:5])}")
    if len(inspectors) < options.team_size:
        out.append(f"{len(inspectors)} inspector(s) cannot make a team of "
                   f"team_size={options.team_size}: add inspectors or lower team_size")
    provinces = sorted({i.province for i in inspectors})
    if options.joint and len(provinces) < 2:
        out.append(f"joint inspection teams mix provinces, but every inspector is from "
                   f"{PROVINCE_CODES.get(provinces[0], provinces[0])}: add inspectors from "
                   "another province or set joint=False")
    bad = [i.inspector_id for i in inspectors
           if i.city[:2] != i.province[:2] or not i.city.endswith("00")]
    if bad:
        out.append(f"inspectors with a home city outside their province: {', '.join(bad[:5])}")
    return out


@dataclass(frozen=True)
class Team:
    """A team (检查组): ``team_id`` counts from 1; ``members`` are inspector ids."""

    team_id: int
    members: tuple[str, ...]


@dataclass(frozen=True)
class Visit:
    """Team ``team_id`` inspects ``fixmedins_code`` in ``week`` (1 = the first), for ``days``
    team-days."""

    fixmedins_code: str
    team_id: int
    week: int
    days: int


@dataclass(frozen=True)
class TeamFormation:
    """The teams and the inspectors left in reserve (备勤), with how they were chosen.

    ``excluded_value``: risk-weighted yuan of the candidates in the areas some team may not
    visit, summed over teams (what the team-forming model minimises); ``best_bound`` its lower
    bound; ``status``: the CP-SAT status, or ``GIVEN`` for teams passed in.
    """

    teams: tuple[Team, ...]
    reserve: tuple[str, ...] = ()
    excluded_value: int = 0
    best_bound: float = math.nan
    status: str = "GIVEN"
    wall_seconds: float = 0.0


@dataclass(frozen=True)
class InspectionPlan:
    """A plan: teams, visits and how good it is.

    ``objective``: risk-weighted suspicious amount covered, yuan (the sum of
    ``round(risk * amount)`` over visited institutions). ``best_bound``: no plan under these
    inputs and teams covers more (NaN for the greedy baseline). ``amount``: suspicious amount
    covered, yuan, unweighted. ``status``: ``OPTIMAL`` (proven), ``FEASIBLE`` (time limit hit;
    see :attr:`gap`) or ``HEURISTIC`` (greedy). ``wall_seconds``: time to make it, team
    formation included. ``solver_stats``: the solver's figures (seconds per stage, model size);
    ``progress``: (seconds, objective) at every improving solution the solver found.
    """

    formation: TeamFormation
    visits: tuple[Visit, ...]
    objective: int
    best_bound: float
    amount: float
    status: str
    method: str
    wall_seconds: float
    solver_stats: dict[str, float] = field(default_factory=dict)
    progress: tuple[tuple[float, int], ...] = ()

    @property
    def teams(self) -> tuple[Team, ...]:
        """The teams."""
        return self.formation.teams

    @property
    def reserve(self) -> tuple[str, ...]:
        """Inspectors in no team."""
        return self.formation.reserve

    @property
    def gap(self) -> float:
        """Relative optimality gap ``(best_bound - objective) / best_bound``: 0 when proven
        optimal, NaN when there is no bound (greedy)."""
        if math.isnan(self.best_bound):
            return math.nan
        if self.best_bound <= 0:
            return 0.0
        return max(0.0, (self.best_bound - self.objective) / self.best_bound)

    @property
    def days_used(self) -> int:
        """Team-days the visits take."""
        return sum(v.days for v in self.visits)

    def team_loads(self) -> dict[int, int]:
        """Team-days per team (every team, 0 for one without visits)."""
        loads = dict.fromkeys((t.team_id for t in self.teams), 0)
        for v in self.visits:
            loads[v.team_id] = loads.get(v.team_id, 0) + v.days
        return loads


def formation_from_teams(teams: TeamFormation | Sequence[Team],
                         inputs: PlanInputs) -> TeamFormation:
    """``teams`` as a :class:`TeamFormation` (status ``GIVEN``); everyone else is the reserve.
    Raises :class:`PlanError` when a team names an unknown inspector or one is in two teams."""
    given = teams.teams if isinstance(teams, TeamFormation) else tuple(teams)
    listed = [m for t in given for m in t.members]
    unknown = sorted(set(listed) - set(inputs.inspector_by_id))
    repeated = sorted(m for m, n in Counter(listed).items() if n > 1)
    if unknown or repeated:
        raise PlanError("the teams given "
                        + (f"name unknown inspectors {', '.join(unknown)}" if unknown else "")
                        + ("; " if unknown and repeated else "")
                        + (f"list {', '.join(repeated)} twice" if repeated else "")
                        + ": use ids from the roster, each in one team")
    if isinstance(teams, TeamFormation):
        return teams
    placed = set(listed)
    reserve = sorted(i.inspector_id for i in inputs.inspectors if i.inspector_id not in placed)
    return TeamFormation(teams=given, reserve=tuple(reserve))


def allowed_cities(team: Team, inputs: PlanInputs) -> frozenset[str]:
    """The cities (of candidates) team ``team`` may inspect: not a member's home city, nor,
    with ``cross_province``, in a member's province."""
    homes = [inputs.inspector_by_id[m] for m in team.members if m in inputs.inspector_by_id]
    cities = set(inputs.cities)
    if inputs.options.cross_province:
        banned = {h.province[:2] for h in homes}
        return frozenset(c for c in cities if c[:2] not in banned)
    return frozenset(cities - {h.city for h in homes})


def check_plan(plan: InspectionPlan, inputs: PlanInputs) -> list[str]:
    """Every rule ``plan`` breaks under ``inputs``, one sentence each; empty when it keeps all.

    Checked: teams have ``team_size`` known inspectors, nobody is in two teams, there are
    ``len(inspectors) // team_size`` teams and the reserve is everyone else; joint teams span
    two or more provinces; every visit is to a known candidate, at most once, by a known team in
    a week ``1..weeks`` taking the candidate's days; no team visits a member's home city (nor,
    with ``cross_province``, a member's province); each team-week stays in one city and within
    ``days_per_week``; all visits together take at most ``team_days``; team loads differ by at
    most ``max_spread_days``; ``objective`` and ``amount`` equal what the visits cover and do not
    exceed ``best_bound``.
    """
    opts = inputs.options
    by_id = inputs.inspector_by_id
    problems: list[str] = []

    members_of: dict[int, tuple[str, ...]] = {}
    seen: dict[str, int] = {}
    for team in plan.teams:
        if team.team_id in members_of:
            problems.append(f"team {team.team_id} appears twice")
        members_of[team.team_id] = team.members
        if len(team.members) != opts.team_size:
            problems.append(f"team {team.team_id} has {len(team.members)} members, not "
                            f"team_size={opts.team_size}")
        for m in team.members:
            if m not in by_id:
                problems.append(f"team {team.team_id}: unknown inspector {m!r}")
            elif m in seen:
                problems.append(f"inspector {m} is in teams {seen[m]} and {team.team_id}")
            else:
                seen[m] = team.team_id
        provinces = {by_id[m].province for m in team.members if m in by_id}
        if opts.joint and len(provinces) < 2:
            problems.append(f"team {team.team_id} is a joint team from one province only")
    if len(plan.teams) != inputs.n_teams:
        problems.append(f"{len(plan.teams)} teams, expected {inputs.n_teams}")
    if set(plan.reserve) != set(by_id) - set(seen) or len(plan.reserve) != len(set(plan.reserve)):
        problems.append("the reserve is not exactly the inspectors outside every team")

    visited: set[str] = set()
    week_city: dict[tuple[int, int], set[str]] = defaultdict(set)
    week_days: Counter[tuple[int, int]] = Counter()
    loads: Counter[int] = Counter({t: 0 for t in members_of})
    objective, amount = 0, 0.0
    for v in plan.visits:
        row = inputs.row_of.get(v.fixmedins_code)
        if row is None:
            problems.append(f"visit to {v.fixmedins_code}, which is not a candidate")
            continue
        if v.fixmedins_code in visited:
            problems.append(f"{v.fixmedins_code} is visited more than once")
        visited.add(v.fixmedins_code)
        city, province = inputs.cities[row], inputs.provinces[row]
        if v.days != inputs.days[row]:
            problems.append(f"visit to {v.fixmedins_code} takes {v.days} days, the candidate "
                            f"needs {inputs.days[row]}")
        if not 1 <= v.week <= opts.weeks:
            problems.append(f"visit to {v.fixmedins_code} in week {v.week}, outside "
                            f"1..{opts.weeks}")
        if v.team_id not in members_of:
            problems.append(f"visit to {v.fixmedins_code} by unknown team {v.team_id}")
        for m in members_of.get(v.team_id, ()):
            home = by_id.get(m)
            if home is None:
                continue
            if home.city == city:
                problems.append(f"team {v.team_id} visits {v.fixmedins_code} in {city}, the "
                                f"home city of member {m}")
            elif opts.cross_province and home.province == province:
                problems.append(f"team {v.team_id} visits {v.fixmedins_code} in province "
                                f"{province}, the home province of member {m}")
        week_city[v.team_id, v.week].add(city)
        week_days[v.team_id, v.week] += v.days
        loads[v.team_id] += v.days
        objective += int(inputs.values[row])
        amount += inputs.amounts[row]
    for (team_id, week), cities in sorted(week_city.items()):
        if len(cities) > 1:
            problems.append(f"team {team_id} is in {len(cities)} cities in week {week} "
                            f"({', '.join(sorted(cities))}); a team-week stays in one city")
        if week_days[team_id, week] > opts.days_per_week:
            problems.append(f"team {team_id} works {week_days[team_id, week]} days in week "
                            f"{week}, more than days_per_week={opts.days_per_week}")
    total = sum(v.days for v in plan.visits)
    if total > opts.team_days:
        problems.append(f"the visits take {total} team-days, more than team_days="
                        f"{opts.team_days}")
    if loads:
        spread = max(loads.values()) - min(loads.values())
        if spread > opts.max_spread_days:
            problems.append(f"team loads differ by {spread} days (from {min(loads.values())} to "
                            f"{max(loads.values())}), more than max_spread_days="
                            f"{opts.max_spread_days}")
    if objective != plan.objective:
        problems.append(f"objective {plan.objective} is not the {objective} yuan the visits "
                        "cover")
    if not math.isclose(amount, plan.amount, rel_tol=1e-9, abs_tol=0.01):
        problems.append(f"amount {plan.amount:.2f} is not the {amount:.2f} yuan the visits cover")
    if not math.isnan(plan.best_bound) and plan.objective > plan.best_bound + 0.5:
        problems.append(f"objective {plan.objective} exceeds the best bound {plan.best_bound}")
    return problems


def _division_name(code: str) -> str:
    return division(code).name if is_known_division(code) else code


def plan_to_frame(plan: InspectionPlan, inputs: PlanInputs) -> pd.DataFrame:
    """One row per visit, by team, week and code: team_id, week, the candidate's columns, its
    ``value`` (risk-weighted yuan) and ``city_name``/``county_name``."""
    rows = [inputs.row_of[v.fixmedins_code] for v in plan.visits]
    frame = inputs.candidates.iloc[rows].reset_index(drop=True)
    frame.insert(0, "week", [v.week for v in plan.visits])
    frame.insert(0, "team_id", [v.team_id for v in plan.visits])
    frame["value"] = inputs.values[rows] if rows else np.zeros(0, dtype=np.int64)
    frame["city_name"] = frame["city"].astype(str).map(_division_name)
    if "county" in frame.columns:
        frame["county_name"] = frame["county"].astype(str).map(_division_name)
    return frame.sort_values(["team_id", "week", "fixmedins_code"]).reset_index(drop=True)


def teams_to_frame(plan: InspectionPlan, inputs: PlanInputs) -> pd.DataFrame:
    """One row per team: team_id, member ids and names, their provinces and cities (names),
    visits, team-days, suspicious amount (yuan) and risk-weighted amount (yuan) covered."""
    by_id = inputs.inspector_by_id
    visits = plan_to_frame(plan, inputs)
    rows = []
    for team in plan.teams:
        mine = visits[visits["team_id"] == team.team_id]
        members = [by_id[m] for m in team.members if m in by_id]
        rows.append({
            "team_id": team.team_id,
            "members": "、".join(team.members),
            "names": "、".join(m.name for m in members),
            "provinces": "、".join(sorted({PROVINCE_CODES.get(m.province, m.province)
                                          for m in members})),
            "cities": "、".join(sorted({_division_name(m.city) for m in members})),
            "visits": len(mine),
            "days": int(mine["days"].sum()),
            "amount": float(mine["amount"].sum()),
            "value": int(mine["value"].sum()),
        })
    return pd.DataFrame(rows, columns=["team_id", "members", "names", "provinces", "cities",
                                       "visits", "days", "amount", "value"])
