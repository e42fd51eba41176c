"""The printed report of ``python -m benchmarks.spark``: the step table, peak memory, the
partition-size table, the targets and the province-year estimate (split from
:mod:`benchmarks.spark`, which measures)."""

from __future__ import annotations

from typing import Any

from benchmarks.spark import (
    EMBEDDED_STEP_ROW,
    LOCAL_CORES,
    ROWS,
    SAMPLE_SECONDS,
    SPARK_STEP_ROW,
    START,
    TARGET_DRIVER_BYTES,
    TARGET_RATIO,
)

# --- printing -----------------------------------------------------------------------------------


def _mib(b: float) -> str:
    return f"{b / 2**20:,.0f} MiB"


def _s(x: float | None) -> str:
    return f"{x:10.2f}" if x is not None else f"{'-':>10}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _label(step: str) -> str:
    return "setup (read lake, count)" if step == START else step


def _yes(ok: bool) -> str:
    return "yes" if ok else "no"


def print_figures(f: dict[str, Any]) -> None:
    e, s = f["embedded"], f["spark"]
    print(f"store {f['store']}: {e['settlements']:,} settlements; Spark local[{LOCAL_CORES}], "
          f"driver heap {s['driver_memory']}, {s['buckets']} buckets of "
          f"{f['rows_per_bucket']:,} settlements; embedded engine {e['engine']}")
    x = f["export"]
    print(f"export (store -> lake {f['lake']}): {x['seconds']:.1f} s, "
          f"{_mib(x['bytes'])} of Parquet, {sum(x['rows'].values()):,} rows; not counted "
          "in the detection times below")
    print()
    print(f"{'step':<34} {'embedded s':>10} {'Spark s':>10} {'Spark/emb':>10}")
    emb_sub = {k: v for k, v in e["timings"].items() if k != "total"}
    spark_sub = s["intervals"]
    for row in ROWS:
        a, b = f["rows"][row]["embedded"], f["rows"][row]["spark"]
        ratio = f"{b / a:10.1f}" if a and b is not None else f"{'-':>10}"
        print(f"{row:<34} {_s(a)} {_s(b)} {ratio}")
        for name, value in emb_sub.items():
            if EMBEDDED_STEP_ROW.get(name) == row and len(
                    [k for k, r in EMBEDDED_STEP_ROW.items() if r == row]) > 1:
                print(f"{'  embedded: ' + name:<34} {_s(value)} {_s(None)}")
        current = next(iter(SPARK_STEP_ROW.values()))
        for name, value in spark_sub.items():
            current = SPARK_STEP_ROW.get(name, current)
            if current == row and name != row:
                print(f"{'  spark: ' + _label(name):<34} {_s(None)} {_s(value)}")
    a, b = float(e["timings"]["total"]), float(s["seconds"])
    print(f"{'detection total':<34} {_s(a)} {_s(b)} {b / a:10.1f}")
    a, b = float(e["child_wall_seconds"]), float(s["child_wall_seconds"])
    print(f"{'child wall (start, imports, Spark)':<34} {_s(a)} {_s(b)} {b / a:10.1f}")
    print(f"  (Spark's session start: {s['session_seconds']:.1f} s; the embedded detection "
          "runs the steering tests inside its rings step, so they count under rings on both "
          "sides; Spark makes the claims rows in its pass over the persons, under rules and "
          "chains, and its claims row is the check of their codes and the projection's "
          "scale)")
    print()
    pe, ps = e["peaks"], s["peaks"]
    print(f"peak memory, embedded child: {_mib(e['max_rss_bytes'])} (max RSS from wait4; "
          f"sampled {_mib(pe['tree'])})")
    print(f"peak memory, Spark child (sampled every {SAMPLE_SECONDS} s): driver Python "
          f"{_mib(ps['driver'])}, JVM {_mib(ps['jvm'])}, driver total (Python + JVM) "
          f"{_mib(ps['driver_total'])}; Python workers {_mib(ps['workers'])} together "
          f"(largest {_mib(ps['worker_max'])}); whole tree {_mib(ps['tree'])}")
    print("  (local mode: the executors run inside the driver's JVM, so the JVM figure is "
          "driver and executors together; forked workers share pages, so their sum "
          "overcounts)")
    q = f["equality"]
    print(f"rings equal: {_yes(q['equal'])} ({q['rings_embedded']} rings embedded, "
          f"{q['rings_spark']} Spark)")
    if not q["equal"]:
        print(f"  ids only embedded {q['ids_only_embedded']}, only Spark "
              f"{q['ids_only_spark']}; member rows differing {q['member_rows_differing']}; "
              f"scores or flags differing {q['scores_or_flags_differing']} "
              f"(largest score gap {q['max_score_gap']})")
    print()
    if f["partitions"]:
        print("per-partition cost against partition size: rules and chains only "
              "(spark_rules_and_chains on the lake, results written), a fresh child each")
        print(f"{'rows/bucket':>11} {'buckets':>7} {'settl/bucket':>12} {'wall s':>8} "
              f"{'s/bucket':>8} {'person s':>8} {'person core-s/bkt':>17} "
              f"{'trace s':>8} {'worker max':>10} {'driver tot':>10}")
        for p in f["partitions"]:
            if "failed" in p:
                print(f"{p['rows_per_bucket']:>11,} failed: {p['failed']}")
                continue
            iv, pk = p["intervals"], p["peaks"]
            person = iv.get("rules by person", 0.0)
            trace = iv.get("traceability codes", 0.0)
            print(f"{p['rows_per_bucket']:>11,} {p['buckets']:>7} "
                  f"{p['settlements'] / p['buckets']:>12,.0f} {p['seconds']:>8.1f} "
                  f"{p['seconds'] / p['buckets']:>8.2f} {person:>8.1f} "
                  f"{person * LOCAL_CORES / p['buckets']:>17.2f} {trace:>8.1f} "
                  f"{_mib(pk['worker_max']):>10} {_mib(pk['driver_total']):>10}")
        print(f"  (core-s/bucket = the person rules' wall x {LOCAL_CORES} cores / buckets; "
              "trace = traceability codes: prices, codes and chains, links)")
        print()
    ok_ratio, ok_mem = f["within_target_ratio"], f["driver_under_target"]
    print(f"Spark/embedded detection wall: {f['ratio_spark_embedded']:.1f}x")
    print(f"Spark local within {TARGET_RATIO:g}x of embedded wall: {_yes(ok_ratio)}")
    print(f"driver peak under {TARGET_DRIVER_BYTES / 2**30:g} GiB: {_yes(ok_mem)} "
          f"({_mib(ps['driver_total'])}, Python + JVM)")
    print()
    est = f["estimate"]
    cores = est["executors"] * est["cores_per_executor"]
    print(f"estimate for {est['target_settlements']:,} settlements (a province-year) on "
          f"{est['executors']} executors x {est['cores_per_executor']} cores x "
          f"{est['executor_memory_gib']:g} GiB: {_duration(est['total_seconds'])} "
          f"(bucketed steps {_duration(est['parallel_seconds'])}, driver steps "
          f"{_duration(est['driver_seconds'])})")
    parallel = [_label(k) for k in est["step_seconds"] if k in f["parallel_steps"]]
    print(f"  assumptions: the measured Spark step times at {est['measured_settlements']:,} "
          f"settlements; bucketed steps ({', '.join(parallel)}) kept "
          f"{est['measured_cores']} cores busy, scale linearly with the data, spread perfectly "
          f"over {cores} cores and pay x{est['shuffle_factor']:g} for the shuffle; the other "
          "steps run on one driver core and scale linearly; no fixed per-job costs "
          f"subtracted; {f['estimate_buckets']:,} buckets of {f['rows_per_bucket']:,} "
          f"settlements, {est['executor_memory_gib'] / est['cores_per_executor']:.1f} GiB "
          f"per core against a measured largest worker of {_mib(ps['worker_max'])}")
    for step, cost in est["core_seconds_per_settlement"].items():
        kind = "bucketed" if step in f["parallel_steps"] else "driver"
        print(f"  {_label(step):<26} {kind:<8} {cost * 1e6:9.2f} core-us/settlement -> "
              f"{_duration(est['step_seconds'][step])}")


