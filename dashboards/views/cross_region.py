"""异地就医 Cross-region: where insured people are treated outside their own division (flows on a
map and as an origin × destination matrix, city or province level), trips too fast to be real
(IMPOSSIBLE_TRAVEL hits), and clusters of cards of one province used in another. All for the
chosen period; a table sits beside every graph and map."""

from __future__ import annotations

from typing import cast

import pandas as pd
import streamlit as st

from dashboards import ui
from dashboards.data import cross_region as cr
from dashboards.figures.flows import flow_map, flow_matrix
from dashboards.figures.maps import lines_and_points
from dashboards.i18n import t, text
from graph.figures import rule_hits_by_rule
from yibao.i18n import bracket, metric_money

L = {
    "title": ("异地就医：跨地区就医流向与异常行程",
              "Cross-region care: flows between divisions and impossible trips"),
    "level": ("统计层级", "Level"),
    "city": ("地市", "City"),
    "province": ("省份", "Province"),
    "measure": ("线宽与颜色", "Width and colour by"),
    "m_settlements": ("结算笔数", "Settlements"),
    "m_fund": ("医保基金（元）", "Insurance money (yuan)"),
    "top": ("地图显示前 N 条流向", "Top N flows on the map"),
    "cross_settlements": ("异地结算笔数", "Cross-division settlements"),
    "cross_fund": ("异地医保基金（万元）", "Cross-division insurance money"),
    "trips_metric": ("不可能行程（段）", "Impossible trips (legs)"),
    "trips_help": ("每段是同一参保人两次结算之间来不及完成的行程；"
                   "规则「同日异地不可能行程」按人计，本期命中 {hits:,} 人"
                   "（与 yibao detect 和简报的规则命中数相同）。",
                   "Each leg is a journey between two of one person's settlements too fast to be "
                   "real; the rule IMPOSSIBLE_TRAVEL counts persons: {hits:,} hit in the period "
                   "(the rule-hit figure of yibao detect and the briefing)."),
    "clusters_metric": ("跨省刷卡团伙", "Cross-province clusters"),
    "flow_map": ("参保地 → 就医地流向（前 {n} 条）", "Insured division → place of care (top {n})"),
    "flow_note": ("弧线从参保地弯向就医地（沿行进方向右弯），末端圆点标出就医地；"
                  "只显示跨地区的流向。",
                  "Arcs bend right along the direction of travel; the dot near the end marks "
                  "the place of care. Only flows between different divisions are shown."),
    "matrix": ("流向矩阵（参保地 × 就医地）", "Flow matrix (insured division × place of care)"),
    "matrix_note": ("颜色按对数刻度；对角线（本地就医）不计入。",
                    "Colour on a log scale; the diagonal (care at home) is left out."),
    "origin": ("参保地", "Insured division"),
    "destination": ("就医地", "Place of care"),
    "persons": ("人数", "Persons"),
    "share": ("占参保地结算比例", "Share of origin's settlements"),
    "local": ("本地就医笔数", "Treated at home"),
    "outbound": ("流出笔数", "Outbound"),
    "inbound": ("流入笔数", "Inbound"),
    "net": ("净流入", "Net inbound"),
    "outbound_fund": ("流出基金（元）", "Outbound fund (yuan)"),
    "inbound_fund": ("流入基金（元）", "Inbound fund (yuan)"),
    "outbound_share": ("流出比例", "Outbound share"),
    "division": ("地区", "Division"),
    "no_flows": ("所选时间范围内没有跨地区结算。", "No cross-division settlement in the period."),
    "trips": ("不可能行程", "Impossible trips"),
    "trips_note": ("同一参保人在两地结算的时间间隔不足以完成两地之间的行程。",
                   "One insured person settled at two places too far apart for the minutes "
                   "between them."),
    "no_trips": ("所选时间范围内没有不可能行程。", "No impossible trip in the period."),
    "psn_name": ("参保人", "Insured person"),
    "psn_no": ("人员编号", "Person no."),
    "from_time": ("第一笔结算", "First settlement"),
    "to_time": ("第二笔结算", "Second settlement"),
    "from_name": ("第一家机构", "First institution"),
    "from_city": ("第一家所在城市", "First city"),
    "to_name": ("第二家机构", "Second institution"),
    "to_city": ("第二家所在城市", "Second city"),
    "km": ("距离（公里）", "Distance (km)"),
    "minutes": ("间隔（分钟）", "Minutes apart"),
    "speed": ("折合时速（公里/小时）", "Speed (km/h)"),
    "trip_ends": ("行程两端机构", "Institutions at either end"),
    "clusters": ("跨省刷卡团伙", "Cross-province card-use clusters"),
    "clusters_note": ("一省参保人的医保卡集中在另一省的机构使用。",
                      "Cards of one province's insured used together at institutions in "
                      "another province."),
    "no_clusters": ("所选时间范围内没有跨省刷卡团伙。", "No cross-province cluster in the period."),
    "home_provinces": ("参保省份", "Insured in"),
    "care_provinces": ("就医省份", "Treated in"),
    "pick_ring": ("选择团伙", "Choose a ring"),
    "open_ring": ("查看团伙页面", "Open the ring page"),
}
MEASURES = {"settlements": "m_settlements", "fund": "m_fund"}

