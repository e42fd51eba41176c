"""Resale chains (回流药) for the workbench: trace codes settled more than once, one chain's hops,
and the pharmacy/collector network the chains form.

Everything is read from the tables detection writes (``chains``, ``chain_links``, see
:mod:`graph.chains`) joined to the loaded data. A chain belongs to a period when it overlaps it
(first settlement before the period ends, last one after it starts). Personal columns
(``psn_name``) come back in full: masking is the caller's job, because only the caller knows the
user's role.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import networkx as nx
import numpy as np
import pandas as pd

from dashboards.data.common import FUND_SQL, Period, query_frame
from graph.chains import HONEST_CLASSES
from graph.rules import TRACE_CLASSES
from yibao.divisions import division_list, division_name
from yibao.i18n import Lang

__all__ = [
    "CHAIN_CLASSES",
    "SUSPICIOUS_CLASSES",
    "ChainRecord",
    "chain_hops",
    "chain_links",
    "chain_network",
    "chain_record",
    "chain_sales",
    "chains_table",
    "network_nodes",
    "single_settled_codes",
]

CHAIN_CLASSES: tuple[str, ...] = TRACE_CLASSES
"""Classes of a chain (``chains.hit_class``): resale 倒卖, counterfeit 串码/假码, item_substitution
串换, refund 退费, split_pack 拆零."""

SUSPICIOUS_CLASSES: tuple[str, ...] = tuple(c for c in TRACE_CLASSES if c not in HONEST_CLASSES)
"""The classes that ``chain_links`` keeps (``refund`` and ``split_pack`` are honest)."""

_OVERLAPS = "first_time < $p_end AND last_time >= $p_start"

_HOP_TYPE = (
    '[{"setl_id": "VARCHAR", "psn_no": "VARCHAR", "fixmedins_code": "VARCHAR", '
    '"setl_time": "TIMESTAMP", "pric": "DOUBLE", "cnt": "DOUBLE", "reversed": "BOOLEAN", '
    '"reversal": "BOOLEAN", "effective": "BOOLEAN", "init_setl_id": "VARCHAR"}]'
)


def _after(frame: pd.DataFrame, column: str) -> int:
    """The position just right of ``column`` (to insert a derived column beside it)."""
    return list(frame.columns).index(column) + 1


def _city(code: object) -> str | None:
    return f"{str(code)[:4]}00" if isinstance(code, str) and len(code) >= 4 else None


def chains_table(con: duckdb.DuckDBPyConnection, period: Period, *,
                 classes: tuple[str, ...] | None = ("resale",), search: str | None = None,
                 limit: int = 5000, lang: Lang = "zh") -> pd.DataFrame:
    """Trace codes settled more than once, overlapping ``period``, most settled first.

    ``classes`` keeps those chain classes (``None``: all); ``search`` keeps codes containing
    that text (a partial code). Columns: ``drug_trac_codg``, ``med_list_codg``,
    ``med_list_name``, ``hit_class``, ``n_settlements`` (sales, reversals included),
    ``n_effective``, ``institutions`` and ``cities`` (distinct counts), ``city_names``
    (listed in ``lang``, in hop order), ``first_time``, ``last_time``, ``days`` (span, days).
    """
    sql = f"""
        WITH c AS (
            SELECT * FROM chains WHERE {_OVERLAPS}
              AND ($classes IS NULL OR list_contains($classes, hit_class))
              AND ($q IS NULL OR contains(drug_trac_codg, $q))),
        u AS (SELECT drug_trac_codg, unnest(institutions) AS inst,
                     generate_subscripts(institutions, 1) AS k FROM c),
        places AS (
            SELECT u.drug_trac_codg, count(DISTINCT u.inst) AS institutions,
                   list(substr(i.admdvs, 1, 4) || '00' ORDER BY u.k) AS cities
            FROM u LEFT JOIN institutions i ON i.fixmedins_code = u.inst GROUP BY 1)
        SELECT c.drug_trac_codg, c.med_list_codg, c.med_list_name, c.hit_class,
               c.n_settlements, c.n_effective, p.institutions, p.cities,
               c.first_time, c.last_time,
               round(date_diff('second', c.first_time, c.last_time) / 86400.0, 1) AS days
        FROM c JOIN places p USING (drug_trac_codg)
        ORDER BY c.n_settlements DESC, len(list_distinct(p.cities)) DESC, c.first_time,
                 c.drug_trac_codg
        LIMIT $limit
    """
    query = search.strip() if search else None
    frame = query_frame(con, sql, {**period.params, "classes": list(classes) if classes else None,
                                   "q": query or None, "limit": int(limit)})
    ordered = frame.pop("cities").map(
        lambda codes: list(dict.fromkeys(c for c in codes if c)) if codes is not None else [])
    frame.insert(7, "cities", ordered.map(len).astype("int64"))
    frame.insert(8, "city_names", ordered.map(lambda cs: division_list(cs, lang)))
    return frame


def single_settled_codes(con: duckdb.DuckDBPyConnection, search: str, *, limit: int = 20
                         ) -> pd.DataFrame:
    """Trace codes containing ``search`` that are *not* chains (settled once): ``code``,
    ``setl_id``, ``setl_time``, ``fixmedins_code``, ``med_list_name``. Lets a search say "this
    box was sold once" instead of "not found"."""
    sql = """
        SELECT t.drug_trac_codg AS code, any_value(t.setl_id) AS setl_id,
               any_value(s.setl_time) AS setl_time, any_value(s.fixmedins_code)
                   AS fixmedins_code, any_value(f.med_list_name) AS med_list_name
        FROM trace_codes t
        LEFT JOIN settlements s ON s.setl_id = t.setl_id
        LEFT JOIN fee_details f ON f.setl_id = t.setl_id AND f.feedetl_sn = t.feedetl_sn
        WHERE contains(t.drug_trac_codg, $q)
          AND t.drug_trac_codg NOT IN (SELECT drug_trac_codg FROM chains)
        GROUP BY 1 ORDER BY 1 LIMIT $limit
    """
    return query_frame(con, sql, {"q": search.strip(), "limit": int(limit)})


