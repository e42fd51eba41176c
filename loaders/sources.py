"""Reading export files into a raw staging table: find, fingerprint, decode, map headers.

Every source (CSV in UTF-8, UTF-8 with BOM or GBK/GB18030; Excel ``.xlsx``; Parquet) ends up
as the same DuckDB temporary view ``raw`` (over the table ``_src`` the file was read into, or
over the Parquet file itself): one VARCHAR column per contract column (absent
optional columns are NULL), plus ``_row``, the row number a user sees (the header is row 1;
for CSV the physical line, for Excel the sheet row, for Parquet the record number). Rows that
cannot be split into fields go to the temporary table ``raw_rejects`` with their text.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from loaders._scan import CHUNK, FileScan, LineAnomalies, line_anomalies, scan_file
from loaders._sql import ident, literal
from loaders.contract import TABLES, Table
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


def map_header(found: list[str], table: Table, *, path: Path) -> tuple[dict[str, str], list[str]]:
    """Map the file's header names to contract columns.

    Returns ``{column: header name in the file}`` and the header names that were ignored.
    Raises :class:`MissingColumnError` listing what was found and what is accepted.
    """
    accepted: dict[str, str] = {}
    for col in table.columns:
        for alias in col.accepted_names:
            accepted[_header_key(alias)] = col.name
    mapping: dict[str, str] = {}
    ignored: list[str] = []
    for name in found:
        col_name = accepted.get(_header_key(name))
        if col_name is None:
            ignored.append(name)
        elif col_name in mapping:
            raise DataFileError(
                f"columns '{mapping[col_name]}' and '{name}' both mean {col_name}: keep one",
                path=str(path),
            )
        else:
            mapping[col_name] = name
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


def _without_lines(
    path: Path, lines: tuple[int, ...], workdir: Path
) -> tuple[Path, list[tuple[int, str]]]:
    """A copy of the UTF-8 file ``path`` without ``lines``; and those lines' text."""
    out = workdir / (path.stem + ".parsable.csv")
    drop = set(lines)
    taken: list[tuple[int, str]] = []
    with open(path, "rb") as src, open(out, "wb") as dst:
        for number, line in enumerate(src, start=1):
            if number in drop:
                taken.append((number, line.rstrip(b"\r\n").decode("utf-8", errors="replace")))
            else:
                dst.write(line)
    return out, taken


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


def _stage_csv(
    con: duckdb.DuckDBPyConnection, path: Path, scan: FileScan, workdir: Path
) -> list[str]:
    source = path
    con.execute("DROP TABLE IF EXISTS _rej")
    con.execute("DROP TABLE IF EXISTS _rej_scan")
    if scan.encoding == "gb18030":
        source = _transcode_to_utf8(path, "gb18030", workdir)
    stray: list[tuple[int, str]] = []
    if scan.anomalies and scan.anomalies.cr_lines:
        source, stray = _without_lines(source, scan.anomalies.cr_lines, workdir)
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _src AS SELECT * FROM read_csv({literal(str(source))},
            all_varchar = true, header = true, auto_detect = true,
            store_rejects = true, rejects_table = '_rej', rejects_scan = '_rej_scan',
            max_line_size = 16777216)"""
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
    # lines the reader does not count: those inside a record, and those taken out
    anomalies = _uncounted_lines(con, path, scan)
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
    if stray:
        con.executemany(
            "INSERT INTO raw_rejects VALUES (?, 'unparseable_row', ?, ?)",
            [[line, "a carriage return (\\r) inside the row, outside quotes", text]
             for line, text in stray],
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
    names = [d[0] for d in con.execute("SELECT * FROM _src LIMIT 0").description]
    return names


def _uncounted_lines(con: duckdb.DuckDBPyConnection, path: Path, scan: FileScan) -> LineAnomalies:
    """The lines the reader did not count as records or rejects, as far as they matter.

    When header + records + rejects make up every line, there are none (the usual case, no
    second pass). Otherwise the second pass finds the blank and quoted lines. The reader may not
    treat ``"`` as a quote (its sniffer drops quoting for a file with an unpaired quote) or may
    keep a stray quote inside an unquoted value: then the quoted lines do not exist for it, the
    count still does not add up, and they are ignored with a warning.
    """
    ((read,),) = con.execute(
        "SELECT (SELECT count(*) FROM _src) + (SELECT count(*) FROM raw_rejects)"
    ).fetchall()
    anomalies = scan.anomalies
    if anomalies is None:
        if 1 + read == scan.lines:
            return LineAnomalies()
        anomalies = line_anomalies(path, scan.lines)
    known = set(anomalies.blank_lines) | set(anomalies.cr_lines)
    if 1 + read + len(known | set(anomalies.quoted_lines)) == scan.lines:
        return anomalies
    if anomalies.quoted_lines:
        log.warning(
            "%s: the quotes do not pair up as the CSV reader read them; row numbers after a "
            "line break inside a value may be off",
            path,
        )
    return LineAnomalies(anomalies.blank_lines, (), anomalies.cr_lines)


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
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own untyped errors
        raise DataFileError(
            f"cannot read the workbook ({exc}): save it again as .xlsx", path=str(path)
        ) from exc
    if not rows:
        raise DataFileError("the first sheet is empty: put the header in row 1", path=str(path))
    header = [_cell_text(v) or f"column{i + 1}" for i, v in enumerate(rows[0])]
    width = len(header)
    while width and rows[0][width - 1] in (None, ""):
        width -= 1
    header = header[:width]
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
            raise DataFileError(
                f"cannot read the file ({str(exc).splitlines()[0]}): check that it is a "
                "comma-separated text file with a header row",
                path=str(path),
            ) from exc
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
