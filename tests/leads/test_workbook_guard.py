"""The guarded workbook reader (:mod:`loaders.workbook`) shared by ``yibao load`` and the ledger
import: a 1.6 KB workbook declaring its last cell XFD1048576 made python-calamine allocate
512 GiB and abort the whole process (exit 134, the workbench server with it). Now it is refused
with a message naming the file, the range and the fix, before calamine opens it.

The synthetic workbooks are written part by part with :mod:`zipfile` (the XML Excel writes), so
the test controls what openpyxl would never write: a lying ``<dimension>``, cells without
references, a sheet part that inflates beyond a bound.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from loaders.workbook import SheetLimits, read_sheet, sheet_names, sheet_shape
from tests.detected import Detected
from yibao.errors import DataFileError, LedgerImportError
from yibao.leads.excel import LEDGER_SHEET, import_workbook
from yibao.leads.sqlite_ledger import SqliteLedger

_CT = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
       '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
       '<Default Extension="rels" '
       'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
       '<Default Extension="xml" ContentType="application/xml"/>'
       '<Override PartName="/xl/workbook.xml" ContentType="application/'
       'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
       '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
       'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships '
         'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
         'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WB_RELS = ('<?xml version="1.0" encoding="UTF-8"?><Relationships '
            'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def _workbook(path: Path, sheet_data: str, *, dimension: str | None = None,
              sheet: str = "Sheet1", padding: int = 0) -> Path:
    """Write a one-sheet workbook whose ``<sheetData>`` is ``sheet_data`` (``padding`` spaces
    of XML whitespace make the sheet part inflate without adding cells)."""
    workbook = ('<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.'
                'openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.'
                'openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                f'<sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>')
    worksheet = ('<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                 'openxmlformats.org/spreadsheetml/2006/main">'
                 + (f'<dimension ref="{dimension}"/>' if dimension else "")
                 + " " * padding + f"<sheetData>{sheet_data}</sheetData></worksheet>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", _CT)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", _WB_RELS)
        z.writestr("xl/worksheets/sheet1.xml", worksheet)
    return path


def _text(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def _huge_range(path: Path, *, sheet: str = "Sheet1") -> Path:
    """The 1.6 KB workbook of the report: a header cell, and a cell at the sheet's last cell
    XFD1048576 with the dimension declaring the whole sheet."""
    data = (f'<row r="1">{_text("A1", "psn_no")}</row>'
            f'<row r="1048576">{_text("XFD1048576", "x")}</row>')
    return _workbook(path, data, dimension="A1:XFD1048576", sheet=sheet)


def _limit_memory() -> None:  # pragma: no cover - runs in the child process
    """Cap the child's address space (4 GiB), so that a regression fails the test instead of
    swapping a machine whose kernel overcommits memory."""
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def _yibao(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``yibao ARGS`` in a child process, on the code under test."""
    code = "from yibao.cli import main; main()"
    root = str(Path(__file__).resolve().parents[2])
    path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    limit: Callable[[], None] | None = _limit_memory if sys.platform == "linux" else None
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, **env, "PYTHONPATH": path}, cwd=cwd, timeout=300,
                          preexec_fn=limit, check=False)


# --- the two commands that read workbooks ----------------------------------------------------

