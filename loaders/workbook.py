"""Reading one sheet of an Excel workbook (``.xlsx``) without letting the file decide how much
memory the reader takes.

python-calamine reads a sheet into a dense grid from A1 to the sheet's last cell. A 1.6 KB
workbook with a header in A1 and one more cell at XFD1048576 (the last cell a sheet has) makes it
allocate 17 billion cells, 512 GiB, and abort the whole process: no Python exception, SIGABRT,
the workbench server with it. So before calamine touches a file, :func:`sheet_shape` opens it as
the zip archive it is, finds the sheet's XML part through the workbook's relationships and
streams that part once, counting instead of building a tree:

* the range the sheet declares (``<dimension ref="A1:XFD1048576"/>``), which writers set and
  nothing checks;
* the cells holding a value (``<c>`` elements that are not empty) and the last row and column
  they reach, from their references (``r="XFD1048576"``), vectorised with numpy; cells written
  without a reference are placed the way calamine places them (after the previous cell, in the
  row after the previous row) by an exact streaming parse, made only for such files.

:func:`read_sheet` then refuses by the rules of :class:`SheetLimits` (each refusal a
:class:`~yibao.errors.DataFileError` naming the file, the range and the fix) and reads with
calamine no more rows than hold data. Both ``yibao load`` (``loaders.sources``) and the ledger
import (``yibao.leads.excel``, also behind the workbench's 导入台账 upload) read through it.
"""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import IO
from xml.parsers import expat

import numpy as np

from yibao.errors import DataFileError

__all__ = ["EXCEL_COLUMNS", "EXCEL_ROWS", "CellValue", "SheetLimits", "SheetShape", "read_sheet",
           "sheet_names", "sheet_shape"]

EXCEL_ROWS = 1_048_576
"""Rows of an Excel sheet (the last is row 1,048,576)."""
EXCEL_COLUMNS = 16_384
"""Columns of an Excel sheet (the last is XFD)."""

CellValue = int | float | str | bool | date | datetime | time | timedelta
"""One cell as python-calamine gives it (an empty cell is ``""``)."""

_CHUNK = 1 << 24
"""Bytes of inflated sheet XML scanned at a time (the scan's memory is a few times this)."""
_SMALL_PART = 1 << 24
"""Largest workbook, relationships part parsed as a whole (they list sheets, not cells)."""
_FIX = "delete the empty rows/columns below/right of the data and save again"
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, OSError, EOFError, RuntimeError,
               NotImplementedError)
"""What inflating a damaged, encrypted or oddly compressed part raises."""


@dataclass(frozen=True)
class SheetLimits:
    """What :func:`read_sheet` accepts; the defaults admit any real export.

    A full export sheet, 20 columns down to Excel's last row, is 21 million cells; calamine's
    grid costs about 32 bytes a cell (plus 8 per cell in the Python lists), so 100 million cells
    is about 4 GB of memory: five such sheets' worth, and the most a workstation should give one
    file.

    * ``max_unzipped_bytes``: the archive's parts may inflate to at most this many bytes
      (4 GiB; the XML of a full 20-column sheet is under 1 GiB). A zip bomb is refused from the
      sizes in the archive's directory, before anything is inflated, and the scan stops there
      too.
    * ``max_cells``: the grid calamine builds (last row x last column holding a value, from A1)
      and the cells holding a value may not exceed this (100 million).
    * ``sparse_cells``, ``max_empty_ratio``: a range (the declared one, or the grid of the cells)
      larger than ``sparse_cells`` (50 million) must not be more than ``max_empty_ratio`` (100)
      times the cells holding a value: a sheet that is 99 % empty past 50 million cells is a
      formatting accident, not data, and reading it would cost minutes and gigabytes for
      nothing. A full export (21 million) is never refused by this rule, however empty.
    """

    max_unzipped_bytes: int = 4 << 30
    max_cells: int = 100_000_000
    sparse_cells: int = 50_000_000
    max_empty_ratio: int = 100


@dataclass(frozen=True)
class SheetShape:
    """What a sheet holds, measured from its XML without reading it.

    ``declared``: the ``<dimension>`` reference as written (``None`` without one) and
    ``declared_cells`` the cells from A1 to its end; ``cells``: cells holding a value; ``rows``
    and ``columns``: the last row and column such a cell reaches (1-based; 0 for an empty
    sheet), so ``rows * columns`` is the grid a reader starting at A1 builds.
    """

    sheet: str
    declared: str | None
    declared_cells: int
    cells: int
    rows: int
    columns: int

    @property
    def corner(self) -> str:
        """The grid's bottom-right cell, e.g. ``"XFD1048576"`` (``"A1"`` when empty)."""
        return f"{column_letters(max(self.columns, 1))}{max(self.rows, 1)}"

    @property
    def grid(self) -> int:
        return self.rows * self.columns


