"""The one way Cypher reaches a server: named queries from ``queries/``, run, tagged and timed.

Every query lives in its own file, ``queries/<group>/<name>.cypher``, and is known by the name
``"<group>/<name>"`` (e.g. ``"read/ring_edges"``). Values travel only as ``$parameters``: no
Cypher text is ever built from input, which ``tests/backends/test_no_cypher_building.py`` checks
over the whole package. :class:`QueryRunner` runs a query by name, tags its transaction with
``{"app": "yibao-graph", "query": name}`` (an explicit transaction with
``{"app": ..., "transaction": label}``; Neo4j shows them in ``SHOW TRANSACTIONS`` and its query
log), and logs its name, milliseconds and rows, never parameter values.
Results come back as lists of dicts with Neo4j temporal values turned into ``datetime`` and
``date``. Driver failures become :mod:`yibao.errors` errors that say which setting to check.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from yibao.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailableError,
    QueryNotFoundError,
)

if TYPE_CHECKING:
    import neo4j

__all__ = ["APP", "QueryRunner", "Record", "Runner", "Transaction", "query_names", "query_text"]

log = logging.getLogger(__name__)

APP = "yibao-graph"
T = TypeVar("T")
Record = dict[str, Any]
Params = Mapping[str, Any]

_NAME = re.compile(r"[a-z][a-z0-9_]*/[a-z][a-z0-9_]*")


@cache
def query_names() -> tuple[str, ...]:
    """Every query name, sorted (``"group/name"`` for ``queries/group/name.cypher``)."""
    root = resources.files("queries")
    names = [f"{group.name}/{item.name.removesuffix('.cypher')}"
             for group in root.iterdir() if group.is_dir()
             for item in group.iterdir() if item.name.endswith(".cypher")]
    return tuple(sorted(names))


@cache
def query_text(name: str) -> str:
    """The Cypher text of query ``name``; :class:`QueryNotFoundError` lists the known names."""
    if not _NAME.fullmatch(name) or name not in query_names():
        raise QueryNotFoundError(
            f"no Cypher query named {name!r}: add queries/{name}.cypher or use one of "
            f"{', '.join(query_names())}"
        )
    group, stem = name.split("/")
    text = resources.files("queries").joinpath(group, f"{stem}.cypher").read_text("utf-8")
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//"))


def _native(value: Any) -> Any:
    """Neo4j temporal values as Python ones (``DateTime`` -> naive ``datetime``), recursively."""
    to_native = getattr(value, "to_native", None)
    if to_native is not None:
        out = to_native()
        if isinstance(out, datetime | date):
            return out
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, dict):
        return {k: _native(v) for k, v in value.items()}
    return value


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _row(record: Any) -> Record:
    return {k: _native(v) for k, v in record.items()}


class Transaction(Protocol):
    """An open explicit transaction: run named queries in it; the runner commits."""

    def run(self, name: str, params: Params | None = None) -> list[Record]: ...


class Runner(Protocol):
    """What backends need from a runner (a recording fake implements it in unit tests)."""

    def run(self, name: str, params: Params | None = None) -> list[Record]: ...

    def stream(self, name: str, params: Params | None = None, *,
               chunk_rows: int = 10_000) -> Iterator[list[Record]]: ...

    def transaction(self, label: str) -> AbstractContextManager[Transaction]: ...

    def write(self, label: str, work: Callable[[Transaction], T]) -> T: ...


_READS = ("read/", "pull/")
"""Query folders that only read (run with ``execute_read``)."""

class _Tx:
    def __init__(self, runner: QueryRunner, tx: neo4j.Transaction | neo4j.ManagedTransaction
                 ) -> None:
        self._runner = runner
        self._tx = tx

    def run(self, name: str, params: Params | None = None) -> list[Record]:
        return self._runner._timed(name, lambda text: self._tx.run(text, dict(params or {})))


class QueryRunner:
    """Runs named queries on one database of a Neo4j (Bolt) server through ``driver``.

    ``timeout`` (seconds) bounds each transaction on the server; ``target`` names the server in
    error messages.
    """

    def __init__(self, driver: neo4j.Driver, database: str | None = None, *,
                 timeout: float | None = None, target: str = "the Neo4j server") -> None:
        self.driver = driver
        self.database = database
        self.timeout = timeout
        self.target = target

    def run(self, name: str, params: Params | None = None, *, retry: bool = True
            ) -> list[Record]:
        """Run query ``name`` in its own managed transaction (the driver's ``execute_read`` for
        ``read/`` and ``pull/`` queries, ``execute_write`` for the others, which run it again
        on a transient error); its rows as dicts. ``retry=False``: once, in an auto-commit
        transaction (a connection check that must fail fast)."""
        from neo4j import Query, unit_of_work

        if not retry:
            def once(text: str) -> Any:
                query = Query(text, metadata={"app": APP, "query": name}, timeout=self.timeout)
                return session.run(query, dict(params or {}))

            with self._errors(name), self.driver.session(database=self.database) as session:
                return self._timed(name, once)

        @unit_of_work(metadata={"app": APP, "query": name}, timeout=self.timeout)
        def work(tx: neo4j.ManagedTransaction) -> list[Record]:
            return self._timed(name, lambda text: tx.run(text, dict(params or {})))

        with self._errors(name), self.driver.session(database=self.database) as session:
            if name.startswith(_READS):
                return session.execute_read(work)
            return session.execute_write(work)

    def write(self, label: str, work: Callable[[Transaction], T]) -> T:
        """``work(tx)`` in one managed write transaction tagged ``label``: committed when it
        returns, rolled back when it raises, and run again (by the driver) after a transient
        error, so ``work`` must read what it needs inside ``tx`` and have no other effect."""
        from neo4j import unit_of_work

        @unit_of_work(metadata={"app": APP, "transaction": label}, timeout=self.timeout)
        def managed(tx: neo4j.ManagedTransaction) -> T:
            return work(_Tx(self, tx))

        with self._errors(label), self.driver.session(database=self.database) as session:
            return session.execute_write(managed)

    def stream(self, name: str, params: Params | None = None, *,
               chunk_rows: int = 10_000) -> Iterator[list[Record]]:
        """Run query ``name`` and yield its rows in chunks of ``chunk_rows`` as they arrive
        (for results too big to hold at once); logged when the last chunk is out."""
        from neo4j import Query

        text = query_text(name)
        started = time.perf_counter()
        n = 0
        with self._errors(name), self.driver.session(database=self.database,
                                                     fetch_size=chunk_rows) as session:
            query = Query(text, metadata={"app": APP, "query": name}, timeout=self.timeout)
            result = session.run(query, dict(params or {}))
            chunk: list[Record] = []
            for record in result:
                chunk.append(_row(record))
                if len(chunk) >= chunk_rows:
                    n += len(chunk)
                    yield chunk
                    chunk = []
            if chunk:
                n += len(chunk)
                yield chunk
        log.debug("cypher %s: %.1f ms, %d rows (streamed)", name,
                  (time.perf_counter() - started) * 1e3, n)

    @contextmanager
    def transaction(self, label: str) -> Iterator[Transaction]:
        """An explicit transaction tagged ``label``: committed when the block ends, rolled back
        when it raises (a batch and its checkpoint land together or not at all)."""
        with self._errors(label), self.driver.session(database=self.database) as session, \
                session.begin_transaction(metadata={"app": APP, "transaction": label},
                                          timeout=self.timeout) as tx:
            yield _Tx(self, tx)
            tx.commit()

    def _timed(self, name: str, go: Any) -> list[Record]:
        text = query_text(name)
        started = time.perf_counter()
        result = go(text)
        rows = [_row(record) for record in result]
        log.debug("cypher %s: %.1f ms, %d rows", name, (time.perf_counter() - started) * 1e3,
                  len(rows))
        return rows

    @contextmanager
    def _errors(self, name: str) -> Iterator[None]:
        from neo4j.exceptions import (
            AuthError,
            DriverError,
            Neo4jError,
            ServiceUnavailable,
            SessionExpired,
        )

        try:
            yield
        except AuthError as exc:
            raise BackendAuthError(
                f"{self.target} refused the user name or password ({exc.message}): check "
                "NEO4J_USER and NEO4J_PASSWORD"
            ) from exc
        except (ServiceUnavailable, SessionExpired, ConnectionError) as exc:
            raise BackendUnavailableError(
                f"lost {self.target} while running {name!r} ({type(exc).__name__}: "
                f"{_one_line(exc)}): check that the server runs and NEO4J_URI points at it"
            ) from exc
        except Neo4jError as exc:
            if "auth" in (exc.code or "").lower() or "credentials" in (exc.message or ""):
                raise BackendAuthError(
                    f"{self.target} refused the user name or password ({exc.message}): check "
                    "NEO4J_USER and NEO4J_PASSWORD"
                ) from exc
            raise BackendError(f"{self.target} failed query {name!r}: {exc.message}") from exc
        except DriverError as exc:
            raise BackendUnavailableError(
                f"the Neo4j driver failed on {name!r} ({type(exc).__name__}: "
                f"{_one_line(exc)}): check NEO4J_URI"
            ) from exc
