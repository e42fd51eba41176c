"""回流药 Resale chains: trace codes (药品追溯码) settled more than once, searchable and filtered by
class and period; one chain (``?code=...``) hop by hop on a map and a timeline, the rings it
belongs to, and the pharmacy/collector network the chains form. A table sits beside every
graph and map."""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx
import pandas as pd
import streamlit as st

from dashboards import ui
from dashboards.data import chains as chain_data
from dashboards.data.rings import rings_of
from dashboards.figures.flows import hop_map, hop_timeline
from dashboards.figures.maps import lines_and_points
from dashboards.figures.network import network_figure
from dashboards.i18n import pattern_label, t, text
from yibao.i18n import bracket

L = {
    "title": ("回流药：重复结算的药品追溯码", "Resale chains: trace codes settled more than once"),
    "chain_title": ("回流药追溯码 {code}：{drug}", "Resale chain {code}: {drug}"),
    "back": ("← 返回追溯码列表", "← Back to the trace codes"),
    "search": ("搜索追溯码（可输入部分号码）", "Search a trace code (part of it is enough)"),
    "search_note": ("搜索时不按类型筛选。", "A search looks in every class."),
    "all_classes": ("全部类别", "All kinds"),
    "classes": ("类型筛选（不选即全部）", "Classes (none chosen: all)"),
    "pick": ("点击表格中的一行打开该追溯码的流转链", "Click a row to open the code's chain"),
    "count": ("期内 {n:,} 个追溯码被结算两次以上", "{n:,} trace codes settled more than once "
              "in the period"),
    "capped": ("（仅显示前 {n:,} 个）", " (first {n:,} shown)"),
    "none_found": ("没有找到包含“{q}”的重复结算追溯码。", "No trace code containing '{q}' was "
                   "settled more than once."),
    "once": ("以下追溯码只结算过一次（不构成回流链）：", "These codes were settled only once (no "
             "chain):"),
    "code": ("追溯码", "Trace code"),
    "drug": ("药品名称", "Drug"),
    "drug_code": ("医保目录编码", "List code"),
    "class": ("类型", "Class"),
    "n_settlements": ("结算次数", "Settlements"),
    "n_effective": ("有效销售", "Effective sales"),
    "institutions": ("机构数", "Institutions"),
    "cities": ("城市数", "Cities"),
    "city_names": ("流经城市", "Cities passed"),
    "first": ("首次结算", "First settled"),
    "last": ("末次结算", "Last settled"),
    "days": ("间隔天数", "Days between"),
    "network": ("药店与收药人网络", "Pharmacy and collector network"),
    "network_note": (
        "连线：同一追溯码先后在两家药店销售（药店→药店）、先后由两人购买（人→人），以及购药人在药店购药。",
        "Links: the same code sold by one pharmacy then another (pharmacy → pharmacy), bought "
        "by one person then another (person → person), and a buyer's purchases at a pharmacy.",
    ),
    "links_map": ("药店之间的流转（地图）", "Pharmacy to pharmacy (map)"),
    "from": ("上一家", "From"),
    "to": ("下一家", "To"),
    "from_city": ("上一家所在城市", "From city"),
    "to_city": ("下一家所在城市", "To city"),
    "n_codes": ("追溯码数", "Codes"),
    "kind": ("类别", "Kind"),
    "label": ("名称", "Name"),
    "degree": ("相连节点", "Neighbours"),
    "resale_links": ("流转连线", "Resale links"),
    "sales": ("购药连线", "Purchase links"),
    "nodes": ("{n:,} 个节点，{m:,} 条连接", "{n:,} nodes, {m:,} links"),
    "no_network": ("所选时间范围和类型下没有回流网络。", "No resale network for the chosen period "
                   "and classes."),
    "honest_only": ("退费、拆零属于合理解释，不构成回流网络；选择倒卖等类型查看网络。",
                    "Refunds and split packs are honest explanations and form no resale network; "
                    "choose resale or another suspicious class to see it."),
    "not_found": ("追溯码 {code} 没有被重复结算（或不存在）。", "Trace code {code} was not settled "
                  "more than once (or does not exist)."),
    "summary": ("{cls}：结算 {n} 次（有效销售 {eff} 次），经 {inst} 家机构、{cities} 个城市，"
                "{first} 至 {last}，历时 {days:.0f} 天",
                "{cls}: settled {n} times ({eff} effective sales) at {inst} institutions in "
                "{cities} cities, {first} to {last}, {days:.0f} days"),
    "hops_shown": ("期内显示第 {shown} 跳（共 {total} 跳）；调整时间范围可查看全部。",
                   "Hops {shown} of {total} fall in the period; widen the period to see all."),
    "no_hops": ("该链在所选时间范围内没有结算。", "The chain has no settlement in the period."),
    "rings": ("所属团伙", "Rings it belongs to"),
    "no_rings": ("该追溯码不属于任何团伙。", "The code belongs to no ring."),
    "open_ring": ("查看团伙 {ring_id}（{pattern}，证据强度 {score:.2f}）",
                  "Open ring {ring_id} ({pattern}, evidence strength {score:.2f})"),
    "where": ("流经哪里", "Where it went"),
    "when": ("流转时间线", "When"),
    "around": ("该链所在的回流网络", "The network around this chain"),
    "hop": ("第几跳", "Hop"),
    "time": ("结算时间", "Settled"),
    "pharmacy": ("销售机构", "Pharmacy"),
    "city": ("城市", "City"),
    "place": ("区县", "County"),
    "buyer": ("购药人", "Buyer"),
    "psn_no": ("人员编号", "Person no."),
    "amount": ("药品金额（元）", "Drug amount (yuan)"),
    "gap": ("距上一跳（天）", "Days since previous"),
    "km": ("距上一跳（公里）", "km from previous"),
    "status": ("状态", "Status"),
    "effective": ("有效销售", "Effective sale"),
    "reversed": ("已冲销", "Reversed"),
    "reversal": ("冲销", "Reversal"),
    "days_unit": ("天", "days"),
    "km_unit": ("公里", "km"),
}
CLASS_LABELS: dict[str, tuple[str, str]] = {
    "resale": ("倒卖", "Resale"),
    "counterfeit": ("串码/假码", "Counterfeit code"),
    "item_substitution": ("串换", "Item substitution"),
    "refund": ("退费", "Refund"),
    "split_pack": ("拆零", "Split pack"),
}
KINDS = {"person": "persons", "institution": "institutions"}

