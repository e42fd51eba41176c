"""Excel workbooks from tables, safe to open: no value from the data ever becomes a formula.

A spreadsheet cell whose text starts with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage
return followed by one) is run as a formula by Excel and WPS ("CSV/formula injection"); a name
like ``=HYPERLINK(...)`` typed into a report would turn a ledger export into a phishing link.
:func:`write_workbook` writes every text value as a string cell (``t="s"``/inline text), so the
cell shows the text as typed and nothing is evaluated; numbers stay numbers, dates stay dates.

openpyxl is the writer (already a dependency for reading workbooks); it would otherwise store
any string starting with ``=`` as a formula.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

__all__ = [
    "FORMULA_PREFIXES",
    "cell_text",
    "is_formula_like",
    "write_cell",
    "write_workbook",
]

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""C0 control characters an .xlsx cannot hold (tab, LF and CR it can): openpyxl refuses them,
so one such character in a ledger note or a loaded name would break every later export."""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""Leading characters that make a spreadsheet program treat text as a formula."""


def is_formula_like(text: str) -> bool:
    """True when spreadsheet software would evaluate ``text`` as a formula."""
    return text.startswith(FORMULA_PREFIXES)


def cell_text(text: str) -> str:
    """``text`` with each control character an .xlsx cannot hold shown as its Unicode control
    picture (U+0001 as ␁): the export never fails and the character stays visible."""
    return _XML_ILLEGAL.sub(lambda m: chr(0x2400 + ord(m.group())), text)


def write_cell(cell: Cell, value: Any) -> None:
    """Put ``value`` into ``cell``: text always as a string (never a formula), numbers as
    numbers, dates as dates, missing values as an empty cell."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        cell.value = None
    elif isinstance(value, bool | int | float | datetime | date):
        cell.value = value
    elif isinstance(value, pd.Timestamp):
        cell.value = value.to_pydatetime()
    else:
        cell.value = cell_text(str(value))
        cell.data_type = "s"  # openpyxl marks text starting with "=" as a formula; undo it


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame], *,
                   titles: Mapping[str, Sequence[str]] | None = None) -> Path:
    """Write each frame of ``sheets`` (sheet name → frame) to the workbook ``path``: optional
    title lines (``titles[sheet]``, e.g. ``["医保定点医疗机构违规情况统计表", "填报单位：…"]``),
    then a bold header row with the frame's column names, then its rows. Column widths follow
    the content (CJK characters count double). Returns ``path``."""
    book = Workbook()
    book.remove(book.active)
    for name, frame in sheets.items():
        sheet = book.create_sheet(title=name[:31])
        row = 1
        for line in (titles or {}).get(name, ()):
            write_cell(sheet.cell(row=row, column=1), line)
            sheet.cell(row=row, column=1).font = Font(bold=row == 1, size=14 if row == 1 else 11)
            row += 1
        for col, header in enumerate(frame.columns, start=1):
            cell = sheet.cell(row=row, column=col)
            write_cell(cell, header)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        for values in frame.itertuples(index=False):
            row += 1
            for col, value in enumerate(values, start=1):
                write_cell(sheet.cell(row=row, column=col), value)
        for col, header in enumerate(frame.columns, start=1):
            texts = [str(header), *(str(v) for v in frame.iloc[:200, col - 1] if v is not None)]
            width = max(_display_width(t) for t in texts)
            sheet.column_dimensions[get_column_letter(col)].width = min(60, max(8, width + 2))
        sheet.freeze_panes = sheet.cell(row=row - len(frame) + 1, column=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