lg = ui.lang()
st.title(text(L, "title", lg))
ui.require_detection()
period = ui.period()

c1, c2, c3 = st.columns([1, 1, 2])
level = cast(cr.Level, c1.segmented_control(
    text(L, "level", lg), ["city", "province"], format_func=lambda v: text(L, v, lg),
    default="province" if ui.url_param("level") == "province" else "city",
    key="cross_level") or "city")
ui.set_param("level", None if level == "city" else level)
measure = c2.radio(text(L, "measure", lg), list(MEASURES),
                   format_func=lambda m: text(L, MEASURES[m], lg), horizontal=True,
                   index=1 if ui.url_param("by") == "fund" else 0, key="cross_measure")
ui.set_param("by", None if measure == "settlements" else measure)
try:
    top_default = min(max(int(ui.url_param("top", "30") or 30), 5), 200)
except ValueError:
    top_default = 30
top = c3.slider(text(L, "top", lg), min_value=5, max_value=200, value=top_default, step=5,
                key="cross_top")
ui.set_param("top", None if top == 30 else str(top))
value_label = text(L, MEASURES[measure], lg)

# one query per published snapshot; the period, level and language only sum it up
facts = ui.cached(cr.flow_facts)
flows = cr.flows_from_facts(facts, period, level=level, lang=lg)
trips = ui.cached(cr.impossible_trips, period, lang=lg)
clusters = ui.cached(cr.card_use_clusters, period, lang=lg)

m = st.columns(4)
m[0].metric(text(L, "cross_settlements", lg), f"{int(flows['settlements'].sum()):,}")
m[1].metric(text(L, "cross_fund", lg), metric_money(float(flows["fund"].sum()), lg))
hits = ui.cached(rule_hits_by_rule, period.start, period.end).get("IMPOSSIBLE_TRAVEL", 0)
m[2].metric(text(L, "trips_metric", lg), f"{len(trips):,}",
            help=text(L, "trips_help", lg, hits=hits))
m[3].metric(text(L, "clusters_metric", lg), f"{len(clusters):,}")


def _flow_table(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        text(L, "origin", lg): frame["origin_name"],
        text(L, "destination", lg): frame["destination_name"],
        text(L, "m_settlements", lg): frame["settlements"],
        text(L, "persons", lg): frame["persons"],
        text(L, "m_fund", lg): frame["fund"],
        text(L, "share", lg): frame["share"],
    })


def _flows() -> None:
    if flows.empty:
        st.info(text(L, "no_flows", lg))
        return
    ranked = flows.sort_values([measure, "origin", "destination"],
                               ascending=[False, True, True]).head(top)
    st.subheader(text(L, "flow_map", lg, n=len(ranked)))
    st.caption(text(L, "flow_note", lg))
    left, right = st.columns([3, 2])
    left.plotly_chart(flow_map(ranked, value=measure, value_label=value_label, height=560),
                      width="stretch", key="cross_flow_map")
    right.dataframe(_flow_table(ranked), hide_index=True, width="stretch",
                    height=ui.table_height(len(ranked), 540),
                    column_config={text(L, "share", lg): st.column_config.NumberColumn(
                        format="percent")})

    st.subheader(text(L, "matrix", lg))
    st.caption(text(L, "matrix_note", lg))
    balance = cr.balance_from_facts(facts, period, level=level, lang=lg)
    order = list(balance.sort_values("code")["name"])
    left, right = st.columns([3, 2])
    height = 380 if level == "province" else 760
    left.plotly_chart(flow_matrix(flows, value=measure, value_label=value_label, order=order,
                                  origin_label=text(L, "origin", lg),
                                  destination_label=text(L, "destination", lg),
                                  height=height),
                      width="stretch", key="cross_matrix")
    right.dataframe(pd.DataFrame({
        text(L, "division", lg): balance["name"], t("code", lg): balance["code"],
        text(L, "local", lg): balance["local"], text(L, "outbound", lg): balance["outbound"],
        text(L, "inbound", lg): balance["inbound"], text(L, "net", lg): balance["net"],
        text(L, "outbound_fund", lg): balance["outbound_fund"],
        text(L, "inbound_fund", lg): balance["inbound_fund"],
        text(L, "outbound_share", lg): balance["outbound_share"],
    }), hide_index=True, width="stretch", height=ui.table_height(len(balance), height - 20),
        column_config={text(L, "outbound_share", lg): st.column_config.NumberColumn(
            format="percent")})


