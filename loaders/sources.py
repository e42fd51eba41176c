"""Reading export files into a raw staging table: find, fingerprint, decode, map headers.

Every source (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; Excel ``.xlsx``; Parquet) ends up
as the same DuckDB temporary view ``raw`` (over the table ``_src`` the file was read into, or
over the Parquet file itself): one VARCHAR column per contract column (absent
optional columns are NULL), plus ``_row``, the row number a user sees (the header is row 1;
for CSV the physical line, for Excel the sheet row, for Parquet the record number). Rows that
cannot be split into fields go to the temporary table ``raw_rejects`` with their text.

A CSV file's names and field separator are read from its header here, and DuckDB reads the rows
in that dialect (a guessed dialect lost every quoted value of a file with one stray quote near
the top). A file the reader cannot read straight through (a quote that does not pair up, a
stray carriage return, lines ending now in CRLF and now in LF) is read record by record
(:func:`loaders._scan.csv_layout`): the first line of each record that cannot be parsed is
quarantined, the rest is read from a copy, and row numbers stay the user's. Workbooks are read
through the guard of :mod:`loaders.workbook`. A header naming a column twice is refused in every
format, naming both columns and their positions.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from loaders._scan import (
    CHUNK,
    MAX_RECORD,
    CsvLayout,
    FileScan,
    LineAnomalies,
    csv_header,
    csv_layout,
    line_anomalies,
    scan_file,
)
from loaders._sql import ident, literal
from loaders.contract import TABLES, Table
from loaders.workbook import read_sheet
from yibao.errors import DataFileError, MissingColumnError

__all__ = [
    "SUFFIXES",
    "FileScan",
    "RawStage",
    "find_table_files",
    "map_header",
    "scan_file",
    "stage_raw",
]

log = logging.getLogger(__name__)

SUFFIXES = (".csv", ".txt", ".xlsx", ".parquet")


@dataclass(frozen=True)
class RawStage:
    """The outcome of staging one file into ``raw`` / ``raw_rejects``."""

    path: Path
    table: str
    file_format: str
    scan: FileScan
    rows_read: int
    rejects: int
    column_map: dict[str, str] = field(default_factory=dict)
    ignored_columns: tuple[str, ...] = ()


def find_table_files(folder: Path) -> tuple[dict[str, Path], list[Path]]:
    """Map each contract table to its file in ``folder``; also return the files left alone.

    A table's file is named after the table (``settlements.csv``) or its Chinese label
    (``结算信息.xlsx``), with one of :data:`SUFFIXES`. Two files for one table is an error.
    """
    if not folder.is_dir():
        raise DataFileError(f"{folder} is not a folder: point the loader at the export folder")
    names: dict[str, str] = {}
    for t in TABLES.values():
        names[t.name.casefold()] = t.name
        names[t.label_zh] = t.name
    found: dict[str, Path] = {}
    ignored: list[Path] = []
    for path in sorted(folder.iterdir()):
        table = names.get(path.stem.casefold()) if path.suffix.lower() in SUFFIXES else None
        if table is None or not path.is_file():
            ignored.append(path)
            continue
        if table in found:
            raise DataFileError(
                f"two files for table '{table}': {found[table].name} and {path.name}; keep one",
                path=str(folder),
            )
        found[table] = path
    return found, ignored


def _header_key(name: str) -> str:
    half = name.translate({0xFF08: "(", 0xFF09: ")", 0x3000: " "})
    return "".join(half.split()).casefold().lstrip("\ufeff")


def _refuse_repeated_names(names: list[str], path: Path) -> None:
    """Refuse a header naming a column twice: a reader would rename or drop one of them."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        if name in seen:
            raise DataFileError(
                f"two columns are named '{name}' (columns {seen[name]} and {position} of the "
                "header): rename or delete one",
                path=str(path),
            )
        seen[name] = position