def test_yibao_load_refuses_the_huge_range_workbook(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    path = _huge_range(folder / "persons.xlsx")
    assert path.stat().st_size < 2000

    done = _yibao(["load", str(folder), "--db", str(tmp_path / "yibao.duckdb")], {}, tmp_path)

    assert done.returncode == 1, done.stderr[-3000:]  # 'yibao load': 1 = nothing loaded
    message = " ".join(done.stderr.split())
    assert "persons.xlsx" in message
    assert "A1:XFD1048576" in message
    assert "delete the empty rows" in message
    assert "Traceback" not in done.stderr


def test_yibao_leads_import_refuses_the_huge_range_workbook(tmp_path: Path) -> None:
    path = _huge_range(tmp_path / "台账.xlsx", sheet=LEDGER_SHEET)
    env = {"YIBAO_BACKEND": "embedded", "YIBAO_DB": str(tmp_path / "yibao.duckdb"),
           "YIBAO_LEADS": str(tmp_path / "leads.sqlite")}

    done = _yibao(["leads", "import", str(path), "--by", "王五"], env, tmp_path)

    assert done.returncode == 1, done.stderr[-3000:]  # a refused import exits 1
    message = " ".join(done.stderr.split())
    assert "台账.xlsx" in message
    assert "A1:XFD1048576" in message
    assert "delete the empty rows" in message
    assert "Traceback" not in done.stderr


def test_the_ledger_import_refuses_it_as_unreadable(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "leads.sqlite")
    path = _huge_range(tmp_path / "台账.xlsx", sheet=LEDGER_SHEET)
    with pytest.raises(LedgerImportError, match=r"台账\.xlsx: .*A1:XFD1048576") as info:
        import_workbook(ledger, path, by="王五")
    assert info.value.reason == "unreadable"
    assert "A1:XFD1048576" in str(info.value.value)
    assert ledger.leads() == []


# --- the guard ------------------------------------------------------------------------------

def test_a_declared_range_far_beyond_the_cells_is_refused(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "book.xlsx", f'<row r="1">{_text("A1", "a")}</row>',
                     dimension="A1:XFD1048576")
    with pytest.raises(DataFileError) as info:
        read_sheet(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "A1:XFD1048576" in message
    assert "17,179,869,184 cells" in message
    assert "delete the empty rows/columns below/right of the data and save again" in message
    assert "export the sheet as CSV" in message


@pytest.mark.parametrize("dimension", ["A1:A1", None], ids=["lying_dimension", "no_dimension"])
def test_a_far_cell_is_refused_whatever_the_dimension_says(
    tmp_path: Path, dimension: str | None
) -> None:
    data = (f'<row r="1">{_text("A1", "a")}</row>'
            f'<row r="1048576">{_text("XFD1048576", "x")}</row>')
    path = _workbook(tmp_path / "book.xlsx", data, dimension=dimension)
    with pytest.raises(DataFileError, match=r"book\.xlsx: .*XFD1048576.*delete the empty rows"):
        read_sheet(path)


def test_cells_without_references_are_placed_as_excel_does(tmp_path: Path) -> None:
    """Some writers leave out ``r=``: a cell then follows the previous one, a row the previous
    row. The guard counts them the same way (and so refuses a far refless cell)."""
    data = ('<row><c t="inlineStr"><is><t>x</t></is></c><c><v>2</v></c></row>'
            '<row><c><v>3</v></c></row>'
            '<row r="5"><c><v>4</v></c><c r="D5"><v>5</v></c><c><v>6</v></c></row>')
    path = _workbook(tmp_path / "book.xlsx", data)
    assert sheet_shape(path).rows == 5
    assert sheet_shape(path).columns == 5
    assert read_sheet(path) == [
        ["x", 2.0, "", "", ""],
        [3.0, "", "", "", ""],
        ["", "", "", "", ""],
        ["", "", "", "", ""],
        [4.0, "", "", 5.0, 6.0],
    ]
    far = "<c><v>1</v></c>" * 200
    path = _workbook(tmp_path / "far.xlsx", f'<row r="1048576">{far}</row>')
    with pytest.raises(DataFileError, match=r"far\.xlsx: .*GR1048576"):
        read_sheet(path)


def test_a_sheet_part_that_inflates_too_far_is_refused(tmp_path: Path) -> None:
    path = _workbook(tmp_path / "bomb.xlsx", f'<row r="1">{_text("A1", "a")}</row>',
                     padding=200_000)
    assert path.stat().st_size < 5_000
    with pytest.raises(DataFileError, match=r"bomb\.xlsx: .*inflate to [\d,]+ bytes"):
        read_sheet(path, limits=SheetLimits(max_unzipped_bytes=100_000))
    assert read_sheet(path) == [["a"]]


def test_a_full_height_declared_range_of_a_real_export_is_admitted(tmp_path: Path) -> None:
    """20 columns down to Excel's last row (21 million cells) is what a full export declares:
    it is never refused for its size, however few cells are left in it."""
    data = f'<row r="1">{_text("A1", "a")}{_text("T1", "b")}</row>'
    path = _workbook(tmp_path / "book.xlsx", data, dimension="A1:T1048576")
    assert read_sheet(path) == [["a", "", "", "", "", "", "", "", "", "", "", "", "", "", "",
                                 "", "", "", "", "b"]]
    shape = sheet_shape(path)
    assert (shape.declared, shape.cells, shape.rows, shape.columns) == ("A1:T1048576", 2, 1, 20)


def test_the_reader_gives_what_calamine_gives_for_a_normal_workbook(
    tmp_path: Path, tiny: object
) -> None:
    from openpyxl import Workbook
    from python_calamine import CalamineWorkbook

    book = Workbook()
    sheet = book.active
    sheet.title = "人员"
    sheet.append(["psn_no", "psn_name", "brdy", "amount"])
    sheet.append(["00341200000001", "张三", "1980-01-01", 12.5])
    sheet.append([None, None, None, None])
    sheet.append(["00341200000002", None, None, 3])
    book.create_sheet("second").append(["other"])
    path = tmp_path / "normal.xlsx"
    book.save(path)

    expected = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python(
        skip_empty_area=False)
    assert read_sheet(path) == expected
    assert read_sheet(path, sheet="second") == [["other"]]
    assert sheet_names(path) == ("人员", "second")


def test_what_is_not_a_workbook_is_refused_before_calamine(tmp_path: Path) -> None:
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DataFileError, match=r"junk\.xlsx: cannot read the workbook"):
        read_sheet(junk)
    other = tmp_path / "other.xlsx"
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("hello.txt", "not a workbook")
    with pytest.raises(DataFileError, match=r"other\.xlsx: cannot read the workbook .*no "
                                            r"xl/workbook\.xml"):
        sheet_names(other)
    book = _workbook(tmp_path / "book.xlsx", f'<row r="1">{_text("A1", "a")}</row>')
    with pytest.raises(DataFileError, match=r"no sheet '线索台账' \(found: Sheet1\)"):
        read_sheet(book, sheet=LEDGER_SHEET)


# --- the workbench ----------------------------------------------------------------------------

def test_the_workbench_bounds_uploads_wherever_it_is_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tomllib

    from yibao import cli_workbench

    config = Path(cli_workbench.__file__).resolve().parents[1] / ".streamlit" / "config.toml"
    limit = tomllib.loads(config.read_text(encoding="utf-8"))["server"]["maxUploadSize"]
    assert 1 <= limit <= 200

    calls: list[list[str]] = []

    def execve(path: str, cmd: list[str], env: dict[str, str]) -> None:
        calls.append(list(cmd))  # the real one replaces the process with Streamlit

    monkeypatch.setattr(cli_workbench.os, "execve", execve)
    db = tmp_path / "yibao.duckdb"
    db.write_bytes(b"")
    cli_workbench.workbench_command.main(["--db", str(db)], standalone_mode=False)
    (cmd,) = calls
    assert cmd[cmd.index("--server.maxUploadSize") + 1] == str(limit)


def test_the_workbench_import_says_what_is_wrong_in_the_page(
    detected: Detected, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uploading the workbook to 导入台账 shows an error in the page; the server lives on."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboards.auth import add_user
    from tests.dashboards.conftest import APP, PASSWORDS, no_exception, sign_in

    users = tmp_path / "users.toml"
    add_user(users, "wang", role="investigator", password=PASSWORDS["wang"])
    for name, value in {"YIBAO_DB": detected.db, "YIBAO_USERS": users,
                        "YIBAO_AUDIT_LOG": tmp_path / "audit.jsonl",
                        "YIBAO_LEADS": tmp_path / "leads.sqlite"}.items():
        monkeypatch.setenv(name, str(value))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = sign_in(AppTest.from_file(str(APP), default_timeout=120), "wang")
    at.switch_page("views/leads.py")
    at.run()
    upload = _huge_range(tmp_path / "台账.xlsx", sheet=LEDGER_SHEET).read_bytes()

    at.file_uploader(key="leads_upload").set_value(("台账.xlsx", upload, "application/octet"))
    at.run()
    at.button(key="leads_import").click().run()

    no_exception(at)
    errors = [e.value for e in at.error]
    assert any("A1:XFD1048576" in e and "无法读取上传的工作簿" in e for e in errors), errors
    assert str(tmp_path) not in " ".join(errors)  # no server path in the page
    assert SqliteLedger(tmp_path / "leads.sqlite").leads() == []
    st.cache_resource.clear()
    st.cache_data.clear()
