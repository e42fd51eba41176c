"""Faults on a real server: killed mid-load (the load says what was written and resumes without
duplicates), a wrong password, no server at all, and missing settings.

The kill test runs its own ArcadeDB server (the session's is shared); with an external
``NEO4J_URI`` it is skipped, since the tests must not kill someone's server.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backends.neo4j import Neo4jBackend
from loaders.store import open_store
from tests.backends.conftest import BoltServer, neo4j_settings, start_test_server
from yibao.errors import (
    BackendAuthError,
    BackendError,
    BackendLoadError,
    BackendUnavailableError,
)
from yibao.settings import Settings
from yibao.stores import open_backend

BASE = ("Institution", "Person", "Practitioner", "Settlement", "FeeDetail", "TraceCode",
        "SETTLED", "AT", "ATTENDED_BY", "WORKS_AT", "REVERSES", "HAS_FEE", "CARRIES")


def expected_counts(db: Path) -> dict[str, int]:
    """Nodes and relationships a clean load of the store at ``db`` makes, counted in the store
    (independently of the loader)."""
    sql = {
        "Institution": "SELECT count(*) FROM institutions",
        "Person": "SELECT count(*) FROM persons",
        "Practitioner": "SELECT count(DISTINCT c) FROM (SELECT dr_codg AS c FROM practitioners "
                        "UNION ALL SELECT dr_codg FROM settlements WHERE dr_codg IS NOT NULL)",
        "Settlement": "SELECT count(*) FROM settlements",
        "FeeDetail": "SELECT count(*) FROM fee_details",
        "TraceCode": "SELECT count(DISTINCT drug_trac_codg) FROM trace_codes",
        "SETTLED": "SELECT count(*) FROM settlements",
        "AT": "SELECT count(*) FROM settlements",
        "ATTENDED_BY": "SELECT count(*) FROM settlements WHERE dr_codg IS NOT NULL",
        "WORKS_AT": "SELECT count(*) FROM practitioners",
        "REVERSES": "SELECT count(*) FROM settlements r JOIN settlements o "
                    "ON o.setl_id = r.init_setl_id",
        "HAS_FEE": "SELECT count(*) FROM fee_details",
        "CARRIES": "SELECT count(*) FROM (SELECT DISTINCT * EXCLUDE (_load_id) "
                   "FROM trace_codes)",
    }
    with open_store(db, read_only=True) as store:
        return {k: int(store.con.execute(q).fetchall()[0][0]) for k, q in sql.items()}


def base_counts(backend: Neo4jBackend) -> dict[str, int]:
    counts = backend.counts()
    return {k: counts.get(k, 0) for k in BASE}


@pytest.fixture
def own_server(bolt_server: BoltServer, tmp_path: Path) -> Iterator[object]:
    if bolt_server.external:
        pytest.skip("NEO4J_URI points at an external server: not killing it")
    server = start_test_server(tmp_path / "own")
    yield server
    from tools.arcadedb_server import ArcadeDBServer

    assert isinstance(server, ArcadeDBServer)
    server.stop()


@pytest.mark.slow
def test_clean_load_makes_what_the_store_holds(neo4j_backend: Neo4jBackend,
                                               synthetic_store: Path) -> None:
    assert base_counts(neo4j_backend) == expected_counts(synthetic_store)


@pytest.mark.slow
def test_loading_twice_adds_nothing(neo4j_backend: Neo4jBackend,
                                    synthetic_store: Path) -> None:
    before = neo4j_backend.counts()
    again = neo4j_backend.load_store(synthetic_store)
    assert all(s.skipped for s in again.steps)
    assert again.written == 0
    assert neo4j_backend.counts() == before
    remerged = neo4j_backend.load_store(synthetic_store, restart=True)
    assert not any(s.skipped for s in remerged.steps)
    assert {s.step: s.written for s in remerged.steps}["settlements"] == before["Settlement"]
    assert neo4j_backend.counts() == before


@pytest.mark.slow
def test_server_killed_mid_load_then_resume(own_server: object, synthetic_store: Path) -> None:
    from tools.arcadedb_server import ArcadeDBServer, start_arcadedb

    assert isinstance(own_server, ArcadeDBServer)
    settings = neo4j_settings(own_server.uri, own_server.user, own_server.password,
                              own_server.database)
    batch = 2_000
    seen: list[tuple[str, int]] = []

    def kill_in_settlements(stage: str, done: int, total: int) -> None:
        seen.append((stage, done))
        if stage == "settlements" and done >= 2 * batch and own_server.alive():
            own_server.kill()

    backend = Neo4jBackend.connect(settings)
    from backends.neo4j_load import push_store

    with pytest.raises(BackendLoadError, match=r"stopped in step 'settlements' after 4,000 of "
                       r"[\d,]+ rows.*institutions [\d,]+, persons [\d,]+, practitioners "
                       r"[\d,]+, settlements 4,000.*run the same push again") as caught:
        push_store(backend.runner, synthetic_store, progress=kill_in_settlements,
                   batch_rows=batch)
    backend.close()
    expected = expected_counts(synthetic_store)
    assert caught.value.step == "settlements"
    assert caught.value.written == {
        "institutions": expected["Institution"], "persons": expected["Person"],
        "practitioners": expected["WORKS_AT"], "settlements": 2 * batch}

    restarted = start_arcadedb(own_server.root, password=own_server.password,
                               bolt_port=own_server.bolt_port)
    try:
        backend = Neo4jBackend.connect(settings)
        assert backend.counts()["Settlement"] == 2 * batch, "what was reported is what is there"
        resumed = push_store(backend.runner, synthetic_store, batch_rows=batch)
        by_step = {s.step: s for s in resumed.steps}
        assert by_step["persons"].skipped
        assert by_step["settlements"].resumed_after == 2 * batch
        assert by_step["settlements"].written == expected["Settlement"] - 2 * batch
        assert base_counts(backend) == expected
        assert backend.counts()["LoadCheckpoint"] == 6
        backend.close()
    finally:
        restarted.stop()


def test_wrong_password_names_the_settings(bolt_server: BoltServer) -> None:
    good = bolt_server.settings
    assert good.neo4j_uri is not None
    bad = neo4j_settings(good.neo4j_uri, good.neo4j_user or "neo4j", "not-the-password",
                         good.neo4j_database)
    with pytest.raises(BackendAuthError, match="NEO4J_USER and NEO4J_PASSWORD"):
        open_backend(bad)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_server_fails_fast_and_offers_the_embedded_store() -> None:
    settings = neo4j_settings(f"bolt://127.0.0.1:{_closed_port()}", "neo4j", "secret", None)
    started = time.monotonic()
    with pytest.raises(BackendUnavailableError,
                       match=r"NEO4J_URI=bolt://127\.0\.0\.1:\d+.*embedded store") as caught:
        open_backend(settings)
    assert time.monotonic() - started < 5
    assert "secret" not in str(caught.value)
    assert isinstance(caught.value, ConnectionError)


@pytest.mark.slow
def test_a_server_that_never_answers_fails_within_seconds() -> None:
    """A port that accepts connections but never speaks Bolt (a hung server, a firewall)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        settings = neo4j_settings(f"bolt://127.0.0.1:{port}", "neo4j", "secret", None)
        started = time.monotonic()
        with pytest.raises(BackendUnavailableError, match="NEO4J_URI"):
            open_backend(settings)
        assert time.monotonic() - started < 10


def test_missing_settings_are_named() -> None:
    with pytest.raises(BackendUnavailableError, match=r"needs NEO4J_URI.*embedded store"):
        open_backend(Settings.from_mapping({"backend": "neo4j"}))
    with pytest.raises(BackendAuthError, match="set NEO4J_PASSWORD"):
        open_backend(Settings.from_mapping({"backend": "neo4j",
                                            "neo4j_uri": "bolt://127.0.0.1:1"}))


def test_errors_are_backend_errors() -> None:
    assert issubclass(BackendUnavailableError, BackendError)
    assert issubclass(BackendAuthError, PermissionError)
    assert issubclass(BackendLoadError, BackendError)
