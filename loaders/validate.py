"""Validation of one staged file, in DuckDB: row checks, then checks across rows and tables.

Input is the temporary table ``raw`` (see :mod:`loaders.sources`). Output is the temporary
table ``checked``: the raw text, the normalised (``n_``) and typed (``v_``) values, the list of
``_problems`` of each row (empty when the row is fine) and ``_unchanged`` (the identical row is
already in the store). All checks are set-based SQL, so a 10-million-row file is validated in
a few passes, not row by row.
"""

from __future__ import annotations

import duckdb

from loaders._sql import PROBLEM_TYPE, column_sql, ident, literal, problem
from loaders.codes import CodeTables, code_tables
from loaders.contract import AMOUNT_TOLERANCE_YUAN, TABLES, Column, Kind, Table

__all__ = [
    "check_reference",
    "check_references",
    "check_rows",
    "content_hash_sql",
    "flag_duplicates",
    "flag_stored",
    "link_reversals",
    "raw_record_sql",
]

_HASH_EXCLUDED = frozenset({"init_setl_id"})  # filled in by the loader when it links reversals


def _when(condition: str, column: str, code: str, value: str, detail: str = "NULL") -> str:
    return f"CASE WHEN {condition} THEN {problem(column, code, value, detail)} END"


def _table_checks(table: Table, codes: CodeTables) -> tuple[list[str], list[str]]:
    """Checks that involve several columns of one row: (quarantining checks, notes)."""
    tol = AMOUNT_TOLERANCE_YUAN
    if table.name == "settlements":
        diff = "v_fund_pay_sumamt + v_acct_pay + v_psn_cash_pay - v_medfee_sumamt"
        amounts = ["v_fund_pay_sumamt", "v_acct_pay", "v_psn_cash_pay", "v_hifp_pay"]
        any_pos = " OR ".join(f"{a} > 0" for a in amounts)
        any_neg = " OR ".join(f"{a} < 0" for a in amounts)
        inpatient = ", ".join(
            literal(m) for m in codes["med_type"].with_attr("setting", "inpatient")
        )
        return [
            _when(f"abs({diff}) > {tol}", "medfee_sumamt", "amounts_mismatch", "medfee_sumamt",
                  f"round({diff}, 4)"),
            _when(f"abs(v_hifp_pay) > abs(v_fund_pay_sumamt) + {tol}", "hifp_pay",
                  "hifp_exceeds_fund", "hifp_pay", "v_fund_pay_sumamt"),
            _when(f"(v_medfee_sumamt < 0 AND ({any_pos})) OR (v_medfee_sumamt > 0 AND ({any_neg}))",
                  "medfee_sumamt", "mixed_signs", "medfee_sumamt"),
            _when("v_begndate > v_enddate", "begndate", "dates_reversed", "begndate", "enddate"),
            _when(f"v_med_type IN ({inpatient}) AND (v_begndate IS NULL OR v_enddate IS NULL)",
                  "begndate", "missing_stay_dates", "med_type"),
        ], []
    if table.name == "persons":
        born = "CAST(try_strptime(substr(v_certno, 7, 8), '%Y%m%d') AS DATE)"
        return [], [_when(f"v_brdy <> {born}", "brdy", "brdy_mismatch", "brdy", born)]
    if table.name == "fee_details":
        diff = "v_cnt * v_pric - v_det_item_fee_sumamt"
        return [
            _when(f"abs({diff}) > {tol}", "det_item_fee_sumamt", "fee_amount_mismatch",
                  "det_item_fee_sumamt", f"round({diff}, 4)")
        ], []
    return [], []


def content_hash_sql(table: Table, prefix: str = "", alias: str = "") -> str:
    """A hash of a row's typed contract values, comparable between file rows and stored rows."""
    qualifier = f"{alias}." if alias else ""
    cols = [
        qualifier + ident(prefix + c.name) for c in table.columns if c.name not in _HASH_EXCLUDED
    ]
    return f"hash({', '.join(cols)})"


