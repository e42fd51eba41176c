"""Reading what users really send: mixed line endings, a stray quote in one row, a header that
names a column twice, and errors that name the user's file (never a temporary copy).

Every case keeps the loader's promise: rows in = loaded + quarantined, each quarantined row with
its text and the line a text editor shows (the header is line 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loaders.load import load_files
from loaders.report import FileReport
from loaders.store import Store
from yibao.errors import DataFileError

COLUMNS = ["psn_no", "psn_name", "certno", "gend", "brdy", "insutype", "insu_admdvs", "tel"]
NOTE = "备注"  # an extra column the loader ignores: it holds the commas and quotes
HEADER = ",".join([*COLUMNS, NOTE])


def _person(tiny: Any, i: int, **changes: str) -> dict[str, str]:
    row: dict[str, str] = {**tiny.rows("persons")["persons"][0], "psn_no": f"P{i:06d}"}
    row[NOTE] = f"见附件, 第{i}页"
    row.update(changes)
    return row


def _quote(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def _line(row: dict[str, str]) -> str:
    return ",".join(_quote(row[c]) for c in [*COLUMNS, NOTE])


def _load(tmp_path: Path, store: Store, data: bytes, name: str = "persons.csv") -> FileReport:
    path = tmp_path / name
    path.write_bytes(data)
    report = load_files({"persons": path}, store)
    fr = report.files[0]
    assert fr.rows_in == fr.inserted + fr.unchanged + fr.quarantined
    return fr


def _quarantined(store: Store) -> list[tuple[int, str, str]]:
    frame = store.quarantine_frame()
    return [(int(q["row_no"]), str(q["reason_code"]), str(q["raw_value"]))
            for q in frame.to_dict("records")]


def _raw_note(row: dict[str, str], note: str) -> str:
    """The row's line with ``note`` written as is (not quoted) in the last column."""
    return ",".join(_quote(row[c]) for c in COLUMNS) + "," + note


def _stored_ids(tiny: Any, store: Store) -> list[str]:
    return [r[0] for r in tiny.stored(store, "persons", "psn_no")]


# --- 1. mixed line endings ---------------------------------------------------------------------

