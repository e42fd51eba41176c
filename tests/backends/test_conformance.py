"""Both backends give the same answers on the same data: rings, members, chains, ring
subgraphs, neighbourhoods, traceability-code chains and shortest connections.

The embedded store defines the answers (:mod:`graph.subgraph`, :mod:`graph.chains`,
:mod:`graph.detect`); the Neo4j backend must reproduce them from the graph. Amounts are
compared to a millionth of a yuan (the store sums exact decimals, the graph floats).
"""

from __future__ import annotations

import math
from dataclasses import fields
from datetime import datetime

import networkx as nx
import pytest

from backends.base import Expansion, GraphBackend, Node, Window
from backends.embedded import EmbeddedBackend
from backends.neo4j import Neo4jBackend
from graph.rings import Ring

pytestmark = pytest.mark.slow


def assert_same_graph(expected: nx.Graph, got: nx.Graph) -> None:
    """Same nodes with the same attributes, same edges with the same counts, times and fund."""
    assert set(got.nodes) == set(expected.nodes)
    assert {frozenset(e) for e in got.edges} == {frozenset(e) for e in expected.edges}
    for node, attrs in expected.nodes(data=True):
        assert got.nodes[node] == attrs, node
    for u, v, attrs in expected.edges(data=True):
        other = got.edges[u, v]
        assert other["settlements"] == attrs["settlements"], (u, v)
        assert (other["first"], other["last"]) == (attrs["first"], attrs["last"]), (u, v)
        assert math.isclose(other["fund"], attrs["fund"], rel_tol=1e-12, abs_tol=1e-6), (u, v)
    assert got.graph == expected.graph


def _busiest(backend: EmbeddedBackend, column: str) -> str:
    rows = backend.store.con.execute(
        f"SELECT {column} FROM settlements WHERE {column} IS NOT NULL "
        f"GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").fetchall()
    return str(rows[0][0])


@pytest.fixture(scope="module")
def rings(embedded: EmbeddedBackend) -> list[Ring]:
    found = embedded.rings()
    assert len(found) >= 3, "the synthetic set should give several rings"
    return found


@pytest.fixture(scope="module")
def centres(embedded: EmbeddedBackend, rings: list[Ring]) -> list[Node]:
    """Entities to expand from: ring members of every kind, and the busiest hospital and
    doctor (hubs, where the per-node cap bites)."""
    out: list[Node] = [("person", rings[0].persons[0]), ("institution", rings[0].institutions[0])]
    prescriber = next((r.practitioners[0] for r in rings if r.practitioners), None)
    if prescriber:
        out.append(("practitioner", prescriber))
    out += [("institution", _busiest(embedded, "fixmedins_code")),
            ("practitioner", _busiest(embedded, "dr_codg"))]
    return out


def test_both_backends_load_and_detect(embedded: EmbeddedBackend,
                                       neo4j_backend: Neo4jBackend) -> None:
    assert {"load", "read", "detect"} <= embedded.capabilities
    assert {"load", "read", "detect"} <= neo4j_backend.capabilities
    assert embedded.rings()
    assert neo4j_backend.rings()


def test_same_rings(embedded: EmbeddedBackend, neo4j_backend: Neo4jBackend,
                    rings: list[Ring]) -> None:
    got = neo4j_backend.rings()
    assert [r.ring_id for r in got] == [r.ring_id for r in rings]
    for mine, theirs in zip(rings, got, strict=True):
        for f in fields(Ring):
            a, b = getattr(mine, f.name), getattr(theirs, f.name)
            if isinstance(a, float):
                assert math.isclose(a, b, rel_tol=1e-12), (mine.ring_id, f.name)
            else:
                assert a == b, (mine.ring_id, f.name)


def test_same_ring_members(embedded: EmbeddedBackend, neo4j_backend: Neo4jBackend,
                           rings: list[Ring]) -> None:
    members = embedded.ring_members()
    assert members
    assert neo4j_backend.ring_members() == members
    assert {m.kind for m in members} >= {"person", "institution"}
    ring_id = rings[0].ring_id
    assert neo4j_backend.ring_members(ring_id) == embedded.ring_members(ring_id)
    assert neo4j_backend.ring_members("no-such-ring") == []


def test_same_chains(embedded: EmbeddedBackend, neo4j_backend: Neo4jBackend) -> None:
    chains = embedded.chains()
    assert chains
    assert neo4j_backend.chains() == chains


def test_same_ring_subgraphs(embedded: EmbeddedBackend, neo4j_backend: Neo4jBackend,
                             rings: list[Ring]) -> None:
    for ring in rings:
        expected = embedded.ring_subgraph(ring.ring_id)
        assert len(expected) >= 2, ring.ring_id
        assert_same_graph(expected, neo4j_backend.ring_subgraph(ring.ring_id))
    assert len(neo4j_backend.ring_subgraph("no-such-ring")) == 0


EXPANSIONS = (
    Expansion(hops=1),
    Expansion(hops=2),
    Expansion(hops=2, max_per_node=5),
    Expansion(hops=3, window=Window(datetime(2024, 3, 1), datetime(2024, 5, 31, 23, 59, 59))),
    Expansion(hops=2, window=Window(start=datetime(2024, 11, 1))),
)


