"""查询 Search: find a person, institution, doctor or trace code by code or name; show its profile,
its neighbourhood within N hops in the period (network with its table beside it), every ring it
belongs to (a button to each), and optionally the shortest connection to a second entity.

URL state: ``?kind=person|institution|practitioner|trace_code&q=...&by=code|name&code=...
&hops=1..3&other_kind=...&other=...`` plus the period (``from``/``to``) and ``lang``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping

import networkx as nx
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from backends.base import Expansion, Window
from dashboards import ui
from dashboards.data import search as data
from dashboards.data.rings import rings_of
from dashboards.figures.network import network_figure, network_layout, network_table
from dashboards.i18n import COLUMNS as I18N_COLUMNS
from dashboards.i18n import pattern_label, t, text
from loaders.codes import code_tables

L = {
    "title": ("查询：人员、机构、医师与追溯码",
              "Search: persons, institutions, doctors, trace codes"),
    "kind": ("查询对象", "Search for"),
    "person": ("参保人", "Insured person"),
    "institution": ("定点医药机构", "Institution"),
    "practitioner": ("医保医师", "Doctor"),
    "trace_code": ("药品追溯码", "Drug trace code"),
    "by": ("查询方式", "Search by"),
    "by_code": ("按编码", "Code"),
    "by_name": ("按名称", "Name"),
    "query": ("输入编码（前缀匹配）或名称（模糊匹配）", "Code (prefix) or name (partial match)"),
    "query_ph": ("例如 H3101… 或 人民医院", "e.g. H3101… or part of a name, in Chinese"),
    "name_for_investigators": (
        "按姓名查询参保人和医师仅限调查员；领导/简报角色请按编码查询。",
        "Searching persons and doctors by name is for investigators only; search by code."),
    "no_match": ("没有找到“{q}”。", "Nothing matches “{q}”."),
    "candidates": ("共 {n:,} 条匹配，显示期内结算最多的 {shown} 条；点击一行查看。",
                   "{n:,} matches, the {shown} with most settlements in the period shown; "
                   "click a row to open it."),
    "not_found": ("找不到{kind} {code}。", "No {kind} {code}."),
    "profile": ("{kind} {code}", "{kind} {code}"),
    "name": ("姓名", "Name"),
    "certno": ("证件号码", "ID number"),
    "tel": ("联系电话", "Phone"),
    "home": ("参保地", "Insured division"),
    "gend_age": ("性别/年龄", "Sex / age"),
    "settlements": ("期内结算笔数", "Settlements in period"),
    "fund": ("期内医保基金（元）", "Insurance money in period (yuan)"),
    "places_visited": ("就诊机构数", "Institutions visited"),
    "inst_name": ("机构名称", "Institution"),
    "inst_type": ("机构类型", "Type"),
    "level": ("医院等级", "Level"),
    "place": ("所在地区", "Division"),
    "persons_served": ("就诊人数", "Persons"),
    "dr_name": ("医师姓名", "Doctor"),
    "dr_type": ("医师类别", "Category"),
    "dr_inst": ("执业机构", "Institution"),
    "drug": ("药品", "Drug"),
    "chain_class": ("链条类型", "Chain class"),
    "sales": ("结算次数（全部/有效）", "Settled (all / effective)"),
    "single_sale": ("该追溯码只结算过一次，未形成链条。", "The code was settled once: no chain."),
    "hops_in_period": ("追溯码流转（{n} 次结算，期内 {m} 次）",
                       "Hops of the code ({n} settlements, {m} in the period)"),
    "open_chain": ("在回流药页面查看该链条", "Open the chain on the resale page"),
    "neighbourhood": ("关系邻域", "Neighbourhood"),
    "hops": ("跳数", "Hops"),
    "hops_help": ("一跳：人员 ↔ 就诊机构/医师；两跳：再到这些机构的其他人员，以此类推。",
                  "One hop: person ↔ institution/doctor of a settlement; two hops: on to the "
                  "other persons there, and so on."),
    "nodes": ("{hops} 跳内 {n:,} 个节点，{m:,} 条连接（{period}）",
              "{n:,} nodes and {m:,} links within {hops} hops ({period})"),
    "truncated": ("大型机构（枢纽）只显示医保基金最多的 {cap} 名人员，邻域已截断。",
                  "Hubs (large institutions) show only their {cap} persons with most fund "
                  "money: the neighbourhood is truncated."),
    "alone": ("所选时间范围内没有关联结算。", "No linked settlements in the chosen period."),
    "rings": ("所属团伙", "Rings it belongs to"),
    "no_rings": ("不属于任何已检测的团伙。", "Not a member of any detected ring."),
    "ring_line": ("{pattern}，证据强度 {score:.2f}，{persons} 人，{first} 至 {last}{outside}",
                  "{pattern}, evidence strength {score:.2f}, {persons} persons, {first} to "
                  "{last}{outside}"),
    "outside": ("（不在所选时间范围内）", " (outside the chosen period)"),
    "below": ("，未列为可疑", ", not flagged"),
    "connection": ("最短关联路径", "Shortest connection"),
    "other_kind": ("另一对象", "Other entity"),
    "other_code": ("对方编码", "Its code"),
    "path": ("{n} 跳关联：", "Connected in {n} hops:"),
    "no_path": ("所选时间范围内 {hops} 跳以内没有关联。",
                "No connection within {hops} hops in the chosen period."),
    "same": ("两端是同一对象。", "Both ends are the same entity."),
    "kind_col": ("类型", "Kind"),
    "code_col": ("编码", "Code"),
    "label_col": ("名称", "Name"),
    "degree": ("连接数", "Links"),
    "links_settl": ("连接结算笔数", "Settlements on links"),
    "links_fund": ("连接医保基金（元）", "Insurance money on links (yuan)"),
    "hop": ("序号", "Hop"),
    "time": ("结算时间", "Settled at"),
    "setl_id": ("结算编号", "Settlement"),
    "psn_no": ("人员编号", "Person"),
    "price": ("单价（元）", "Price (yuan)"),
    "cnt": ("数量", "Quantity"),
    "status": ("状态", "Status"),
    "st_effective": ("有效", "effective"),
    "st_reversal": ("冲销", "reversal"),
    "st_reversed": ("已冲销", "reversed"),
    "in_period": ("期内", "In period"),
}

COLUMNS: dict[str, tuple[str, str]] = {
    **I18N_COLUMNS,  # the workbench's column labels (dashboards.i18n), and the search's own:
    "sales": ("结算次数（全部）", "Settled (all time)"),
    "hit_class": ("链条类型", "Chain class"),
    "settlements": ("期内结算笔数", "Settlements in period"),
    "fund": ("期内医保基金（元）", "Insurance money in period (yuan)"),
}
CODES: dict[str, str] = {"person": "psn_no", "institution": "fixmedins_code",
                         "practitioner": "dr_codg", "trace_code": "drug_trac_codg"}
GENDERS = {"1": ("男", "male"), "2": ("女", "female"), "9": ("未知", "unknown")}
INST_TYPES = {"1": ("定点医疗机构", "Medical institution"),
              "2": ("定点零售药店", "Retail pharmacy")}
DR_TYPES = {"1": ("医师", "Doctor"), "2": ("药师", "Pharmacist"), "3": ("护士", "Nurse"),
            "4": ("技师", "Technician")}
LEVELS = {c.code: (c.zh, c.en) for c in code_tables()["hosp_lv"].codes}
CHAIN_CLASSES = {
    "resale": ("回流倒卖", "resale"), "counterfeit": ("疑似假码", "counterfeit"),
    "item_substitution": ("串换药品", "item substitution"),
    "refund": ("退费后再售", "refund and resale"), "split_pack": ("拆零销售", "split pack"),
}
Node = tuple[str, str]
Subject = tuple[str, str]  # what a reveal covers: (subject kind, subject), see ui.reveals
HOPS_DEFAULT = 2
MAX_PER_NODE = 100  # a hub adds at most this many persons (most fund money first) per hop
CONNECTION_HOPS = 4

lg = ui.lang()
st.title(text(L, "title", lg))
ui.require_detection()
period = ui.period()
user = ui.current_user()
start, end = data.period_bounds(period)


def _zh_en(table: Mapping[str, tuple[str, str]], value: object) -> str:
    zh, en = table.get(str(value), (_shown(value), _shown(value)))  # none: "—"
    return zh if lg == "zh" else en


def _level(code: object) -> str:
    """A hospital level (医院等级) by its code; ``—`` when none or unknown."""
    return _zh_en(LEVELS, code) if code and code in LEVELS else "—"


def _kind_name(kind: str) -> str:
    return text(L, kind, lg) if kind in L else kind


def _shown(value: object) -> str:
    return "—" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def _search_form() -> tuple[str, str | None, Subject | None]:
    """The kind, query and mode widgets; returns the kind, the chosen code (or ``None``), both
    kept in the URL, and the candidates' reveal when it covers that code's profile too."""
    url_kind = ui.url_param("kind", "person") or "person"
    url_kind = "practitioner" if url_kind == "doctor" else url_kind
    if url_kind not in data.SEARCH_KINDS:
        url_kind = "person"
    c1, c2, c3 = st.columns([3, 1, 3])
    kind = str(c1.radio(text(L, "kind", lg), data.SEARCH_KINDS, format_func=_kind_name,
                        index=data.SEARCH_KINDS.index(url_kind), horizontal=True,
                        key="search_kind"))
    code = ui.url_param("code")
    if kind != url_kind:
        code = None
    ui.set_param("kind", kind)
    names_allowed = kind == "institution" or (kind != "trace_code" and user.may_unmask)
    modes = ["code", "name"] if names_allowed else ["code"]
    url_by = ui.url_param("by", "code")
    by = str(c2.radio(text(L, "by", lg), modes, format_func=lambda m: text(L, f"by_{m}", lg),
                      index=modes.index(url_by) if url_by in modes else 0, key="search_by"))
    ui.set_param("by", None if by == "code" else by)
    url_q = ui.url_param("q", "") or ""
    if url_by == "name" and kind in ("person", "practitioner") and not names_allowed:
        # the URL's query is a person's or doctor's name, which this view may not show (a
        # slide, or a leadership user opening an investigator's link): start empty, also
        # when the box still holds it from before the slide
        if st.session_state.get("search_q") == url_q:
            st.session_state["search_q"] = ""
        url_q = ""
    q = c3.text_input(text(L, "query", lg), value=url_q, placeholder=text(L, "query_ph", lg),
                      key="search_q").strip()
    if kind in ("person", "practitioner") and not user.may_unmask:
        st.caption(text(L, "name_for_investigators", lg))
    new_search = q != url_q or kind != url_kind
    ui.set_param("q", q or None)
    if q and new_search:
        code = None  # a new search drops the entity picked from the last one
    picked, switched = _candidates(kind, q, by, code, new_search=new_search) if q else (None, False)
    code = picked or code
    ui.set_param("code", code)
    return kind, code, ("search", f"{kind}:{by}:{q}") if switched and code else None


def _candidates(kind: str, q: str, by: str, code: str | None, *, new_search: bool
                ) -> tuple[str | None, bool]:
    """The candidate table; returns the code picked (a selected row, or on a new search the
    exact or only match; ``None`` keeps ``code``) and whether it drew the view's one reveal
    switch, which covers the candidates and the profile shown below them."""
    found = ui.cached(data.search_entities, kind, q, period, by=by, lang=lg)
    if found.empty:
        st.info(text(L, "no_match", lg, q=q))
        return None, False
    st.caption(text(L, "candidates", lg, n=int(found["matches"].iloc[0]), shown=len(found)))
    shown = found.drop(columns=["matches", "insu_admdvs", "admdvs"], errors="ignore")
    codes = found[CODES[kind]].astype(str)
    switched = kind in ("person", "practitioner")
    if switched:
        # every person or practitioner the reveal shows is named in the audit log
        ui.unmask_toggle("search", f"{kind}:{by}:{q}", covers=tuple(
            (kind, c) for c in dict.fromkeys([*codes, code] if code else codes)))
        shown = ui.show_masked(shown, "search", f"{kind}:{by}:{q}")
    for column, table in (("gend", GENDERS), ("fixmedins_type", INST_TYPES),
                          ("dr_type", DR_TYPES), ("hit_class", CHAIN_CLASSES)):
        if column in shown.columns:
            shown[column] = shown[column].map(lambda v, tb=table: _zh_en(tb, v))
    if "hosp_lv" in shown.columns:
        shown["hosp_lv"] = shown["hosp_lv"].map(_level)
    shown["fund"] = shown["fund"].round(2)
    shown = shown.rename(columns={c: text(COLUMNS, c, lg) for c in shown.columns})
    event = st.dataframe(shown, hide_index=True, width="stretch",
                         height=min(38 + 35 * len(shown), 320),
                         on_select="rerun", selection_mode="single-row",
                         key=f"search_results:{kind}:{by}:{q}")
    rows = event.selection.rows if event is not None else []
    if rows:
        return str(codes.iloc[rows[0]]), switched
    if new_search and (len(found) == 1 or codes.iloc[0] == q):
        return str(codes.iloc[0]), switched
    return None, switched


def _md(value: str) -> str:
    """``value`` with Markdown's special characters escaped (masked names hold ``**``)."""
    return re.sub(r"([\\`*_\[\]<>#|~])", r"\\\1", value)


