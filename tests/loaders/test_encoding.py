"""Text encodings: UTF-8, UTF-8 with BOM, GBK and GB18030 are detected and read the same;
bytes in no supported encoding are refused with a fix, or quarantined line by line."""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loaders.contract import TABLES
from loaders.load import load_files, load_folder
from loaders.sources import scan_file
from loaders.store import Store
from yibao.errors import EncodingDetectionError

_ZH_HEADER = {c.name: c.label_zh for c in TABLES["persons"].columns}


def _persons_csv(tiny: Any, rows: list[dict[str, str]], *, header_zh: bool = True) -> str:
    cols = list(rows[0])
    names = [_ZH_HEADER[c] if header_zh else c for c in cols]
    return str(tiny.csv_text(names, [[r[c] for c in cols] for r in rows]))


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8-sig"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
    ],
)
def test_each_encoding_loads_the_same_rows(
    tmp_path: Path, store: Store, tiny: Any, encoding: str, detected: str
) -> None:
    rows = tiny.rows("persons")["persons"]
    rows[2]["psn_name"] = "欧阳娜娜"
    path = tmp_path / "persons.csv"
    path.write_bytes(_persons_csv(tiny, rows).encode(encoding))

    report = load_files({"persons": path}, store)

    (fr,) = report.files
    assert fr.encoding == detected
    assert (fr.rows_in, fr.inserted, fr.quarantined) == (3, 3, 0)
    assert tiny.stored(store, "persons", "psn_no, psn_name") == [
        ("00341200000001", "张三"),
        ("00341200000002", "李四"),
        ("00341200000003", "欧阳娜娜"),
    ]


