"""Streaming table writers: CSV (UTF-8, GBK or UTF-8 with BOM), Parquet and Excel.

Every cell is text (identifiers keep their leading zeros): CSV quotes every non-empty value,
Parquet stores string columns, Excel stores text cells. Rows arrive in chunks; a writer can also
take a single raw row (a list of cells, possibly of the wrong length, or with a real Excel date),
which is how export faults are written. Files are written under a ``.part`` name and renamed
when complete; Excel files are normalised so that equal content gives equal bytes.
"""

from __future__ import annotations

import logging
import os
import re
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Literal, Protocol

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from yibao.errors import SynthError

__all__ = [
    "XLSX_MAX_ROWS",
    "Cell",
    "CsvWriter",
    "ParquetWriter",
    "TableWriter",
    "XlsxWriter",
    "open_writer",
]

logger = logging.getLogger(__name__)

XLSX_MAX_ROWS = 1_048_575
"""Data rows an Excel sheet holds below its header (1,048,576 rows in all)."""

Cell = str | datetime | None
FileFormat = Literal["csv", "parquet", "xlsx"]
_FIXED_TIME = datetime(2024, 12, 31, 0, 0, 0)


class TableWriter(Protocol):
    """Writes one table; ``rows`` counts data rows written so far (the header excluded)."""

    path: Path
    rows: int

    def write(self, table: pa.Table) -> None: ...

    def write_row(self, cells: Sequence[Cell]) -> None: ...

    def close(self) -> None: ...

    def abort(self) -> None: ...


def _part(path: Path) -> Path:
    return path.with_name(path.name + ".part")


def _quote(cell: Cell) -> str:
    if cell is None:
        return ""
    text = cell.isoformat(sep=" ") if isinstance(cell, datetime) else cell
    return '"' + text.replace('"', '""') + '"'


class CsvWriter:
    """CSV with a header line; values quoted, empty cells left bare, ``\\n`` line ends."""

    def __init__(self, path: Path, header: Sequence[str], *, encoding: str = "utf-8",
                 bom: bool = False) -> None:
        self.path = path
        self.rows = 0
        self.encoding = encoding
        self._fh = _part(path).open("wb")
        if bom:
            self._fh.write(b"\xef\xbb\xbf")
        self._fh.write(self._encode(",".join(_quote(h) for h in header) + "\n"))
        self._options = pa_csv.WriteOptions(include_header=False, quoting_style="needed")

    def _encode(self, text: str) -> bytes:
        return text.encode(self.encoding)

    def write(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        sink = pa.BufferOutputStream()
        pa_csv.write_csv(table, sink, self._options)
        data = sink.getvalue().to_pybytes()
        if self.encoding != "utf-8":
            data = data.decode("utf-8").encode(self.encoding)
        self._fh.write(data)
        self.rows += table.num_rows

    def write_row(self, cells: Sequence[Cell]) -> None:
        self._fh.write(self._encode(",".join(_quote(c) for c in cells) + "\n"))
        self.rows += 1

    def close(self) -> None:
        self._fh.close()
        os.replace(_part(self.path), self.path)

    def abort(self) -> None:
        self._fh.close()
        _part(self.path).unlink(missing_ok=True)


class ParquetWriter:
    """Parquet with one string column per field, one row group per chunk."""

    def __init__(self, path: Path, header: Sequence[str]) -> None:
        self.path = path
        self.rows = 0
        self.schema = pa.schema([(name, pa.string()) for name in header])
        self._writer = pq.ParquetWriter(str(_part(path)), self.schema)

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table.rename_columns(self.schema.names).cast(self.schema))
            self.rows += table.num_rows

    def write_row(self, cells: Sequence[Cell]) -> None:
        if len(cells) != len(self.schema):
            raise ValueError("a Parquet row must have one cell per column")
        values = [c.isoformat(sep=" ") if isinstance(c, datetime) else c for c in cells]
        self.write(pa.table([pa.array([v], pa.string()) for v in values],
                            schema=self.schema))

    def close(self) -> None:
        self._writer.close()
        os.replace(_part(self.path), self.path)

    def abort(self) -> None:
        self._writer.close()
        _part(self.path).unlink(missing_ok=True)


class XlsxWriter:
    """One-sheet Excel workbook written in streaming mode; refuses more than 1,048,575 rows."""

    def __init__(self, path: Path, header: Sequence[str], *, table: str) -> None:
        from openpyxl import Workbook

        self.path = path
        self.rows = 0
        self.table = table
        self._wb = Workbook(write_only=True)
        self._wb.properties.creator = "yibao-graph synth"
        self._wb.properties.created = _FIXED_TIME
        self._wb.properties.modified = _FIXED_TIME
        self._ws = self._wb.create_sheet(table)
        self._ws.append(list(header))

    def _check(self, more: int) -> None:
        if self.rows + more > XLSX_MAX_ROWS:
            raise SynthError(
                f"table '{self.table}' needs more than {XLSX_MAX_ROWS:,} rows, the most an Excel "
                "sheet holds; choose file_format 'csv' or 'parquet', or a smaller scale")

    def write(self, table: pa.Table) -> None:
        self._check(table.num_rows)
        columns = [col.to_pylist() for col in table.columns]
        for row in zip(*columns, strict=True):
            self._ws.append(list(row))
        self.rows += table.num_rows

    def write_row(self, cells: Sequence[Cell]) -> None:
        from openpyxl.cell import WriteOnlyCell

        self._check(1)
        out: list[object] = []
        for c in cells:
            if isinstance(c, datetime):
                cell = WriteOnlyCell(self._ws, value=c)
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
                out.append(cell)
            else:
                out.append(c)
        self._ws.append(out)
        self.rows += 1

    def close(self) -> None:
        part = _part(self.path)
        self._wb.save(str(part))
        _normalise_zip(part)
        os.replace(part, self.path)

    def abort(self) -> None:
        try:  # finish the sheet's temporary file so nothing is left open or behind
            self._ws.close()
            self._ws._writer.cleanup()
        except Exception:  # already failing; the .part file is removed anyway
            logger.debug("could not clean up the xlsx writer of %s", self.path, exc_info=True)
        _part(self.path).unlink(missing_ok=True)


def _normalise_zip(path: Path) -> None:
    """Rewrite a zip with fixed timestamps so equal workbooks are equal bytes."""
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    stamp = _FIXED_TIME.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    entries = [
        (name, re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)", rb"\g<1>" + stamp
                      + rb"\g<2>", data) if name == "docProps/core.xml" else data)
        for name, data in entries
    ]
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=(2024, 12, 31, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            dst.writestr(info, data)
    os.replace(tmp, path)


def open_writer(path: Path, header: Sequence[str], file_format: FileFormat, *, table: str,
                encoding: str = "utf-8", bom: bool = False) -> TableWriter:
    """A writer for ``path`` in ``file_format`` (``encoding``/``bom`` apply to CSV only)."""
    if file_format == "csv":
        return CsvWriter(path, header, encoding=encoding, bom=bom)
    if file_format == "parquet":
        return ParquetWriter(path, header)
    if file_format == "xlsx":
        return XlsxWriter(path, header, table=table)
    raise SynthError(f"unknown file format {file_format!r}; use 'csv', 'parquet' or 'xlsx'")
