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

from loaders._sql import ident, literal
from loaders.codes import CodeTables
from loaders.contract import TABLE_ORDER, TABLES
from loaders.geocheck import note_coordinates_outside_division
from loaders.reasons import REASONS
from loaders.report import FileReport, LoadReport
from loaders.sources import RawStage, find_table_files, scan_file, stage_raw
from loaders.store import Store
from loaders.validate import (
    check_references,
    check_rows,
    flag_duplicates,
    flag_stored,
    link_reversals,
    raw_record_sql,
)
from yibao.divisions import divisions_frame
from yibao.errors import DataFileError, YibaoError

__all__ = ["Progress", "load_files", "load_folder"]

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
    report = load_files(files, store, source=str(folder), progress=progress, codes=codes)
    return replace(report, ignored_files=tuple(p.name for p in ignored))


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
        _prepare_session(con)
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


def _prepare_session(con: duckdb.DuckDBPyConnection) -> None:
    """Temporary lookup tables the checks use: division codes and reason templates."""
    codes = divisions_frame()[["code"]]
    con.register("_divisions_df", codes)
    con.execute("CREATE OR REPLACE TEMP TABLE _divisions AS SELECT code FROM _divisions_df")
    con.unregister("_divisions_df")
    con.execute("CREATE OR REPLACE TEMP TABLE _reasons (code VARCHAR, zh VARCHAR, en VARCHAR)")
    con.executemany(
        "INSERT INTO _reasons VALUES (?, ?, ?)", [[r.code, r.zh, r.en] for r in REASONS.values()]
    )


def _fill(template: str) -> str:
    out = template
    for key, expr in (("column", "p.column"), ("value", "p.value"), ("detail", "p.detail")):
        out = f"replace({out}, '{{{key}}}', coalesce({expr}, ''))"
    return out


def _insert_accepted(con: duckdb.DuckDBPyConnection, table: str, load_id: int, where: str) -> int:
    cols = [c.name for c in TABLES[table].columns]
    names = ", ".join(ident(c) for c in cols)
    values = ", ".join(ident("v_" + c) for c in cols)
    row = con.execute(
        f"""INSERT INTO {ident(table)} ({names}, _load_id)
            SELECT {values}, {int(load_id)} FROM checked
            WHERE len(_problems) = 0 AND NOT _unchanged AND ({where})"""
    ).fetchone()
    inserted = int(row[0]) if row else 0
    if table == "fee_details" and inserted:
        con.execute(
            f"""INSERT INTO trace_codes
                SELECT unnest(string_split(v_drug_trac_codg, ';')), v_setl_id, v_feedetl_sn,
                       {int(load_id)}
                FROM checked
                WHERE len(_problems) = 0 AND NOT _unchanged AND v_drug_trac_codg IS NOT NULL"""
        )
    return inserted


def _record_notes(con: duckdb.DuckDBPyConnection, table: str, meta: str) -> None:
    """One ``data_notes`` entry per note of each row this load inserts (kept rows only)."""
    key = TABLES[table].key
    row_key = " || '/' || ".join(f"CAST({ident('v_' + k)} AS VARCHAR)" for k in key)
    con.execute(
        f"""INSERT INTO data_notes
        SELECT {meta}, c._row, c._key, p.column, p.value, p.code,
               {_fill("q.zh")}, {_fill("q.en")}
        FROM (SELECT _row, {row_key} AS _key, unnest(_notes) AS p FROM checked
              WHERE len(_notes) > 0 AND len(_problems) = 0 AND NOT _unchanged) c
        JOIN _reasons q ON q.code = c.p.code"""
    )


