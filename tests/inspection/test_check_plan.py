"""``check_plan`` finds every broken rule, and ``PlanInputs`` refuses unusable inputs."""

from __future__ import annotations

import math
from dataclasses import replace

import pandas as pd
import pytest

from yibao.errors import PlanError
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

# Two teams of two; candidates in 南京 320100, 苏州 320500, 合肥 340100, 阜阳 341200, 杭州 330100.
INSPECTORS = (
    Inspector("A", "甲", "320000", "320100"),
    Inspector("B", "乙", "340000", "341200"),
    Inspector("C", "丙", "320000", "320500"),
    Inspector("D", "丁", "330000", "330100"),
    Inspector("E", "戊", "340000", "340100"),
)
CANDIDATES = pd.DataFrame({
    "fixmedins_code": ["H1", "P2", "P3", "H4", "P5", "P6"],
    "city": ["320100", "320500", "340100", "341200", "330100", "340100"],
    "province": ["320000", "320000", "340000", "340000", "330000", "340000"],
    "risk": [0.5, 1.0, 0.25, 0.8, 0.1, 0.4],
    "amount": [1000.0, 300.0, 800.0, 5000.0, 100.0, 50.0],
    "days": [2, 1, 1, 2, 1, 1],
})
OPTIONS = PlanOptions(team_days=6, weeks=2, team_size=2, days_per_week=3, max_spread_days=1)
TEAMS = TeamFormation(teams=(Team(1, ("A", "B")), Team(2, ("C", "D"))), reserve=("E",))


def _inputs(options: PlanOptions = OPTIONS) -> PlanInputs:
    return PlanInputs(CANDIDATES, INSPECTORS, options)


def _plan(visits: list[Visit], formation: TeamFormation = TEAMS,
          inputs: PlanInputs | None = None, **changes: object) -> InspectionPlan:
    inputs = inputs or _inputs()
    rows = [inputs.row_of[v.fixmedins_code] for v in visits if v.fixmedins_code in inputs.row_of]
    plan = InspectionPlan(
        formation=formation, visits=tuple(visits),
        objective=int(sum(inputs.values[r] for r in rows)), best_bound=math.nan,
        amount=float(sum(CANDIDATES.at[r, "amount"] for r in rows)), status="TEST",
        method="hand", wall_seconds=0.0)
    return replace(plan, **changes)  # type: ignore[arg-type]


GOOD = [Visit("P2", 1, 1, 1), Visit("P3", 1, 2, 1), Visit("P6", 1, 2, 1), Visit("H4", 2, 1, 2)]


def test_a_plan_that_keeps_every_rule_passes() -> None:
    assert check_plan(_plan(GOOD), _inputs()) == []
    assert check_plan(_plan([]), _inputs()) == []


@pytest.mark.parametrize(
    ("visits", "formation", "message"),
    [
        ([Visit("H1", 1, 1, 2)], TEAMS, "home city of member A"),
        ([Visit("P2", 2, 1, 1)], TEAMS, "home city of member C"),
        ([Visit("P2", 1, 1, 1), Visit("P2", 1, 2, 1)], TEAMS, "visited more than once"),
        ([Visit("P2", 1, 1, 1), Visit("P3", 1, 1, 1)], TEAMS, "2 cities in week 1"),
        ([Visit("P3", 1, 1, 1), Visit("P6", 1, 1, 1), Visit("H4", 2, 1, 2),
          Visit("H1", 2, 2, 2), Visit("P2", 1, 2, 1)], TEAMS, "7 team-days, more than team_days=6"),
        ([Visit("H4", 2, 1, 2), Visit("H1", 2, 2, 2)], TEAMS, "differ by 4 days (from 0 to 4)"),
        ([Visit("P5", 2, 1, 1)], TEAMS, "home city of member D"),
        ([Visit("P2", 1, 3, 1)], TEAMS, "week 3, outside 1..2"),
        ([Visit("P2", 1, 1, 2)], TEAMS, "takes 2 days, the candidate needs 1"),
        ([Visit("X9", 1, 1, 1)], TEAMS, "not a candidate"),
        ([Visit("P2", 7, 1, 1)], TEAMS, "unknown team 7"),
        ([], TeamFormation((Team(1, ("A", "C")), Team(2, ("B", "D"))), ("E",)),
         "team 1 is a joint team from one province only"),
        ([], TeamFormation((Team(1, ("A", "B")), Team(2, ("B", "D"))), ("C", "E")),
         "inspector B is in teams 1 and 2"),
        ([], TeamFormation((Team(1, ("A", "B", "E")), Team(2, ("C", "D"))), ()),
         "team 1 has 3 members"),
        ([], TeamFormation((Team(1, ("A", "B")),), ("C", "D", "E")), "1 teams, expected 2"),
        ([], TeamFormation(TEAMS.teams, ()), "the reserve is not exactly"),
        ([], TeamFormation((Team(1, ("A", "Z")), Team(2, ("C", "D"))), ("B", "E")),
         "unknown inspector 'Z'"),
    ],
)
def test_each_broken_rule_is_named(visits: list[Visit], formation: TeamFormation,
                                   message: str) -> None:
    problems = check_plan(_plan(visits, formation), _inputs())
    assert any(message in p for p in problems), problems


