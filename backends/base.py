"""One interface to the graph, two places to keep it: the embedded store and a Neo4j server.

A :class:`GraphBackend` loads the store's tables into its graph, answers the workbench's
questions (a ring's network, an entity's neighbourhood in a time window, a traceability code's
chain, the shortest connection between two entities), runs detection and keeps its results
(rings, their members, chains). Two implementations answer the same questions with the same
Python types, so their answers can be compared (``tests/backends/test_conformance.py``):

* :class:`backends.embedded.EmbeddedBackend` (``"embedded"``, the default): the DuckDB store
  file itself, through :mod:`graph.subgraph`, :mod:`graph.chains` and :mod:`graph.detect`;
* :class:`backends.neo4j.Neo4jBackend` (``"neo4j"``): a shared Neo4j 5 server (or anything
  speaking Bolt and standard Cypher, such as ArcadeDB), for a bureau whose investigators and
  workbench read and write one graph.

:func:`open_backend` chooses by the explicit ``backend=`` argument, then ``settings.backend``
(``YIBAO_BACKEND``), then the embedded default; ``NEO4J_URI``, ``NEO4J_USER``,
``NEO4J_PASSWORD`` and ``NEO4J_DATABASE`` say where the server is. Importing this module
imports neither the Neo4j driver nor DuckDB's store code.

Graphs are networkx graphs keyed ``(kind, code)`` as in :mod:`graph.subgraph`; times are naive
``datetime``; amounts are yuan.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import networkx as nx

from yibao.errors import BackendError

if TYPE_CHECKING:
    from graph.chains import Hop
    from graph.detect import DetectionResult
    from graph.rings import Ring
    from graph.scoring import DetectionSettings

__all__ = [
    "KINDS",
    "Capability",
    "Expansion",
    "GraphBackend",
    "LoadSummary",
    "Node",
    "Progress",
    "RingMember",
    "StepLoad",
    "StoredChain",
    "Window",
    "shortest_path_in",
]

Node = tuple[str, str]
"""``(kind, code)``: ``("person", psn_no)``, ``("institution", fixmedins_code)`` or
``("practitioner", dr_codg)``."""

KINDS: tuple[str, ...] = ("person", "institution", "practitioner")

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``, the shape of the CLI's progress bars."""

Capability = Literal["load", "read", "detect", "gds", "leads"]
"""What a backend offers. ``"leads"`` is the extension point of the leads ledger (issue 7): a
backend that keeps leads (线索) will list it here and implement the ledger's interface next to
:class:`GraphBackend`; callers ask :meth:`GraphBackend.require` before using it."""