def map_header(found: list[str], table: Table, *, path: Path) -> tuple[dict[str, str], list[str]]:
    """Map the file's header names to contract columns.

    Returns ``{column: header name in the file}`` and the header names that were ignored.
    Raises :class:`DataFileError` when two header names mean one column (a name repeated, or a
    column and its alias), naming both and their positions, and :class:`MissingColumnError`
    listing what was found and what is accepted.
    """
    _refuse_repeated_names(found, path)
    accepted: dict[str, str] = {}
    for col in table.columns:
        for alias in col.accepted_names:
            accepted[_header_key(alias)] = col.name
    mapping: dict[str, str] = {}
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for position, name in enumerate(found, start=1):
        col_name = accepted.get(_header_key(name))
        if col_name is None:
            ignored.append(name)
        elif col_name in mapping:
            raise DataFileError(
                f"columns '{mapping[col_name]}' and '{name}' both mean {col_name}: keep one "
                f"(columns {positions[col_name]} and {position} of the header)",
                path=str(path),
            )
        else:
            mapping[col_name] = name
            positions[col_name] = position
    missing = {
        c.name: c.accepted_names for c in table.columns if c.required and c.name not in mapping
    }
    if missing:
        raise MissingColumnError(path=str(path), table=table.name, missing=missing, found=found)
    return mapping, ignored


def _transcode_to_utf8(path: Path, encoding: str, workdir: Path) -> Path:
    """Write a UTF-8 copy of a GB18030 file; undecodable lines are copied as they are, so the
    CSV reader rejects them as invalid encoding (and they are quarantined, not lost)."""
    out = workdir / (path.stem + ".utf8.csv")
    with open(path, "rb") as src, open(out, "wb") as dst:
        tail = b""
        while True:
            chunk = src.read(CHUNK)
            data = tail + chunk
            if chunk:
                cut = data.rfind(b"\n") + 1
                data, tail = data[:cut], data[cut:]
            else:
                tail = b""
            if data:
                try:
                    dst.write(data.decode(encoding).encode("utf-8"))
                except UnicodeDecodeError:
                    for line in data.splitlines(keepends=True):
                        try:
                            dst.write(line.decode(encoding).encode("utf-8"))
                        except UnicodeDecodeError:
                            dst.write(line)
            if not chunk:
                break
    return out


def _cr_to_lf(path: Path, workdir: Path) -> Path:
    """A copy of a file whose lines end in a bare CR, with LF instead (one line for one: the
    line numbers stay the user's; a CR inside a quoted value becomes LF too, the same line
    break)."""
    out = workdir / (path.stem + ".lf.csv")
    with open(path, "rb") as src, open(out, "wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(chunk.replace(b"\r", b"\n"))
    return out


def _row_number_sql(source: str, skipped: str) -> str:
    """SQL numbering ``source`` records (insertion order) with their line numbers.

    Record k (0-based; DuckDB keeps a CSV's record order in the rowid) sits on line
    ``k + 2 + j``, j being the number of skipped lines (blank or rejected) before it. For the
    i-th skipped line S_i, t_i = S_i - 2 - i records precede it; an ASOF join finds j as the
    rank of the last t_i <= k.
    """
    return f"""
        WITH skip AS (
            SELECT line - 1 - row_number() OVER (ORDER BY line) AS t,
                   row_number() OVER (ORDER BY line) AS j
            FROM (SELECT DISTINCT line FROM {skipped})
        ), skipmap AS (SELECT t, max(j) AS j FROM skip GROUP BY t)
        , numbered AS (
            SELECT rowid - (SELECT min(rowid) FROM {source}) AS _k, * FROM {source}
        )
        SELECT s._k + 2 + coalesce(m.j, 0) AS _row, s.* EXCLUDE (_k)
        FROM numbered s ASOF LEFT JOIN skipmap m ON s._k >= m.t
    """


@dataclass(frozen=True)
class _Dialect:
    """The header's names and the field separator, both read from the header (not guessed by
    DuckDB's sniffer from the top lines: one stray quote there made it drop quoting for the
    whole file, so that every row with a quoted comma lost its columns)."""

    names: list[str]
    delimiter: str

    def options(self) -> str:
        """``read_csv`` options: the columns, all text, and the dialect."""
        columns = "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in self.names) + "}"
        return (f"columns = {columns}, header = true, auto_detect = false, "
                f"delim = {literal(self.delimiter)}, quote = '\"', escape = '\"', "
                f"max_line_size = {MAX_RECORD}")


