"""One cheap pass over a file's bytes (fingerprint, encoding, line count), and the second pass
that finds the lines a CSV reader does not count as records (blank lines, lines inside quoted
values, stray carriage returns), made only for the files that have them.
"""

from __future__ import annotations

import codecs
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from yibao.errors import EncodingDetectionError

__all__ = ["CHUNK", "FileScan", "LineAnomalies", "line_anomalies", "scan_file"]

_SAMPLE = 1 << 20
CHUNK = 1 << 24


@dataclass(frozen=True)
class FileScan:
    """What one cheap pass over a file's bytes tells: fingerprint, size, encoding, line count.

    ``lines`` counts the physical lines; ``bare_cr``: a carriage return not followed by a line
    feed was seen, so the :class:`LineAnomalies` are found before reading.
    """

    sha256: str
    size: int
    encoding: str | None  # None for binary formats
    lines: int = 0
    bare_cr: bool = False
    anomalies: LineAnomalies | None = None


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
        fits = [encoding for encoding in only if _decodes(line, encoding)]
        readable += bool(fits)
        if len(fits) == 1:
            only[fits[0]] += 1
    encoding = "utf-8" if only["utf-8"] >= only["gb18030"] else "gb18030"
    if readable and _decodes(lines[0], encoding):
        return encoding
    raise EncodingDetectionError(
        "the file is neither UTF-8 nor GBK/GB18030: save it as UTF-8 (Excel: 'CSV UTF-8')",
        path=str(path),
    )


def scan_file(path: Path) -> FileScan:
    """Hash the file; for text files also detect the encoding and count the lines.

    This pass runs at memory speed; the exact blank, quoted and stray-CR lines that keep row
    numbers equal to the lines a text editor shows are found later, only for the files whose
    line count does not match what the reader read (see :func:`line_anomalies`).
    """
    digest = hashlib.sha256()
    text = path.suffix.lower() in (".csv", ".txt")
    size = 0
    encoding: str | None = None
    bare_cr = False
    newlines = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if not text:
                continue
            if encoding is None:
                encoding = _detect_encoding(chunk[:_SAMPLE], path)
            if not bare_cr and b"\r" in chunk:
                # a CR at the end of a chunk may pair with the next chunk's LF: a second pass
                # decides (a false alarm costs only time)
                bare_cr = chunk.count(b"\r") != chunk.count(b"\r\n")
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    if not text:
        return FileScan(digest.hexdigest(), size, None)
    lines = newlines + (1 if size and last != b"\n" else 0)
    return FileScan(
        digest.hexdigest(),
        size,
        encoding or "utf-8",
        lines,
        bare_cr,
        line_anomalies(path, lines) if bare_cr else None,
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


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        codecs.getincrementaldecoder(encoding)().decode(data, final=False)
    except UnicodeDecodeError:
        return False
    return True
