"""Benchmark: the whole detection, and the community step alone on each engine.

``python -m benchmarks.detect [--scale 1000000] [--seed 1] [--repeats 3] [--big] [--json]``

1. **Whole detection.** Synthesises the data set once and loads it into a cached store (both
   under ``benchmarks/.data``), copies the store to a temporary file and runs
   :func:`graph.detect.detect` on the copy in a fresh child process (detection writes its tables
   into the store; the cached one stays untouched). Prints the child's wall seconds, the
   per-step timings detection reports and the child's peak memory (its maximum resident set,
   from ``wait4``: exact, no polling). ``--big`` adds the same run at 10M settlements, and
   the engine comparison (2.) on the real 10M projection.
2. **The community step alone.** Builds the person co-settlement projection once in this
   process, keeps only the persons with an edge (renumbered ``0 .. n-1``: isolated persons would
   only slow the engines that build a graph object) and times
   :func:`graph.community.communities_from_edges` on each installed engine (median of
   ``--repeats``, after one untimed warm-up that pays the imports), with each partition's
   modularity. The real projection of quiet synthetic data is small, so the same comparison
   also runs on larger *stress* projections of the same settlements: every pair that ever
   co-settled (``min_co_days=1``) and, while that is under 100,000 edges, a wider window.

Figures, not pass/fail: the targets are printed beside them for reading, and live in the issue.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from benchmarks.load import DATA_ROOT, _ensure_data
from graph.community import ENGINES, Engine, default_engine
from graph.projection import CoSettlementParams

BIG_SCALE = 10_000_000
BIG_TARGET_SECONDS = 15 * 60
BIG_TARGET_BYTES = 16 * 2**30
TARGET_NETWORKX_RATIO = 50.0  # networkx / default: at least
TARGET_FASTEST_RATIO = 2.0  # default / fastest: at most
TARGET_MODULARITY_GAP = 0.005  # networkx - default: at most
WIDE_WHEN_UNDER_EDGES = 100_000  # below this, the stress graph is widened once more
WIDE_WINDOW_MINUTES = 240.0
WIDE_MAX_LOCAL = 200

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class DetectionRun:
    """One whole detection in a child process (seconds, bytes)."""

    scale: int
    settlements_in_store: int
    wall_seconds: float
    peak_rss_bytes: int
    timings: dict[str, float]
    projection_nodes: int
    projection_edges: int
    modularity: float
    engine: str
    rings: int
    suspicious: int
    chains: int
    rule_hits: dict[str, int]
    store_load_seconds: float | None


@dataclass(frozen=True)
class EngineRun:
    """``communities_from_edges`` on one engine: every repeat's seconds and the partition."""

    engine: str
    seconds: list[float]
    median_seconds: float
    modularity: float
    communities: int


@dataclass(frozen=True)
class GraphComparison:
    """The engines compared on one projected person graph."""

    label: str
    params: dict[str, Any]
    nodes: int
    edges: int
    projection_seconds: float
    runs: list[EngineRun]
    default_engine: str
    ratio_networkx_default: float | None = None
    ratio_default_fastest: float | None = None
    fastest_engine: str | None = None
    modularity_default_minus_networkx: float | None = None
    skipped: list[str] = field(default_factory=list)


# --- the cached store and the child processes ------------------------------------------------


