"""Both backends on the same small synthetic data, and a real Bolt server to hold the graph.

The server is ArcadeDB from the installed ``arcadedb-embedded`` package, started once per
session as a separate process on a free loopback port (:mod:`tools.arcadedb_server`) and
stopped by its pid afterwards. When ``NEO4J_URI`` is set (with ``NEO4J_USER``,
``NEO4J_PASSWORD``, ``NEO4J_DATABASE``), the tests use that server instead and **wipe that
database**; the fault tests that kill the server then skip. Without either, the Neo4j tests
skip.

The data: :data:`SCALE` synthetic settlements (``yibao.synth``), loaded into a store once; the
embedded backend detects on a copy of it, the Neo4j backend loads it into the graph and detects
there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from backends.embedded import EmbeddedBackend
from backends.neo4j import Neo4jBackend
from loaders.load import load_folder
from loaders.store import open_store
from tests.detected import Detected
from yibao.settings import Settings
from yibao.synth import synthesize

SCALE = 20_000
SEED = 5


@dataclass(frozen=True)
class BoltServer:
    """Where the tests' graph lives; ``process`` is ``None`` for an external server."""

    settings: Settings
    process: object | None = None

    @property
    def external(self) -> bool:
        return self.process is None


def neo4j_settings(uri: str, user: str, password: str, database: str | None,
                   db: Path | None = None) -> Settings:
    values: dict[str, object] = {"backend": "neo4j", "neo4j_uri": uri, "neo4j_user": user,
                                 "neo4j_password": password, "neo4j_database": database}
    if db is not None:
        values["db"] = db
    return Settings.from_mapping(values)


def start_test_server(root: Path) -> object:
    """An ArcadeDB server under ``root`` (skips the test when the package is missing)."""
    pytest.importorskip("arcadedb_embedded", reason="arcadedb-embedded (a dev dependency) is "
                        "not installed and NEO4J_URI is not set")
    from tools.arcadedb_server import start_arcadedb

    return start_arcadedb(root)


def wipe(settings: Settings) -> None:
    """Delete every node of an external test database (never called on a real one by the
    package: this is test setup, through the driver directly)."""
    from neo4j import GraphDatabase

    assert settings.neo4j_uri
    assert settings.neo4j_password is not None
    with GraphDatabase.driver(settings.neo4j_uri, auth=(settings.neo4j_user or "neo4j",
                                                        settings.neo4j_password)) as driver, \
            driver.session(database=settings.neo4j_database) as session:
        session.run("MATCH (n) DETACH DELETE n").consume()


@pytest.fixture(scope="session")
def bolt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoltServer]:
    if os.environ.get("NEO4J_URI"):
        env = Settings.from_env()
        assert env.neo4j_uri is not None
        settings = neo4j_settings(env.neo4j_uri, env.neo4j_user or "neo4j",
                                  env.neo4j_password or "", env.neo4j_database)
        wipe(settings)
        yield BoltServer(settings)
        return
    server = start_test_server(tmp_path_factory.mktemp("arcadedb"))
    from tools.arcadedb_server import ArcadeDBServer

    assert isinstance(server, ArcadeDBServer)
    try:
        yield BoltServer(neo4j_settings(server.uri, server.user, server.password,
                                        server.database), server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def synthetic_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of :data:`SCALE` synthetic settlements, loaded, not detected (read it only)."""
    root = tmp_path_factory.mktemp("backends")
    synthesize(root / "data", scale=SCALE, seed=SEED)
    db = root / "base.duckdb"
    with open_store(db) as store:
        report = load_folder(root / "data", store)
    assert report.quarantined == 0
    return db


@pytest.fixture(scope="session")
def embedded(synthetic_store: Path, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[EmbeddedBackend]:
    """The embedded backend on a copy of the store, after detection."""
    db = tmp_path_factory.mktemp("embedded") / "store.duckdb"
    shutil.copy(synthetic_store, db)
    backend = EmbeddedBackend(db)
    backend.detect()
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def neo4j_backend(bolt_server: BoltServer, synthetic_store: Path) -> Iterator[Neo4jBackend]:
    """The Neo4j backend holding the store, after detection in the graph."""
    backend = Neo4jBackend.connect(bolt_server.settings)
    backend.load_store(synthetic_store)
    backend.detect()
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """Apache Spark in local mode (a real JVM), for the session's Spark tests."""
    from backends.spark.session import spark_session

    session = spark_session("local[2]")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def detected_lake(detected: Detected, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The detected 100k store's loaded tables as a lake (checked row for row)."""
    from backends.spark.lake import LOADED_TABLES, write_lake

    folder = tmp_path_factory.mktemp("lake")
    with open_store(detected.db, read_only=True) as store:
        counts = write_lake(store.con, folder)
        for table in LOADED_TABLES:
            assert counts[table] == store.con.execute(
                f"SELECT count(*) FROM {table}").fetchone()[0]
    return folder
