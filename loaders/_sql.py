"""SQL expressions that normalise, parse and check one column of raw text, per :class:`Kind`.

The loaders run these in DuckDB over whole files at once (vectorised, multi-threaded) instead of
row by row in Python. Three layers per column ``c``:

* ``n_c``: the normalised text (trimmed; full-width digits, letters and punctuation made
  half-width, as Chinese input methods produce them; empty becomes NULL);
* ``v_c``: the typed value (NULL when it cannot be parsed);
* checks: expressions that yield a problem struct ``{column, code, value, detail}`` or NULL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from loaders.codes import CodeTables, code_tables
from loaders.contract import Column, Kind, Severity

__all__ = [
    "DATETIME_FORMATS",
    "DATE_FORMATS",
    "PROBLEM_TYPE",
    "ColumnSql",
    "column_sql",
    "ident",
    "literal",
    "problem",
]

_LETTERS_FULL = "".join(chr(0xFF21 + i) for i in range(26)) + "".join(
    chr(0xFF41 + i) for i in range(26)
)
_LETTERS_HALF = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_FULL = "０１２３４５６７８９．，－：／；＋　" + _LETTERS_FULL + "\u2212"
_HALF = "0123456789.,-:/;+ " + _LETTERS_HALF + "-"
assert len(_FULL) == len(_HALF)

DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
)
DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y年%m月%d日 %H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
)
_ID_AS_NUMBER = r"[0-9]+(\.[0-9]+)?[eE][+-]?[0-9]+|[0-9]+\.0+"
"""An ID that a spreadsheet turned into a number: its digits are lost."""
_EXCEL_SERIAL = r"[1-9][0-9]{4}(\.[0-9]+)?"
_GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _matches_a_number(pattern: str) -> bool:
    """Whether an ID pattern would accept a number-mangled ID such as ``3.4120E+19``."""
    return any(
        re.fullmatch(pattern, s) for s in ("3.41200000000012E+19", "34120000.0", "3.41E+19")
    )


def ident(name: str) -> str:
    """A double-quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A single-quoted SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


PROBLEM_TYPE = 'STRUCT("column" VARCHAR, code VARCHAR, "value" VARCHAR, detail VARCHAR)'
"""The SQL type of one problem of a row."""


def problem(column: str, code: str, value: str, detail: str = "NULL") -> str:
    """A problem struct; ``value`` and ``detail`` are SQL expressions."""
    return (
        f"{{'column': {literal(column)}, 'code': {literal(code)}, "
        f"'value': CAST({value} AS VARCHAR), 'detail': CAST({detail} AS VARCHAR)}}"
    )


@dataclass(frozen=True)
class ColumnSql:
    """The SQL of one column: normalised text, typed value, SQL type, checks and notes.

    ``checks`` yield problems that quarantine the row; ``notes`` yield problems of the same
    shape that keep the row and are recorded as data-quality notes (:class:`Severity`).
    """

    normalised: str
    value: str
    sql_type: str
    checks: tuple[str, ...]
    notes: tuple[str, ...] = ()


CONTROL_CHARACTERS = "[\\x00-\\x08\\x0B\\x0C\\x0E-\\x1F\\x7F]"
"""C0 control characters but tab, LF and CR (and DEL), as an RE2 class: they are removed when
text is read, so none reaches the store (they would break every later Excel export)."""


def _normalise(raw: str, kind: Kind) -> str:
    # Most values need nothing: a cheap regular-expression guard sends only the others through
    # trim() and the slow translate() (3-40x faster on a clean export).
    controls = f"regexp_replace({raw}, '{CONTROL_CHARACTERS}', '', 'g')"
    if kind in (Kind.TEXT, Kind.NAME):
        padded = f"^[ \t\r\n\u3000]|[ \t\r\n\u3000]$|{CONTROL_CHARACTERS}"
        return (
            f"nullif(CASE WHEN regexp_matches({raw}, '{padded}') "
            f"THEN trim({controls}, ' \t\r\n\u3000') ELSE {raw} END, '')"
        )
    wide = f"trim(translate({controls}, {literal(_FULL)}, {literal(_HALF)}), ' \t\r\n')"
    # not printable ASCII, or padded with a space
    return f"nullif(CASE WHEN regexp_matches({raw}, '[^ -~]|^ | $') THEN {wide} ELSE {raw} END, '')"


def _formats(formats: tuple[str, ...]) -> str:
    return "[" + ", ".join(literal(f) for f in formats) + "]"


