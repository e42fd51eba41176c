"""总览 Overview: the Yangtze Delta map by suspicious money or leads, headline figures, rings by
pattern, for the chosen period; drill down from cities to one city's counties."""

from __future__ import annotations

from typing import Literal

import plotly.express as px
import streamlit as st

from dashboards import ui
from dashboards.data.overview import division_measures, headline, rings_by_pattern
from dashboards.figures.maps import FONT, choropleth
from dashboards.i18n import pattern_label, places, t, text
from yibao.i18n import metric_money

L = {
    "title": ("总览：长三角医保基金风险态势", "Overview: fund risk across the Yangtze Delta"),
    "settlements": ("结算笔数", "Settlements"),
    "fund_total": ("医保基金（万元）", "Insurance money"),
    "suspicious_rings": ("可疑团伙", "Suspicious rings"),
    "suspicious_persons": ("涉及人员", "Persons involved"),
    "suspicious_fund": ("涉嫌违规基金（万元）", "Suspicious fund"),
    "resale_codes": ("重复结算追溯码", "Trace codes settled twice"),
    "rule_hits": ("规则命中", "Rule hits"),
    "measure": ("地图指标", "Map measure"),
    "m_fund": ("涉嫌违规基金（元）", "Suspicious fund (yuan)"),
    "m_leads": ("检测发现数（团伙+规则命中）", "Findings (rings + rule hits)"),
    "drill": ("下钻到地市", "Drill down to a city"),
    "all_cities": ("全部 41 个地市", "All 41 cities"),
    "map_title": ("{where}：按{measure}着色", "{where} by {measure}"),
    "by_pattern": ("可疑团伙类型分布", "Suspicious rings by pattern"),
    "rings": ("团伙数", "Rings"),
    "persons": ("人数", "Persons"),
    "fund": ("医保基金（元）", "Insurance money (yuan)"),
    "code": ("区划代码", "Code"),
    "name": ("地区", "Division"),
    "leads": ("检测发现数", "Findings"),
    "settl": ("结算笔数", "Settlements"),
    "delta": ("长三角", "Yangtze Delta"),
}

lg = ui.lang()
st.title(text(L, "title", lg))
ui.require_detection()
period = ui.period()

# the drill-down below chooses the city; the headline and the pattern chart follow it (the
# widget's state holds a new choice before the URL does)
drilled = str(st.session_state.get("overview_city", ui.url_param("city", "") or "") or "")
head = ui.cached(headline, period, within=drilled[:4] or None)
cols = st.columns(6)
cols[0].metric(text(L, "settlements", lg), f"{head.settlements:,}")
cols[1].metric(text(L, "fund_total", lg), metric_money(head.fund_total, lg))
cols[2].metric(text(L, "suspicious_rings", lg), f"{head.suspicious_rings:,}")
cols[3].metric(text(L, "suspicious_persons", lg), f"{head.suspicious_persons:,}")
cols[4].metric(text(L, "suspicious_fund", lg), metric_money(head.suspicious_fund, lg, digits=2))
cols[5].metric(text(L, "rule_hits", lg), f"{head.rule_hits:,}",
               help=f"{text(L, 'resale_codes', lg)}: {head.resale_chains:,}")

measures = {"suspicious_fund": text(L, "m_fund", lg), "leads": text(L, "m_leads", lg)}
cities = places(ui.cached(division_measures, period, level="city"), lg, "name")
city_names = dict(zip(cities["code"], cities["name"], strict=True))
c1, c2 = st.columns([1, 1])
measure = c1.radio(text(L, "measure", lg), list(measures), format_func=measures.__getitem__,
                   horizontal=True, index=0 if ui.url_param("measure") != "leads" else 1,
                   key="overview_measure")
ui.set_param("measure", None if measure == "suspicious_fund" else measure)
options = ["", *cities.sort_values([measure, "code"], ascending=[False, True])["code"]]
chosen = ui.url_param("city", "") or ""
city = c2.selectbox(
    text(L, "drill", lg), options, index=options.index(chosen) if chosen in options else 0,
    format_func=lambda c: city_names.get(c, c) if c else text(L, "all_cities", lg),
    key="overview_city",
)
ui.set_param("city", city or None)

level: Literal["city", "county"] = "county" if city else "city"
within = city[:4] if city else None
frame = places(ui.cached(division_measures, period, level="county", within=within), lg,
              "name") if city else cities
where = city_names.get(city, city) if city else text(L, "delta", lg)
st.subheader(text(L, "map_title", lg, where=where, measure=measures[measure]))
left, right = st.columns([3, 2])
fig = choropleth(frame, value=measure, value_label=measures[measure], level=level,
                 within=within, hover=[])
left.plotly_chart(fig, width="stretch", config={"displaylogo": False},
                  key="overview_map")
# the measures first, so a narrow column keeps them in view; the code stays for a link
frame = frame[["name", "suspicious_fund", "leads", "rings", "settlements", "fund", "code"]]
table = frame.rename(columns={
    "code": text(L, "code", lg), "name": text(L, "name", lg),
    "settlements": text(L, "settl", lg), "fund": text(L, "fund", lg),
    "suspicious_fund": text(L, "m_fund", lg), "leads": text(L, "leads", lg),
    "rings": text(L, "rings", lg)})
money = st.column_config.NumberColumn(format="localized")
right.dataframe(table, hide_index=True, width="stretch", height=560, column_config={
    text(L, "fund", lg): money, text(L, "m_fund", lg): money,
    text(L, "settl", lg): money})

st.subheader(text(L, "by_pattern", lg))
patterns = ui.cached(rings_by_pattern, period, within=within)
if patterns.empty:
    st.info(t("empty", lg))
else:
    patterns = patterns.assign(label=patterns["pattern"].map(lambda p: pattern_label(p, lg)))
    left, right = st.columns([3, 2])
    bar = px.bar(patterns, x="fund", y="label", orientation="h", text="rings",
                 labels={"fund": text(L, "fund", lg), "label": ""})
    bar.update_layout(height=300, margin={"l": 0, "r": 10, "t": 10, "b": 0}, font_family=FONT,
                      yaxis={"categoryorder": "total ascending"})
    left.plotly_chart(bar, width="stretch", key="overview_patterns")
    right.dataframe(
        patterns[["label", "rings", "persons", "fund"]].rename(columns={
            "label": t("pattern", lg), "rings": text(L, "rings", lg),
            "persons": text(L, "persons", lg), "fund": text(L, "fund", lg)}),
        hide_index=True, width="stretch")
