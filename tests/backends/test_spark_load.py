"""Loading on Spark gives what the embedded loader gives: the same account of every file, the
same quarantine entries and the same loaded rows, on a dirty synthetic export and on tiny
exports that reach every cross-row check (duplicates, conflicts with earlier loads, references
to quarantined rows, reversals matched, cancelled twice or unmatched, coordinates outside
their division), split into several buckets; a second load of the same folder changes
nothing, and a load that fails leaves the lake as it was."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, fields
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from backends.spark.lake import attach_lake
from backends.spark.load import LAKE_LOAD_TABLES, spark_load
from backends.spark.load_checks import steps_of
from loaders.contract import TABLE_ORDER
from loaders.load import load_folder
from loaders.report import FileReport, LoadReport
from loaders.store import open_store
from yibao.errors import MissingColumnError
from yibao.synth import synthesize

pytestmark = [pytest.mark.integration, pytest.mark.spark]

BUCKETS = 4
_JSON = {"quarantine": ("problems", "raw_record"), "load_files": ("normalised",)}
_COMPARED = (*TABLE_ORDER, "trace_codes", "quarantine", "data_notes", "load_files")


def _account(report: LoadReport) -> list[dict[str, Any]]:
    """Every field of every file's report but the time it took."""
    return [{f.name: getattr(r, f.name) for f in fields(FileReport) if f.name != "seconds"}
            for r in report.files]


def _differences(store: Path, lake: Path) -> dict[str, tuple[int, int, int]]:
    """Per table: the store's rows, rows only the store has, rows only the lake has."""
    con = duckdb.connect()
    try:
        con.execute("ATTACH ? AS store (READ_ONLY)", [str(store)])
        con.execute("CREATE SCHEMA lake")
        con.execute("SET schema = 'lake'")
        attach_lake(con, lake)
        found = {}
        for table in _COMPARED:
            columns = [r[0] for r in con.execute(
                f"SELECT column_name FROM (DESCRIBE store.{table})").fetchall()]
            select = ", ".join(f"{c}::VARCHAR" if c in _JSON.get(table, ()) else c
                               for c in columns)
            mine, theirs = f"SELECT {select} FROM store.{table}", f"SELECT {select} FROM {table}"
            rows = con.execute(f"SELECT count(*) FROM store.{table}").fetchone()
            only_mine = con.execute(f"SELECT count(*) FROM ({mine} EXCEPT ALL {theirs})").fetchone()
            only_theirs = con.execute(
                f"SELECT count(*) FROM ({theirs} EXCEPT ALL {mine})").fetchone()
            assert rows is not None
            assert only_mine is not None
            assert only_theirs is not None
            found[table] = (int(rows[0]), int(only_mine[0]), int(only_theirs[0]))
        return found
    finally:
        con.close()


def _assert_same(store: Path, lake: Path) -> None:
    for table, (rows, only_store, only_lake) in _differences(store, lake).items():
        assert (only_store, only_lake) == (0, 0), (table, rows, only_store, only_lake)


