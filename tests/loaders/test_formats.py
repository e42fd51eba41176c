"""Column formats: each accepted spelling stores the right typed value; a fault that would
corrupt results is quarantined on its row and column with the right reason; an unknown or oddly
shaped descriptive value keeps its row, stored as it came, with a data-quality note; every
reason names the value."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from loaders.contract import TABLES
from loaders.load import load_folder
from loaders.reasons import REASONS
from loaders.report import FileReport
from loaders.store import open_store


def _certno_with_x() -> str:
    for seq in range(1000):
        body = f"34120219800101{seq:03d}"
        from_tests = _check(body)
        if from_tests == "X":
            return body + "X"
    raise AssertionError("no X check digit in 1000 sequence numbers")


def _check(body17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    value = (12 - sum(int(d) * w for d, w in zip(body17, weights, strict=True)) % 11) % 11
    return "X" if value == 10 else str(value)


CERTNO = "341202198001011238"  # the first valid person's certno (check digit 8)
CERTNO_X = _certno_with_x()
TODAY = dt.date.today()

ACCEPTED: list[tuple[str, str, str, Any]] = [
    # IDs stay text: leading zeros kept, full-width digits and padding normalised
    ("persons", "psn_no", "00341200000001", "00341200000001"),
    ("persons", "psn_no", " 00341200000009 ", "00341200000009"),
    ("persons", "psn_no", "\t00341200000007\t", "00341200000007"),  # tab padding, ASCII
    ("persons", "insu_admdvs", "341202\t", "341202"),
    ("persons", "psn_no", "００３４１２０００００００５", "00341200000005"),
    ("institutions", "fixmedins_code", "Ｈ３４１２０００００１７", "H34120000017"),
    ("settlements", "setl_id", "０００１２３", "000123"),
    ("persons", "psn_name", "\u3000张三\u3000", "张三"),
    # certno: full-width digits, a lower-case check character
    ("persons", "certno", "３４１２０２１９８００１０１１２３８", CERTNO),
    ("persons", "certno", CERTNO_X.lower(), CERTNO_X),
    # enums: codes and their Chinese labels
    ("persons", "gend", "男", "1"),
    ("persons", "gend", "女", "2"),
    ("persons", "gend", "９", "9"),
    ("persons", "insutype", "城乡居民基本医疗保险", "390"),
    ("institutions", "fixmedins_type", "定点零售药店", "2"),
    ("institutions", "hosp_lv", "三级甲等", "02"),
    ("institutions", "hosp_lv", "", None),
    ("practitioners", "dr_type", "药师", "2"),
    ("settlements", "med_type", "普通门诊", "11"),
    # the labels real exports write: short hospital levels, letters for sex
    ("institutions", "hosp_lv", "三级", "3"),
    ("institutions", "hosp_lv", "二级", "2"),
    ("institutions", "hosp_lv", "未定级", "11"),
    ("institutions", "hosp_lv", "二甲", "05"),
    ("persons", "gend", "M", "1"),
    # dates in every accepted spelling, Excel serial numbers, full-width digits
    ("persons", "brdy", "1980-01-01", dt.date(1980, 1, 1)),
    ("persons", "brdy", "1980/01/01", dt.date(1980, 1, 1)),
    ("persons", "brdy", "19800101", dt.date(1980, 1, 1)),
    ("persons", "brdy", "1980.01.01", dt.date(1980, 1, 1)),
    ("persons", "brdy", "1980年01月01日", dt.date(1980, 1, 1)),
    ("persons", "brdy", "1980-01-01 00:00:00", dt.date(1980, 1, 1)),
    ("persons", "brdy", "29221", dt.date(1980, 1, 1)),
    ("persons", "brdy", "１９８０－０１－０１", dt.date(1980, 1, 1)),
    ("settlements", "begndate", "２０２４-03-05", dt.date(2024, 3, 5)),
    # Excel serials count days from 1899-12-30: 45292 is 2024-01-01, so 45322.4375 is
    # 2024-01-31 10:30 (the example, 45321.4375, is one day earlier: 2024-01-30)
    ("settlements", "setl_time", "45322.4375", dt.datetime(2024, 1, 31, 10, 30)),
    ("settlements", "setl_time", "45321.4375", dt.datetime(2024, 1, 30, 10, 30)),
    ("settlements", "begndate", "45356", dt.date(2024, 3, 5)),
    ("settlements", "setl_time", "2024/03/05 09:30", dt.datetime(2024, 3, 5, 9, 30)),
    ("settlements", "setl_time", "20240305093000", dt.datetime(2024, 3, 5, 9, 30)),
    ("settlements", "setl_time", "2024-03-05T09:30:00", dt.datetime(2024, 3, 5, 9, 30)),
    ("settlements", "setl_time", "2024年03月05日 09:30:00", dt.datetime(2024, 3, 5, 9, 30)),
    ("settlements", "setl_time", "2024-03-05", dt.datetime(2024, 3, 5)),
    ("settlements", "setl_time", "２０２４－０３－０５　０９：３０：００",
     dt.datetime(2024, 3, 5, 9, 30)),
    ("settlements", "setl_time", TODAY.isoformat(), dt.datetime.combine(TODAY, dt.time())),
    # phones, divisions (county, city and province codes), coordinates
    ("persons", "tel", "0558-2212345", "0558-2212345"),
    ("persons", "tel", "", None),
    ("persons", "insu_admdvs", "341200", "341200"),
    ("persons", "insu_admdvs", "340000", "340000"),
    ("persons", "insu_admdvs", "３４１２８２", "341282"),
    ("institutions", "lon", "１１５.８１", 115.81),
    ("institutions", "lat", " 32.9 ", 32.9),
    ("institutions", "lon", "", None),
    # codes
    ("settlements", "dise_codg", "I10.x00", "I10.x00"),
    ("settlements", "dr_codg", "", None),
    # national code formats: ICD-10 医保版 2.0 extensions, TCM, staff codes of 13 and 14
    ("settlements", "dise_codg", "C34.900x001", "C34.900x001"),
    ("settlements", "dise_codg", "J06.900x001", "J06.900x001"),
    ("settlements", "dise_codg", "A17.01.02", "A17.01.02"),
    ("settlements", "dise_codg", "BNG010", "BNG010"),
    ("settlements", "dr_codg", "D510105000123", "D510105000123"),
    ("settlements", "dr_codg", "N341202000077", "N341202000077"),
    ("practitioners", "dr_codg", "D341202000123", "D341202000123"),
    ("practitioners", "dr_codg", "HY341202000012", "HY341202000012"),
    ("practitioners", "dr_codg", "HJ341202000013", "HJ341202000013"),
    ("practitioners", "dr_codg", "Y341202000456", "Y341202000456"),
    ("fee_details", "bilg_dr_codg", "D341202000123", "D341202000123"),
    # operator and department, optional national columns
    ("settlements", "opter_id", "OP0012", "OP0012"),
    ("settlements", "opter_name", " 李收款 ", "李收款"),
    ("settlements", "dept_codg", "A03", "A03"),
    ("settlements", "dept_name", "内科", "内科"),
    # control characters in text are removed, never stored
    ("institutions", "fixmedins_name", "阜阳\x01市\x1f人民医院", "阜阳市人民医院"),
    ("persons", "psn_name", "张\x00三", "张三"),
    ("fee_details", "drug_trac_codg",
     " 81234560000000000001 ;81234560000000000002; ",
     "81234560000000000001;81234560000000000002"),
    ("fee_details", "drug_trac_codg", "", None),
]

REFUSED: list[tuple[str, str, str, str]] = [
    ("persons", "psn_no", "", "missing_value"),
    ("persons", "psn_no", "3.41202E+17", "id_as_number"),
    ("persons", "psn_no", "341200000001.0", "id_as_number"),
    ("persons", "psn_no", "p-1", "bad_format"),
    ("institutions", "fixmedins_code", "H3.41E+10", "bad_format"),
    ("institutions", "fixmedins_code", "3.4120000017E+10", "id_as_number"),
    ("practitioners", "dr_codg", "D-1", "bad_format"),
    ("settlements", "setl_id", "1.23E+5", "id_as_number"),
    ("settlements", "setl_time", "2024-02-30 10:00:00", "bad_date"),
    ("settlements", "setl_time", "1999-12-31 23:59:59", "date_out_of_range"),
    ("settlements", "setl_time", "", "missing_value"),
    ("settlements", "begndate", (TODAY + dt.timedelta(days=2)).isoformat(), "date_out_of_range"),
    ("settlements", "begndate", "2024-03-06", "dates_reversed"),
    ("fee_details", "drug_trac_codg", "8123456000000000000", "bad_trace_code"),
    ("fee_details", "drug_trac_codg", "81234560000000000001;8.12345600000000E+19",
     "bad_trace_code"),
    ("fee_details", "med_list_codg", "阿莫西林", "bad_format"),
    ("fee_details", "cnt", "两盒", "bad_number"),
    ("fee_details", "pric", "25.0000001", "bad_number"),
]

NOTED: list[tuple[str, str, str, str, Any]] = [
    # descriptive fields: the row is stored with the value as it came, and a note says why
    ("persons", "psn_name", " \u3000 ", "missing_value", None),
    ("persons", "certno", CERTNO[:17], "certno_length", CERTNO[:17]),
    ("persons", "certno", CERTNO[:17] + "Y", "certno_format", CERTNO[:17] + "Y"),
    ("persons", "certno", CERTNO[:17] + "0", "certno_check_digit", CERTNO[:17] + "0"),
    ("persons", "certno", "3.41202198E+17", "certno_length", "3.41202198E+17"),
    ("persons", "certno", "341202198013011230", "certno_birthdate", "341202198013011230"),
    ("persons", "gend", "3", "unknown_code", "3"),
    ("persons", "gend", "X", "unknown_code", "X"),
    ("persons", "brdy", "1980-02-30", "bad_date", None),
    ("persons", "brdy", "01/01/1980", "bad_date", None),
    ("persons", "brdy", "1899-12-31", "date_out_of_range", dt.date(1899, 12, 31)),
    ("persons", "brdy", "1980-01-02", "brdy_mismatch", dt.date(1980, 1, 2)),
    ("persons", "insutype", "31", "unknown_code", "31"),
    ("persons", "insu_admdvs", "110000", "unknown_division", "110000"),
    ("persons", "insu_admdvs", "341282.0", "unknown_division", "341282.0"),
    ("persons", "insu_admdvs", "34128", "unknown_division", "34128"),
    ("persons", "tel", "1380000123", "bad_phone", "1380000123"),
    ("persons", "tel", "12800001234", "bad_phone", "12800001234"),
    ("institutions", "fixmedins_code", "h34120000017", "nonstandard_code", "h34120000017"),
    ("institutions", "fixmedins_code", "H3412000001", "nonstandard_code", "H3412000001"),
    ("institutions", "fixmedins_name", "", "missing_value", None),
    ("institutions", "hosp_lv", "甲等", "unknown_code", "甲等"),
    ("institutions", "hosp_lv", "2", "unknown_code", "2"),  # 02 without its zero, or 二级?
    ("institutions", "admdvs", "999999", "unknown_division", "999999"),
    ("institutions", "lon", "32.89", "coord_out_of_range", None),
    ("institutions", "lat", "115.81", "coord_out_of_range", None),
    ("institutions", "lat", "北纬32度", "bad_number", None),
    ("institutions", "lon", "nan", "coord_out_of_range", None),
    ("practitioners", "dr_codg", "X34120000123", "nonstandard_code", "X34120000123"),
    ("practitioners", "dr_codg", "DOC0042", "nonstandard_code", "DOC0042"),
    ("practitioners", "dr_type", "5", "unknown_code", "5"),
    ("settlements", "med_type", "1", "unknown_code", "1"),
    ("settlements", "med_type", "9901", "unknown_code", "9901"),
    ("settlements", "dise_codg", "j06.900", "nonstandard_code", "j06.900"),
    ("settlements", "dise_codg", "感冒", "nonstandard_code", "感冒"),
    ("settlements", "dr_codg", "D3412000012", "nonstandard_code", "D3412000012"),
    ("settlements", "dr_codg", "1.23E+12", "id_as_number", "1.23E+12"),
    ("fee_details", "bilg_dr_codg", "D-1", "bad_format", "D-1"),
    ("fee_details", "med_list_name", "", "missing_value", None),
]

# reasons whose message quotes the refused value itself
_QUOTES_VALUE = {
    code for code, r in REASONS.items() if "{value}" in r.zh and "{value}" in r.en
}


# Every case is one row of one file per table (so a table's cases cost one load): row j+2
# holds case j, a copy of the table's first valid row with its own key and the case's value.
_KEYS: dict[str, Callable[[int], dict[str, str]]] = {
    "persons": lambda j: {"psn_no": f"PSN{j:05d}"},
    "institutions": lambda j: {"fixmedins_code": f"H9900000{j:04d}"},
    "practitioners": lambda j: {"dr_codg": f"D9900000{j:04d}"},
    "settlements": lambda j: {"setl_id": f"SX{j:06d}"},
    "fee_details": lambda j: {"feedetl_sn": f"FX{j:04d}"},
}
_CASES = [(t, c, raw) for t, c, raw, _ in ACCEPTED + REFUSED] + [
    (t, c, raw) for t, c, raw, _, _ in NOTED
]
assert len(set(_CASES)) == len(_CASES)
_ROW = {
    case: 2 + [c for c in _CASES if c[0] == case[0]].index(case) for case in _CASES
}


@dataclass(frozen=True)
class _Batch:
    report: FileReport
    quarantine: dict[int, dict[str, Any]]
    notes: dict[int, list[dict[str, Any]]]
    stored: list[dict[str, Any]]
    rows: list[dict[str, str]]


@pytest.fixture(scope="module")
def batches(tmp_path_factory: pytest.TempPathFactory, tiny: Any) -> dict[str, _Batch]:
    out = {}
    for table in TABLES:
        # every contract column, the optional ones the tiny rows leave out included
        template = {c: "" for c in TABLES[table].column_names} | tiny.rows(table)[table][0]
        rows = [
            {**template, **_KEYS[table](j), column: raw}
            for j, (t, column, raw) in enumerate(c for c in _CASES if c[0] == table)
        ]
        root = tmp_path_factory.mktemp(table)
        folder = tiny.write_folder(root / "export", {**tiny.rows(*tiny.NEEDS[table]), table: rows})
        with open_store(root / "store.duckdb") as store:
            report = tiny.file_report(load_folder(folder, store), table)
            quarantine = {q["row_no"]: q for q in tiny.quarantine(store, table)}
            notes: dict[int, list[dict[str, Any]]] = {}
            for note in tiny.notes(store, table):
                notes.setdefault(note["row_no"], []).append(note)
            out[table] = _Batch(report, quarantine, notes, tiny.records(store, table), rows)
    return out


def test_every_case_is_accounted_for(batches: dict[str, _Batch]) -> None:
    for table, batch in batches.items():
        r = batch.report
        assert r.rows_in == len(batch.rows), table
        assert r.quarantined == len([c for c in REFUSED if c[0] == table]), table
        noted = len([c for c in NOTED if c[0] == table])
        assert r.inserted == len([c for c in ACCEPTED if c[0] == table]) + noted, table
        assert r.noted == noted, table


@pytest.mark.parametrize(("table", "column", "raw", "expected"), ACCEPTED)
def test_accepted_values_are_stored_typed(
    batches: dict[str, _Batch], table: str, column: str, raw: str, expected: Any
) -> None:
    batch = batches[table]
    row_no = _ROW[(table, column, raw)]

    assert row_no not in batch.quarantine, batch.quarantine.get(row_no)
    assert row_no not in batch.notes, batch.notes.get(row_no)
    written = batch.rows[row_no - 2]
    key = {k: (expected if k == column else written[k]) for k in TABLES[table].key}
    (row,) = [r for r in batch.stored if all(r[k] == v for k, v in key.items())]
    assert row[column] == expected
    assert type(row[column]) is type(expected)


@pytest.mark.parametrize(("table", "column", "raw", "code"), REFUSED)
def test_refused_values_are_quarantined_with_their_reason(
    batches: dict[str, _Batch], table: str, column: str, raw: str, code: str
) -> None:
    q = batches[table].quarantine[_ROW[(table, column, raw)]]

    assert q["file"] == f"{table}.csv"
    assert q["reason_code"] == code
    if code not in ("dates_reversed", "brdy_mismatch"):  # checks across columns
        assert q["column_name"] == column
        assert q["raw_value"] == (raw or None)
    assert q["reason_zh"]
    assert q["reason_en"]
    if code in _QUOTES_VALUE and q["raw_value"]:
        assert q["raw_value"] in q["reason_zh"]
        assert q["raw_value"] in q["reason_en"]
    assert "{" not in q["reason_zh"] + q["reason_en"]  # every placeholder filled


@pytest.mark.parametrize(("table", "column", "raw", "code", "expected"), NOTED)
def test_noted_values_keep_their_row_with_a_note(
    batches: dict[str, _Batch], table: str, column: str, raw: str, code: str, expected: Any
) -> None:
    batch = batches[table]
    row_no = _ROW[(table, column, raw)]
    assert row_no not in batch.quarantine, batch.quarantine.get(row_no)

    notes = batch.notes[row_no]
    # an odd birth date is also one that the ID number does not hold
    assert {n["reason_code"] for n in notes} <= {code, "brdy_mismatch"}, notes
    (note,) = [n for n in notes if n["reason_code"] == code]
    assert note["file"] == f"{table}.csv"
    if code != "brdy_mismatch":  # a check across columns
        assert note["column_name"] == column
        assert note["raw_value"] == (raw or None)
    if code in _QUOTES_VALUE and note["raw_value"]:
        assert note["raw_value"] in note["reason_zh"]
        assert note["raw_value"] in note["reason_en"]
    assert "{" not in note["reason_zh"] + note["reason_en"]
    written = batch.rows[row_no - 2]
    key = {k: (expected if k == column else written[k]) for k in TABLES[table].key}
    (row,) = [r for r in batch.stored if all(r[k] == v for k, v in key.items())]
    assert row[column] == expected
    assert note["row_key"] == "/".join(str(row[k]) for k in TABLES[table].key)


def test_one_bad_value_costs_one_row(tmp_path: Path, tiny: Any) -> None:
    report, quarantine, stored = tiny.load_changed(tmp_path, "persons", {"psn_no": "p-1"})
    assert (report.rows_in, report.inserted, report.quarantined) == (3, 2, 1)
    assert report.reasons == {"bad_format": 1}
    (q,) = quarantine
    assert (q["row_no"], q["column_name"], q["raw_value"]) == (2, "psn_no", "p-1")
    assert [r["psn_no"] for r in stored] == ["00341200000002", "00341200000003"]


def test_one_odd_descriptive_value_costs_nothing(tmp_path: Path, tiny: Any) -> None:
    report, quarantine, stored = tiny.load_changed(tmp_path, "persons", {"gend": "3"})
    assert (report.rows_in, report.inserted, report.quarantined, report.noted) == (3, 3, 0, 1)
    assert report.notes == {"unknown_code": 1}
    assert report.noted_columns == {"gend": 1}
    assert quarantine == []
    assert [r["gend"] for r in stored] == ["3", "2", "1"]


def test_check_digit_reason_gives_the_expected_digit(tmp_path: Path, tiny: Any) -> None:
    wrong = CERTNO[:17] + "0"
    tiny.load_changed(tmp_path, "persons", {"certno": wrong})
    with open_store(tmp_path / "store.duckdb") as store:
        (q,) = tiny.notes(store, "persons")
    assert q["reason_en"] == (
        f"certno '{wrong}' has a wrong check digit (GB 11643 gives 8): check for a typo"
    )
    assert "应为 8" in q["reason_zh"]


def test_bad_trace_code_reason_names_the_bad_code(tmp_path: Path, tiny: Any) -> None:
    codes = "81234560000000000001;812345600000000000XY"
    _, (q,), _ = tiny.load_changed(tmp_path, "fee_details", {"drug_trac_codg": codes})
    assert q["raw_value"] == codes
    assert "812345600000000000XY" in q["reason_en"]
    assert "812345600000000000XY" in q["reason_zh"]


def test_enum_reason_lists_the_accepted_codes(tmp_path: Path, tiny: Any) -> None:
    tiny.load_changed(tmp_path, "institutions", {"hosp_lv": "4"})
    with open_store(tmp_path / "store.duckdb") as store:
        (q,) = tiny.notes(store, "institutions")
    assert "hosp_lv: 01/02/03/04/05/06/07/08/09/10/11" in q["reason_en"]
    assert "leading zero" in q["reason_en"]
    assert "--codes" in q["reason_en"]
    assert "代码映射文件" in q["reason_zh"]


def test_trace_codes_are_split_into_their_own_table(tmp_path: Path, tiny: Any) -> None:
    codes = " 81234560000000000001 ;81234560000000000002; "
    tiny.load_changed(tmp_path, "fee_details", {"drug_trac_codg": codes})
    with open_store(tmp_path / "store.duckdb") as store:
        rows = tiny.stored(store, "trace_codes", "drug_trac_codg, setl_id, feedetl_sn")
    assert rows == [
        ("81234560000000000001", "S000000001", "F0001"),
        ("81234560000000000002", "S000000001", "F0001"),
        ("81234560000000000003", "S000000003", "F0003"),
    ]


def test_normalised_values_are_counted_per_column(tmp_path: Path, tiny: Any) -> None:
    report, _, _ = tiny.load_changed(
        tmp_path, "persons",
        {"psn_no": "００３４１２０００００００１", "gend": "男", "brdy": "29221"},
    )
    assert report.normalised == {"psn_no": 1, "gend": 1, "brdy": 1}


def test_excel_serial_datetimes_match_openpyxl(tmp_path: Path, tiny: Any) -> None:
    """Excel serial numbers (days since 1899-12-30, fraction = time of day) read as Excel does;
    openpyxl's own conversion is the independent oracle."""
    import random

    from openpyxl.utils.datetime import from_excel

    rng = random.Random(7)
    serials = [f"{rng.randint(36526, 45600)}.{rng.randint(0, 86399) * 10**6 // 86400:06d}"
               for _ in range(40)] + ["45292", "45292.5", "45322.4375"]
    rows = tiny.rows("institutions", "persons", "settlements")
    template = rows["settlements"][0]
    rows["settlements"] = [
        {**template, "setl_id": f"S{i:09d}", "setl_time": serial, "begndate": "", "enddate": ""}
        for i, serial in enumerate(serials)
    ]
    folder = tiny.write_folder(tmp_path / "export", rows)
    with open_store(tmp_path / "store.duckdb") as store:
        report = load_folder(folder, store)
        stored = dict(store.con.execute("SELECT setl_id, setl_time FROM settlements").fetchall())
    assert tiny.file_report(report, "settlements").inserted == len(serials)
    for i, serial in enumerate(serials):
        expected = from_excel(float(serial))
        got = stored[f"S{i:09d}"]
        assert abs((got - expected).total_seconds()) <= 0.5, (serial, got, expected)
    assert stored["S000000042"] == dt.datetime(2024, 1, 31, 10, 30)
