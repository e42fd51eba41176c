"""Shared fixtures: tiny valid export tables written to ``tmp_path``, and a fresh store.

The valid rows are written by hand from the data contract, and resident ID numbers get their
check digit from :func:`gb11643_check_digit` below, written independently of the loader's SQL,
so a test that a valid row loads does not reuse the code under test.

Test modules reach the helpers through the session-scoped ``tiny`` fixture (the
:class:`TinyTables` namespace); session scope keeps them usable from hypothesis tests.
"""

from __future__ import annotations

import copy
import csv
import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from loaders.contract import TABLE_ORDER
from loaders.load import load_folder
from loaders.report import FileReport, LoadReport
from loaders.store import Store, open_store

Row = dict[str, str]
Rows = dict[str, list[Row]]

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def gb11643_check_digit(body17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits of a resident ID number.

    ISO 7064 MOD 11-2: sum of digit x weight (2^(17-i) mod 11), then ``(12 - sum % 11) % 11``
    with 10 written as ``X``.
    """
    assert len(body17) == 17, body17
    assert body17.isdigit(), body17
    total = sum(int(d) * w for d, w in zip(body17, _WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def make_certno(region: str = "341202", birth: str = "19800101", seq: str = "123") -> str:
    body = region + birth + seq
    return body + gb11643_check_digit(body)


def _valid_rows() -> Rows:
    """Two institutions, three persons, two practitioners, three settlements, four fee lines.

    IDs with leading zeros on purpose; amounts add up; birth dates match the ID numbers.
    """
    return {
        "institutions": [
            {"fixmedins_code": "H34120000017", "fixmedins_name": "阜阳市颍州区人民医院",
             "fixmedins_type": "1", "hosp_lv": "05", "admdvs": "341202",
             "addr": "颍州区人民路 1 号", "lon": "115.81", "lat": "32.89"},
            {"fixmedins_code": "P34120000025", "fixmedins_name": "界首市康民大药房",
             "fixmedins_type": "2", "hosp_lv": "", "admdvs": "341282",
             "addr": "", "lon": "", "lat": ""},
        ],
        "persons": [
            {"psn_no": "00341200000001", "psn_name": "张三", "certno": make_certno(
                "341202", "19800101", "123"), "gend": "1", "brdy": "1980-01-01",
             "insutype": "310", "insu_admdvs": "341202", "tel": "13800001234"},
            {"psn_no": "00341200000002", "psn_name": "李四", "certno": make_certno(
                "341282", "19551231", "042"), "gend": "2", "brdy": "1955-12-31",
             "insutype": "390", "insu_admdvs": "341282", "tel": "0558-2212345"},
            {"psn_no": "00341200000003", "psn_name": "王五", "certno": make_certno(
                "310104", "20000229", "007"), "gend": "1", "brdy": "2000-02-29",
             "insutype": "390", "insu_admdvs": "310104", "tel": ""},
        ],
        "practitioners": [
            {"dr_codg": "D34120000123", "dr_name": "赵医生", "fixmedins_code": "H34120000017",
             "dr_type": "1"},
            {"dr_codg": "Y34120000456", "dr_name": "钱药师", "fixmedins_code": "P34120000025",
             "dr_type": "2"},
        ],
        "settlements": [
            {"setl_id": "S000000001", "mdtrt_id": "M000000001", "psn_no": "00341200000001",
             "fixmedins_code": "H34120000017", "med_type": "11",
             "setl_time": "2024-03-05 09:30:00", "begndate": "2024-03-05",
             "enddate": "2024-03-05", "medfee_sumamt": "150.00", "fund_pay_sumamt": "90.00",
             "hifp_pay": "90.00", "acct_pay": "40.00", "psn_cash_pay": "20.00",
             "dise_codg": "J06.900", "dr_codg": "D34120000123", "init_setl_id": ""},
            {"setl_id": "S000000002", "mdtrt_id": "M000000002", "psn_no": "00341200000002",
             "fixmedins_code": "H34120000017", "med_type": "21",
             "setl_time": "2024-03-12 16:00:00", "begndate": "2024-03-01",
             "enddate": "2024-03-12", "medfee_sumamt": "8000.50", "fund_pay_sumamt": "6000.00",
             "hifp_pay": "5800.00", "acct_pay": "0", "psn_cash_pay": "2000.50",
             "dise_codg": "I10.x00", "dr_codg": "D34120000123", "init_setl_id": ""},
            {"setl_id": "S000000003", "mdtrt_id": "M000000003", "psn_no": "00341200000003",
             "fixmedins_code": "P34120000025", "med_type": "41",
             "setl_time": "2024-04-01 10:15:00", "begndate": "", "enddate": "",
             "medfee_sumamt": "66.60", "fund_pay_sumamt": "0", "hifp_pay": "0",
             "acct_pay": "66.60", "psn_cash_pay": "0", "dise_codg": "", "dr_codg": "",
             "init_setl_id": ""},
        ],
        "fee_details": [
            {"feedetl_sn": "F0001", "setl_id": "S000000001", "med_list_codg": "XJ01CAA040A001",
             "med_list_name": "阿莫西林胶囊", "cnt": "2", "pric": "25.00",
             "det_item_fee_sumamt": "50.00", "bilg_dr_codg": "D34120000123",
             "drug_trac_codg": "81234560000000000001;81234560000000000002"},
            {"feedetl_sn": "F0002", "setl_id": "S000000001", "med_list_codg": "001102000010000",
             "med_list_name": "普通门诊诊查费", "cnt": "1", "pric": "100.00",
             "det_item_fee_sumamt": "100.00", "bilg_dr_codg": "D34120000123",
             "drug_trac_codg": ""},
            {"feedetl_sn": "F0001", "setl_id": "S000000002", "med_list_codg": "001102000010000",
             "med_list_name": "床位费", "cnt": "11", "pric": "727.318182",
             "det_item_fee_sumamt": "8000.50", "bilg_dr_codg": "", "drug_trac_codg": ""},
            {"feedetl_sn": "F0003", "setl_id": "S000000003", "med_list_codg": "XC09AAL031A001",
             "med_list_name": "卡托普利片", "cnt": "3", "pric": "22.2",
             "det_item_fee_sumamt": "66.60", "bilg_dr_codg": "",
             "drug_trac_codg": "81234560000000000003"},
        ],
    }


_VALID = _valid_rows()


class TinyTables:
    """Helpers that build and write tiny export tables (a namespace, used via ``tiny``)."""

    TABLES = TABLE_ORDER
    NEEDS: ClassVar[dict[str, tuple[str, ...]]] = {
        "institutions": (),
        "persons": (),
        "practitioners": ("institutions",),
        "settlements": ("institutions", "persons"),
        "fee_details": ("institutions", "persons", "settlements"),
    }
    """The tables a table's references need, so that its valid rows load."""
    check_digit = staticmethod(gb11643_check_digit)
    certno = staticmethod(make_certno)

    @staticmethod
    def rows(*tables: str) -> Rows:
        """A fresh copy of the valid rows (of ``tables`` only, when given)."""
        chosen = tables or TABLE_ORDER
        return {t: copy.deepcopy(_VALID[t]) for t in chosen}

    @staticmethod
    def csv_text(
        header: Sequence[str], records: Sequence[Sequence[str]], *, newline: str = "\n"
    ) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator=newline)
        writer.writerow(header)
        writer.writerows(records)
        return buf.getvalue()

    @staticmethod
    def write_table(
        folder: Path,
        table: str,
        rows: Sequence[Mapping[str, str]],
        *,
        fmt: str = "csv",
        encoding: str = "utf-8",
        header: Mapping[str, str] | None = None,
        name: str | None = None,
    ) -> Path:
        """Write ``rows`` (dicts by contract column) as ``folder/<table>.<fmt>``.

        ``header`` renames columns in the file (contract name -> header text). Columns come from
        the first row; every value is written as text (xlsx cells as strings, parquet as
        ``string``), so nothing is retyped on the way.
        """
        folder.mkdir(parents=True, exist_ok=True)
        columns = list(rows[0]) if rows else []
        names = [(header or {}).get(c, c) for c in columns]
        records = [[r.get(c, "") for c in columns] for r in rows]
        path = folder / f"{name or table}.{fmt}"
        if fmt == "csv":
            path.write_bytes(TinyTables.csv_text(names, records).encode(encoding))
        elif fmt == "xlsx":
            TinyTables.write_xlsx(path, [names, *records])
        elif fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            data = {n: pa.array([rec[i] for rec in records], pa.string())
                    for i, n in enumerate(names)}
            pq.write_table(pa.table(data), path)
        else:
            raise ValueError(fmt)
        return path

    @staticmethod
    def write_xlsx(path: Path, sheet_rows: Sequence[Sequence[Any]]) -> Path:
        """Write rows of cells (``None`` = empty) to the first sheet, row 1 first."""
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        for r, values in enumerate(sheet_rows, start=1):
            for c, value in enumerate(values, start=1):
                if value is not None and value != "":
                    ws.cell(row=r, column=c, value=value)
        wb.save(path)
        return path

    @staticmethod
    def write_folder(
        folder: Path, rows: Rows | None = None, *, fmt: str = "csv", encoding: str = "utf-8"
    ) -> Path:
        """Write every table of ``rows`` (default: all valid tables) into ``folder``."""
        rows = TinyTables.rows() if rows is None else rows
        folder.mkdir(parents=True, exist_ok=True)
        for table, table_rows in rows.items():
            TinyTables.write_table(folder, table, table_rows, fmt=fmt, encoding=encoding)
        return folder

    @staticmethod
    def file_report(report: LoadReport, table: str) -> FileReport:
        """The report of ``table``'s file in ``report``."""
        (found,) = [f for f in report.files if f.table == table]
        return found

    @staticmethod
    def quarantine(store: Store, table: str | None = None) -> list[dict[str, Any]]:
        """Quarantine rows (of ``table``) as dicts, in load, file and row order."""
        frame = store.quarantine_frame()
        if table is not None:
            frame = frame[frame["table_name"] == table]
        records: list[dict[str, Any]] = frame.astype(object).where(frame.notna(), None).to_dict(
            "records"
        )
        return records

    @staticmethod
    def notes(store: Store, table: str | None = None) -> list[dict[str, Any]]:
        """Data-quality notes (of ``table``) as dicts, in load, file and row order."""
        frame = store.notes_frame()
        if table is not None:
            frame = frame[frame["table_name"] == table]
        records: list[dict[str, Any]] = frame.astype(object).where(frame.notna(), None).to_dict(
            "records"
        )
        return records

    @staticmethod
    def stored(store: Store, table: str, columns: str = "*") -> list[tuple[Any, ...]]:
        """Rows of a store table, sorted, as tuples."""
        return sorted(store.con.execute(f'SELECT {columns} FROM "{table}"').fetchall(), key=repr)

    @staticmethod
    def records(store: Store, table: str) -> list[dict[str, Any]]:
        """Rows of a store table as dicts (Python values: str, Decimal, date, datetime)."""
        cur = store.con.execute(f'SELECT * FROM "{table}"')
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    @staticmethod
    def load_changed(
        root: Path,
        table: str,
        changes: Mapping[str, str],
        *,
        index: int = 0,
        fmt: str = "csv",
    ) -> tuple[FileReport, list[dict[str, Any]], list[dict[str, Any]]]:
        """Load the valid rows of ``table`` (and the tables it needs) with ``changes`` applied
        to row ``index``; return the file's report, its quarantine rows and its stored rows."""
        rows = TinyTables.rows(*TinyTables.NEEDS[table], table)
        rows[table][index].update(changes)
        folder = TinyTables.write_folder(root / "export", rows, fmt=fmt)
        with open_store(root / "store.duckdb") as store:
            report = load_folder(folder, store)
            return (
                TinyTables.file_report(report, table),
                TinyTables.quarantine(store, table),
                TinyTables.records(store, table),
            )

    @staticmethod
    def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
        """Every data table, ``trace_codes``, ``quarantine``, ``data_notes``, ``loads`` and
        ``load_files``."""
        names = (*TABLE_ORDER, "trace_codes", "quarantine", "data_notes", "loads", "load_files")
        return {n: TinyTables.stored(store, n) for n in names}


_LANE_FIXTURES = {"detected": "integration", "bolt_server": "server"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its lane: ``integration`` (it needs the detected store), ``server``
    (a Bolt server), ``browser`` (tests/browser), so that the fast lane
    ``-m "not integration and not server and not browser"`` runs without them."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marker in _LANE_FIXTURES.items():
            if fixture in names:
                item.add_marker(marker)
        if "browser" in Path(str(item.fspath)).parts:
            item.add_marker("browser")


@pytest.fixture(scope="session")
def tiny() -> type[TinyTables]:
    """The tiny-table helpers (see :class:`TinyTables`)."""
    return TinyTables


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding the five valid tables as UTF-8 CSV."""
    return TinyTables.write_folder(tmp_path / "export")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store file in ``tmp_path``, closed after the test."""
    with open_store(tmp_path / "store.duckdb") as s:
        yield s


from tests.detected import (  # noqa: E402  (shared session fixtures: the detected store)
    detected,
    detected_copy,
    detected_store,
)

__all__ = ["detected", "detected_copy", "detected_store"]