def _field(where: DeltaGenerator, label: str, value: str, *, hint: str | None = None) -> None:
    """A label and a text value in a profile card (smaller than ``st.metric``, so an ID number
    fits; both escaped, they come from the store)."""
    tip = f' title="{html.escape(hint)}"' if hint else ""
    where.markdown(
        f'<div class="search-field"{tip}><div style="font-size:0.875rem;opacity:0.7">'
        f'{html.escape(label)}</div><div style="font-size:1.25rem;font-weight:600;'
        f'padding-bottom:0.5rem">{html.escape(value)}</div></div>', unsafe_allow_html=True)


def _person_card(code: str, reveal: Subject) -> bool:
    frame = ui.show_masked(ui.cached(data.person_profile, code, period, lang=lg), *reveal)
    if frame.empty:
        return False
    p = frame.iloc[0]
    name, certno, tel = p["psn_name"], p["certno"], p["tel"]
    with st.container(border=True):
        c = st.columns(4)
        _field(c[0], text(L, "name", lg), _shown(name))
        _field(c[1], text(L, "certno", lg), _shown(certno))
        _field(c[2], text(L, "tel", lg), _shown(tel))
        _field(c[3], text(L, "home", lg), _shown(p["home"]))
        c = st.columns(4)
        age = "—" if pd.isna(p["age"]) else str(int(p["age"]))
        _field(c[0], text(L, "gend_age", lg), f"{_zh_en(GENDERS, p['gend'])} / {age}")
        _field(c[1], text(L, "settlements", lg), f"{int(p['settlements']):,}")
        _field(c[2], text(L, "fund", lg), f"{float(p['fund']):,.2f}")
        _field(c[3], text(L, "places_visited", lg), f"{int(p['institutions']):,}")
    return True