@dataclass(frozen=True)
class Window:
    """A time window on settlement time; ``None`` leaves that side open."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Expansion:
    """How far a neighbourhood reaches: ``hops`` settlement links within ``window``; a hub (a
    big hospital) contributes at most ``max_per_node`` links, those with the most fund money."""

    hops: int = 2
    window: Window = field(default_factory=Window)
    max_per_node: int = 200


@dataclass(frozen=True)
class StepLoad:
    """One step of a load: ``rows`` in the store, ``written`` now (MERGEd, so rewriting a row
    adds nothing), ``resumed_after`` rows committed by an earlier interrupted run, ``skipped``
    when an earlier run completed it on the same data."""

    step: str
    rows: int
    written: int
    resumed_after: int = 0
    skipped: bool = False
    seconds: float = 0.0


@dataclass(frozen=True)
class LoadSummary:
    """What a load did, step by step."""

    backend: str
    steps: tuple[StepLoad, ...]
    seconds: float

    @property
    def written(self) -> int:
        return sum(s.written for s in self.steps)

    @property
    def rows_per_second(self) -> float:
        """Rows written per second of wall time (0 when nothing was written)."""
        return self.written / self.seconds if self.seconds > 0 and self.written else 0.0


@dataclass(frozen=True)
class RingMember:
    """A ring's member: ``kind`` person/institution/practitioner, ``role`` core, attached,
    place or prescriber."""

    ring_id: str
    kind: str
    code: str
    role: str


@dataclass(frozen=True)
class StoredChain:
    """A stored traceability-code chain (追溯码链), as :mod:`graph.chains` builds it; ``hops``
    are the JSON hops (one dict per settlement in time order)."""

    drug_trac_codg: str
    med_list_codg: str | None
    med_list_name: str | None
    n_settlements: int
    n_effective: int
    hit_class: str
    first_time: datetime | None
    last_time: datetime | None
    institutions: tuple[str, ...]
    persons: tuple[str, ...]
    setl_ids: tuple[str, ...]
    hops: tuple[Mapping[str, Any], ...]


def _add_link(g: nx.Graph, u: Node, v: Node, money: float, when: datetime) -> None:
    """One sale on the link ``u``-``v``: counted, its money added, its time within the span."""
    for node in (u, v):
        if node not in g:
            g.add_node(node, kind=node[0], code=node[1], label=node[1])
    if g.has_edge(u, v):
        e = g.edges[u, v]
        e.update(settlements=e["settlements"] + 1, fund=e["fund"] + money,
                 first=min(e["first"], when), last=max(e["last"], when))
    else:
        g.add_edge(u, v, settlements=1, fund=money, first=when, last=when)


class GraphBackend(abc.ABC):
    """The operations every backend offers (see the module docstring). Close it when done, or
    use it as a context manager."""

    name: str = ""

    @property
    def capabilities(self) -> frozenset[Capability]:
        """What this backend offers (see :data:`Capability`)."""
        return frozenset({"load", "read", "detect"})

    def require(self, capability: Capability) -> None:
        """Raise :class:`BackendError` unless this backend offers ``capability``."""
        if capability not in self.capabilities:
            raise BackendError(
                f"the {self.name} backend does not offer {capability!r}; it offers "
                f"{', '.join(sorted(self.capabilities))}"
            )

    @abc.abstractmethod
    def close(self) -> None:
        """Release connections."""

    def __enter__(self) -> GraphBackend:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @abc.abstractmethod
    def load_store(self, store: Path, *, progress: Progress | None = None,
                   restart: bool = False) -> LoadSummary:
        """Load the tables of the store file ``store`` into this backend's graph.

        Idempotent (loading twice adds nothing) and resumable (a load stopped part way
        continues where it stopped); ``restart`` ignores what earlier runs recorded.
        """

    @abc.abstractmethod
    def ring_subgraph(self, ring_id: str) -> nx.Graph:
        """The network of stored ring ``ring_id``: its members and its settlements among them
        (empty for an unknown ring)."""

    @abc.abstractmethod
    def neighbourhood(self, node: Node, expansion: Expansion | None = None) -> nx.Graph:
        """Everything within ``expansion.hops`` settlement links of ``node`` in its window."""

    @abc.abstractmethod
    def chain_of(self, code: str) -> list[Hop]:
        """The settlements of traceability code ``code`` in time order (reversals included)."""

    def trace_code_neighbourhood(self, code: str, expansion: Expansion | None = None
                                 ) -> nx.Graph:
        """The neighbourhood of traceability code ``code``, from this backend's own answers
        (:meth:`chain_of`, :meth:`neighbourhood`): the node ``("trace_code", code)`` linked to
        the person and the institution of each sale that counts (``Hop.effective``) in the
        window, buyer and seller linked as in a settlement, then everything within ``hops - 1``
        further settlement links of them. Links of the code carry the sales (``settlements``),
        the drug's money (unit price × quantity, ``fund``) and their first and last time;
        ``graph.graph`` has ``center``, ``hops`` and ``truncated``."""
        x = expansion or Expansion()
        lo, hi = x.window.start, x.window.end
        sales = [h for h in self.chain_of(code) if h.effective
                 and (lo is None or h.setl_time >= lo) and (hi is None or h.setl_time <= hi)]
        center: Node = ("trace_code", code)
        g = nx.Graph()
        truncated = False
        if x.hops > 1:
            ends = sorted({("person", h.psn_no) for h in sales}
                          | {("institution", h.fixmedins_code) for h in sales})
            for end in ends:
                around = self.neighbourhood(end, Expansion(hops=x.hops - 1, window=x.window,
                                                           max_per_node=x.max_per_node))
                truncated |= bool(around.graph.get("truncated", False))
                g = nx.compose(g, around)
        expanded = {frozenset(e) for e in g.edges}  # settlement links already counted
        g.add_node(center, kind="trace_code", code=code, label=code)
        for h in sales:
            person, place = ("person", h.psn_no), ("institution", h.fixmedins_code)
            money = float(h.pric or 0.0) * float(h.cnt or 0.0)
            for u, v in ((center, person), (center, place), (person, place)):
                if frozenset((u, v)) not in expanded:
                    _add_link(g, u, v, money, h.setl_time)
        g.graph.update(center=center, hops=x.hops, truncated=truncated)
        return g

    @abc.abstractmethod
    def detect(self, *, settings: DetectionSettings | None = None, engine: str | None = None,
               progress: Callable[[str], None] | None = None) -> DetectionResult:
        """Run the whole detection on this backend's data and store its results here."""

    @abc.abstractmethod
    def rings(self) -> list[Ring]:
        """The stored rings, by rank (empty before detection)."""

    @abc.abstractmethod
    def ring_members(self, ring_id: str | None = None) -> list[RingMember]:
        """Members of one ring (or of all), sorted by ring, kind and code."""

    @abc.abstractmethod
    def chains(self) -> list[StoredChain]:
        """The stored traceability-code chains, by code (empty before detection)."""

    def shortest_connection(self, a: Node, b: Node, *, max_hops: int = 4,
                            window: Window | None = None) -> list[Node]:
        """The shortest chain of settlement links from ``a`` to ``b`` (empty: none within
        ``max_hops``), found in the union of both neighbourhoods of ``(max_hops + 1) // 2``
        hops, as :func:`graph.subgraph.shortest_connection` does; among equally short chains
        the smallest in node order, so every backend gives the same one."""
        half = max(1, (max_hops + 1) // 2)
        reach = Expansion(hops=half, window=window or Window())
        both = nx.compose(self.neighbourhood(a, reach), self.neighbourhood(b, reach))
        return shortest_path_in(both, a, b, max_hops=max_hops)


def shortest_path_in(g: nx.Graph, a: Node, b: Node, *, max_hops: int) -> list[Node]:
    """The smallest (in node order) of the shortest paths from ``a`` to ``b`` in ``g``, or
    ``[]`` when there is none within ``max_hops``. Linear: distances to ``b`` by breadth-first
    search, then from ``a`` always the smallest neighbour one step closer."""
    if a not in g or b not in g:
        return []
    to_b: dict[Node, int] = nx.single_source_shortest_path_length(g, b, cutoff=max_hops)
    if a not in to_b:
        return []
    path = [a]
    while path[-1] != b:
        here = to_b[path[-1]]
        path.append(min(n for n in g.neighbors(path[-1]) if to_b.get(n) == here - 1))
    return path
