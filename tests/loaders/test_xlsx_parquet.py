"""Excel and Parquet files: typed cells become the text a CSV export would hold, so the same
table loads the same from every format; numbers where IDs belong are caught."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from loaders.contract import TABLES
from loaders.load import load_files, load_folder
from loaders.store import Store, open_store
from yibao.errors import DataFileError

_COLUMNS = ["psn_no", "psn_name", "certno", "gend", "brdy", "insutype", "insu_admdvs", "tel"]


def _stored_without_load_id(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for table in TABLES:
        cols = ", ".join(f'"{c.name}"' for c in TABLES[table].columns)
        out[table] = sorted(store.con.execute(f"SELECT {cols} FROM {table}").fetchall(), key=repr)
    return out


def test_every_format_stores_the_same_rows(tmp_path: Path, tiny: Any) -> None:
    stored = {}
    for fmt in ("csv", "xlsx", "parquet"):
        with open_store(tmp_path / f"{fmt}.duckdb") as store:
            report = load_folder(tiny.write_folder(tmp_path / fmt, fmt=fmt), store)
            assert {f.file_format for f in report.files} == {fmt}
            assert (report.inserted, report.quarantined) == (14, 0)
            stored[fmt] = _stored_without_load_id(store)
    assert stored["xlsx"] == stored["csv"]
    assert stored["parquet"] == stored["csv"]


def test_typed_excel_cells(tmp_path: Path, store: Store, tiny: Any) -> None:
    p = tiny.rows("persons")["persons"]
    sheet = [
        ["人员编号", "姓名", "身份证号", "性别", "出生日期", "险种", "参保地", "手机号"],
        # text cells, as a careful export writes them
        [p[0][c] for c in _COLUMNS],
        # typed cells: a real date, an integer division, a numeric enum and phone
        [p[1]["psn_no"], p[1]["psn_name"], p[1]["certno"], 2, dt.date(1955, 12, 31), 390,
         341282, 13900001111],
        # an Excel serial date as a plain number
        [p[2]["psn_no"], p[2]["psn_name"], p[2]["certno"], "1", 36585.0, "390", "310104",
         None],
    ]
    path = tiny.write_xlsx(tmp_path / "persons.xlsx", sheet)

    report = load_files({"persons": path}, store)

    assert (report.files[0].inserted, report.files[0].quarantined) == (3, 0)
    assert tiny.stored(store, "persons", "psn_no, gend, brdy, insutype, insu_admdvs, tel") == [
        ("00341200000001", "1", dt.date(1980, 1, 1), "310", "341202", "13800001234"),
        ("00341200000002", "2", dt.date(1955, 12, 31), "390", "341282", "13900001111"),
        ("00341200000003", "1", dt.date(2000, 2, 29), "390", "310104", None),
    ]


def test_excel_datetimes_and_amount_cells(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows("institutions", "persons")
    folder = tiny.write_folder(tmp_path / "export", rows)
    s = tiny.rows("settlements")["settlements"]
    cols = list(s[0])
    typed = []
    for r in s:
        cells: list[Any] = [r[c] for c in cols]
        cells[cols.index("setl_time")] = dt.datetime.fromisoformat(r["setl_time"])
        for name in ("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay"):
            cells[cols.index(name)] = float(r[name])
        typed.append(cells)
    typed[0][cols.index("setl_time")] = 45322.4375  # a serial number cell
    tiny.write_xlsx(folder / "settlements.xlsx", [cols, *typed])

    report = load_folder(folder, store)

    assert tiny.file_report(report, "settlements").quarantined == 0
    assert tiny.stored(store, "settlements", "setl_id, setl_time, medfee_sumamt") == [
        ("S000000001", dt.datetime(2024, 1, 31, 10, 30), Decimal(150)),
        ("S000000002", dt.datetime(2024, 3, 12, 16, 0), Decimal("8000.5")),
        ("S000000003", dt.datetime(2024, 4, 1, 10, 15), Decimal("66.6")),
    ]


def test_ids_excel_turned_into_numbers_are_caught(tmp_path: Path, store: Store, tiny: Any) -> None:
    p = tiny.rows("persons")["persons"]
    sheet: list[list[Any]] = [_COLUMNS]
    sheet.append([p[0][c] for c in _COLUMNS])
    sheet.append([341200000000000002, *[p[1][c] for c in _COLUMNS[1:]]])  # 18 digits: a float
    sheet.append([p[2]["psn_no"], p[2]["psn_name"], int(p[2]["certno"][:17] + "0")]
                 + [p[2][c] for c in _COLUMNS[3:]])
    path = tiny.write_xlsx(tmp_path / "persons.xlsx", sheet)

    load_files({"persons": path}, store)

    (got,) = [(q["row_no"], q["column_name"], q["reason_code"], q["raw_value"])
              for q in tiny.quarantine(store)]
    assert got == (3, "psn_no", "id_as_number", "3.412e+17")
    assert "Excel" in tiny.quarantine(store)[0]["reason_en"]
    (note,) = tiny.notes(store)  # a mangled ID number keeps the person, noted
    assert (note["row_no"], note["column_name"], note["reason_code"]) == (
        4, "certno", "certno_length"
    )
    assert re.fullmatch(r"3\.10104200002\d*e\+17", note["raw_value"])  # 15 digits kept


def test_only_the_first_sheet_is_read(tmp_path: Path, store: Store, tiny: Any) -> None:
    from openpyxl import Workbook

    p = tiny.rows("persons")["persons"]
    wb = Workbook()
    first = wb.active
    first.append(_COLUMNS)
    first.append([p[0][c] for c in _COLUMNS])
    other = wb.create_sheet("说明")
    other.append(["this sheet is not data"])
    path = tmp_path / "persons.xlsx"
    wb.save(path)
    report = load_files({"persons": path}, store)
    assert report.files[0].inserted == 1


def test_empty_first_sheet_is_refused(tmp_path: Path, store: Store, tiny: Any) -> None:
    path = tiny.write_xlsx(tmp_path / "persons.xlsx", [])
    with pytest.raises(DataFileError, match="the first sheet is empty: put the header in row 1"):
        load_files({"persons": path}, store)


def test_typed_parquet_columns(tmp_path: Path, store: Store, tiny: Any) -> None:
    table = pa.table({
        "psn_no": pa.array(["00341200000001", "00341200000002"]),
        "psn_name": pa.array(["张三", "李四"]),
        "certno": pa.array([tiny.certno(), tiny.certno("341282", "19551231", "042")]),
        "gend": pa.array([1, 2], pa.int64()),
        "brdy": pa.array([dt.date(1980, 1, 1), dt.date(1955, 12, 31)], pa.date32()),
        "insutype": pa.array([310, 390], pa.int32()),
        "insu_admdvs": pa.array([341202, 341282], pa.int64()),
        "tel": pa.array([None, "13800001234"]),
    })
    path = tmp_path / "persons.parquet"
    pq.write_table(table, path)

    report = load_files({"persons": path}, store)

    assert (report.files[0].inserted, report.files[0].quarantined) == (2, 0)
    assert report.files[0].encoding is None
    assert tiny.stored(store, "persons", "psn_no, gend, brdy, insutype, tel") == [
        ("00341200000001", "1", dt.date(1980, 1, 1), "310", None),
        ("00341200000002", "2", dt.date(1955, 12, 31), "390", "13800001234"),
    ]


def test_parquet_numbers_where_codes_belong(tmp_path: Path, store: Store, tiny: Any) -> None:
    inst = tiny.rows("institutions")["institutions"]
    table = pa.table({
        "fixmedins_code": pa.array([r["fixmedins_code"] for r in inst]),
        "fixmedins_name": pa.array([r["fixmedins_name"] for r in inst]),
        "fixmedins_type": pa.array([1, 2], pa.int64()),
        "hosp_lv": pa.array([2, None], pa.int64()),  # '02' lost its leading zero
        "admdvs": pa.array(["341202", "341282"]),
        "lon": pa.array([115.81, None], pa.float64()),
        "lat": pa.array([32.89, None], pa.float64()),
    })
    path = tmp_path / "institutions.parquet"
    pq.write_table(table, path)

    load_files({"institutions": path}, store)

    assert tiny.quarantine(store) == []
    (q,) = tiny.notes(store)  # kept as it came, not guessed to be 02 or 二级
    assert (q["row_no"], q["column_name"], q["raw_value"], q["reason_code"]) == (
        1, "hosp_lv", "2", "unknown_code"
    )
    assert "leading zero" in q["reason_en"]
    assert tiny.stored(store, "institutions", "fixmedins_code, hosp_lv, lon") == [
        ("H34120000017", "2", 115.81), ("P34120000025", None, None)
    ]


def test_unreadable_parquet_is_refused(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "persons.parquet"
    path.write_bytes(b"PAR1 broken")
    with pytest.raises(DataFileError, match=r"persons\.parquet: cannot read the Parquet file"):
        load_files({"persons": path}, store)