def _institution_card(code: str, reveal: Subject) -> bool:
    frame = ui.cached(data.institution_profile, code, period, lang=lg)
    if frame.empty:
        return False
    i = frame.iloc[0]
    with st.container(border=True):
        c = st.columns(4)
        _field(c[0], text(L, "inst_name", lg), _shown(i["fixmedins_name"]))
        _field(c[1], text(L, "inst_type", lg), _zh_en(INST_TYPES, i["fixmedins_type"]))
        _field(c[2], text(L, "level", lg), _level(i["hosp_lv"]))
        _field(c[3], text(L, "place", lg), _shown(i["place"]), hint=_shown(i["addr"]))
        c = st.columns(4)
        _field(c[0], text(L, "settlements", lg), f"{int(i['settlements']):,}")
        _field(c[1], text(L, "fund", lg), f"{float(i['fund']):,.2f}")
        _field(c[2], text(L, "persons_served", lg), f"{int(i['persons']):,}")
    return True


def _practitioner_card(code: str, reveal: Subject) -> bool:
    frame = ui.show_masked(ui.cached(data.practitioner_profile, code, period), *reveal)
    if frame.empty:
        return False
    d = frame.iloc[0]
    with st.container(border=True):
        c = st.columns(4)
        _field(c[0], text(L, "dr_name", lg), _shown(d["dr_name"]))
        _field(c[1], text(L, "dr_type", lg), _zh_en(DR_TYPES, d["dr_type"]))
        _field(c[2], text(L, "dr_inst", lg), _shown(d["fixmedins_name"]),
               hint=_shown(d["fixmedins_code"]))
        _field(c[3], text(L, "settlements", lg), f"{int(d['settlements']):,}")
    return True