def column_letters(column: int) -> str:
    """Excel's letters of a 1-based column number (1 -> ``A``, 16,384 -> ``XFD``)."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,10})")


def _cell_position(ref: str) -> tuple[int, int] | None:
    """``(row, column)`` of a reference such as ``B12`` (1-based), ``None`` when malformed."""
    match = _REF.fullmatch(ref.strip())
    if match is None:
        return None
    column = 0
    for ch in match.group(1).upper():
        column = column * 26 + ord(ch) - 64
    return int(match.group(2)), column


def _unreadable(path: Path, why: str) -> DataFileError:
    return DataFileError(f"cannot read the workbook ({why}): save it again as .xlsx",
                         path=str(path))


# -- the archive ----------------------------------------------------------------------------

def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _member(book: zipfile.ZipFile, part: str) -> zipfile.ZipInfo | None:
    """The archive member of ``part``, also when a writer spelled it with backslashes or
    another case (as some do; Excel reads them)."""
    try:
        return book.getinfo(part)
    except KeyError:
        wanted = part.casefold()
        return next((info for info in book.infolist()
                     if info.filename.replace("\\", "/").lstrip("/").casefold() == wanted),
                    None)


def _small_xml(book: zipfile.ZipFile, name: str, path: Path) -> ET.Element | None:
    """A small part (workbook, relationships) parsed, ``None`` when absent."""
    info = _member(book, name)
    if info is None:
        return None
    if info.file_size > _SMALL_PART:
        raise _unreadable(path, f"its part {name} inflates to {info.file_size:,} bytes")
    try:
        data = book.read(info)
    except _ZIP_ERRORS as exc:
        raise _unreadable(path, f"its part {name}: {exc}") from exc
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:  # Excel never writes them: refuse entities
        raise _unreadable(path, f"its part {name} declares a DOCTYPE")
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise _unreadable(path, f"its part {name} is not XML: {exc}") from exc


def _relationships(book: zipfile.ZipFile, part: str,
                   path: Path) -> list[tuple[str, str, str]]:
    """``(id, type, target part name)`` of the relationships of ``part`` (``""``: the
    package's own), targets resolved to names in the archive."""
    folder, name = posixpath.split(part)
    root = _small_xml(book, posixpath.join(folder, "_rels", name + ".rels"), path)
    found: list[tuple[str, str, str]] = []
    for element in root.iter() if root is not None else ():
        target = element.get("Target")
        if (_local(element.tag) != "Relationship" or target is None
                or element.get("TargetMode") == "External"):
            continue
        resolved = target.lstrip("/") if target.startswith("/") else posixpath.join(folder,
                                                                                    target)
        found.append((element.get("Id", ""), element.get("Type", ""),
                      posixpath.normpath(resolved)))
    return found


@dataclass(frozen=True)
class _Book:
    """The workbook's sheets (name -> part name), in workbook order."""

    sheets: dict[str, str]


def _open(path: Path, limits: SheetLimits) -> tuple[zipfile.ZipFile, _Book]:
    """Open ``path`` as an .xlsx archive and list its sheets; refuse what is not one."""
    try:
        book = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise _unreadable(path, f"it is not an .xlsx archive: {exc}; a workbook with a "
                                "password cannot be read either") from exc
    try:
        total = sum(info.file_size for info in book.infolist())
        if total > limits.max_unzipped_bytes:
            raise DataFileError(
                f"the workbook's parts inflate to {total:,} bytes, more than the "
                f"{limits.max_unzipped_bytes:,} read from one file (a damaged or hostile "
                "file?): save it again from Excel",
                path=str(path))
        office = next((target for _, kind, target in _relationships(book, "", path)
                       if kind.endswith("/officeDocument")), "xl/workbook.xml")
        root = _small_xml(book, office, path)
        if root is None:
            raise _unreadable(path, f"no {office}: it is not an Excel workbook")
        targets = {rid: target for rid, _, target in _relationships(book, office, path)}
        sheets: dict[str, str] = {}
        for element in root.iter():
            if _local(element.tag) != "sheet":
                continue
            rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), "")
            sheets[element.get("name", "")] = targets.get(rid, "")
        return book, _Book(sheets)
    except BaseException:
        book.close()
        raise


