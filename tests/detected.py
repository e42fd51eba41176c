"""The shared detected store: synthetic data with planted rings, loaded and run through detection
once per session (fixtures registered by the root conftest)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from graph.detect import DetectionResult, detect
from loaders.load import load_folder
from loaders.store import Store, open_store
from yibao.synth import synthesize

DETECT_SCALE = 100_000
DETECT_SEED = 21


@dataclass(frozen=True)
class Detected:
    folder: Path
    db: Path
    result: DetectionResult


@pytest.fixture(scope="session")
def detected(tmp_path_factory: pytest.TempPathFactory) -> Detected:
    """Synthesised, loaded and detected; open it read-only (or copy it to change it)."""
    root = tmp_path_factory.mktemp("detected")
    folder = root / "data"
    synthesize(folder, scale=DETECT_SCALE, seed=DETECT_SEED)
    db = root / "store.duckdb"
    with open_store(db) as store:
        load_folder(folder, store)
        result = detect(store.con)
    return Detected(folder=folder, db=db, result=result)


@pytest.fixture
def detected_copy(detected: Detected, tmp_path: Path) -> Iterator[Store]:
    """A writable copy of the detected store."""
    db = tmp_path / "copy.duckdb"
    shutil.copy(detected.db, db)
    with open_store(db) as store:
        yield store


@pytest.fixture
def detected_store(detected: Detected) -> Iterator[Store]:
    with open_store(detected.db, read_only=True) as store:
        yield store


def busiest_flagged_city(con: duckdb.DuckDBPyConnection) -> str:
    """The 6-digit code of the city with the most flagged rings of the stored run."""
    row = con.execute("""
        SELECT left(i.admdvs, 4) || '00' FROM rings r, unnest(r.institutions) u(code)
        JOIN institutions i ON i.fixmedins_code = u.code WHERE r.suspicious
        GROUP BY 1 ORDER BY count(DISTINCT r.ring_id) DESC, 1 LIMIT 1""").fetchone()
    assert row is not None, "the detected store has no flagged ring"
    return str(row[0])