def _trace_card(code: str, reveal: Subject) -> bool:
    hops = ui.cached(data.trace_code_hops, code, period, lang=lg)
    if hops.empty:
        return False
    summary = ui.cached(data.trace_code_summary, code)
    with st.container(border=True):
        c = st.columns(4)
        if summary.empty:
            c[0].caption(text(L, "single_sale", lg))
        else:
            s = summary.iloc[0]
            _field(c[0], text(L, "drug", lg), _shown(s["med_list_name"]))
            _field(c[1], text(L, "chain_class", lg), _zh_en(CHAIN_CLASSES, s["hit_class"]))
            _field(c[2], text(L, "sales", lg),
                   f"{int(s['n_settlements'])} / {int(s['n_effective'])}")
            query = {"code": code, **_keep_params()}
            c[3].page_link("views/chains.py", label=text(L, "open_chain", lg),
                           icon=":material/medication:", query_params=query)
        heading = text(L, "hops_in_period", lg, n=len(hops), m=int(hops["in_period"].sum()))
        st.markdown(f"**{heading}**")
        status = hops.apply(lambda h: text(L, "st_reversal" if h["reversal"] else
                                           "st_reversed" if h["reversed"] else
                                           "st_effective", lg), axis=1)
        table = pd.DataFrame({
            text(L, "hop", lg): hops["hop"], text(L, "time", lg): hops["setl_time"],
            text(L, "inst_name", lg): hops["fixmedins_name"],
            text(L, "place", lg): hops["place"], text(L, "psn_no", lg): hops["psn_no"],
            text(L, "price", lg): hops["pric"], text(L, "cnt", lg): hops["cnt"],
            text(L, "status", lg): status, text(L, "in_period", lg): hops["in_period"],
            text(L, "setl_id", lg): hops["setl_id"],
        })
        st.dataframe(table, hide_index=True, width="stretch")
    return True