def sheet_names(path: Path) -> tuple[str, ...]:
    """The sheet names of the workbook ``path``, in workbook order (from its ``workbook.xml``,
    without reading any sheet).

    Raises :class:`~yibao.errors.DataFileError` when ``path`` is not an .xlsx workbook.
    """
    book, listing = _open(path, SheetLimits())
    book.close()
    return tuple(listing.sheets)


def _pick(listing: _Book, sheet: int | str, path: Path) -> tuple[str, str]:
    names = list(listing.sheets)
    if isinstance(sheet, str):
        if sheet not in listing.sheets:
            raise DataFileError(f"no sheet {sheet!r} (found: {', '.join(names) or 'none'})",
                                path=str(path))
        name = sheet
    elif not 0 <= sheet < len(names):
        raise DataFileError(f"the workbook has {len(names)} sheet(s), no sheet number "
                            f"{sheet + 1}: put the data in the first sheet", path=str(path))
    else:
        name = names[sheet]
    return name, listing.sheets[name]


# -- measuring a sheet ------------------------------------------------------------------------

def _chunks(stream: IO[bytes], budget: int, path: Path) -> Iterator[bytes]:
    """The inflated bytes of a part, refusing past ``budget`` (the archive's sizes may lie)."""
    read = 0
    try:
        while chunk := stream.read(_CHUNK):
            read += len(chunk)
            if read > budget:
                raise DataFileError(
                    f"a sheet inflates past {budget:,} bytes, more than its archive declares "
                    "(a damaged or hostile file?): save it again from Excel", path=str(path))
            yield chunk
    except _ZIP_ERRORS as exc:
        raise _unreadable(path, str(exc)) from exc


def _find(a: np.ndarray, pattern: bytes) -> np.ndarray:
    """Start offsets of ``pattern`` in the byte array ``a``."""
    n = len(a) - len(pattern) + 1
    if n <= 0:
        return np.empty(0, np.int64)
    hit = a[:n] == pattern[0]
    for i, byte in enumerate(pattern[1:], start=1):
        hit &= a[i:i + n] == byte
    return np.flatnonzero(hit)


_SPACE = np.array([0x20, 0x09, 0x0D, 0x0A])
_WIDTH = 16  # a reference is at most 3 letters, 10 digits (past Excel's 7) and its quote


@dataclass
class _Tally:
    cells: int = 0
    rows: int = 0
    columns: int = 0
    refless: bool = False
    bad_ref: str | None = None


def _tally_chunk(data: bytes, cell_tag: bytes, tally: _Tally) -> None:
    """Count the valued cells of ``data`` (whole tags only) and the furthest they reach.

    Vectorised: the offsets of the cell tags, of their ends and of the ``r="`` in them are
    found with numpy; each reference is read from a fixed-width window after it.
    """
    a = np.frombuffer(data, dtype=np.uint8)
    n = len(a)
    starts = _find(a, cell_tag)
    after = np.minimum(starts + len(cell_tag), n - 1)
    starts = starts[np.isin(a[after], [*_SPACE, 0x3E, 0x2F])]  # <c followed by space, > or /
    if not len(starts):
        return
    closes = np.flatnonzero(a == 0x3E)
    if not len(closes):
        return  # a tag cut short: the XML is damaged, and calamine says so
    ends = closes[np.minimum(np.searchsorted(closes, starts), len(closes) - 1)]
    valued = a[ends - 1] != 0x2F  # <c .../> holds no value: calamine skips it
    starts, ends = starts[valued], ends[valued]
    if not len(starts):
        return
    tally.cells += len(starts)
    refs = _find(a, b"r=")
    refs = refs[(refs > 0) & np.isin(a[np.maximum(refs - 1, 0)], _SPACE)
                & np.isin(a[np.minimum(refs + 2, n - 1)], [0x22, 0x27])]
    owner = np.searchsorted(starts, refs, side="right") - 1
    refs = refs[(owner >= 0) & (refs < ends[np.maximum(owner, 0)])]
    if len(refs) < len(starts):  # an attribute appears once in a tag: some cells have none
        tally.refless = True
    if not len(refs):
        return
    padded = np.concatenate([a, np.zeros(_WIDTH, np.uint8)])
    window = np.lib.stride_tricks.sliding_window_view(padded, _WIDTH)[refs + 3]
    upper = window & 0xDF  # a-z as A-Z (digits and quotes become other non-letters)
    letter = (upper >= 0x41) & (upper <= 0x5A)
    digit = (window >= 0x30) & (window <= 0x39)
    nlet = np.argmin(letter, axis=1)
    length = np.argmin(letter | digit, axis=1)  # the first byte past the reference
    end_byte = window[np.arange(len(refs)), length]
    ok = ((nlet >= 1) & (nlet <= 3) & (length > nlet) & ((end_byte == 0x22) | (end_byte == 0x27))
          & ~(letter & (np.arange(_WIDTH) >= nlet[:, None])
              & (np.arange(_WIDTH) < length[:, None])).any(axis=1))
    if not ok.all():
        k = int(np.flatnonzero(~ok)[0])
        tally.bad_ref = bytes(window[k][: int(length[k]) or _WIDTH]).decode("utf-8", "replace")
        return
    rows = np.zeros(len(refs), np.int64)
    columns = np.zeros(len(refs), np.int64)
    take = np.arange(len(refs))
    for j in range(int((length - nlet).max())):
        byte = window[take, np.minimum(nlet + j, _WIDTH - 1)].astype(np.int64)
        rows = np.where(nlet + j < length, rows * 10 + byte - 0x30, rows)
        if j < 3:
            columns = np.where(j < nlet, columns * 26 + upper[:, j].astype(np.int64) - 0x40,
                               columns)
    tally.rows = max(tally.rows, int(rows.max()))
    tally.columns = max(tally.columns, int(columns.max()))