def _child(args: list[str]) -> tuple[float, int, str]:
    """Run ``python -m benchmarks.detect ARGS``; return wall seconds, peak RSS bytes, stdout."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.detect", *args], stdout=subprocess.PIPE, text=True
    )
    out = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"child {args} failed with exit code {proc.returncode}")
    return seconds, usage.ru_maxrss * 1024, out


def _store_is_usable(db: Path) -> bool:
    import duckdb

    from loaders.store import open_store
    from yibao.errors import YibaoError

    if not db.exists():
        return False
    try:
        with open_store(db, read_only=True) as store:
            store.con.execute("SELECT count(*) FROM settlements").fetchall()
    except (YibaoError, duckdb.Error):  # a stale schema or a half-written file: rebuild it
        return False
    return True


def _ensure_store(scale: int, seed: int) -> tuple[Path, float | None]:
    """The cached loaded store of the data set; the load's seconds if it was built now."""
    db = DATA_ROOT / f"detect-{scale}-{seed}.duckdb"
    if _store_is_usable(db):
        return db, None
    folder = _ensure_data(scale, seed)
    partial = db.with_name(db.name + ".partial")
    partial.unlink(missing_ok=True)
    print(f"loading {folder} into {db} …", file=sys.stderr)
    seconds, _, _ = _child(["--only", "load", "--data", str(folder), "--db", str(partial)])
    shutil.rmtree(partial.with_name(partial.name + ".tmp"), ignore_errors=True)
    partial.replace(db)
    return db, seconds


def _run_load(folder: Path, db: Path) -> None:
    from loaders.load import load_folder
    from loaders.store import open_store

    with open_store(db) as store:
        report = load_folder(folder, store)
    print(json.dumps({"rows_in": report.rows_in}))


def _run_detect(db: Path) -> None:
    """Child: what ``yibao detect --db DB`` does, printing the figures as JSON."""
    from graph.detect import detect
    from graph.scoring import load_detection_settings
    from loaders.store import open_store
    from yibao.settings import Settings

    settings = Settings.from_env(db=db)
    detection = load_detection_settings(settings.detection_config)
    with open_store(db, memory_limit=settings.memory_limit, threads=settings.threads) as store:
        n = int(store.con.execute("SELECT count(*) FROM settlements").fetchall()[0][0])
        result = detect(store.con, settings=detection)
    print(json.dumps({
        "settlements": n, "timings": result.timings, "projection_nodes": result.projection_nodes,
        "projection_edges": result.projection_edges, "modularity": result.modularity,
        "engine": result.engine, "rings": len(result.rings),
        "suspicious": len(result.suspicious), "chains": result.chains,
        "rule_hits": result.rule_hits,
    }))


def _measure_detection(scale: int, seed: int) -> DetectionRun:
    db, load_seconds = _ensure_store(scale, seed)
    with tempfile.TemporaryDirectory(dir=DATA_ROOT) as tmp:
        copy = Path(tmp) / "detect.duckdb"
        shutil.copyfile(db, copy)
        print(f"detecting on a copy of {db} …", file=sys.stderr)
        seconds, peak, out = _child(["--only", "detect", "--db", str(copy)])
    r = json.loads(out)
    return DetectionRun(
        scale=scale, settlements_in_store=r["settlements"], wall_seconds=round(seconds, 3),
        peak_rss_bytes=peak, timings=r["timings"], projection_nodes=r["projection_nodes"],
        projection_edges=r["projection_edges"], modularity=r["modularity"],
        engine=r["engine"], rings=r["rings"], suspicious=r["suspicious"], chains=r["chains"],
        rule_hits=r["rule_hits"],
        store_load_seconds=round(load_seconds, 3) if load_seconds is not None else None,
    )


# --- the community step alone ----------------------------------------------------------------


def _as_engine(name: str) -> Engine:
    for engine in ENGINES:
        if engine == name:
            return engine
    raise SystemExit(f"unknown community engine {name!r} in the detection settings")


def _engines(default: Engine) -> tuple[list[Engine], list[Engine]]:
    """Engines to time (the default first) and the ones skipped because they are missing."""
    from graph.community import installed_engines

    order = [default, *(e for e in ENGINES if e != default)]
    installed = set(installed_engines())
    found = [e for e in order if e in installed]
    return found, [e for e in order if e not in found]