def _problem_list(checks: list[str]) -> str:
    """SQL of the list of problems among ``checks`` (each yields a struct or NULL)."""
    if not checks:
        return f"CAST([] AS {PROBLEM_TYPE}[])"
    joined = ", ".join(checks)
    # CASE evaluates its ELSE branch only for the rows that reach it: the list of every
    # problem is built for rows with a problem only
    return (
        f"CASE WHEN coalesce({joined}) IS NULL THEN CAST([] AS {PROBLEM_TYPE}[]) "
        f"ELSE list_filter([{joined}], lambda p: p IS NOT NULL) END"
    )


def check_rows(
    con: duckdb.DuckDBPyConnection,
    table_name: str,
    *,
    codes: CodeTables | None = None,
    present: frozenset[str] | None = None,
) -> None:
    """Create ``checked`` from ``raw``: normalise, parse and check every row.

    ``checked`` keeps the typed values (``v_``), the ``_problems`` that quarantine the row,
    the ``_notes`` that keep it (descriptive fields, :class:`~loaders.contract.Severity`), the
    content hash and ``_norm``, a bit mask of the columns whose text was normalised (bit i: the
    i-th contract column); the raw text stays in ``raw`` and is joined back for the (few)
    quarantined or noted rows only. ``present``: the contract columns the file has (all by
    default); an absent optional column gets no missing-value notes.
    """
    table = TABLES[table_name]
    codes = codes or code_tables()
    sqls = {
        c.name: column_sql(c, codes, present=present is None or c.name in present)
        for c in table.columns
    }
    raw_cols = ", ".join(ident(c.name) for c in table.columns)
    normalised = ", ".join(f"{s.normalised} AS {ident('n_' + n)}" for n, s in sqls.items())
    values = ", ".join(f"{s.value} AS {ident('v_' + n)}" for n, s in sqls.items())
    typed = ", ".join(ident("v_" + n) for n in sqls)
    row_checks, row_notes = _table_checks(table, codes)
    checks = _problem_list([chk for s in sqls.values() for chk in s.checks] + row_checks)
    notes = _problem_list([note for s in sqls.values() for note in s.notes] + row_notes)
    norm = " + ".join(
        f"CASE WHEN {_normalised_sql(c)} THEN {1 << i} ELSE 0 END"
        for i, c in enumerate(table.columns)
    )
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE checked AS
        SELECT _row, {typed},
               {checks} AS _problems,
               {notes} AS _notes,
               false AS _unchanged,
               {content_hash_sql(table, "v_")} AS _hash,
               CAST({norm} AS BIGINT) AS _norm
        FROM (
            SELECT *, {values}
            FROM (SELECT _row, {raw_cols}, {normalised} FROM raw)
        )"""
    )


def _normalised_sql(col: Column) -> str:
    """True when the loader changed the text of ``col`` to read it (so it is never silent)."""
    n = ident("n_" + col.name)
    if col.kind is Kind.DATE:
        return f"NOT regexp_full_match({n}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
    if col.kind is Kind.DATETIME:
        return (
            f"NOT regexp_full_match({n}, "
            "'[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}')"
        )
    return f"{ident(col.name)} IS DISTINCT FROM {n} AND {n} IS NOT NULL"


def _raw_columns(con: duckdb.DuckDBPyConnection, table_name: str) -> list[str]:
    extra = [
        name
        for (name,) in con.execute(
            "SELECT column_name FROM (DESCRIBE raw) WHERE column_name LIKE 'extra:%'"
        ).fetchall()
    ]
    return [c.name for c in TABLES[table_name].columns] + extra


def raw_record_sql(con: duckdb.DuckDBPyConnection, table_name: str, alias: str) -> str:
    """JSON of a row's raw text, every column of the file (so a quarantined row loses nothing)."""
    return "to_json({" + ", ".join(
        f"{literal(name)}: {alias}.{ident(name)}" for name in _raw_columns(con, table_name)
    ) + "})"


