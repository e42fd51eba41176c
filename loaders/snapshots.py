"""Published snapshots: what the workbench and other readers see while a load or a detection
writes the store.

DuckDB lets one process write a store file, and a writer cannot open a file another process
reads. So readers never open the store itself: after each load and each detection run, the
writer checkpoints the store and copies it, under its own write lock, into an immutable
*snapshot* beside it (``yibao.duckdb.published/000007.duckdb``), then points ``CURRENT.json``
at it with an atomic rename. Readers open the snapshot that ``CURRENT.json`` names, read-only
(any number of processes may), and switch to a newer one when it lands. A load therefore runs
while investigators keep working, and they see its result once it is published.

Only the newest :data:`KEEP` snapshots are kept. A reader that still has an older one open
keeps reading it (a removed file stays readable while it is open); its next question opens the
newest. A store that was never published (written by a program that does not call
:func:`publish_snapshot`) is read directly, as before.

The cost is one copy of the store per publication: the disk holds the store plus up to
:data:`KEEP` copies, and a copy of a 10M-settlement store (about 3.5 GB) takes seconds.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from yibao.errors import StoreError

if TYPE_CHECKING:
    from loaders.store import Store

__all__ = ["KEEP", "Snapshot", "current_snapshot", "publish_snapshot", "reading_path",
           "snapshot_folder"]

log = logging.getLogger(__name__)

KEEP = 3
"""Snapshots kept on disk: the newest, and two older ones that readers may still hold."""

_POINTER = "CURRENT.json"


@dataclass(frozen=True)
class Snapshot:
    """One published copy of a store: its file, its number (1, 2, ...), why it was published
    (``"load"``, ``"detect"``, ``"workbench"``) and when."""

    path: Path
    number: int
    reason: str
    published_at: datetime


def snapshot_folder(db: str | Path) -> Path:
    """Where the snapshots of the store ``db`` live: ``<db>.published`` beside it."""
    db = Path(db)
    return db.with_name(db.name + ".published")


def current_snapshot(db: str | Path) -> Snapshot | None:
    """The newest published snapshot of the store ``db``, or ``None`` when it was never
    published (or its pointer names a file that is gone)."""
    folder = snapshot_folder(db)
    try:
        record = json.loads((folder / _POINTER).read_text(encoding="utf-8"))
        path = folder / str(record["file"])
        snapshot = Snapshot(path=path, number=int(record["number"]),
                            reason=str(record["reason"]),
                            published_at=datetime.fromisoformat(str(record["published_at"])))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StoreError(
            f"the snapshot pointer {folder / _POINTER} is unreadable ({exc}): publish again "
            f"with 'yibao detect --db {db}', or remove the folder {folder} to read the store "
            "directly") from exc
    return snapshot if path.exists() else None


def reading_path(db: str | Path) -> Path:
    """The file a reader of the store ``db`` opens: its newest snapshot, else the store."""
    snapshot = current_snapshot(db)
    return snapshot.path if snapshot is not None else Path(db)


def publish_snapshot(store: Store, *, reason: str) -> Snapshot:
    """Publish the committed state of the writable ``store`` as its newest snapshot.

    Call it with the store open for writing and no transaction pending: the checkpoint
    empties the write-ahead log into the file, and the write lock keeps every other writer
    out while the file is copied. Older snapshots beyond :data:`KEEP` are removed."""
    db = Path(store.path)
    folder = snapshot_folder(db)
    store.con.execute("CHECKPOINT")
    try:
        folder.mkdir(exist_ok=True)
        previous = current_snapshot(db)
        number = max([previous.number if previous else 0, *_numbers(folder)]) + 1
        target = folder / f"{number:06d}.duckdb"
        partial = folder / f".{target.name}.partial"
        shutil.copyfile(db, partial)
        _fsync(partial)
        os.replace(partial, target)
        snapshot = Snapshot(path=target, number=number, reason=reason,
                            published_at=datetime.now(UTC).replace(microsecond=0))
        _write_pointer(folder, snapshot)
    except OSError as exc:
        raise StoreError(
            f"could not publish a snapshot of {db} into {folder} ({exc}): free disk space "
            f"(a snapshot is a copy of the store) and run 'yibao detect --db {db}' again"
        ) from exc
    _prune(folder, keep_from=number - KEEP + 1)
    log.info("published %s as snapshot %d (%s)", db, number, reason)
    return snapshot


def _numbers(folder: Path) -> list[int]:
    return [int(p.stem) for p in folder.glob("*.duckdb") if p.stem.isdigit()]


def _write_pointer(folder: Path, snapshot: Snapshot) -> None:
    record = {"file": snapshot.path.name, "number": snapshot.number, "reason": snapshot.reason,
              "published_at": snapshot.published_at.isoformat()}
    partial = folder / f".{_POINTER}.partial"
    partial.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    _fsync(partial)
    os.replace(partial, folder / _POINTER)


def _prune(folder: Path, *, keep_from: int) -> None:
    for number in _numbers(folder):
        if number < keep_from:
            try:
                (folder / f"{number:06d}.duckdb").unlink()
            except OSError as exc:  # a reader on a system that forbids it; try next time
                log.warning("could not remove old snapshot %d in %s: %s", number, folder, exc)
    for partial in folder.glob(".*.partial"):  # a publisher that died mid-copy
        partial.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
