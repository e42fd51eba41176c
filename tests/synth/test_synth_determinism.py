"""Same arguments, same bytes; another seed, other scenarios."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from synth_helpers import SCALE, SEED, SynthSet

from yibao.synth import synthesize


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_gives_identical_bytes(clean: SynthSet, tmp_path: Path) -> None:
    synthesize(tmp_path, scale=SCALE, seed=SEED)
    assert _digests(tmp_path) == _digests(clean.folder)


@pytest.mark.slow
@pytest.mark.parametrize("file_format", ["parquet", "xlsx"])
def test_same_seed_gives_identical_bytes_in_other_formats(tmp_path: Path,
                                                          file_format: str) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    synthesize(a, scale=SCALE, seed=5, file_format=file_format, dirty=True)  # type: ignore[arg-type]
    synthesize(b, scale=SCALE, seed=5, file_format=file_format, dirty=True)  # type: ignore[arg-type]
    assert _digests(a) == _digests(b)


def test_dirty_copy_is_deterministic_and_keeps_the_truth(
        clean: SynthSet, dirty_folder: tuple[Path, object], tmp_path: Path) -> None:
    folder, _ = dirty_folder
    synthesize(tmp_path, scale=SCALE, seed=SEED, dirty=True)
    assert _digests(tmp_path) == _digests(folder)
    assert (folder / "truth.json").read_bytes() == (clean.folder / "truth.json").read_bytes()


def _shape(truth: dict[str, object]) -> list[tuple[str, int, int]]:
    scenarios = truth["scenarios"]
    assert isinstance(scenarios, list)
    return [(s["pattern"], len(s["persons"]), len(s["setl_ids"])) for s in scenarios]


def test_another_seed_changes_scenario_sizes(clean: SynthSet, tmp_path: Path) -> None:
    synthesize(tmp_path, scale=SCALE, seed=SEED + 1)
    other = json.loads((tmp_path / "truth.json").read_text(encoding="utf-8"))
    mine, theirs = _shape(clean.truth), _shape(other)
    assert mine != theirs
    differing = sum(a != b for a, b in zip(mine, theirs, strict=False))
    assert differing >= len(mine) // 2
    assert (tmp_path / "settlements.csv").read_bytes() != (
        clean.folder / "settlements.csv").read_bytes()


def test_same_seed_and_formats_give_identical_bytes(legacy: SynthSet, tmp_path: Path) -> None:
    from yibao.synth import ExportFormats

    synthesize(tmp_path, scale=SCALE, seed=SEED, formats=ExportFormats.legacy())
    assert _digests(tmp_path) == _digests(legacy.folder)
    a, b = tmp_path / "a", tmp_path / "b"
    mixed = ExportFormats.parse("legacy,operators=yes,hosp_lv=mixed")
    synthesize(a, scale=SCALE, seed=4, formats=mixed, dirty=True)
    synthesize(b, scale=SCALE, seed=4, formats=mixed, dirty=True)
    assert _digests(a) == _digests(b)
