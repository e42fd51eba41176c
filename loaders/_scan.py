"""One cheap pass over a file's bytes (fingerprint, encoding, line count), and the second pass
that finds the lines a CSV reader does not count as records (blank lines, lines inside quoted
values, stray carriage returns), made only for the files that have them.

When the quotes of a file do not pair up, or its lines end now in CRLF and now in LF (which the
CSV reader refuses outright), :func:`csv_layout` reads it record by record as a strict
RFC 4180 reader does, takes out the first line of each record that cannot be parsed, and writes
a copy the reader can read, keeping the user's line numbers.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from yibao.errors import EncodingDetectionError

__all__ = [
    "CHUNK",
    "DELIMITERS",
    "MAX_RECORD",
    "CsvLayout",
    "FileScan",
    "LineAnomalies",
    "csv_header",
    "csv_layout",
    "line_anomalies",
    "scan_file",
]

_SAMPLE = 1 << 20
CHUNK = 1 << 24
MAX_RECORD = 1 << 24
"""The longest record (bytes) read: the CSV reader's ``max_line_size`` too (16 MiB)."""


@dataclass(frozen=True)
class FileScan:
    """What one cheap pass over a file's bytes tells: fingerprint, size, encoding, line count.

    ``lines`` counts the physical lines; ``cr_ends``: the lines end in a bare carriage return
    (classic Mac, Excel for Mac's "CSV (Macintosh)"); ``bare_cr``: a carriage return not
    followed by a line feed was seen in a file whose lines end in LF; ``mixed_ends``: some lines
    end in CRLF and others in a bare LF (or a value holds a line break of the other kind). The
    last two make the CSV reader stop, so such files are read record by record
    (:func:`csv_layout`) or tried first.
    """

    sha256: str
    size: int
    encoding: str | None  # None for binary formats
    lines: int = 0
    bare_cr: bool = False
    mixed_ends: bool = False
    cr_ends: bool = False


@dataclass(frozen=True)
class LineAnomalies:
    """Lines a CSV reader does not count as records, found by a second, vectorised pass.

    ``blank_lines``: empty lines; ``quoted_lines``: lines that begin inside a double-quoted
    value (the 2nd, 3rd ... line of a record with a line break in a value); ``cr_lines``: lines
    after the header with a carriage return outside quotes that ends no line (the reader
    cannot parse them, so they are taken out before reading).
    """

    blank_lines: tuple[int, ...] = ()
    quoted_lines: tuple[int, ...] = ()
    cr_lines: tuple[int, ...] = ()


