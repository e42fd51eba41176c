"""Small graphs for people to look at: a ring's network, a neighbourhood, a connection.

These are where networkx shines: a few thousand nodes with attributes, paths and drawings.
Nodes are keyed ``(kind, code)`` with ``kind`` one of ``person``, ``institution``,
``practitioner``; every node has ``kind``, ``code`` and ``label`` attributes, every edge
``settlements`` (count), ``fund`` (yuan, 统筹 + 个人账户), ``first`` and ``last`` (times).
Edges link a person to an institution where they settled and a practitioner to the
institution and person of the settlements they are recorded on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import duckdb
import networkx as nx

from graph.claims import effective_settlements_sql

__all__ = ["EdgeKey", "EdgesOf", "Node", "expand", "graph_from_rows", "neighbourhood",
           "ring_subgraph", "shortest_connection"]

Node = tuple[str, str]
EdgeKey = tuple[str, str, "str | None"]
"""``(psn_no, fixmedins_code, dr_codg)``: the key of one aggregated edge row."""
KINDS = ("person", "institution", "practitioner")

EdgesOf = Callable[[str, list[str]], tuple[list[tuple[Any, ...]], bool]]
"""``(kind, codes)`` -> the edge rows of those entities (each keeping at most its cap of
links, those with the most fund money) and whether any was cut: one backend's query."""

_EDGE_SQL = """
    SELECT s.psn_no, s.fixmedins_code, s.dr_codg, count(*) AS n,
           sum(s.fund_pay_sumamt + s.acct_pay)::DOUBLE AS fund,
           min(s.setl_time) AS first, max(s.setl_time) AS last
    FROM ({settlements}) s
    GROUP BY ALL
"""


def _settlements(where: str) -> str:
    return _EDGE_SQL.format(settlements=effective_settlements_sql(where))


def _add(graph: nx.Graph, u: Node, v: Node, n: int, fund: float, first: datetime,
         last: datetime) -> None:
    for node in (u, v):
        if node not in graph:
            graph.add_node(node, kind=node[0], code=node[1], label=node[1])
    if graph.has_edge(u, v):
        e = graph.edges[u, v]
        e["settlements"] += n
        e["fund"] += fund
        e["first"] = min(e["first"], first)
        e["last"] = max(e["last"], last)
    else:
        graph.add_edge(u, v, settlements=n, fund=fund, first=first, last=last)


def graph_from_rows(rows: Sequence[tuple[Any, ...]], graph: nx.Graph | None = None, *,
                    taken: set[EdgeKey] | None = None) -> nx.Graph:
    """A graph (or ``graph`` grown) from edge rows ``(psn_no, fixmedins_code, dr_codg,
    settlements, fund, first, last)``, each the aggregate of the settlements with that
    person, institution and practitioner: a person–institution edge, and with a practitioner
    the practitioner–institution and practitioner–person edges; rows on the same edge add up.

    A row whose key is already in ``taken`` is skipped, and new keys are added to it: an
    expansion that meets the same settlements from two sides (a person found from an
    institution, then the institution again from the person) counts them once.
    """
    g = graph if graph is not None else nx.Graph()
    for psn, inst, dr, n, fund, first, last in rows:
        if taken is not None:
            if (psn, inst, dr) in taken:
                continue
            taken.add((psn, inst, dr))
        person, place = ("person", psn), ("institution", inst)
        _add(g, person, place, int(n), float(fund or 0), first, last)
        if dr:
            _add(g, ("practitioner", dr), place, int(n), float(fund or 0), first, last)
            _add(g, ("practitioner", dr), person, int(n), float(fund or 0), first, last)
    return g


def _label(con: duckdb.DuckDBPyConnection, g: nx.Graph) -> nx.Graph:
    """Institution names as labels (person and practitioner names are personal data: the
    caller decides whether and how to show them)."""
    codes = [code for kind, code in g.nodes if kind == "institution"]
    if codes:
        for code, name, admdvs, lon, lat in con.execute(
            "SELECT fixmedins_code, fixmedins_name, admdvs, lon, lat FROM institutions "
            "WHERE fixmedins_code IN (SELECT unnest($c))", {"c": codes}
        ).fetchall():
            g.nodes["institution", code].update(label=name, admdvs=admdvs, lon=lon, lat=lat)
    persons = [code for kind, code in g.nodes if kind == "person"]
    if persons:
        for code, home in con.execute(
            "SELECT psn_no, insu_admdvs FROM persons WHERE psn_no IN (SELECT unnest($c))",
            {"c": persons},
        ).fetchall():
            g.nodes["person", code]["admdvs"] = home
    return g


