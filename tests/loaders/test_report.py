"""The load report: per file, rows in = inserted + unchanged + quarantined, and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from loaders.load import load_folder
from loaders.report import FileReport, LoadReport
from loaders.store import Store


def _file(table: str, **counts: Any) -> FileReport:
    return FileReport(table=table, file=f"{table}.csv", file_format="csv", encoding="utf-8",
                      sha256="0" * 64, **counts)


def test_totals_and_reasons_add_up() -> None:
    report = LoadReport(
        load_id=3, source="x", db="s.duckdb",
        files=(
            _file("persons", rows_in=5, inserted=2, unchanged=1, quarantined=2,
                  reasons={"bad_enum": 1, "bad_date": 1}),
            _file("settlements", rows_in=4, inserted=0, unchanged=1, quarantined=3,
                  reasons={"bad_date": 2, "amounts_mismatch": 1}),
        ),
    )
    assert (report.rows_in, report.inserted, report.loaded, report.quarantined) == (9, 2, 4, 5)
    assert list(report.reasons.items()) == [("bad_date", 3), ("amounts_mismatch", 1),
                                            ("bad_enum", 1)]
    data = report.to_dict()
    assert data["loaded"] == 4
    assert data["files"][0]["loaded"] == 3
    assert data["files"][0]["ignored_columns"] == []


def test_a_real_load_accounts_for_every_row(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows()
    rows["persons"][2]["brdy"] = "2000-02-30"
    rows["persons"].append({**rows["persons"][0]})
    rows["fee_details"][0]["pric"] = "2５.00"
    report = load_folder(tiny.write_folder(tmp_path / "export", rows), store)

    for f in report.files:
        assert f.rows_in == f.inserted + f.unchanged + f.quarantined
        assert sum(f.reasons.values()) == f.quarantined
        assert f.seconds >= 0
    persons = tiny.file_report(report, "persons")
    assert persons.reasons == {"duplicate_row": 1}
    assert (persons.noted, persons.notes, persons.noted_columns) == (1, {"bad_date": 1},
                                                                     {"brdy": 1})
    assert report.to_dict()["notes"] == {"bad_date": 1}
    assert store.table_counts()["data_notes"] == sum(sum(f.notes.values()) for f in report.files)
    fee = tiny.file_report(report, "fee_details")
    assert fee.normalised == {"pric": 1}
    assert report.to_dict()["files"][1]["table"] == "persons"
    assert store.table_counts()["quarantine"] == report.quarantined