ENDINGS = {
    "crlf_header_lf_rows": lambda k: "\r\n" if k == 0 else "\n",
    "lf_header_crlf_rows": lambda k: "\n" if k == 0 else "\r\n",
    "alternating": lambda k: "\r\n" if k % 2 == 0 else "\n",
    "crlf_then_lf_after_3000_rows": lambda k: "\r\n" if k <= 3000 else "\n",
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_mixed_line_endings_load_every_row(
    tmp_path: Path, store: Store, tiny: Any, ending: str
) -> None:
    rows = [_person(tiny, i) for i in range(3010)]
    rows[5]["psn_name"] = "张\n三"  # a line break inside a quoted value: lines 7-8
    rows[3005]["psn_no"] = "#bad"  # line 3008 (one line more for the value above)
    lines = [HEADER, *[_line(r) for r in rows]]
    text = "".join(line + ENDINGS[ending](k) for k, line in enumerate(lines))

    fr = _load(tmp_path, store, text.encode("utf-8"))

    assert (fr.rows_in, fr.inserted, fr.quarantined) == (3010, 3009, 1)
    assert [(q[0], q[1]) for q in _quarantined(store)] == [(3008, "bad_format")]
    assert ("P000005", "张\n三") in tiny.stored(store, "persons", "psn_no, psn_name")


def test_mixed_line_endings_in_a_gbk_file(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = [_person(tiny, i) for i in range(4)]
    rows[2]["psn_no"] = "#bad"
    text = HEADER + "\r\n" + "\n".join(_line(r) for r in rows) + "\n"

    fr = _load(tmp_path, store, text.encode("gb18030"))

    assert (fr.rows_in, fr.inserted, fr.quarantined) == (4, 3, 1)
    assert [(q[0], q[1]) for q in _quarantined(store)] == [(4, "bad_format")]


def test_blank_lines_with_mixed_endings_keep_row_numbers(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    good, bad = _line(_person(tiny, 1)), _line(_person(tiny, 2, psn_no="#bad"))
    text = HEADER + "\r\n" + "\n" + good + "\r\n" + "\r\n" + bad + "\n"
    _load(tmp_path, store, text.encode("utf-8"))
    assert [(q[0], q[1]) for q in _quarantined(store)] == [(5, "bad_format")]


@pytest.mark.parametrize("sep", [",", "\t", ";", "|"], ids=["comma", "tab", "semicolon", "pipe"])
def test_every_documented_separator_is_read(
    tmp_path: Path, store: Store, tiny: Any, sep: str
) -> None:
    """docs/data-contract.md: comma, tab, ';' or '|' separated; the header says which."""
    rows = [_person(tiny, i) for i in range(4)]
    rows[1][NOTE] = f'见附件{sep} 第"2"页'  # the separator and quotes inside a quoted value
    rows[2]["psn_no"] = "#bad"
    lines = [sep.join([*COLUMNS, NOTE])]
    for r in rows:
        lines.append(sep.join(
            '"' + r[c].replace('"', '""') + '"' if sep in r[c] or '"' in r[c] else r[c]
            for c in [*COLUMNS, NOTE]))
    lines.append(lines[2].replace('第""2""页"', '第"2"页" tail'))  # line 6: a stray quote
    fr = _load(tmp_path, store, ("\n".join(lines) + "\n").encode("utf-8"))
    assert (fr.rows_in, fr.inserted, fr.quarantined) == (5, 3, 2)
    assert [(q[0], q[1]) for q in _quarantined(store)] == [
        (4, "bad_format"), (6, "unparseable_row")]


def test_quoted_header_names_after_a_byte_order_mark(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = [_person(tiny, i) for i in range(3)]
    header = ",".join(f'"{name}"' for name in [*COLUMNS, NOTE])
    text = "\n".join([header, *(_line(r) for r in rows)]) + "\n"
    fr = _load(tmp_path, store, text.encode("utf-8-sig"))
    assert (fr.rows_in, fr.inserted, fr.ignored_columns) == (3, 3, (NOTE,))


def test_lines_ending_in_a_bare_cr_load(tmp_path: Path, store: Store, tiny: Any) -> None:
    """Excel for Mac's "CSV (Macintosh)" ends lines in a bare CR."""
    rows = [_person(tiny, i) for i in range(4)]
    rows[2]["psn_no"] = "#bad"
    text = "\r".join([HEADER, *(_line(r) for r in rows)]) + "\r"
    fr = _load(tmp_path, store, text.encode("utf-8"))
    assert (fr.rows_in, fr.inserted, fr.quarantined) == (4, 3, 1)
    assert [(q[0], q[1]) for q in _quarantined(store)] == [(4, "bad_format")]


# --- 2. a stray quote costs its row only ---------------------------------------------------------

STRAY = {
    "text_after_closing_quote": '"abc"d"',  # the value closes, then text follows the quote
    "unclosed_quote": '"abc',  # opens a value that never closes on its line
}


@pytest.mark.parametrize("kind", list(STRAY))
@pytest.mark.parametrize("where", ["line_2", "middle", "last_line", "last_line_no_newline"])
def test_a_stray_quote_costs_its_row_only(
    tmp_path: Path, store: Store, tiny: Any, kind: str, where: str
) -> None:
    count = 40
    rows = [_line(_person(tiny, i)) for i in range(count)]
    at = {"line_2": 0, "middle": 20, "last_line": count - 1,
          "last_line_no_newline": count - 1}[where]
    bad_at = 30 if at != 30 else 31
    rows[bad_at] = _line(_person(tiny, bad_at, psn_no="#bad"))
    stray = _raw_note(_person(tiny, at), STRAY[kind])  # the note holds the stray quote
    rows[at] = stray
    end = "" if where == "last_line_no_newline" else "\n"
    fr = _load(tmp_path, store, (HEADER + "\n" + "\n".join(rows) + end).encode("utf-8"))

    got = _quarantined(store)
    assert (fr.rows_in, fr.inserted, fr.quarantined) == (count, count - 2, 2), got
    by_line = {line: (code, raw) for line, code, raw in got}
    assert set(by_line) == {at + 2, bad_at + 2}
    code, raw = by_line[at + 2]
    assert code in ("unparseable_row", "column_count")
    assert raw == stray
    assert by_line[bad_at + 2][0] == "bad_format"
    stored = _stored_ids(tiny, store)
    assert f"P{at:06d}" not in stored
    assert len(stored) == count - 2  # the quoted commas of every other row read as values


def test_a_stray_quote_row_says_what_is_wrong(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = [_line(_person(tiny, i)) for i in range(3)]
    rows[0] = _raw_note(_person(tiny, 0), '"abc"d"')
    _load(tmp_path, store, (HEADER + "\n" + "\n".join(rows) + "\n").encode("utf-8"))
    (q,) = store.quarantine_frame().to_dict("records")
    assert q["row_no"] == 2
    assert "text follows the closing quote" in str(q["reason_en"])


def test_a_stray_quote_before_a_multiline_value_keeps_row_numbers(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    lines = [
        HEADER,
        _raw_note(_person(tiny, 1), '"abc'),  # line 2: never closes
        _line(_person(tiny, 2, psn_name="张\n三")),  # lines 3-4
        _line(_person(tiny, 3, psn_no="#bad")),  # line 5
    ]
    _load(tmp_path, store, ("\n".join(lines) + "\n").encode("utf-8"))
    assert [(q[0], q[1]) for q in _quarantined(store)][1:] == [(5, "bad_format")]
    assert _quarantined(store)[0][:2] in ((2, "unparseable_row"), (2, "column_count"))
    assert ("P000002", "张\n三") in tiny.stored(store, "persons", "psn_no, psn_name")


def test_a_quote_inside_an_unquoted_value_with_a_multiline_value_later(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    """``张"三`` is text; its lone quote must not throw the numbering of later lines off."""
    lines = [
        HEADER,
        _line(_person(tiny, 1, psn_name='张"三')).replace('"张""三"', '张"三'),  # line 2
        _line(_person(tiny, 2, psn_name="李\n四")),  # lines 3-4
        _line(_person(tiny, 3, psn_no="#bad")),  # line 5
    ]
    assert '张"三' in lines[1]
    _load(tmp_path, store, ("\n".join(lines) + "\n").encode("utf-8"))
    assert [(q[0], q[1]) for q in _quarantined(store)] == [(5, "bad_format")]
    assert ("P000001", '张"三') in tiny.stored(store, "persons", "psn_no, psn_name")


# --- 3. a header that names a column twice -------------------------------------------------------

def _write(tmp_path: Path, tiny: Any, fmt: str, header: list[str],
           records: list[list[str]]) -> Path:
    path = tmp_path / f"persons.{fmt}"
    if fmt == "csv":
        path.write_text(tiny.csv_text(header, records), encoding="utf-8")
    elif fmt == "xlsx":
        tiny.write_xlsx(path, [header, *records])
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        arrays = [pa.array([r[i] for r in records], pa.string()) for i in range(len(header))]
        pq.write_table(pa.Table.from_arrays(arrays, names=header), path)
    return path


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_a_column_named_twice_is_refused(
    tmp_path: Path, store: Store, tiny: Any, fmt: str
) -> None:
    rows = tiny.rows("persons")["persons"]
    header = ["psn_no", "psn_name", "psn_name", *COLUMNS[2:]]
    records = [[r["psn_no"], r["psn_name"], "别名", *(r[c] for c in COLUMNS[2:])] for r in rows]
    path = _write(tmp_path, tiny, fmt, header, records)
    with pytest.raises(
        DataFileError,
        match=r"persons\.\w+: two columns are named 'psn_name' \(columns 2 and 3 of the header\)"
              r": rename or delete one",
    ):
        load_files({"persons": path}, store)
    assert store.table_counts()["persons"] == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_a_column_and_its_chinese_name_are_refused_with_positions(
    tmp_path: Path, store: Store, tiny: Any, fmt: str
) -> None:
    rows = tiny.rows("persons")["persons"]
    header = [*COLUMNS, "人员编号"]
    records = [[*(r[c] for c in COLUMNS), r["psn_no"]] for r in rows]
    path = _write(tmp_path, tiny, fmt, header, records)
    with pytest.raises(
        DataFileError,
        match=r"columns 'psn_no' and '人员编号' both mean psn_no: keep one "
              r"\(columns 1 and 9 of the header\)",
    ):
        load_files({"persons": path}, store)


def test_an_ignored_column_named_twice_is_refused(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows("persons")["persons"]
    header = [*COLUMNS, NOTE, NOTE]
    records = [[*(r[c] for c in COLUMNS), "a", "b"] for r in rows]
    path = _write(tmp_path, tiny, "csv", header, records)
    with pytest.raises(DataFileError, match=r"two columns are named '备注' \(columns 9 and 10"):
        load_files({"persons": path}, store)


# --- 6. messages name the user's file ------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_an_unreadable_header_names_the_users_file(
    tmp_path: Path, store: Store, tiny: Any, encoding: str
) -> None:
    rows = [_line(_person(tiny, i)) for i in range(3)]
    header = HEADER.replace("psn_name", '"psn_name', 1)  # a quote that never closes
    text = header + "\n" + "\r\n".join(rows) + "\n"
    path = tmp_path / "persons.csv"
    path.write_bytes(text.encode(encoding))
    with pytest.raises(DataFileError) as info:
        load_files({"persons": path}, store)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "header" in message
    assert ".utf8.csv" not in message
    assert ".parsable.csv" not in message
    assert message.count(str(tmp_path)) == 1  # the user's path, no temporary copy


def test_a_gbk_file_with_a_stray_quote_and_a_stray_cr(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    """The copies made for GBK text and for lines taken out never show in what users see."""
    rows = [_line(_person(tiny, i)) for i in range(5)]
    rows[1] = _raw_note(_person(tiny, 1), '"abc"d"')  # line 3
    rows[3] = rows[3].replace("张三", "张\r三")  # line 5: a bare CR outside quotes
    rows[4] = _line(_person(tiny, 4, psn_no="#bad"))  # line 6
    _load(tmp_path, store, (HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode("gb18030"))
    got = _quarantined(store)
    assert [q[0] for q in got] == [3, 5, 6]
    assert got[0][2] == rows[1]
    assert got[1][2] == rows[3]
    assert got[2][1] == "bad_format"
    frame = store.quarantine_frame()
    for value in frame.to_numpy().ravel():
        assert ".utf8.csv" not in str(value)
        assert ".parsable.csv" not in str(value)
