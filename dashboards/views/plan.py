"""检查计划 Inspection plan: which institutions to inspect, which cross-regional team visits
each, in which week, within a team-days budget: planned with the CP-SAT model of
:mod:`yibao.inspection` (its optimality gap shown, compared with the greedy baseline), drawn
on the map with each team's route, a table per team beside it, and an Excel download.

The inputs (period, budget, team size, joint and cross-province rules, area, roster) live in
the URL; a plan is cached per inputs, so changing the budget plans again and changing it back
shows the earlier plan at once.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboards import ui
from dashboards.data import plan as plan_data
from dashboards.figures.plan import plan_map, team_color
from dashboards.i18n import text
from yibao.divisions import PROVINCE_CODES, division_name, divisions_frame
from yibao.errors import YibaoError
from yibao.inspection import (
    InspectionPlan,
    Inspector,
    PlanInputs,
    PlanOptions,
    candidates_from_store,
    check_plan,
    greedy_plan,
    plan_to_excel,
    synthetic_inspectors,
)

L = {
    "title": ("检查计划：长三角联合检查", "Inspection plan: Yangtze Delta joint inspection"),
    "inputs": ("计划条件", "Planning inputs"),
    "weeks": ("检查周数", "Weeks"),
    "team_size": ("每组人数", "Inspectors per team"),
    "budget": ("预算（组·天）", "Budget (team-days)"),
    "budget_help": ("所有检查组在计划期内可用的检查天数之和；每组每周最多 5 天。",
                    "Inspection days of all teams together over the period; a team works at "
                    "most 5 days a week."),
    "joint": ("联合检查（每组成员来自至少两个省份）", "Joint teams (members from two provinces)"),
    "cross": ("跨省交叉互查（不检查本省机构）", "Cross-province (never a member's province)"),
    "provinces": ("检查省份", "Provinces inspected"),
    "cities": ("检查地市", "Cities inspected"),
    "everywhere": ("沪苏浙皖全部", "All of Shanghai, Jiangsu, Zhejiang and Anhui"),
    "all_cities": ("所选省份全部地市", "Every city of those provinces"),
    "roster": ("检查人员", "Inspectors"),
    "roster_synthetic": ("合成名单", "Synthetic roster"),
    "roster_upload": ("上传名单（CSV）", "Upload a roster (CSV)"),
    "roster_n": ("合成检查人员人数", "Synthetic inspectors"),
    "roster_file": ("检查人员名单 CSV（编号,姓名,城市代码[,省份代码]）",
                    "Roster CSV (id, name, city code[, province code])"),
    "synthetic_note": (
        "未配置检查人员名单：当前使用随机生成的合成名单（{n} 人，平均分布在沪苏浙皖），仅供演示。"
        "请上传实际名单。",
        "No roster is configured: this is a synthetic roster ({n} made-up inspectors spread "
        "over the four provinces), for demonstration only. Upload the real one."),
    "upload_first": ("请上传检查人员名单 CSV。", "Upload the roster CSV."),
    "uploaded_note": ("已读入名单：{n} 人。", "Roster read: {n} inspectors."),
    "candidates_note": (
        "候选机构 {n:,} 家（{period} 内有可疑团伙、规则命中或回流药链条的结算），"
        "疑点金额 {amount:,.0f} 元，风险加权 {value:,.0f} 元。",
        "{n:,} candidate institutions (flagged settlements in {period}: suspicious rings, rule "
        "hits, resale chains), suspicious amount {amount:,.0f} yuan, risk-weighted "
        "{value:,.0f} yuan."),
    "no_candidates": ("所选时间与地区内没有候选机构。", "No candidate institution in that period "
                      "and area."),
    "solving": ("正在求解检查计划（CP-SAT，最长约 10 秒）…",
                "Planning with CP-SAT (up to about 10 s)…"),
    "cannot_plan": ("无法制定计划：{reason}", "No plan: {reason}"),
    "m_status": ("求解状态", "Status"),
    "m_objective": ("风险加权覆盖（元）", "Covered (yuan)"),
    "objective_help": ("目标值：所安排机构的风险分 × 疑点金额之和（元），求解器使其最大。",
                       "The objective: risk score × suspicious amount summed over the "
                       "institutions visited (yuan), which the solver maximises."),
    "m_bound": ("上界（元）", "Bound (yuan)"),
    "m_gap": ("最优性差距", "Optimality gap"),
    "m_coverage": ("覆盖率（风险加权）", "Coverage"),
    "m_greedy": ("贪心基线（元）", "Greedy (yuan)"),
    "greedy_help": ("按风险加权金额从高到低逐家安排（现行电子表格做法），与求解器使用相同的检查组；"
                    "箭头处为求解器比贪心多覆盖的比例。",
                    "Institutions taken by risk-weighted amount, highest first (today's "
                    "spreadsheet way), on the solver's teams; the arrow is how much more the "
                    "solver covers."),
    "m_days": ("已用 / 预算（组·天）", "Team-days used"),
    "st_OPTIMAL": ("最优", "Optimal"),
    "st_FEASIBLE": ("可行", "Feasible"),
    "status_help": ("最优：求解器已证明没有更好的计划；可行：达到 {limit:.0f} 秒时限时的最好计划，"
                    "与上界的差距见“最优性差距”。",
                    "Optimal: the solver proved no plan is better; feasible: the best plan "
                    "when the {limit:.0f} s limit was reached (see the optimality gap)."),
    "figures_line": (
        "{teams} 个检查组（备勤 {reserve} 人），检查 {visits} 家机构；"
        "覆盖疑点金额 {amount:,.0f} 元，占全部候选的 {share:.1%}；求解用时 {seconds:.1f} 秒。",
        "{teams} teams ({reserve} in reserve) visit {visits} institutions, covering "
        "{amount:,.0f} yuan of suspicious amount ({share:.1%} of all candidates); planned in "
        "{seconds:.1f} s."),
    "checked": ("计划已通过全部约束校验（组员不查本市{province}，联合检查组跨省，每组每周只在一个"
                "城市，工作量均衡，未超预算）。",
                "The plan keeps every rule (no member's own city{province}, joint teams span "
                "provinces, one city per team-week, balanced workload, within budget)."),
    "province_rule": ("及本省", " or province"),
    "broken": ("计划违反约束：", "The plan breaks rules:"),
    "map": ("检查路线", "Routes"),
    "team": ("检查组", "Team"),
    "all_teams": ("全部检查组", "All teams"),
    "team_name": ("第{k}组", "Team {k}"),
    "unvisited": ("未安排的候选机构", "Candidates not visited"),
    "teams": ("检查组一览", "Teams"),
    "download": ("下载检查计划（Excel）", "Download the plan (Excel)"),
    "roster_table": ("检查人员名单", "Roster"),
    "c_team": ("组别", "Team"),
    "c_members": ("成员编号", "Members"),
    "c_names": ("成员姓名", "Names"),
    "c_provinces": ("成员所在省", "Member provinces"),
    "c_cities": ("成员所在市", "Member cities"),
    "c_visits": ("机构数", "Visits"),
    "c_days": ("组·天", "Team-days"),
    "c_amount": ("疑点金额（元）", "Suspicious (yuan)"),
    "c_value": ("风险加权（元）", "Risk-weighted (yuan)"),
    "c_week": ("周次", "Week"),
    "c_stop": ("顺序", "Stop"),
    "c_code": ("机构编码", "Code"),
    "c_name": ("机构名称", "Institution"),
    "c_city": ("所在市", "City"),
    "c_county": ("所在区县", "County"),
    "c_risk": ("风险分", "Risk"),
    "c_leg": ("距上一站（公里）", "Leg (km)"),
    "c_id": ("编号", "Id"),
    "c_person": ("姓名", "Name"),
    "c_province": ("省份", "Province"),
    "h_week": ("第几周", "Week"),
}

TIME_LIMIT = 10.0  # seconds the solver may take for one plan (a page is not a batch job)

DEFAULT_INSPECTORS = 24
SYNTHETIC_SEED = 7

lg = ui.lang()
ui.require_detection()
period = ui.period()


def _lkey(name: str) -> str:
    """A widget key per language: a widget that keeps its key keeps the labels it was drawn
    with, so a select would go on showing Chinese options after the switch to English."""
    return name if lg == "zh" else f"{name}_en"


def _int_param(name: str, default: int, low: int, high: int) -> int:
    try:
        value = int(ui.url_param(name, str(default)) or default)
    except ValueError:
        value = default
    return min(max(value, low), high)


def _codes_param(name: str, allowed: list[str]) -> list[str]:
    return [c for c in (ui.url_param(name, "") or "").split(",") if c in allowed]


@st.cache_data(show_spinner=False, max_entries=32)
def _solve(candidates: pd.DataFrame, roster: tuple[tuple[str, str, str, str], ...],
           options: tuple[int, int, int, bool, bool]) -> tuple[InspectionPlan, InspectionPlan]:
    """The solver's plan and the greedy plan on the same teams, per inputs."""
    inputs = _inputs(candidates, roster, options)
    from yibao.inspection import plan_inspections

    plan = plan_inspections(inputs, time_limit=TIME_LIMIT, workers=2, seed=0)
    return plan, greedy_plan(inputs, teams=plan.formation)


