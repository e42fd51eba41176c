"""Benchmark: detection on Spark (local mode) against the embedded store, on one store.

``python -m benchmarks.spark --db STORE [--lake DIR] [--rows-per-bucket N]
[--partition-sizes 50000,100000,250000,500000] [--json OUT]`` measures, in one run, each part
in a fresh child process whose process tree is sampled every 0.2 s (psutil, resident memory):

1. **Embedded**: the store is copied to a temporary file (the given store is only ever opened
   read-only) and :func:`graph.detect.detect` runs on the copy, as ``yibao detect`` does
   (``YIBAO_MEMORY_LIMIT``, ``YIBAO_THREADS``, ``YIBAO_DETECTION_CONFIG`` apply): the seconds
   of each step as detection reports them, and the child's peak memory.
2. **Spark ``local[2]``**: the store's loaded tables are written to the lake
   (:func:`backends.spark.lake.write_lake`, timed as *export*, in a child of its own), then
   :func:`backends.spark.detect.spark_detect` runs in another child with the store's previous
   rings and next run number (as ``yibao detect --backend spark`` passes them). Its steps are
   the intervals between its progress messages. Peak memory of the driver's Python process,
   of the JVM (its ``java`` descendant) and of Spark's Python workers (the other
   descendants), and of driver Python + JVM together (*driver total*: in local mode the
   executors run inside the driver's JVM).
3. **Per-partition cost against partition size**: the rules and chains only
   (:func:`backends.spark.rules.spark_rules_and_chains` on the lake, results written to
   Parquet), once per ``--partition-sizes`` value of settlements per bucket, each in a fresh
   child: wall seconds, buckets, seconds per bucket, the person rules' core-seconds per
   bucket, and the peaks.
4. **Equality**: the lake's ``rings`` and ``ring_members`` after the Spark run against the
   embedded copy's (ids, member sets, suspicious flags, scores within 1e-9), with DuckDB.
5. **Extrapolation** to a province-year (``--target-settlements``, default 300M) on a stated
   cluster (default 20 executors x 8 cores x 32 GiB) from the measured core-seconds per
   settlement of each step (:func:`estimate_cluster`).

Figures, not pass/fail: the issue's targets (Spark local within 3x of the embedded wall,
driver under 2 GiB) are printed beside them for reading.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from loaders._sql import literal

SAMPLE_SECONDS = 0.2
LOCAL_CORES = 2  # local[2]
TARGET_RATIO = 3.0  # Spark local / embedded wall: at most
TARGET_DRIVER_BYTES = 2 * 2**30
SCORE_TOLERANCE = 1e-9
DEFAULT_PARTITION_SIZES = (50_000, 100_000, 250_000, 500_000)

RESULT_DIRS = ("rule_hits", "chains", "chain_links", "rings", "ring_members",
               "ring_settlements", "detect_runs", "_work")
"""What a Spark detection leaves in a lake: removed before the run, so nothing stale is
compared."""

# --- the steps --------------------------------------------------------------------------------

START = "(start)"
"""The interval from the call of ``spark_detect`` to its first progress message: reading the
lake, counting the settlements, collecting the institutions."""

SPARK_STEP_ROW = {
    START: "rules and chains",
    "rules by person": "rules and chains",
    "rules by doctor": "rules and chains",
    "rules on the whole": "rules and chains",
    "traceability codes": "rules and chains",
    "steering tests": "rings",
    "claims": "claims",
    "projection": "projection",
    "communities": "communities",
    "candidates": "rings",
    "tests": "rings",
    "store": "store",
}
"""The comparison row of each Spark progress message (the interval it starts). The embedded
detection runs the steering tests inside its ``rings`` step, so they count there on both
sides. An unknown message joins the row of the message before it."""

EMBEDDED_STEP_ROW = {
    "rules": "rules and chains",
    "chains": "rules and chains",
    "claims": "claims",
    "projection": "projection",
    "communities": "communities",
    "rings": "rings",
    "store": "store",
}

ROWS = ("rules and chains", "claims", "projection", "communities", "rings", "store")

DRIVER_STEPS = ("communities", "candidates", "tests", "store")
"""Spark intervals whose work is mostly on the driver (the community engine, collecting the
candidates' rows, the ring tests and scoring, the ring tables): the estimate gives them one
core. The others are bucketed jobs over the whole data and spread over the executors.
(``tests`` also runs two small bucketed jobs, the norms and the surnames.)"""


from benchmarks.spark_estimate import estimate_cluster  # noqa: E402


def intervals(marks: Sequence[tuple[str, float]], end: float) -> dict[str, float]:
    """Seconds from each progress mark (name, seconds since the start) to the next one, the
    last to ``end``; the start to the first mark is :data:`START`. A repeated name adds up."""
    out: dict[str, float] = {}
    bounds = [(START, 0.0), *marks]
    for k, (name, at) in enumerate(bounds):
        until = bounds[k + 1][1] if k + 1 < len(bounds) else end
        out[name] = out.get(name, 0.0) + max(0.0, until - at)
    return out


def by_row(seconds: Mapping[str, float], rows: Mapping[str, str]) -> dict[str, float]:
    """Sum intervals into comparison rows (an unknown interval joins the row before it)."""
    out: dict[str, float] = {}
    row = next(iter(rows.values()))
    for name, value in seconds.items():
        row = rows.get(name, row)
        out[row] = out.get(row, 0.0) + value
    return out


# --- child processes and their memory --------------------------------------------------------


@dataclass
class Peaks:
    """Peak resident memory (bytes) of a child's process tree, by kind, over the samples."""

    driver: int = 0  # the child process itself (Python)
    jvm: int = 0  # its java descendants
    workers: int = 0  # its other Python descendants, summed (forked: shared pages count twice)
    worker_max: int = 0  # the largest single one of those
    driver_total: int = 0  # driver + jvm, in the same sample
    tree: int = 0  # everything
    samples: int = 0


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peaks = Peaks()
        self._stop_event = threading.Event()

    def sample(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
            kids = root.children(recursive=True)
            driver = int(root.memory_info().rss)
        except psutil.Error:
            return
        jvm = workers = worker_max = other = 0
        for p in kids:
            with suppress(psutil.Error):
                rss = int(p.memory_info().rss)
                name = p.name().lower()
                if name.startswith("java"):
                    jvm += rss
                elif name.startswith("python") or "python" in " ".join(p.cmdline()[:1]):
                    workers += rss
                    worker_max = max(worker_max, rss)
                else:
                    other += rss
        pk = self.peaks
        pk.driver = max(pk.driver, driver)
        pk.jvm = max(pk.jvm, jvm)
        pk.workers = max(pk.workers, workers)
        pk.worker_max = max(pk.worker_max, worker_max)
        pk.driver_total = max(pk.driver_total, driver + jvm)
        pk.tree = max(pk.tree, driver + jvm + workers + other)
        pk.samples += 1

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


@dataclass(frozen=True)
class ChildRun:
    wall_seconds: float
    max_rss_bytes: int  # the child process itself, from wait4 (exact)
    peaks: Peaks
    out: dict[str, Any]


class ChildFailed(SystemExit):
    """A child process exited with an error (its log's tail was printed)."""


def _child(side: str, args: list[str], work: Path) -> ChildRun:
    """Run ``python -m benchmarks.spark --_side SIDE ARGS`` with its tree sampled; its
    figures come back through a JSON file, its stdout (progress) goes to our stderr and its
    stderr (Spark's log) to a file whose tail is shown if it fails."""
    out_file = work / f"{side}-{time.monotonic_ns()}.json"
    log_file = out_file.with_suffix(".log")
    start = time.perf_counter()
    with log_file.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.spark", "--_side", side, "--_out", str(out_file),
             *args], stdout=sys.stderr, stderr=log)
        sampler = _Sampler(proc.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            sampler.stop()
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        tail = log_file.read_text(errors="replace").splitlines()[-40:]
        print("\n".join(tail), file=sys.stderr)
        raise ChildFailed(f"the {side} child failed with exit code {proc.returncode}: "
                          + (tail[-1] if tail else "no log"))
    return ChildRun(wall_seconds=seconds, max_rss_bytes=usage.ru_maxrss * 1024,
                    peaks=sampler.peaks, out=json.loads(out_file.read_text()))


# --- the children's sides ----------------------------------------------------------------------


def _say(msg: str) -> None:
    print(f"  … {msg}", flush=True)


def _side_embedded(db: Path) -> dict[str, Any]:
    from graph.detect import detect
    from graph.scoring import load_detection_settings
    from loaders.store import open_store
    from yibao.settings import Settings

    settings = Settings.from_env(db=db)
    detection = load_detection_settings(settings.detection_config)
    with open_store(db, memory_limit=settings.memory_limit, threads=settings.threads) as store:
        n = int(store.con.execute("SELECT count(*) FROM settlements").fetchall()[0][0])
        t0 = time.perf_counter()
        result = detect(store.con, settings=detection, progress=lambda m: _say(f"embedded: {m}"))
        seconds = time.perf_counter() - t0
    return {"settlements": n, "seconds": seconds, "timings": result.timings,
            "rings": len(result.rings), "suspicious": len(result.suspicious),
            "run_id": result.run_id, "engine": result.engine, "chains": result.chains,
            "rule_hits": result.rule_hits}


def _side_export(db: Path, lake: Path) -> dict[str, Any]:
    import duckdb

    from backends.spark.lake import write_lake

    for name in RESULT_DIRS:
        shutil.rmtree(lake / name, ignore_errors=True)
    (lake / "SOURCE.json").unlink(missing_ok=True)
    con = duckdb.connect(str(db), read_only=True)
    try:
        t0 = time.perf_counter()
        counts = write_lake(con, lake)
        seconds = time.perf_counter() - t0
    finally:
        con.close()
    size = sum(p.stat().st_size for p in lake.rglob("*.parquet"))
    return {"seconds": seconds, "rows": counts, "bytes": size}


def _previous_of(db: Path) -> tuple[list[Any], int]:
    """The store's rings and next run number, read-only (what ``yibao detect`` passes)."""
    import duckdb

    from graph.ring_ids import PreviousRing

    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()}
        previous = []
        if "rings" in tables:
            previous = [PreviousRing(r[0], r[1], frozenset(r[2] or ()), frozenset(r[3] or ()))
                        for r in con.execute("SELECT ring_id, pattern, persons, institutions "
                                             "FROM rings ORDER BY ring_id").fetchall()]
        run_id = 1
        if "detect_runs" in tables:
            row = con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM detect_runs").fetchone()
            run_id = int(row[0]) if row else 1
        return previous, run_id
    finally:
        con.close()


