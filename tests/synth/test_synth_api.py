"""``synthesize``: arguments, errors that say how to fix, the summary, progress, overwriting."""

from __future__ import annotations

from pathlib import Path

import pytest
from synth_helpers import SCALE, SynthSet

from yibao.errors import SynthError, YibaoError
from yibao.synth import XLSX_MAX_ROWS, synthesize
from yibao.synth.writer import XlsxWriter


@pytest.mark.parametrize("scale", [9_999, 10_000_001, 0])
def test_scale_out_of_range_says_the_range(tmp_path: Path, scale: int) -> None:
    with pytest.raises(SynthError, match=r"out of range: choose 10,000 to 10,000,000"):
        synthesize(tmp_path / "out", scale=scale, seed=1)
    assert not (tmp_path / "out").exists()


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="file format 'json'"):
        synthesize(tmp_path, scale=SCALE, seed=1, file_format="json")  # type: ignore[arg-type]
    with pytest.raises(SynthError, match="seed must be a non-negative integer"):
        synthesize(tmp_path, scale=SCALE, seed=-1)
    with pytest.raises(SynthError, match="scale must be an integer"):
        synthesize(tmp_path, scale=1e5, seed=1)  # type: ignore[arg-type]


def test_xlsx_too_large_is_refused_before_writing(tmp_path: Path) -> None:
    out = tmp_path / "big"
    with pytest.raises(SynthError, match=r"xlsx cannot hold scale 1,000,000.*'csv' or 'parquet'"):
        synthesize(out, scale=1_000_000, seed=1, file_format="xlsx")
    assert not out.exists()


def test_xlsx_writer_refuses_the_row_after_the_last(tmp_path: Path) -> None:
    writer = XlsxWriter(tmp_path / "t.xlsx", ["a"], table="fee_details")
    writer.rows = XLSX_MAX_ROWS
    with pytest.raises(SynthError, match=r"fee_details.*1,048,575 rows.*'csv' or 'parquet'"):
        writer.write_row(["x"])
    writer.abort()


def test_out_dir_with_foreign_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(SynthError, match=r"not synthetic output \(notes.txt\).*empty or new"):
        synthesize(tmp_path, scale=SCALE, seed=1)
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    a_file = tmp_path / "notes.txt"
    with pytest.raises(YibaoError, match="is a file"):
        synthesize(a_file, scale=SCALE, seed=1)


def test_summary_matches_the_files(clean: SynthSet) -> None:
    summary = clean.summary
    assert summary.out_dir == clean.folder
    assert list(summary.files) == ["persons", "institutions", "practitioners", "settlements",
                                   "fee_details"]
    for table, path in summary.files.items():
        assert path == clean.folder / f"{table}.csv"
        with path.open("rb") as fh:
            assert sum(1 for _ in fh) - 1 == summary.rows[table]
    assert summary.rows["settlements"] == SCALE
    assert summary.scenarios == len(clean.truth["scenarios"]) >= 11
    assert summary.faults == 0
    assert sorted(p.name for p in clean.folder.iterdir()) == sorted(
        [f"{t}.csv" for t in summary.files] + ["truth.json"])


def test_progress_and_overwrite_of_earlier_output(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    calls: list[tuple[str, int, int]] = []
    synthesize(tmp_path, scale=SCALE, seed=3, dirty=True)
    summary = synthesize(tmp_path, scale=SCALE, seed=3, file_format="parquet",
                         progress=lambda stage, done, total: calls.append((stage, done, total)))
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([f"{t}.parquet" for t in summary.files] + ["truth.json"])
    assert calls[-1][0] != "settlements" or calls[-1][1] == SCALE
    assert ("settlements", SCALE, SCALE) in calls
    assert {"population", "scenarios", "persons", "institutions", "practitioners"} <= {
        c[0] for c in calls}
    assert capsys.readouterr().out == ""