def _time_engines(
    label: str, params: CoSettlementParams, src: I64, dst: I64, weight: F64,
    projection_seconds: float, *, default: Engine, resolution: float, seed: int, repeats: int,
) -> GraphComparison:
    from graph.community import communities_from_edges

    nodes = np.unique(np.concatenate([src, dst]))
    s, d = np.searchsorted(nodes, src), np.searchsorted(nodes, dst)
    engines, skipped = _engines(default)
    runs: list[EngineRun] = []
    for engine in engines:
        print(f"  {label}: {engine} …", file=sys.stderr)
        communities_from_edges(2, [0], [1], [1.0], engine=engine)
        seconds: list[float] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            part = communities_from_edges(
                len(nodes), s, d, weight, engine=engine,
                resolution=resolution, seed=seed,
            )
            seconds.append(time.perf_counter() - t0)
        runs.append(EngineRun(
            engine=engine, seconds=[round(x, 5) for x in seconds],
            median_seconds=statistics.median(seconds), modularity=part.modularity,
            communities=part.n_communities,
        ))
    by_engine = {r.engine: r for r in runs}
    base = by_engine.get(default)
    nx_run = by_engine.get("networkx")
    fastest = min(runs, key=lambda r: r.median_seconds) if runs else None
    return GraphComparison(
        label=label, params=asdict(params), nodes=len(nodes), edges=len(src),
        projection_seconds=round(projection_seconds, 3), runs=runs, default_engine=default,
        ratio_networkx_default=(nx_run.median_seconds / base.median_seconds
                                if base and nx_run else None),
        ratio_default_fastest=(base.median_seconds / fastest.median_seconds
                               if base and fastest else None),
        fastest_engine=fastest.engine if fastest else None,
        modularity_default_minus_networkx=(base.modularity - nx_run.modularity
                                           if base and nx_run else None),
        skipped=[str(e) for e in skipped],
    )


def _compare_engines(
    scale: int, seed: int, repeats: int, *, real_only: bool = False,
) -> list[GraphComparison]:
    from graph.claims import claims_from_store
    from graph.projection import person_projection_from_claims
    from graph.scoring import load_detection_settings
    from loaders.store import open_store

    settings = load_detection_settings()
    default = _as_engine(settings.community.engine or default_engine())
    db, _ = _ensure_store(scale, seed)
    with open_store(db, read_only=True) as store:
        claims = claims_from_store(store.con)
    real = settings.co_settlement
    graphs = [
        ("real", real),
        ("stress (min_co_days=1)", replace(real, min_co_days=1)),
        (f"wide stress (min_co_days=1, window {WIDE_WINDOW_MINUTES:g} min, "
         f"max_local {WIDE_MAX_LOCAL})",
         replace(real, min_co_days=1, window_minutes=WIDE_WINDOW_MINUTES,
                 max_local=WIDE_MAX_LOCAL)),
    ]
    if real_only:
        graphs = graphs[:1]
    out: list[GraphComparison] = []
    for label, params in graphs:
        if label.startswith("wide") and out[-1].edges >= WIDE_WHEN_UNDER_EDGES:
            break  # the narrow stress graph is big enough
        t0 = time.perf_counter()
        projection = person_projection_from_claims(claims, params)
        elapsed = time.perf_counter() - t0
        out.append(_time_engines(
            f"{label} {scale:,}-settlement", params, projection.src, projection.dst,
            projection.weight, elapsed,
            default=default, resolution=settings.community.resolution,
            seed=settings.community.seed, repeats=repeats,
        ))
    return out


# --- printing --------------------------------------------------------------------------------


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


