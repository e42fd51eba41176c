"""Ring subgraphs, neighbourhoods, connections and flows on the detected store."""

from __future__ import annotations

from datetime import datetime

import networkx as nx

from graph.claims import effective_settlements_sql
from graph.flows import division_flows, prescription_flows
from graph.subgraph import neighbourhood, ring_subgraph, shortest_connection
from loaders.store import Store
from tests.detected import Detected


def test_ring_subgraph_holds_the_ring(detected: Detected, detected_store: Store) -> None:
    ring = detected.result.suspicious[0]
    g = ring_subgraph(detected_store.con, ring.ring_id)
    persons = {code for kind, code in g.nodes if kind == "person"}
    places = {code for kind, code in g.nodes if kind == "institution"}
    assert persons <= set(ring.persons)
    assert persons
    assert places == set(ring.institutions)
    assert all(g.edges[e]["settlements"] >= 1 for e in g.edges)
    assert all(g.nodes[n]["label"] for n in g.nodes)


def test_neighbourhood_grows_with_hops_and_window(detected: Detected,
                                                  detected_store: Store) -> None:
    con = detected_store.con
    place = detected.result.suspicious[0].institutions[0]
    one = neighbourhood(con, "institution", place, hops=1)
    two = neighbourhood(con, "institution", place, hops=2)
    assert set(one.nodes) <= set(two.nodes)
    assert len(two) > len(one) > 1
    assert all(nx.shortest_path_length(two, ("institution", place), n) <= 2 * 2
               for n in two.nodes)
    empty = neighbourhood(con, "institution", place, hops=2,
                          start=datetime(1999, 1, 1), end=datetime(1999, 12, 31))
    assert len(empty) == 1


def test_shortest_connection_links_two_ring_members(detected: Detected,
                                                    detected_store: Store) -> None:
    ring = next(r for r in detected.result.suspicious if len(r.persons) >= 2)
    a, b = ("person", ring.persons[0]), ("person", ring.persons[1])
    path = shortest_connection(detected_store.con, a, b)
    assert path[0] == a
    assert path[-1] == b
    assert 2 <= len(path) - 1 <= 4


def test_flows_account_for_every_settlement(detected_store: Store) -> None:
    con = detected_store.con
    od = division_flows(con)
    effective = con.execute(
        "SELECT count(*) FROM settlements s WHERE init_setl_id IS NULL AND medfee_sumamt >= 0 "
        "AND NOT EXISTS (SELECT 1 FROM settlements r WHERE r.init_setl_id = s.setl_id)"
    ).fetchall()[0][0]
    assert int(od["settlements"].sum()) == effective
    rx = prescription_flows(con)
    shares = rx.groupby("dr_codg")["share"].sum()
    assert ((shares - 1.0).abs() < 1e-9).all()


def test_neighbourhood_counts_each_settlement_once(detected: Detected,
                                                   detected_store: Store) -> None:
    """An expansion meets a person's settlements from the person and again from the
    institution; every edge with an expanded end (inside the last hop) still holds exactly the
    settlements of its pair. (An edge between two nodes of the last hop holds only the
    settlements the expansion followed.)"""
    con = detected_store.con
    person = detected.result.suspicious[0].persons[0]
    g = neighbourhood(con, "person", person, hops=3, max_per_node=10_000)
    depth = nx.single_source_shortest_path_length(g, ("person", person))
    pairs = [(u, v) for u, v in g.edges if {u[0], v[0]} == {"person", "institution"}
             and min(depth[u], depth[v]) < 3]
    assert len(pairs) > 5
    for u, v in pairs:
        psn = u[1] if u[0] == "person" else v[1]
        inst = v[1] if v[0] == "institution" else u[1]
        row = con.execute(
            f"SELECT count(*) FROM ({effective_settlements_sql('TRUE')}) s "
            "WHERE s.psn_no = $p AND s.fixmedins_code = $i", {"p": psn, "i": inst}).fetchone()
        assert row is not None
        assert g.edges[u, v]["settlements"] == row[0], (psn, inst)