def test_gb18030_only_characters_survive(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows("persons")["persons"]
    rows[0]["psn_name"] = "刘䶮𠀀"  # not in GBK: GB18030 four-byte sequences
    with pytest.raises(UnicodeEncodeError):
        rows[0]["psn_name"].encode("gbk")
    path = tmp_path / "persons.csv"
    path.write_bytes(_persons_csv(tiny, rows).encode("gb18030"))

    load_files({"persons": path}, store)

    assert ("00341200000001", "刘䶮𠀀") in tiny.stored(store, "persons", "psn_no, psn_name")


def test_bom_does_not_stick_to_the_first_header(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows("persons")["persons"]
    path = tmp_path / "persons.csv"
    path.write_bytes(_persons_csv(tiny, rows, header_zh=False).encode("utf-8-sig"))
    report = load_files({"persons": path}, store)
    assert report.files[0].ignored_columns == ()
    assert report.files[0].inserted == 3


def test_crlf_gbk_file_with_blank_lines(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows("persons")["persons"]
    rows[1]["gend"] = "未"  # noted, on line 4 after a blank line
    text = _persons_csv(tiny, rows).replace("\n", "\r\n")
    lines = text.split("\r\n")
    text = "\r\n".join([*lines[:2], "", *lines[2:]])
    path = tmp_path / "persons.csv"
    path.write_bytes(text.encode("gbk"))

    load_files({"persons": path}, store)

    (q,) = tiny.notes(store)
    assert (q["row_no"], q["column_name"], q["raw_value"]) == (4, "gend", "未")
    assert "'未'" in q["reason_zh"]


def test_utf16_is_refused_with_a_fix(tmp_path: Path, store: Store, tiny: Any) -> None:
    path = tmp_path / "persons.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + _persons_csv(tiny, tiny.rows("persons")["persons"])
                     .encode("utf-16-le"))
    with pytest.raises(EncodingDetectionError, match=r"persons\.csv: .*neither UTF-8 nor GBK.*"
                       r"save it as UTF-8"):
        load_files({"persons": path}, store)
    assert tiny.snapshot(store)["loads"] == []


def test_undecodable_line_in_a_gbk_file_is_quarantined(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = tiny.rows("persons")["persons"]
    data = _persons_csv(tiny, rows).encode("gbk").split(b"\n")
    data[2] = data[2].replace(b",", b"\xff,", 1)  # 0xFF starts no GBK/GB18030 character
    path = tmp_path / "persons.csv"
    path.write_bytes(b"\n".join(data))

    report = load_files({"persons": path}, store)

    (fr,) = report.files
    assert fr.encoding == "gb18030"
    assert (fr.rows_in, fr.inserted, fr.quarantined) == (3, 2, 1)
    (q,) = tiny.quarantine(store)
    assert (q["row_no"], q["reason_code"]) == (3, "invalid_encoding")
    assert "GBK" in q["reason_en"]


def test_gbk_line_after_the_sample_is_quarantined(
    tmp_path: Path, store: Store, tiny: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("loaders._scan._SAMPLE", 64)  # detection sees only the header
    rows = tiny.rows("persons")["persons"]
    text = _persons_csv(tiny, rows, header_zh=False).split("\n")
    data = [line.encode("utf-8") for line in text]
    data[3] = text[3].encode("gbk")  # the third person, written in GBK
    path = tmp_path / "persons.csv"
    path.write_bytes(b"\n".join(data))

    report = load_files({"persons": path}, store)

    assert report.files[0].encoding == "utf-8"
    assert report.files[0].quarantined == 1
    (q,) = tiny.quarantine(store)
    assert (q["row_no"], q["reason_code"]) == (4, "invalid_encoding")
    assert tiny.stored(store, "persons", "psn_name") == [("张三",), ("李四",)]


def test_gbk_line_in_a_utf8_file_is_quarantined_not_garbling_the_rest(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    """One GBK line among UTF-8 ones: the UTF-8 rows must load as written (not read as GBK
    mojibake), the GBK line is quarantined as invalid encoding."""
    rows = tiny.rows("persons")["persons"]
    text = _persons_csv(tiny, rows).split("\n")
    data = [line.encode("utf-8") for line in text]
    data[2] = text[2].encode("gbk")
    path = tmp_path / "persons.csv"
    path.write_bytes(b"\n".join(data))

    report = load_files({"persons": path}, store)

    assert report.files[0].encoding == "utf-8"
    (q,) = tiny.quarantine(store)
    assert (q["row_no"], q["reason_code"]) == (3, "invalid_encoding")
    assert tiny.stored(store, "persons", "psn_name") == [("张三",), ("王五",)]


def test_scan_reports_encoding_size_and_hash(tmp_path: Path) -> None:
    import hashlib

    data = "人员编号\n0001\n".encode("gbk")
    path = tmp_path / "persons.csv"
    path.write_bytes(data)
    scan = scan_file(path)
    assert scan.encoding == "gb18030"
    assert scan.size == len(data)
    assert scan.sha256 == hashlib.sha256(data).hexdigest()


def test_binary_formats_have_no_encoding(tmp_path: Path, tiny: Any) -> None:
    folder = tiny.write_folder(tmp_path / "x", tiny.rows("persons"), fmt="parquet")
    assert scan_file(folder / "persons.parquet").encoding is None


def test_folder_of_gbk_files(tmp_path: Path, store: Store, tiny: Any) -> None:
    folder = tiny.write_folder(tmp_path / "export", encoding="gbk")
    report = load_folder(folder, store)
    encodings = {f.table: f.encoding for f in report.files}
    assert encodings.pop("settlements") == "utf-8"  # plain ASCII: the same bytes in both
    assert set(encodings.values()) == {"gb18030"}
    assert report.quarantined == 0
    assert report.inserted == 14


def test_gbk_text_that_happens_to_be_valid_utf8_does_not_decide(tmp_path: Path) -> None:
    """'钱药师' in GBK bytes is also valid UTF-8 ('Ǯҩʦ'): only lines readable in one encoding
    only vote, so the GBK line '赵医生' decides."""
    assert "钱药师".encode("gbk").decode("utf-8") == "Ǯҩʦ"
    path = tmp_path / "practitioners.csv"
    path.write_bytes("dr_codg,dr_name\nY1,钱药师\nD1,赵医生\n".encode("gbk"))
    assert scan_file(path).encoding == "gb18030"


_CJK = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_CELL = st.text(st.one_of(_CJK, st.sampled_from("0123456789 abc-")), min_size=0, max_size=6)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(st.lists(_CELL, min_size=1, max_size=4), min_size=1, max_size=8))
def test_whole_file_encoding_is_detected(lines: list[list[str]]) -> None:
    text = "\n".join(",".join(cells) for cells in lines) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes(text.encode("utf-8"))
        assert scan_file(path).encoding == "utf-8"
        data = text.encode("gbk")
        path.write_bytes(data)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            expected = "gb18030"
        else:
            expected = "utf-8"  # GBK bytes that are valid UTF-8 as a whole: cannot tell
        assert scan_file(path).encoding == expected


def test_a_gbk_character_that_starts_like_utf8_is_gbk(tmp_path: Path) -> None:
    """'鋩' in GBK is E4 80: the start of a 3-byte UTF-8 character, cut by the line end
    (found by hypothesis)."""
    path = tmp_path / "t.csv"
    path.write_bytes("鋩\n".encode("gbk"))
    assert scan_file(path).encoding == "gb18030"
