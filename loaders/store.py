"""The embedded store: one DuckDB file holding loaded tables, quarantine and load history.

Why DuckDB: it needs no server, reads CSV and Parquet multi-threaded with a reject table,
validates whole columns in vectorised SQL, keeps typed columnar data compressed on disk, spills
to disk beyond its memory limit and gives ACID transactions, so a load is all-or-nothing. One
file per store, named by the user (``--db``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import TracebackType
from typing import Any

import duckdb
import pandas as pd

from loaders._sql import column_sql, ident, literal
from loaders.contract import TABLE_ORDER, TABLES
from yibao.errors import StoreError

__all__ = ["SCHEMA_VERSION", "Store", "create_schema", "default_memory_limit", "open_published",
           "open_store"]

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2
"""2: data-quality notes (``data_notes``) and the optional operator and department columns of
settlements; a version-1 store is upgraded in place when opened for writing."""

_SYSTEM_DDL = (
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE SEQUENCE IF NOT EXISTS load_id_seq START 1""",
    """CREATE TABLE IF NOT EXISTS loads (
        load_id INTEGER PRIMARY KEY,
        started_at TIMESTAMP,
        finished_at TIMESTAMP,
        source VARCHAR,
        rows_in BIGINT,
        inserted BIGINT,
        unchanged BIGINT,
        quarantined BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS load_files (
        load_id INTEGER,
        table_name VARCHAR,
        file VARCHAR,
        sha256 VARCHAR,
        bytes BIGINT,
        file_format VARCHAR,
        encoding VARCHAR,
        rows_in BIGINT,
        inserted BIGINT,
        unchanged BIGINT,
        quarantined BIGINT,
        ignored_columns VARCHAR[],
        normalised JSON
    )""",
    """CREATE TABLE IF NOT EXISTS quarantine (
        load_id INTEGER,
        table_name VARCHAR,
        file VARCHAR,
        sha256 VARCHAR,
        row_no BIGINT,
        column_name VARCHAR,
        raw_value VARCHAR,
        reason_code VARCHAR,
        reason_zh VARCHAR,
        reason_en VARCHAR,
        problems JSON,
        raw_record JSON
    )""",
    """CREATE TABLE IF NOT EXISTS data_notes (
        load_id INTEGER,
        table_name VARCHAR,
        file VARCHAR,
        sha256 VARCHAR,
        row_no BIGINT,
        row_key VARCHAR,
        column_name VARCHAR,
        raw_value VARCHAR,
        reason_code VARCHAR,
        reason_zh VARCHAR,
        reason_en VARCHAR
    )""",
    """CREATE TABLE IF NOT EXISTS trace_codes (
        drug_trac_codg VARCHAR,
        setl_id VARCHAR,
        feedetl_sn VARCHAR,
        _load_id INTEGER
    )""",
)


def _table_ddl(name: str) -> str:
    table = TABLES[name]
    cols = ", ".join(f"{ident(c.name)} {column_sql(c).sql_type}" for c in table.columns)
    return f"CREATE TABLE IF NOT EXISTS {ident(name)} ({cols}, _load_id INTEGER)"


