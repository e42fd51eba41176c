"""The Neo4j backend: the same graph and answers as the embedded store, on a Bolt server.

The graph model (loaded by :mod:`backends.neo4j_load`; every node keeps the store columns
of its row as properties, amounts in yuan as floats, times as local date-times):

* nodes ``Person {psn_no}``, ``Institution {fixmedins_code}``, ``Practitioner {dr_codg}``,
  ``Settlement {setl_id}``, ``FeeDetail {setl_id, feedetl_sn}``, ``TraceCode {drug_trac_codg}``
  (each key a uniqueness constraint);
* ``(Person)-[:SETTLED]->(Settlement)-[:AT]->(Institution)``,
  ``(Settlement)-[:ATTENDED_BY]->(Practitioner)-[:WORKS_AT]->(Institution)``,
  ``(reversal:Settlement)-[:REVERSES]->(Settlement)``,
  ``(Settlement)-[:HAS_FEE]->(FeeDetail)-[:CARRIES]->(TraceCode)``;
* detection's results (:mod:`backends.neo4j_detect`): ``Ring {ring_id}`` with
  ``-[:HAS_MEMBER {role}]->`` persons, institutions, practitioners and ``-[:INCLUDES]->`` its
  settlements; ``Chain {drug_trac_codg}-[:OF_CODE]->(TraceCode)``; ``CHAIN_LINK`` between
  institutions and between persons; ``RuleHit {hit_id}``; ``DetectRun {run_id}``;
* ``LoadCheckpoint {step}``: how far each load step got (resuming a stopped load).

Questions are answered with the named queries of ``queries/read`` through one
:class:`queries.runner.QueryRunner`; the small graphs are then put together by the same code as
the embedded backend's, so the two give the same answers.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from backends.base import (
    Capability,
    Expansion,
    GraphBackend,
    LoadSummary,
    Node,
    Progress,
    RingMember,
    StoredChain,
)
from backends.embedded import ring_from_row, stored_chain_from_row
from queries.runner import QueryRunner, Record
from yibao.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailableError,
    SettingsError,
)
from yibao.settings import Settings

if TYPE_CHECKING:
    import neo4j

    from graph.chains import Hop
    from graph.detect import DetectionResult
    from graph.rings import Ring
    from graph.scoring import DetectionSettings
    from graph.subgraph import EdgeKey

__all__ = ["Neo4jBackend"]

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a server before saying it is not there."""

_EDGES_OF = {
    "person": "read/edges_of_persons",
    "institution": "read/edges_of_institutions",
    "practitioner": "read/edges_of_practitioners",
}
_KEY_OF = {"person": "psn_no", "institution": "fixmedins_code", "practitioner": "dr_codg"}

EdgeRow = tuple[Any, ...]


def _edge_row(r: Record) -> EdgeRow:
    """A query row as the ``(psn_no, fixmedins_code, dr_codg, n, fund, first, last)`` tuple
    :mod:`graph.subgraph` builds graphs from."""
    return (r["psn_no"], r["fixmedins_code"], r["dr_codg"], int(r["n"]),
            _yuan(r["fund"]), r["first"], r["last"])


def _yuan(value: Any) -> float:
    """A float sum of amounts of at most 4 decimals, as the double nearest its exact decimal
    value: what the embedded store's exact DECIMAL sum gives once cast to DOUBLE."""
    return round(float(value or 0), 4)


def _unavailable(uri: str, exc: BaseException) -> BackendUnavailableError:
    return BackendUnavailableError(
        f"cannot reach the Neo4j server at NEO4J_URI={uri} ({type(exc).__name__}: "
        f"{' '.join(str(exc).split())}). "
        "Start the server or fix NEO4J_URI; the embedded store needs no server and is "
        "available meanwhile (YIBAO_BACKEND=embedded)"
    )