lg = ui.lang()
ui.require_detection()
period = ui.period()


def _class(c: str) -> str:
    return text(CLASS_LABELS, c, lg) if c in CLASS_LABELS else c


def _chosen_classes() -> tuple[str, ...] | None:
    """The class filter, kept in the URL as ``classes`` (absent: resale; ``all``: every)."""
    raw = ui.url_param("classes")
    default = [] if raw == "all" else (
        [c for c in (raw or "resale").split(",") if c in chain_data.CHAIN_CLASSES])
    chosen = st.multiselect(text(L, "classes", lg), list(chain_data.CHAIN_CLASSES),
                            default=default, format_func=_class, key="chains_classes",
                            placeholder=text(L, "all_classes", lg))
    ui.set_param("classes", "all" if not chosen else
                 None if chosen == ["resale"] else ",".join(chosen))
    return tuple(chosen) or None


def _chain_list() -> None:
    st.title(text(L, "title", lg))
    c1, c2 = st.columns([2, 3])
    query = c1.text_input(text(L, "search", lg), value=ui.url_param("q", "") or "",
                          key="chains_search").strip()
    ui.set_param("q", query or None)
    with c2:
        classes = _chosen_classes()
    limit = 5000
    table = ui.cached(chain_data.chains_table, period,
                      classes=None if query else classes, search=query or None, limit=limit,
                      lang=lg)
    if query:
        st.caption(text(L, "search_note", lg))
    if table.empty:
        if query:
            st.info(text(L, "none_found", lg, q=query))
            once = ui.cached(chain_data.single_settled_codes, query)
            if not once.empty:
                st.caption(text(L, "once", lg))
                st.dataframe(once, hide_index=True, width="stretch")
        else:
            st.info(t("empty", lg))
    else:
        capped = text(L, "capped", lg, n=limit) if len(table) >= limit else ""
        st.markdown(text(L, "count", lg, n=len(table)) + capped)
        shown = pd.DataFrame({
            text(L, "code", lg): table["drug_trac_codg"],
            text(L, "drug", lg): table["med_list_name"],
            text(L, "class", lg): table["hit_class"].map(_class),
            text(L, "n_settlements", lg): table["n_settlements"],
            text(L, "institutions", lg): table["institutions"],
            text(L, "cities", lg): table["cities"],
            text(L, "city_names", lg): table["city_names"],
            text(L, "first", lg): table["first_time"],
            text(L, "last", lg): table["last_time"],
            text(L, "days", lg): table["days"],
        })
        st.caption(text(L, "pick", lg))
        event = st.dataframe(shown, hide_index=True, width="stretch",
                             height=ui.table_height(len(shown), 420),
                             on_select="rerun", selection_mode="single-row", key="chains_table")
        rows = event.selection.rows if event is not None else []
        if rows:
            ui.set_param("code", str(table.iloc[rows[0]]["drug_trac_codg"]))
            st.rerun()
    st.header(text(L, "network", lg))
    st.caption(text(L, "network_note", lg))
    suspicious = tuple(c for c in (classes or chain_data.SUSPICIOUS_CLASSES)
                       if c in chain_data.SUSPICIOUS_CLASSES)
    if not suspicious:
        st.info(text(L, "honest_only", lg))
        return
    links = ui.cached(chain_data.chain_links, period, classes=suspicious, lang=lg)
    _links_map(links)
    _network(ui.cached(chain_data.chain_network, period, classes=suspicious), key="chains")