def _inputs(candidates: pd.DataFrame, roster: tuple[tuple[str, str, str, str], ...],
            options: tuple[int, int, int, bool, bool]) -> PlanInputs:
    budget, weeks, size, joint, cross = options
    return PlanInputs(candidates, tuple(Inspector(*row) for row in roster),
                      PlanOptions(team_days=budget, weeks=weeks, team_size=size, joint=joint,
                                  cross_province=cross))


def _roster() -> tuple[Inspector, ...] | None:
    """The inspectors: the uploaded roster, or the synthetic one (with a note saying so)."""
    st.markdown(f"**{text(L, 'roster', lg)}**")
    kinds = ["synthetic", "upload"]
    kind = st.radio(text(L, "roster", lg), kinds, horizontal=True,
                    index=1 if ui.url_param("roster") == "upload" else 0,
                    format_func=lambda k: text(L, f"roster_{k}", lg), key=_lkey("plan_roster_kind"),
                    label_visibility="collapsed")
    ui.set_param("roster", None if kind == "synthetic" else kind)
    if kind == "upload":
        upload = st.file_uploader(text(L, "roster_file", lg), type=["csv"], key="plan_roster")
        if upload is None:
            st.info(text(L, "upload_first", lg))
            return None
        try:
            found = plan_data.inspectors_from_upload(upload.getvalue(), upload.name)
        except YibaoError as exc:
            st.error(str(exc))
            return None
        st.caption(text(L, "uploaded_note", lg, n=len(found)))
        return found
    n = st.slider(text(L, "roster_n", lg), 6, 60,
                  _int_param("inspectors", DEFAULT_INSPECTORS, 6, 60), step=1,
                  key="plan_inspectors")
    ui.set_param("inspectors", None if n == DEFAULT_INSPECTORS else str(n))
    st.caption(text(L, "synthetic_note", lg, n=n))
    return synthetic_inspectors(n, seed=SYNTHETIC_SEED)


