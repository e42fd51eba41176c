"""调参验证 Explore and tune: rerun detection on one city or institution and period with other
knobs, and see which flagged rings it gains and loses against the stored run (and, on
synthetic data, against the planted truth). Nothing stored changes unless an investigator saves
the knobs as a named profile (audited), which ``yibao detect --profile NAME`` runs.

The scope and the knobs live in the URL, so a link (and a slide in screenshot mode) shows the
same experiment."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import streamlit as st

from dashboards import ui
from dashboards.audit import append_audit
from dashboards.data import tuning
from dashboards.data.evidence import evidence_in
from dashboards.i18n import explanation_label, text
from graph.scoring import HONEST_EXPLANATIONS, DetectionSettings, save_profile
from yibao.divisions import division_name
from yibao.errors import YibaoError
from yibao.i18n import list_join

L = {
    "title": ("调参验证", "Explore and tune"),
    "intro": (
        "对一个地市或机构、一个时段，用不同参数重新识别团伙，并与已存储的检测结果比较。"
        "已存储的结果不会改变；保存为方案后可用 `yibao detect --profile 方案名` 正式运行。"
        "错误发现率只在所选范围内控制，q 值与全量检测不同。",
        "Rerun detection on one city or institution and period with other settings, and "
        "compare with the stored run. The stored run does not change; save the settings as a "
        "profile to run them with `yibao detect --profile NAME`. The false-discovery rate is "
        "controlled within the scope, so q-values differ from the full run's."),
    "city": ("地市", "City"),
    "city_help": ("括号内为已存储检测在该市的可疑团伙数。",
                  "In brackets: the stored run's flagged rings in the city."),
    "institution": ("机构", "Institution"),
    "all_institutions": ("全部机构", "All institutions"),
    "window": ("同时段窗口（分钟）", "Co-settlement window (minutes)"),
    "min_days": ("最少共同就诊天数", "Minimum shared days"),
    "engine": ("社区发现引擎", "Community engine"),
    "default_engine": ("默认（最快）", "Default (fastest)"),
    "resolution": ("分辨率", "Resolution"),
    "fdr": ("错误发现率（划线）", "False-discovery rate (flag line)"),
    "explanations": ("检验的正常解释", "Honest explanations tested"),
    "run": ("重新识别", "Re-detect"),
    "pick_city": ("请选择一个地市。", "Choose a city."),
    "scope": ("范围内结算笔数", "Settlements in scope"),
    "flagged": ("可疑团伙（本次 / 已存储）", "Flagged rings (now / stored)"),
    "gained": ("新增可疑", "Gained"),
    "lost": ("不再可疑", "Lost"),
    "kept": ("仍然可疑", "Kept"),
    "took": ("用时 {s:.1f} 秒", "took {s:.1f} s"),
    "knobs": ("参数：同时段窗口 {window:g} 分钟 · 最少共同就诊 {days} 天 · 引擎 {engine} · "
              "分辨率 {resolution:g} · 错误发现率 {fdr:g} · 检验的正常解释：{explanations}",
              "Settings: co-settlement window {window:g} min · at least {days} shared days · "
              "engine {engine} · resolution {resolution:g} · false-discovery rate {fdr:g} · "
              "honest explanations tested: {explanations}"),
    "none": ("没有。", "None."),
    "ring_id": ("团伙编号", "Ring"),
    "pattern": ("模式", "Pattern"),
    "persons": ("人数", "Persons"),
    "places": ("机构", "Institutions"),
    "fund": ("医保基金（元）", "Insurance money (yuan)"),
    "score": ("证据强度", "Evidence strength"),
    "q_value": ("q 值", "q-value"),
    "now_q": ("本次 q 值", "q now"),
    "not_found": ("未找到", "not found"),
    "evidence": ("证据", "Evidence"),
    "truth": ("对照合成真值（所选范围内的植入场景）", "Against the synthetic truth (planted "
              "scenarios in the scope)"),
    "scenario": ("场景", "Scenario"),
    "kind": ("类型", "Kind"),
    "stored": ("已存储检测召回率", "Stored run recall"),
    "tuned": ("本次召回率", "Rerun recall"),
    "recall": ("召回率（已存储 → 本次）", "Recall (stored → now)"),
    "precision": ("精确率（已存储 → 本次）", "Precision (stored → now)"),
    "save": ("保存为检测方案", "Save as a detection profile"),
    "profile_name": ("方案名", "Profile name"),
    "saved": ("已保存方案 {name}：运行 `yibao detect --profile {name}` 使用它（已记入审计日志）。",
              "Saved profile {name}: run `yibao detect --profile {name}` to use it (audited)."),
    "save_failed": ("未保存：{reason}", "Not saved: {reason}"),
}

lg = ui.lang()
ui.require_detection()
period = ui.period()
st.title(text(L, "title", lg))
if not ui.shot_mode():
    st.caption(text(L, "intro", lg))

base = ui.cached(tuning.stored_settings)


def _param(name: str, default: float) -> float:
    try:
        return float(ui.url_param(name) or default)
    except ValueError:
        return default


def _url_settings() -> DetectionSettings:
    """The knobs in the URL over the stored run's settings."""
    explanations = ui.url_param("expl")
    return tuning.settings_from(base, {
        "co_settlement": {"window_minutes": _param("win", base.co_settlement.window_minutes),
                          "min_co_days": int(_param("days", base.co_settlement.min_co_days))},
        "community": {"engine": ui.url_param("engine", base.community.engine) or "",
                      "resolution": _param("res", base.community.resolution)},
        "suspicion": {"fdr": _param("fdr", base.suspicion.fdr),
                      "explanations": [e for e in (explanations or "").split(",")
                                       if e in HONEST_EXPLANATIONS]
                      if explanations is not None else list(base.suspicion.explanations)},
    })