def _keep_params() -> dict[str, str]:
    """The language and period of the URL, for links to other pages."""
    return {k: v for k in ("lang", "from", "to") if (v := ui.url_param(k))}


def _names_of(nodes: tuple[Node, ...], subject: Node) -> dict[Node, str | None]:
    """The names of ``nodes`` (persons' and doctors' masked unless :func:`ui.reveals`
    ``subject``, the entity searched for; institutions' as they are)."""
    if not nodes:
        return {}
    frame = ui.cached(data.names_of, nodes)
    return {(k, c): n if k == "institution" else ui.show_personal(n, "name", *subject)
            for k, c, n in frame.itertuples(index=False)}


def _labeller(graph_nodes: list[Node], subject: Node, *, with_code: bool
              ) -> Callable[[Node, Mapping[str, object]], str]:
    """A ``label_of(node, attributes)`` for the network: institution names; person and
    doctor names masked unless ``subject`` is revealed (``with_code``: kind and code too, for
    hovers)."""
    names = _names_of(tuple(sorted(n for n in graph_nodes
                                   if n[0] in ("person", "practitioner"))), subject)

    def label(node: tuple[str, str], attrs: Mapping[str, object]) -> str:
        kind, code = node
        if kind == "institution":
            return str(attrs.get("label", code))
        if kind == "trace_code":
            return f"{text(L, 'trace_code', lg)} {code}" if with_code else ""
        shown = names.get(node) or ""
        return f"{_kind_name(kind)} {shown} {code}".replace("  ", " ") if with_code else shown

    return label


