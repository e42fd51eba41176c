"""Detection on the Neo4j backend: pull the graph's tables, detect in our code, write back.

Community detection and scoring stay in our code, so both backends find the same rings: the
base tables (persons, institutions, listed practitioners, settlements, fee lines) and the
previous rings and runs are streamed in chunks (``queries/pull``) into a
temporary DuckDB store with the embedded schema, :func:`graph.detect.detect` runs there
unchanged (or the GDS variant, :mod:`backends.neo4j_gds`), and its tables are written back
in one transaction (``queries/detect``): ``Ring`` nodes with ``HAS_MEMBER`` and ``INCLUDES``
relationships, ``Chain`` nodes, ``CHAIN_LINK`` relationships, ``RuleHit`` nodes and a
``DetectRun``. Readers never see half a result.

Amounts travel as floats and are cast back to the store's DECIMAL columns, which restores them
exactly (they have at most 4 or 6 decimals); ``trace_codes`` is rebuilt from the fee lines as
the loader builds it.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from queries.runner import Runner, Transaction
from yibao.settings import Settings

if TYPE_CHECKING:
    from graph.detect import DetectionResult
    from graph.scoring import DetectionSettings

__all__ = ["CHUNK_ROWS", "detect_in_graph", "pull_graph", "push_results"]

log = logging.getLogger(__name__)

CHUNK_ROWS = 20_000
"""Rows per chunk when pulling a label."""

WRITE_ROWS = 5_000
"""Rows per statement when writing results back."""

_PULLS: tuple[tuple[str, str], ...] = (
    ("institutions", "pull/institutions"),
    ("persons", "pull/persons"),
    ("practitioners", "pull/practitioners"),
    ("settlements", "pull/settlements"),
    ("fee_details", "pull/fee_details"),
)


def _arrow_type(sql_type: str) -> Any:
    import pyarrow as pa

    base = sql_type.upper()
    if base.endswith("[]"):
        return pa.list_(_arrow_type(base[:-2]))
    if base.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")):
        return pa.float64()
    return {"DATE": pa.date32(), "TIMESTAMP": pa.timestamp("us"), "INTEGER": pa.int32(),
            "BIGINT": pa.int64(), "BOOLEAN": pa.bool_(), "SMALLINT": pa.int16()
            }.get(base, pa.string())


def _insert(con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    """Insert property maps into ``table``: missing properties are NULL, unknown ones ignored,
    values cast to the column types (floats back to DECIMAL)."""
    import pyarrow as pa

    if not rows:
        return
    columns = [(name, typ) for name, typ, *_ in con.execute(f"DESCRIBE {table}").fetchall()]
    frame = pa.table({name: pa.array([r.get(name) for r in rows], _arrow_type(typ))
                      for name, typ in columns})
    con.register("_pulled", frame)
    try:
        con.execute(f"INSERT INTO {table} SELECT * FROM _pulled")
    finally:
        con.unregister("_pulled")


def pull_graph(runner: Runner, con: duckdb.DuckDBPyConnection, *,
               chunk_rows: int = CHUNK_ROWS,
               progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Copy the graph's base tables, rings and runs into the store behind ``con`` (which has the
    embedded schema and no rows); the rows per table."""
    from graph.detect import rings_table_ddl

    say = progress or (lambda _msg: None)
    counts: dict[str, int] = {}
    for table, query in _PULLS:
        say(f"pull {table}")
        n = 0
        for chunk in runner.stream(query, chunk_rows=chunk_rows):
            _insert(con, table, [r["row"] for r in chunk])
            n += len(chunk)
        counts[table] = n
    con.execute("""INSERT INTO trace_codes
        SELECT unnest(string_split(drug_trac_codg, ';')), setl_id, feedetl_sn, NULL
        FROM fee_details WHERE drug_trac_codg IS NOT NULL""")
    for ddl in rings_table_ddl():
        con.execute(ddl)
    _insert(con, "rings", [r["row"] for r in runner.run("pull/rings")])
    _insert(con, "detect_runs", [r["row"] for r in runner.run("pull/detect_runs")])
    log.info("pulled %s", counts)
    return counts


