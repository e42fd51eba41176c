"""Row numbers are what the user sees: the physical line of a CSV (header = line 1), counting
blank lines, rejected lines and lines inside quoted fields; the sheet row of an Excel file."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loaders.load import load_files
from loaders.store import Store, open_store

COLUMNS = ["psn_no", "psn_name", "certno", "gend", "brdy", "insutype", "insu_admdvs", "tel"]
HEADER = ",".join(COLUMNS)


def _person(tiny: Any, i: int, **changes: str) -> dict[str, str]:
    row: dict[str, str] = {**tiny.rows("persons")["persons"][0], "psn_no": f"P{i:06d}"}
    row.update(changes)
    return row


def _line(row: dict[str, str]) -> str:
    return str(row and ",".join(_quote(row[c]) for c in COLUMNS))


def _quote(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _load_text(tmp_path: Path, store: Store, text: str) -> list[tuple[int, str]]:
    path = tmp_path / "persons.csv"
    path.write_bytes(text.encode("utf-8"))
    report = load_files({"persons": path}, store)
    fr = report.files[0]
    assert fr.rows_in == fr.inserted + fr.unchanged + fr.quarantined
    return [(q["row_no"], q["reason_code"]) for q in _quarantine(store)]


def _quarantine(store: Store) -> list[dict[str, Any]]:
    return store.quarantine_frame().to_dict("records")  # type: ignore[return-value]


def test_blank_lines_count(tmp_path: Path, store: Store, tiny: Any) -> None:
    lines = [HEADER, "", _line(_person(tiny, 1)), "", "", _line(_person(tiny, 2, psn_no="#bad")),
             _line(_person(tiny, 3)), "", ""]
    assert _load_text(tmp_path, store, "\n".join(lines)) == [(6, "bad_format")]


def test_crlf_blank_lines_count(tmp_path: Path, store: Store, tiny: Any) -> None:
    lines = [HEADER, _line(_person(tiny, 1)), "", _line(_person(tiny, 2, psn_no="#bad")), ""]
    assert _load_text(tmp_path, store, "\r\n".join(lines)) == [(4, "bad_format")]


def test_no_final_newline(tmp_path: Path, store: Store, tiny: Any) -> None:
    text = HEADER + "\n" + _line(_person(tiny, 1, psn_no="#bad"))
    assert _load_text(tmp_path, store, text) == [(2, "bad_format")]


def test_rejected_lines_count(tmp_path: Path, store: Store, tiny: Any) -> None:
    short = ",".join(_person(tiny, 9)[c] for c in COLUMNS[:5])
    lines = [HEADER, short, "", _line(_person(tiny, 1)), short,
             _line(_person(tiny, 2, psn_no="#bad")), "   ", _line(_person(tiny, 3, psn_no="#bad"))]
    assert _load_text(tmp_path, store, "\n".join(lines) + "\n") == [
        (2, "column_count"),
        (5, "column_count"),
        (6, "bad_format"),
        (7, "column_count"),
        (8, "bad_format"),
    ]


def test_a_line_with_too_many_fields_is_rejected(tmp_path: Path, store: Store, tiny: Any) -> None:
    """An unquoted comma shifts the fields: the row must be refused, not cut to fit."""
    row = _person(tiny, 1)
    lines = [HEADER, _line(_person(tiny, 2)), _line(row) + ",extra", _line(_person(tiny, 3))]
    assert _load_text(tmp_path, store, "\n".join(lines) + "\n") == [(3, "column_count")]
    (q,) = _quarantine(store)
    assert q["raw_value"] == _line(row) + ",extra"
    assert "P000001" not in [r[0] for r in tiny.stored(store, "persons", "psn_no")]


def test_quoted_line_breaks_count(tmp_path: Path, store: Store, tiny: Any) -> None:
    lines = [
        HEADER,
        _line(_person(tiny, 1, psn_name="张\n三")),  # lines 2-3
        _line(_person(tiny, 2, psn_no="#bad")),  # line 4
        _line(_person(tiny, 3, psn_name="李\r\n\n四", psn_no="#bad")),  # lines 5-7
        _line(_person(tiny, 4, psn_no="#bad")),  # line 8
    ]
    assert _load_text(tmp_path, store, "\n".join(lines) + "\n") == [
        (4, "bad_format"), (5, "bad_format"), (8, "bad_format"),
    ]
    assert ("P000001", "张\n三") in tiny.stored(store, "persons", "psn_no, psn_name")


def test_quoted_line_breaks_before_rejected_lines(tmp_path: Path, store: Store, tiny: Any) -> None:
    short = ",".join(_person(tiny, 9)[c] for c in COLUMNS[:5])
    lines = [
        HEADER,
        "",
        short,  # line 3
        _line(_person(tiny, 1, psn_name="张\n三")),  # lines 4-5
        short,  # line 6
        _line(_person(tiny, 2, psn_no="#bad")),  # line 7
    ]
    assert _load_text(tmp_path, store, "\n".join(lines) + "\n") == [
        (3, "column_count"), (6, "column_count"), (7, "bad_format"),
    ]


def test_stray_quote_in_an_unquoted_value(tmp_path: Path, store: Store, tiny: Any) -> None:
    """A lone quote inside a value is text to the reader: it must not shift later rows."""
    raw = _line(_person(tiny, 1)).replace("张三", '张"三')
    lines = [HEADER, raw, _line(_person(tiny, 2)), _line(_person(tiny, 3, psn_no="#bad"))]
    assert _load_text(tmp_path, store, "\n".join(lines) + "\n") == [(4, "bad_format")]


def test_unpaired_opening_quote(tmp_path: Path, store: Store, tiny: Any) -> None:
    raw = _line(_person(tiny, 1)).replace("张三", '"张三')
    lines = [HEADER, raw, "", _line(_person(tiny, 2)), _line(_person(tiny, 3, psn_no="#bad"))]
    got = _load_text(tmp_path, store, "\n".join(lines) + "\n")
    assert got[-1] == (5, "bad_format")


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["lf", "crlf"])
def test_stray_carriage_return_costs_its_line_only(
    tmp_path: Path, store: Store, tiny: Any, newline: str
) -> None:
    """A lone CR outside quotes is no line break to the user (nor to our numbering), but the
    CSV reader cannot parse it: that line is quarantined, the others load."""
    stray = _line(_person(tiny, 2)).replace("张三", "张\r三")  # unquoted
    lines = [HEADER, _line(_person(tiny, 1)), stray, _line(_person(tiny, 3)),
             _line(_person(tiny, 4, psn_no="#bad"))]
    got = _load_text(tmp_path, store, newline.join(lines) + newline)
    assert got == [(3, "unparseable_row"), (5, "bad_format")]
    q = _quarantine(store)[0]
    assert q["raw_value"] == stray
    assert "carriage return" in q["reason_en"]
    assert [r[0] for r in tiny.stored(store, "persons", "psn_no")] == ["P000001", "P000003"]


def test_carriage_return_inside_quotes_is_a_value(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    lines = [HEADER, _line(_person(tiny, 1, psn_name="张\r三")),
             _line(_person(tiny, 2, psn_no="#bad"))]
    assert _load_text(tmp_path, store, "\n".join(lines) + "\n") == [(3, "bad_format")]
    assert ("P000001", "张\r三") in tiny.stored(store, "persons", "psn_no, psn_name")


def test_duplicate_reason_names_the_first_line(tmp_path: Path, store: Store, tiny: Any) -> None:
    row = _line(_person(tiny, 1))
    _load_text(tmp_path, store, "\n".join([HEADER, "", row, "", row]) + "\n")
    (q,) = _quarantine(store)
    assert (q["row_no"], q["reason_code"]) == (5, "duplicate_row")
    assert q["reason_en"] == "exact duplicate of row 3: remove the duplicate"


def test_excel_rows_are_sheet_rows(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = [
        COLUMNS,
        [_person(tiny, 1)[c] for c in COLUMNS],  # sheet row 2
        [None] * len(COLUMNS),  # 3: empty
        [None] * len(COLUMNS),  # 4: empty
        [_person(tiny, 2, psn_no="#bad")[c] for c in COLUMNS],  # 5
        [*[_person(tiny, 3)[c] for c in COLUMNS], None, "stray"],  # 6: a value past the header
        [_person(tiny, 4, psn_no="#bad")[c] for c in COLUMNS],  # 7
    ]
    path = tiny.write_xlsx(tmp_path / "persons.xlsx", rows)

    report = load_files({"persons": path}, store)

    fr = report.files[0]
    assert (fr.rows_in, fr.inserted, fr.quarantined) == (4, 1, 3)
    got = [(q["row_no"], q["reason_code"]) for q in _quarantine(store)]
    assert got == [(5, "bad_format"), (6, "extra_cells"), (7, "bad_format")]


def test_parquet_rows_are_record_numbers(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = [_person(tiny, i) for i in range(1, 5)]
    rows[2]["psn_no"] = "#bad"
    path = tiny.write_table(tmp_path, "persons", rows, fmt="parquet")
    load_files({"persons": path}, store)
    assert [(q["row_no"], q["reason_code"]) for q in _quarantine(store)] == [(3, "bad_format")]


# --- property: any mix of good, bad, blank, rejected and multi-line rows ----------------------

_ITEMS = st.sampled_from(
    ["good", "bad", "blank", "short", "long", "spaces", "multiline", "multiline_bad", "stray_cr"]
)


@pytest.mark.slow
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(items=st.lists(_ITEMS, min_size=1, max_size=12), crlf=st.booleans())
def test_row_numbers_are_physical_lines(tiny: Any, items: list[str], crlf: bool) -> None:
    newline = "\r\n" if crlf else "\n"
    lines = [HEADER]
    expected: list[tuple[int, str]] = []
    for i, item in enumerate(items):
        line_no = len(newline.join(lines).split(newline)) + 1
        if item == "good":
            lines.append(_line(_person(tiny, i)))
        elif item == "bad":
            lines.append(_line(_person(tiny, i, psn_no="#bad")))
            expected.append((line_no, "bad_format"))
        elif item == "blank":
            lines.append("")
        elif item == "short":
            lines.append(",".join(_person(tiny, i)[c] for c in COLUMNS[:3]))
            expected.append((line_no, "column_count"))
        elif item == "long":
            lines.append(_line(_person(tiny, i)) + ",1")
            expected.append((line_no, "column_count"))
        elif item == "spaces":
            lines.append("  ")
            expected.append((line_no, "column_count"))
        elif item == "stray_cr":
            lines.append(_line(_person(tiny, i)).replace("张三", "张\r三"))
            expected.append((line_no, "unparseable_row"))
        elif item == "multiline":
            lines.append(_line(_person(tiny, i, psn_name=f"张{newline}三")))
        else:
            lines.append(_line(_person(tiny, i, psn_name=f"李{newline}{newline}四", psn_no="#bad")))
            expected.append((line_no, "bad_format"))
    text = newline.join(lines) + newline
    with tempfile.TemporaryDirectory() as tmp, open_store(Path(tmp) / "store.duckdb") as store:
        got = _load_text(Path(tmp), store, text)
    assert got == expected


@pytest.mark.parametrize("table", ["institutions", "practitioners", "fee_details"])
def test_every_table_numbers_rows_the_same_way(tmp_path: Path, tiny: Any, table: str) -> None:
    rows = tiny.rows(*tiny.NEEDS[table], table)
    first = rows[table][0]
    bad_col = {"institutions": "fixmedins_code", "practitioners": "dr_codg",
               "fee_details": "cnt"}[table]
    rows[table][-1][bad_col] = "?"
    folder = tiny.write_folder(tmp_path / "export", rows)
    path = folder / f"{table}.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines.insert(1, "")  # a blank line right under the header
    path.write_text("\n".join(lines), encoding="utf-8")
    with open_store(tmp_path / "store.duckdb") as store:
        from loaders.load import load_folder

        load_folder(folder, store)
        (q,) = tiny.quarantine(store, table)
    assert q["row_no"] == len(rows[table]) + 2
    assert q["column_name"] == bad_col
    assert first  # the other rows loaded around the blank line