class _Marks:
    """Progress messages with their seconds since :meth:`start`."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []
        self.origin = time.perf_counter()

    def start(self) -> None:
        self.origin = time.perf_counter()

    def __call__(self, msg: str) -> None:
        self.marks.append((msg, time.perf_counter() - self.origin))
        _say(f"spark: {msg}")


def _side_spark(db: Path, lake: Path, rows_per_bucket: int,
                driver_memory: str | None) -> dict[str, Any]:
    from backends.spark.detect import spark_detect
    from backends.spark.session import LOCAL_MASTER, spark_session
    from graph.scoring import load_detection_settings
    from yibao.settings import Settings

    detection = load_detection_settings(Settings.from_env().detection_config)
    previous, run_id = _previous_of(db)
    t0 = time.perf_counter()
    spark = spark_session(LOCAL_MASTER, driver_memory=driver_memory)
    session_seconds = time.perf_counter() - t0
    marks = _Marks()
    marks.start()
    found = spark_detect(spark, lake, settings=detection, rows_per_bucket=rows_per_bucket,
                         previous=previous, run_id=run_id, progress=marks)
    seconds = time.perf_counter() - marks.origin
    spark.stop()
    return {"session_seconds": session_seconds, "seconds": seconds, "marks": marks.marks,
            "intervals": intervals(marks.marks, seconds), "timings": found.timings,
            "buckets": found.buckets, "rings": len(found.rings),
            "suspicious": len(found.suspicious), "run_id": found.run_id,
            "chains": found.chains, "rule_hits": found.rule_hits,
            "driver_memory": driver_memory or os.environ.get("YIBAO_SPARK_DRIVER_MEMORY")
            or "768m"}


def _side_rules(lake: Path, rows_per_bucket: int, driver_memory: str | None) -> dict[str, Any]:
    from backends.spark.lake import read_lake
    from backends.spark.rules import spark_rules_and_chains
    from backends.spark.session import LOCAL_MASTER, spark_session

    spark = spark_session(LOCAL_MASTER, driver_memory=driver_memory)
    marks = _Marks()
    with tempfile.TemporaryDirectory(prefix="bench-spark-rules-") as tmp:
        work = Path(tmp)
        marks.start()
        tables = read_lake(spark, lake)
        result = spark_rules_and_chains(spark, tables, work=work / "rules",
                                        rows_per_bucket=rows_per_bucket, progress=marks)
        for name in ("rule_hits", "chains", "chain_links"):
            getattr(result, name).write.mode("overwrite").parquet(str(work / "out" / name))
        seconds = time.perf_counter() - marks.origin
        settlements = int(tables["settlements"].count())
    spark.stop()
    return {"rows_per_bucket": rows_per_bucket, "buckets": result.buckets,
            "settlements": settlements, "seconds": seconds, "marks": marks.marks,
            "intervals": intervals(marks.marks, seconds)}


# --- the parent ---------------------------------------------------------------------------------



def compare_rings(store: Path, lake: Path) -> dict[str, Any]:
    """The lake's rings against the store's: ids, member sets (kind, code), suspicious flags,
    scores within :data:`SCORE_TOLERANCE`."""
    import duckdb

    con = duckdb.connect()
    try:
        con.execute(f"ATTACH {literal(str(store))} AS emb (READ_ONLY)")
        con.execute("CREATE VIEW s_rings AS SELECT * FROM read_parquet("
                    f"{literal(str(lake / 'rings' / '*.parquet'))})")
        con.execute("CREATE VIEW s_members AS SELECT * FROM read_parquet("
                    f"{literal(str(lake / 'ring_members' / '*.parquet'))})")

        def one(sql: str) -> int:
            row = con.execute(sql).fetchone()
            return int(row[0]) if row and row[0] is not None else 0

        embedded = one("SELECT count(*) FROM emb.rings")
        spark = one("SELECT count(*) FROM s_rings")
        only_embedded = one("SELECT count(*) FROM (SELECT ring_id FROM emb.rings "
                            "EXCEPT SELECT ring_id FROM s_rings)")
        only_spark = one("SELECT count(*) FROM (SELECT ring_id FROM s_rings "
                         "EXCEPT SELECT ring_id FROM emb.rings)")
        members = one("""SELECT count(*) FROM (
            (SELECT ring_id, kind, code FROM emb.ring_members
             EXCEPT SELECT ring_id, kind, code FROM s_members)
            UNION ALL
            (SELECT ring_id, kind, code FROM s_members
             EXCEPT SELECT ring_id, kind, code FROM emb.ring_members))""")
        scores = one(f"""SELECT count(*) FROM emb.rings e JOIN s_rings s USING (ring_id)
            WHERE abs(e.score - s.score) > {SCORE_TOLERANCE}
               OR e.suspicious IS DISTINCT FROM s.suspicious""")
        max_gap = con.execute("SELECT max(abs(e.score - s.score)) FROM emb.rings e "
                              "JOIN s_rings s USING (ring_id)").fetchone()
    finally:
        con.close()
    equal = embedded == spark and not (only_embedded or only_spark or members or scores)
    return {"equal": equal, "rings_embedded": embedded, "rings_spark": spark,
            "ids_only_embedded": only_embedded, "ids_only_spark": only_spark,
            "member_rows_differing": members, "scores_or_flags_differing": scores,
            "max_score_gap": float(max_gap[0]) if max_gap and max_gap[0] is not None else None}


def _copy_store(db: Path, target: Path) -> None:
    shutil.copyfile(db, target)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))


def _parse_sizes(text: str) -> list[int]:
    return [int(x.replace("_", "")) for x in text.split(",") if x.strip()]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Every figure of the benchmark, as a dict."""
    from backends.spark.rules import ROWS_PER_BUCKET

    db: Path = args.db.resolve()
    if not db.is_file():
        raise SystemExit(f"no store at {db}")
    rows_per_bucket = args.rows_per_bucket or ROWS_PER_BUCKET
    memory = ["--driver-memory", args.driver_memory] if args.driver_memory else []
    figures: dict[str, Any] = {"store": str(db), "rows_per_bucket": rows_per_bucket,
                               "local_cores": LOCAL_CORES, "sample_seconds": SAMPLE_SECONDS}
    with tempfile.TemporaryDirectory(prefix="bench-spark-") as tmp:
        work = Path(tmp)
        lake = (args.lake or work / "lake").resolve()
        lake.mkdir(parents=True, exist_ok=True)
        figures["lake"] = str(lake)

        copy = work / "embedded.duckdb"
        print(f"copying {db} to {copy} …", file=sys.stderr)
        _copy_store(db, copy)
        print("embedded detection on the copy …", file=sys.stderr)
        embedded = _child("embedded", ["--db", str(copy)], work)
        figures["embedded"] = {**embedded.out, "child_wall_seconds": embedded.wall_seconds,
                               "max_rss_bytes": embedded.max_rss_bytes,
                               "peaks": asdict(embedded.peaks)}

        print(f"writing the lake {lake} …", file=sys.stderr)
        export = _child("export", ["--db", str(db), "--lake", str(lake)], work)
        figures["export"] = {**export.out, "child_wall_seconds": export.wall_seconds,
                             "max_rss_bytes": export.max_rss_bytes}

        print("Spark detection (local[2]) on the lake …", file=sys.stderr)
        spark = _child("spark", ["--db", str(db), "--lake", str(lake), "--rows-per-bucket",
                                 str(rows_per_bucket), *memory], work)
        figures["spark"] = {**spark.out, "child_wall_seconds": spark.wall_seconds,
                            "max_rss_bytes": spark.max_rss_bytes, "peaks": asdict(spark.peaks)}

        print("comparing the rings …", file=sys.stderr)
        figures["equality"] = compare_rings(copy, lake)

        partitions = []
        for size in _parse_sizes(args.partition_sizes):
            print(f"rules and chains at {size:,} settlements per bucket …", file=sys.stderr)
            try:
                part = _child("rules", ["--lake", str(lake), "--rows-per-bucket", str(size),
                                        *memory], work)
            except ChildFailed as exc:  # e.g. a bucket too big for the heap: say so, go on
                partitions.append({"rows_per_bucket": size, "failed": str(exc)})
                continue
            partitions.append({**part.out, "child_wall_seconds": part.wall_seconds,
                               "peaks": asdict(part.peaks)})
        figures["partitions"] = partitions
    return derive(figures, args)


