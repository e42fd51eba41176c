"""The workbench on the Neo4j backend: with ``YIBAO_BACKEND=neo4j`` the ring page's network and
the search page's neighbourhood are read from the server (the query runner logs them), and
show what the embedded store shows."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from backends.embedded import EmbeddedBackend
from backends.neo4j import Neo4jBackend
from tests.backends.conftest import BoltServer
from tests.dashboards.conftest import APP, no_exception, sign_in, users_file  # noqa: F401


@pytest.fixture
def on_server(bolt_server: BoltServer, embedded: EmbeddedBackend,
              neo4j_backend: Neo4jBackend, users_file: Path,  # noqa: F811
              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> EmbeddedBackend:
    s = bolt_server.settings
    assert s.neo4j_uri is not None
    monkeypatch.setenv("YIBAO_DB", str(embedded.db))
    monkeypatch.setenv("YIBAO_USERS", str(users_file))
    monkeypatch.setenv("YIBAO_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    monkeypatch.setenv("YIBAO_BACKEND", "neo4j")
    monkeypatch.setenv("NEO4J_URI", s.neo4j_uri)
    monkeypatch.setenv("NEO4J_USER", s.neo4j_user or "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", s.neo4j_password or "")
    if s.neo4j_database:
        monkeypatch.setenv("NEO4J_DATABASE", s.neo4j_database)
    st.cache_resource.clear()
    st.cache_data.clear()
    return embedded


def _page(page: str, **query: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    for key, value in query.items():
        at.query_params[key] = value
    sign_in(at, "wang")
    at.switch_page(f"views/{page}.py")
    return at.run()


def test_ring_network_comes_from_the_server(on_server: EmbeddedBackend,
                                            caplog: pytest.LogCaptureFixture) -> None:
    ring = max((r for r in on_server.rings() if r.suspicious), key=lambda r: len(r.persons))
    expected = on_server.ring_subgraph(ring.ring_id)
    with caplog.at_level(logging.DEBUG, logger="queries"):
        at = _page("rings", ring=ring.ring_id)
    no_exception(at)
    assert not any("图数据库服务器" in w.value for w in at.warning)
    assert any("ring_edges" in r.getMessage() for r in caplog.records)
    caption = next(c.value for c in at.caption if "个节点" in c.value)
    assert caption.startswith(f"{expected.number_of_nodes():,} 个节点，"
                              f"{expected.number_of_edges():,} 条连接")


def test_neighbourhood_comes_from_the_server(on_server: EmbeddedBackend,
                                             caplog: pytest.LogCaptureFixture) -> None:
    ring = next(r for r in on_server.rings() if r.suspicious)
    person = ring.persons[0]
    with caplog.at_level(logging.DEBUG, logger="queries"):
        at = _page("search", kind="person", code=person)
    no_exception(at)
    assert any("edges_of_persons" in r.getMessage() for r in caplog.records)
    assert any("个节点" in c.value for c in at.caption)
