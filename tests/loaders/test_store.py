"""The store: one DuckDB file with typed contract tables, quarantine and load history."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from loaders.contract import TABLES
from loaders.load import load_folder
from loaders.store import SCHEMA_VERSION, Store, open_store
from yibao.errors import StoreError


def _types(store: Store, table: str) -> dict[str, str]:
    rows = store.con.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
        [table],
    ).fetchall()
    return dict(rows)


def test_schema_has_every_contract_column_typed(store: Store) -> None:
    for name, table in TABLES.items():
        types = _types(store, name)
        assert list(types) == [*table.column_names, "_load_id"]
    assert _types(store, "persons")["psn_no"] == "VARCHAR"
    assert _types(store, "persons")["brdy"] == "DATE"
    assert _types(store, "settlements")["setl_time"] == "TIMESTAMP"
    assert _types(store, "settlements")["medfee_sumamt"] == "DECIMAL(18,4)"
    assert _types(store, "fee_details")["cnt"] == "DECIMAL(18,6)"
    assert _types(store, "institutions")["lon"] == "DOUBLE"
    assert list(_types(store, "quarantine")) == [
        "load_id", "table_name", "file", "sha256", "row_no", "column_name", "raw_value",
        "reason_code", "reason_zh", "reason_en", "problems", "raw_record",
    ]


def test_new_store_is_empty(store: Store) -> None:
    assert store.table_counts() == {
        "institutions": 0, "persons": 0, "practitioners": 0, "settlements": 0,
        "fee_details": 0, "trace_codes": 0, "quarantine": 0, "data_notes": 0,
    }
    assert store.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() \
        == [(str(SCHEMA_VERSION),)]


def test_store_keeps_its_rows_across_opens(tmp_path: Path, tiny: Any) -> None:
    db = tmp_path / "nested" / "store.duckdb"  # parent folders are made
    with open_store(db) as store:
        load_folder(tiny.write_folder(tmp_path / "export"), store)
        counts = store.table_counts()
    with open_store(db) as store:
        assert store.table_counts() == counts
    with open_store(db, read_only=True) as store:
        assert store.table_counts()["settlements"] == 3


def test_frames(tmp_path: Path, store: Store, tiny: Any) -> None:
    rows = tiny.rows("persons")
    rows["persons"][1]["psn_no"] = "#x"
    first = load_folder(tiny.write_folder(tmp_path / "a", rows), store)
    rows["persons"][2]["psn_no"] = "#y"
    second = load_folder(tiny.write_folder(tmp_path / "b", rows), store)

    # the second file is other bytes: its copy of the bad row is quarantined again
    assert list(store.quarantine_frame()["load_id"]) == [first.load_id, *[second.load_id] * 2]
    only = store.quarantine_frame(second.load_id)
    assert list(only["row_no"]) == [3, 4]
    frame = store.frame("SELECT psn_no FROM persons WHERE psn_name = ?", ["张三"])
    assert list(frame["psn_no"]) == ["00341200000001"]


def test_read_only_store_must_exist(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"store .*missing\.duckdb does not exist: run 'yibao "
                       r"load DIR --db"):
        open_store(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    with open_store(db) as store:
        store.con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match="store schema version 99 is not 2: load the data into "
                       "a new --db file"):
        open_store(db)


def test_a_version_1_store_is_upgraded_in_place(tmp_path: Path, tiny: Any) -> None:
    db = tmp_path / "store.duckdb"
    with open_store(db) as store:
        load_folder(tiny.write_folder(tmp_path / "export"), store)
        # what a version-1 store looked like: no notes, no operator or department columns
        store.con.execute("DROP TABLE data_notes")
        for col in ("opter_id", "opter_name", "dept_codg", "dept_name"):
            store.con.execute(f"ALTER TABLE settlements DROP COLUMN {col}")
        store.con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        before = store.con.execute("SELECT * FROM settlements ORDER BY setl_id").fetchall()
    with open_store(db) as store:
        assert store.con.execute("SELECT value FROM meta WHERE key = 'schema_version'")\
            .fetchall() == [(str(SCHEMA_VERSION),)]
        after = store.con.execute("SELECT * FROM settlements ORDER BY setl_id").fetchall()
        assert [row[:-4] for row in after] == before  # same rows, new empty columns
        assert {row[-4:] for row in after} == {(None, None, None, None)}
        assert store.table_counts()["data_notes"] == 0
        report = load_folder(tiny.write_folder(tmp_path / "again"), store)
        assert report.inserted == 0


def test_store_in_use_by_another_process(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    open_store(db).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import sys, time
            from loaders.store import open_store
            store = open_store({str(db)!r})
            print("ready", flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match=r"is busy.*wait for it to finish"):
            open_store(db)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)


def test_memory_limit_and_threads_are_passed(tmp_path: Path) -> None:
    with open_store(tmp_path / "s.duckdb", memory_limit="256MB", threads=1) as store:
        (limit,), = store.con.execute("SELECT current_setting('memory_limit')").fetchall()
        (threads,), = store.con.execute("SELECT current_setting('threads')").fetchall()
    assert "MiB" in limit or "MB" in limit
    assert int(threads) == 1