def ring_subgraph(con: duckdb.DuckDBPyConnection, ring_id: str) -> nx.Graph:
    """The network of one stored ring: its members and the settlements among them."""
    rows = con.execute(_settlements(
        "s.setl_id IN (SELECT setl_id FROM ring_settlements WHERE ring_id = $ring)"),
        {"ring": ring_id}).fetchall()
    g = graph_from_rows(rows)
    g.graph.update(ring_id=ring_id)
    return _label(con, g)


def neighbourhood(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    code: str,
    *,
    hops: int = 2,
    start: datetime | None = None,
    end: datetime | None = None,
    max_per_node: int = 200,
) -> nx.Graph:
    """Everything within ``hops`` settlement links of one entity in a time window.

    A hop goes from a person to the institutions and practitioners of their settlements, or
    from an institution or practitioner to the persons who settled there. A hub (a big
    hospital) contributes at most ``max_per_node`` persons, those with the most fund money;
    ``graph.graph['truncated']`` says whether that happened. Each edge counts every settlement
    on it in the window once, however many sides the expansion met it from.
    """
    window = "s.setl_time >= coalesce($start, s.setl_time) AND s.setl_time <= coalesce($end, " \
             "s.setl_time)"
    column = {"person": "psn_no", "institution": "fixmedins_code", "practitioner": "dr_codg"}

    def edges_of(k: str, codes: list[str]) -> tuple[list[tuple[Any, ...]], bool]:
        edges = _settlements(f"s.{column[k]} IN (SELECT unnest($codes)) AND {window}")
        rows = con.execute(f"""
            WITH e AS ({edges})
            SELECT *, count(*) OVER (PARTITION BY {column[k]}) > $cap AS cut FROM e
            QUALIFY row_number() OVER (
                PARTITION BY {column[k]} ORDER BY fund DESC, psn_no, fixmedins_code,
                             dr_codg) <= $cap
        """, {"codes": codes, "start": start, "end": end, "cap": max_per_node}).fetchall()
        return [r[:-1] for r in rows], any(r[-1] for r in rows)

    return _label(con, expand((kind, code), hops, edges_of))


def expand(center: Node, hops: int, edges_of: EdgesOf) -> nx.Graph:
    """The neighbourhood of ``center`` grown hop by hop: each hop asks ``edges_of`` for the
    links of the nodes first met in the hop before (sorted codes, per kind), and an edge met
    from both sides counts once. ``graph.graph`` holds ``center``, ``hops`` and ``truncated``
    (whether ``edges_of`` cut a hub's links). Nodes are not labelled: that is the backend's."""
    kind, code = center
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    g = nx.Graph()
    g.add_node(center, kind=kind, code=code, label=code)
    frontier: dict[str, set[str]] = {k: set() for k in KINDS}
    frontier[kind].add(code)
    seen: set[Node] = {center}
    taken: set[EdgeKey] = set()
    truncated = False
    for _ in range(hops):
        found: list[tuple[Any, ...]] = []
        for k, codes in frontier.items():
            if codes:
                rows, cut = edges_of(k, sorted(codes))
                truncated |= cut
                found += rows
        before = set(g.nodes)
        graph_from_rows(found, g, taken=taken)
        frontier = {k: set() for k in KINDS}
        for node in set(g.nodes) - before - seen:
            frontier[node[0]].add(node[1])
        seen |= set(g.nodes)
    g.graph.update(center=center, hops=hops, truncated=truncated)
    return g


def shortest_connection(
    con: duckdb.DuckDBPyConnection, a: Node, b: Node, *, max_hops: int = 4,
    start: datetime | None = None, end: datetime | None = None,
) -> list[Node]:
    """The shortest chain of settlement links from ``a`` to ``b`` (empty: none within
    ``max_hops``), found by meeting in the middle of two neighbourhoods."""
    half = max(1, (max_hops + 1) // 2)
    ga = neighbourhood(con, a[0], a[1], hops=half, start=start, end=end)
    gb = neighbourhood(con, b[0], b[1], hops=half, start=start, end=end)
    both = nx.compose(ga, gb)
    try:
        path: list[Node] = nx.shortest_path(both, a, b)
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return []
    return path if len(path) - 1 <= max_hops else []
