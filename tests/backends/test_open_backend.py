"""Choosing a backend: the explicit argument, then settings (YIBAO_BACKEND), then embedded; and
importing the interface does not import the Neo4j driver."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from backends.base import Window, shortest_path_in
from backends.embedded import EmbeddedBackend
from yibao.errors import BackendError, BackendUnavailableError, SettingsError
from yibao.settings import Settings
from yibao.stores import open_backend


def test_embedded_is_the_default(tmp_path: Path) -> None:
    settings = Settings.from_env({}, db=tmp_path / "s.duckdb")
    with open_backend(settings) as backend:
        assert isinstance(backend, EmbeddedBackend)
        assert backend.name == "embedded"
        assert "leads" in backend.capabilities
        with pytest.raises(BackendError, match="does not offer 'gds'"):
            backend.require("gds")


def test_settings_then_argument_choose(tmp_path: Path) -> None:
    neo = Settings.from_env({"YIBAO_BACKEND": "neo4j"}, db=tmp_path / "s.duckdb")
    with pytest.raises(BackendUnavailableError, match="NEO4J_URI"):
        open_backend(neo)
    with open_backend(neo, backend="embedded") as backend:
        assert backend.name == "embedded"
    with pytest.raises(SettingsError, match="'embedded' or 'neo4j'"):
        open_backend(neo, backend="neo5j")


def test_environment_is_read_when_no_settings(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_BACKEND", "embedded")
    monkeypatch.setenv("YIBAO_DB", str(tmp_path / "env.duckdb"))
    with open_backend() as backend:
        assert isinstance(backend, EmbeddedBackend)
        assert backend.db == tmp_path / "env.duckdb"


def test_embedded_load_is_the_store_itself(tmp_path: Path) -> None:
    from loaders.store import open_store

    db = tmp_path / "s.duckdb"
    open_store(db).close()
    with EmbeddedBackend(db) as backend:
        summary = backend.load_store(db)
        assert summary.written == 0
        assert {s.step for s in summary.steps} >= {"persons", "settlements"}
        with pytest.raises(BackendError, match="yibao load FOLDER --db"):
            backend.load_store(tmp_path / "other.duckdb")
        assert backend.rings() == []
        assert backend.chains() == []
        assert backend.ring_members() == []


def test_importing_the_interface_imports_no_driver() -> None:
    code = ("import sys, backends.base, backends.embedded; "
            "print('neo4j' in sys.modules, 'loaders.store' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.split() == ["False", "False"]


def test_shortest_path_in_picks_the_smallest_of_equals() -> None:
    import networkx as nx

    g = nx.Graph()
    a, b = ("person", "a"), ("person", "b")
    for mid in (("institution", "z"), ("institution", "m"), ("practitioner", "c")):
        g.add_edge(a, mid)
        g.add_edge(mid, b)
    assert shortest_path_in(g, a, b, max_hops=4) == [a, ("institution", "m"), b]
    assert shortest_path_in(g, a, b, max_hops=1) == []
    assert shortest_path_in(g, a, ("person", "x"), max_hops=4) == []
    assert Window().start is None