def _mark_centre(fig: go.Figure, graph: nx.Graph, center: Node, label: str) -> None:
    """Ring the searched entity on top of the network so it stands out of a dense
    neighbourhood. A person, institution or doctor is found among the drawn nodes by its
    (unique) hover label; a trace code, which the network figure does not draw, is placed at
    the same seeded layout position and drawn as a diamond."""
    where: tuple[float, float] | None = None
    for trace in fig.data:
        labels = list(trace.text) if trace.text is not None else []
        if label in labels:
            i = labels.index(label)
            where = (float(trace.x[i]), float(trace.y[i]))
    if center[0] == "trace_code":
        pos = network_layout(graph)
        where = pos.get(center)
        if where is not None:
            fig.add_trace(go.Scattergl(
                x=[where[0]], y=[where[1]], mode="markers", name=text(L, "trace_code", lg),
                marker={"size": 22, "color": "#ff7f0e", "symbol": "diamond",
                        "line": {"width": 1, "color": "white"}},
                text=[label], hovertemplate="%{text}<extra></extra>"))
    if where is not None:
        fig.add_trace(go.Scattergl(
            x=[where[0]], y=[where[1]], mode="markers", showlegend=False, hoverinfo="skip",
            marker={"size": 30, "color": "#111111", "symbol": "circle-open",
                    "line": {"width": 3, "color": "#111111"}}))


def _neighbourhood(kind: str, code: str, reveal: Subject) -> None:
    st.header(text(L, "neighbourhood", lg))
    url_hops = ui.url_param("hops", str(HOPS_DEFAULT)) or str(HOPS_DEFAULT)
    slot, _ = st.columns([1, 2])
    hops = int(slot.slider(text(L, "hops", lg), 1, 3,
                           value=int(url_hops) if url_hops in ("1", "2", "3")
                           else HOPS_DEFAULT, help=text(L, "hops_help", lg),
                           key="search_hops"))
    ui.set_param("hops", None if hops == HOPS_DEFAULT else str(hops))
    expansion = Expansion(hops=hops, window=Window(start, end), max_per_node=MAX_PER_NODE)
    graph = (ui.graph_call("trace_code_neighbourhood", code, expansion) if kind == "trace_code"
             else ui.graph_call("neighbourhood", (kind, code), expansion))
    st.caption(text(L, "nodes", lg, hops=hops, n=graph.number_of_nodes(),
                    m=graph.number_of_edges(), period=str(period)))
    if graph.graph.get("truncated"):
        st.info(text(L, "truncated", lg, cap=MAX_PER_NODE))
    if graph.number_of_edges() == 0:
        st.caption(text(L, "alone", lg))
        return
    label = _labeller(list(graph.nodes), reveal, with_code=True)
    center = (kind, code)
    kind_names = {k: _kind_name(k) for k in ("person", "institution", "practitioner")}
    fig = network_figure(graph, label_of=label, kind_names=kind_names,
                         highlight=center if kind != "trace_code" else None)
    _mark_centre(fig, graph, center, label(center, graph.nodes[center]))
    fig.update_layout(legend={"itemsizing": "constant"})
    table = network_table(graph, label_of=_labeller(list(graph.nodes), reveal,
                                                    with_code=False))
    first = (table["kind"] == kind) & (table["code"] == code)
    table = pd.concat([table[first], table[~first]], ignore_index=True)
    table["kind"] = table["kind"].map(_kind_name)
    table = table.rename(columns={
        "kind": text(L, "kind_col", lg), "code": text(L, "code_col", lg),
        "label": text(L, "label_col", lg), "degree": text(L, "degree", lg),
        "settlements": text(L, "links_settl", lg), "fund": text(L, "links_fund", lg)})
    left, right = st.columns([3, 2])
    left.plotly_chart(fig, width="stretch", config={"displaylogo": False},
                      key="search_network")
    right.dataframe(table, hide_index=True, width="stretch",
                    height=min(38 + 35 * len(table), 540))


