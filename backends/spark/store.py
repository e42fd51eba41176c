"""A store detected on Spark: ``yibao detect --backend spark``.

The store's loaded tables go to its lake (``<store>.lake/`` unless told otherwise), copied
again only when the store has changed since (the lake's ``SOURCE.json`` names the loads it
holds). Spark detects there (:func:`backends.spark.detect.spark_detect`), with the store's
previous rings so ids persist and the store's next run number; the result tables then replace
the store's in one transaction, with the store's column types, and a new snapshot is
published for the workbench. The store stays open for writing throughout, so no load slips
in between the copy and the results.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from backends.spark.lake import LOADED_TABLES, lake_tables, write_lake
from graph.detect import DetectionResult, previous_rings, rings_table_ddl
from graph.rules import HIT_COLUMNS
from loaders._sql import literal
from yibao.errors import StoreError

if TYPE_CHECKING:
    from graph.scoring import DetectionSettings

__all__ = ["default_lake", "detect_lake_on_spark", "detect_store_on_spark", "import_results",
           "lake_is_current"]

_SOURCE = "SOURCE.json"


def default_lake(store: Path) -> Path:
    """The lake beside ``store``: ``<store>.lake``."""
    return store.with_name(store.name + ".lake")


def _fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """What the store's loaded tables hold: the loads recorded and every table's rows."""
    loads = con.execute("SELECT count(*), max(load_id) FROM loads").fetchone() \
        if "loads" in {r[0] for r in con.execute("SHOW TABLES").fetchall()} else (0, None)
    counts = {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
              for t in LOADED_TABLES}
    return {"loads": int(loads[0] or 0) if loads else 0,
            "last_load": loads[1] if loads else None, "rows": counts}


def lake_is_current(con: duckdb.DuckDBPyConnection, lake: Path) -> bool:
    """Whether ``lake`` holds the store's loaded tables as they are now."""
    source = lake / _SOURCE
    if not source.is_file() or not set(LOADED_TABLES) <= set(lake_tables(lake)):
        return False
    try:
        return bool(json.loads(source.read_text(encoding="utf-8")) == _fingerprint(con))
    except (OSError, ValueError):
        return False



def import_results(con: duckdb.DuckDBPyConnection, lake: Path, run_id: int) -> None:
    """Replace the store's detection tables with the lake's (one transaction; the JSON
    columns Spark carried as text become JSON again) and add run ``run_id``'s row."""
    def parquet(table: str) -> str:
        return f"read_parquet({literal(str(lake / table / '*.parquet'))})"

    hit_columns = ", ".join(f"{name} {kind}" for name, kind in HIT_COLUMNS)
    hit_select = ", ".join(f"{name}::{kind}" for name, kind in HIT_COLUMNS)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(f"CREATE OR REPLACE TABLE rule_hits ({hit_columns})")
        con.execute(f"INSERT INTO rule_hits SELECT {hit_select} FROM {parquet('rule_hits')}")
        con.execute("CREATE OR REPLACE TABLE chains AS SELECT * EXCLUDE (hops), "
                    f"hops::JSON AS hops FROM {parquet('chains')} ORDER BY drug_trac_codg")
        con.execute("CREATE OR REPLACE TABLE chain_links AS SELECT * FROM "
                    f"{parquet('chain_links')} ORDER BY kind, src, dst")
        for ddl in rings_table_ddl():
            con.execute(ddl)
        for table in ("rings", "ring_members", "ring_settlements"):
            con.execute(f"DELETE FROM {table}")
            con.execute(f"INSERT INTO {table} SELECT * FROM {parquet(table)}")
        con.execute(f"INSERT INTO detect_runs SELECT * FROM {parquet('detect_runs')} "
                    "WHERE run_id = ?", [run_id])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def detect_store_on_spark(db: Path, *, lake: Path | None = None, master: str | None = None,
                          settings: DetectionSettings | None = None,
                          progress: Callable[[str], None] | None = None) -> DetectionResult:
    """Detect the store ``db`` on Spark (see the module docstring) and publish it."""
    from backends.spark.detect import spark_detect
    from backends.spark.session import spark_session
    from loaders.snapshots import publish_snapshot
    from loaders.store import open_store

    say = progress or (lambda _msg: None)
    folder = lake or default_lake(db)
    if "loads" in lake_tables(folder) and not (folder / _SOURCE).is_file():
        raise StoreError(
            f"{folder} holds data loaded on Spark (yibao load --lake), not a copy of the store "
            f"{db}: detect it on its own with 'yibao detect --backend spark --lake {folder}' "
            "and no store (or choose another --lake for the store)")
    with open_store(db) as store:
        con = store.con
        if not lake_is_current(con, folder):
            say(f"copying the store's tables to {folder}")
            write_lake(con, folder)
            (folder / _SOURCE).write_text(json.dumps(_fingerprint(con), default=str),
                                          encoding="utf-8")
        previous = previous_rings(con)
        row = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM detect_runs").fetchone()
        run_id = int(row[0]) if row else 1
        spark = spark_session(master)
        found = spark_detect(spark, folder, settings=settings, previous=previous,
                             run_id=run_id, progress=say)
        say("results into the store")
        import_results(con, folder, run_id)
        publish_snapshot(store, reason="detect")
    return DetectionResult(
        run_id=found.run_id, rings=found.rings, engine=found.engine,
        modularity=found.modularity, projection_edges=found.projection_edges,
        projection_nodes=found.projection_nodes, rule_hits=found.rule_hits,
        chains=found.chains, timings=found.timings)


def detect_lake_on_spark(lake: Path, *, master: str | None = None,
                         settings: DetectionSettings | None = None,
                         progress: Callable[[str], None] | None = None) -> DetectionResult:
    """Detect a lake that has no store (loaded on Spark: ``yibao load --lake``); the results
    stay in the lake, rings keeping the ids of its previous run."""
    from backends.spark.detect import spark_detect
    from backends.spark.session import spark_session

    found = spark_detect(spark_session(master), lake, settings=settings, progress=progress)
    return DetectionResult(
        run_id=found.run_id, rings=found.rings, engine=found.engine,
        modularity=found.modularity, projection_edges=found.projection_edges,
        projection_nodes=found.projection_nodes, rule_hits=found.rule_hits,
        chains=found.chains, timings=found.timings)