def _links_map(links: pd.DataFrame) -> None:
    inst = links[links["kind"] == "institution"].dropna(subset=["src_lon", "dst_lon"])
    if inst.empty:
        return
    st.subheader(text(L, "links_map", lg))
    lines = inst.rename(columns={"src_lon": "lon0", "src_lat": "lat0", "dst_lon": "lon1",
                                 "dst_lat": "lat1"})
    lines = lines.assign(width=1 + 5 * (lines["n_codes"] / max(float(lines["n_codes"].max()),
                                                               1.0)) ** 0.5)
    ends = pd.concat([
        inst[["src", "src_name", "src_city", "src_lon", "src_lat"]].set_axis(
            ["code", "name", "city", "lon", "lat"], axis=1),
        inst[["dst", "dst_name", "dst_city", "dst_lon", "dst_lat"]].set_axis(
            ["code", "name", "city", "lon", "lat"], axis=1),
    ]).drop_duplicates("code")
    points = ends.assign(label=ends["name"] + ends["city"].fillna("").map(
        lambda city: bracket(city, lg)), size=12)
    points.attrs.update(name=t("institutions", lg), color="#d62728")
    left, right = st.columns([3, 2])
    left.plotly_chart(lines_and_points(lines=lines, points=[points], height=460, lang=lg),
                      width="stretch", key="chains_links_map")
    right.dataframe(pd.DataFrame({
        text(L, "from", lg): inst["src_name"], text(L, "from_city", lg): inst["src_city"],
        text(L, "to", lg): inst["dst_name"], text(L, "to_city", lg): inst["dst_city"],
        text(L, "n_codes", lg): inst["n_codes"],
        text(L, "first", lg): inst["first_time"], text(L, "last", lg): inst["last_time"],
    }), hide_index=True, width="stretch", height=ui.table_height(len(inst), 440))


def _network(graph: nx.Graph, *, key: str, highlight: tuple[str, str] | None = None,
             reveal: tuple[str, str] = ("chains", "network")) -> None:
    """The network and its table; persons' names masked unless ``reveal`` (a chain's subject
    of :func:`ui.unmask_toggle`; the list's default has no switch) is revealed."""
    if graph.number_of_nodes() == 0:
        st.info(text(L, "no_network", lg))
        return

    def label(node: tuple[str, str], data: Mapping[str, object]) -> str:
        kind, code = node
        if kind == "institution":
            return str(data.get("label", code))
        return f"{t(KINDS.get(kind, kind), lg)} {code}"

    st.caption(text(L, "nodes", lg, n=graph.number_of_nodes(), m=graph.number_of_edges()))
    kind_names = {k: t(v, lg) for k, v in KINDS.items()}
    left, right = st.columns([3, 2])
    left.plotly_chart(network_figure(graph, label_of=label, kind_names=kind_names, height=520,
                                     highlight=highlight),
                      width="stretch", key=f"{key}_network")
    nodes = chain_data.network_nodes(graph)
    names = [_node_name(str(kind), str(name), reveal)
             for kind, name in zip(nodes["kind"], nodes["label"], strict=True)]
    right.dataframe(pd.DataFrame({
        text(L, "kind", lg): [t(KINDS.get(str(k), str(k)), lg) for k in nodes["kind"]],
        text(L, "label", lg): names, t("code", lg): nodes["code"],
        text(L, "degree", lg): nodes["degree"],
        text(L, "resale_links", lg): nodes["resale_links"],
        text(L, "sales", lg): nodes["sales"], text(L, "n_codes", lg): nodes["codes"],
    }), hide_index=True, width="stretch", height=ui.table_height(len(nodes), 500),
        column_config={text(L, "label", lg): st.column_config.TextColumn(width="medium")})


def _node_name(kind: str, name: str, reveal: tuple[str, str]) -> str:
    """A network node's name for its table (``—`` for none): a person's masked unless
    ``reveal`` is revealed."""
    if kind == "person":
        name = ui.show_personal(name or None, "name", *reveal) or ""
    return name or "—"


def _rings(code: str) -> None:
    st.subheader(text(L, "rings", lg))
    rings = ui.cached(rings_of, "trace_code", code)
    if rings.empty:
        st.caption(text(L, "no_rings", lg))
        return
    keep = {k: v for k in ("lang", "from", "to") if (v := ui.url_param(k))}
    for ring in rings.to_dict("records"):
        ring_id = str(ring["ring_id"])
        label = text(L, "open_ring", lg, ring_id=ring_id,
                     pattern=pattern_label(str(ring["pattern"]), lg), score=float(ring["score"]))
        if st.button(label, key=f"open_ring_{ring_id}"):
            st.switch_page("views/rings.py", query_params={"ring": ring_id, **keep})


