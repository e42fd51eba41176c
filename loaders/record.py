"""Recording one validated file: accepted rows, notes, quarantine entries and the file's account.

Input is the temporary table ``checked`` (:mod:`loaders.validate`) beside ``raw`` and
``raw_rejects`` (:mod:`loaders.sources`); output goes to the store's tables of the same names
(the data table, ``trace_codes``, ``data_notes``, ``quarantine``). Every statement reads the
rows of ``checked`` one at a time (joined to ``raw`` by row number), so the same SQL records a
whole file in the embedded store and any subset of its rows elsewhere
(:mod:`backends.spark.load_checks` runs it per bucket of rows); the counts of subsets add up
(:func:`combine_counts`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from loaders._sql import ident, literal
from loaders.contract import TABLES
from loaders.reasons import REASONS
from loaders.report import FileReport
from loaders.sources import RawStage
from loaders.validate import raw_record_sql
from yibao.divisions import divisions_frame
from yibao.errors import YibaoError

__all__ = [
    "CheckedCounts",
    "check_accounting",
    "combine_counts",
    "count_checked",
    "file_report",
    "insert_accepted",
    "lookup_tables",
    "meta_sql",
    "prepare_session",
    "record_notes",
    "record_quarantine",
]


def lookup_tables() -> dict[str, pa.Table]:
    """The lookup tables the checks read: ``_divisions`` (``code``: the division codes) and
    ``_reasons`` (``code``, ``zh``, ``en``: the reason templates)."""
    codes = divisions_frame()[["code"]]
    reasons = list(REASONS.values())
    return {
        "_divisions": pa.Table.from_pandas(codes, preserve_index=False),
        "_reasons": pa.table({"code": [r.code for r in reasons], "zh": [r.zh for r in reasons],
                              "en": [r.en for r in reasons]},
                             schema=pa.schema([("code", pa.string()), ("zh", pa.string()),
                                               ("en", pa.string())])),
    }


def prepare_session(con: duckdb.DuckDBPyConnection) -> None:
    """Temporary lookup tables the checks use: division codes and reason templates."""
    codes = divisions_frame()[["code"]]
    con.register("_divisions_df", codes)
    con.execute("CREATE OR REPLACE TEMP TABLE _divisions AS SELECT code FROM _divisions_df")
    con.unregister("_divisions_df")
    con.execute("CREATE OR REPLACE TEMP TABLE _reasons (code VARCHAR, zh VARCHAR, en VARCHAR)")
    con.executemany(
        "INSERT INTO _reasons VALUES (?, ?, ?)", [[r.code, r.zh, r.en] for r in REASONS.values()]
    )


def meta_sql(load_id: int, table: str, file_name: str, sha256: str) -> str:
    """The first four columns of a quarantine or note entry, as SQL literals."""
    return f"{int(load_id)}, {literal(table)}, {literal(file_name)}, {literal(sha256)}"


def _fill(template: str) -> str:
    out = template
    for key, expr in (("column", "p.column"), ("value", "p.value"), ("detail", "p.detail")):
        out = f"replace({out}, '{{{key}}}', coalesce({expr}, ''))"
    return out


def insert_accepted(con: duckdb.DuckDBPyConnection, table: str, load_id: int,
                    where: str = "true") -> int:
    """Insert the accepted rows of ``checked`` (no problem, not stored yet) that satisfy
    ``where`` into ``table`` (and their traceability codes into ``trace_codes``); how many."""
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


def record_notes(con: duckdb.DuckDBPyConnection, table: str, meta: str) -> None:
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


def record_quarantine(con: duckdb.DuckDBPyConnection, table: str, meta: str,
                      sha256: str) -> None:
    """Quarantine the rows the reader could not split (``raw_rejects``), then the rows of
    ``checked`` with problems (with their raw text from ``raw``); an entry already made by an
    earlier load of the same bytes is not repeated (idempotent loads)."""
    record = raw_record_sql(con, table, "raw")
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
            WHERE old.sha256 = {literal(sha256)} AND old.row_no = new.row_no
              AND old.reason_code = new.reason_code AND old.table_name = {literal(table)}
        )"""
    )


