"""Inspection-plan data for the workbench: candidates narrowed to an area (on the detected
store), a roster from uploaded bytes, the plan's figures against greedy, each team's route,
and the plan map's traces."""

from __future__ import annotations

import math

import duckdb
import plotly.graph_objects as go
import pytest

from dashboards.data import plan as pd_plan
from dashboards.figures.plan import plan_map, team_color
from loaders.store import Store
from yibao.errors import DataFileError
from yibao.geo import km_between
from yibao.inspection import (
    InspectionPlan,
    PlanInputs,
    PlanOptions,
    candidates_from_store,
    check_plan,
    greedy_plan,
    plan_inspections,
    synthetic_candidates,
    synthetic_inspectors,
)


@pytest.fixture(scope="module")
def inputs() -> PlanInputs:
    return PlanInputs(synthetic_candidates(120, seed=3), synthetic_inspectors(12, seed=1),
                      PlanOptions(team_days=36, weeks=3, team_size=3))


@pytest.fixture(scope="module")
def plans(inputs: PlanInputs) -> tuple[InspectionPlan, InspectionPlan]:
    plan = plan_inspections(inputs, time_limit=10, seed=0)
    return plan, greedy_plan(inputs, teams=plan.formation)


def test_candidates_in_an_area(detected_store: Store) -> None:
    con: duckdb.DuckDBPyConnection = detected_store.con
    every = candidates_from_store(con)
    assert len(pd_plan.candidates_in(every)) == len(every)
    province = str(every["province"].mode()[0])
    mine = pd_plan.candidates_in(every, provinces=[province])
    assert len(mine) == (every["province"] == province).sum() > 0
    assert list(mine.index) == list(range(len(mine)))
    city = str(mine["city"].iloc[0])
    one = pd_plan.candidates_in(every, provinces=[province], cities=[city])
    assert set(one["city"]) == {city}
    assert set(one["fixmedins_code"]) == set(candidates_from_store(con, region=city)
                                             ["fixmedins_code"])
    assert pd_plan.candidates_in(every, cities=["999900"]).empty


def test_inspectors_from_upload_reads_chinese_headers_and_gbk() -> None:
    text = "工号,姓名,城市代码\nA1,张三,320500\nA2,李四,341200\n"
    for encoding in ("utf-8-sig", "gb18030"):
        found = pd_plan.inspectors_from_upload(text.encode(encoding), "名单.csv")
        assert [(i.inspector_id, i.province, i.city) for i in found] == [
            ("A1", "320000", "320500"), ("A2", "340000", "341200")]
    with pytest.raises(DataFileError, match="line 2"):
        pd_plan.inspectors_from_upload("工号,姓名,城市代码\nA1,张三,999999\n".encode())


def test_roster_rows_round_trip(inputs: PlanInputs) -> None:
    rows = pd_plan.roster_rows(inputs.inspectors)
    assert len(rows) == len(inputs.inspectors)
    assert rows[0] == (inputs.inspectors[0].inspector_id, inputs.inspectors[0].name,
                       inputs.inspectors[0].province, inputs.inspectors[0].city)


def test_plan_figures(inputs: PlanInputs, plans: tuple[InspectionPlan, InspectionPlan]
                      ) -> None:
    plan, greedy = plans
    assert check_plan(plan, inputs) == []
    assert check_plan(greedy, inputs) == []
    f = pd_plan.plan_figures(plan, greedy, inputs)
    assert f.objective == plan.objective
    assert f.total_value == int(inputs.values.sum())
    assert f.coverage == pytest.approx(plan.objective / f.total_value)
    assert 0 < f.coverage <= 1
    assert f.greedy_objective == greedy.objective
    assert f.vs_greedy == pytest.approx(plan.objective / greedy.objective - 1)
    assert f.vs_greedy >= 0  # the solver never does worse than greedy on the same teams
    assert f.days_used <= f.team_days == 36
    assert f.teams == 4
    assert f.visits == len(plan.visits)
    assert math.isnan(pd_plan.plan_figures(greedy, greedy, inputs).gap)


def test_team_routes_visit_everything_once_week_by_week(
        inputs: PlanInputs, plans: tuple[InspectionPlan, InspectionPlan]) -> None:
    plan, _ = plans
    routes = pd_plan.team_routes(plan, inputs)
    assert sorted(routes["fixmedins_code"]) == sorted(v.fixmedins_code for v in plan.visits)
    for team_id, team in routes.groupby("team_id"):
        assert list(team["stop"]) == list(range(1, len(team) + 1))
        assert team["week"].is_monotonic_increasing
        assert (team["leg_km"] >= 0).all()
        assert team[["home_lon", "home_lat"]].nunique().max() == 1
        # within a week each next stop is the nearest of the week's stops not yet visited
        week = [int(w) for w in team["week"]]
        lon = [float(x) for x in team["lon"]]
        lat = [float(y) for y in team["lat"]]
        leg = [float(km) for km in team["leg_km"]]
        for k in range(1, len(week)):
            if week[k] != week[k - 1]:
                continue
            nearest = min(km_between((lon[k - 1], lat[k - 1]), (lon[j], lat[j]))
                          for j in range(k, len(week)) if week[j] == week[k])
            assert leg[k] == pytest.approx(nearest, abs=0.06), team_id
    assert pd_plan.team_routes(
        InspectionPlan(plan.formation, (), 0, math.nan, 0.0, "HEURISTIC", "none", 0.0),
        inputs).empty


def test_plan_map_draws_each_team_route(inputs: PlanInputs,
                                        plans: tuple[InspectionPlan, InspectionPlan]) -> None:
    plan, _ = plans
    routes = pd_plan.team_routes(plan, inputs)
    names = {t.team_id: f"第{t.team_id}组" for t in plan.teams}
    fig = plan_map(routes, inputs.candidates, team_names=names,
                   hover={"week": "周", "value": "风险加权", "amount": "疑点金额"},
                   unvisited_name="未安排", selected=2)
    assert all(isinstance(trace, go.Scatter) for trace in fig.data)  # SVG only, no tiles
    legend = [trace.name for trace in fig.data if trace.showlegend is not False and trace.name]
    busy = sorted({int(k) for k in routes["team_id"]})
    assert legend == ["未安排", *(names[k] for k in busy)]
    for k in busy:
        line = next(t for t in fig.data if t.mode == "lines" and t.legendgroup == names[k])
        assert len(line.x) == (routes["team_id"] == k).sum()
        assert line.line.color == team_color(k)
        assert line.opacity == (0.95 if k == 2 else 0.18)
    unvisited = next(t for t in fig.data if t.name == "未安排")
    assert len(unvisited.x) == len(inputs.candidates) - len(routes)