def _read_csv(con: duckdb.DuckDBPyConnection, source: Path, dialect: _Dialect, *,
              lf_only: bool) -> None:
    """Read ``source`` into ``_src`` (its rejects into ``raw_rejects``) in ``dialect``."""
    new_line = "new_line = '\\n'," if lf_only else ""  # DuckDB reads the escape itself
    con.execute("DROP TABLE IF EXISTS _rej")
    con.execute("DROP TABLE IF EXISTS _rej_scan")
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _src AS SELECT * FROM read_csv({literal(str(source))},
            {dialect.options()}, {new_line}
            store_rejects = true, rejects_table = '_rej', rejects_scan = '_rej_scan')"""
    )
    con.execute(
        """CREATE OR REPLACE TEMP TABLE raw_rejects AS
           SELECT line AS _row,
                  CASE WHEN any_value(error_type) = 'INVALID ENCODING' THEN 'invalid_encoding'
                       WHEN any_value(error_type) IN ('MISSING COLUMNS', 'TOO MANY COLUMNS')
                       THEN 'column_count' ELSE 'unparseable_row' END AS code,
                  arg_min(error_message, column_idx) AS detail,
                  any_value(csv_line) AS text
           FROM _rej GROUP BY line"""
    )


def _csv_dialect(source: Path, path: Path) -> _Dialect:
    """The header's names and separator, read here (DuckDB would rename a repeated name)."""
    try:
        found, delimiter = csv_header(source)
    except ValueError as exc:
        raise DataFileError(
            f"the header (line 1) cannot be read ({exc}): fix the header row so that it "
            "lists the column names separated by commas",
            path=str(path),
        ) from exc
    names = [name or f"column{i + 1}" for i, name in enumerate(found)]
    _refuse_repeated_names(names, path)
    return _Dialect(names, delimiter)


def _reads_whole(con: duckdb.DuckDBPyConnection, source: Path, dialect: _Dialect,
                 path: Path) -> bool:
    """Whether the CSV reader reads ``source`` to its end, tried on a connection of its own: a
    reader that stops (mixed line ends) would abort the load's transaction."""
    probe = con.cursor()
    try:
        probe.execute(
            f"""SELECT count(*) FROM read_csv({literal(str(source))}, {dialect.options()},
                ignore_errors = true)"""
        ).fetchall()
    except duckdb.Error as exc:
        log.info("%s: %s; reading record by record", path, str(exc).splitlines()[0])
        return False
    finally:
        probe.close()
    return True


