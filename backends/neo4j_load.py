"""Push the store's tables into a Neo4j graph: idempotent, resumable, with progress.

Uniqueness constraints and indexes come first (``queries/schema``): without them a bulk MERGE is
tens of times slower and concurrent MERGEs duplicate nodes (``shared/MEASURED.md``). Then each
*step* (a table, or the reversal links) streams its rows from the store in key order and sends
them in batches of ``UNWIND $rows AS row MERGE ...`` (``queries/load``). A batch and its
checkpoint (``LoadCheckpoint {step}``: the last key written, rows so far, the store's
fingerprint) are committed in one transaction, so after a dropped connection the next run
resumes after the last committed batch, and since every write is a MERGE, loading twice adds
nothing. A step completed on the same data (same rows and load history in the store) is
skipped; ``restart=True`` forgets the checkpoints and MERGEs everything again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb

from backends.base import LoadSummary, Progress, StepLoad
from loaders.contract import TABLES
from queries.runner import Record, Runner, Transaction, query_names
from yibao.errors import BackendLoadError, BackendUnavailableError
from yibao.settings import Settings

__all__ = ["BATCH_ROWS", "GRAPH_MODEL", "STEPS", "LoadStep", "push_store"]

log = logging.getLogger(__name__)

GRAPH_MODEL = 1
"""Version of the graph model; part of every checkpoint's fingerprint, so a new model reloads."""

BATCH_ROWS = 5_000
"""Rows per transaction: bigger batches load faster until a transaction gets heavy."""


@dataclass(frozen=True)
class LoadStep:
    """One step of the push: rows of ``table`` matching ``where``, in ``key`` order, sent with
    ``queries`` (named queries taking ``$rows``) in one transaction per batch."""

    name: str
    table: str
    key: tuple[str, ...]
    queries: tuple[str, ...]
    columns: tuple[str, ...] = ()
    where: str = "TRUE"

    def select_sql(self) -> str:
        """The step's rows after the key ``$a`` (``$a, $b`` for a two-column key), decimals as
        DOUBLE (yuan), the load id left out."""
        table = TABLES.get(self.table)
        names = self.columns or (table.column_names if table else ())
        cols = ", ".join(
            f"{c}::DOUBLE AS {c}" if table and table.column(c).kind.value in ("amount", "number")
            else c for c in names)
        after = ("$a IS NULL OR " + self.key[0] + " > $a" if len(self.key) == 1 else
                 f"$a IS NULL OR ({', '.join(self.key)}) > ($a, $b)")
        return (f"SELECT {cols} FROM {self.table} WHERE ({self.where}) AND ({after}) "
                f"ORDER BY {', '.join(self.key)}")

    def after_params(self, after: Any) -> dict[str, Any]:
        if len(self.key) == 1:
            return {"a": after}
        a, b = after if after is not None else (None, None)
        return {"a": a, "b": b}


STEPS: tuple[LoadStep, ...] = (
    LoadStep("institutions", "institutions", ("fixmedins_code",), ("load/institutions",)),
    LoadStep("persons", "persons", ("psn_no",), ("load/persons",)),
    LoadStep("practitioners", "practitioners", ("dr_codg",), ("load/practitioners",)),
    LoadStep("settlements", "settlements", ("setl_id",), ("load/settlements",)),
    LoadStep("reversals", "settlements", ("setl_id",), ("load/reverses",),
             columns=("setl_id", "init_setl_id"), where="init_setl_id IS NOT NULL"),
    LoadStep("fee_details", "fee_details", ("setl_id", "feedetl_sn"),
             ("load/fee_details",)),
)
"""The steps in order: every step's MATCHes find the nodes earlier steps made."""


def step_fingerprint(con: duckdb.DuckDBPyConnection, step: LoadStep) -> str:
    n, last = con.execute(f"SELECT count(*), max(_load_id) FROM {step.table} "
                          f"WHERE {step.where}").fetchall()[0]
    return f"model {GRAPH_MODEL}; {step.table}: {n} rows, last load {last}"


def _key_of(step: LoadStep, row: dict[str, Any]) -> Any:
    return row[step.key[0]] if len(step.key) == 1 else [row[k] for k in step.key]


def _create_schema(runner: Runner) -> None:
    for name in query_names():
        if name.startswith("schema/"):
            runner.run(name)


