"""The generated sets through the loader: faults quarantined or noted exactly as listed.

The clean set (real formats) and the dirty copy of the same seed are loaded into two stores.
The dirty store must hold the clean rows plus the noted extra rows; the loader's quarantine must
hold exactly the faults expected to quarantine, and its data-quality notes (``data_notes``)
exactly the notes of the clean rows plus one or more on each row whose fault is expected to be
noted. Rows are matched between the two files through ``faults.json``: a dirty file is the
clean file with the listed extra rows inserted.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from synth_helpers import SynthSet

from loaders.load import load_folder
from loaders.store import open_store
from yibao.synth import SynthSummary

_NOTE_COLUMNS = ["load_id", "table_name", "file", "sha256", "row_no", "column_name",
                 "raw_value", "reason_code", "reason_zh", "reason_en"]


@pytest.fixture(scope="module")
def stores(clean: SynthSet, dirty_folder: tuple[Path, SynthSummary],
           tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("synth_load")
    out: dict[str, Any] = {}
    for name, source in (("clean", clean.folder), ("dirty", dirty_folder[0])):
        with open_store(folder / f"{name}.duckdb") as store:
            report = load_folder(source, store)
            out[name] = {
                "report": report,
                "counts": store.table_counts(),
                "quarantine": store.quarantine_frame(),
                "notes": store.frame("SELECT * FROM data_notes ORDER BY table_name, row_no"),
                "tables": {t: store.frame(f"SELECT * EXCLUDE (_load_id) FROM {t} ORDER BY ALL")
                           for t in clean.frames},
            }
    out["faults"] = json.loads((dirty_folder[0] / "faults.json").read_text(encoding="utf-8"))
    out["files"] = {t: p.name for t, p in dirty_folder[1].files.items()}
    return out


def _extra_rows(faults: list[dict[str, Any]]) -> dict[str, list[int]]:
    """file -> sorted physical rows of the extra (quarantine and note) rows."""
    out: dict[str, list[int]] = {}
    for f in faults:
        if f["row"] and f["expect"] in ("quarantine", "note"):
            out.setdefault(f["file"], []).append(f["row"])
    return {k: sorted(v) for k, v in out.items()}


def _clean_row(row: int, extra: list[int]) -> int:
    """The clean file's row of a dirty file's row that is not an extra row."""
    return row - sum(1 for e in extra if e < row)


def test_the_clean_set_loads_whole(stores: dict[str, Any], clean: SynthSet) -> None:
    clean_load = stores["clean"]
    assert clean_load["report"].quarantined == 0, clean_load["report"].reasons
    assert clean_load["quarantine"].empty
    for table, frame in clean.frames.items():
        assert clean_load["counts"][table] == len(frame), table


def test_quarantine_holds_exactly_the_quarantine_faults(stores: dict[str, Any]) -> None:
    expected = {(f["file"], f["row"]) for f in stores["faults"]
                if f["row"] and f["expect"] == "quarantine"}
    quarantine = stores["dirty"]["quarantine"]
    got = {(str(r.file), int(r.row_no)) for r in quarantine.itertuples(index=False)}
    assert expected
    assert sorted(expected - got) == [], "faults not quarantined"
    assert sorted(got - expected) == [], "rows quarantined without a fault expecting it"


def test_notes_are_the_clean_notes_plus_one_per_noted_fault(stores: dict[str, Any]) -> None:
    notes = stores["dirty"]["notes"]
    assert set(_NOTE_COLUMNS) <= set(notes.columns)
    faults = stores["faults"]
    extra = _extra_rows(faults)
    by_file = {v: k for k, v in stores["files"].items()}
    noted = {(f["file"], f["row"]): f for f in faults if f["row"] and f["expect"] == "note"}
    normalised = {(f["file"], f["row"]) for f in faults
                  if f["row"] and f["expect"] == "normalise"}
    assert noted
    on_faults: dict[tuple[str, int], set[str]] = {}
    elsewhere: Counter[tuple[str, int, str, str]] = Counter()
    for r in notes.itertuples(index=False):
        key = (str(r.file), int(r.row_no))
        assert key[0] in by_file, key
        assert str(r.table_name) == by_file[key[0]]
        assert r.reason_code
        assert r.reason_zh
        assert r.reason_en
        if key in noted:
            on_faults.setdefault(key, set()).add(str(r.column_name))
            continue
        assert key not in {(f["file"], f["row"]) for f in faults
                           if f["expect"] == "quarantine"}, "a quarantined row has no note"
        row = _clean_row(key[1], extra.get(key[0], []))
        elsewhere[(str(r.table_name), row, str(r.column_name), str(r.reason_code))] += 1
    assert sorted(set(noted) - set(on_faults)) == [], "note faults without a note"
    for key, fault in noted.items():
        assert fault["column"] in on_faults[key], (fault, on_faults[key])
    clean_notes: Counter[tuple[str, int, str, str]] = Counter(
        (str(r.table_name), int(r.row_no), str(r.column_name), str(r.reason_code))
        for r in stores["clean"]["notes"].itertuples(index=False))
    # normalised cells earn no note of their own: their rows are noted as their clean rows
    assert normalised
    assert elsewhere == clean_notes, "the clean rows are noted as in the clean load"


def test_the_dirty_store_is_the_clean_store_plus_the_noted_rows(stores: dict[str, Any]) -> None:
    files = stores["files"]
    for table, file in files.items():
        added = sum(1 for f in stores["faults"] if f["file"] == file and f["row"]
                    and f["expect"] == "note")
        assert stores["dirty"]["counts"][table] == stores["clean"]["counts"][table] + added, table
    report = stores["dirty"]["report"]
    assert report.quarantined == sum(1 for f in stores["faults"]
                                     if f["row"] and f["expect"] == "quarantine")
    assert sum(sum(f.normalised.values()) for f in report.files) > 0


_KEY = {"persons": "psn_no", "institutions": "fixmedins_code", "practitioners": "dr_codg",
        "settlements": "setl_id", "fee_details": "feedetl_sn"}


def test_stored_rows_are_the_clean_rows_and_the_noted_ones(stores: dict[str, Any]) -> None:
    """The noted rows have fresh keys (``test_synth_dirty``): every other stored row is a clean
    row, stored exactly as the clean load stores it."""
    for table, key in _KEY.items():
        dirty = stores["dirty"]["tables"][table]
        clean = stores["clean"]["tables"][table]
        file = stores["files"][table]
        n_noted = sum(1 for f in stores["faults"] if f["file"] == file and f["expect"] == "note")
        kept = dirty[dirty[key].isin(clean[key])]
        assert len(dirty) - len(kept) == n_noted, table
        assert kept.reset_index(drop=True).equals(clean.reset_index(drop=True)), table


def test_noted_values_are_kept_as_they_came(stores: dict[str, Any]) -> None:
    notes = stores["dirty"]["notes"]
    for f in stores["faults"]:
        if f["expect"] != "note" or f["fault"] == "missing_value":
            continue
        mine = notes[(notes["file"] == f["file"]) & (notes["row_no"] == f["row"])
                     & (notes["column_name"] == f["column"])]
        assert not mine.empty, f
        assert pd.notna(mine["raw_value"]).all(), f