@dataclass(frozen=True)
class ChainRecord:
    """One chain as detection stored it (money in yuan, times local)."""

    code: str
    med_list_codg: str
    med_list_name: str
    hit_class: str
    n_settlements: int
    n_effective: int
    first_time: pd.Timestamp
    last_time: pd.Timestamp
    institutions: list[str]
    persons: list[str]


def chain_record(con: duckdb.DuckDBPyConnection, code: str) -> ChainRecord | None:
    """The chain of trace code ``code`` (exact), or ``None`` when it was settled at most once."""
    frame = query_frame(con, "SELECT * FROM chains WHERE drug_trac_codg = $code",
                        {"code": str(code)})
    if frame.empty:
        return None
    r = frame.iloc[0]
    return ChainRecord(
        code=str(r["drug_trac_codg"]), med_list_codg=str(r["med_list_codg"]),
        med_list_name=str(r["med_list_name"]), hit_class=str(r["hit_class"]),
        n_settlements=int(r["n_settlements"]), n_effective=int(r["n_effective"]),
        first_time=pd.Timestamp(r["first_time"]), last_time=pd.Timestamp(r["last_time"]),
        institutions=[str(x) for x in r["institutions"]],
        persons=[str(x) for x in r["persons"]],
    )


def _haversine_km(lon0: np.ndarray, lat0: np.ndarray, lon1: np.ndarray, lat1: np.ndarray
                  ) -> np.ndarray:
    lo0, la0, lo1, la1 = (np.radians(a.astype(float)) for a in (lon0, lat0, lon1, lat1))
    a = np.sin((la1 - la0) / 2) ** 2 + np.cos(la0) * np.cos(la1) * np.sin((lo1 - lo0) / 2) ** 2
    return np.asarray(2 * 6371.0088 * np.arcsin(np.sqrt(a)))


def chain_hops(con: duckdb.DuckDBPyConnection, code: str, *, lang: Lang = "zh"
               ) -> pd.DataFrame:
    """The hops of chain ``code`` in time order, one row per settlement of the code.

    Columns: ``hop`` (1, 2, …), ``setl_id``, ``setl_time``, ``psn_no``, ``psn_name`` (the
    buyer, unmasked), ``fixmedins_code``, ``fixmedins_name``, ``fixmedins_type``, ``admdvs``,
    ``city`` (6-digit city code), ``city_name``, ``place`` (county name; names in
    ``lang``), ``lon``/``lat`` (the
    institution), ``pric`` (unit price, yuan), ``cnt`` (negative on a reversal), ``amount``
    (``pric × cnt``, yuan), ``fund`` (fund money of the whole settlement, yuan), ``reversed``,
    ``reversal``, ``effective``, ``gap_days`` (since the previous hop) and ``km`` (from the
    previous hop's institution). Empty when ``code`` is not a chain.
    """
    sql = f"""
        WITH x AS (SELECT json_transform(hops, '{_HOP_TYPE}') AS l
                   FROM chains WHERE drug_trac_codg = $code),
        h AS (SELECT generate_subscripts(l, 1) AS hop, unnest(l, recursive := true) FROM x)
        SELECT h.hop, h.setl_id, h.setl_time, h.psn_no, p.psn_name, h.fixmedins_code,
               i.fixmedins_name, i.fixmedins_type, i.admdvs, i.lon, i.lat, h.pric, h.cnt,
               round(h.pric * h.cnt, 2) AS amount, {FUND_SQL} AS fund, h.reversed, h.reversal,
               h.effective
        FROM h
        LEFT JOIN settlements s ON s.setl_id = h.setl_id
        LEFT JOIN persons p ON p.psn_no = h.psn_no
        LEFT JOIN institutions i ON i.fixmedins_code = h.fixmedins_code
        ORDER BY h.hop
    """
    frame = query_frame(con, sql, {"code": str(code)})
    city = frame["admdvs"].map(_city)
    frame.insert(9, "city", city)
    frame.insert(10, "city_name", city.map(lambda c: division_name(c, lang) if c else None))
    frame.insert(11, "place", frame["admdvs"].map(
        lambda c: division_name(c, lang) if isinstance(c, str) else c))
    times = pd.to_datetime(frame["setl_time"])
    frame["gap_days"] = (times.diff().dt.total_seconds() / 86400.0).round(1)
    if len(frame) > 1:
        km = _haversine_km(frame["lon"].shift().to_numpy(), frame["lat"].shift().to_numpy(),
                           frame["lon"].to_numpy(), frame["lat"].to_numpy())
        frame["km"] = np.round(km, 1)
    else:
        frame["km"] = np.nan
    return frame