def column_sql(col: Column, codes: CodeTables | None = None, *, present: bool = True) -> ColumnSql:
    """Build the normalise/parse/check SQL of ``col`` (raw text in column ``col.name``).

    ``codes``: the code tables of the load (the shipped ones by default); ``present``: whether
    the file has the column (an absent optional column gets no missing-value notes).
    """
    raw = ident(col.name)
    n = ident("n_" + col.name)
    v = ident("v_" + col.name)
    name = col.name
    checks: list[str] = []
    notes: list[str] = []
    if not col.nullable and present:
        checks.append(f"CASE WHEN {n} IS NULL THEN {problem(name, 'missing_value', raw)} END")
    normalised = _normalise(raw, col.kind)
    kind = col.kind

    if kind is Kind.ID:
        value, sql_type = n, "VARCHAR"
        hint = literal(col.pattern_hint or col.pattern or "")
        pattern = col.pattern or ".+"
        as_number = f"regexp_full_match({n}, '{_ID_AS_NUMBER}')"
        # the number test runs only where it can change the verdict (CASE is lazy per row)
        eager = "" if not _matches_a_number(pattern) else (
            f"WHEN {as_number} THEN {problem(name, 'id_as_number', raw)} "
        )
        shape = (
            f"WHEN NOT regexp_full_match({n}, {literal(pattern)}) "
            f"THEN CASE WHEN {as_number} THEN {problem(name, 'id_as_number', raw)} "
            f"ELSE {problem(name, 'bad_format', raw, hint)} END"
        )
        if not col.formats:
            checks.append(f"CASE {eager}{shape} END")
        else:
            # a national shape settles the value in one regular expression (the usual case)
            national = "|".join(f"({f.pattern})" for f in col.formats)
            names = literal(" / ".join(f"{f.name} ({f.example})" for f in col.formats))
            standard = f"regexp_full_match({n}, {literal(national)})"
            checks.append(f"CASE WHEN {standard} THEN NULL {eager}{shape} END")
            notes.append(
                f"CASE WHEN NOT {standard} AND regexp_full_match({n}, {literal(pattern)}) "
                f"AND NOT {as_number} THEN {problem(name, 'nonstandard_code', raw, names)} END"
            )
    elif kind in (Kind.TEXT, Kind.NAME):
        value, sql_type = n, "VARCHAR"
    elif kind is Kind.CERTNO:
        normalised = f"upper({normalised})"
        value, sql_type = n, "VARCHAR"
        weighted = " + ".join(
            f"(ascii(substr({n}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(_GB11643_WEIGHTS)
        )
        expected = f"substr('10X98765432', (({weighted}) % 11) + 1, 1)"
        checks.append(
            f"CASE WHEN {n} IS NULL THEN NULL "
            f"WHEN length({n}) <> 18 THEN {problem(name, 'certno_length', raw)} "
            f"WHEN NOT regexp_full_match({n}, '[0-9]{{17}}[0-9X]') "
            f"THEN {problem(name, 'certno_format', raw)} "
            f"WHEN try_strptime(substr({n}, 7, 8), '%Y%m%d') IS NULL "
            f"THEN {problem(name, 'certno_birthdate', raw, f'substr({n}, 7, 8)')} "
            f"WHEN {expected} <> substr({n}, 18, 1) "
            f"THEN {problem(name, 'certno_check_digit', raw, expected)} END"
        )
    elif kind is Kind.PHONE:
        value, sql_type = n, "VARCHAR"
        checks.append(
            f"CASE WHEN NOT regexp_full_match(replace(replace({n}, '-', ''), ' ', ''), "
            f"'1[3-9][0-9]{{9}}|0[1-9][0-9]{{8,10}}') THEN {problem(name, 'bad_phone', raw)} END"
        )
    elif kind is Kind.ENUM:
        if col.code_table is None:  # pragma: no cover - the contract gives every ENUM a table
            raise AssertionError(f"column {name} has no code table")
        table = (codes or code_tables())[col.code_table]
        before = normalised  # the text as written, trimmed and half-width
        labels = [(z, c) for z, c in table.labels.items() if z not in table.direct_choices]
        if labels:
            mapping = " ".join(f"WHEN {literal(z)} THEN {literal(c)}" for z, c in labels)
            normalised = f"CASE {normalised} {mapping} ELSE {normalised} END"
        value, sql_type = n, "VARCHAR"
        code = "bad_enum" if col.severity is Severity.QUARANTINE else "unknown_code"
        listed = literal(f"{table.name}: " + "/".join(table.direct_choices))
        if table.direct_choices == table.choices:
            unknown = f"{n} NOT IN ({', '.join(literal(c) for c in table.choices)})"
        else:  # a code reached through labels only must not be accepted as written
            accepted = (*table.direct_choices, *(z for z, _ in labels))
            unknown = f"{before} NOT IN ({', '.join(literal(c) for c in accepted)})"
        checks.append(f"CASE WHEN {unknown} THEN {problem(name, code, raw, listed)} END")
    elif kind in (Kind.DATE, Kind.DATETIME):
        formats = DATE_FORMATS if kind is Kind.DATE else DATETIME_FORMATS
        serial = f"TRY_CAST({n} AS DOUBLE)"
        if kind is Kind.DATE:
            sql_type = "DATE"
            value = (
                f"CASE WHEN regexp_full_match({n}, '{_EXCEL_SERIAL}') "
                f"THEN CAST(DATE '1899-12-30' + CAST(floor({serial}) AS INTEGER) AS DATE) "
                f"ELSE CAST(try_strptime({n}, {_formats(formats)}) AS DATE) END"
            )
        else:
            sql_type = "TIMESTAMP"
            value = (
                f"CASE WHEN regexp_full_match({n}, '{_EXCEL_SERIAL}') "
                f"THEN TIMESTAMP '1899-12-30 00:00:00' "
                f"+ to_seconds(CAST(round({serial} * 86400) AS BIGINT)) "
                f"ELSE try_strptime({n}, {_formats(formats)}) END"
            )
        earliest = col.earliest or "1900-01-01"
        checks.append(
            f"CASE WHEN {n} IS NOT NULL AND {v} IS NULL THEN {problem(name, 'bad_date', raw)} "
            f"WHEN {v} < DATE {literal(earliest)} OR {v} > current_date + 1 "
            f"THEN {problem(name, 'date_out_of_range', raw, literal(earliest + ' .. tomorrow'))} "
            "END"
        )
    elif kind in (Kind.AMOUNT, Kind.NUMBER):
        decimals = 4 if kind is Kind.AMOUNT else 6
        code = "bad_amount" if kind is Kind.AMOUNT else "bad_number"
        grouped = "-?[0-9]{1,3}(,[0-9]{3})+(\\.[0-9]+)?"
        normalised = (
            f"CASE WHEN regexp_full_match({normalised}, '{grouped}') "
            f"THEN replace({normalised}, ',', '') ELSE {normalised} END"
        )
        sql_type = f"DECIMAL(18,{decimals})"
        pattern = f"-?[0-9]+(\\.[0-9]{{1,{decimals}}})?|-?\\.[0-9]{{1,{decimals}}}"
        # TRY_CAST: more integer digits than the type holds is a refused value, not a crash
        value = (
            f"CASE WHEN regexp_full_match({n}, '{pattern}') THEN TRY_CAST({n} AS {sql_type}) END"
        )
        checks.append(
            f"CASE WHEN {n} IS NOT NULL AND {v} IS NULL THEN {problem(name, code, raw)} END"
        )
    elif kind is Kind.DIVISION:
        value, sql_type = n, "VARCHAR"
        checks.append(
            f"CASE WHEN {n} NOT IN (SELECT code FROM _divisions) "
            f"THEN {problem(name, 'unknown_division', raw)} END"
        )
    elif kind is Kind.COORD:
        sql_type = "DOUBLE"
        lo, hi = col.bounds or (-180.0, 180.0)
        # a coordinate outside the bounds would draw the institution somewhere else: not stored
        number = f"TRY_CAST({n} AS DOUBLE)"
        value = f"CASE WHEN {number} BETWEEN {lo} AND {hi} THEN {number} END"
        checks.append(
            f"CASE WHEN {n} IS NOT NULL AND TRY_CAST({n} AS DOUBLE) IS NULL "
            f"THEN {problem(name, 'bad_number', raw)} "
            f"WHEN {n} IS NOT NULL AND {v} IS NULL "
            f"THEN {problem(name, 'coord_out_of_range', raw, literal(f'{lo} .. {hi}'))} END"
        )
    elif kind is Kind.CODE_LIST:
        code = col.pattern or "[^;]+"
        tidy = literal(f"({code})(;({code}))*")
        # the list functions run only for values that are not already a tidy code list
        normalised = (
            f"CASE WHEN regexp_full_match({normalised}, {tidy}) THEN {normalised} ELSE "
            f"nullif(array_to_string(list_filter(list_transform(string_split({normalised}, ';'), "
            "lambda x: trim(x)), lambda x: x <> ''), ';'), '') END"
        )
        value, sql_type = n, "VARCHAR"
        bad = (
            f"list_filter(string_split({n}, ';'), "
            f"lambda x: NOT regexp_full_match(x, {literal(code)}))"
        )
        checks.append(
            f"CASE WHEN NOT regexp_full_match({n}, {tidy}) "
            f"THEN {problem(name, 'bad_trace_code', raw, f'{bad}[1]')} END"
        )
    else:  # pragma: no cover - every Kind is handled above
        raise AssertionError(kind)
    if col.severity is Severity.NOTE:
        checks, notes = [], checks + notes
    return ColumnSql(
        normalised=normalised, value=value, sql_type=sql_type, checks=tuple(checks),
        notes=tuple(notes),
    )