class Neo4jBackend(GraphBackend):
    """A graph backend on one database of a Neo4j (Bolt) server; make it with
    :meth:`connect` (or :func:`backends.base.open_backend`)."""

    name = "neo4j"

    def __init__(self, driver: neo4j.Driver, runner: QueryRunner, settings: Settings) -> None:
        self._driver = driver
        self.runner = runner
        self.settings = settings
        self._gds: tuple[str | None] | None = None  # (version,) once asked

    @classmethod
    def connect(cls, settings: Settings, *, timeout: float = CONNECT_TIMEOUT) -> Neo4jBackend:
        """Connect with ``settings``' ``neo4j_*`` values and check the server answers.

        Fails within about ``timeout`` seconds with :class:`BackendUnavailableError` or
        :class:`BackendAuthError`, each naming the setting to fix.
        """
        from neo4j import GraphDatabase
        from neo4j.exceptions import ConfigurationError

        uri, user = settings.neo4j_uri, settings.neo4j_user or "neo4j"
        if not uri:
            raise BackendUnavailableError(
                "the neo4j backend needs NEO4J_URI (e.g. bolt://localhost:7687); without a "
                "server, the embedded store is available (YIBAO_BACKEND=embedded)")
        if settings.neo4j_password is None:
            raise BackendAuthError(
                f"no password for user {user!r} on {uri}: set NEO4J_PASSWORD (and NEO4J_USER)")
        try:
            driver = GraphDatabase.driver(
                uri, auth=(user, settings.neo4j_password), connection_timeout=timeout,
                connection_acquisition_timeout=timeout, max_transaction_retry_time=timeout,
                user_agent="yibao-graph")
        except (ConfigurationError, ValueError) as exc:
            raise SettingsError(f"NEO4J_URI={uri!r} is not a Neo4j address ({exc}): use "
                                "bolt://HOST:7687 or neo4j://HOST:7687") from exc
        runner = QueryRunner(driver, settings.neo4j_database, target=f"the Neo4j server {uri}")
        try:
            runner.run("read/ping", retry=False)  # fails fast: no retries of a dead server
        except BackendUnavailableError as exc:
            driver.close()
            raise _unavailable(uri, exc.__cause__ or exc) from exc
        except BaseException:
            driver.close()
            raise
        log.info("connected to %s (%s)", uri, driver.get_server_info().agent)
        return cls(driver, runner, settings)

    def close(self) -> None:
        self._driver.close()

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Load, read, detect, the leads ledger, and ``gds`` when the server has Graph Data
        Science."""
        found: set[Capability] = {"load", "read", "detect", "leads"}
        if self.gds_version():
            found.add("gds")
        return frozenset(found)

    def server_agent(self) -> str:
        """What the server says it is (e.g. ``Neo4j/5.26.0``)."""
        return str(self._driver.get_server_info().agent)

    def gds_version(self) -> str | None:
        """The Graph Data Science library's version, or ``None`` when the server has none."""
        if self._gds is None:
            from backends.neo4j_gds import gds_version

            self._gds = (gds_version(self.runner),)
        return self._gds[0]

    # -- loading -------------------------------------------------------------------------

    def load_store(self, store: Path, *, progress: Progress | None = None,
                   restart: bool = False) -> LoadSummary:
        """Push the store file's tables into the graph (see :mod:`backends.neo4j_load`)."""
        from backends.neo4j_load import push_store

        return push_store(self.runner, Path(store), progress=progress, restart=restart,
                          settings=self.settings)

    def counts(self) -> dict[str, int]:
        """Nodes per label and relationships per type (e.g. ``{"Person": 5858, "SETTLED":
        30000, ...}``)."""
        out = {r["label"]: int(r["n"]) for r in self.runner.run("read/node_counts")}
        out.update({r["type"]: int(r["n"]) for r in self.runner.run("read/relationship_counts")})
        return out

    # -- questions -----------------------------------------------------------------------

    def _graph(self, rows: list[EdgeRow], g: nx.Graph | None = None, *,
               taken: set[EdgeKey] | None = None) -> nx.Graph:
        from graph.subgraph import graph_from_rows  # the embedded backend's own builder

        return graph_from_rows(rows, g, taken=taken)

    def _label(self, g: nx.Graph) -> nx.Graph:
        """Institution names, divisions and coordinates, and persons' home divisions, as
        :mod:`graph.subgraph` adds them."""
        codes = sorted(code for kind, code in g.nodes if kind == "institution")
        if codes:
            for r in self.runner.run("read/institution_labels", {"codes": codes}):
                g.nodes["institution", r["code"]].update(
                    label=r["name"], admdvs=r["admdvs"], lon=r["lon"], lat=r["lat"])
        persons = sorted(code for kind, code in g.nodes if kind == "person")
        if persons:
            for r in self.runner.run("read/person_homes", {"codes": persons}):
                g.nodes["person", r["code"]]["admdvs"] = r["admdvs"]
        return g

    def ring_subgraph(self, ring_id: str) -> nx.Graph:
        rows = [_edge_row(r) for r in self.runner.run("read/ring_edges", {"ring_id": ring_id})]
        g = self._graph(sorted(rows, key=lambda r: (r[0], r[1], r[2] or "")))
        g.graph.update(ring_id=ring_id)
        return self._label(g)

    def neighbourhood(self, node: Node, expansion: Expansion | None = None) -> nx.Graph:
        """As :func:`graph.subgraph.neighbourhood`: hop by hop from the frontier, a hub keeping
        its ``max_per_node`` links with the most fund money (ties by person, institution, then
        practitioner, none last)."""
        from graph.subgraph import expand  # the embedded backend's own hop-by-hop growth

        x = expansion or Expansion()
        window = {"start": x.window.start, "end": x.window.end}

        def edges_of(k: str, codes: list[str]) -> tuple[list[EdgeRow], bool]:
            by_code: dict[str, list[EdgeRow]] = defaultdict(list)
            for r in self.runner.run(_EDGES_OF[k], {"codes": codes, **window}):
                by_code[r[_KEY_OF[k]]].append(_edge_row(r))
            kept: list[EdgeRow] = []
            cut = False
            for links in by_code.values():
                links.sort(key=lambda e: (-e[4], e[0], e[1], e[2] is None, e[2] or ""))
                cut |= len(links) > x.max_per_node
                kept += links[:x.max_per_node]
            return kept, cut

        return self._label(expand(node, x.hops, edges_of))

    def chain_of(self, code: str) -> list[Hop]:
        """As :func:`graph.chains.chain_of`: a sale reversed before the code's next sale does
        not count (``effective`` False)."""
        from graph.chains import Hop

        rows = self.runner.run("read/chain_of", {"code": str(code)})
        sales = [r for r in rows if r["init_setl_id"] is None]
        next_time = {a["setl_id"]: b["setl_time"] for a, b in pairwise(sales)}
        hops = []
        for r in rows:
            reversal = r["init_setl_id"] is not None
            undone = r["reversed_at"] is not None
            nxt = next_time.get(r["setl_id"])
            hops.append(Hop(
                setl_id=r["setl_id"], psn_no=r["psn_no"], fixmedins_code=r["fixmedins_code"],
                admdvs=r["admdvs"], setl_time=r["setl_time"],
                pric=None if r["pric"] is None else float(r["pric"]),
                cnt=None if r["cnt"] is None else round(float(r["cnt"]), 6),
                reversed=reversal or undone, reversal=reversal,
                effective=not reversal and not (undone and (nxt is None
                                                            or r["reversed_at"] <= nxt)),
                init_setl_id=r["init_setl_id"],
            ))
        return hops

    # -- detection and its results -------------------------------------------------------

    def detect(self, *, settings: DetectionSettings | None = None, engine: str | None = None,
               progress: Callable[[str], None] | None = None) -> DetectionResult:
        """Pull the graph's tables, run the same detection as the embedded store
        (:func:`graph.detect.detect`, or GDS Louvain with ``engine="gds"`` when the server
        has GDS) and write rings, chains and rule hits back into the graph."""
        from backends.neo4j_detect import detect_in_graph

        if engine == "gds" and not self.gds_version():
            raise BackendError(
                f"engine 'gds' needs the Graph Data Science library, which {self.server_agent()}"
                " does not have: choose networkit, igraph or networkx")
        return detect_in_graph(self.runner, settings=settings, engine=engine,
                               progress=progress, app_settings=self.settings)

    def rings(self) -> list[Ring]:
        return [ring_from_row(r["ring"]) for r in self.runner.run("read/rings")]

    def ring_members(self, ring_id: str | None = None) -> list[RingMember]:
        return [RingMember(r["ring_id"], r["kind"], r["code"], r["role"])
                for r in self.runner.run("read/ring_members", {"ring_id": ring_id})]

    def chains(self) -> list[StoredChain]:
        return [stored_chain_from_row(r["chain"]) for r in self.runner.run("read/chains")]