def chain_links(con: duckdb.DuckDBPyConnection, period: Period, *,
                classes: tuple[str, ...] | None = None, around: tuple[str, ...] | None = None,
                kind: str | None = None, limit: int = 3000, lang: Lang = "zh"
                ) -> pd.DataFrame:
    """Links of the pharmacy/collector network overlapping ``period``, strongest first.

    A link is two consecutive effective sales of the same code in a suspicious chain: pharmacy
    → next pharmacy (``kind`` ``institution``) or buyer → next buyer (``person``). ``classes``
    keeps links carrying one of those classes; ``around`` keeps links touching one of those
    codes (an institution or a person). Columns: ``kind``, ``src``, ``dst``, ``src_name`` /
    ``dst_name`` (institution names; empty for persons), ``src_lon``/``src_lat``/``dst_lon``/
    ``dst_lat`` (institutions), ``src_city``/``dst_city`` (names in ``lang``), ``n_codes``,
    ``first_time``, ``last_time``, ``hit_classes`` (、-joined), ``chain_codes`` (a sample).
    """
    sql = """
        SELECT l.kind, l.src, l.dst, a.fixmedins_name AS src_name, b.fixmedins_name AS dst_name,
               a.lon AS src_lon, a.lat AS src_lat, b.lon AS dst_lon, b.lat AS dst_lat,
               a.admdvs AS src_admdvs, b.admdvs AS dst_admdvs, l.n_codes, l.first_time,
               l.last_time, l.hit_classes, l.chain_codes
        FROM chain_links l
        LEFT JOIN institutions a ON l.kind = 'institution' AND a.fixmedins_code = l.src
        LEFT JOIN institutions b ON l.kind = 'institution' AND b.fixmedins_code = l.dst
        WHERE l.first_time < $p_end AND l.last_time >= $p_start
          AND ($classes IS NULL OR len(list_intersect(l.hit_classes, $classes)) > 0)
          AND ($around IS NULL OR list_contains($around, l.src)
               OR list_contains($around, l.dst))
          AND ($kind IS NULL OR l.kind = $kind)
        ORDER BY l.n_codes DESC, l.kind, l.src, l.dst
        LIMIT $limit
    """
    frame = query_frame(con, sql, {**period.params, "classes": list(classes) if classes else None,
                                   "around": list(around) if around else None, "kind": kind,
                                   "limit": int(limit)})
    for end in ("src", "dst"):
        codes = frame.pop(f"{end}_admdvs").map(_city)
        frame.insert(_after(frame, f"{end}_lat"), f"{end}_city",
                     codes.map(lambda c: division_name(c, lang) if c else None))
    frame["hit_classes"] = frame["hit_classes"].map(
        lambda xs: "、".join(xs) if xs is not None else "")
    frame["chain_codes"] = frame["chain_codes"].map(
        lambda xs: [str(x) for x in xs] if xs is not None else [])
    return frame