def _rings(kind: str, code: str) -> None:
    st.header(text(L, "rings", lg))
    rings = ui.cached(rings_of, kind, code)
    if rings.empty:
        st.caption(text(L, "no_rings", lg))
        return
    spans = ui.cached(data.ring_spans, tuple(rings["ring_id"]), period)
    for r in rings.merge(spans, on="ring_id", how="left").to_dict("records"):
        ring_id = str(r["ring_id"])
        known = not pd.isna(r["first_time"])
        line = text(
            L, "ring_line", lg, pattern=pattern_label(str(r["pattern"]), lg),
            score=float(r["score"]), persons=int(r["persons"]) if known else 0,
            first=pd.Timestamp(r["first_time"]).date() if known else "—",
            last=pd.Timestamp(r["last_time"]).date() if known else "—",
            outside="" if not known or bool(r["in_period"]) else text(L, "outside", lg))
        if not bool(r["suspicious"]):
            line += text(L, "below", lg)
        c1, c2 = st.columns([1, 4], vertical_alignment="center")
        if c1.button(f"{t('open_ring', lg)} {ring_id}", key=f"search_ring_{ring_id}",
                     icon=":material/group:"):
            st.switch_page("views/rings.py", query_params={"ring": ring_id, **_keep_params()})
        c2.markdown(_md(line))


def _connection(kind: str, code: str, reveal: Subject) -> None:
    with st.expander(text(L, "connection", lg), expanded=bool(ui.url_param("other"))):
        kinds = ["person", "institution", "practitioner"]
        url_other_kind = ui.url_param("other_kind", "person") or "person"
        c1, c2 = st.columns([2, 3])
        other_kind = str(c1.radio(
            text(L, "other_kind", lg), kinds, format_func=_kind_name, horizontal=True,
            index=kinds.index(url_other_kind) if url_other_kind in kinds else 0,
            key="search_other_kind"))
        other = c2.text_input(text(L, "other_code", lg), value=ui.url_param("other", "") or "",
                              key="search_other").strip()
        ui.set_param("other_kind", None if other_kind == "person" else other_kind)
        ui.set_param("other", other or None)
        if not other:
            return
        a, b = (kind, code), (other_kind, other)
        if a == b:
            st.caption(text(L, "same", lg))
            return
        path = ui.graph_call("shortest_connection", a, b, max_hops=CONNECTION_HOPS,
                             window=Window(start, end))
        if not path:
            st.info(text(L, "no_path", lg, hops=CONNECTION_HOPS))
            return
        names = _names_of(tuple(path), reveal)

        def label(node: tuple[str, str]) -> str:
            return f"{_kind_name(node[0])} {names.get(node) or ''}（{node[1]}）"

        st.markdown(text(L, "path", lg, n=len(path) - 1) + "  \n"
                    + " → ".join(f"**{_md(label(n))}**" for n in path))


CARDS = {"person": _person_card, "institution": _institution_card,
         "practitioner": _practitioner_card, "trace_code": _trace_card}
kind, code, shared = _search_form()
if code:
    st.divider()
    st.subheader(text(L, "profile", lg, kind=_kind_name(kind), code=code))
    if shared is None:  # else the candidates' switch, which covers this code, is the one
        ui.unmask_toggle(kind, code)
    reveal = shared or (kind, code)
    if not CARDS[kind](code, reveal):
        st.warning(text(L, "not_found", lg, kind=_kind_name(kind), code=code))
    else:
        _neighbourhood(kind, code, reveal)
        _rings(kind, code)
        if kind != "trace_code":
            _connection(kind, code, reveal)