def _records(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def _batches(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for k in range(0, len(rows), WRITE_ROWS):
        yield rows[k:k + WRITE_ROWS]


def push_results(runner: Runner, con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Replace the graph's detection results by the tables of the store behind ``con``, in one
    transaction; the rows written per table."""
    rings = _records(con, "SELECT * FROM rings ORDER BY ring_id")
    members = _records(con, "SELECT * FROM ring_members ORDER BY ring_id, kind, code")
    included = _records(con, "SELECT * FROM ring_settlements ORDER BY ring_id, setl_id")
    chains = _records(con, "SELECT * FROM chains ORDER BY drug_trac_codg")
    links = _records(con, "SELECT * FROM chain_links ORDER BY kind, src, dst")
    hits = _records(con, "SELECT * FROM rule_hits ORDER BY hit_id")
    run = _records(con, "SELECT * FROM detect_runs ORDER BY run_id DESC LIMIT 1")
    by_kind = {k: [m for m in members if m["kind"] == k]
               for k in ("person", "institution", "practitioner")}
    link_rows = {k: [{"src": r["src"], "dst": r["dst"],
                      "props": {c: v for c, v in r.items() if c not in ("src", "dst")}}
                     for r in links if r["kind"] == k] for k in ("institution", "person")}
    writes: tuple[tuple[str, list[dict[str, Any]]], ...] = (
        ("detect/create_rings", rings),
        ("detect/ring_persons", by_kind["person"]),
        ("detect/ring_institutions", by_kind["institution"]),
        ("detect/ring_practitioners", by_kind["practitioner"]),
        ("detect/ring_settlements", included),
        ("detect/create_chains", chains),
        ("detect/chain_links_institutions", link_rows["institution"]),
        ("detect/chain_links_persons", link_rows["person"]),
        ("detect/create_rule_hits", hits),
    )
    def replace_results(tx: Transaction) -> None:  # all of the run's results or none
        tx.run("detect/delete_results")
        tx.run("detect/delete_chain_links")
        for name, rows in writes:
            for batch in _batches(rows):
                tx.run(name, {"rows": batch})
        if run:
            tx.run("detect/create_detect_run", {"row": run[0]})

    runner.write("write detection results", replace_results)
    written = {"rings": len(rings), "ring_members": len(members),
               "ring_settlements": len(included), "chains": len(chains),
               "chain_links": len(links), "rule_hits": len(hits)}
    log.info("detection results written to the graph: %s", written)
    return written


def detect_in_graph(
    runner: Runner,
    *,
    settings: DetectionSettings | None = None,
    engine: str | None = None,
    progress: Callable[[str], None] | None = None,
    app_settings: Settings | None = None,
) -> DetectionResult:
    """Run detection on the graph behind ``runner`` and store its results there.

    ``engine``: a community engine of :func:`graph.community.communities_from_edges`, or
    ``"gds"`` (the server's Graph Data Science Leiden; the caller checks it is there).
    """
    from graph.detect import detect
    from loaders.store import open_store

    app = app_settings or Settings()
    say = progress or (lambda _msg: None)
    with tempfile.TemporaryDirectory(prefix="yibao-detect-") as tmp, \
            open_store(Path(tmp) / "graph.duckdb", memory_limit=app.memory_limit,
                       threads=app.threads) as store:
        pull_graph(runner, store.con, progress=say)
        if engine == "gds":
            from backends.neo4j_gds import detect_with_gds

            result = detect_with_gds(store.con, runner, settings=settings, progress=say)
        else:
            result = detect(store.con, settings=settings, engine=engine, progress=say)
        say("write results")
        push_results(runner, store.con)
    return result