class _Pusher:
    def __init__(self, runner: Runner, con: duckdb.DuckDBPyConnection, progress: Progress,
                 batch_rows: int) -> None:
        self.runner = runner
        self.con = con
        self.progress = progress
        self.batch_rows = batch_rows
        self.committed: dict[str, int] = {}

    def step(self, step: LoadStep, mark: Record | None) -> StepLoad:
        started = time.perf_counter()
        fingerprint = step_fingerprint(self.con, step)
        total = int(self.con.execute(
            f"SELECT count(*) FROM {step.table} WHERE {step.where}").fetchall()[0][0])
        if mark is not None and mark.get("fingerprint") != fingerprint:
            log.info("step %s: the store changed since the last push; loading it again",
                     step.name)
            mark = None
        if mark is not None and mark.get("complete"):
            self.committed[step.name] = total
            self.progress(step.name, total, total)
            return StepLoad(step.name, total, 0, resumed_after=total, skipped=True)
        after = mark.get("after") if mark else None
        done = resumed = int(mark.get("rows") or 0) if mark else 0
        self.committed[step.name] = done
        self.progress(step.name, done, total)
        cur = self.con.execute(step.select_sql(), step.after_params(after))
        names = [d[0] for d in cur.description]
        while rows := cur.fetchmany(self.batch_rows):
            batch = [dict(zip(names, r, strict=True)) for r in rows]
            after = _key_of(step, batch[-1])
            self._commit(step, batch, after, done + len(batch), fingerprint, total)
            done += len(batch)
            self.committed[step.name] = done
            self.progress(step.name, done, total)
        self._checkpoint(step, after, done, fingerprint, complete=True)
        return StepLoad(step.name, total, done - resumed, resumed_after=resumed,
                        seconds=time.perf_counter() - started)

    def _commit(self, step: LoadStep, batch: Sequence[dict[str, Any]], after: Any, done: int,
                fingerprint: str, total: int) -> None:
        def push(tx: Transaction) -> None:  # a batch and its checkpoint, together or not
            for name in step.queries:
                tx.run(name, {"rows": batch})
            tx.run("load/checkpoint", self._mark(step, after, done, fingerprint, False))

        try:
            self.runner.write(f"push {step.name}", push)
        except BackendUnavailableError as exc:
            kept = ", ".join(f"{k} {v:,}" for k, v in self.committed.items())
            raise BackendLoadError(
                f"the load stopped in step '{step.name}' after {self.committed[step.name]:,} "
                f"of {total:,} rows: {exc}. Rows committed and kept in the graph: {kept}; "
                "run the same push again (yibao graph push) to resume after them",
                step=step.name, written=self.committed,
            ) from exc

    def _checkpoint(self, step: LoadStep, after: Any, done: int, fingerprint: str, *,
                    complete: bool) -> None:
        self.runner.run("load/checkpoint", self._mark(step, after, done, fingerprint, complete))

    @staticmethod
    def _mark(step: LoadStep, after: Any, done: int, fingerprint: str,
              complete: bool) -> dict[str, Any]:
        return {"step": step.name, "after": after, "done": done, "fingerprint": fingerprint,
                "complete": complete, "updated": datetime.now().replace(microsecond=0)}


def push_store(
    runner: Runner,
    store: Path,
    *,
    progress: Progress | None = None,
    restart: bool = False,
    settings: Settings | None = None,
    batch_rows: int = BATCH_ROWS,
) -> LoadSummary:
    """Push the tables of the store file ``store`` into the graph behind ``runner``.

    Raises :class:`~yibao.errors.BackendLoadError` when the server goes away part way; its
    message and ``written`` say what was committed, and running the push again resumes.
    """
    from loaders.store import open_store

    settings = settings or Settings()
    started = time.perf_counter()
    say = progress or (lambda _stage, _done, _total: None)
    with open_store(store, read_only=True, memory_limit=settings.memory_limit,
                    threads=settings.threads) as opened:
        _create_schema(runner)
        if restart:
            runner.run("load/forget_checkpoints")
        marks = {r["step"]: r for r in runner.run("load/checkpoints")}
        pusher = _Pusher(runner, opened.con, say, batch_rows)
        steps = tuple(pusher.step(step, marks.get(step.name)) for step in STEPS)
    summary = LoadSummary("neo4j", steps, time.perf_counter() - started)
    log.info("pushed %s: %d rows written in %.1f s", store, summary.written, summary.seconds)
    return summary
