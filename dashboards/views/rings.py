"""团伙 Rings: the ranked table of rings, and one ring (``?ring=ID``): why, who, where, when,
how much, and its network, each graph or map with its table beside it."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import ui
from dashboards.data import rings as ring_data
from dashboards.data.evidence import evidence_in
from dashboards.figures.maps import FONT, ring_trips_map
from dashboards.figures.network import network_figure, network_table
from dashboards.figures.timelines import PER_PERSON_UP_TO, daily_timeline, person_timeline
from dashboards.i18n import EXPLANATIONS, columns, explanation_label, pattern_label, t, text
from graph.rings import PATTERNS
from graph.scoring import FEATURES

L = {
    "title": ("团伙：可疑团伙排行", "Rings: suspicious rings, ranked"),
    "ring_title": ("团伙 {ring_id}：{pattern}", "Ring {ring_id}: {pattern}"),
    "back": ("← 返回团伙列表", "← Back to the rings"),
    "patterns": ("类型筛选", "Patterns"),
    "all_patterns": ("全部类型", "All patterns"),
    "all_rings": ("包括未列为可疑的团伙", "Include rings not flagged"),
    "pick": ("点击表格中的一行打开团伙", "Click a row to open the ring"),
    "not_found": ("找不到团伙 {ring_id}（可能已在重新检测后合并或消失）。",
                  "No ring {ring_id} (it may have merged or gone after detection reran)."),
    "why": ("为什么可疑", "Why"),
    "who": ("涉及人员与机构", "Who"),
    "where": ("在哪里", "Where"),
    "when": ("什么时间", "When"),
    "how_much": ("涉及金额", "How much"),
    "network": ("关系网络", "Network"),
    "evidence": ("证据", "Evidence"),
    "feature": ("特征", "Feature"),
    "value": ("取值 (0-1)", "Value (0-1)"),
    "features": ("描述性特征（仅供参考，不参与判定）",
                 "Descriptive features (for reading only; they do not decide the flag)"),
    "score_line": ("证据强度 {score:.2f}（可疑标记线 {threshold:.2f}，即 q ≤ {fdr:g}），"
                   "排名第 {rank} 位，来源：{source}",
                   "evidence strength {score:.2f} (flag line {threshold:.2f}, i.e. q ≤ {fdr:g}), "
                   "rank {rank}, source: {source}"),
    "score_line_no_run": ("证据强度 {score:.2f}，排名第 {rank} 位，来源：{source}"
                          "（最近一次检测未记录可疑标记线，请重新运行 `yibao detect`）",
                          "evidence strength {score:.2f}, rank {rank}, source: {source} (the "
                          "latest detection run stored no flag line: rerun `yibao detect`)"),
    "verdict_yes": ("**判定：可疑**（q = {q} ≤ 错误发现率 {fdr:g}）",
                    "**Verdict: suspicious** (q = {q} ≤ false-discovery rate {fdr:g})"),
    "verdict_no": ("**判定：未达可疑标准**（q = {q}，错误发现率 {fdr:g}）",
                   "**Verdict: not flagged** (q = {q}, false-discovery rate {fdr:g})"),
    "test_p": ("偶然出现的概率 p = {p}（原假设：成员各自按本人就诊次数和机构平常时段独立就诊；"
               "已按 {pairs:,.0f} 对曾同时段结算的人校正搜索）",
               "chance p = {p} (null model: each member visits independently, at their own "
               "rate and the institutions' usual hours; corrected for the search over "
               "{pairs:,.0f} pairs that ever co-settled)"),
    "test_p_steer": ("偶然出现的概率 p = {p}（原假设：该医师的处方像同机构其他医师的处方、"
                     "或这些患者平时购药一样流向该药店；已按其用过的药店数校正）",
                     "chance p = {p} (null model: the doctor's prescriptions go to that pharmacy "
                     "as often as their colleagues' prescriptions or these patients' own "
                     "purchases do; corrected for the pharmacies the doctor used)"),
    "test_hard": ("确凿证据（追溯码重复结算或时间上不可能完成的行程），不依赖概率：p = 0",
                  "hard evidence (a traceability code settled again, or journeys that cannot be "
                  "made in the time), not a matter of chance: p = 0"),
    "test_q": ("q = {q}：按本次检测全部 {n:,} 项检验（候选团伙与被检验的医师）做 "
               "Benjamini-Hochberg 校正后的错误发现率",
               "q = {q}: the false-discovery rate after Benjamini-Hochberg over this run's "
               "{n:,} tests (candidate rings and doctors tested)"),
    "test_meetings": ("同时段结算 {meetings:,.0f} 次，期望 {expected:,.1f} 次，"
                      "分布在 {days:,.0f} 个日期",
                      "{meetings:,.0f} co-settlements against {expected:,.1f} expected, on "
                      "{days:,.0f} days"),
    "explained": ("正常解释成立：{label}（上面的 p 是扣除该解释覆盖的结算后剩余部分的概率，"
                  "因此不列为可疑）",
                  "an honest explanation holds: {label} (the p above is that of the "
                  "settlements it leaves, so the ring is not flagged)"),
    "not_explained": ("没有成立的正常解释（已检验：{tried}）",
                      "no honest explanation holds (tried: {tried})"),
    "src_community": ("共同结算社区", "co-settlement community"),
    "src_rule": ("规则命中", "rule hits"),
    "src_test": ("处方流向检验", "prescription-flow test"),
    "homes": ("参保地", "Insured division"),
    "trips": ("就医行程（参保地 → 机构）", "Trips (insured division → institution)"),
    "timeline": ("结算时间线", "Settlement timeline"),
    "monthly": ("每月涉及医保基金", "Insurance money per month"),
    "fund_whole": ("**涉及医保基金 {fund:,.2f} 元**（统筹基金 {pool:,.2f} 元 + 个人账户 "
                   "{account:,.2f} 元），团伙全部 {n:,} 笔结算，就医时间 {first} 至 {last}"
                   "（住院按入院日期）",
                   "**Insurance money {fund:,.2f} yuan** (pooled fund {pool:,.2f} + personal "
                   "account {account:,.2f}), the whole ring: {n:,} settlements, care from "
                   "{first} to {last} (stays by admission day)"),
    "fund_in_period": ("其中所选时间范围内（按结算时间）：涉及医保基金 {fund:,.2f} 元（统筹基金 "
                       "{pool:,.2f} 元 + 个人账户 {account:,.2f} 元），结算 {n:,} 笔，"
                       "结算于 {first} 至 {last}",
                       "Of which in the chosen period (by settlement time): insurance money "
                       "{fund:,.2f} yuan (pooled fund {pool:,.2f} + personal account "
                       "{account:,.2f}), {n:,} settlements, settled {first} to {last}"),
    "core": ("核心", "core"),
    "attached": ("关联", "attached"),
    "nodes": ("{n:,} 个节点，{m:,} 条连接", "{n:,} nodes, {m:,} links"),
    "sex_1": ("男", "male"),
    "sex_2": ("女", "female"),
    "per_day": ("{n:,} 名成员：每个圆点是一天在一家机构的结算，大小为当天结算的成员人数。",
                "{n:,} members: each dot is one day at one institution, sized by the members "
                "who settled there that day."),
    "no_settlements": ("所选时间范围内该团伙没有结算。",
                       "The ring has no settlements in the chosen period."),
}
KINDS = {"person": "persons", "institution": "institutions", "practitioner": "practitioners"}

lg = ui.lang()
ui.require_detection()
period = ui.period()


def _pattern(p: str) -> str:
    return pattern_label(p, lg)


def _ring_list() -> None:
    st.title(text(L, "title", lg))
    c1, c2 = st.columns([3, 1])
    chosen = [p for p in (ui.url_param("patterns", "") or "").split(",") if p in PATTERNS]
    patterns = c1.multiselect(text(L, "patterns", lg), list(PATTERNS), default=chosen,
                              format_func=_pattern, key="rings_patterns",
                              placeholder=text(L, "all_patterns", lg))
    ui.set_param("patterns", ",".join(patterns) or None)
    everything = c2.toggle(text(L, "all_rings", lg), value=ui.url_param("all") == "1",
                           key="rings_all")
    ui.set_param("all", "1" if everything else None)
    table = ui.cached(ring_data.rings_table, period, suspicious_only=not everything,
                      patterns=patterns or None, lang=lg)
    if table.empty:
        st.info(t("empty", lg))
        return
    shown = pd.DataFrame({
        t("ring_id", lg): table["ring_id"],
        t("pattern", lg): table["pattern"].map(_pattern),
        t("score", lg): table["score"],
        t("persons", lg): table["persons"],
        t("institutions", lg): table["institutions"],
        t("practitioners", lg): table["practitioners"],
        t("fund_amount", lg): table["fund"].round(2),
        t("first_time", lg): table["first_time"].dt.date,
        t("last_time", lg): table["last_time"].dt.date,
        t("places", lg): table["places"],
        text(L, "evidence", lg): ui.cached(evidence_in, tuple(table[f"evidence_{lg}"]), lg),
    })
    st.caption(text(L, "pick", lg))
    event = st.dataframe(
        shown, hide_index=True, width="stretch", on_select="rerun",
        selection_mode="single-row", key="rings_table",
        column_config={t("score", lg): st.column_config.ProgressColumn(
            t("score", lg), min_value=0.0, max_value=1.0, format="%.2f")},
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        ui.set_param("ring", str(table.iloc[rows[0]]["ring_id"]))
        st.rerun()


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _chance(p: float) -> str:
    """A probability as people read it: ``0.03``, ``2.1×10⁻¹²``, or ``< 10⁻³⁰⁰``."""
    if p <= 0.0:
        return "< 10⁻³⁰⁰"
    if p >= 0.001:
        return f"{p:.3g}"
    mantissa, exponent = f"{p:.1e}".split("e")
    return f"{mantissa}×10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def _why(ring: ring_data.RingRecord) -> None:
    """The test that flagged (or cleared) the ring, as the detection run stored it, then the
    evidence sentences and the descriptive features."""
    run = ui.cached(ring_data.latest_detection_run)
    source = text(L, {"rule": "src_rule", "test": "src_test"}.get(ring.source, "src_community"),
                  lg)
    m = ring.metrics
    if run is None:
        st.markdown(text(L, "score_line_no_run", lg, score=ring.score, rank=ring.rank,
                         source=source))
    else:
        st.markdown(text(L, "score_line", lg, score=ring.score, threshold=run.threshold,
                         fdr=run.fdr, rank=ring.rank, source=source))
    q = _chance(m.get("q_value", 1.0))
    lines = []
    if run is not None:
        lines.append(text(L, "verdict_yes" if ring.suspicious else "verdict_no", lg, q=q,
                          fdr=run.fdr))
    co_settlement = ring.pattern in ("card_pooling", "recruited_inpatients")
    if m.get("p_value", 1.0) <= 0.0:
        lines.append(text(L, "test_hard", lg))
    elif ring.pattern == "doctor_pharmacy_collusion":
        lines.append(text(L, "test_p_steer", lg, p=_chance(m.get("p_value", 1.0))))
    else:
        lines.append(text(L, "test_p", lg, p=_chance(m.get("p_value", 1.0)),
                          pairs=m.get("pairs_searched", 0.0)))
    if run is not None:
        lines.append(text(L, "test_q", lg, q=q, n=int(m.get("tests", run.rings))))
    if co_settlement:
        lines.append(text(L, "test_meetings", lg, meetings=m.get("meetings", 0.0),
                          expected=m.get("expected", 0.0), days=m.get("meeting_days", 0.0)))
    key = ring.explanation
    if key:
        lines.append(text(L, "explained", lg, label=explanation_label(key, lg)))
    else:
        tried = ("、" if lg == "zh" else ", ").join(
            explanation_label(k, lg) for k in EXPLANATIONS)
        lines.append(text(L, "not_explained", lg, tried=tried))
    st.markdown("\n".join(f"- {line}" for line in lines))
    left, right = st.columns([1, 1])
    left.markdown(f"**{text(L, 'evidence', lg)}**")
    evidence = ui.cached(evidence_in, tuple(ring.evidence_zh if lg == "zh" else ring.evidence_en),
                         lg)
    left.markdown("\n".join(f"- {sentence}" for sentence in evidence))
    right.markdown(f"**{text(L, 'features', lg)}**")
    rows = [{text(L, "feature", lg): f.name_zh if lg == "zh" else f.name_en,
             text(L, "value", lg): round(ring.features.get(f.key, 0.0), 3)} for f in FEATURES]
    feats = pd.DataFrame(rows)
    bar = px.bar(feats, x=text(L, "value", lg), y=text(L, "feature", lg), orientation="h",
                 range_x=[0, 1])
    bar.update_layout(height=360, margin={"l": 0, "r": 0, "t": 10, "b": 0}, font_family=FONT,
                      yaxis={"categoryorder": "total ascending"})
    right.plotly_chart(bar, width="stretch", key="ring_features")
    right.dataframe(feats, hide_index=True, width="stretch")


def _persons(ring_id: str) -> pd.DataFrame:
    """The ring's persons as this view may show them (masked unless :func:`ui.reveals`)."""
    return ui.show_masked(ui.cached(ring_data.ring_persons, ring_id, period), "ring", ring_id)