def _append_problems(con: duckdb.DuckDBPyConnection, select_rows: str, struct: str) -> None:
    """Append ``struct`` (SQL over the alias ``f``) to the problems of the selected rows.

    ``select_rows`` is a query returning ``_row`` plus any columns ``struct`` uses.
    """
    con.execute(
        f"""UPDATE checked SET _problems = list_append(_problems, {struct})
            FROM ({select_rows}) f WHERE checked._row = f._row"""
    )


def flag_duplicates(con: duckdb.DuckDBPyConnection, table_name: str) -> None:
    """Quarantine later rows whose key repeats an earlier valid row of the same file."""
    table = TABLES[table_name]
    key = ", ".join(ident("v_" + k) for k in table.key)
    key_name = table.key[-1] if len(table.key) == 1 else "+".join(table.key)
    key_value = " || '/' || ".join(ident("v_" + k) for k in table.key)
    dupes = f"""
        SELECT c._row, c._hash, {key_value} AS key_value,
               first_value(c._row) OVER w AS first_row,
               first_value(c._hash) OVER w AS first_hash,
               row_number() OVER w AS rn
        FROM checked c
        SEMI JOIN (SELECT {key} FROM checked WHERE len(_problems) = 0
                   GROUP BY ALL HAVING count(*) > 1) d USING ({key})
        WHERE len(c._problems) = 0
        WINDOW w AS (PARTITION BY {key} ORDER BY c._row)
    """
    struct = (
        f"CASE WHEN f._hash = f.first_hash "
        f"THEN {problem(key_name, 'duplicate_row', 'f.key_value', 'f.first_row')} "
        f"ELSE {problem(key_name, 'duplicate_key', 'f.key_value', 'f.first_row')} END"
    )
    _append_problems(con, f"SELECT * FROM ({dupes}) WHERE rn > 1", struct)


def flag_stored(con: duckdb.DuckDBPyConnection, table_name: str) -> None:
    """Mark rows already stored identically (``_unchanged``); quarantine conflicting ones."""
    table = TABLES[table_name]
    on = " AND ".join(f"s.{ident(k)} = c.{ident('v_' + k)}" for k in table.key)
    key_name = table.key[-1] if len(table.key) == 1 else "+".join(table.key)
    key_value = " || '/' || ".join(f"c.{ident('v_' + k)}" for k in table.key)
    stored = f"""
        SELECT c._row, c._hash, {content_hash_sql(table, '', 's')} AS stored_hash,
               {key_value} AS key_value, s._load_id AS stored_load
        FROM checked c JOIN {ident(table_name)} s ON {on}
        WHERE len(c._problems) = 0
    """
    con.execute(
        f"""UPDATE checked SET _unchanged = true
            FROM ({stored}) f WHERE checked._row = f._row AND f._hash = f.stored_hash"""
    )
    _append_problems(
        con,
        f"SELECT * FROM ({stored}) WHERE _hash <> stored_hash",
        problem(key_name, "conflicts_with_store", "f.key_value", "f.stored_load"),
    )


def check_references(con: duckdb.DuckDBPyConnection, table_name: str) -> None:
    """Quarantine rows whose foreign keys resolve neither in the store nor in this load.

    When the referenced row was quarantined (in this or an earlier load), the reason says where.
    The references are checked in the contract's order (:func:`check_reference` each).
    """
    for column, ref_table, ref_column in TABLES[table_name].references:
        check_reference(con, column, ref_table, ref_column)


