"""The embedded backend: the DuckDB store file is the graph (the default, no server).

Every operation wraps the functions that define the workbench's semantics
(:func:`graph.subgraph.ring_subgraph`, :func:`graph.subgraph.neighbourhood`,
:func:`graph.chains.chain_of`, :func:`graph.detect.detect`); the stored rings, members and
chains are read from the tables detection writes. Questions read the store's newest published
snapshot (:mod:`loaders.snapshots`); the store is opened writable only while detection runs,
which publishes the next snapshot, so questions are answered while a load or a detection runs.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

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
)
from yibao.errors import BackendError

if TYPE_CHECKING:
    import duckdb

    from graph.chains import Hop
    from graph.detect import DetectionResult
    from graph.rings import Ring
    from graph.scoring import DetectionSettings
    from loaders.store import Store

__all__ = ["EmbeddedBackend", "ring_from_row", "stored_chain_from_row"]

_RING_COLUMNS = (
    "ring_id, pattern, source, score, suspicious, rank, persons, core_persons, institutions, "
    "practitioners, trace_codes, hit_ids, fund_amount, medfee_amount, n_settlements, "
    "first_time, last_time, divisions, features, metrics, evidence_zh, evidence_en"
)
_CHAIN_COLUMNS = (
    "drug_trac_codg, med_list_codg, med_list_name, n_settlements, n_effective, hit_class, "
    "first_time, last_time, institutions, persons, setl_ids, hops"
)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else (value or {})


def ring_from_row(row: dict[str, Any]) -> Ring:
    """A :class:`graph.rings.Ring` from a row of the ``rings`` table (or a Ring node's
    properties): lists become tuples, the JSON columns dicts."""
    from graph.rings import Ring

    def t(key: str) -> tuple[str, ...]:
        return tuple(row.get(key) or ())

    return Ring(
        pattern=row["pattern"], source=row["source"], score=float(row["score"]),
        persons=t("persons"), institutions=t("institutions"), practitioners=t("practitioners"),
        trace_codes=t("trace_codes"), fund_amount=float(row["fund_amount"]),
        medfee_amount=float(row["medfee_amount"]), n_settlements=int(row["n_settlements"]),
        first_time=row.get("first_time"), last_time=row.get("last_time"),
        divisions=t("divisions"), features=_json(row.get("features")),
        metrics=_json(row.get("metrics")), evidence_zh=t("evidence_zh"),
        evidence_en=t("evidence_en"), hit_ids=t("hit_ids"), ring_id=row["ring_id"],
        suspicious=bool(row["suspicious"]), rank=int(row["rank"]),
        core_persons=t("core_persons"),
    )


def stored_chain_from_row(row: dict[str, Any]) -> StoredChain:
    """A :class:`StoredChain` from a row of the ``chains`` table (or a Chain node's
    properties)."""
    hops = _json(row.get("hops")) or []
    return StoredChain(
        drug_trac_codg=row["drug_trac_codg"], med_list_codg=row.get("med_list_codg"),
        med_list_name=row.get("med_list_name"), n_settlements=int(row["n_settlements"]),
        n_effective=int(row["n_effective"]), hit_class=row["hit_class"],
        first_time=row.get("first_time"), last_time=row.get("last_time"),
        institutions=tuple(row.get("institutions") or ()),
        persons=tuple(row.get("persons") or ()), setl_ids=tuple(row.get("setl_ids") or ()),
        hops=tuple(hops),
    )


class EmbeddedBackend(GraphBackend):
    """The store file at ``db`` as a graph backend."""

    name = "embedded"

    def __init__(self, db: Path, *, memory_limit: str | None = None,
                 threads: int | None = None) -> None:
        self.db = Path(db)
        self._memory_limit = memory_limit
        self._threads = threads
        self._store: Store | None = None
        self._lock = threading.Lock()

    def _open(self, *, read_only: bool = True) -> Store:
        from loaders.store import open_published, open_store

        if read_only:
            return open_published(self.db, memory_limit=self._memory_limit,
                                  threads=self._threads)
        return open_store(self.db, memory_limit=self._memory_limit, threads=self._threads)

    @property
    def store(self) -> Store:
        """The store's newest published snapshot (:mod:`loaders.snapshots`; the store itself
        when it was never published), opened read-only on first use and again when a newer
        one is published. Questions already running keep their cursors on the older one."""
        from loaders.snapshots import reading_path

        with self._lock:
            if self._store is None or self._store.path != reading_path(self.db):
                self._store = self._open()
            return self._store

    @contextmanager
    def _reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of its own for one question: one backend answers many threads (the
        workbench's sessions), and a DuckDB connection serves one thread at a time."""
        cur = self.store.con.cursor()
        try:
            yield cur
        finally:
            cur.close()

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None

    @property
    def capabilities(self) -> frozenset[Capability]:
        """Load, read, detect, and the leads ledger (a SQLite file beside the store)."""
        return frozenset({"load", "read", "detect", "leads"})

    def _has(self, table: str) -> bool:
        from graph.claims import has_table

        return has_table(self.store.con, table)

    def load_store(self, store: Path, *, progress: Progress | None = None,
                   restart: bool = False) -> LoadSummary:
        """Nothing to copy: the embedded graph *is* the store. Reports the store's rows; a
        different store file is refused (load exports into it with ``yibao load``)."""
        started = time.perf_counter()
        if Path(store).resolve() != self.db.resolve():
            raise BackendError(
                f"the embedded backend reads its own store {self.db}, not {store}: load the "
                f"exports with 'yibao load FOLDER --db {self.db}', or set YIBAO_DB={store}"
            )
        counts = self.store.table_counts()
        steps = tuple(StepLoad(step=t, rows=n, written=0, skipped=True)
                      for t, n in counts.items() if t != "quarantine")
        for k, s in enumerate(steps, start=1):
            if progress:
                progress(s.step, k, len(steps))
        return LoadSummary(self.name, steps, time.perf_counter() - started)

    def ring_subgraph(self, ring_id: str) -> nx.Graph:
        from graph.subgraph import ring_subgraph

        if not self._has("ring_settlements"):
            g = nx.Graph()
            g.graph.update(ring_id=ring_id)
            return g
        with self._reading() as con:
            return ring_subgraph(con, ring_id)

    def neighbourhood(self, node: Node, expansion: Expansion | None = None) -> nx.Graph:
        from graph.subgraph import neighbourhood

        x = expansion or Expansion()
        if node[0] not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, not {node[0]!r}")
        with self._reading() as con:
            return neighbourhood(con, node[0], node[1], hops=x.hops, start=x.window.start,
                                 end=x.window.end, max_per_node=x.max_per_node)

    def chain_of(self, code: str) -> list[Hop]:
        from graph.chains import chain_of

        with self._reading() as con:
            return chain_of(con, code)

    def detect(self, *, settings: DetectionSettings | None = None, engine: str | None = None,
               progress: Callable[[str], None] | None = None) -> DetectionResult:
        """Run :func:`graph.detect.detect` on the store (opened writable for the run)."""
        from graph.detect import detect
        from loaders.snapshots import publish_snapshot

        self.close()
        with self._open(read_only=False) as store:
            result = detect(store.con, settings=settings, engine=engine, progress=progress)
            publish_snapshot(store, reason="detect")
            return result

    def rings(self) -> list[Ring]:
        if not self._has("rings"):
            return []
        cur = self.store.con.execute(f"SELECT {_RING_COLUMNS} FROM rings ORDER BY rank, ring_id")
        names = [d[0] for d in cur.description]
        return [ring_from_row(dict(zip(names, r, strict=True))) for r in cur.fetchall()]

    def ring_members(self, ring_id: str | None = None) -> list[RingMember]:
        if not self._has("ring_members"):
            return []
        rows = self.store.con.execute(
            "SELECT ring_id, kind, code, role FROM ring_members "
            "WHERE $ring IS NULL OR ring_id = $ring ORDER BY ring_id, kind, code",
            {"ring": ring_id}).fetchall()
        return [RingMember(*r) for r in rows]

    def chains(self) -> list[StoredChain]:
        if not self._has("chains"):
            return []
        cur = self.store.con.execute(
            f"SELECT {_CHAIN_COLUMNS} FROM chains ORDER BY drug_trac_codg")
        names = [d[0] for d in cur.description]
        return [stored_chain_from_row(dict(zip(names, r, strict=True))) for r in cur.fetchall()]
