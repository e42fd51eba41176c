"""Property-based tests: hypothesis throws tables of mostly valid rows, mutated with dirty
values, at the loader of every table, in every format and encoding.

Each record is built from one of the table's valid rows, with its own key, and then:

* left clean, or given *harmless* dirt that must be normalised away (full-width digits,
  padding, Chinese labels, thousands separators, other date spellings, Excel serial dates);
* given *faulty* dirt: in a column whose faults corrupt results (keys, references, amounts,
  dates of a settlement, trace codes) it must send the row to quarantine (a huge amount, an
  unknown reference, a duplicate, a wrong number of fields ...); in a descriptive column (a
  code, a check digit, a name, a division) the row must load, stored as it came, with a
  data-quality note on that column;
* given random unicode somewhere (the outcome is not predicted, only accounted for).

Blank lines, quoted commas, quotes and line breaks, CRLF, BOMs and GBK come on top. The
properties: the load never raises; per file ``rows_in`` is the number of records written and
``rows_in == inserted + unchanged + quarantined``; every quarantined row and every note has a
known reason with both texts; the rows refused, noted and loaded are exactly the planted ones
(where the dirt says so); loaded rows hold the typed values of the row they came from; and
loading the folder again inserts nothing and adds no quarantine row and no note.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.contract import TABLES, Column, Kind, Severity
from loaders.load import load_folder
from loaders.reasons import REASONS
from loaders.store import Store, open_store

_EXAMPLES = 25
_FULL = str.maketrans(
    "0123456789.-:/ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    "０１２３４５６７８９．－：／ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
    "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ",
)
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_KEYS = {
    "persons": lambda i: {"psn_no": f"PSN{i:05d}"},
    "institutions": lambda i: {"fixmedins_code": f"H9900000{i:04d}"},
    "practitioners": lambda i: {"dr_codg": f"D9900000{i:04d}"},
    "settlements": lambda i: {"setl_id": f"SX{i:06d}", "mdtrt_id": f"MX{i:06d}"},
    "fee_details": lambda i: {"feedetl_sn": f"FX{i:04d}"},
}
_REFERENCES = {  # a value that exists nowhere, for each reference column
    "psn_no": "PSN99999", "fixmedins_code": "H99999999999", "setl_id": "SX999999",
}
_AMOUNTS = ("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay")


@dataclass
class Record:
    """One data record of the file, and what the loader must do with it."""

    cells: list[str]
    expect: str  # "load", "refuse" or "any"
    template: int = -1  # the valid row it came from
    key: tuple[str, ...] = ()  # normalised key; () when unknown
    keep: set[str] = field(default_factory=set)  # columns whose stored value is predictable
    raw: bool = False  # cells written as they are (a wrong number of fields)
    row_no: int = 0
    noted: set[str] = field(default_factory=set)  # columns that must carry a note if loaded


# --- values ----------------------------------------------------------------------------------


def _faulty(col: Column, value: str) -> list[str]:
    """Values of ``col`` that are faults of its :class:`Severity` in any row."""
    kind = col.kind
    out: list[str] = []
    if not col.nullable:
        out += ["", "   "]
    if kind is Kind.ID and col.severity is Severity.NOTE:
        out += ["1.23E+5", "341200000001.0"]  # digits lost to a spreadsheet
        if col.formats or not re.fullmatch(col.pattern or ".+", "LOCAL-07"):
            out.append("LOCAL-07")  # not a national shape
    elif kind is Kind.ID:
        out += ["1.23E+5", "341200000001.0", "?"]
    elif kind is Kind.CERTNO:
        wrong = str((int(value[17]) + 1) % 10) if value[17].isdigit() else "0"
        out += [value[:17] + wrong, value[:16], "3.41202198E+17"]
    elif kind is Kind.PHONE:
        out += ["12345", "电话"]
    elif kind is Kind.ENUM:
        out += ["?", "9" * 3, "本地标签"]
    elif kind is Kind.DATE:
        out += ["2024-02-30", "1800-01-01", "3024-01-01", "昨天"]
    elif kind is Kind.DATETIME:
        out += ["2024-02-30 10:00:00", "1999-12-31 23:59:59", "2024-03-05 25:00:00"]
    elif kind is Kind.AMOUNT:
        out += ["1" * 20, "12abc", "1,2,3", "¥10", "1.00001"]
    elif kind is Kind.NUMBER:
        out += ["1" * 13, "abc", "1.0000001"]
    elif kind is Kind.DIVISION:
        out += ["999999", "11000", "341200.0"]
    elif kind is Kind.COORD:
        out += ["200", "-1", "东经"]
    elif kind is Kind.CODE_LIST:
        out += ["123", "81234560000000000001;x", "8.1234560000000E+19"]
    return out


def _excel_serial(value: str, kind: Kind) -> str:
    if kind is Kind.DATE:
        return str((dt.date.fromisoformat(value) - dt.date(1899, 12, 30)).days)
    moment = dt.datetime.fromisoformat(value)
    return repr((moment - dt.datetime(1899, 12, 30)).total_seconds() / 86400)


def _nonstandard(col: Column) -> list[str]:
    """Values of an ID column with national formats that keep the row, noted."""
    return ["LOCAL0042", "x-1234"] if col.formats and col.kind is Kind.ID else []


def _harmless(col: Column, value: str) -> list[str]:
    """Spellings of ``value`` that must load as the same typed value."""
    if not value:
        return []
    kind = col.kind
    out = [value.translate(_FULL)] if kind not in (Kind.TEXT, Kind.NAME) else []
    if kind in (Kind.ID, Kind.DIVISION, Kind.COORD, Kind.CERTNO):
        out.append(f" {value}\t")
    elif kind in (Kind.TEXT, Kind.NAME):
        out.append(f"\u3000{value} ")
    elif kind is Kind.ENUM:
        out += [label for label, code in col.labels if code == value]
    elif kind is Kind.DATE:
        day = dt.date.fromisoformat(value)
        out += [day.strftime(f) for f in ("%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d")]
        out.append(_excel_serial(value, kind))
    elif kind is Kind.DATETIME:
        moment = dt.datetime.fromisoformat(value)
        out += [moment.strftime(f) for f in ("%Y/%m/%d %H:%M:%S", "%Y%m%d%H%M%S",
                                              "%Y-%m-%dT%H:%M:%S")]
        out.append(_excel_serial(value, kind))
    elif kind in (Kind.AMOUNT, Kind.NUMBER):
        number = Decimal(value)
        out.append(f"{number:,.4f}" if kind is Kind.AMOUNT else f"{number:,.6f}")
        out.append(f"{number:.2f}" if number == number.quantize(Decimal("0.01")) else value)
    elif kind is Kind.CODE_LIST:
        out.append(" ; ".join(value.split(";")) + " ;")
    return out


_TEXT_DIRT_VALUES = [",", '"', "\n", "\r\n", "'", "，", '""', "\t", "|", ";", "\\"]
_ANY_TEXT = st.text(max_size=12)


# --- records ---------------------------------------------------------------------------------


def _records(data: st.DataObject, table: str, templates: list[dict[str, str]],
             fmt: str) -> list[Record | None]:
    """Draw the records of a file; ``None`` is a blank line (an empty sheet row)."""
    columns = TABLES[table].columns
    names = [c.name for c in columns]
    key_cols = TABLES[table].key
    text_cols = [c for c in columns if c.kind in (Kind.TEXT, Kind.NAME)]
    references = {r[0] for r in TABLES[table].references}
    out: list[Record | None] = []
    loaded: list[Record] = []
    reversed_: set[int] = set()
    n = data.draw(st.integers(1, 7), label="rows")
    for i in range(n):
        t = data.draw(st.integers(0, len(templates) - 1), label="template")
        row = {**templates[t], **_KEYS[table](i)}
        clean = dict(row)
        status: dict[str, str] = {}  # column -> the dirt it got (each column at most once)
        for _ in range(data.draw(st.integers(0, 3), label="mutations")):
            how = data.draw(st.sampled_from(["harmless", "harmless", "refuse", "any", "text",
                                             "reference", "empty", "nonstandard"]), label="how")
            free = [c for c in columns if c.name not in status]
            candidates = {
                "text": [c for c in free if c in text_cols],
                "reference": [c for c in free if c.name in references],
                "empty": [c for c in free if c.nullable],
                "nonstandard": [c for c in free if _nonstandard(c) and c.name not in references],
            }.get(how, free)
            if not candidates:
                continue
            col = data.draw(st.sampled_from(candidates), label="column")
            value = row[col.name]
            choices = {
                "harmless": _harmless(col, value),
                "refuse": _faulty(col, value),
                "nonstandard": [f"{v}{i:03d}" for v in _nonstandard(col)],  # keys stay unique
                "text": [value + dirt + "x" for dirt in _TEXT_DIRT_VALUES],
                "reference": [_REFERENCES.get(col.name, value)],
                "empty": [""],
            }.get(how, [])
            if how == "any":
                row[col.name] = data.draw(_ANY_TEXT, label="unicode")
            elif choices:
                row[col.name] = data.draw(st.sampled_from(choices), label="value")
            else:
                continue
            if how == "reference":
                how = "refuse"
            elif how == "nonstandard" or (how == "refuse" and col.severity is Severity.NOTE):
                how = "note"
            status[col.name] = how
        outcomes = set(status.values())
        expect = ("refuse" if "refuse" in outcomes
                  else "any" if outcomes & {"any", "empty"} else "load")
        keep = set() if expect == "refuse" else (
            set(names) - {"init_setl_id"} - set(_KEYS[table](i))
            - {c for c, how in status.items() if how in ("any", "empty", "text", "note")}
        )
        # a birth date that is odd (or unreadable) also differs from the one in the ID number
        noted = {c for c, how in status.items() if how == "note"}
        key = tuple(clean[k] for k in key_cols)
        if any(status.get(k, "harmless") != "harmless" for k in key_cols):
            key = ()  # a key cell was changed: where the row goes is not checked by key
        rec = Record([row[c] for c in names], expect, t, key, keep, noted=noted)
        out.append(rec)
        if expect == "load":
            loaded.append(rec)
        if fmt != "parquet" and data.draw(st.booleans(), label="blank"):
            out.append(None)
    # dirt across rows: duplicates, reversals and returns, a wrong number of fields
    for _ in range(data.draw(st.integers(0, 3), label="extras")):
        extra = data.draw(st.sampled_from(["exact", "key", "fields", "negative"]),
                          label="extra")
        if extra in ("exact", "key") and loaded:
            original = data.draw(st.sampled_from(loaded), label="original")
            cells = list(original.cells)
            if extra == "key":
                tc = names.index({"persons": "psn_name", "institutions": "fixmedins_name",
                                  "practitioners": "dr_name", "settlements": "dise_codg",
                                  "fee_details": "med_list_name"}[table])
                cells[tc] = "Z99.9" if table == "settlements" else cells[tc] + "另"
            out.append(Record(cells, "refuse"))
        elif extra == "fields" and fmt != "parquet":
            base = [*templates[0].values()]
            if fmt == "csv" and data.draw(st.booleans()):
                cells = base[: data.draw(st.integers(2, len(base) - 1))]
            else:
                cells = [*base, data.draw(st.sampled_from(["x", "备注", "1"]))]
            out.append(Record(cells, "refuse", raw=True))
        elif extra == "negative" and table in ("settlements", "fee_details") and loaded:
            original = data.draw(st.sampled_from(loaded), label="original")
            row = dict(zip(names, original.cells, strict=True))
            i = n + len(out)
            if table == "settlements":
                good = data.draw(st.booleans(), label="reversal")
                if good and id(original) in reversed_:
                    continue  # a settlement is reversed once; a second would be refused
                if good:
                    reversed_.add(id(original))
                row["setl_id"] = f"SX{i:06d}"
                amounts = _AMOUNTS if good else ("psn_cash_pay", "medfee_sumamt")
                for a in amounts:
                    value = Decimal(templates[original.template][a])
                    if value:
                        row[a] = str(-value)
                if not good and all(Decimal(templates[original.template][a]) == 0
                                    for a in ("psn_cash_pay", "medfee_sumamt")):
                    continue
                rec = Record([row[c] for c in names], "load" if good else "refuse", key=(
                    row["setl_id"],), noted=set(original.noted))
            else:
                row["feedetl_sn"] = f"FX{i:04d}"
                for a in ("cnt", "det_item_fee_sumamt"):
                    value = Decimal(templates[original.template][a])
                    row[a] = str(-value)
                rec = Record([row[c] for c in names], "load", noted=set(original.noted))
            out.insert(data.draw(st.integers(0, len(out)), label="at"), rec)
    return out


# --- files -----------------------------------------------------------------------------------


def _write(folder: Path, table: str, records: list[Record | None], fmt: str, encoding: str,
           newline: str, header_zh: bool) -> tuple[Path, str]:
    """Write the file; set each record's row number; return the path and the encoding used."""
    columns = TABLES[table].columns
    header = [c.label_zh if header_zh else c.name for c in columns]
    path = folder / f"{table}.{fmt}"
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator=newline)
        writer.writerow(header)
        line = 2
        for rec in records:
            if rec is None:
                buf.write(newline)
                line += 1
                continue
            rec.row_no = line
            start = buf.tell()
            writer.writerow(rec.cells)
            line += buf.getvalue()[start:].count("\n")
        text = buf.getvalue()
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            encoding = "gb18030"  # GBK's superset, as a Chinese Excel would fall back to
            data = text.encode(encoding)
        path.write_bytes(data)
        return path, encoding
    if fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.append(header)
        for sheet_row, rec in enumerate(records, start=2):
            if rec is None:
                ws.append([])  # an empty sheet row: no record, but it takes a row number
                continue
            rec.row_no = sheet_row
            ws.append([_XLSX_ILLEGAL.sub("", c) or None for c in rec.cells])
            if any(_XLSX_ILLEGAL.search(c) for c in rec.cells):
                rec.expect = "any" if rec.expect == "load" else rec.expect
                rec.keep = set()
        wb.save(path)
        return path, ""
    import pyarrow as pa
    import pyarrow.parquet as pq

    kept = [r for r in records if r is not None]
    for i, rec in enumerate(kept):
        rec.row_no = i + 1
    pq.write_table(pa.table({
        name: pa.array([r.cells[j] for r in kept], pa.string())
        for j, name in enumerate(header)
    }), path)
    return path, ""


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def parents(tmp_path_factory: pytest.TempPathFactory, tiny: Any) -> dict[str, Path]:
    """Per table, a closed store holding the valid rows of the tables it refers to."""
    out = {}
    for table in TABLES:
        root = tmp_path_factory.mktemp(f"parents_{table}")
        db = root / "store.duckdb"
        with open_store(db) as store:
            needs = tiny.NEEDS[table]
            if needs:
                load_folder(tiny.write_folder(root / "export", tiny.rows(*needs)), store)
        out[table] = db
    return out