def test_week_capacity_is_checked() -> None:
    inputs = _inputs(replace(OPTIONS, days_per_week=1, max_spread_days=5))
    apart = [Visit("P3", 2, 1, 1), Visit("P6", 2, 2, 1), Visit("P5", 1, 1, 1)]
    assert check_plan(_plan(apart, inputs=inputs), inputs) == []
    together = [Visit("P3", 2, 1, 1), Visit("P6", 2, 1, 1), Visit("P5", 1, 1, 1)]
    problems = check_plan(_plan(together, inputs=inputs), inputs)
    assert problems == ["team 2 works 2 days in week 1, more than days_per_week=1"]


def test_cross_province_keeps_teams_out_of_member_provinces() -> None:
    inputs = _inputs(replace(OPTIONS, cross_province=True))
    problems = check_plan(_plan([Visit("P3", 1, 1, 1)], inputs=inputs), inputs)
    assert any("home province of member B" in p for p in problems)
    assert check_plan(_plan([Visit("P5", 1, 1, 1)], inputs=inputs), inputs) == []


def test_objective_amount_and_bound_must_match_the_visits() -> None:
    inputs = _inputs()
    assert any("objective 1 is not the" in p
               for p in check_plan(_plan(GOOD, objective=1), inputs))
    assert any("amount 0.00 is not the" in p for p in check_plan(_plan(GOOD, amount=0.0), inputs))
    plan = _plan(GOOD)
    assert any("exceeds the best bound" in p
               for p in check_plan(replace(plan, best_bound=plan.objective - 10.0), inputs))


def test_values_are_rounded_risk_times_amount() -> None:
    assert _inputs().values.tolist() == [500, 300, 200, 4000, 10, 20]


@pytest.mark.parametrize(
    ("candidates", "inspectors", "options", "message"),
    [
        (CANDIDATES.iloc[0:0], INSPECTORS, OPTIONS, "no candidate institutions: run detection"),
        (CANDIDATES.drop(columns="risk"), INSPECTORS, OPTIONS, "lack column.*risk"),
        (CANDIDATES.assign(risk=1.5), INSPECTORS, OPTIONS, r"risk must lie in \[0, 1\]"),
        (CANDIDATES.assign(amount=-1.0), INSPECTORS, OPTIONS, "amount .* must be 0 or more"),
        (CANDIDATES.assign(days=0), INSPECTORS, OPTIONS, "days must be a whole number"),
        (CANDIDATES.assign(days=4), INSPECTORS, OPTIONS, "raise days_per_week"),
        (CANDIDATES.assign(fixmedins_code="H1"), INSPECTORS, OPTIONS, "codes repeat: H1"),
        (CANDIDATES.assign(province="310000"), INSPECTORS, OPTIONS, "its province code"),
        (CANDIDATES, (), OPTIONS, "no inspectors"),
        (CANDIDATES, INSPECTORS[:1], OPTIONS, "cannot make a team of team_size=2"),
        (CANDIDATES, (INSPECTORS[0], INSPECTORS[2]), OPTIONS,
         "every inspector is from 江苏省: add inspectors from another province"),
        (CANDIDATES, INSPECTORS, replace(OPTIONS, team_days=0), "team_days=0: must be at least"),
        (CANDIDATES, INSPECTORS, replace(OPTIONS, team_size=1),
         "a joint inspection team needs at least 2"),
        (CANDIDATES, (*INSPECTORS, INSPECTORS[0]), OPTIONS, "inspector ids repeat: A"),
    ],
)
def test_unusable_inputs_are_refused_with_a_fix(
    candidates: pd.DataFrame, inspectors: tuple[Inspector, ...], options: PlanOptions,
    message: str,
) -> None:
    with pytest.raises(PlanError, match=message):
        PlanInputs(candidates, inspectors, options)


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(PlanError, match=r"team_days=0.*risk must lie.*no inspectors"):
        PlanInputs(CANDIDATES.assign(risk=2.0), (), replace(OPTIONS, team_days=0))


def test_inputs_keep_their_own_copy() -> None:
    frame = CANDIDATES.copy()
    inputs = PlanInputs(frame, INSPECTORS, OPTIONS)
    frame.loc[0, "risk"] = 0.0
    assert inputs.candidates.loc[0, "risk"] == 0.5
