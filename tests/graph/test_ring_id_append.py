"""A ring that persists after new data is appended keeps its id."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from graph.detect import detect
from loaders.load import load_folder
from loaders.store import open_store
from tests.detected import Detected


def _split(src: Path, first: Path, second: Path, cut: str) -> None:
    """Reference tables and the settlements before ``cut`` into ``first``; the rest into
    ``second`` (a reversal goes with its original, so nothing refers forward)."""
    first.mkdir()
    second.mkdir()
    for name in ("institutions", "persons", "practitioners"):
        shutil.copy(src / f"{name}.csv", first / f"{name}.csv")
    setl = pd.read_csv(src / "settlements.csv", dtype=str, keep_default_na=False)
    fees = pd.read_csv(src / "fee_details.csv", dtype=str, keep_default_na=False)
    early = setl["setl_time"] < cut
    originals = set(setl.loc[early, "setl_id"])
    early |= setl["init_setl_id"].isin(originals)
    for frame, folder in ((setl[early], first), (setl[~early], second)):
        frame.to_csv(folder / "settlements.csv", index=False)
        ids = set(frame["setl_id"])
        fees[fees["setl_id"].isin(ids)].to_csv(folder / "fee_details.csv", index=False)


def test_rings_that_persist_keep_their_ids(detected: Detected, tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    _split(detected.folder, first, second, "2024-09-01")
    with open_store(tmp_path / "s.duckdb") as store:
        load_folder(first, store)
        before = detect(store.con)
        load_folder(second, store)
        after = detect(store.con)
    assert before.suspicious
    old = {r.ring_id: set(r.persons) for r in before.rings}
    kept = 0
    for ring in after.rings:
        if ring.ring_id in old:
            kept += 1
            assert len(old[ring.ring_id] & set(ring.persons)) * 2 >= len(
                old[ring.ring_id] | set(ring.persons))
        else:
            # A new id only where every earlier ring of the pattern that it mostly overlaps
            # passed its id on to a closer successor.
            ids = {r.ring_id for r in after.rings}
            for r in before.rings:
                both = set(r.persons) & set(ring.persons)
                if r.pattern == ring.pattern and len(both) * 2 >= len(
                        set(r.persons) | set(ring.persons)):
                    assert r.ring_id in ids
    assert kept >= len(before.suspicious) * 0.8