def _note_counts(con: duckdb.DuckDBPyConnection) -> tuple[int, dict[str, int], dict[str, int]]:
    """Rows inserted with notes; notes by reason; notes by column."""
    inserted = "len(_problems) = 0 AND NOT _unchanged"
    row = con.execute(f"SELECT count(*) FROM checked WHERE len(_notes) > 0 AND {inserted}")
    noted = int((row.fetchone() or (0,))[0])
    if not noted:
        return 0, {}, {}
    notes = f"(SELECT unnest(_notes) AS p FROM checked WHERE len(_notes) > 0 AND {inserted})"
    by_reason = con.execute(
        f"SELECT p.code, count(*) FROM {notes} GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    by_column = con.execute(
        f"SELECT p.column, count(*) FROM {notes} GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    return (
        noted,
        {str(k): int(v) for k, v in by_reason},
        {str(k): int(v) for k, v in by_column},
    )


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
        inserted = _insert_accepted(con, table, load_id, "v_medfee_sumamt >= 0")
        link_reversals(con)
        inserted += _insert_accepted(con, table, load_id, "v_medfee_sumamt < 0")
    else:
        inserted = _insert_accepted(con, table, load_id, "true")

    file_name = stage.path.name
    sha = stage.scan.sha256
    meta = f"{int(load_id)}, {literal(table)}, {literal(file_name)}, {literal(sha)}"
    _record_notes(con, table, meta)
    record = raw_record_sql(con, table, "raw")
    # quarantine: rows the reader could not split, then rows with problems; an entry already
    # made by an earlier load of the same bytes is not repeated (idempotent loads)
    con.execute(
        f"""INSERT INTO quarantine
        SELECT * FROM (
            SELECT {meta}, r._row AS row_no, NULL, r.text, r.code AS reason_code,
                   replace(q.zh, '{{detail}}', coalesce(r.detail, '')),
                   replace(q.en, '{{detail}}', coalesce(r.detail, '')),
                   to_json([{{'column': NULL, 'code': r.code, 'value': NULL,
                              'detail': r.detail}}]),
                   to_json({{'_line': r.text}})
            FROM raw_rejects r JOIN _reasons q USING (code)
            UNION ALL
            SELECT {meta}, c._row, p.column,
                   CASE WHEN contains(p.column, '+') THEN p.value  -- a composite key's value
                        ELSE json_extract_string(c._record, '$."' || p.column || '"') END,
                   p.code,
                   {_fill("q.zh")}, {_fill("q.en")}, to_json(c._problems), c._record
            FROM (SELECT checked.*, _problems[1] AS p, {record} AS _record
                  FROM checked JOIN raw USING (_row) WHERE len(_problems) > 0) c
            JOIN _reasons q ON q.code = c.p.code
        ) new
        WHERE NOT EXISTS (
            SELECT 1 FROM quarantine old
            WHERE old.sha256 = {literal(sha)} AND old.row_no = new.row_no
              AND old.reason_code = new.reason_code AND old.table_name = {literal(table)}
        )"""
    )
    counts = con.execute(
        """SELECT count(*), count_if(len(_problems) = 0 AND _unchanged),
                  count_if(len(_problems) > 0) FROM checked"""
    ).fetchone()
    assert counts is not None
    # count_if over no rows (a file with a header only) is NULL, not 0
    rows_checked, unchanged, bad_rows = (int(x or 0) for x in counts)
    reasons = dict(
        con.execute(
            """SELECT code, count(*) FROM (
                   SELECT code FROM raw_rejects
                   UNION ALL SELECT _problems[1].code FROM checked WHERE len(_problems) > 0)
               GROUP BY code ORDER BY count(*) DESC, code"""
        ).fetchall()
    )
    normalised = _normalised_counts(con, table)
    noted, note_reasons, note_columns = _note_counts(con)
    quarantined = bad_rows + stage.rejects
    rows_in = rows_checked + stage.rejects
    if rows_in != inserted + unchanged + quarantined:  # the loader's own invariant
        raise YibaoError(
            f"internal accounting error for {file_name}: rows_in {rows_in} != inserted "
            f"{inserted} + unchanged {unchanged} + quarantined {quarantined}; please report it"
        )
    report = FileReport(
        table=table,
        file=file_name,
        file_format=stage.file_format,
        encoding=stage.scan.encoding,
        sha256=sha,
        rows_in=rows_in,
        inserted=inserted,
        unchanged=unchanged,
        quarantined=quarantined,
        reasons={str(k): int(v) for k, v in reasons.items()},
        normalised=normalised,
        noted=noted,
        notes=note_reasons,
        noted_columns=note_columns,
        absent_columns=tuple(
            c.name for c in TABLES[table].columns if c.name not in stage.column_map
        ),
        ignored_columns=stage.ignored_columns,
        seconds=read_seconds + time.perf_counter() - t0,
    )
    con.execute(
        "INSERT INTO load_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            load_id, table, file_name, sha, stage.scan.size, stage.file_format,
            stage.scan.encoding, rows_in, inserted, unchanged, quarantined,
            list(stage.ignored_columns), json.dumps(normalised),
        ],
    )
    return report


def _normalised_counts(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    """How many loaded values of each column were normalised (full-width digits, separators,
    Excel serial dates, other date formats, labels, padding): nothing is changed silently."""
    cols = TABLES[table].columns
    exprs = ", ".join(f"count_if(_norm & {1 << i} <> 0)" for i in range(len(cols)))
    row = con.execute(f"SELECT {exprs} FROM checked WHERE len(_problems) = 0").fetchone()
    assert row is not None
    return {c.name: int(n or 0) for c, n in zip(cols, row, strict=True) if n}
