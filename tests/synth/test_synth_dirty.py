"""The dirty copy: faults sit exactly where ``faults.json`` says, and nothing else changed.

The files are re-read raw (CSV lines, Excel cells) and each listed cell is checked for its fault.
Then the listed quarantine and note rows (extra rows) are dropped and the listed normalise cells
are normalised by an independent implementation here: what remains must equal the clean set
(same seed) row by row. The noted rows carry fresh keys that nothing refers to, so a loader that
keeps them stores the clean data plus those rows.
"""

from __future__ import annotations

import csv
import json
import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from synth_helpers import SynthSet

from loaders.contract import TABLES, Kind
from yibao.divisions import is_known_division
from yibao.synth import SynthSummary, synthesize
from yibao.synth._code_tables import (
    ICD_PATTERN,
    LEGACY_STAFF_PATTERN,
    NATIONAL_STAFF_PATTERN,
    TCM_PATTERN,
)
from yibao.synth.dirty import (
    FILE_KINDS,
    NORMALISE_KINDS,
    NOTE_KINDS,
    QUARANTINE_KINDS,
    expect_of,
)

Rows = list[list[Any]]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_FULLWIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_ENCODING = {"persons": "gbk", "practitioners": "utf-8-sig"}


def _check_ok(certno: str) -> bool:
    total = sum(int(d) * w for d, w in zip(certno[:17], _WEIGHTS, strict=True))
    return certno[17] == "10X98765432"[total % 11]


def _read(path: Path, table: str) -> tuple[list[str], Rows]:
    """Header and data rows; row i of the list is physical row i + 2 (header = 1)."""
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
        rows = [list(r) for r in sheet.to_python(skip_empty_area=False)]
        while rows and all(v in (None, "") for v in rows[-1]):
            rows.pop()
        width = len(rows[0])
        return [str(h) for h in rows[0]], [
            [v if v is not None else "" for v in r] + [""] * (width - len(r)) for r in rows[1:]]
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        data = pq.read_table(path)
        cols = [c.to_pylist() for c in data.columns]
        return data.column_names, [[v if v is not None else "" for v in r]
                                   for r in zip(*cols, strict=True)]
    text = path.read_bytes().decode(_ENCODING.get(table, "utf-8"))
    lines = text.split("\n")
    assert lines[-1] == ""
    parsed = [next(csv.reader([line])) for line in lines[:-1]]
    codes = {c.label_zh: c.name for c in TABLES[table].columns}
    return [codes.get(h, h) for h in parsed[0]], parsed[1:]


def _faults(folder: Path) -> list[dict[str, Any]]:
    data = json.loads((folder / "faults.json").read_text(encoding="utf-8"))
    assert isinstance(data, list)
    return data


def _table_of(name: str) -> str:
    return name.rsplit(".", 1)[0]


@pytest.fixture(scope="module")
def dirty(dirty_folder: tuple[Path, SynthSummary]) -> dict[str, Any]:
    folder, summary = dirty_folder
    files = {t: p.name for t, p in summary.files.items()}
    read = {t: _read(folder / name, t) for t, name in files.items()}
    return {"folder": folder, "summary": summary, "files": files, "read": read,
            "faults": _faults(folder)}


def test_faults_json_lists_every_kind(dirty: dict[str, Any]) -> None:
    faults = dirty["faults"]
    kinds = [f["fault"] for f in faults]
    row_kinds = set(QUARANTINE_KINDS) | set(NOTE_KINDS) | set(NORMALISE_KINDS)
    assert set(kinds) == row_kinds | set(FILE_KINDS)
    for kind in row_kinds:
        assert kinds.count(kind) >= 3, kind
    for f in faults:
        assert set(f) == {"file", "row", "column", "fault", "expect"}
        assert f["expect"] == expect_of(_table_of(f["file"]), f["fault"], f["column"])
        assert (f["row"] is None) == (f["fault"] in FILE_KINDS)
    expects = {f["expect"] for f in faults}
    assert expects == {"quarantine", "note", "normalise"}
    for table in ("persons", "institutions", "practitioners", "settlements"):
        of_table = {f["expect"] for f in faults if _table_of(f["file"]) == table}
        assert {"quarantine", "note"} <= of_table, table
    rows = [(f["file"], f["row"]) for f in faults if f["row"] is not None]
    assert len(rows) == len(set(rows)), "one fault per row"
    assert dirty["summary"].faults == len(faults)