def _doctors(ring_id: str) -> pd.DataFrame:
    """The ring's doctors as this view may show them (masked unless :func:`ui.reveals`)."""
    return ui.show_masked(ui.cached(ring_data.ring_practitioners, ring_id, period), "ring",
                          ring_id)


def _who(ring: ring_data.RingRecord) -> None:
    ui.unmask_toggle("ring", ring.ring_id)
    persons = _persons(ring.ring_id)  # a missing phone shows as "—" (ui.show_masked)
    persons["role"] = persons["role"].map(lambda r: text(L, r, lg) if r in L else r)
    persons["gend"] = persons["gend"].map(lambda g: text(L, f"sex_{g}", lg) if f"sex_{g}" in L
                                          else g)
    tabs = st.tabs([f"{t(k, lg)}" for k in KINDS.values()])
    tabs[0].dataframe(columns(persons.drop(columns=["insu_admdvs"]), lg), hide_index=True,
                      width="stretch", height=ui.table_height(len(persons)))
    institutions = ui.cached(ring_data.ring_institutions, ring.ring_id, period)
    tabs[1].dataframe(columns(institutions.drop(columns=["lon", "lat"]), lg), hide_index=True,
                      width="stretch", height=ui.table_height(len(institutions)))
    doctors = _doctors(ring.ring_id)
    tabs[2].dataframe(columns(doctors, lg), hide_index=True, width="stretch",
                      height=ui.table_height(len(doctors)))