@dataclass(frozen=True)
class CheckedCounts:
    """What ``checked`` (and ``raw_rejects``) hold, as the file's account needs it.

    ``rows``: rows checked; ``unchanged``: accepted rows already stored; ``bad_rows``: rows
    with a problem; ``reasons``: quarantined rows (reader rejects included) by first reason;
    ``normalised``: accepted rows by column whose text was normalised; ``noted``: inserted rows
    with notes; ``notes`` / ``noted_columns``: their notes by reason / column. Every count is
    a sum over rows, so the counts of disjoint parts of a file add up (:func:`combine_counts`).
    """

    rows: int = 0
    unchanged: int = 0
    bad_rows: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    normalised: dict[str, int] = field(default_factory=dict)
    noted: int = 0
    notes: dict[str, int] = field(default_factory=dict)
    noted_columns: dict[str, int] = field(default_factory=dict)


def _by_count(counts: Iterable[tuple[str, int]]) -> dict[str, int]:
    """``{key: n}``, most frequent first, then by key (``ORDER BY count DESC, key``)."""
    return dict(sorted(counts, key=lambda kv: (-kv[1], kv[0])))


def count_checked(con: duckdb.DuckDBPyConnection, table: str) -> CheckedCounts:
    """The :class:`CheckedCounts` of ``checked`` and ``raw_rejects``."""
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
    noted, note_reasons, note_columns = _note_counts(con)
    return CheckedCounts(rows=rows_checked, unchanged=unchanged, bad_rows=bad_rows,
                         reasons={str(k): int(v) for k, v in reasons.items()},
                         normalised=_normalised_counts(con, table),
                         noted=noted, notes=note_reasons, noted_columns=note_columns)


def combine_counts(table: str, parts: Iterable[CheckedCounts]) -> CheckedCounts:
    """The counts of a file from those of disjoint parts of its rows (in the order
    :func:`count_checked` gives them)."""
    sums: dict[str, dict[str, int]] = {"reasons": {}, "normalised": {}, "notes": {},
                                       "noted_columns": {}}
    rows = unchanged = bad = noted = 0
    for part in parts:
        rows, unchanged, bad = rows + part.rows, unchanged + part.unchanged, bad + part.bad_rows
        noted += part.noted
        for name, into in sums.items():
            for key, n in getattr(part, name).items():
                into[key] = into.get(key, 0) + n
    order = [c.name for c in TABLES[table].columns]
    normalised = {c: sums["normalised"][c] for c in order if sums["normalised"].get(c)}
    return CheckedCounts(rows=rows, unchanged=unchanged, bad_rows=bad,
                         reasons=_by_count(sums["reasons"].items()), normalised=normalised,
                         noted=noted, notes=_by_count(sums["notes"].items()),
                         noted_columns=_by_count(sums["noted_columns"].items()))


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


def _normalised_counts(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, int]:
    """How many loaded values of each column were normalised (full-width digits, separators,
    Excel serial dates, other date formats, labels, padding): nothing is changed silently."""
    cols = TABLES[table].columns
    exprs = ", ".join(f"count_if(_norm & {1 << i} <> 0)" for i in range(len(cols)))
    row = con.execute(f"SELECT {exprs} FROM checked WHERE len(_problems) = 0").fetchone()
    assert row is not None
    return {c.name: int(n or 0) for c, n in zip(cols, row, strict=True) if n}


def check_accounting(file_name: str, rows_in: int, inserted: int, unchanged: int,
                     quarantined: int) -> None:
    """Raise unless ``rows_in = inserted + unchanged + quarantined`` (the loader's invariant)."""
    if rows_in != inserted + unchanged + quarantined:
        raise YibaoError(
            f"internal accounting error for {file_name}: rows_in {rows_in} != inserted "
            f"{inserted} + unchanged {unchanged} + quarantined {quarantined}; please report it"
        )


def file_report(stage: RawStage, counts: CheckedCounts, inserted: int,
                seconds: float) -> FileReport:
    """The account of the file ``stage`` read, checked (:func:`check_accounting`)."""
    quarantined = counts.bad_rows + stage.rejects
    rows_in = counts.rows + stage.rejects
    check_accounting(stage.path.name, rows_in, inserted, counts.unchanged, quarantined)
    return FileReport(
        table=stage.table,
        file=stage.path.name,
        file_format=stage.file_format,
        encoding=stage.scan.encoding,
        sha256=stage.scan.sha256,
        rows_in=rows_in,
        inserted=inserted,
        unchanged=counts.unchanged,
        quarantined=quarantined,
        reasons=dict(counts.reasons),
        normalised=dict(counts.normalised),
        noted=counts.noted,
        notes=dict(counts.notes),
        noted_columns=dict(counts.noted_columns),
        absent_columns=tuple(
            c.name for c in TABLES[stage.table].columns if c.name not in stage.column_map
        ),
        ignored_columns=stage.ignored_columns,
        seconds=seconds,
    )