_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?(worksheet|chartsheet|dialogsheet|macrosheet)"
                   rb"[\s>/]")


def _dimension(head: bytes, prefix: bytes) -> str | None:
    before = head.split(b"<" + prefix + b"sheetData", 1)[0]
    match = re.search(rb"<" + re.escape(prefix) + rb"dimension\s[^>]*?\bref\s*=\s*[\"']"
                      rb"([^\"']*)[\"']", before)
    return match.group(1).decode("ascii", "replace") if match else None


def _declared_cells(declared: str | None) -> int:
    """Cells from A1 to the end of a ``<dimension>`` reference (0 when malformed)."""
    end = _cell_position(declared.split(":")[-1]) if declared else None
    return end[0] * end[1] if end else 0


def _exact_tally(stream: IO[bytes], budget: int, path: Path) -> _Tally:
    """Count and place every valued cell as calamine does, cells without a reference
    included (a streaming expat parse: slow, so only for files that need it)."""
    tally = _Tally()
    state = {"row": 0, "col": 0, "cell_row": 0, "cell_col": 0, "valued": 0, "in_cell": 0}

    def start(tag: str, attrs: dict[str, str]) -> None:
        name = tag.rsplit(" ", 1)[-1]
        if name == "row":
            ref = attrs.get("r")
            state["row"] = int(ref) if ref and ref.isdigit() else state["row"] + 1
            state["col"] = 0
        elif name == "c":
            ref = attrs.get("r")
            where = _cell_position(ref) if ref else None
            if ref and where is None:
                tally.bad_ref = ref
                where = (state["row"], state["col"] + 1)
            row, col = where or (state["row"], state["col"] + 1)
            state.update(col=col, cell_row=row, cell_col=col, valued=0, in_cell=1)
        elif state["in_cell"] and name in ("v", "is", "f"):
            state["valued"] = 1

    def end(tag: str) -> None:
        if tag.rsplit(" ", 1)[-1] == "c":
            state["in_cell"] = 0
            if state["valued"]:
                tally.cells += 1
                tally.rows = max(tally.rows, state["cell_row"])
                tally.columns = max(tally.columns, state["cell_col"])

    def no_doctype(*_: object) -> None:
        raise _unreadable(path, "a sheet declares a DOCTYPE")

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.StartDoctypeDeclHandler = no_doctype
    try:
        for chunk in _chunks(stream, budget, path):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise _unreadable(path, f"a sheet is not XML: {exc}") from exc
    return tally