@pytest.fixture(scope="module")
def typed(tmp_path_factory: pytest.TempPathFactory, tiny: Any) -> dict[str, list[dict[str, Any]]]:
    """The typed values each valid row loads as, in the order of ``tiny.rows``."""
    root = tmp_path_factory.mktemp("typed")
    rows = tiny.rows()
    with open_store(root / "store.duckdb") as store:
        load_folder(tiny.write_folder(root / "export", rows), store)
        out = {}
        for table, table_rows in rows.items():
            stored = tiny.records(store, table)
            key = TABLES[table].key
            out[table] = [
                next(s for s in stored if all(s[k] == r[k] for k in key)) for r in table_rows
            ]
    return out


@dataclass(frozen=True)
class _Example:
    folder: Path
    store: Store


@contextmanager
def _example(parent_db: Path) -> Iterator[_Example]:
    """A fresh store (a copy of the parents' store) and an export folder, for one example."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        shutil.copyfile(parent_db, root / "store.duckdb")
        with open_store(root / "store.duckdb") as store:
            yield _Example(root / "export", store)


# --- the property ----------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("table", list(TABLES))
@settings(max_examples=_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_dirty_rows_are_loaded_or_quarantined_never_lost(
    parents: dict[str, Path], typed: dict[str, list[dict[str, Any]]], tiny: Any,
    table: str, data: st.DataObject,
) -> None:
    fmt = data.draw(st.sampled_from(["csv", "csv", "csv", "xlsx", "parquet"]), label="format")
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "gbk"]), label="encoding")
    newline = data.draw(st.sampled_from(["\n", "\r\n"]), label="newline")
    header_zh = encoding == "gbk" or data.draw(st.booleans(), label="chinese header")
    # every contract column, the optional ones the tiny rows leave out as empty cells
    templates = [{c: "" for c in TABLES[table].column_names} | t for t in tiny.rows(table)[table]]
    records = _records(data, table, templates, fmt)
    written = [r for r in records if r is not None]

    with _example(parents[table]) as ex:
        ex.folder.mkdir()
        _, used = _write(ex.folder, table, records, fmt, encoding, newline, header_zh)
        assert ex.store.table_counts()[table] == ex.store.table_counts()["quarantine"] == 0

        report = load_folder(ex.folder, ex.store)  # never raises for row-level dirt

        (fr,) = report.files
        assert fr.rows_in == len(written)
        assert fr.rows_in == fr.inserted + fr.unchanged + fr.quarantined
        assert fr.unchanged == 0
        if fmt == "csv":
            # GBK files have Chinese headers, which are never valid UTF-8
            assert fr.encoding == {"utf-8": "utf-8", "utf-8-sig": "utf-8-sig"}.get(
                used, "gb18030")
        quarantine = tiny.quarantine(ex.store, table)
        assert len(quarantine) == fr.quarantined
        for q in quarantine:
            assert q["reason_code"] in REASONS
            assert q["reason_zh"]
            assert q["reason_en"]
            assert q["file"] == f"{table}.{fmt}"
        refused = {q["row_no"] for q in quarantine}
        assert len(refused) == len(quarantine)  # one entry per row
        assert refused <= {r.row_no for r in written}
        notes = tiny.notes(ex.store, table)
        noted: dict[int, set[str]] = {}
        for note in notes:
            assert note["reason_code"] in REASONS
            assert note["reason_zh"]
            assert note["reason_en"]
            assert note["file"] == f"{table}.{fmt}"
            noted.setdefault(note["row_no"], set()).add(note["column_name"])
        assert not set(noted) & refused  # a note belongs to a stored row
        assert len(noted) == fr.noted
        for rec in written:
            if rec.expect == "refuse":
                assert rec.row_no in refused, (rec, quarantine)
            elif rec.expect == "load":
                assert rec.row_no not in refused, (rec, quarantine)
                # exactly the planted notes (a birth date may also contradict the ID number)
                got = noted.get(rec.row_no, set())
                assert rec.noted <= got <= rec.noted | {"brdy"}, (rec, notes)

        stored = tiny.records(ex.store, table)
        assert len(stored) == fr.inserted
        key_cols = TABLES[table].key
        names = TABLES[table].column_names
        by_key = {tuple(s[k] for k in key_cols): s for s in stored}
        for rec in written:
            if rec.key and rec.row_no not in refused:
                assert rec.key in by_key, rec
                row = by_key[rec.key]
                want = typed[table][rec.template] if rec.template >= 0 else {}
                for column in rec.keep:
                    assert row[column] == want[column], (column, rec)
                # a noted value is stored as it came (codes and other text kept as text)
                for column in rec.noted if rec.expect == "load" else ():
                    cell = rec.cells[names.index(column)].strip()
                    kind = TABLES[table].column(column).kind
                    if cell and kind in (Kind.ID, Kind.ENUM, Kind.DIVISION, Kind.PHONE):
                        assert row[column] == cell, (column, rec)

        # the same folder again: nothing new, no quarantine row repeated
        again = load_folder(ex.folder, ex.store)
        (fr2,) = again.files
        assert (fr2.rows_in, fr2.inserted, fr2.unchanged, fr2.quarantined) == (
            fr.rows_in, 0, fr.inserted, fr.quarantined
        )
        assert tiny.quarantine(ex.store, table) == quarantine
        assert tiny.notes(ex.store, table) == notes
        assert sorted(tiny.records(ex.store, table), key=repr) == sorted(stored, key=repr)