def _stage_csv(
    con: duckdb.DuckDBPyConnection, path: Path, scan: FileScan, workdir: Path
) -> list[str]:
    source = path
    if scan.encoding == "gb18030":
        source = _transcode_to_utf8(path, "gb18030", workdir)
    if scan.cr_ends:
        source = _cr_to_lf(source, workdir)
    dialect = _csv_dialect(source, path)
    if not dialect.names:
        return []
    anomalies: LineAnomalies | None = None
    layout: CsvLayout | None = None
    # a stray carriage return stops the CSV reader, and so may mixed line ends: such files are
    # read record by record (or tried first), never inside the transaction at the risk of
    # aborting it
    if not scan.bare_cr and (not scan.mixed_ends or _reads_whole(con, source, dialect, path)):
        _read_csv(con, source, dialect, lf_only=False)
        if not _scalar(con, "SELECT count(*) FROM _rej WHERE error_type = 'UNQUOTED VALUE'"):
            anomalies = _uncounted_lines(con, source, scan, path)
    if anomalies is None:
        # a quote that does not pair up, a stray CR, mixed line ends, or records the quick
        # count cannot place: read record by record, take out the first line of each record
        # that cannot be parsed, and read a copy of the rest
        layout = csv_layout(source, workdir / (path.stem + ".parsable.csv"),
                            delimiter=dialect.delimiter)
        _read_csv(con, layout.path, dialect, lf_only=True)
        anomalies = layout.anomalies
    # lines the reader does not count: those inside a record, and those taken out
    quoted = tuple(sorted(set(anomalies.quoted_lines) | set(anomalies.cr_lines)))
    if quoted:
        # the reader numbers a record spanning several lines as one line: move each reject
        # down by the quoted lines before it (Q_i - i < line: the i-th quoted line precedes it)
        con.register("_quoted_arrow", pa.table({"line": pa.array(quoted, pa.int64())}))
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _quoted AS
               SELECT line, line - row_number() OVER (ORDER BY line) AS t FROM _quoted_arrow"""
        )
        con.unregister("_quoted_arrow")
        con.execute(
            """UPDATE raw_rejects SET _row = _row
                   + (SELECT count(*) FROM _quoted q WHERE q.t < raw_rejects._row)"""
        )
    if layout is not None and layout.taken:
        con.executemany(
            "INSERT INTO raw_rejects VALUES (?, 'unparseable_row', ?, ?)",
            [[line, why, text] for line, why, text in layout.taken],
        )
    con.execute("CREATE OR REPLACE TEMP TABLE _skipped (line BIGINT)")
    con.execute("INSERT INTO _skipped SELECT _row FROM raw_rejects")
    if quoted:
        con.execute("INSERT INTO _skipped SELECT line FROM _quoted")
        con.execute("DROP TABLE _quoted")
    if anomalies.blank_lines:
        con.executemany(
            "INSERT INTO _skipped VALUES (?)", [[b] for b in anomalies.blank_lines]
        )
    # a view: the records are numbered as they are read, not copied once more
    if _scalar(con, "SELECT count(*) FROM _skipped"):
        numbered = _row_number_sql("_src", "_skipped")
    else:
        numbered = "SELECT rowid - (SELECT min(rowid) FROM _src) + 2 AS _row, * FROM _src"
    con.execute(f"CREATE OR REPLACE TEMP VIEW _numbered AS {numbered}")
    span = con.execute("SELECT max(rowid) - min(rowid) + 1, count(*) FROM _src").fetchone()
    if span is not None and span[1] and span[0] != span[1]:
        raise DataFileError(
            "internal error: the CSV reader did not number records contiguously; please report",
            path=str(path),
        )
    return dialect.names


def _uncounted_lines(
    con: duckdb.DuckDBPyConnection, source: Path, scan: FileScan, path: Path
) -> LineAnomalies | None:
    """The lines the reader did not count as records or rejects, as far as they matter
    (``source``: the file read, whose lines are those of the user's file ``path``).

    When header + records + rejects make up every line, there are none (the usual case, no
    second pass). Otherwise the quick second pass finds the blank and quoted lines; ``None``
    when even these do not add up (a lone quote inside an unquoted value flips the quick pass's
    count of quotes), so that the caller reads the file record by record instead.
    """
    ((read,),) = con.execute(
        "SELECT (SELECT count(*) FROM _src) + (SELECT count(*) FROM raw_rejects)"
    ).fetchall()
    if 1 + read == scan.lines:
        return LineAnomalies()
    anomalies = line_anomalies(source, scan.lines)
    known = set(anomalies.blank_lines) | set(anomalies.cr_lines)
    if 1 + read + len(known | set(anomalies.quoted_lines)) == scan.lines:
        return anomalies
    log.info("%s: the quick count of lines does not add up; reading record by record", path)
    return None


def _cell_text(value: object) -> str | None:
    """One Excel cell as the text a CSV export would hold."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)


def _stage_xlsx(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    rows = read_sheet(path)  # guarded: a sheet declaring a billion empty cells is refused
    if not rows:
        raise DataFileError("the first sheet is empty: put the header in row 1", path=str(path))
    header = [_cell_text(v) or f"column{i + 1}" for i, v in enumerate(rows[0])]
    width = len(header)
    while width and rows[0][width - 1] in (None, ""):
        width -= 1
    header = header[:width]
    _refuse_repeated_names(header, path)
    columns: list[list[str | None]] = [[] for _ in header]
    row_numbers: list[int] = []
    rejects: list[tuple[int, str, str, str]] = []
    for excel_row, values in enumerate(rows[1:], start=2):
        cells = [_cell_text(v) for v in values]
        if all(c is None for c in cells):
            continue  # an empty sheet row is not a record
        extra = [c for c in cells[width:] if c is not None]
        if extra:
            rejects.append(
                (excel_row, "extra_cells", f"{len(extra)} value(s) right of the last header",
                 "\t".join(c or "" for c in cells))
            )
            continue
        row_numbers.append(excel_row)
        for i in range(width):
            columns[i].append(cells[i] if i < len(cells) else None)
    arrays = {"_row": pa.array(row_numbers, pa.int64())}
    arrays.update({f"c{i}": pa.array(col, pa.string()) for i, col in enumerate(columns)})
    staged = pa.table(arrays)
    con.register("_xlsx_arrow", staged)
    select = ", ".join(f"c{i} AS {ident(name)}" for i, name in enumerate(header))
    con.execute(f"CREATE OR REPLACE TEMP TABLE _src AS SELECT _row, {select} FROM _xlsx_arrow")
    con.execute("CREATE OR REPLACE TEMP VIEW _numbered AS SELECT * FROM _src")
    con.unregister("_xlsx_arrow")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE raw_rejects "
        "(_row BIGINT, code VARCHAR, detail VARCHAR, text VARCHAR)"
    )
    if rejects:
        con.executemany("INSERT INTO raw_rejects VALUES (?, ?, ?, ?)", [list(r) for r in rejects])
    return header


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    try:
        names = [
            d[0]
            for d in con.execute(
                f"SELECT * FROM read_parquet({literal(str(path))}) LIMIT 0"
            ).description
        ]
    except duckdb.Error as exc:
        raise DataFileError(f"cannot read the Parquet file ({exc})", path=str(path)) from exc
    import pyarrow.parquet as pq

    try:  # the names as written: DuckDB renames a repeated one (psn_name, psn_name_1)
        written = [str(name) for name in pq.read_schema(path).names]
    except (pa.ArrowException, OSError) as exc:
        raise DataFileError(f"cannot read the Parquet file ({exc})", path=str(path)) from exc
    _refuse_repeated_names(written, path)
    casts = ", ".join(f"CAST({ident(n)} AS VARCHAR) AS {ident(n)}" for n in names)
    con.execute(
        f"""CREATE OR REPLACE TEMP VIEW _numbered AS
            SELECT file_row_number + 1 AS _row, {casts}
            FROM read_parquet({literal(str(path))}, file_row_number = true)"""
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE raw_rejects "
        "(_row BIGINT, code VARCHAR, detail VARCHAR, text VARCHAR)"
    )
    return names


def stage_raw(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    table: str,
    *,
    scan: FileScan | None = None,
    workdir: Path | None = None,
) -> RawStage:
    """Read ``path`` into the temporary tables ``raw`` and ``raw_rejects`` (see module doc)."""
    contract = TABLES[table]
    scan = scan or scan_file(path)
    suffix = path.suffix.lower()
    file_format = suffix.lstrip(".")
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        try:
            if suffix in (".csv", ".txt"):
                file_format = "csv"
                names = _stage_csv(con, path, scan, Path(tmp))
            elif suffix == ".xlsx":
                file_format = "xlsx"
                names = _stage_xlsx(con, path)
            elif suffix == ".parquet":
                file_format = "parquet"
                names = _stage_parquet(con, path)
            else:
                raise DataFileError(
                    f"unsupported file type '{suffix}': use .csv, .xlsx or .parquet",
                    path=str(path),
                )
        except duckdb.Error as exc:
            # the reader may have read a copy (GBK made UTF-8, lines taken out): name the
            # user's file, never the copy in the temporary folder
            said = re.sub(re.escape(tmp) + r"[^\s\"']*", path.name, str(exc).splitlines()[0])
            hint = ("check that it is a comma-separated text file with a header row"
                    if file_format == "csv" else f"save it again as .{file_format}")
            raise DataFileError(f"cannot read the file ({said}): {hint}", path=str(path)) from exc
    mapping, ignored = map_header(names, contract, path=path)
    select = ", ".join(
        f"{ident(mapping[c.name])} AS {ident(c.name)}"
        if c.name in mapping
        else f"CAST(NULL AS VARCHAR) AS {ident(c.name)}"
        for c in contract.columns
    )
    for name in ignored:
        select += f", {ident(name)} AS {ident('extra:' + name)}"
    con.execute(f"CREATE OR REPLACE TEMP VIEW raw AS SELECT _row, {select} FROM _numbered")
    rows_read = _scalar(con, "SELECT count(*) FROM raw")
    rejects = _scalar(con, "SELECT count(*) FROM raw_rejects")
    log.info("staged %s: %d rows, %d rejected by the reader", path, rows_read, rejects)
    return RawStage(
        path=path,
        table=table,
        file_format=file_format,
        scan=scan,
        rows_read=rows_read,
        rejects=rejects,
        column_map=mapping,
        ignored_columns=tuple(ignored),
    )


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = con.execute(sql).fetchone()
    return int(row[0]) if row else 0
