"""Headers and file names: national field codes, Chinese labels and aliases are accepted; a
missing required column refuses the file and says what was found and what is accepted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loaders.contract import TABLES
from loaders.load import load_files, load_folder
from loaders.sources import find_table_files, map_header
from loaders.store import Store
from yibao.errors import DataFileError, MissingColumnError


def _write(tmp_path: Path, tiny: Any, table: str, header: dict[str, str]) -> Path:
    path: Path = tiny.write_table(tmp_path, table, tiny.rows(table)[table], header=header)
    return path


@pytest.mark.parametrize("table", list(TABLES))
def test_chinese_labels_are_accepted_for_every_column(
    tmp_path: Path, store: Store, tiny: Any, table: str
) -> None:
    rows = tiny.rows(*tiny.NEEDS[table], table)
    folder = tiny.write_folder(tmp_path / "export", {t: rows[t] for t in tiny.NEEDS[table]})
    header = {c.name: c.label_zh for c in TABLES[table].columns}
    tiny.write_table(folder, table, rows[table], header=header)

    report = load_folder(folder, store)

    fr = tiny.file_report(report, table)
    assert (fr.inserted, fr.quarantined, fr.ignored_columns) == (len(rows[table]), 0, ())


@pytest.mark.parametrize(
    ("column", "header"),
    [
        ("psn_no", "个人编号"),
        ("psn_no", "PSN_NO"),
        ("psn_no", " psn_no "),
        ("psn_no", "人员 编号"),
        ("psn_name", "姓名"),
        ("certno", "身份证号码"),
        ("certno", "公民身份号码"),
        ("insu_admdvs", "参保地"),
        ("tel", "手机号"),
    ],
)
def test_aliases_and_spelling_variants(
    tmp_path: Path, store: Store, tiny: Any, column: str, header: str
) -> None:
    path = _write(tmp_path, tiny, "persons", {column: header})
    report = load_files({"persons": path}, store)
    assert report.files[0].inserted == 3
    assert report.files[0].ignored_columns == ()


def test_header_matching_ignores_case_spaces_and_bom(tmp_path: Path) -> None:
    mapping, ignored = map_header(
        ["\ufeffPSN_NO", "Psn_Name", "证件\u3000号码", " gend", "出生 日期", "险种", "参保地",
         "备注"],
        TABLES["persons"],
        path=tmp_path / "p.csv",
    )
    assert mapping == {
        "psn_no": "\ufeffPSN_NO",
        "psn_name": "Psn_Name",
        "certno": "证件\u3000号码",
        "gend": " gend",
        "brdy": "出生 日期",
        "insutype": "险种",
        "insu_admdvs": "参保地",
    }
    assert ignored == ["备注"]  # and tel, optional, is simply absent


def test_missing_required_column_lists_found_and_accepted_names(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = tiny.rows("persons")["persons"]
    for r in rows:
        del r["psn_no"]
    path = tiny.write_table(tmp_path, "persons", rows)

    with pytest.raises(MissingColumnError) as info:
        load_files({"persons": path}, store)

    message = str(info.value)
    assert message.startswith(f"{path}: table 'persons' is missing required column(s): ")
    assert "psn_no (accepted: psn_no, 人员编号, 个人编号, 人员ID, 参保人编号)" in message
    assert ("Columns found: psn_name, certno, gend, brdy, insutype, insu_admdvs, tel."
            in message)
    assert "Rename the header" in message
    assert info.value.missing == {"psn_no": ("psn_no", "人员编号", "个人编号", "人员ID",
                                             "参保人编号")}
    assert info.value.found == ["psn_name", "certno", "gend", "brdy", "insutype",
                                "insu_admdvs", "tel"]
    assert isinstance(info.value, ValueError)


def test_a_missing_descriptive_column_costs_no_row(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = tiny.rows("persons")["persons"]
    for r in rows:
        del r["certno"], r["gend"]
    report = load_files({"persons": tiny.write_table(tmp_path, "persons", rows)}, store)

    (fr,) = report.files
    assert (fr.rows_in, fr.inserted, fr.quarantined, fr.noted) == (3, 3, 0, 0)
    assert fr.absent_columns == ("certno", "gend")
    assert tiny.stored(store, "persons", "certno, gend") == [(None, None)] * 3


def test_several_missing_columns_are_all_named(tmp_path: Path, store: Store, tiny: Any) -> None:
    path = tmp_path / "settlements.csv"
    path.write_text("结算ID,人员编号,金额\nS1,P1,1\n", encoding="utf-8")
    with pytest.raises(
        MissingColumnError,
        match=r"missing required column\(s\): mdtrt_id \(accepted: mdtrt_id, 就诊ID, 就医登记号, "
        r"就诊流水号\); fixmedins_code .*Columns found: 结算ID, 人员编号, 金额\.",
    ) as info:
        load_files({"settlements": path}, store)
    assert "setl_id" not in info.value.missing
    assert "init_setl_id" not in info.value.missing  # optional
    assert set(info.value.missing) == {
        c.name for c in TABLES["settlements"].columns if c.required
    } - {"setl_id", "psn_no"}


def test_two_headers_for_one_column_are_refused(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows("persons")["persons"]
    for r in rows:
        r["身份证号"] = r["certno"]
    path = tiny.write_table(tmp_path, "persons", rows)
    with pytest.raises(
        DataFileError, match="columns 'certno' and '身份证号' both mean certno: keep one"
    ):
        load_files({"persons": path}, store)


def test_extra_columns_are_reported_and_kept_in_quarantine_records(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = tiny.rows("persons")["persons"]
    for r in rows:
        r["备注"] = "note, with comma"
    rows[1]["psn_no"] = "#x"
    path = tiny.write_table(tmp_path, "persons", rows)

    report = load_files({"persons": path}, store)

    assert report.files[0].ignored_columns == ("备注",)
    (q,) = tiny.quarantine(store)
    import json

    record = json.loads(q["raw_record"])
    assert record["extra:备注"] == "note, with comma"  # prefixed: never mistaken for a column
    assert record["psn_no"] == "#x"


def test_optional_column_absent_is_null(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows("persons")["persons"]
    for r in rows:
        del r["tel"]
    path = tiny.write_table(tmp_path, "persons", rows)
    load_files({"persons": path}, store)
    assert tiny.stored(store, "persons", "tel") == [(None,)] * 3


def test_files_are_found_by_table_name_or_chinese_label(tmp_path: Path, tiny: Any) -> None:
    rows = tiny.rows()
    tiny.write_table(tmp_path, "persons", rows["persons"], name="参保人员")
    tiny.write_table(tmp_path, "settlements", rows["settlements"], name="Settlements")
    tiny.write_table(tmp_path, "institutions", rows["institutions"], fmt="xlsx")
    (tmp_path / "readme.md").write_text("notes")
    (tmp_path / "persons_old.csv").write_text("x")

    found, ignored = find_table_files(tmp_path)

    assert found == {
        "persons": tmp_path / "参保人员.csv",
        "settlements": tmp_path / "Settlements.csv",
        "institutions": tmp_path / "institutions.xlsx",
    }
    assert sorted(p.name for p in ignored) == ["persons_old.csv", "readme.md"]


def test_two_files_for_one_table_are_refused(tmp_path: Path, tiny: Any) -> None:
    rows = tiny.rows("persons")["persons"]
    tiny.write_table(tmp_path, "persons", rows)
    tiny.write_table(tmp_path, "persons", rows, name="参保人员")
    with pytest.raises(DataFileError, match=r"two files for table 'persons': .* keep one"):
        find_table_files(tmp_path)


def test_folder_errors_say_what_to_do(tmp_path: Path, store: Store, tiny: Any) -> None:
    with pytest.raises(DataFileError, match="is not a folder: point the loader at the export"):
        load_folder(tmp_path / "missing", store)
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataFileError, match=r"no table files found in .*institutions\.csv"):
        load_folder(tmp_path / "empty", store)
    folder = tiny.write_folder(tmp_path / "export")
    with pytest.raises(DataFileError, match=r"unknown table\(s\) \['patients'\]: choose from"):
        load_folder(folder, store, tables=["persons", "patients"])


def test_ignored_files_and_table_filter(tmp_path: Path, store: Store, tiny: Any) -> None:
    folder = tiny.write_folder(tmp_path / "export", tiny.rows("institutions", "persons"))
    (folder / "notes.txt").write_text("not a table")

    report = load_folder(folder, store, tables=["persons"])

    assert [f.table for f in report.files] == ["persons"]
    assert report.ignored_files == ("notes.txt",)
    assert store.table_counts()["institutions"] == 0


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_a_file_with_a_header_only_loads_nothing(
    tmp_path: Path, store: Store, tiny: Any, fmt: str
) -> None:
    columns = list(tiny.rows("persons")["persons"][0])
    if fmt == "csv":
        path = tmp_path / "persons.csv"
        path.write_text(",".join(columns) + "\n\n", encoding="utf-8")
    elif fmt == "xlsx":
        path = tiny.write_xlsx(tmp_path / "persons.xlsx", [columns])
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = tmp_path / "persons.parquet"
        pq.write_table(pa.table({c: pa.array([], pa.string()) for c in columns}), path)

    report = load_files({"persons": path}, store)

    fr = report.files[0]
    assert (fr.rows_in, fr.inserted, fr.unchanged, fr.quarantined) == (0, 0, 0, 0)
    assert store.table_counts()["persons"] == 0


def test_an_empty_file_is_refused(tmp_path: Path, store: Store) -> None:
    path = tmp_path / "persons.csv"
    path.write_bytes(b"")
    with pytest.raises(MissingColumnError, match=r"persons\.csv: table .persons. is missing"):
        load_files({"persons": path}, store)