def _where(settlements: pd.DataFrame) -> None:
    trips = ring_data.ring_trips(settlements)
    left, right = st.columns([3, 2])
    left.plotly_chart(ring_trips_map(trips, homes_name=text(L, "homes", lg),
                                     institutions_name=t("institutions", lg),
                                     yuan=t("yuan", lg), height=480, lang=lg),
                      width="stretch", key="ring_map")
    right.markdown(f"**{text(L, 'trips', lg)}**")
    right.dataframe(columns(trips.drop(columns=["home_lon", "home_lat", "lon", "lat",
                                                "insu_admdvs"]), lg),
                    hide_index=True, width="stretch", height=ui.table_height(len(trips)))


def _when(settlements: pd.DataFrame, persons: int) -> None:
    labels = {"persons": t("persons", lg), "institutions": t("institutions", lg),
              "settlements": t("settlements", lg), "fund": t("fund_amount", lg)}
    if persons > PER_PERSON_UP_TO:
        st.caption(text(L, "per_day", lg, n=persons))
    left, right = st.columns([3, 2])
    if persons <= PER_PERSON_UP_TO:
        fig = person_timeline(settlements, labels=labels)
        table = settlements[["setl_time", "psn_no", "fixmedins_name", "med_type", "dise_codg",
                             "fund"]]
    else:
        table = ring_data.ring_days(settlements)
        fig = daily_timeline(table, labels=labels)
        table = table.assign(day=table["day"].dt.date).drop(columns=["fixmedins_code"])
    left.plotly_chart(fig, width="stretch", key="ring_timeline")
    right.dataframe(columns(table, lg), hide_index=True, width="stretch",
                    height=ui.table_height(len(table), 400))


