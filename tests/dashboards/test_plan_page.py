"""检查计划: the page plans on the detected store with the synthetic roster, the plan it shows
keeps every rule (rebuilt from the page's own tables and checked with ``check_plan``), and
changing the budget or the area plans again."""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from loaders.store import open_store
from tests.dashboards.conftest import no_exception
from tests.detected import Detected
from yibao.inspection import (
    InspectionPlan,
    PlanInputs,
    PlanOptions,
    Team,
    TeamFormation,
    Visit,
    candidates_from_store,
    check_plan,
    synthetic_inspectors,
)

App = Callable[..., AppTest]


def _frame(at: AppTest, column: str) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _visits(at: AppTest) -> pd.DataFrame:
    return _frame(at, "周次")


def _shown_plan(at: AppTest, inputs: PlanInputs) -> InspectionPlan:
    """The plan as the page's tables show it: teams with their member ids, every visit."""
    teams = _frame(at, "成员编号")
    number = {name: k + 1 for k, name in enumerate(teams["组别"])}
    formation = TeamFormation(teams=tuple(
        Team(number[name], tuple(members.split("、")))
        for name, members in zip(teams["组别"], teams["成员编号"], strict=True)),
        reserve=tuple(sorted(i.inspector_id for i in inputs.inspectors
                             if i.inspector_id not in set("、".join(teams["成员编号"])
                                                          .split("、")))))
    visits = _visits(at)
    rows = [inputs.row_of[c] for c in visits["机构编码"]]
    return InspectionPlan(
        formation=formation,
        visits=tuple(Visit(code, number[team], int(week), int(days)) for code, team, week, days
                     in zip(visits["机构编码"], visits["组别"], visits["周次"], visits["组·天"],
                            strict=True)),
        objective=int(sum(int(inputs.values[r]) for r in rows)), best_bound=math.nan,
        amount=sum(inputs.amounts[r] for r in rows), status="SHOWN", method="page",
        wall_seconds=0.0)


def _inputs(detected: Detected, budget: int, **options: object) -> PlanInputs:
    with open_store(detected.db, read_only=True) as store:
        candidates = candidates_from_store(store.con)
    return PlanInputs(candidates, synthetic_inspectors(24, seed=7),
                      PlanOptions(team_days=budget, **options))  # type: ignore[arg-type]


def test_plan_page_renders_a_checked_plan(app: App, detected: Detected) -> None:
    at = app(page="plan", budget="40")
    no_exception(at)
    assert at.title[0].value.startswith("检查计划")
    assert any("合成名单" in c.value for c in at.caption)  # says the roster is synthetic
    labels = [m.label for m in at.metric]
    assert labels[:4] == ["求解状态", "风险加权覆盖（元）", "上界（元）", "最优性差距"]
    assert any("通过全部约束校验" in s.value for s in at.success)
    assert at.get("plotly_chart")
    plan = _shown_plan(at, _inputs(detected, 40))
    assert plan.visits
    assert check_plan(plan, _inputs(detected, 40)) == []
    assert plan.days_used <= 40


def test_changing_the_budget_plans_again(app: App, detected: Detected) -> None:
    small, large = app(page="plan", budget="12"), app(page="plan", budget="60")
    no_exception(small)
    no_exception(large)
    a, b = _shown_plan(small, _inputs(detected, 12)), _shown_plan(large, _inputs(detected, 60))
    assert a.days_used <= 12 < b.days_used <= 60
    assert set(v.fixmedins_code for v in a.visits) != set(v.fixmedins_code for v in b.visits)
    assert a.objective < b.objective
    assert check_plan(b, _inputs(detected, 60)) == []
    # moving the slider re-plans in the same session
    small.slider(key="plan_budget").set_value(60).run()
    no_exception(small)
    assert small.query_params["budget"] == "60" or small.query_params["budget"] == ["60"]
    assert _shown_plan(small, _inputs(detected, 60)).days_used > 12


def test_cross_province_teams_stay_out_of_their_provinces(app: App, detected: Detected
                                                          ) -> None:
    at = app(page="plan", budget="40", cross="1")
    no_exception(at)
    inputs = _inputs(detected, 40, cross_province=True)
    assert check_plan(_shown_plan(at, inputs), inputs) == []


def test_area_limits_the_candidates(app: App, detected: Detected) -> None:
    with open_store(detected.db, read_only=True) as store:
        candidates = candidates_from_store(store.con)
    province = str(candidates["province"].mode()[0])
    at = app(page="plan", budget="40", provinces=province, joint="0")
    no_exception(at)
    visits = _visits(at)
    allowed = set(candidates.loc[candidates["province"] == province, "fixmedins_code"])
    assert not visits.empty
    assert set(visits["机构编码"]) <= allowed


def test_a_team_selector_shows_one_team(app: App) -> None:
    at = app(page="plan", budget="40")
    at.selectbox(key="plan_team").set_value(1).run()
    no_exception(at)
    assert set(_visits(at)["组别"]) <= {"第1组"}


@pytest.mark.parametrize("lang", ["en"])
def test_english_plan_page(app: App, lang: str) -> None:
    at = app(page="plan", budget="40", lang=lang)
    no_exception(at)
    assert at.title[0].value.startswith("Inspection plan")
    assert next(m.label for m in at.metric) == "Status"
