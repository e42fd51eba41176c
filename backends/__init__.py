"""Graph backends: where the graph's questions are answered.

* :mod:`backends.embedded`: the DuckDB store file is the graph (the default, no server);
* :mod:`backends.neo4j`: a Neo4j (Bolt) server, loaded from the store, with
  :mod:`backends.neo4j_load`, :mod:`backends.neo4j_detect` and :mod:`backends.neo4j_gds`.

A layer of its own: backends run :mod:`graph` (the analysis) and :mod:`queries` (the Cypher)
and are constructed by :func:`yibao.stores.open_backend`, beside the leads ledgers
(:func:`yibao.stores.open_ledger`), which they never construct.
"""

from backends.base import (
    KINDS,
    Capability,
    Expansion,
    GraphBackend,
    LoadSummary,
    Node,
    Progress,
    RingMember,
    StepLoad,
    StoredChain,
    Window,
    shortest_path_in,
)

__all__ = ["KINDS", "Capability", "Expansion", "GraphBackend", "LoadSummary", "Node",
           "Progress", "RingMember", "StepLoad", "StoredChain", "Window", "shortest_path_in"]