def _lake_files(lake: Path) -> dict[str, str]:
    """Every file under ``lake`` and the SHA-256 of its bytes."""
    return {str(p.relative_to(lake)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(lake.rglob("*")) if p.is_file()}


@dataclass(frozen=True)
class Loaded:
    store: Path
    lake: Path
    embedded: tuple[LoadReport, LoadReport]
    spark: tuple[LoadReport, LoadReport]
    after_first: dict[str, tuple[int, int, int]]


@pytest.fixture(scope="module")
def dirty(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    """A dirty synthetic export loaded twice by the embedded loader and twice on Spark."""
    root = tmp_path_factory.mktemp("spark_load")
    synthesize(root / "export", scale=20_000, seed=23, dirty=True)
    store, lake = root / "store.duckdb", root / "lake"
    with open_store(store) as opened:
        embedded = (load_folder(root / "export", opened), load_folder(root / "export", opened))
    first = spark_load(spark, root / "export", lake, buckets=BUCKETS)
    # the lake after the first load, against a store holding the first load only
    with open_store(root / "first.duckdb") as opened:
        load_folder(root / "export", opened)
    after_first = _differences(root / "first.duckdb", lake)
    second = spark_load(spark, root / "export", lake, buckets=BUCKETS)
    return Loaded(store, lake, embedded, (first, second), after_first)


def test_every_file_is_accounted_for_as_the_embedded_loader_does(dirty: Loaded) -> None:
    first, second = dirty.embedded
    assert first.quarantined > 0, "the export is not dirty"
    assert len(first.reasons) >= 5
    assert first.noted > 0
    assert _account(dirty.spark[0]) == _account(first)
    assert _account(dirty.spark[1]) == _account(second)
    for report in dirty.spark:
        assert [f.table for f in report.files] == list(TABLE_ORDER)
        for f in report.files:
            assert f.rows_in == f.inserted + f.unchanged + f.quarantined
        assert report.db == str(dirty.lake)


def test_quarantine_notes_and_rows_equal_the_embedded_store(dirty: Loaded) -> None:
    for table, (rows, only_store, only_lake) in dirty.after_first.items():
        assert (only_store, only_lake) == (0, 0), (table, rows, only_store, only_lake)
    assert dirty.after_first["quarantine"][0] == dirty.embedded[0].quarantined
    assert dirty.after_first["data_notes"][0] > 0
    _assert_same(dirty.store, dirty.lake)


def test_a_second_load_changes_nothing(dirty: Loaded) -> None:
    first, second = dirty.spark
    assert second.load_id == first.load_id + 1
    assert second.inserted == 0
    assert [f.unchanged for f in second.files] == [f.inserted for f in first.files]
    assert [f.quarantined for f in second.files] == [f.quarantined for f in first.files]
    after = _differences(dirty.store, dirty.lake)
    for table in (*TABLE_ORDER, "trace_codes", "quarantine", "data_notes"):
        assert after[table][0] == dirty.after_first[table][0], table  # nothing added twice
    con = duckdb.connect()
    attach_lake(con, dirty.lake, ("loads",))
    loads = con.execute("SELECT load_id, rows_in, inserted, unchanged, quarantined FROM loads "
                        "ORDER BY load_id").fetchall()
    assert loads == [(r.load_id, r.rows_in, r.inserted, r.loaded - r.inserted, r.quarantined)
                     for r in dirty.spark]


def _reversal(original: dict[str, str], setl_id: str, setl_time: str, *,
              init: str = "") -> dict[str, str]:
    row = {**original, "setl_id": setl_id, "setl_time": setl_time, "init_setl_id": init}
    for column in ("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay"):
        value = Decimal(original[column])
        row[column] = str(-value) if value else "0"
    return row


def _edge_exports(tiny: Any, root: Path) -> tuple[Path, Path]:
    """Two exports, loaded one after the other, that reach every check across rows."""
    a = tiny.rows()
    a["institutions"][0].update(lon="121.47", lat="31.23")  # Shanghai, declared in Fuyang
    a["persons"].append({**a["persons"][2], "psn_name": "王五五"})  # duplicate key
    _, s2, s3 = (dict(r) for r in a["settlements"])
    a["settlements"][0]["medfee_sumamt"] = "999.00"  # refused: its fee lines refer to it
    a["settlements"] += [
        _reversal(s2, "R000000001", "2024-03-13 09:00:00"),
        _reversal(s3, "R000000002", "2024-04-02 09:00:00", init="S000000003"),
        _reversal(s3, "R000000003", "2024-04-03 09:00:00"),  # cancels S000000003 again
        {**_reversal(s3, "R000000004", "2024-04-04 09:00:00"), "medfee_sumamt": "-1.00",
         "acct_pay": "-1.00"},  # cancels nothing
    ]
    a["fee_details"].append({**a["fee_details"][3], "setl_id": "S000000099"})
    b = {"persons": tiny.rows("persons")["persons"], "settlements": [
        _reversal(s2, "R000000005", "2024-03-14 09:00:00"),  # S000000002 was cancelled before
        {**s2, "setl_id": "S000000004", "mdtrt_id": "M000000004",
         "setl_time": "2024-05-01 08:00:00", "begndate": "2024-04-20", "enddate": "2024-05-01"},
        _reversal({**s2, "setl_id": "S000000004", "mdtrt_id": "M000000004"}, "R000000006",
                  "2024-05-02 08:00:00"),
    ], "fee_details": [dict(a["fee_details"][0], feedetl_sn="F0009")]}
    b["persons"][0]["psn_name"] = "张叁"  # conflicts with the stored row
    return (tiny.write_folder(root / "a", a), tiny.write_folder(root / "b", b))


def test_checks_across_rows_equal_the_embedded_loader(spark: Any, tiny: Any,
                                                      tmp_path: Path) -> None:
    exports = _edge_exports(tiny, tmp_path)
    store, lake = tmp_path / "store.duckdb", tmp_path / "lake"
    for i, export in enumerate(exports):
        with open_store(store) as opened:
            expected = load_folder(export, opened)
        if i:  # a file of a load that never committed: removed before the next load
            stray = lake / "persons" / "load-000099-persons-0000.parquet"
            shutil.copy(next((lake / "persons").glob("*.parquet")), stray)
        found = spark_load(spark, export, lake, buckets=3)
        assert _account(found) == _account(expected)
        _assert_same(store, lake)
    assert not (lake / "persons" / "load-000099-persons-0000.parquet").exists()
    reasons = {code for r in (expected, found) for code in r.reasons}
    with open_store(store, read_only=True) as opened:
        reasons |= {r[0] for r in opened.con.execute(
            "SELECT DISTINCT reason_code FROM quarantine").fetchall()}
        notes = {r[0] for r in opened.con.execute(
            "SELECT DISTINCT reason_code FROM data_notes").fetchall()}
    assert {"duplicate_key", "conflicts_with_store", "reference_quarantined",
            "unknown_reference", "already_reversed", "unmatched_reversal"} <= reasons
    assert "coordinates_outside_division" in notes


def test_a_failed_load_leaves_the_lake_as_it_was(spark: Any, tiny: Any, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import backends.spark.load

    lake = tmp_path / "lake"
    spark_load(spark, tiny.write_folder(tmp_path / "first"), lake, buckets=2)
    before = _lake_files(lake)
    assert {name.split("/")[0] for name in before} == set(LAKE_LOAD_TABLES)

    rows = tiny.rows()
    for row in rows["settlements"]:
        del row["setl_time"]
    with pytest.raises(MissingColumnError, match="setl_time"):
        spark_load(spark, tiny.write_folder(tmp_path / "missing", rows), lake, buckets=2)
    assert _lake_files(lake) == before

    real = backends.spark.load.validate_on_spark
    seen: list[str] = []

    def failing(spark: Any, staged: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(staged.stage.table)
        if staged.stage.table == "fee_details":
            raise RuntimeError("disk full")
        return real(spark, staged, *args, **kwargs)

    monkeypatch.setattr(backends.spark.load, "validate_on_spark", failing)
    changed = tiny.rows()
    changed["persons"][0]["psn_name"] = "张叁"
    with pytest.raises(RuntimeError, match="disk full"):
        spark_load(spark, tiny.write_folder(tmp_path / "second", changed), lake, buckets=2)
    assert seen == list(TABLE_ORDER)  # four tables were validated and staged first
    assert _lake_files(lake) == before


def test_each_check_has_its_step() -> None:
    every = {t: steps_of(t) for t in TABLE_ORDER}
    assert [s.key for s in every["settlements"]] == ["setl_id", "psn_no", "fixmedins_code",
                                                     "pair"]
    assert every["fee_details"][0].references == (("setl_id", "settlements", "setl_id"),)
    assert [s.geocheck for s in every["institutions"]] == [True]
    for table, steps in every.items():
        assert steps[0].duplicates, table
        assert steps[0].stored, table
