"""Loading the same files again adds nothing: identical rows count as unchanged and the
quarantine does not grow; fixing a refused row and loading again loads what depended on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from loaders.load import load_folder
from loaders.store import Store


def _dirty(tiny: Any) -> dict[str, list[dict[str, str]]]:
    rows = tiny.rows()
    rows["settlements"][0]["medfee_sumamt"] = "999.00"  # refused: amounts do not add up
    rows["persons"][1]["certno"] = rows["persons"][1]["certno"][:17] + "0"  # kept, with a note
    rows["institutions"].append({**rows["institutions"][0], "lat": "99"})  # refused, duplicate
    rows["fee_details"].append({**rows["fee_details"][3]})  # exact duplicate
    return rows


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_second_load_of_the_same_folder_adds_nothing(
    tmp_path: Path, store: Store, tiny: Any, fmt: str
) -> None:
    folder = tiny.write_folder(tmp_path / "export", _dirty(tiny), fmt=fmt)
    first = load_folder(folder, store)
    before = tiny.snapshot(store)

    second = load_folder(folder, store)

    assert second.load_id == first.load_id + 1
    assert second.inserted == 0
    assert second.quarantined == first.quarantined > 0
    for a, b in zip(first.files, second.files, strict=True):
        assert (b.rows_in, b.unchanged, b.quarantined) == (a.rows_in, a.loaded, a.quarantined)
        assert b.reasons == a.reasons
        assert b.rows_in == b.inserted + b.unchanged + b.quarantined
    after = tiny.snapshot(store)
    assert before["data_notes"]
    for name in (*tiny.TABLES, "trace_codes", "quarantine", "data_notes"):
        assert after[name] == before[name], name
    assert len(after["loads"]) == 2
    assert len(after["load_files"]) == 10


def test_the_orphans_of_a_fixed_row_load_next_time(
    tmp_path: Path, store: Store, tiny: Any
) -> None:
    rows = _dirty(tiny)
    first = load_folder(tiny.write_folder(tmp_path / "one", rows), store)
    # settlement 1 refused: its two fee lines are orphans
    assert tiny.file_report(first, "settlements").reasons == {"amounts_mismatch": 1}
    assert tiny.file_report(first, "fee_details").reasons == {
        "reference_quarantined": 2, "duplicate_row": 1,
    }
    quarantined_before = len(tiny.quarantine(store))

    rows["settlements"][0]["medfee_sumamt"] = tiny.rows("settlements")["settlements"][0][
        "medfee_sumamt"
    ]
    second = load_folder(tiny.write_folder(tmp_path / "two", rows), store)

    persons = tiny.file_report(second, "persons")
    assert (persons.inserted, persons.unchanged, persons.quarantined) == (0, 3, 0)
    settlements = tiny.file_report(second, "settlements")
    assert (settlements.inserted, settlements.unchanged, settlements.quarantined) == (1, 2, 0)
    fee = tiny.file_report(second, "fee_details")
    assert (fee.inserted, fee.unchanged, fee.reasons) == (2, 2, {"duplicate_row": 1})
    assert ("S000000001",) in tiny.stored(store, "settlements", "setl_id")
    # institutions.csv and fee_details.csv are the same bytes (if in another folder): their
    # refused rows are not quarantined again
    assert [q for q in tiny.quarantine(store) if q["load_id"] == second.load_id] == []
    assert len(tiny.quarantine(store)) == quarantined_before


def test_unchanged_files_are_not_quarantined_twice(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = _dirty(tiny)
    folder = tiny.write_folder(tmp_path / "one", rows)
    load_folder(folder, store)
    first = {(q["file"], q["row_no"], q["reason_code"]) for q in tiny.quarantine(store)}

    rows["settlements"][0]["medfee_sumamt"] = tiny.rows("settlements")["settlements"][0][
        "medfee_sumamt"
    ]
    tiny.write_table(folder, "settlements", rows["settlements"])  # only settlements.csv changes
    second = load_folder(folder, store)

    loaded_again = [q for q in tiny.quarantine(store) if q["load_id"] == second.load_id]
    assert loaded_again == []  # institutions and fee_details: same bytes, same entries
    assert {(q["file"], q["row_no"], q["reason_code"]) for q in tiny.quarantine(store)} == first


def test_same_rows_in_another_format_are_unchanged(tmp_path: Path, store: Store, tiny: Any) -> None:
    load_folder(tiny.write_folder(tmp_path / "csv", fmt="csv"), store)
    for fmt in ("xlsx", "parquet"):
        report = load_folder(tiny.write_folder(tmp_path / fmt, fmt=fmt), store)
        assert report.inserted == 0
        assert report.loaded == 14
        assert report.quarantined == 0


def test_load_history_records_each_load(tmp_path: Path, store: Store, tiny: Any) -> None:
    folder = tiny.write_folder(tmp_path / "export", _dirty(tiny))
    first = load_folder(folder, store)
    second = load_folder(folder, store)
    loads = store.con.execute(
        "SELECT load_id, source, rows_in, inserted, unchanged, quarantined FROM loads "
        "ORDER BY load_id"
    ).fetchall()
    assert loads == [
        (first.load_id, str(folder), first.rows_in, first.inserted, 0, first.quarantined),
        (second.load_id, str(folder), second.rows_in, 0, first.loaded, second.quarantined),
    ]
    files = store.con.execute(
        "SELECT table_name, rows_in, inserted, unchanged, quarantined FROM load_files "
        "WHERE load_id = ? ORDER BY table_name", [second.load_id]
    ).fetchall()
    assert files == sorted(
        (f.table, f.rows_in, f.inserted, f.unchanged, f.quarantined) for f in second.files
    )
