"""Inspector rosters: read from CSV (Chinese or English headers, UTF-8 or GBK), or synthetic."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from yibao.divisions import division
from yibao.errors import DataFileError, YibaoError
from yibao.inspection import Inspector, inspectors_from_csv, synthetic_inspectors
from yibao.inspection.inspectors import inspectors_to_frame


def test_roster_with_chinese_headers_in_gbk(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_bytes("工号,姓名,所在城市\nJ1,张伟,320500\nJ2,李娜,341282\n\nJ3,王芳,310104\n"
                     .encode("gbk"))
    assert inspectors_from_csv(path) == (
        Inspector("J1", "张伟", "320000", "320500"),
        Inspector("J2", "李娜", "340000", "341200"),  # a county is read as its city
        Inspector("J3", "王芳", "310000", "310100"),
    )


def test_roster_with_english_headers_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("inspector_id,name,city,province\nA,Ann,330100,330000\n",
                    encoding="utf-8-sig")
    assert inspectors_from_csv(path) == (Inspector("A", "Ann", "330000", "330100"),)


def test_every_bad_row_is_named(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("id,name,city,province\nA,甲,999999,\nB,乙,320000,\nA,丙,320500,\n"
                    "C,丁,320500,340000\n,戊,320500,\n", encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        inspectors_from_csv(path)
    message = str(caught.value)
    assert message.startswith(str(path))
    assert "5 bad row(s)" in message
    assert "line 2: city '999999' is not a 沪苏浙皖 city" in message
    assert "line 3: city '320000' is a province" in message
    assert "line 4: inspector id 'A' repeats line 2" in message
    assert "line 5: province '340000' does not contain city 320500" in message
    assert "line 6: empty inspector id" in message


def test_missing_columns_list_the_accepted_names(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("编号,姓名\nA,甲\n", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"missing column\(s\): city \(accepted: city, 城市"):
        inspectors_from_csv(path)
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(YibaoError, match="the roster is empty"):
        inspectors_from_csv(empty)


def test_synthetic_roster_spreads_over_the_four_provinces() -> None:
    roster = synthetic_inspectors(62, seed=3)
    assert len(roster) == 62
    assert len({i.inspector_id for i in roster}) == 62
    assert Counter(i.province for i in roster) == {"310000": 16, "320000": 16, "330000": 15,
                                                   "340000": 15}
    for person in roster:
        assert division(person.city).level == "city"
        assert division(person.city).province == person.province
    assert len({i.city for i in roster}) >= 20
    assert roster == synthetic_inspectors(62, seed=3)
    assert roster != synthetic_inspectors(62, seed=4)
    frame = inspectors_to_frame(roster)
    assert frame.loc[0, "province_name"] in {"上海市", "江苏省", "浙江省", "安徽省"}


def test_a_huge_field_or_a_nul_byte_is_a_named_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("id,name,city\nA,甲,320500\nB," + "乙" * 200_000 + ",320500\n",
                    encoding="utf-8")
    # the csv module's field limit is process-wide: past it the line cannot be read, below it
    # the name is too long; either way the row is named
    with pytest.raises(DataFileError, match=r"line 3(: name longer than 200 characters "
                                            r"\(200,000\): is it the right column\?| cannot be "
                                            r"read as CSV \(field larger than field limit)"):
        inspectors_from_csv(path)
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"id,name,city\nA,\x00,320500\n")
    with pytest.raises(DataFileError, match=r"line 2: name holds a control character"):
        inspectors_from_csv(nul)


def test_the_plan_command_says_so_in_one_line(tmp_path: Path) -> None:
    import subprocess
    import sys

    from loaders.store import open_store

    path = tmp_path / "roster.csv"
    path.write_text("id,name,city\nB," + "x" * 200_000 + ",320500\n", encoding="utf-8")
    open_store(tmp_path / "store.duckdb").close()
    done = subprocess.run(
        [sys.executable, "-m", "yibao.cli", "plan", "--db", str(tmp_path / "store.duckdb"),
         "--inspectors", str(path), "--team-days", "10", "--weeks", "1",
         "--out", str(tmp_path / "plan.xlsx")],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "line 2" in done.stderr  # the roster's own line, in one message
