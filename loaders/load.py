"""Load an export folder into the store: atomic, idempotent, every refused row explained.

The whole folder is one transaction: a crash or a fatal error (an unreadable file, a missing
required column) leaves the store as it was. Tables load in dependency order so references
resolve against rows loaded moments earlier in the same transaction. Loading the same files
again adds nothing: identical rows count as ``unchanged`` and quarantine entries are not
repeated.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import duckdb

from loaders._sql import ident
from loaders.codes import CodeTables
from loaders.contract import TABLE_ORDER, TABLES
from loaders.geocheck import note_coordinates_outside_division
from loaders.record import (
    count_checked,
    file_report,
    insert_accepted,
    meta_sql,
    prepare_session,
    record_notes,
    record_quarantine,
)
from loaders.report import FileReport, LoadReport
from loaders.sources import RawStage, find_table_files, scan_file, stage_raw
from loaders.store import Store
from loaders.validate import (
    check_references,
    check_rows,
    flag_duplicates,
    flag_stored,
    link_reversals,
)
from yibao.errors import DataFileError

__all__ = ["Progress", "folder_files", "load_files", "load_folder"]

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called as files are scanned and loaded."""


def load_folder(
    folder: str | Path,
    store: Store,
    *,
    tables: Iterable[str] | None = None,
    progress: Progress | None = None,
    codes: CodeTables | None = None,
) -> LoadReport:
    """Load every contract table found in ``folder`` (optionally only ``tables``).

    ``codes``: the code tables to read coded columns with (the shipped ones by default; see
    :func:`loaders.codes.load_code_tables` for a province's mapping file).
    """
    folder = Path(folder)
    files, ignored = folder_files(folder, tables=tables)
    report = load_files(files, store, source=str(folder), progress=progress, codes=codes)
    return replace(report, ignored_files=tuple(p.name for p in ignored))


def folder_files(
    folder: Path, *, tables: Iterable[str] | None = None
) -> tuple[dict[str, Path], list[Path]]:
    """The table files a load of ``folder`` reads (optionally only ``tables``) and the files
    it leaves alone; :class:`DataFileError` when there is none or a table is unknown."""
    files, ignored = find_table_files(folder)
    if tables is not None:
        wanted = set(tables)
        unknown = wanted - set(TABLES)
        if unknown:
            raise DataFileError(
                f"unknown table(s) {sorted(unknown)}: choose from {', '.join(TABLE_ORDER)}"
            )
        files = {t: p for t, p in files.items() if t in wanted}
    if not files:
        names = ", ".join(f"{t}.csv" for t in TABLE_ORDER)
        raise DataFileError(
            f"no table files found in {folder}: expected files such as {names} "
            "(or .xlsx/.parquet, or the Chinese table names)"
        )
    return files, ignored


def load_files(
    files: dict[str, Path],
    store: Store,
    *,
    source: str = "",
    progress: Progress | None = None,
    codes: CodeTables | None = None,
) -> LoadReport:
    """Load ``{table: path}`` into ``store`` in one transaction (see module doc)."""
    started = time.perf_counter()
    ordered = [(t, files[t]) for t in TABLE_ORDER if t in files]
    total = len(ordered)

    def tick(stage: str, done: int) -> None:
        if progress is not None:
            progress(stage, done, total)

    scans = {}
    for i, (table, path) in enumerate(ordered):
        tick(f"scan {path.name}", i)
        scans[table] = scan_file(path)

    con = store.con
    con.execute("BEGIN TRANSACTION")
    try:
        prepare_session(con)
        row = con.execute("SELECT nextval('load_id_seq')").fetchone()
        assert row is not None
        load_id = int(row[0])
        con.execute(
            "INSERT INTO loads (load_id, started_at, source) VALUES (?, now(), ?)",
            [load_id, source],
        )
        reports: list[FileReport] = []
        for i, (table, path) in enumerate(ordered):
            tick(f"load {path.name}", i)
            t0 = time.perf_counter()
            stage = stage_raw(con, path, table, scan=scans[table], workdir=store.path.parent)
            reports.append(
                _load_staged(con, stage, load_id, time.perf_counter() - t0, codes=codes)
            )
            log.info("loaded %s: %s", path, reports[-1])
        tick("commit", total)
        con.execute(
            """UPDATE loads SET finished_at = now(), rows_in = ?, inserted = ?, unchanged = ?,
               quarantined = ? WHERE load_id = ?""",
            [
                sum(r.rows_in for r in reports),
                sum(r.inserted for r in reports),
                sum(r.unchanged for r in reports),
                sum(r.quarantined for r in reports),
                load_id,
            ],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        _drop_temporaries(con)
    tick("done", total)
    return LoadReport(
        load_id=load_id,
        source=source,
        db=str(store.path),
        files=tuple(reports),
        seconds=time.perf_counter() - started,
    )


def _drop_temporaries(con: duckdb.DuckDBPyConnection) -> None:
    """Drop this connection's temporary views, then tables (the staging of a load)."""
    objects = con.execute(
        """SELECT 'VIEW', view_name FROM duckdb_views() WHERE temporary AND NOT internal
           UNION ALL SELECT 'TABLE', table_name FROM duckdb_tables() WHERE temporary"""
    ).fetchall()
    for kind, name in objects:
        con.execute(f"DROP {kind} IF EXISTS {ident(name)}")


def _load_staged(
    con: duckdb.DuckDBPyConnection,
    stage: RawStage,
    load_id: int,
    read_seconds: float,
    *,
    codes: CodeTables | None = None,
) -> FileReport:
    t0 = time.perf_counter()
    table = stage.table
    check_rows(con, table, codes=codes, present=frozenset(stage.column_map))
    flag_duplicates(con, table)
    flag_stored(con, table)
    check_references(con, table)
    if table == "institutions":
        note_coordinates_outside_division(con)
    if table == "settlements":
        inserted = insert_accepted(con, table, load_id, "v_medfee_sumamt >= 0")
        link_reversals(con)
        inserted += insert_accepted(con, table, load_id, "v_medfee_sumamt < 0")
    else:
        inserted = insert_accepted(con, table, load_id, "true")

    file_name = stage.path.name
    sha = stage.scan.sha256
    meta = meta_sql(load_id, table, file_name, sha)
    record_notes(con, table, meta)
    record_quarantine(con, table, meta, sha)
    report = file_report(stage, count_checked(con, table), inserted,
                         read_seconds + time.perf_counter() - t0)
    con.execute(
        "INSERT INTO load_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id, table, file_name, sha, stage.scan.size, stage.file_format,
            stage.scan.encoding, report.rows_in, report.inserted, report.unchanged,
            report.quarantined, list(stage.ignored_columns), json.dumps(report.normalised),
        ],
    )
    return report