cities = ui.cached(tuning.city_choices, period)
codes = list(cities["code"])
flagged = dict(zip(cities["code"], cities["flagged"], strict=True))
city = ui.url_param("city")
city = city if city in codes else (codes[0] if codes else None)
institution = ui.url_param("inst")
try:
    chosen = _url_settings()
except YibaoError:
    chosen = base

if not ui.shot_mode():
    c1, c2 = st.columns(2)
    city = c1.selectbox(text(L, "city", lg), codes, index=codes.index(city) if city else None,
                        format_func=lambda c: f"{division_name(c, lg)} ({flagged[c]})",
                        key="tune_city", help=text(L, "city_help", lg))
    places = ui.cached(tuning.institution_choices, period, city) if city else pd.DataFrame(
        columns=["code", "name", "settlements"])
    options = ["", *places["code"]]
    names = dict(zip(places["code"], places["name"], strict=True))
    institution = c2.selectbox(
        text(L, "institution", lg), options,
        index=options.index(institution) if institution in options else 0,
        format_func=lambda c: f"{names.get(c, c)} ({c})" if c else text(L, "all_institutions", lg),
        key="tune_inst")
    with st.form("tune_knobs"):
        k1, k2, k3 = st.columns(3)
        window = k1.slider(text(L, "window", lg), 5, 240,
                           int(chosen.co_settlement.window_minutes), step=5)
        days = k1.slider(text(L, "min_days", lg), 1, 6, chosen.co_settlement.min_co_days)
        engines = ["", "networkit", "igraph", "networkx", "leiden-cpm", "infomap"]
        engine = k2.selectbox(text(L, "engine", lg), engines,
                              index=engines.index(chosen.community.engine)
                              if chosen.community.engine in engines else 0,
                              format_func=lambda e: e or text(L, "default_engine", lg))
        resolution = k2.slider(text(L, "resolution", lg), 0.1, 3.0,
                               float(chosen.community.resolution), step=0.1)
        levels = [0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2]
        fdr = k3.select_slider(text(L, "fdr", lg), levels,
                               value=min(levels, key=lambda v: abs(v - chosen.suspicion.fdr)))
        explanations = k3.multiselect(text(L, "explanations", lg), list(HONEST_EXPLANATIONS),
                                      default=list(chosen.suspicion.explanations),
                                      format_func=lambda k: explanation_label(k, lg))
        if st.form_submit_button(text(L, "run", lg), type="primary"):
            ui.set_param("win", None if window == base.co_settlement.window_minutes
                         else str(window))
            ui.set_param("days", None if days == base.co_settlement.min_co_days else str(days))
            ui.set_param("engine", engine or None)
            ui.set_param("res", None if resolution == base.community.resolution
                         else f"{resolution:g}")
            ui.set_param("fdr", None if fdr == base.suspicion.fdr else f"{fdr:g}")
            ui.set_param("expl", None if set(explanations) == set(base.suspicion.explanations)
                         else ",".join(explanations))
            st.rerun()
    ui.set_param("city", city)
    ui.set_param("inst", institution or None)

if not city:
    st.info(text(L, "pick_city", lg))
    st.stop()