def _how_much(settlements: pd.DataFrame) -> None:
    monthly = ring_data.ring_monthly_fund(settlements)
    fig = px.bar(monthly, x="month", y="fund", text_auto=".3s",
                 labels={"month": t("month", lg), "fund": t("fund_amount", lg)})
    fig.update_layout(height=300, margin={"l": 0, "r": 0, "t": 10, "b": 0}, font_family=FONT)
    left, right = st.columns([3, 2])
    left.plotly_chart(fig, width="stretch", key="ring_monthly")
    right.dataframe(columns(monthly, lg), hide_index=True, width="stretch",
                    height=ui.table_height(len(monthly), 300))


def _network(ring: ring_data.RingRecord) -> None:
    graph = ui.graph_call("ring_subgraph", ring.ring_id)
    persons, doctors = _persons(ring.ring_id), _doctors(ring.ring_id)
    names: dict[tuple[str, str], str] = {}
    for kind, codes, people in (("person", persons["psn_no"], persons["psn_name"]),
                                ("practitioner", doctors["dr_codg"], doctors["dr_name"])):
        for code, name in zip(codes, people, strict=True):
            if isinstance(name, str) and name:
                names[(kind, code)] = name

    def label(node: tuple[str, str], data: Mapping[str, object]) -> str:
        if node[0] == "institution":
            return str(data.get("label", node[1]))
        return names.get(node, node[1])

    st.caption(text(L, "nodes", lg, n=graph.number_of_nodes(), m=graph.number_of_edges()))
    kind_names = {k: t(v, lg) for k, v in KINDS.items()}
    left, right = st.columns([3, 2])
    left.plotly_chart(network_figure(graph, label_of=label, kind_names=kind_names),
                      width="stretch", key="ring_network")
    nodes = network_table(graph, label_of=label)
    nodes["kind"] = nodes["kind"].map({k: t(v, lg) for k, v in KINDS.items()})
    right.dataframe(columns(nodes, lg), hide_index=True, width="stretch",
                    height=ui.table_height(len(nodes), 520))