class Store:
    """An open store. Use :func:`open_store`; close it (or use ``with``) when done."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        self.con = con
        self.path = path

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.con.close()

    def table_counts(self) -> dict[str, int]:
        """Rows per data table, plus ``trace_codes``, ``quarantine`` and ``data_notes``."""
        names = (*TABLE_ORDER, "trace_codes", "quarantine", "data_notes")
        sql = " UNION ALL ".join(
            f"SELECT {i} AS i, count(*) FROM {ident(n)}" for i, n in enumerate(names)
        )
        counts = dict(self.con.execute(sql).fetchall())
        return {n: int(counts[i]) for i, n in enumerate(names)}

    def frame(self, sql: str, params: list[Any] | None = None) -> pd.DataFrame:
        """Run a read query and return its result as a pandas frame."""
        return self.con.execute(sql, params or []).df()

    def quarantine_frame(self, load_id: int | None = None) -> pd.DataFrame:
        """Quarantined rows (all loads, or one), in file and row order."""
        where = "" if load_id is None else "WHERE load_id = ?"
        return self.frame(
            f"SELECT * FROM quarantine {where} ORDER BY load_id, table_name, file, row_no",
            [] if load_id is None else [load_id],
        )


    def notes_frame(self, load_id: int | None = None) -> pd.DataFrame:
        """Data-quality notes of stored rows (all loads, or one), in file and row order."""
        where = "" if load_id is None else "WHERE load_id = ?"
        return self.frame(
            f"SELECT * FROM data_notes {where} ORDER BY load_id, table_name, file, row_no",
            [] if load_id is None else [load_id],
        )


def _add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """Upgrade a version-1 store: add the contract columns its tables lack (empty)."""
    for name in TABLE_ORDER:
        have = {
            c for (c,) in con.execute(
                "SELECT column_name FROM duckdb_columns() WHERE table_name = ? "
                "AND schema_name = 'main' AND database_name = current_database()",
                [name],
            ).fetchall()
        }
        for col in TABLES[name].columns:
            if col.name not in have:
                sql_type = column_sql(col).sql_type
                con.execute(f"ALTER TABLE {ident(name)} ADD COLUMN {ident(col.name)} {sql_type}")


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the store's tables on ``con`` (those missing), or upgrade a version-1 store."""
    for ddl in _SYSTEM_DDL:
        con.execute(ddl)
    for name in TABLE_ORDER:
        con.execute(_table_ddl(name))
    row = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    elif int(row[0]) == 1:
        log.info("upgrading store schema 1 -> %d", SCHEMA_VERSION)
        _add_new_columns(con)
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
    elif int(row[0]) != SCHEMA_VERSION:
        raise StoreError(
            f"store schema version {row[0]} is not {SCHEMA_VERSION}: load the data into a new "
            "--db file"
        )


def open_store(
    path: str | Path,
    *,
    read_only: bool = False,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Store:
    """Open (or create) the store file at ``path`` and make sure its schema exists.

    ``memory_limit`` (DuckDB syntax, e.g. ``"6GB"``) bounds the memory of a load; beyond it
    DuckDB spills to a temporary folder next to the store. By default it is
    :func:`default_memory_limit`.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise StoreError(f"store {path} does not exist: run 'yibao load DIR --db {path}' first")
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {"memory_limit": memory_limit or default_memory_limit()}
    if threads:
        config["threads"] = threads
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise StoreError(f"cannot open store {path}: {exc}. Check that the file is a "
                             "yibao store you may read, or choose another --db file") from exc
        raise StoreError(
            f"store {path} is busy: another program is "
            f"{'writing' if read_only else 'using'} it ({exc}). A 'yibao load' or "
            "'yibao detect' writes one store at a time: wait for it to finish, or choose "
            "another --db file. (The workbench reads published snapshots and does not block "
            "a load; one started with 'streamlit run' on a store never published does: "
            "restart it with 'yibao workbench'.)"
        ) from exc
    if not read_only:
        con.execute(f"SET temp_directory = {literal(str(path.parent / (path.name + '.tmp')))}")
        create_schema(con)
    return Store(con, path)


def open_published(
    path: str | Path,
    *,
    memory_limit: str | None = None,
    threads: int | None = None,
) -> Store:
    """The store at ``path`` for reading: its newest published snapshot, read-only
    (:mod:`loaders.snapshots`), so a load or a detection can write the store meanwhile; the
    store itself when it was never published."""
    from loaders.snapshots import reading_path

    if not Path(path).exists():
        raise StoreError(f"store {path} does not exist: run 'yibao load DIR --db {path}' first")
    return open_store(reading_path(path), read_only=True, memory_limit=memory_limit,
                      threads=threads)


def default_memory_limit() -> str:
    """6 GB, or 60% of the machine's memory when that is less: a city-year of settlements
    loads within 8 GiB, and a laptop keeps room for the browser and the workbench."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "6GB"
    return f"{min(6 * 1024, int(total * 0.6) // 2**20)}MB"