def _area() -> tuple[list[str], list[str]]:
    divs = divisions_frame()
    provinces = sorted(PROVINCE_CODES)
    chosen = st.multiselect(text(L, "provinces", lg), provinces,
                            default=_codes_param("provinces", provinces),
                            format_func=lambda c: division_name(c, lg),
                            key=_lkey("plan_provinces"),
                            placeholder=text(L, "everywhere", lg))
    ui.set_param("provinces", ",".join(chosen) or None)
    cities = divs[(divs["level"] == "city")
                  & (divs["province"].isin(chosen) if chosen else True)]
    picked = st.multiselect(text(L, "cities", lg), list(cities["code"]),
                            default=_codes_param("cities", list(cities["code"])),
                            format_func=lambda c: division_name(c, lg), key=_lkey("plan_cities"),
                            placeholder=text(L, "all_cities", lg))
    ui.set_param("cities", ",".join(picked) or None)
    return chosen, picked


def _figures(plan: InspectionPlan, greedy: InspectionPlan, inputs: PlanInputs) -> None:
    f = plan_data.plan_figures(plan, greedy, inputs)
    cols = st.columns(7)
    status = f"st_{f.status}"
    cols[0].metric(text(L, "m_status", lg), text(L, status, lg) if status in L else f.status,
                   help=text(L, "status_help", lg, limit=TIME_LIMIT))
    cols[1].metric(text(L, "m_objective", lg), f"{f.objective:,}",
                   help=text(L, "objective_help", lg))
    cols[2].metric(text(L, "m_bound", lg),
                   "—" if math.isnan(f.best_bound) else f"{f.best_bound:,.0f}")
    cols[3].metric(text(L, "m_gap", lg), "—" if math.isnan(f.gap) else f"{f.gap:.2%}")
    cols[4].metric(text(L, "m_coverage", lg), f"{f.coverage:.1%}")
    cols[5].metric(text(L, "m_greedy", lg), f"{f.greedy_objective:,}",
                   delta=None if math.isnan(f.vs_greedy) else f"CP-SAT {f.vs_greedy:+.1%}",
                   help=text(L, "greedy_help", lg))
    cols[6].metric(text(L, "m_days", lg), f"{f.days_used} / {f.team_days}")
    st.caption(text(L, "figures_line", lg, teams=f.teams, reserve=f.reserve, visits=f.visits,
                    amount=f.amount, share=f.amount_share, seconds=f.wall_seconds))
    problems = check_plan(plan, inputs)
    if problems:
        st.error(text(L, "broken", lg) + "\n" + "\n".join(f"- {p}" for p in problems))
    else:
        rule = text(L, "province_rule", lg) if inputs.options.cross_province else ""
        st.success(text(L, "checked", lg, province=rule), icon=":material/verified:")