def test_file_level_faults(dirty: dict[str, Any]) -> None:
    folder: Path = dirty["folder"]
    assert dirty["files"]["persons"] == "persons.csv"
    raw = (folder / "persons.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    header = raw.decode("gbk").split("\n")[0]
    assert header.split(",")[0] == '"人员编号"'
    assert (folder / "practitioners.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    assert dirty["files"]["institutions"] == "institutions.xlsx"
    assert dirty["files"]["settlements"] == "settlements.csv"


def _is_number(text: str) -> bool:
    return re.fullmatch(r"\d+(\.\d+)?", text) is not None


def _yuan(text: str) -> float:
    return float(text)


def _check_cell(kind: str, column: str | None, row: list[Any], header: list[str],
                earlier: Rows, dirty: dict[str, Any], table: str) -> None:
    value = row[header.index(column)] if column and len(row) == len(header) else None
    clean_ids = dirty["ids"]
    if kind == "bad_check_digit":
        assert len(value) == 18
        assert not _check_ok(value)
    elif kind == "certno_length":
        assert len(value) != 18
    elif kind == "sci_notation_id":
        assert re.fullmatch(r"\d\.\d+E\+\d+", value)
    elif kind == "unknown_division":
        assert re.fullmatch(r"\d{6}", value)
        assert not is_known_division(value)
    elif kind == "unknown_person":
        assert value not in clean_ids["persons"]
    elif kind == "unknown_institution":
        assert value not in clean_ids["institutions"]
    elif kind == "amounts_mismatch":
        get = {c: _yuan(row[header.index(c)]) for c in (
            "medfee_sumamt", "fund_pay_sumamt", "acct_pay", "psn_cash_pay")}
        assert abs(get["fund_pay_sumamt"] + get["acct_pay"] + get["psn_cash_pay"]
                   - get["medfee_sumamt"]) > 0.01
    elif kind == "invalid_date":
        with pytest.raises(ValueError, match=r"out of range|must be in"):
            date.fromisoformat(value[:10])
    elif kind == "date_out_of_range":
        assert not 1900 <= int(value[:4]) <= 2030
    elif kind == "missing_value":
        assert value == ""
        assert not TABLES[table].column(column).nullable
    elif kind == "duplicate_row":
        assert row in earlier
    elif kind == "duplicate_key":
        key = TABLES[table].key
        same = [r for r in earlier if all(r[header.index(k)] == row[header.index(k)]
                                          for k in key)]
        assert same
        assert row not in earlier
    elif kind == "column_count":
        assert len(row) != len(header)
    elif kind == "bad_enum":
        assert value not in TABLES[table].column(column).choices
    elif kind == "orphan_fee_detail":
        assert value not in clean_ids["settlements"]
    elif kind == "bad_trace_code":
        assert any(not re.fullmatch(r"\d{20}", c) for c in value.split(";"))
    elif kind == "fee_amount_mismatch":
        cnt, pric = float(row[header.index("cnt")]), float(row[header.index("pric")])
        assert abs(cnt * pric - _yuan(value)) > 0.005
    elif kind == "unmatched_reversal":
        assert _yuan(row[header.index("medfee_sumamt")]) < 0
        assert value not in clean_ids["settlements"]
    elif kind == "fullwidth_digits":
        assert re.search("[０-９]", value)
    elif kind == "thousands_separator":
        assert re.fullmatch(r"-?\d{1,3}(,\d{3})+\.\d{2}", value)
    elif kind == "excel_serial_date":
        assert isinstance(value, datetime) or _is_number(value)
    elif kind == "alt_date_format":
        assert "/" in value or re.fullmatch(r"\d{8}", value)
    elif kind == "padded_whitespace":
        assert value != value.strip()
    elif kind == "enum_label":
        col = TABLES[table].column(column)
        assert value in dict(col.labels)
    elif kind == "lowercase_x":
        assert value.endswith("x")
    elif kind == "local_code" and column == "dise_codg":
        assert value
        assert not re.fullmatch(ICD_PATTERN, value)
        assert not re.fullmatch(TCM_PATTERN, value)
    elif kind == "local_code":
        assert re.fullmatch(r"[0-9A-Za-z]{4,40}", value), "an identifier, in a local shape"
        assert not re.fullmatch(NATIONAL_STAFF_PATTERN, value)
        assert not re.fullmatch(LEGACY_STAFF_PATTERN, value)
    else:  # pragma: no cover - a new kind needs a check here
        pytest.fail(f"no check for {kind}")


def test_each_fault_is_where_it_is_listed(dirty: dict[str, Any], clean: SynthSet) -> None:
    dirty["ids"] = {
        "persons": set(clean["persons"]["psn_no"]),
        "institutions": set(clean["institutions"]["fixmedins_code"]),
        "settlements": set(clean["settlements"]["setl_id"]),
    }
    for f in dirty["faults"]:
        if f["row"] is None:
            continue
        table = _table_of(f["file"])
        header, rows = dirty["read"][table]
        row = rows[f["row"] - 2]
        _check_cell(f["fault"], f["column"], row, header, rows[: f["row"] - 2], dirty, table)


def _normalise(kind: str, column: str, value: Any, table: str) -> str:
    if kind == "padded_whitespace":
        return str(value).strip()
    if kind == "fullwidth_digits":
        return str(value).translate(_FULLWIDTH)
    if kind == "thousands_separator":
        return str(value).replace(",", "")
    if kind == "lowercase_x":
        return str(value).upper()
    if kind == "enum_label":
        return dict(TABLES[table].column(column).labels)[value]
    if kind == "excel_serial_date":
        if isinstance(value, datetime):
            return (value + timedelta(microseconds=500_000)).replace(microsecond=0).isoformat(" ")
        when = datetime(1899, 12, 30) + timedelta(days=float(value))
        if TABLES[table].column(column).kind == Kind.DATE:
            return when.date().isoformat()
        return (when + timedelta(microseconds=500_000)).replace(microsecond=0).isoformat(" ")
    if kind == "alt_date_format":
        text = str(value)
        if re.fullmatch(r"\d{8}", text):
            return f"{text[:4]}-{text[4:6]}-{text[6:]}"
        day, _, clock = text.partition(" ")
        y, m, d = (int(x) for x in day.split("/"))
        out = date(y, m, d).isoformat()
        if clock:
            hh, mm, ss = (int(x) for x in clock.split(":"))
            out += f" {hh:02d}:{mm:02d}:{ss:02d}"
        return out
    raise AssertionError(kind)


@pytest.mark.parametrize("table", ["persons", "institutions", "practitioners", "settlements",
                                   "fee_details"])
def test_dirty_minus_faults_is_the_clean_set(dirty: dict[str, Any], clean: SynthSet,
                                             table: str) -> None:
    header, rows = dirty["read"][table]
    assert len(header) == len(TABLES[table].columns)
    name = dirty["files"][table]
    listed = {f["row"]: f for f in dirty["faults"] if f["file"] == name and f["row"]}
    kept: Rows = []
    for i, row in enumerate(rows):
        fault = listed.get(i + 2)
        if fault and fault["expect"] in ("quarantine", "note"):
            continue
        if fault:
            col = header.index(fault["column"]) if fault["column"] in header else \
                TABLES[table].column_names.index(fault["column"])
            row = list(row)
            row[col] = _normalise(fault["fault"], fault["column"], row[col], table)
        kept.append([str(v) for v in row])
    expected = clean[table].astype(str).to_numpy().tolist()
    assert len(kept) == len(expected)
    assert kept == expected


def test_normalise_faults_spare_the_planted_rows(dirty: dict[str, Any], clean: SynthSet) -> None:
    truth = clean.truth["scenarios"]
    planted = {
        "settlements": {i for s in truth for i in s["setl_ids"]},
        "persons": {p for s in truth for p in s["persons"]},
        "institutions": {i for s in truth for i in s["institutions"]},
        "practitioners": {d for s in truth for d in s["practitioners"]},
    }
    key_column = {"settlements": "setl_id", "persons": "psn_no",
                  "institutions": "fixmedins_code", "practitioners": "dr_codg",
                  "fee_details": "setl_id"}
    planted["fee_details"] = planted["settlements"]
    touched = 0
    for f in dirty["faults"]:
        if f["row"] is None or f["fault"] == "duplicate_row":
            continue
        table = _table_of(f["file"])
        header, rows = dirty["read"][table]
        key = str(rows[f["row"] - 2][header.index(key_column[table])]).strip()
        if f["expect"] == "normalise" or f["fault"] == "duplicate_key":
            assert key not in planted[table], f
            touched += 1
    assert touched


_KEY = {"persons": "psn_no", "institutions": "fixmedins_code", "practitioners": "dr_codg",
        "settlements": "setl_id"}
_REFERRED = {"persons": [("settlements", "psn_no")],
             "institutions": [("settlements", "fixmedins_code"),
                              ("practitioners", "fixmedins_code")],
             "practitioners": [("settlements", "dr_codg"), ("fee_details", "bilg_dr_codg")],
             "settlements": [("fee_details", "setl_id"), ("settlements", "init_setl_id")]}


def test_noted_rows_are_extra_rows_referenced_by_nothing(dirty: dict[str, Any],
                                                         clean: SynthSet) -> None:
    """A kept (noted) row adds itself to the store and changes nothing else: a fresh key that
    no clean row has and no clean row refers to, in no scenario."""
    noted = [f for f in dirty["faults"] if f["expect"] == "note"]
    assert noted
    truth = clean.truth["scenarios"]
    planted = {i for s in truth for k in ("persons", "institutions", "practitioners", "setl_ids")
               for i in s[k]}
    for f in noted:
        table = _table_of(f["file"])
        assert table in _KEY, f
        header, rows = dirty["read"][table]
        row = rows[f["row"] - 2]
        key = str(row[header.index(_KEY[table])])
        assert key, f
        assert key not in set(clean[table][_KEY[table]]), f
        assert key not in planted
        for other, column in _REFERRED[table]:
            assert key not in set(clean[other][column]), (f, other, column)
    keys = [(f["file"], str(dirty["read"][_table_of(f["file"])][1][f["row"] - 2][
        dirty["read"][_table_of(f["file"])][0].index(_KEY[_table_of(f["file"])])]))
            for f in noted]
    assert len(keys) == len(set(keys)), "each noted row has a key of its own"


@pytest.mark.slow
@pytest.mark.parametrize("file_format", ["parquet", "xlsx"])
def test_faults_in_parquet_and_xlsx_sit_at_their_rows(tmp_path: Path, clean: SynthSet,
                                                      file_format: str) -> None:
    summary = synthesize(tmp_path, scale=10_000, seed=7, dirty=True,
                         file_format=file_format)  # type: ignore[arg-type]
    faults = _faults(tmp_path)
    read = {t: _read(p, t) for t, p in summary.files.items()}
    ids = {"persons": {r[0] for r in read["persons"][1]},
           "institutions": {r[0] for r in read["institutions"][1]},
           "settlements": {r[0] for r in read["settlements"][1]}}
    state = {"ids": ids}
    seen = set()
    for f in faults:
        table = _table_of(f["file"])
        if f["row"] is None or table not in ("settlements", "fee_details"):
            continue
        assert f["file"].endswith(file_format)
        header, rows = read[table]
        row = rows[f["row"] - 2]
        _check_cell(f["fault"], f["column"], row, header, rows[: f["row"] - 2], state, table)
        seen.add(f["fault"])
    assert "column_count" not in seen, "only CSV rows can have a wrong number of fields"
    if file_format == "xlsx":
        serial = [f for f in faults if f["fault"] == "excel_serial_date"
                  and f["file"] == "settlements.xlsx"]
        assert serial
        header, rows = read["settlements"]
        assert all(isinstance(rows[f["row"] - 2][header.index("setl_time")], datetime)
                   for f in serial), "a real Excel date cell"
