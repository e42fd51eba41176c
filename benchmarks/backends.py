"""Benchmark: the embedded store against the Neo4j backend on the same synthetic set.

``python -m benchmarks.backends [--scale 100000] [--seed 1] [--samples 60] [--json]`` prints,
in one run, for each backend: load rows per second, detection seconds, and the p50/p95 latency
(milliseconds) of a ring subgraph fetch and of 2-hop neighbourhood expansions around persons
and around institutions, with the Neo4j/embedded ratios (above 1: Neo4j is slower).

* **Loads**: embedded is ``yibao load`` (CSV files, validated, into a new DuckDB store); Neo4j
  is ``yibao graph push`` of that store (batched ``UNWIND ... MERGE``, constraints first,
  checkpointed). Rows are those of the five contract tables, the same number on both sides.
* **Server**: ArcadeDB from ``arcadedb-embedded`` (the tests' launcher,
  :mod:`tools.arcadedb_server`) started fresh on a free loopback port with ``--heap``; with
  ``--env-server`` the ``NEO4J_*`` settings' server is used instead (its database should be
  empty).
* **Latencies**: every ring in turn, and a seeded sample of persons with settlements and of
  institutions, each call timed after one untimed warm-up call per backend; p50/p95 are
  nearest-rank percentiles of ``--samples`` calls.

The CSV folder is cached in ``benchmarks/.data`` (shared with ``benchmarks.load``). Figures,
not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from backends.base import Expansion, GraphBackend, Node
from benchmarks.load import DATA_ROOT, _ensure_data

CONTRACT_TABLES = ("institutions", "persons", "practitioners", "settlements", "fee_details")


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile ``q`` (0..100) of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _latencies(call: Callable[[Any], object], args: Sequence[Any], samples: int) -> list[float]:
    call(args[0])  # warm-up: connections, caches, JIT
    out = []
    for k in range(samples):
        started = time.perf_counter()
        call(args[k % len(args)])
        out.append((time.perf_counter() - started) * 1e3)
    return out


def _centres(store_db: Path, seed: int, n: int) -> dict[str, list[Node]]:
    from loaders.store import open_store

    with open_store(store_db, read_only=True) as store:
        persons = [r[0] for r in store.con.execute(
            "SELECT DISTINCT psn_no FROM settlements ORDER BY 1").fetchall()]
        places = [r[0] for r in store.con.execute(
            "SELECT DISTINCT fixmedins_code FROM settlements ORDER BY 1").fetchall()]
    rng = random.Random(seed)
    return {"person": [("person", p) for p in rng.sample(persons, min(n, len(persons)))],
            "institution": [("institution", i) for i in rng.sample(places, min(n, len(places)))]}


def _measure(backend: GraphBackend, ring_ids: list[str], centres: dict[str, list[Node]],
             samples: int) -> dict[str, dict[str, float]]:
    two_hops = Expansion(hops=2)
    ops: dict[str, tuple[Callable[[Any], object], Sequence[Any]]] = {
        "ring subgraph": (backend.ring_subgraph, ring_ids),
        "2-hop neighbourhood, person": (lambda n: backend.neighbourhood(n, two_hops),
                                        centres["person"]),
        "2-hop neighbourhood, institution": (lambda n: backend.neighbourhood(n, two_hops),
                                             centres["institution"]),
    }
    out = {}
    for name, (call, args) in ops.items():
        ms = _latencies(call, args, samples)
        out[name] = {"p50_ms": percentile(ms, 50), "p95_ms": percentile(ms, 95)}
    return out


def run(scale: int, seed: int, samples: int, heap: str, env_server: bool) -> dict[str, Any]:
    """Every figure of the benchmark, as a dict."""
    from backends.embedded import EmbeddedBackend
    from backends.neo4j import Neo4jBackend
    from loaders.load import load_folder
    from loaders.store import open_store
    from tools.arcadedb_server import start_arcadedb
    from yibao.settings import Settings

    folder = _ensure_data(scale, seed)
    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Any] = {"scale": scale, "seed": seed, "samples": samples}
    with tempfile.TemporaryDirectory(dir=DATA_ROOT, prefix="backends-") as tmp:
        db = Path(tmp) / "store.duckdb"
        started = time.perf_counter()
        with open_store(db) as store:
            report = load_folder(folder, store)
            counts = store.table_counts()
        embedded_load = time.perf_counter() - started
        rows = sum(counts[t] for t in CONTRACT_TABLES)
        figures["rows"] = rows
        figures["quarantined"] = report.quarantined

        server = None
        if env_server:
            settings = Settings.from_env()
        else:
            server = start_arcadedb(Path(tmp) / "arcadedb", heap=heap)
            settings = Settings.from_mapping({
                "neo4j_uri": server.uri, "neo4j_user": server.user,
                "neo4j_password": server.password, "neo4j_database": server.database})
        try:
            neo = Neo4jBackend.connect(settings)
            figures["server"] = neo.server_agent()
            pushed = neo.load_store(db)
            neo4j_rows = sum(s.rows for s in pushed.steps if s.step in CONTRACT_TABLES)
            assert neo4j_rows == rows, (neo4j_rows, rows)
            figures["load"] = {
                "embedded": {"seconds": embedded_load, "rows_per_s": rows / embedded_load},
                "neo4j": {"seconds": pushed.seconds, "rows_per_s": rows / pushed.seconds},
            }
            emb = EmbeddedBackend(db)
            t0 = time.perf_counter()
            emb.detect()
            t1 = time.perf_counter()
            neo.detect()
            t2 = time.perf_counter()
            figures["detect_seconds"] = {"embedded": t1 - t0, "neo4j": t2 - t1}
            ring_ids = [r.ring_id for r in emb.rings()]
            assert ring_ids == [r.ring_id for r in neo.rings()], "the backends found other rings"
            figures["rings"] = len(ring_ids)
            centres = _centres(db, seed, 40)
            for node in (centres["person"][0], centres["institution"][0]):
                a, b = emb.neighbourhood(node), neo.neighbourhood(node)
                assert set(a.nodes) == set(b.nodes), f"the backends disagree around {node}"
            figures["latency"] = {"embedded": _measure(emb, ring_ids, centres, samples),
                                  "neo4j": _measure(neo, ring_ids, centres, samples)}
            emb.close()
            neo.close()
        finally:
            if server is not None:
                server.stop()
    return figures


def _print(f: dict[str, Any]) -> None:
    load = f["load"]
    print(f"data set: {f['scale']:,} settlements (seed {f['seed']}), {f['rows']:,} rows in the "
          f"five tables; Neo4j backend on {f['server']}; {f['rings']} rings")
    print(f"{'':40s} {'embedded':>12s} {'neo4j':>12s} {'neo4j/embedded':>15s}")
    e, n = load["embedded"], load["neo4j"]
    print(f"{'load rows/s':40s} {e['rows_per_s']:12,.0f} {n['rows_per_s']:12,.0f} "
          f"{n['rows_per_s'] / e['rows_per_s']:15.3f}")
    print(f"{'load seconds':40s} {e['seconds']:12.1f} {n['seconds']:12.1f} "
          f"{n['seconds'] / e['seconds']:15.1f}")
    d = f["detect_seconds"]
    print(f"{'detect seconds':40s} {d['embedded']:12.1f} {d['neo4j']:12.1f} "
          f"{d['neo4j'] / d['embedded']:15.1f}")
    for op in f["latency"]["embedded"]:
        for q in ("p50_ms", "p95_ms"):
            a, b = f["latency"]["embedded"][op][q], f["latency"]["neo4j"][op][q]
            print(f"{op + ' ' + q[:3] + ' ms':40s} {a:12.1f} {b:12.1f} {b / a:15.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=60)
    parser.add_argument("--heap", default="1g", help="ArcadeDB's Java heap")
    parser.add_argument("--env-server", action="store_true",
                        help="use the NEO4J_* settings' server instead of starting ArcadeDB")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    figures = run(args.scale, args.seed, args.samples, args.heap, args.env_server)
    if args.json:
        json.dump(figures, sys.stdout, indent=2)
        print()
    else:
        _print(figures)


if __name__ == "__main__":
    main()