def _ring_page(ring_id: str) -> None:
    if st.button(text(L, "back", lg), key="back_to_rings"):
        ui.set_param("ring", None)
        st.rerun()
    ring = ui.cached(ring_data.ring_record, ring_id)
    if ring is None:
        st.title(t("ring", lg))
        st.warning(text(L, "not_found", lg, ring_id=ring_id))
        return
    st.title(text(L, "ring_title", lg, ring_id=ring.ring_id, pattern=_pattern(ring.pattern)))
    whole = ui.cached(ring_data.ring_fund, ring.ring_id)
    st.markdown(text(L, "fund_whole", lg, fund=whole.fund, pool=whole.pool,
                     account=whole.account, n=whole.settlements, first=ring.first_time.date(),
                     last=ring.last_time.date()))
    settlements = ui.cached(ring_data.ring_settlements, ring.ring_id, period)
    if settlements.empty:
        st.caption(text(L, "no_settlements", lg))
    else:
        part = ui.cached(ring_data.ring_fund, ring.ring_id, period)
        st.caption(text(L, "fund_in_period", lg, fund=part.fund, pool=part.pool,
                        account=part.account, n=part.settlements,
                        first=settlements["setl_time"].min().date(),
                        last=settlements["setl_time"].max().date()))
    st.header(text(L, "why", lg))
    _why(ring)
    st.header(text(L, "who", lg))
    _who(ring)
    if not settlements.empty:
        st.header(text(L, "where", lg))
        _where(settlements)
        st.header(text(L, "when", lg))
        _when(settlements, len(ring.persons))
        st.header(text(L, "how_much", lg))
        _how_much(settlements)
    st.header(text(L, "network", lg))
    _network(ring)
    _lead_section(ring.ring_id)


