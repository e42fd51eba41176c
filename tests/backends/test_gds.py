"""Graph Data Science: found absent on ArcadeDB (never required); when a server has it, the
``gds`` engine projects, runs Leiden and drops the projection (checked with a recording fake
runner, since no server here has GDS)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pytest

from backends.neo4j import Neo4jBackend
from backends.neo4j_gds import communities_from_edges_gds, detect_with_gds, gds_version
from loaders.store import open_store
from queries.runner import Record, Transaction, query_text
from yibao.errors import BackendError


def test_arcadedb_has_no_gds(neo4j_backend: Neo4jBackend) -> None:
    """ArcadeDB answers ``CALL gds.version()`` with its own version (column ``value``); that
    must not count as GDS."""
    if "ArcadeDB" not in neo4j_backend.server_agent():
        pytest.skip(f"the server is {neo4j_backend.server_agent()}, which may have GDS")
    assert neo4j_backend.gds_version() is None
    assert "gds" not in neo4j_backend.capabilities
    with pytest.raises(BackendError, match="engine 'gds' needs the Graph Data Science"):
        neo4j_backend.detect(engine="gds")
    with pytest.raises(BackendError, match="does not offer 'gds'"):
        neo4j_backend.require("gds")


class FakeGdsRunner:
    """Answers the gds queries like a server with GDS would, and records what was run. Leiden
    is played by networkx Louvain on the projected edges."""

    def __init__(self, *, version: str | None = "2.13.2") -> None:
        self.version = version
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.graphs: dict[str, list[list[float]]] = {}

    def run(self, name: str, params: Mapping[str, Any] | None = None) -> list[Record]:
        query_text(name)  # only real query names
        p = dict(params or {})
        self.calls.append((name, p))
        if name == "read/gds_version":
            if self.version is None:
                raise BackendError("Unknown procedure/function: gds.version")
            return [{"gdsVersion": self.version}]
        if name == "gds/project":
            self.graphs[p["graph"]] = p["edges"]
            return [{"nodes": 0, "relationships": len(p["edges"])}]
        if name == "gds/leiden":
            g = nx.Graph()
            g.add_weighted_edges_from((int(s), int(d), w) for s, d, w in self.graphs[p["graph"]])
            parts = nx.community.louvain_communities(g, resolution=p["resolution"],
                                                     seed=p["seed"])
            return [{"nodeId": n, "communityId": c} for c, nodes in enumerate(parts)
                    for n in nodes]
        if name == "gds/drop":
            self.graphs.pop(p["graph"])
            return [{"graphName": p["graph"]}]
        raise AssertionError(f"unexpected query {name}")

    def stream(self, name: str, params: Mapping[str, Any] | None = None, *,
               chunk_rows: int = 10_000) -> Iterator[list[Record]]:
        yield self.run(name, params)

    @contextmanager
    def transaction(self, label: str) -> Iterator[Transaction]:
        yield self

    def write(self, label: str, work: Callable[[Transaction], Any]) -> Any:
        return work(self)


def test_gds_version_reads_the_gds_column() -> None:
    assert gds_version(FakeGdsRunner()) == "2.13.2"
    assert gds_version(FakeGdsRunner(version=None)) is None


def test_gds_communities_project_run_and_drop() -> None:
    runner = FakeGdsRunner()
    # two triangles joined by a weak edge, and node 6 alone
    src = np.array([0, 1, 2, 3, 4, 5, 2])
    dst = np.array([1, 2, 0, 4, 5, 3, 3])
    weight = np.array([5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 0.1])
    partition = communities_from_edges_gds(runner, 7, src, dst, weight, resolution=1.0, seed=3)
    assert [n for n, _ in runner.calls] == ["gds/project", "gds/leiden", "gds/drop"]
    assert runner.graphs == {}, "the projection is dropped"
    assert partition.communities() == [{0, 1, 2}, {3, 4, 5}, {6}]
    assert partition.engine == "gds"
    assert partition.modularity > 0.4
    project = runner.calls[0][1]
    assert project["edges"][0] == [0, 1, 5.0]
    assert runner.calls[1][1]["graph"] == project["graph"]


def test_gds_projection_is_dropped_when_leiden_fails() -> None:
    runner = FakeGdsRunner()

    def broken(name: str, params: Mapping[str, Any] | None = None) -> list[Record]:
        if name == "gds/leiden":
            raise BackendError("out of memory")
        return FakeGdsRunner.run(runner, name, params)

    runner.run = broken  # type: ignore[method-assign]
    with pytest.raises(BackendError, match="out of memory"):
        communities_from_edges_gds(runner, 3, [0, 1], [1, 2], [1.0, 1.0])
    assert runner.graphs == {}


@pytest.mark.slow
def test_detect_with_gds_runs_the_whole_pipeline(synthetic_store: Path, tmp_path: Path) -> None:
    db = tmp_path / "gds.duckdb"
    shutil.copy(synthetic_store, db)
    runner = FakeGdsRunner()
    with open_store(db) as store:
        result = detect_with_gds(store.con, runner)
        stored = store.con.execute("SELECT count(*), max(engine) FROM detect_runs "
                                   "JOIN rings USING (run_id)").fetchall()[0]
    assert result.engine == "gds"
    assert result.rings
    assert stored == (len(result.rings), "gds")
    assert [n for n, _ in runner.calls] == ["gds/project", "gds/leiden", "gds/drop"]