def sheet_shape(path: Path, *, sheet: int | str = 0,
                limits: SheetLimits | None = None) -> SheetShape:
    """Measure a sheet of the workbook ``path`` (the first, by default) without reading it.

    Streams the sheet's XML once (bounded by ``limits.max_unzipped_bytes``); see the module
    docstring. Raises :class:`~yibao.errors.DataFileError` when ``path`` is not an .xlsx
    workbook, the sheet does not exist, or the archive inflates past the bound; the cell limits
    are applied by :func:`read_sheet`.
    """
    limits = limits or SheetLimits()
    book, listing = _open(path, limits)
    with book:
        name, part = _pick(listing, sheet, path)
        info = _member(book, part)
        if info is None:
            raise _unreadable(path, f"sheet {name!r} has no part {part or '(none)'}")
        budget = min(info.file_size, limits.max_unzipped_bytes)
        tally = _Tally()
        declared: str | None = None
        prefix: bytes | None = None  # the namespace prefix of the sheet's elements
        tail = b""
        with book.open(info) as stream:
            for chunk in _chunks(stream, budget, path):
                data = tail + chunk
                if prefix is None:
                    root = _ROOT.search(data)
                    if root is None:
                        tail = data[-_CHUNK:]  # the root tag may still come
                        continue
                    prefix = (root.group(1) + b":") if root.group(1) else b""
                    declared = _dimension(data, prefix)
                cut = data.rfind(b"<")
                if cut <= 0:
                    tail = data  # no whole tag yet
                    continue
                _tally_chunk(data[:cut], b"<" + prefix + b"c", tally)
                tail = data[cut:]
            if prefix is not None and tail:
                _tally_chunk(tail, b"<" + prefix + b"c", tally)
        if tally.refless or prefix is None:  # placed by position, or XML of an unknown shape
            with book.open(info) as stream:
                tally = _exact_tally(stream, budget, path)
    if tally.bad_ref is not None:
        raise _unreadable(path, f"sheet {name!r} has a cell reference {tally.bad_ref!r} that "
                                "is not a cell")
    return SheetShape(name, declared, _declared_cells(declared), tally.cells, tally.rows,
                      tally.columns)


# -- reading ----------------------------------------------------------------------------------

def _refuse(shape: SheetShape, limits: SheetLimits, path: Path,
            alternative: str | None) -> None:
    fix = _FIX + (f", or {alternative}" if alternative else "")
    where = f"sheet {shape.sheet!r}"
    if shape.rows > EXCEL_ROWS or shape.columns > EXCEL_COLUMNS:
        raise DataFileError(
            f"{where} has a cell at {shape.corner}, past Excel's last cell XFD{EXCEL_ROWS}: "
            "the file is damaged; save it again from Excel"
            + (f", or {alternative}" if alternative else ""), path=str(path))
    held = f"{shape.cells:,} cell{'s' if shape.cells != 1 else ''} with a value"
    too_sparse = max(shape.cells, 1) * limits.max_empty_ratio
    if shape.declared_cells > limits.sparse_cells and shape.declared_cells > too_sparse:
        raise DataFileError(
            f"{where} declares the range {shape.declared} ({shape.declared_cells:,} cells) but "
            f"holds {held}: {fix}", path=str(path))
    if shape.cells > limits.max_cells:
        raise DataFileError(
            f"{where} holds {held}, more than the {limits.max_cells:,} read from one sheet: "
            "split the data over several files"
            + (f", or {alternative}" if alternative else ""), path=str(path))
    if shape.grid > limits.max_cells or (shape.grid > limits.sparse_cells
                                         and shape.grid > too_sparse):
        raise DataFileError(
            f"{where} has cells from A1 to {shape.corner} ({shape.grid:,} cells to read) but "
            f"holds {held}: {fix}", path=str(path))


def read_sheet(path: Path, *, sheet: int | str = 0, limits: SheetLimits | None = None,
               alternative: str | None = "export the sheet as CSV") -> list[list[CellValue]]:
    """The cells of a sheet of the workbook ``path`` (the first by default, or the sheet named
    ``sheet``), row 1 first, every row as wide as the widest, from column A: what python-
    calamine's ``to_python(skip_empty_area=False)`` gives (empty cells are ``""``), read only
    after :func:`sheet_shape` has shown the sheet within ``limits``.

    Parameters
    ----------
    path
        The ``.xlsx`` file.
    sheet
        A sheet number (0 is the first, in workbook order) or a sheet name.
    limits
        The bounds (see :class:`SheetLimits`; the defaults admit any real export).
    alternative
        Another fix to offer after "delete the empty rows/columns ... and save again" (the
        loader offers CSV; ``None`` offers nothing more).

    Raises
    ------
    DataFileError
        The file is not a workbook, the sheet is missing, or the sheet is out of bounds; the
        message names the file, the range and the fix.

    Examples
    --------
    >>> rows = read_sheet(Path("persons.xlsx"))  # doctest: +SKIP
    >>> header = rows[0] if rows else []  # doctest: +SKIP
    """
    limits = limits or SheetLimits()
    shape = sheet_shape(path, sheet=sheet, limits=limits)
    _refuse(shape, limits, path, alternative)
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        rows: list[list[CellValue]] = workbook.get_sheet_by_name(shape.sheet).to_python(
            skip_empty_area=False, nrows=shape.rows or None)
    except Exception as exc:  # calamine raises its own untyped errors
        raise _unreadable(path, str(exc)) from exc
    except BaseException as exc:  # a panic in calamine's Rust code is a BaseException
        if type(exc).__name__ != "PanicException":
            raise
        raise _unreadable(path, f"the reader failed: {exc}") from exc
    return rows