def _trips() -> None:
    st.subheader(text(L, "trips", lg))
    st.caption(text(L, "trips_note", lg))
    if trips.empty:
        st.info(text(L, "no_trips", lg))
        return
    ui.unmask_toggle("impossible_trips", str(period))
    shown = ui.show_masked(trips, "impossible_trips", str(period))
    lines = shown.rename(columns={"from_lon": "lon0", "from_lat": "lat0", "to_lon": "lon1",
                                  "to_lat": "lat1"}).dropna(subset=["lon0", "lon1"])
    lines = lines.assign(width=2.0)
    ends = pd.concat([
        shown[["from_inst", "from_name", "from_city", "from_lon", "from_lat"]].set_axis(
            ["code", "name", "city", "lon", "lat"], axis=1),
        shown[["to_inst", "to_name", "to_city", "to_lon", "to_lat"]].set_axis(
            ["code", "name", "city", "lon", "lat"], axis=1),
    ]).dropna(subset=["lon"]).drop_duplicates("code")
    points = ends.assign(label=ends["name"] + ends["city"].fillna("").map(
        lambda city: bracket(city, lg)), size=9)
    points.attrs.update(name=text(L, "trip_ends", lg), color="#8e44ad")
    left, right = st.columns([3, 2])
    left.plotly_chart(lines_and_points(lines=lines, points=[points], height=520, lang=lg),
                      width="stretch", key="cross_trips_map")
    right.dataframe(pd.DataFrame({
        text(L, "psn_name", lg): shown["psn_name"], text(L, "psn_no", lg): shown["psn_no"],
        text(L, "from_time", lg): shown["from_time"], text(L, "to_time", lg): shown["to_time"],
        text(L, "from_name", lg): shown["from_name"], text(L, "from_city", lg): shown["from_city"],
        text(L, "to_name", lg): shown["to_name"], text(L, "to_city", lg): shown["to_city"],
        text(L, "km", lg): shown["km"], text(L, "minutes", lg): shown["minutes"],
        text(L, "speed", lg): shown["speed_kmh"],
    }), hide_index=True, width="stretch", height=ui.table_height(len(shown), 500))


def _clusters() -> None:
    st.subheader(text(L, "clusters", lg))
    st.caption(text(L, "clusters_note", lg))
    if clusters.empty:
        st.info(text(L, "no_clusters", lg))
        return
    st.dataframe(pd.DataFrame({
        t("ring_id", lg): clusters["ring_id"], t("score", lg): clusters["score"],
        t("persons", lg): clusters["persons"], t("institutions", lg): clusters["institutions"],
        text(L, "home_provinces", lg): clusters["home_provinces"],
        text(L, "care_provinces", lg): clusters["care_provinces"],
        t("fund_amount", lg): clusters["fund"].round(2),
        t("first_time", lg): clusters["first_time"].dt.date,
        t("last_time", lg): clusters["last_time"].dt.date, t("places", lg): clusters["places"],
    }), hide_index=True, width="stretch",
        column_config={t("score", lg): st.column_config.ProgressColumn(
            t("score", lg), min_value=0.0, max_value=1.0, format="%.2f")})
    c1, c2 = st.columns([2, 1])
    ring_id = c1.selectbox(text(L, "pick_ring", lg), list(clusters["ring_id"]),
                           key="cross_ring_pick")
    c2.write("")
    if c2.button(text(L, "open_ring", lg), key="cross_open_ring", type="primary") and ring_id:
        keep = {k: v for k in ("lang", "from", "to") if (v := ui.url_param(k))}
        st.switch_page("views/rings.py", query_params={"ring": str(ring_id), **keep})


_flows()
_trips()
_clusters()