def check_reference(con: duckdb.DuckDBPyConnection, column: str, ref_table: str,
                    ref_column: str) -> None:
    """Quarantine the rows of ``checked`` without a problem whose ``column`` is not NULL and
    not among ``ref_table.ref_column``; the reason names the quarantine entry of
    ``ref_table`` with that key when there is one (``quarantine.raw_record``)."""
    value = ident("v_" + column)
    missing = f"""
        SELECT c._row, c.{value} AS ref_value, q.file, q.row_no, q.reason_code
        FROM checked c
        LEFT JOIN (
            SELECT json_extract_string(raw_record, '$.{ref_column}') AS ref_key,
                   any_value(file) AS file, min(row_no) AS row_no,
                   any_value(reason_code) AS reason_code
            FROM quarantine
            WHERE table_name = {literal(ref_table)}
            GROUP BY ref_key
        ) q ON q.ref_key = c.{value}
        WHERE len(c._problems) = 0 AND c.{value} IS NOT NULL
          AND c.{value} NOT IN (SELECT {ident(ref_column)} FROM {ident(ref_table)})
    """
    where = "f.file || ' row ' || f.row_no || ': ' || f.reason_code"
    struct = (
        "CASE WHEN f.row_no IS NULL "
        f"THEN {problem(column, 'unknown_reference', 'f.ref_value', literal(ref_table))} "
        f"ELSE {problem(column, 'reference_quarantined', 'f.ref_value', where)} END"
    )
    _append_problems(con, missing, struct)


def link_reversals(con: duckdb.DuckDBPyConnection) -> None:
    """Link negative settlements (冲销) to the settlement they cancel, or quarantine them.

    Run after this file's non-negative settlements are stored. A reversal names its original in
    ``init_setl_id``, or it is matched to the latest earlier stored settlement of the same
    ``mdtrt_id``, person and institution with the opposite total (one not yet reversed, if
    any). An original can be cancelled once; reversals are kept and linked, never dropped.
    """
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _reversal_match AS
        WITH rev AS (
            SELECT _row, v_setl_id, v_init_setl_id, v_mdtrt_id, v_psn_no, v_fixmedins_code,
                   v_medfee_sumamt, v_setl_time
            FROM checked WHERE len(_problems) = 0 AND NOT _unchanged AND v_medfee_sumamt < 0
        ), cand AS (
            -- not yet reversed first: a visit settled twice with one total can be reversed
            -- twice, one settlement each time
            SELECT r._row, s.setl_id AS original,
                   row_number() OVER (PARTITION BY r._row
                                      ORDER BY x.init_setl_id IS NOT NULL, s.setl_time DESC,
                                               s.setl_id) AS pick
            FROM rev r JOIN settlements s
              ON s.medfee_sumamt = -r.v_medfee_sumamt
             AND s.psn_no = r.v_psn_no AND s.fixmedins_code = r.v_fixmedins_code
             AND (CASE WHEN r.v_init_setl_id IS NOT NULL THEN s.setl_id = r.v_init_setl_id
                       ELSE s.mdtrt_id = r.v_mdtrt_id AND s.setl_time <= r.v_setl_time END)
            LEFT JOIN (SELECT DISTINCT init_setl_id FROM settlements) x
              ON x.init_setl_id = s.setl_id
            WHERE s.medfee_sumamt > 0
        ), chosen AS (
            SELECT r._row, r.v_setl_id, r.v_init_setl_id, c.original,
                   row_number() OVER (PARTITION BY c.original ORDER BY r._row) AS nth,
                   EXISTS (SELECT 1 FROM settlements x WHERE x.init_setl_id = c.original)
                       AS reversed_before
            FROM rev r LEFT JOIN (SELECT * FROM cand WHERE pick = 1) c USING (_row)
        )
        SELECT * FROM chosen"""
    )
    _append_problems(
        con,
        "SELECT _row, v_setl_id, v_init_setl_id FROM _reversal_match WHERE original IS NULL",
        problem(
            "init_setl_id",
            "unmatched_reversal",
            "f.v_setl_id",
            "coalesce('init_setl_id ' || f.v_init_setl_id || ' not found or amounts differ', "
            "'no earlier settlement of the same mdtrt_id, person and institution with the "
            "opposite total')",
        ),
    )
    _append_problems(
        con,
        "SELECT _row, original FROM _reversal_match "
        "WHERE original IS NOT NULL AND (nth > 1 OR reversed_before)",
        problem("init_setl_id", "already_reversed", "f.original", "f.original"),
    )
    con.execute(
        """UPDATE checked SET v_init_setl_id = m.original
           FROM _reversal_match m WHERE checked._row = m._row AND m.original IS NOT NULL"""
    )