def derive(figures: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """``figures`` (as measured) with the comparison rows, the ratios, the targets and the
    estimate (from ``args``' cluster) added."""
    steps = {k: v for k, v in figures["embedded"]["timings"].items() if k != "total"}
    emb_rows = by_row(steps, EMBEDDED_STEP_ROW)
    spark_rows = by_row(figures["spark"]["intervals"], SPARK_STEP_ROW)
    figures["rows"] = {row: {"embedded": emb_rows.get(row), "spark": spark_rows.get(row)}
                       for row in ROWS}
    emb_total = float(figures["embedded"]["timings"]["total"])
    spark_total = float(figures["spark"]["seconds"])
    figures["ratio_spark_embedded"] = spark_total / emb_total
    figures["within_target_ratio"] = spark_total <= TARGET_RATIO * emb_total
    figures["driver_under_target"] = (figures["spark"]["peaks"]["driver_total"]
                                      < TARGET_DRIVER_BYTES)
    n = int(figures["embedded"]["settlements"])
    driver_steps = {x.strip() for x in args.driver_steps.split(",") if x.strip()}
    parallel = [k for k in figures["spark"]["intervals"] if k not in driver_steps]
    figures["parallel_steps"] = parallel
    estimate = estimate_cluster(
        figures["spark"]["intervals"], parallel, measured_settlements=n,
        measured_cores=LOCAL_CORES, target_settlements=args.target_settlements,
        executors=args.executors, cores_per_executor=args.executor_cores,
        executor_memory_gib=args.executor_memory_gib, shuffle_factor=args.shuffle_factor)
    figures["estimate"] = asdict(estimate)
    figures["estimate_buckets"] = math.ceil(args.target_settlements
                                            / figures["rows_per_bucket"])
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", type=Path, help="the loaded store (read only; required)")
    parser.add_argument("--lake", type=Path, help="the lake folder to write (default: a "
                        "temporary one); its detection results are replaced")
    parser.add_argument("--rows-per-bucket", type=int, default=None,
                        help="settlements per bucket of the whole Spark detection "
                             "(default: backends.spark.rules.ROWS_PER_BUCKET)")
    parser.add_argument("--partition-sizes",
                        default=",".join(str(x) for x in DEFAULT_PARTITION_SIZES),
                        help="settlements per bucket of the rules-and-chains runs, comma "
                             "separated ('' skips them)")
    parser.add_argument("--driver-memory", default=None,
                        help="Spark driver heap (default: YIBAO_SPARK_DRIVER_MEMORY, else 768m)")
    parser.add_argument("--target-settlements", type=int, default=300_000_000)
    parser.add_argument("--executors", type=int, default=20)
    parser.add_argument("--executor-cores", type=int, default=8)
    parser.add_argument("--executor-memory-gib", type=float, default=32.0)
    parser.add_argument("--shuffle-factor", type=float, default=1.5)
    parser.add_argument("--driver-steps", default=",".join(DRIVER_STEPS),
                        help="the Spark steps (progress messages) the estimate runs on the "
                             "driver, on one core; the others spread over the executors")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    parser.add_argument("--from-json", type=Path,
                        help="print the figures of an earlier run's --json file again (the "
                             "estimate with this run's cluster options) instead of measuring")
    parser.add_argument("--_side", choices=["embedded", "export", "spark", "rules"],
                        help=argparse.SUPPRESS)
    parser.add_argument("--_out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args._side:
        rpb = args.rows_per_bucket
        if args._side == "embedded":
            out = _side_embedded(args.db)
        elif args._side == "export":
            out = _side_export(args.db, args.lake)
        elif args._side == "spark":
            out = _side_spark(args.db, args.lake, rpb, args.driver_memory)
        else:
            out = _side_rules(args.lake, rpb, args.driver_memory)
        args._out.write_text(json.dumps(out, default=str))
        return

    if args.from_json:
        figures = derive(json.loads(args.from_json.read_text()), args)
    elif args.db is None:
        parser.error("--db STORE is required")
    else:
        figures = run(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    from benchmarks.spark_report import print_figures

    print_figures(figures)


if __name__ == "__main__":
    main()
