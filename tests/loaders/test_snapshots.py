"""Published snapshots (loaders.snapshots): readers see the last published state, never block a
writer, and a busy store says so plainly."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from loaders.snapshots import (
    KEEP,
    current_snapshot,
    publish_snapshot,
    reading_path,
    snapshot_folder,
)
from loaders.store import open_published, open_store
from yibao.errors import StoreError


def _mark(db: Path, value: str, *, publish: bool) -> None:
    with open_store(db) as store:
        store.con.execute("INSERT OR REPLACE INTO meta VALUES ('mark', ?)", [value])
        if publish:
            publish_snapshot(store, reason="load")


def _read_mark(db: Path) -> str | None:
    with open_published(db) as store:
        row = store.con.execute("SELECT value FROM meta WHERE key = 'mark'").fetchone()
    return None if row is None else str(row[0])


def test_a_store_never_published_is_read_directly(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _mark(db, "one", publish=False)
    assert current_snapshot(db) is None
    assert reading_path(db) == db
    assert _read_mark(db) == "one"


def test_readers_see_the_published_state_until_the_next_publication(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _mark(db, "one", publish=True)
    first = current_snapshot(db)
    assert first is not None
    assert (first.number, first.reason) == (1, "load")
    assert first.path.parent == snapshot_folder(db)
    _mark(db, "two", publish=False)  # written, not yet published
    assert _read_mark(db) == "one"
    _mark(db, "three", publish=True)
    second = current_snapshot(db)
    assert second is not None
    assert second.number == 2
    assert _read_mark(db) == "three"
    with open_store(first.path, read_only=True) as old:  # a published snapshot never changes
        assert old.con.execute("SELECT value FROM meta WHERE key = 'mark'").fetchone() == ("one",)


def test_only_the_newest_snapshots_are_kept(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    for k in range(KEEP + 3):
        _mark(db, str(k), publish=True)
    (snapshot_folder(db) / ".000099.duckdb.partial").write_bytes(b"half a copy")
    _mark(db, "last", publish=True)
    files = sorted(p.name for p in snapshot_folder(db).iterdir())
    newest = KEEP + 4
    assert files == [*(f"{n:06d}.duckdb" for n in range(newest - KEEP + 1, newest + 1)),
                     "CURRENT.json"]
    assert _read_mark(db) == "last"


def test_an_unreadable_pointer_says_how_to_recover(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _mark(db, "one", publish=True)
    (snapshot_folder(db) / "CURRENT.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(StoreError, match="publish again"):
        reading_path(db)


def test_a_pointer_to_a_missing_file_falls_back_to_the_store(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _mark(db, "one", publish=True)
    pointer = snapshot_folder(db) / "CURRENT.json"
    record = json.loads(pointer.read_text(encoding="utf-8"))
    (snapshot_folder(db) / record["file"]).unlink()
    assert reading_path(db) == db


_HOLD = textwrap.dedent("""
    import sys, time
    from loaders.store import open_published, open_store
    db, how = sys.argv[1], sys.argv[2]
    store = open_published(db) if how == "published" else open_store(db, read_only=True)
    store.con.execute("SELECT count(*) FROM meta").fetchone()
    print("holding", flush=True)
    sys.stdin.read()
""")


def _holding_reader(db: Path, how: str) -> subprocess.Popen[str]:
    """Another process reading the store the way ``how`` says, until its stdin closes."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(db), how], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2])
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "holding"
    return proc


def _release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)


def test_a_reader_of_the_published_snapshot_does_not_block_a_writer(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _mark(db, "one", publish=True)
    reader = _holding_reader(db, "published")
    try:
        _mark(db, "two", publish=True)  # raised "Could not set lock" before snapshots
    finally:
        _release(reader)
    assert _read_mark(db) == "two"


def test_a_busy_store_says_who_holds_it_and_what_to_do(tmp_path: Path) -> None:
    db = tmp_path / "s.duckdb"
    _mark(db, "one", publish=False)
    reader = _holding_reader(db, "store")  # a reader of the store itself (never published)
    try:
        with pytest.raises(StoreError) as caught:
            open_store(db)
    finally:
        _release(reader)
    message = str(caught.value)
    assert "is busy" in message
    assert "wait for it to finish" in message
    assert "yibao workbench" in message
