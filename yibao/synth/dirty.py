"""Export faults (脏数据) for the dirty copy, each recorded where it was written.

The dirty copy holds exactly the clean data plus faults. Each fault in ``faults.json`` says what
a loader must do with it (``expect``, decided by table, kind and column in :func:`expect_of`,
following the loader's severity model):

- ``quarantine``: the fault would corrupt results (keys, references to rows that do not exist,
  amounts, settlement dates and times, the person or institution of a settlement, trace codes,
  duplicates, column counts): the row must not be stored;
- ``note``: a descriptive field is unknown or oddly shaped (a person's ID number or birth date,
  a level, a staff type, a diagnosis, a name, an unknown division, a local code): the row is
  stored with the raw value and a data-quality note;
- ``normalise``: the value is right once normalised (full-width digits, Excel dates, labels ...).

Quarantine and note faults sit on EXTRA rows (fresh identifiers, referenced by nothing, in no
scenario) or on duplicated rows; normalise faults edit ordinary (never planted) rows in place.
So a loader that quarantines, notes and normalises correctly stores the clean data plus the
noted extra rows. ``faults.json`` lists every fault with its file, physical row (header = 1;
the Excel row for xlsx; data row + 1 for Parquet) and column. File-level faults: persons as GBK
with Chinese headers, practitioners as UTF-8 with BOM, institutions as xlsx (which has no date
column, so no real Excel date cell there). Rows with a wrong number of fields
(``column_count``) are only written to CSV files.

When ``dirty`` is false the injector only passes tables through to their writers.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yibao.synth._batch import Batch
from yibao.synth._dirty_rows import (
    Placed,
    fee_faults,
    institution_faults,
    new_placed,
    person_faults,
    practitioner_faults,
    settlement_faults,
)
from yibao.synth._format import mdtrt_ids, setl_ids
from yibao.synth._ids import lpad_digits, permute
from yibao.synth.writer import FileFormat, TableWriter

if TYPE_CHECKING:
    from yibao.synth.generate import _Run

__all__ = [
    "FILE_KINDS",
    "NORMALISE",
    "NORMALISE_KINDS",
    "NOTE",
    "NOTE_KINDS",
    "QUARANTINE",
    "QUARANTINE_KINDS",
    "Fault",
    "FaultInjector",
    "expect_of",
]

I64 = npt.NDArray[np.int64]

QUARANTINE, NOTE, NORMALISE = "quarantine", "note", "normalise"

_NORMALISE = ("fullwidth_digits", "thousands_separator", "excel_serial_date", "alt_date_format",
              "padded_whitespace", "enum_label", "lowercase_x")
_EXPECT: dict[str, dict[str, str]] = {
    "persons": {
        "sci_notation_id": QUARANTINE, "duplicate_row": QUARANTINE, "duplicate_key": QUARANTINE,
        "column_count": QUARANTINE, "missing_value": NOTE, "bad_check_digit": NOTE,
        "certno_length": NOTE, "unknown_division": NOTE, "invalid_date": NOTE,
        "date_out_of_range": NOTE, "bad_enum": NOTE,
    },
    "institutions": {
        "duplicate_row": QUARANTINE, "missing_value": NOTE, "unknown_division": NOTE,
        "bad_enum": NOTE,
    },
    "practitioners": {
        "unknown_institution": QUARANTINE, "duplicate_row": QUARANTINE,
        "column_count": QUARANTINE, "missing_value": NOTE, "bad_enum": NOTE, "local_code": NOTE,
    },
    "settlements": {
        "sci_notation_id": QUARANTINE, "unknown_person": QUARANTINE,
        "unknown_institution": QUARANTINE, "amounts_mismatch": QUARANTINE,
        "invalid_date": QUARANTINE, "date_out_of_range": QUARANTINE,
        "missing_value": QUARANTINE, "duplicate_row": QUARANTINE, "duplicate_key": QUARANTINE,
        "column_count": QUARANTINE, "unmatched_reversal": QUARANTINE, "bad_enum": NOTE,
        "local_code": NOTE,
    },
    "fee_details": {
        "orphan_fee_detail": QUARANTINE, "bad_trace_code": QUARANTINE,
        "fee_amount_mismatch": QUARANTINE, "missing_value": QUARANTINE,
        "duplicate_row": QUARANTINE, "column_count": QUARANTINE,
    },
}
"""table -> fault kind -> what the loader must do; :data:`_BY_COLUMN` refines by column."""
_BY_COLUMN: dict[tuple[str, str, str], str] = {
    ("persons", "missing_value", "psn_no"): QUARANTINE,
    ("institutions", "missing_value", "fixmedins_code"): QUARANTINE,
    ("practitioners", "missing_value", "dr_codg"): QUARANTINE,
    ("practitioners", "missing_value", "fixmedins_code"): QUARANTINE,
    ("settlements", "missing_value", "med_type"): NOTE,
    ("fee_details", "missing_value", "med_list_name"): NOTE,
}
"""Where the column decides: a missing key or reference quarantines, a missing description is
noted."""
FILE_KINDS = ("gbk_encoding", "chinese_headers", "utf8_bom", "xlsx_format")


def expect_of(table: str, kind: str, column: str | None) -> str:
    """What a loader must do with a fault of ``kind`` in ``table``'s ``column``:
    ``"quarantine"``, ``"note"`` or ``"normalise"``."""
    if kind in _NORMALISE or kind in FILE_KINDS:
        return NORMALISE
    if column is not None and (table, kind, column) in _BY_COLUMN:
        return _BY_COLUMN[(table, kind, column)]
    try:
        return _EXPECT[table][kind]
    except KeyError:
        raise KeyError(f"no expectation for fault {kind!r} in {table!r}") from None


def _kinds_expecting(expect: str) -> tuple[str, ...]:
    found = {k for rules in _EXPECT.values() for k, e in rules.items() if e == expect}
    found |= {k for (_, k, _), e in _BY_COLUMN.items() if e == expect}
    return tuple(sorted(found))


QUARANTINE_KINDS = _kinds_expecting(QUARANTINE)
"""Kinds that quarantine their row in some table or column."""
NOTE_KINDS = _kinds_expecting(NOTE)
"""Kinds that keep their row with a data-quality note in some table or column."""
NORMALISE_KINDS = _NORMALISE

_KINDS: dict[str, tuple[str, ...]] = {
    "persons": ("bad_check_digit", "certno_length", "unknown_division", "invalid_date",
                "date_out_of_range", "missing_value", "duplicate_row", "duplicate_key",
                "column_count", "bad_enum", "fullwidth_digits", "excel_serial_date",
                "alt_date_format", "padded_whitespace", "enum_label", "lowercase_x",
                "sci_notation_id"),
    "institutions": ("unknown_division", "missing_value", "duplicate_row", "bad_enum",
                     "padded_whitespace", "enum_label"),
    "practitioners": ("unknown_institution", "missing_value", "duplicate_row", "column_count",
                      "bad_enum", "padded_whitespace", "enum_label", "local_code"),
    "settlements": ("sci_notation_id", "unknown_person", "unknown_institution",
                    "amounts_mismatch", "invalid_date", "date_out_of_range", "missing_value",
                    "duplicate_row", "duplicate_key", "column_count", "bad_enum",
                    "unmatched_reversal", "fullwidth_digits", "thousands_separator",
                    "excel_serial_date", "alt_date_format", "padded_whitespace", "enum_label",
                    "local_code"),
    "fee_details": ("orphan_fee_detail", "bad_trace_code", "fee_amount_mismatch",
                    "missing_value", "duplicate_row", "column_count", "fullwidth_digits",
                    "thousands_separator", "padded_whitespace"),
}
"""The faults injected into each table (in this order, which the random draws follow)."""
_TABLE_SHARE = {"persons": 0.25, "institutions": 0.1, "practitioners": 0.1, "settlements": 0.35,
                "fee_details": 0.2}


@dataclass(frozen=True)
class Fault:
    """One fault as listed in ``faults.json``."""

    file: str
    row: int | None
    column: str | None
    fault: str
    expect: str


class FaultInjector:
    """Passes tables to their writers, adding faults when ``dirty``."""

    def __init__(self, run: _Run, *, dirty: bool) -> None:
        self.run = run
        self.dirty = dirty
        self.rows_written: dict[str, int] = {}
        self.faults: list[Fault] = []
        self.rng = run.rng("dirty")
        self.files: dict[str, str] = {}
        self._extra_setl = 0
        self._extra_person = 0
        self._extra_serial = 0
        self._extra_code = 0
        per_kind = max(3, round(run.scale / 50_000))
        n_chunks = len(run.chunks)
        self.quota: dict[str, dict[str, I64]] = {}
        for table, kinds in _KINDS.items():
            self.quota[table] = {}
            for kind in kinds:
                tables = [t for t, ks in _KINDS.items() if kind in ks]
                share = _TABLE_SHARE[table] / sum(_TABLE_SHARE[t] for t in tables)
                total = max(1, round(per_kind * share)) if len(tables) > 1 else per_kind
                if table in ("settlements", "fee_details"):
                    self.quota[table][kind] = self.rng.multinomial(
                        total, np.full(n_chunks, 1 / n_chunks))
                else:
                    self.quota[table][kind] = np.array([total])
        self._chunk = {"settlements": 0, "fee_details": 0}

    # -- layout --------------------------------------------------------------------------
    def layout(self, file_format: FileFormat) -> dict[str, tuple[FileFormat, str, bool, bool]]:
        """table -> (format, encoding, BOM, Chinese headers) of the three small tables."""
        if not self.dirty:
            return {t: (file_format, "utf-8", False, False)
                    for t in ("persons", "institutions", "practitioners")}
        return {"persons": ("csv", "gbk", False, True),
                "institutions": ("xlsx", "utf-8", False, False),
                "practitioners": ("csv", "utf-8", True, False)}

    # -- writing -------------------------------------------------------------------------
    def _write(self, table: str, writer: TableWriter, data: pa.Table, placed: Placed) -> None:
        name = writer.path.name
        self.files[table] = name
        events: list[tuple[int, int, int]] = []  # (row, order, index)
        for r in placed.raws:
            events.append((r, 0, r))
        for k, (after, _, _, _) in enumerate(placed.inserts):
            events.append((after, 1, k))
        events.sort()
        edited = sorted(placed.edits)
        data = self._apply_edits(data, placed.edits)
        cursor = 0

        def flush(upto: int) -> None:
            nonlocal cursor
            if upto <= cursor:
                return
            first_line = writer.rows + 2
            for r in edited:
                if cursor <= r < upto:
                    for column, _, kind in placed.edits[r]:
                        self._record(table, name, first_line + r - cursor, column, kind)
            writer.write(data.slice(cursor, upto - cursor))
            cursor = upto

        for row, order, index in events:
            if order == 0:
                flush(row)
                cells, column, kind = placed.raws[row]
                self._record(table, name, writer.rows + 2, column, kind)
                writer.write_row(cells)
                cursor = row + 1
            else:
                flush(row + 1)
                _, extra_cells, extra_column, extra_kind = placed.inserts[index]
                self._record(table, name, writer.rows + 2, extra_column, extra_kind)
                writer.write_row(extra_cells)
        flush(data.num_rows)
        self.rows_written[table] = writer.rows

    def _record(self, table: str, name: str, row: int, column: str | None, kind: str) -> None:
        self.faults.append(Fault(name, row, column, kind, expect_of(table, kind, column)))

    @staticmethod
    def _apply_edits(data: pa.Table, edits: dict[int, list[tuple[str, str | None, str]]]
                     ) -> pa.Table:
        by_column: dict[str, dict[int, str | None]] = {}
        for r, changes in edits.items():
            for column, text, _ in changes:
                by_column.setdefault(column, {})[r] = text
        for column, values in by_column.items():
            i = data.schema.get_field_index(column)
            rows = sorted(values)
            mask = np.zeros(data.num_rows, dtype=bool)
            mask[rows] = True
            replaced = pc.replace_with_mask(
                data.column(i).combine_chunks(), pa.array(mask),
                pa.array([values[r] for r in rows], type=pa.string()))
            data = data.set_column(i, column, replaced)
        return data

    # -- helpers -------------------------------------------------------------------------
    def take(self, table: str, kind: str) -> int:
        """How many faults of ``kind`` the current chunk of ``table`` gets (0 when clean)."""
        q = self.quota[table].get(kind)
        if q is None:
            return 0
        c = min(self._chunk.get(table, 0), len(q) - 1)
        return int(q[c]) if self.dirty else 0

    def pick(self, candidates: I64, used: set[int], k: int = 1) -> list[int]:
        """Up to ``k`` random rows of ``candidates`` not yet ``used`` (then marked used)."""
        if k <= 0:
            return []
        candidates = np.asarray(candidates, dtype=np.int64)
        free = candidates[~np.isin(candidates, np.fromiter(used, dtype=np.int64, count=len(used)))]
        if not len(free):
            return []
        chosen = self.rng.choice(free, size=min(k, len(free)), replace=False).tolist()
        used.update(chosen)
        return [int(c) for c in chosen]

    def after(self, n: int, at_least: int = -1) -> int:
        """A random row of the chunk (from ``at_least``) after which to insert an extra row."""
        return int(self.rng.integers(max(at_least, -1), n))

    def next_setl(self, base: int = 0) -> tuple[str, str]:
        """A fresh (setl_id, mdtrt_id) from counters above every real row (+ ``base``)."""
        counter = np.array([self.run.scale + base + self._extra_setl], dtype=np.int64)
        self._extra_setl += 1
        return str(setl_ids(counter)[0].as_py()), str(mdtrt_ids(counter)[0].as_py())

    def unknown_psn(self, city: str) -> str:
        n = len(self.run.world.persons) + 500_000 + self._extra_person
        self._extra_person += 1
        return city + str(lpad_digits(permute(np.array([n]), 1_103_515_245, 12_345_679), 14)[0])

    def new_psn(self, city: str) -> str:
        n = len(self.run.world.persons) + self._extra_person
        self._extra_person += 1
        return city + str(lpad_digits(permute(np.array([n]), 1_103_515_245, 12_345_679), 14)[0])

    def reserved_code(self, letter: str, county: str, base: int) -> str:
        self._extra_serial += 1
        return f"{letter}{county}{base + self._extra_serial:05d}"

    def reserved_staff_code(self, like: str) -> str:
        """A fresh practitioner code in the shape of ``like`` (``D`` + division + 5 or 6 digits,
        ``HY``/``HJ`` + division + 6 digits) with a serial from the reserved range."""
        letters = len(like) - len(like.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        prefix, county, serial = like[:letters], like[letters:letters + 6], like[letters + 6:]
        self._extra_serial += 1
        return f"{prefix}{county}{90_000 + self._extra_serial:0{len(serial)}d}"

    def local_staff_code(self) -> str:
        """A practitioner code in a local system's own shape (a job number, 工号)."""
        self._extra_serial += 1
        return f"GH{900_000 + self._extra_serial:06d}"

    # -- settlements ---------------------------------------------------------------------
    def settlements(self, writer: TableWriter, data: pa.Table, batch: Batch) -> None:
        """Write one chunk of settlements (with faults when dirty)."""
        placed = new_placed()
        if self.dirty:
            settlement_faults(self, data, batch, placed, writer)
        self._write("settlements", writer, data, placed)
        self._chunk["settlements"] += 1

    # -- fee details ---------------------------------------------------------------------
    def fee_details(self, writer: TableWriter, data: pa.Table, batch: Batch) -> None:
        """Write the fee details of one chunk (with faults when dirty)."""
        placed = new_placed()
        if self.dirty:
            fee_faults(self, data, batch, placed, writer)
        self._write("fee_details", writer, data, placed)
        self._chunk["fee_details"] += 1

    # -- persons, institutions, practitioners ---------------------------------------------
    def small_table(self, table: str, writer: TableWriter, data: pa.Table) -> None:
        """Write a whole small table (with faults when dirty)."""
        placed = new_placed()
        if self.dirty:
            {"persons": person_faults, "institutions": institution_faults,
             "practitioners": practitioner_faults}[table](self, data, placed, writer)
        self._write(table, writer, data, placed)

    # -- the end -------------------------------------------------------------------------
    def finish(self, out_dir: Path) -> int:
        """Write ``faults.json`` (dirty only) and return the number of faults listed."""
        if not self.dirty:
            return 0
        file_faults = [
            Fault(self.files["persons"], None, None, "gbk_encoding", "normalise"),
            Fault(self.files["persons"], None, None, "chinese_headers", "normalise"),
            Fault(self.files["practitioners"], None, None, "utf8_bom", "normalise"),
            Fault(self.files["institutions"], None, None, "xlsx_format", "normalise"),
        ]
        faults = file_faults + self.faults
        payload = [asdict(f) for f in faults]
        path = out_dir / "faults.json"
        tmp = path.with_name(path.name + ".part")
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(payload, fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        os.replace(tmp, path)
        return len(faults)

