"""The query runner: named queries only, parameterised, tagged, timed, logged without values."""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace
from typing import Any

import pytest

from backends.neo4j import Neo4jBackend
from queries.runner import APP, QueryRunner, query_names, query_text
from yibao.errors import QueryNotFoundError

PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def test_every_query_file_is_named_and_loads() -> None:
    names = query_names()
    assert len(names) > 30
    groups = {n.split("/")[0] for n in names}
    assert groups == {"schema", "load", "read", "pull", "detect", "gds", "leads"}
    for name in names:
        text = query_text(name)
        assert text.strip(), name
        assert not text.lstrip().startswith("//"), "comments are stripped"


def test_queries_take_values_only_as_parameters() -> None:
    """No placeholder a formatter could fill: values arrive as ``$params`` only."""
    for name in query_names():
        assert not re.search(r"\{\s*\w*\s*\}|%s|%\(\w+\)s", query_text(name)), name


def test_queries_that_take_values_are_parameterised() -> None:
    """Every query that writes rows or looks something up takes it as ``$parameters``."""
    fixed = {"load/checkpoints", "load/forget_checkpoints", "detect/delete_results",
             "detect/delete_chain_links", "read/ping", "read/gds_version", "read/rings",
             "read/chains", "read/node_counts", "read/relationship_counts"}
    for name in query_names():
        if name.startswith(("schema/", "pull/")) or name in fixed \
                or query_text(name).startswith("CREATE "):
            continue
        assert PARAM.search(query_text(name)), name


def test_unknown_or_odd_names_are_refused() -> None:
    for bad in ("read/nope", "MATCH (n) RETURN n", "../runner", "read/ping; DROP", "ping"):
        with pytest.raises(QueryNotFoundError, match="no Cypher query named"):
            query_text(bad)


class _RecordingSession:
    def __init__(self, log: list[tuple[Any, dict[str, Any]]]) -> None:
        self.log = log

    def __enter__(self) -> _RecordingSession:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def run(self, query: Any, params: dict[str, Any]) -> list[dict[str, Any]]:
        if isinstance(query, str):  # inside a managed transaction: the unit of work's tags
            query = SimpleNamespace(text=query, metadata=self.unit.metadata,
                                    timeout=self.unit.timeout)
        self.log.append((query, params))
        return [{"one": 1}]

    def execute_read(self, work: Any) -> Any:
        self.unit = work
        return work(self)

    execute_write = execute_read


class _RecordingDriver:
    """Records what the runner sends (a unit test of our own logic; the integration tests use
    the real server)."""

    def __init__(self) -> None:
        self.sent: list[tuple[Any, dict[str, Any]]] = []
        self.databases: list[str | None] = []

    def session(self, database: str | None = None, **_: Any) -> _RecordingSession:
        self.databases.append(database)
        return _RecordingSession(self.sent)


def test_runner_sends_the_file_text_tagged_with_the_name(caplog: pytest.LogCaptureFixture
                                                         ) -> None:
    driver = _RecordingDriver()
    runner = QueryRunner(driver, "graph", timeout=7.0)  # type: ignore[arg-type]
    with caplog.at_level(logging.DEBUG, logger="queries.runner"):
        rows = runner.run("read/person_homes", {"codes": ["SECRET-PSN-0001"]})
    assert rows == [{"one": 1}]
    (query, params), = driver.sent
    assert query.text == query_text("read/person_homes")
    assert query.metadata == {"app": APP, "query": "read/person_homes"}
    assert query.timeout == 7.0
    assert params == {"codes": ["SECRET-PSN-0001"]}
    assert driver.databases == ["graph"]
    assert re.search(r"cypher read/person_homes: [\d.]+ ms, 1 rows", caplog.text)
    assert "SECRET-PSN-0001" not in caplog.text


def test_runner_logs_real_queries_without_values(neo4j_backend: Neo4jBackend,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="queries.runner"):
        neo4j_backend.runner.run("read/person_homes", {"codes": ["SECRET-PSN-0002"]})
        with neo4j_backend.runner.transaction("test transaction") as tx:
            assert tx.run("read/ping") == [{"one": 1}]
        chunks = list(neo4j_backend.runner.stream("pull/institutions", chunk_rows=100))
    assert len(chunks) > 1
    assert all(len(c) <= 100 for c in chunks)
    assert "SECRET-PSN-0002" not in caplog.text
    assert "cypher read/person_homes" in caplog.text
    assert "cypher read/ping" in caplog.text
    assert re.search(r"cypher pull/institutions: [\d.]+ ms, \d+ rows \(streamed\)", caplog.text)


def test_a_failed_transaction_leaves_nothing(neo4j_backend: Neo4jBackend) -> None:
    before = neo4j_backend.counts().get("LoadCheckpoint", 0)

    class ProbeError(Exception):
        pass

    def write_then_fail() -> None:
        with neo4j_backend.runner.transaction("test rollback") as tx:
            tx.run("load/checkpoint", {"step": "test-rollback", "after": None, "done": 1,
                                       "fingerprint": "x", "complete": False, "updated": None})
            raise ProbeError

    with pytest.raises(ProbeError):
        write_then_fail()
    assert neo4j_backend.counts().get("LoadCheckpoint", 0) == before