def _team_name(k: int) -> str:
    return text(L, "team_name", lg, k=k)


def _visits_table(routes: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        text(L, "c_team", lg): routes["team_id"].map(_team_name),
        text(L, "c_week", lg): routes["week"],
        text(L, "c_stop", lg): routes["stop"],
        text(L, "c_name", lg): routes["fixmedins_name"],
        text(L, "c_city", lg): routes["city_name"],
        text(L, "c_county", lg): routes.get("county_name", routes["city_name"]),
        text(L, "c_days", lg): routes["days"],
        text(L, "c_risk", lg): routes["risk"].round(2),
        text(L, "c_amount", lg): routes["amount"].round(0),
        text(L, "c_value", lg): routes["value"],
        text(L, "c_leg", lg): routes["leg_km"],
        text(L, "c_code", lg): routes["fixmedins_code"],
    })


def _teams_table(plan: InspectionPlan, inputs: PlanInputs) -> pd.DataFrame:
    teams = plan_data.teams_frame(plan, inputs, lang=lg)
    return pd.DataFrame({
        text(L, "c_team", lg): teams["team_id"].map(_team_name),
        text(L, "c_names", lg): teams["names"],
        text(L, "c_provinces", lg): teams["provinces"],
        text(L, "c_cities", lg): teams["cities"],
        text(L, "c_visits", lg): teams["visits"],
        text(L, "c_days", lg): teams["days"],
        text(L, "c_amount", lg): teams["amount"].round(0),
        text(L, "c_value", lg): teams["value"],
        text(L, "c_members", lg): teams["members"],
    })


def _plan_map(plan: InspectionPlan, inputs: PlanInputs) -> None:
    routes = plan_data.team_routes(plan, inputs, lang=lg)
    team_ids = [t.team_id for t in plan.teams]
    chosen = _int_param("team", 0, 0, max(team_ids, default=0))
    left, right = st.columns([3, 2])
    with right:
        picked = st.selectbox(text(L, "team", lg), [0, *team_ids],
                              index=[0, *team_ids].index(chosen) if chosen in team_ids else 0,
                              format_func=lambda k: _team_name(k) if k else
                              text(L, "all_teams", lg), key=_lkey("plan_team"))
        ui.set_param("team", str(picked) if picked else None)
        mine = routes[routes["team_id"] == picked] if picked else routes
        if picked:
            st.markdown(f"<span style='color:{team_color(picked)}'>■</span> "
                        f"**{_team_name(picked)}**", unsafe_allow_html=True)
        st.dataframe(_visits_table(mine), hide_index=True, width="stretch", height=560,
                     key="plan_visits")
    fig = plan_map(routes, inputs.candidates,
                   team_names={k: _team_name(k) for k in team_ids},
                   hover={"week": text(L, "h_week", lg), "value": text(L, "c_value", lg),
                          "amount": text(L, "c_amount", lg)},
                   unvisited_name=text(L, "unvisited", lg), selected=picked or None,
                   height=640, lang=lg)
    left.plotly_chart(fig, width="stretch", key="plan_map", config={"displaylogo": False})