def chain_sales(con: duckdb.DuckDBPyConnection, period: Period, *,
                classes: tuple[str, ...] | None = SUSPICIOUS_CLASSES,
                around: tuple[str, ...] | None = None, limit: int = 3000) -> pd.DataFrame:
    """Who bought chained codes where: one row per (buyer, pharmacy) over the chains of
    ``classes`` overlapping ``period`` (``around``: only rows touching those codes).

    Columns: ``psn_no``, ``fixmedins_code``, ``fixmedins_name``, ``n_codes`` (distinct codes),
    ``n_sales``. These join the person and institution layers of :func:`chain_links`.
    """
    sql = f"""
        WITH c AS (SELECT drug_trac_codg, persons, institutions FROM chains
                   WHERE {_OVERLAPS}
                     AND ($classes IS NULL OR list_contains($classes, hit_class))),
        u AS (SELECT drug_trac_codg, unnest(persons) AS psn_no,
                     unnest(institutions) AS fixmedins_code FROM c)
        SELECT u.psn_no, u.fixmedins_code, i.fixmedins_name,
               count(DISTINCT u.drug_trac_codg) AS n_codes, count(*) AS n_sales
        FROM u LEFT JOIN institutions i USING (fixmedins_code)
        WHERE $around IS NULL OR list_contains($around, u.psn_no)
              OR list_contains($around, u.fixmedins_code)
        GROUP BY ALL ORDER BY n_codes DESC, u.psn_no, u.fixmedins_code
        LIMIT $limit
    """
    return query_frame(con, sql, {**period.params, "classes": list(classes) if classes else None,
                                  "around": list(around) if around else None,
                                  "limit": int(limit)})


def chain_network(con: duckdb.DuckDBPyConnection, period: Period, *,
                  classes: tuple[str, ...] | None = SUSPICIOUS_CLASSES,
                  around: tuple[str, ...] | None = None) -> nx.Graph:
    """The pharmacy/collector network of the chains overlapping ``period``.

    Nodes are ``("institution", code)`` and ``("person", psn_no)`` with ``kind`` and ``label``
    (institution name; the person's name, in full, ``""`` when unknown); edges are
    ``chain_links`` (``link``: ``resale``, pharmacy → pharmacy or buyer → buyer) and the
    buyers' purchases (``link``: ``sale``), each with ``codes`` (distinct trace codes) and
    ``settlements`` (the same number, which :func:`dashboards.figures.network.network_figure`
    uses as layout weight).
    """
    links = chain_links(con, period, classes=classes, around=around)
    sales = chain_sales(con, period, classes=classes, around=around)
    graph = nx.Graph()
    for link in links.to_dict("records"):
        kind = str(link["kind"])
        ends = [(str(link[end]), link[f"{end}_name"]) for end in ("src", "dst")]
        for code, name in ends:
            graph.add_node((kind, code), kind=kind,
                           label=name if isinstance(name, str) else code)
        _add_edge(graph, (kind, ends[0][0]), (kind, ends[1][0]), int(link["n_codes"]),
                  "resale")
    for sale in sales.to_dict("records"):
        person = ("person", str(sale["psn_no"]))
        inst = ("institution", str(sale["fixmedins_code"]))
        graph.add_node(person, kind="person")
        name = sale["fixmedins_name"]
        graph.add_node(inst, kind="institution", label=name if isinstance(name, str) else inst[1])
        _add_edge(graph, person, inst, int(sale["n_codes"]), "sale")
    names = _person_names(con, [code for kind, code in graph.nodes if kind == "person"])
    for kind, code in graph.nodes:
        if kind == "person":
            graph.nodes[kind, code]["label"] = names.get(code, "")
    return graph


def _person_names(con: duckdb.DuckDBPyConnection, codes: list[str]) -> dict[str, str]:
    """The names of the persons ``codes`` (in full) that have one."""
    if not codes:
        return {}
    names = query_frame(con, "SELECT psn_no, psn_name FROM persons WHERE psn_name IS NOT NULL "
                             "AND list_contains($codes, psn_no)", {"codes": codes})
    return dict(zip(names["psn_no"].astype(str), names["psn_name"].astype(str), strict=True))


def _add_edge(graph: nx.Graph, u: tuple[str, str], v: tuple[str, str], codes: int,
              link: str) -> None:
    if graph.has_edge(u, v):
        data = graph.edges[u, v]
        data["codes"] += codes
        data["settlements"] += codes
    else:
        graph.add_edge(u, v, codes=codes, settlements=codes, link=link)


def network_nodes(graph: nx.Graph) -> pd.DataFrame:
    """The nodes of a :func:`chain_network` as a table, busiest first: ``kind``, ``code``,
    ``label``, ``degree`` (neighbours), ``resale_links`` (links to the next pharmacy/buyer),
    ``sales`` (purchase links), ``codes`` (trace codes over all its links)."""
    rows = []
    for node, data in graph.nodes(data=True):
        edges = list(graph.edges(node, data=True))
        rows.append({
            "kind": data.get("kind", node[0]), "code": node[1], "label": data.get("label", ""),
            "degree": graph.degree(node),
            "resale_links": sum(1 for *_, d in edges if d.get("link") == "resale"),
            "sales": sum(1 for *_, d in edges if d.get("link") == "sale"),
            "codes": sum(int(d.get("codes", 0)) for *_, d in edges),
        })
    frame = pd.DataFrame(rows, columns=["kind", "code", "label", "degree", "resale_links",
                                        "sales", "codes"])
    return frame.sort_values(["codes", "degree", "code"], ascending=[False, False, True],
                             ignore_index=True)
