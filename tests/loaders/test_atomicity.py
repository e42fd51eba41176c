"""A load is one transaction: a fatal error or a crash in any file leaves every table, the
quarantine and the load history exactly as they were, and the store opens and loads fine."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from loaders.load import load_folder
from loaders.store import Store, open_store
from yibao.errors import DataFileError, EncodingDetectionError, MissingColumnError


def _dirty_rows(tiny: Any) -> dict[str, list[dict[str, str]]]:
    """Valid rows plus one new row per table, one of them bad (so quarantine moves too)."""
    rows = tiny.rows()
    rows["institutions"].append({**rows["institutions"][0], "fixmedins_code": "H34120000033"})
    rows["persons"].append({**rows["persons"][0], "psn_no": "00341200000004", "gend": "x"})
    rows["persons"].append({**rows["persons"][0], "psn_no": "x"})
    rows["settlements"].append({**rows["settlements"][0], "setl_id": "S000000004"})
    return rows


@pytest.fixture
def loaded(tmp_path: Path, store: Store, tiny: Any) -> dict[str, list[tuple[Any, ...]]]:
    """The store after a first, committed load with a quarantined and a noted row; its
    snapshot."""
    rows = tiny.rows("institutions", "persons")
    rows["persons"][2]["tel"] = "123"
    rows["persons"].append({**rows["persons"][0], "psn_no": "bad"})
    load_folder(tiny.write_folder(tmp_path / "first", rows), store)
    snapshot: dict[str, list[tuple[Any, ...]]] = tiny.snapshot(store)
    assert snapshot["persons"]
    assert snapshot["quarantine"]
    assert snapshot["data_notes"]
    return snapshot


def test_missing_column_in_the_last_file_rolls_everything_back(
    tmp_path: Path, store: Store, tiny: Any, loaded: dict[str, Any]
) -> None:
    rows = _dirty_rows(tiny)
    for r in rows["fee_details"]:
        del r["det_item_fee_sumamt"]
    folder = tiny.write_folder(tmp_path / "second", rows)

    with pytest.raises(MissingColumnError, match=r"fee_details\.csv: table 'fee_details' is "
                       r"missing required column\(s\): det_item_fee_sumamt"):
        load_folder(folder, store)

    assert tiny.snapshot(store) == loaded


def test_store_loads_normally_after_a_rolled_back_load(
    tmp_path: Path, store: Store, tiny: Any, loaded: dict[str, Any]
) -> None:
    rows = _dirty_rows(tiny)
    broken = tiny.write_folder(tmp_path / "broken", rows)
    (broken / "fee_details.csv").write_text("nothing,useful\n1,2\n", encoding="utf-8")
    with pytest.raises(MissingColumnError):
        load_folder(broken, store)

    report = load_folder(tiny.write_folder(tmp_path / "fixed", rows), store)

    assert len(tiny.snapshot(store)["loads"]) == len(loaded["loads"]) + 1
    assert [f.table for f in report.files] == list(tiny.TABLES)
    assert store.table_counts()["institutions"] == 3
    assert store.table_counts()["fee_details"] == 4
    temp = store.con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name IN "
        "('raw', 'raw_rejects', 'checked', '_reversal_match', '_skipped')"
    ).fetchall()
    assert temp == []


def test_unreadable_workbook_in_a_later_file_rolls_back(
    tmp_path: Path, store: Store, tiny: Any, loaded: dict[str, Any]
) -> None:
    rows = _dirty_rows(tiny)
    del rows["settlements"]
    folder = tiny.write_folder(tmp_path / "second", rows)
    (folder / "settlements.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(DataFileError, match=r"settlements\.xlsx: cannot read the workbook"):
        load_folder(folder, store)
    assert tiny.snapshot(store) == loaded


def test_undecodable_file_is_refused_before_anything_is_written(
    tmp_path: Path, store: Store, tiny: Any, loaded: dict[str, Any]
) -> None:
    folder = tiny.write_folder(tmp_path / "second", _dirty_rows(tiny))
    (folder / "fee_details.csv").write_bytes(b"\xff\xfe\x00\x01" * 10)
    with pytest.raises(EncodingDetectionError):
        load_folder(folder, store)
    assert tiny.snapshot(store) == loaded


def test_an_error_inside_a_file_rolls_back(
    tmp_path: Path, store: Store, tiny: Any, loaded: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import loaders.load

    real = loaders.load._load_staged
    calls: list[str] = []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[1].table)
        if len(calls) == 4:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(loaders.load, "_load_staged", failing)
    folder = tiny.write_folder(tmp_path / "second", _dirty_rows(tiny))

    with pytest.raises(RuntimeError, match="disk full"):
        load_folder(folder, store)

    assert calls == ["institutions", "persons", "practitioners", "settlements"]
    assert tiny.snapshot(store) == loaded


_CRASH = textwrap.dedent(
    """
    import os, sys
    import loaders.load
    from loaders.load import load_folder
    from loaders.store import open_store

    real = loaders.load._load_staged
    calls = []

    def crash(*args, **kwargs):
        calls.append(args[1].table)
        if len(calls) == 3:
            os._exit(17)  # the process dies mid-load: no rollback, no close
        return real(*args, **kwargs)

    loaders.load._load_staged = crash
    store = open_store(sys.argv[1])
    load_folder(sys.argv[2], store)
    """
)


def test_a_crash_mid_load_leaves_nothing_of_that_load(
    tmp_path: Path, tiny: Any
) -> None:
    db = tmp_path / "store.duckdb"
    with open_store(db) as store:
        rows = tiny.rows("institutions", "persons")
        rows["persons"][2]["tel"] = "123"
        load_folder(tiny.write_folder(tmp_path / "first", rows), store)
        before = tiny.snapshot(store)
    folder = tiny.write_folder(tmp_path / "second", _dirty_rows(tiny))

    done = subprocess.run(
        [sys.executable, "-c", _CRASH, str(db), str(folder)],
        capture_output=True, text=True, timeout=120, check=False,
    )

    assert done.returncode == 17, done.stderr
    with open_store(db) as store:
        assert tiny.snapshot(store) == before
        report = load_folder(folder, store)  # and the store takes the same load again
        # the new institution, the person fixed since, practitioners, settlements, fee lines
        assert report.inserted == 1 + 1 + 2 + 4 + 4
        assert store.table_counts()["settlements"] == 4
    with open_store(db, read_only=True) as store:
        assert store.table_counts()["institutions"] == 3