def _excel(plan: InspectionPlan, inputs: PlanInputs) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "plan.xlsx"
        plan_to_excel(plan, inputs, path)
        return path.read_bytes()


def _page() -> None:
    st.title(text(L, "title", lg))
    with st.container(border=True):
        st.markdown(f"**{text(L, 'inputs', lg)}**")
        c1, c2, c3 = st.columns([2, 2, 3])
        with c1:
            weeks = int(st.number_input(text(L, "weeks", lg), 1, 8,
                                        _int_param("weeks", 4, 1, 8), key="plan_weeks"))
            ui.set_param("weeks", None if weeks == 4 else str(weeks))
            size = int(st.number_input(text(L, "team_size", lg), 2, 6,
                                       _int_param("size", 3, 2, 6), key="plan_size"))
            ui.set_param("size", None if size == 3 else str(size))
            joint = st.toggle(text(L, "joint", lg), value=ui.url_param("joint") != "0",
                              key="plan_joint")
            ui.set_param("joint", None if joint else "0")
            cross = st.toggle(text(L, "cross", lg), value=ui.url_param("cross") == "1",
                              key="plan_cross")
            ui.set_param("cross", "1" if cross else None)
        with c2:
            provinces, cities = _area()
        with c3:
            roster = _roster()
        if roster is None:
            return
        n_teams = len(roster) // size
        most = max(n_teams * weeks * 5, 1)
        default = max(1, round(most * 0.5))
        budget = st.slider(text(L, "budget", lg), 1, most,
                           _int_param("budget", default, 1, most), key="plan_budget",
                           help=text(L, "budget_help", lg))
        ui.set_param("budget", None if budget == default else str(budget))
    everything = ui.cached(candidates_from_store, period=(period.start, period.end))
    candidates = plan_data.candidates_in(everything, provinces=provinces, cities=cities)
    if candidates.empty:
        st.info(text(L, "no_candidates", lg))
        return
    options = (int(budget), weeks, size, bool(joint), bool(cross))
    rows = plan_data.roster_rows(roster)
    try:
        inputs = _inputs(candidates, rows, options)
        st.caption(text(L, "candidates_note", lg, n=len(candidates), period=str(period),
                        amount=float(candidates["amount"].sum()),
                        value=float(inputs.values.sum())))
        with st.spinner(text(L, "solving", lg)):
            plan, greedy = _solve(candidates, rows, options)
    except YibaoError as exc:
        st.error(text(L, "cannot_plan", lg, reason=exc))
        return
    _figures(plan, greedy, inputs)
    st.header(text(L, "map", lg))
    _plan_map(plan, inputs)
    st.header(text(L, "teams", lg))
    st.dataframe(_teams_table(plan, inputs), hide_index=True, width="stretch",
                 key="plan_teams")
    st.download_button(text(L, "download", lg), data=lambda: _excel(plan, inputs),
                       file_name=f"检查计划_{period.start}_{period.end}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key="plan_download", icon=":material/download:")
    with st.expander(text(L, "roster_table", lg)):
        frame = plan_data.roster_frame(inputs.inspectors, lang=lg)
        st.dataframe(frame[["inspector_id", "name", "province_name", "city_name"]].rename(
            columns={"inspector_id": text(L, "c_id", lg), "name": text(L, "c_person", lg),
                     "province_name": text(L, "c_province", lg),
                     "city_name": text(L, "c_city", lg)}),
            hide_index=True, width="stretch", key="plan_roster_table")


_page()
