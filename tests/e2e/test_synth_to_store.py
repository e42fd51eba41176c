"""Synthesise, load, check: the clean set loads whole, the dirty set's faults are all explained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loaders.load import load_folder
from loaders.reasons import REASONS
from loaders.store import open_store

# which quarantine reason each injected fault must produce
FAULT_REASONS = {
    "bad_check_digit": {"certno_check_digit"},
    "certno_length": {"certno_length"},
    "sci_notation_id": {"id_as_number"},
    "unknown_division": {"unknown_division"},
    "unknown_person": {"unknown_reference"},
    "unknown_institution": {"unknown_reference"},
    "amounts_mismatch": {"amounts_mismatch"},
    "invalid_date": {"bad_date"},
    "date_out_of_range": {"date_out_of_range"},
    "missing_value": {"missing_value"},
    "duplicate_row": {"duplicate_row"},
    "duplicate_key": {"duplicate_key"},
    "column_count": {"column_count"},
    "bad_enum": {"bad_enum"},
    "orphan_fee_detail": {"unknown_reference"},
    "bad_trace_code": {"bad_trace_code"},
    "fee_amount_mismatch": {"fee_amount_mismatch"},
    "unmatched_reversal": {"unmatched_reversal"},
}


def _data_rows(path: Path) -> int:
    """Data records of a synthetic file: its lines minus the header."""
    if path.suffix == ".csv":
        with open(path, "rb") as fh:
            return sum(1 for _ in fh) - 1
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()
    return sum(1 for r in rows[1:] if any(v not in (None, "") for v in r))


def test_clean_set_loads_without_quarantine(clean_folder: Path, tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb") as store:
        report = load_folder(clean_folder, store)
        counts = store.table_counts()
        reversals = store.frame(
            "SELECT count(*) AS n, count(init_setl_id) AS linked FROM settlements "
            "WHERE medfee_sumamt < 0"
        ).iloc[0]
        codes_in_files = store.frame(
            "SELECT count(*) AS n FROM trace_codes"
        ).iloc[0]["n"]
    assert report.quarantined == 0, report.reasons
    for f in report.files:
        assert f.rows_in == _data_rows(clean_folder / f.file)
        assert f.inserted == f.rows_in
        assert counts[f.table] == f.rows_in
    assert reversals["n"] > 0
    assert reversals["linked"] == reversals["n"]
    assert codes_in_files > 0


def test_dirty_set_quarantines_every_fault_and_nothing_else(
    dirty_folder: Path, tmp_path: Path
) -> None:
    faults = json.loads((dirty_folder / "faults.json").read_text(encoding="utf-8"))
    with open_store(tmp_path / "d.duckdb") as store:
        report = load_folder(dirty_folder, store)
        quarantine = store.quarantine_frame()
    for f in report.files:
        assert f.rows_in == f.inserted + f.unchanged + f.quarantined
        assert f.rows_in == _data_rows(dirty_folder / f.file)
    by_row = {(r.file, int(r.row_no)): r for r in quarantine.itertuples(index=False)}
    expected = {
        (f["file"], f["row"]): f for f in faults if f["expect"] == "quarantine" and f["row"]
    }
    assert expected, "the dirty set should inject quarantine faults"
    missing = sorted(set(expected) - set(by_row))
    assert not missing, f"faults not quarantined: {[expected[k] for k in missing][:5]}"
    unexpected = sorted(set(by_row) - set(expected))
    assert not unexpected, f"rows quarantined without a planted fault: {unexpected[:5]}"
    for key, fault in expected.items():
        row = by_row[key]
        codes = {p["code"] for p in json.loads(row.problems)}
        assert codes & FAULT_REASONS[fault["fault"]], (fault, codes)
        assert row.reason_code in REASONS
        assert row.reason_zh
        assert row.reason_en
    normalised = [f for f in faults if f["expect"] == "normalise" and f["row"]]
    assert normalised
    assert not [f for f in normalised if (f["file"], f["row"]) in by_row]
    assert sum(sum(f.normalised.values()) for f in report.files) > 0


def test_reloading_the_dirty_set_adds_nothing(dirty_folder: Path, tmp_path: Path) -> None:
    with open_store(tmp_path / "d.duckdb") as store:
        first = load_folder(dirty_folder, store)
        before = store.table_counts()
        second = load_folder(dirty_folder, store)
        after = store.table_counts()
    assert before == after
    assert second.inserted == 0
    assert second.loaded == first.loaded
    assert second.quarantined == first.quarantined


@pytest.mark.slow
@pytest.mark.parametrize("file_format", ["parquet", "xlsx"])
def test_other_formats_load_the_same_rows(
    file_format: str, clean_folder: Path, tmp_path: Path
) -> None:
    from yibao.synth import synthesize

    folder = tmp_path / file_format
    synthesize(folder, scale=10_000, seed=11, file_format=file_format)  # type: ignore[arg-type]
    with open_store(tmp_path / "csv.duckdb") as a, open_store(tmp_path / "other.duckdb") as b:
        load_folder(clean_folder, a)
        report = load_folder(folder, b)
        assert report.quarantined == 0, report.reasons
        for table in ("persons", "settlements", "fee_details"):
            sql = f"SELECT * FROM {table} EXCLUDE (_load_id) ORDER BY ALL"
            assert a.frame(sql).equals(b.frame(sql)), table