def _detect_encoding(sample: bytes, path: Path) -> str:
    """UTF-8 (with or without BOM) or GB18030 (a superset of GBK), judged line by line.

    A few lines in another encoding do not decide for the file: its encoding is the one more
    of its lines can only be read in (UTF-8 on a tie), so that the odd lines are rejected by
    the CSV reader and quarantined as invalid encoding instead of refusing the whole file or
    garbling its good lines. The header must be readable in that encoding.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if _decodes(sample, "utf-8"):
        return "utf-8"
    lines = sample.split(b"\n")
    if len(sample) >= _SAMPLE and len(lines) > 1:
        lines.pop()  # the sample may end inside a character
    only = {"utf-8": 0, "gb18030": 0}
    readable = 0
    for line in lines:
        if line.isascii():
            continue
        # a whole line: a character cut at its end is an error here, not a sample's edge
        fits = [encoding for encoding in only if _decodes(line, encoding, final=True)]
        readable += bool(fits)
        if len(fits) == 1:
            only[fits[0]] += 1
    encoding = "utf-8" if only["utf-8"] >= only["gb18030"] else "gb18030"
    if readable and _decodes(lines[0], encoding, final=True):
        return encoding
    raise EncodingDetectionError(
        "the file is neither UTF-8 nor GBK/GB18030: save it as UTF-8 (Excel: 'CSV UTF-8')",
        path=str(path),
    )


def scan_file(path: Path) -> FileScan:
    """Hash the file; for text files also detect the encoding, count the lines and see how
    they end.

    This pass runs at memory speed; the exact blank and quoted lines that keep row numbers
    equal to the lines a text editor shows are found later, only for the files whose line count
    does not match what the reader read (see :func:`line_anomalies` and :func:`csv_layout`).
    """
    digest = hashlib.sha256()
    text = path.suffix.lower() in (".csv", ".txt")
    size = 0
    encoding: str | None = None
    crs = crlfs = newlines = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if not text:
                continue
            if encoding is None:
                encoding = _detect_encoding(chunk[:_SAMPLE], path)
            if last == b"\r" and chunk.startswith(b"\n"):
                crlfs += 1  # a CRLF cut by the chunk boundary
            if b"\r" in chunk:
                crs += chunk.count(b"\r")
                crlfs += chunk.count(b"\r\n")
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    if not text:
        return FileScan(digest.hexdigest(), size, None)
    if crs and not newlines:  # every line ends in a bare CR
        lines = crs + (1 if last != b"\r" else 0)
        return FileScan(digest.hexdigest(), size, encoding or "utf-8", lines, cr_ends=True)
    lines = newlines + (1 if size and last != b"\n" else 0)
    return FileScan(
        digest.hexdigest(),
        size,
        encoding or "utf-8",
        lines,
        bare_cr=crs != crlfs,
        mixed_ends=0 < crlfs < newlines,
    )


def line_anomalies(path: Path, lines: int) -> LineAnomalies:
    """Find the blank lines, the lines inside quoted values and the stray-CR lines of a file."""
    blanks: list[int] = []
    quoted: list[int] = []
    crs: list[int] = []
    in_quotes = False  # whether the previous chunk ended inside a quoted value
    lines_before = 0  # newlines seen before the current chunk
    prev_last = b"\n"  # a file starts as if after a newline
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            window = prev_last + chunk
            starts: list[int] = []
            for pattern in (b"\n\n", b"\n\r\n"):
                start = window.find(pattern)
                while start != -1:
                    starts.append(start)
                    start = window.find(pattern, start + 1)
            newlines, counted = lines_before, 1
            for start in sorted(starts):
                # the blank line is the line after the newline at `start`
                newlines += window.count(b"\n", counted, start + 1)
                counted = start + 1
                blanks.append(newlines + 1)
            if prev_last == b"\r" and not chunk.startswith(b"\n") and not in_quotes:
                crs.append(lines_before + 1)  # a bare CR ended the previous chunk
            if b"\r" in chunk:
                _stray_crs(chunk, lines_before, in_quotes, crs)
            if in_quotes or b'"' in chunk:
                in_quotes = _lines_in_quotes(chunk, lines_before, in_quotes, quoted)
            lines_before += chunk.count(b"\n")
            prev_last = chunk[-1:]
    return LineAnomalies(
        tuple(sorted(set(blanks))),
        tuple(q for q in quoted if q <= lines),
        tuple(sorted({c for c in crs if c > 1})),
    )


def _stray_crs(chunk: bytes, lines_before: int, in_quotes: bool, out: list[int]) -> None:
    """Append to ``out`` the lines of ``chunk`` with a carriage return outside quotes that is
    not part of a CRLF (one at the very end of the chunk is judged with the next chunk)."""
    data = np.frombuffer(chunk, dtype=np.uint8)
    crs = np.flatnonzero(data[:-1] == 0x0D)
    crs = crs[data[crs + 1] != 0x0A]
    if not len(crs):
        return
    quotes = np.flatnonzero(data == 0x22)
    outside = (np.searchsorted(quotes, crs) + int(in_quotes)) % 2 == 0
    breaks = np.flatnonzero(data == 0x0A)
    out.extend((np.searchsorted(breaks, crs[outside]) + lines_before + 1).tolist())


def _lines_in_quotes(chunk: bytes, lines_before: int, in_quotes: bool, out: list[int]) -> bool:
    """Append to ``out`` the lines that begin inside a quoted value; return whether ``chunk``
    ends inside one. Vectorised: the quotes before each line break, counted by a binary search.
    """
    data = np.frombuffer(chunk, dtype=np.uint8)
    quotes = np.flatnonzero(data == 0x22)
    breaks = np.flatnonzero(data == 0x0A)
    inside = (np.searchsorted(quotes, breaks) + int(in_quotes)) % 2 == 1
    # the line break at chunk offset breaks[i] ends line lines_before + i + 1
    out.extend((np.flatnonzero(inside) + lines_before + 2).tolist())
    return bool((len(quotes) + int(in_quotes)) % 2)


def _decodes(data: bytes, encoding: str, *, final: bool = False) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=final)
    except UnicodeDecodeError:
        return False
    return True


# -- reading record by record -----------------------------------------------------------------

@dataclass(frozen=True)
class CsvLayout:
    """A CSV file's records as a strict reader finds them, in the user's line numbers.

    ``anomalies``: the blank lines, the lines inside a record (its 2nd, 3rd ... line, the
    header's included) and, as ``cr_lines``, every line taken out; ``taken``: ``(line, why,
    text)`` of each line taken out; ``path``: a copy holding every other line as written, with
    each record ending in LF (line breaks inside quoted values are kept as they are).
    """

    anomalies: LineAnomalies
    taken: tuple[tuple[int, str, str], ...]
    path: Path


class _RecordTooLongError(Exception):
    """A record runs past :data:`MAX_RECORD` bytes (a quote that never closes)."""


def _line_text(raw: bytes) -> str:
    text = raw.rstrip(b"\r\n")
    if len(text) > 65_536:
        text = text[:65_536] + "…".encode()
    return text.decode("utf-8", errors="replace")


class _Lines(Iterator[str]):
    """The lines of a file for :class:`csv.reader`: ``record`` collects the lines of the record
    being read, ``again`` gives lines back to be read once more; a line longer than any record
    is skipped (appended to ``taken`` with the reason)."""

    def __init__(self, fh: BinaryIO, taken: list[tuple[int, str, str]]) -> None:
        self.fh = fh
        self.taken = taken
        self.number = 0
        self.again: deque[tuple[int, bytes]] = deque()
        self.record: list[tuple[int, bytes]] = []
        self.size = 0

    def __next__(self) -> str:
        while True:
            if self.again:
                number, raw = self.again.popleft()
            else:
                raw = self.fh.readline(MAX_RECORD + 1)
                if not raw:
                    raise StopIteration
                self.number += 1
                number = self.number
                if len(raw) > MAX_RECORD and not raw.endswith(b"\n"):
                    while (rest := self.fh.readline(CHUNK)) and not rest.endswith(b"\n"):
                        pass  # a line longer than any record: skip to its end
                    self.taken.append((number, f"the line is longer than {MAX_RECORD >> 20} "
                                               "MiB", _line_text(raw)))
                    continue
            self.record.append((number, raw))
            self.size += len(raw)
            if self.size > MAX_RECORD:
                raise _RecordTooLongError
            return raw.decode("utf-8", errors="surrogateescape")


def _why(exc: Exception) -> str:
    """A csv module error as a user reads it."""
    text = str(exc)
    if isinstance(exc, _RecordTooLongError):
        return f"a quote opens a value that does not close within {MAX_RECORD >> 20} MiB"
    if "expected after" in text:
        return ('text follows the closing quote of a value: write the value as "..." with '
                'each quote inside it doubled ("")')
    if "unexpected end of data" in text:
        return "a quote opens a value that never closes"
    if "NUL" in text:
        return "the row holds a NUL byte"
    if "new-line character" in text:
        return "a carriage return (\\r) inside the row, outside quotes"
    return f"the row is not valid CSV: {text}"


def _raise_field_limit() -> None:
    # the csv module's limit is process-wide (131,072 characters by default): raise it, never
    # lower it, so that a value the CSV reader accepts is accepted here too
    if csv.field_size_limit() < MAX_RECORD:
        csv.field_size_limit(MAX_RECORD)


DELIMITERS = (",", "\t", ";", "|")
"""The field separators a CSV export may use, comma first (the one taken on a tie)."""


def _delimiter(line: str) -> str:
    """The separator of a header line: the candidate it holds most often outside quotes."""
    outside = "".join(part for i, part in enumerate(line.split('"')) if i % 2 == 0)
    counts = {d: outside.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first on a tie
    return best if counts[best] else ","


def csv_header(source: Path) -> tuple[list[str], str]:
    """The names in the first record of the UTF-8 CSV file ``source`` (a byte-order mark
    dropped; ``[]`` for an empty file) and the field separator, judged from the header (see
    :data:`DELIMITERS`). Raises :class:`ValueError` saying why the first record cannot be
    read."""
    _raise_field_limit()
    taken: list[tuple[int, str, str]] = []
    with open(source, "rb") as fh:
        bom = fh.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8
        fh.seek(len(codecs.BOM_UTF8) if bom else 0)  # the mark is no part of the first name
        delimiter = _delimiter(fh.readline(MAX_RECORD).decode("utf-8", errors="replace"))
        fh.seek(len(codecs.BOM_UTF8) if bom else 0)
        lines = _Lines(fh, taken)
        try:
            header = next(csv.reader(lines, strict=True, delimiter=delimiter), [])
        except (csv.Error, _RecordTooLongError) as exc:
            raise ValueError(_why(exc)) from exc
    if taken:
        raise ValueError(taken[0][1])
    names = [n.encode("utf-8", "surrogateescape").decode("utf-8", "replace") for n in header]
    return names, delimiter


def csv_layout(source: Path, out: Path, *, delimiter: str = ",") -> CsvLayout:
    """Read the UTF-8 CSV file ``source`` record by record (fields separated by ``delimiter``,
    values quoted with ``"``, quotes doubled inside them, strictly) and write the records that
    parse to ``out``.

    A record that cannot be parsed (text after a closing quote, a quote that never closes, a
    carriage return outside quotes that ends no line, a NUL byte, more than
    :data:`MAX_RECORD` bytes) costs its first line only: that line is taken out and reading
    starts again on the next line, so a stray quote on line 2 does not swallow the file. Line
    numbers are the user's: the copy keeps every other line, so the lines taken out, with the
    blank lines and the lines inside records, say where each record the CSV reader reads from
    ``out`` sits in ``source``.
    """
    _raise_field_limit()
    blanks: list[int] = []
    inside: list[int] = []
    taken: list[tuple[int, str, str]] = []
    with open(source, "rb") as fh, open(out, "wb") as dst:
        lines = _Lines(fh, taken)
        reader = csv.reader(lines, strict=True, delimiter=delimiter)
        while True:
            lines.record, lines.size = [], 0
            try:
                fields = next(reader)
            except StopIteration:
                break
            except (csv.Error, _RecordTooLongError) as exc:
                (first, raw), *rest = lines.record
                taken.append((first, _why(exc), _line_text(raw)))
                lines.again.extendleft(reversed(rest))
                continue
            *body, (_, last) = lines.record
            for _, raw in body:
                dst.write(raw)
            dst.write(last[:-2] + b"\n" if last.endswith(b"\r\n") else last)
            inside.extend(number for number, _ in lines.record[1:])
            if not fields:
                blanks.append(lines.record[0][0])
    taken.sort()
    return CsvLayout(
        LineAnomalies(tuple(blanks), tuple(inside), tuple(line for line, _, _ in taken)),
        tuple(taken),
        out,
    )