def _print_detection(run: DetectionRun, *, targets: bool) -> None:
    mib = run.peak_rss_bytes / 2**20
    print(f"whole detection at {run.scale:,} settlements ({run.settlements_in_store:,} rows in "
          f"the store), child process, engine {run.engine}")
    if run.store_load_seconds is not None:
        print(f"  (store built now: load took {run.store_load_seconds:.1f} s)")
    line = f"  wall {run.wall_seconds:8.2f} s   peak RSS {mib:,.0f} MiB"
    if targets:
        line += (f"   (targets: under {BIG_TARGET_SECONDS / 60:.0f} min: "
                 f"{_met(run.wall_seconds < BIG_TARGET_SECONDS)}; under "
                 f"{BIG_TARGET_BYTES / 2**30:.0f} GiB: "
                 f"{_met(run.peak_rss_bytes < BIG_TARGET_BYTES)})")
    print(line)
    steps = ", ".join(f"{k} {v:.2f}" for k, v in run.timings.items() if k != "total")
    print(f"  steps (s): {steps}; total {run.timings.get('total', float('nan')):.2f}")
    hits = ", ".join(f"{k} {v:,}" for k, v in run.rule_hits.items())
    print(f"  projection {run.projection_nodes:,} persons / {run.projection_edges:,} edges, "
          f"modularity {run.modularity:.4f}; rings {run.rings:,} ({run.suspicious:,} "
          f"suspicious); chains {run.chains:,}; rule hits: {hits}")


def _print_comparison(g: GraphComparison, repeats: int) -> None:
    params = ", ".join(f"{k}={v}" for k, v in g.params.items())
    print(f"community step on the {g.label} projection: {g.nodes:,} nodes, {g.edges:,} edges "
          f"(projection {g.projection_seconds:.2f} s; {params})")
    print(f"  {'engine':<10} {'median s':>10} {'modularity':>11} {'communities':>12}  "
          f"runs (of {repeats})")
    for r in g.runs:
        mark = " (default)" if r.engine == g.default_engine else ""
        print(f"  {r.engine:<10} {r.median_seconds:10.4f} {r.modularity:11.4f} "
              f"{r.communities:12,}  {r.seconds}{mark}")
    for engine in g.skipped:
        print(f"  {engine:<10} not installed: skipped")
    d = g.default_engine
    if g.ratio_networkx_default is not None:
        print(f"  networkx / {d}: {g.ratio_networkx_default:,.1f}x "
              f"(target >= {TARGET_NETWORKX_RATIO:g}x: "
              f"{_met(g.ratio_networkx_default >= TARGET_NETWORKX_RATIO)})")
    if g.ratio_default_fastest is not None:
        print(f"  {d} / fastest ({g.fastest_engine}): {g.ratio_default_fastest:.2f}x "
              f"(target <= {TARGET_FASTEST_RATIO:g}x: "
              f"{_met(g.ratio_default_fastest <= TARGET_FASTEST_RATIO)})")
    if g.modularity_default_minus_networkx is not None:
        gap = g.modularity_default_minus_networkx
        print(f"  modularity {d} - networkx: {gap:+.4f} (target: at most "
              f"{TARGET_MODULARITY_GAP} below networkx: {_met(-gap <= TARGET_MODULARITY_GAP)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--big", action="store_true",
                        help=f"also run the whole detection and the engine comparison on the real "
                             f"projection at {BIG_SCALE:,} settlements")
    parser.add_argument("--skip-detect", action="store_true",
                        help="only the community-step comparison")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    parser.add_argument("--only", choices=["load", "detect"], help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.only == "load":
        _run_load(args.data, args.db)
        return
    if args.only == "detect":
        _run_detect(args.db)
        return

    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    detections: list[DetectionRun] = []
    if not args.skip_detect:
        detections.append(_measure_detection(args.scale, args.seed))
    graphs = _compare_engines(args.scale, args.seed, args.repeats)
    if args.big:
        if not args.skip_detect:
            detections.append(_measure_detection(BIG_SCALE, args.seed))
        graphs += _compare_engines(BIG_SCALE, args.seed, args.repeats, real_only=True)

    if args.json:
        print(json.dumps({
            "scale": args.scale, "seed": args.seed, "repeats": args.repeats,
            "detection": [asdict(d) for d in detections],
            "communities": [asdict(g) for g in graphs],
        }, indent=2))
        return
    for run in detections:
        _print_detection(run, targets=run.scale >= BIG_SCALE)
        print()
    for g in graphs:
        _print_comparison(g, args.repeats)
        print()


if __name__ == "__main__":
    main()