def _status(row: pd.Series) -> str:
    if bool(row["reversal"]):
        return text(L, "reversal", lg)
    return text(L, "effective" if bool(row["effective"]) else "reversed", lg)


def _chain_page(code: str) -> None:
    if st.button(text(L, "back", lg), key="back_to_chains"):
        ui.set_param("code", None)
        st.rerun()
    chain = ui.cached(chain_data.chain_record, code)
    if chain is None:
        st.title(text(L, "title", lg))
        st.warning(text(L, "not_found", lg, code=code))
        return
    st.title(text(L, "chain_title", lg, code=chain.code, drug=chain.med_list_name))
    everything = ui.cached(chain_data.chain_hops, chain.code, lang=lg)
    cities = everything["city"].dropna().nunique()
    st.markdown(text(L, "summary", lg, cls=_class(chain.hit_class), n=chain.n_settlements,
                     eff=chain.n_effective, inst=len(set(chain.institutions)), cities=cities,
                     first=chain.first_time.date(), last=chain.last_time.date(),
                     days=(chain.last_time - chain.first_time).total_seconds() / 86400))
    _rings(chain.code)
    ui.unmask_toggle("chain", chain.code)
    times = pd.to_datetime(everything["setl_time"])
    inside = (times >= pd.Timestamp(period.start)) & (
        times < pd.Timestamp(period.end) + pd.Timedelta(days=1))
    hops = ui.show_masked(everything[inside].reset_index(drop=True), "chain", chain.code)
    if hops.empty:
        st.info(text(L, "no_hops", lg))
    else:
        if len(hops) < len(everything):
            st.caption(text(L, "hops_shown", lg, shown=", ".join(str(h) for h in hops["hop"]),
                            total=len(everything)))
        hops["buyer"] = (hops["psn_name"].fillna("")
                         + hops["psn_no"].str[-6:].map(
                             lambda no: bracket(no, lg) if isinstance(no, str) else no)
                         ).str.strip()
        hops["status"] = hops.apply(_status, axis=1)
        _where(hops)
        _when(hops)
    st.header(text(L, "around", lg))
    around = tuple(dict.fromkeys([*chain.institutions, *chain.persons]))
    graph = ui.cached(chain_data.chain_network, period, classes=None, around=around)
    first = ("institution", chain.institutions[0]) if chain.institutions else None
    _network(graph, key="chain", highlight=first, reveal=("chain", chain.code))


def _where(hops: pd.DataFrame) -> None:
    st.header(text(L, "where", lg))
    labels = {"hop": text(L, "hop", lg), "days": text(L, "days_unit", lg),
              "km": text(L, "km_unit", lg), "buyer": text(L, "buyer", lg)}
    left, right = st.columns([3, 2])
    left.plotly_chart(hop_map(hops, labels=labels, height=520, lang=lg), width="stretch",
                      key="chain_map", config={"scrollZoom": True})
    right.dataframe(pd.DataFrame({
        text(L, "hop", lg): hops["hop"], text(L, "city", lg): hops["city_name"],
        text(L, "place", lg): hops["place"], text(L, "pharmacy", lg): hops["fixmedins_name"],
        text(L, "km", lg): hops["km"], text(L, "gap", lg): hops["gap_days"],
        t("code", lg): hops["fixmedins_code"],
    }), hide_index=True, width="stretch", height=ui.table_height(len(hops), 480))


def _when(hops: pd.DataFrame) -> None:
    st.header(text(L, "when", lg))
    labels = {"hop": text(L, "hop", lg), "buyer": text(L, "buyer", lg),
              "amount": text(L, "amount", lg), "effective": text(L, "effective", lg),
              "reversed": text(L, "reversed", lg)}
    left, right = st.columns([3, 2])
    left.plotly_chart(hop_timeline(hops, labels=labels, lang=lg), width="stretch",
                      key="chain_timeline")
    right.dataframe(pd.DataFrame({
        text(L, "hop", lg): hops["hop"], text(L, "time", lg): hops["setl_time"],
        text(L, "buyer", lg): hops["psn_name"], text(L, "pharmacy", lg): hops["fixmedins_name"],
        text(L, "amount", lg): hops["amount"], text(L, "status", lg): hops["status"],
        text(L, "psn_no", lg): hops["psn_no"],
    }), hide_index=True, width="stretch")


code_param = ui.url_param("code")
if code_param:
    _chain_page(code_param)
else:
    _chain_list()
