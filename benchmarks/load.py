"""Benchmark: the validated load against an unvalidated ``pandas.read_csv`` of the same files.

``python -m benchmarks.load [--scale 1000000] [--runs 3]`` synthesises the data set once (cached
under ``benchmarks/.data``), then alternates, in fresh child processes, (A) ``yibao``'s
validated load into a new store and (B) ``pandas.read_csv`` of every table file with default
arguments and no validation at all. It prints rows per second, each side's peak memory (the
child's maximum resident set) and the median time ratio B / A (above 1: the validated load is
faster). Figures, not pass/fail: targets live in the issue, not here.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from loaders.contract import TABLE_ORDER

DATA_ROOT = Path(__file__).resolve().parent / ".data"


def _ensure_data(scale: int, seed: int) -> Path:
    folder = DATA_ROOT / f"load-{scale}-{seed}"
    if not (folder / "truth.json").exists():
        from yibao.synth import synthesize

        print(f"synthesising {scale:,} settlements into {folder} …", file=sys.stderr)
        synthesize(folder, scale=scale, seed=seed)
    return folder


def _table_files(folder: Path) -> list[Path]:
    return [folder / f"{t}.csv" for t in TABLE_ORDER if (folder / f"{t}.csv").exists()]


def _child(args: list[str]) -> tuple[float, int, str]:
    """Run ``python -m benchmarks.load ARGS``; return wall seconds, peak RSS bytes, stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.load", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed with exit code {proc.returncode}")
    return seconds, usage.ru_maxrss * 1024, out


def _run_load(folder: Path, db: Path) -> None:
    from loaders.load import load_folder
    from loaders.store import open_store

    with open_store(db) as store:
        report = load_folder(folder, store)
    print(json.dumps({"rows_in": report.rows_in, "quarantined": report.quarantined}))


def _run_pandas(folder: Path) -> None:
    import pandas as pd

    rows = 0
    for path in _table_files(folder):
        rows += len(pd.read_csv(path))
    print(json.dumps({"rows_in": rows}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--only", choices=["load", "pandas"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.only == "load":
        _run_load(args.data, args.db)
        return
    if args.only == "pandas":
        _run_pandas(args.data)
        return

    folder = _ensure_data(args.scale, args.seed)
    size = sum(p.stat().st_size for p in _table_files(folder))
    load_s: list[float] = []
    pandas_s: list[float] = []
    load_peak = pandas_peak = 0
    rows_in = quarantined = 0
    with tempfile.TemporaryDirectory(dir=DATA_ROOT) as tmp:
        for run in range(args.runs):
            db = Path(tmp) / f"run{run}.duckdb"
            seconds, peak, out = _child(["--only", "load", "--data", str(folder), "--db", str(db)])
            result = json.loads(out)
            rows_in, quarantined = result["rows_in"], result["quarantined"]
            load_s.append(seconds)
            load_peak = max(load_peak, peak)
            db.unlink()
            seconds, peak, out = _child(["--only", "pandas", "--data", str(folder)])
            if json.loads(out)["rows_in"] != rows_in:
                raise SystemExit("pandas and the loader disagree on the number of rows")
            pandas_s.append(seconds)
            pandas_peak = max(pandas_peak, peak)
    load_med, pandas_med = statistics.median(load_s), statistics.median(pandas_s)
    print(f"data set: {args.scale:,} settlements, {rows_in:,} rows in all files, "
          f"{size / 1e6:,.0f} MB of CSV ({folder})")
    print(f"validated load  : median {load_med:6.2f} s  ({rows_in / load_med:,.0f} rows/s, "
          f"{size / 1e6 / load_med:,.0f} MB/s), peak {load_peak / 2**20:,.0f} MiB, "
          f"quarantined {quarantined:,}")
    print(f"pandas.read_csv : median {pandas_med:6.2f} s  ({rows_in / pandas_med:,.0f} rows/s), "
          f"peak {pandas_peak / 2**20:,.0f} MiB (no validation, nothing stored)")
    print(f"ratio pandas/load: {pandas_med / load_med:.2f} (above 1: the validated load is faster)")
    print(f"runs: load {[round(s, 2) for s in load_s]}, pandas {[round(s, 2) for s in pandas_s]}")


if __name__ == "__main__":
    main()