scope = tuning.scope_of(period, city, institution)
knobs = json.dumps({
    "co_settlement": {"window_minutes": chosen.co_settlement.window_minutes,
                      "min_co_days": chosen.co_settlement.min_co_days},
    "community": {"engine": chosen.community.engine,
                  "resolution": chosen.community.resolution},
    "suspicion": {"fdr": chosen.suspicion.fdr,
                  "explanations": list(chosen.suspicion.explanations)}}, sort_keys=True)
with st.spinner(text(L, "run", lg) + "…"):
    result = ui.cached(tuning.tuned, scope, knobs, lg)

m = st.columns(4)
m[0].metric(text(L, "scope", lg), f"{result.settlements:,}")
m[1].metric(text(L, "flagged", lg), f"{result.flagged} / {result.stored_flagged}")
m[2].metric(text(L, "gained", lg), f"{len(result.gained)}")
m[3].metric(text(L, "lost", lg), f"{len(result.lost)}")
st.caption(f"{division_name(city, lg)} · {period} · " + text(L, "took", lg, s=result.seconds))
st.caption(text(L, "knobs", lg, window=chosen.co_settlement.window_minutes,
                days=chosen.co_settlement.min_co_days,
                engine=chosen.community.engine or text(L, "default_engine", lg),
                resolution=chosen.community.resolution, fdr=chosen.suspicion.fdr,
                explanations=list_join([explanation_label(k, lg)
                                        for k in chosen.suspicion.explanations], lg) or "—"))


def _table(frame: pd.DataFrame, heading: str) -> None:
    st.subheader(f"{text(L, heading, lg)}（{len(frame)}）" if lg == "zh"
                 else f"{text(L, heading, lg)} ({len(frame)})")
    if frame.empty:
        st.caption(text(L, "none", lg))
        return
    shown = frame.assign(evidence=[str(x) for x in
                                   ui.cached(evidence_in, tuple(frame["evidence"]), lg)])
    if "now_q" in shown:
        shown["now_q"] = [text(L, "not_found", lg) if pd.isna(v) else f"{v:.1e}"
                          for v in shown["now_q"]]
    shown = shown.rename(columns={str(c): text(L, str(c), lg) for c in shown.columns})
    st.dataframe(shown, hide_index=True, width="stretch", height=ui.table_height(len(shown)),
                 column_config={
                     text(L, "score", lg): st.column_config.ProgressColumn(
                         text(L, "score", lg), min_value=0.0, max_value=1.0, format="%.2f"),
                     text(L, "q_value", lg): st.column_config.NumberColumn(format="%.1e")})


_table(result.gained, "gained")
_table(result.lost, "lost")
_table(result.kept, "kept")

if result.evaluation is not None and result.overall is not None:
    st.subheader(text(L, "truth", lg))
    e1, e2 = st.columns(2)
    (r0, r1), (p0, p1) = result.overall["recall"], result.overall["precision"]
    e1.metric(text(L, "recall", lg), f"{r0:.0%} → {r1:.0%}",
              f"{r1 - r0:+.0%}" if round(r1 - r0, 2) else None)
    e2.metric(text(L, "precision", lg), f"{p0:.0%} → {p1:.0%}",
              f"{p1 - p0:+.0%}" if round(p1 - p0, 2) else None)
    frame = result.evaluation.rename(
        columns={str(c): text(L, str(c), lg) for c in result.evaluation.columns})
    st.dataframe(frame, hide_index=True, width="stretch", height=ui.table_height(len(frame)))

user = ui.current_user()
if not ui.shot_mode() and user.role == "investigator":
    with st.form("tune_save"):
        st.markdown(f"**{text(L, 'save', lg)}**")
        name = st.text_input(text(L, "profile_name", lg), max_chars=40)
        if st.form_submit_button(text(L, "save", lg)):
            try:
                settings = tuning.settings_from(base, json.loads(knobs))
                path = save_profile(
                    ui.settings().profiles_path, name.strip(), settings,
                    comment=f"saved by {user.username} on {date.today().isoformat()} from the "
                            f"tuning page ({city}, {period})")
                append_audit(ui.settings().audit_path, user=user.username, role=user.role,
                             action="save_detection_profile", subject_kind="profile",
                             subject=path.stem, context=knobs)
                st.success(text(L, "saved", lg, name=path.stem))
            except (YibaoError, OSError) as exc:
                st.error(text(L, "save_failed", lg, reason=exc))