def test_same_neighbourhoods(embedded: EmbeddedBackend, neo4j_backend: Neo4jBackend,
                             centres: list[Node]) -> None:
    truncated = 0
    for centre in centres:
        for expansion in EXPANSIONS:
            expected = embedded.neighbourhood(centre, expansion)
            got = neo4j_backend.neighbourhood(centre, expansion)
            assert_same_graph(expected, got)
            truncated += bool(expected.graph["truncated"])
    assert truncated, "the cap of 5 links per node should cut somewhere"


def test_neighbourhood_of_an_unknown_entity_is_itself(embedded: EmbeddedBackend,
                                                      neo4j_backend: Neo4jBackend) -> None:
    for backend in (embedded, neo4j_backend):
        g = backend.neighbourhood(("person", "no-such-person"))
        assert list(g.nodes) == [("person", "no-such-person")]
        with pytest.raises(ValueError, match="kind must be one of"):
            backend.neighbourhood(("doctor", "D1"))


def test_same_trace_code_neighbourhoods(embedded: EmbeddedBackend,
                                        neo4j_backend: Neo4jBackend) -> None:
    """The search page's trace-code neighbourhood comes from the chosen backend."""
    codes = [c.drug_trac_codg for c in embedded.chains()][:3]
    assert codes
    for code in codes:
        for expansion in EXPANSIONS:
            assert_same_graph(embedded.trace_code_neighbourhood(code, expansion),
                              neo4j_backend.trace_code_neighbourhood(code, expansion))


def test_same_chain_of(embedded: EmbeddedBackend, neo4j_backend: Neo4jBackend) -> None:
    codes = [c.drug_trac_codg for c in embedded.chains()]
    once = embedded.store.con.execute(
        "SELECT drug_trac_codg FROM trace_codes GROUP BY 1 HAVING count(*) = 1 "
        "ORDER BY 1 LIMIT 3").fetchall()
    reversed_codes = embedded.store.con.execute("""
        SELECT DISTINCT t.drug_trac_codg FROM trace_codes t
        JOIN settlements s ON s.init_setl_id = t.setl_id ORDER BY 1 LIMIT 5""").fetchall()
    codes += [r[0] for r in once + reversed_codes] + ["00000000000000000000"]
    compared = 0
    for code in codes:
        expected = embedded.chain_of(code)
        assert neo4j_backend.chain_of(code) == expected, code
        compared += len(expected)
    assert compared > len(codes)


def _pairs(rings: list[Ring]) -> list[tuple[Node, Node]]:
    ring = next(r for r in rings if len(r.persons) >= 2)
    other = next(r for r in rings if set(r.persons).isdisjoint(ring.persons) and r.persons)
    pairs: list[tuple[Node, Node]] = [
        (("person", ring.persons[0]), ("person", ring.persons[-1])),
        (("person", ring.persons[0]), ("institution", ring.institutions[0])),
        (("person", ring.persons[0]), ("person", other.persons[0])),
        (("institution", ring.institutions[0]), ("institution", other.institutions[0])),
    ]
    if ring.practitioners:
        pairs.append((("practitioner", ring.practitioners[0]), ("person", ring.persons[-1])))
    return pairs


def test_same_shortest_connections(embedded: EmbeddedBackend, neo4j_backend: Neo4jBackend,
                                   rings: list[Ring]) -> None:
    lengths = []
    for a, b in _pairs(rings):
        for max_hops in (2, 4):
            expected = embedded.shortest_connection(a, b, max_hops=max_hops)
            assert neo4j_backend.shortest_connection(a, b, max_hops=max_hops) == expected
            lengths.append(len(expected) - 1)
    assert max(lengths) >= 2, "some pair should need more than one link"
    empty = Window(datetime(1999, 1, 1), datetime(1999, 12, 31))
    a, b = _pairs(rings)[0]
    for backend in (embedded, neo4j_backend):
        assert backend.shortest_connection(a, b, window=empty) == []


def test_shortest_connection_matches_graph_subgraph(embedded: EmbeddedBackend,
                                                    rings: list[Ring]) -> None:
    """The backends' connection is as short as :func:`graph.subgraph.shortest_connection`'s
    (it only fixes which of equally short chains is given)."""
    from graph.subgraph import shortest_connection

    for a, b in _pairs(rings):
        ours = embedded.shortest_connection(a, b)
        theirs = shortest_connection(embedded.store.con, a, b)
        assert len(ours) == len(theirs)
        if ours:
            assert (ours[0], ours[-1]) == (a, b)


@pytest.mark.parametrize("kind", ["embedded", "neo4j"])
def test_unknown_ring_has_no_members(kind: str, embedded: EmbeddedBackend,
                                     neo4j_backend: Neo4jBackend) -> None:
    backend: GraphBackend = embedded if kind == "embedded" else neo4j_backend
    assert backend.ring_members("no-such-ring") == []
    g = backend.ring_subgraph("no-such-ring")
    assert g.graph["ring_id"] == "no-such-ring"