LEAD_L = {
    "lead": ("线索", "Lead"),
    "has_lead": ("本团伙已转为线索 **{lead_id}**：{state}，责任人 {owner}，办结期限 {due}。",
                 "This ring is lead **{lead_id}**: {state}, owner {owner}, due {due}."),
    "open_lead": ("打开线索 {lead_id}", "Open lead {lead_id}"),
    "no_lead": ("本团伙尚未转为线索。", "No lead has been made from this ring yet."),
    "to_lead": ("转为线索", "Make it a lead"),
    "no_ledger": ("线索台账暂时无法使用：{reason}",
                  "The leads ledger cannot be used now: {reason}"),
    "to_lead_help": ("在线索台账中为本团伙建立一条待核查线索，并打开它。",
                     "Create a pending lead for this ring in the ledger and open it."),
}


def _lead_section(ring_id: str) -> None:
    """线索: the lead made from the ring, with a link to it on the leads page; when there is
    none, investigators get a button that makes one (and opens it)."""
    from yibao.errors import LeadConflictError, YibaoError
    from yibao.leads import STATES, lead_draft_from_ring

    st.subheader(text(LEAD_L, "lead", lg))
    try:
        ledger = ui.ledger()
        lead = ledger.find("ring", ring_id)
    except YibaoError as exc:  # the ledger's server cannot be reached: the ring still shows
        st.caption(text(LEAD_L, "no_ledger", lg, reason=exc))
        return
    keep = {k: v for k in ("lang", "from", "to") if (v := ui.url_param(k))}
    if lead is not None:
        st.markdown(text(LEAD_L, "has_lead", lg, lead_id=lead.lead_id,
                         state=STATES[lead.state][0 if lg == "zh" else 1],
                         owner=lead.owner or "—", due=lead.due or "—"))
        st.page_link("views/leads.py", label=text(LEAD_L, "open_lead", lg, lead_id=lead.lead_id),
                     icon=":material/assignment:", query_params={"lead": lead.lead_id, **keep})
        return
    st.caption(text(LEAD_L, "no_lead", lg))
    user = ui.current_user()
    if user.role != "investigator":
        return
    if st.button(text(LEAD_L, "to_lead", lg), key="ring_to_lead", type="primary",
                 help=text(LEAD_L, "to_lead_help", lg), icon=":material/assignment_add:"):
        cur = ui.con()
        try:
            draft = lead_draft_from_ring(cur, ring_id)
        finally:
            cur.close()
        if draft is None:
            return
        try:
            lead = ledger.add(draft, by=user.username)
        except LeadConflictError:  # made by someone else since the page drew
            lead = ledger.find("ring", ring_id)
        if lead is not None:
            st.switch_page("views/leads.py", query_params={"lead": lead.lead_id, **keep})


ring_param = ui.url_param("ring")
if ring_param:
    _ring_page(ring_param)
else:
    _ring_list()
