"""Benchmark: detection per cell of ring shapes, on tuning and held-out runs.

``python -m benchmarks.robustness [--scale 200000] [--seeds 1 2 3 4] [--cells ...] [--quick]
[--json] [--cache]``

The synthetic generator plants fraud rings whose shape the knobs pin
(:class:`yibao.synth.knobs.ScenarioKnobs`); a *cell* is one setting of the knobs (a named
region of shapes: small local rings, big rotating ones, far bursts, collusion, staggered
admissions ...). Every other pattern, the honest look-alikes included, is planted as by default.

**Tuning and held-out halves.** The cells are split in two fixed halves: the cells at even
positions of :data:`CELLS` (``local-small``, ``far-burst``, ``chain-three`` ...) are *tuning*
cells, those at odd positions (``local-big-rotating``, ``far-stream`` ...) *held-out* cells.
Seeds are split by parity: tuning cells run on the odd seeds of ``--seeds``, held-out cells on
the even ones. A detector is tuned on the first table and judged on the second: neither the
shapes nor the random draws of a held-out run are ever seen while tuning.

**Each (cell, seed) run** synthesises the set with the real national formats (the default of
``yibao synth``) into a temporary folder (``--cache``: reuse ``benchmarks/.data/robust-*``),
loads it into a new store and runs :func:`graph.detect.detect` on it, each in a fresh child
process (the children of :mod:`benchmarks.detect`), then compares the stored rings and chains
with ``truth.json`` (:func:`graph.evaluate.evaluate_store`). Runs are sequential: the machine
this was written on has 2 cores.

**Figures per cell** (means over its seeds; counts summed): recall of every planted fraud
member, recall of the members of the cell's own pattern, precision among the persons of
suspicious rings, suspicious rings, honest look-alikes that dominate a suspicious ring (by
pattern), resale codes found / planted, detection seconds (the child's timing of
``detect``). Figures, not pass/fail: the targets (member recall >= 0.95, precision >= 0.90, no
honest look-alike flagged, every resale code found) live in the issue.

``--quick``: two cells (``local-small``, tuning; ``local-big-rotating``, held-out), one seed
each, at 100,000 settlements (about a minute).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import sys
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.detect import _child
from benchmarks.load import DATA_ROOT
from yibao.synth.knobs import CardPoolingKnobs, CollusionKnobs, RecruitedKnobs, ScenarioKnobs

QUICK_SCALE = 100_000
QUICK_CELLS = ("local-small", "local-big-rotating")
QUICK_SEEDS = (1, 2)


@dataclass(frozen=True)
class Cell:
    """A named setting of the knobs; ``focus`` is the pattern whose shape it pins."""

    name: str
    focus: str
    knobs: ScenarioKnobs
    scale_factor: float = 1.0
    note: str = ""


def _cp(**kw: Any) -> ScenarioKnobs:
    return ScenarioKnobs(card_pooling=CardPoolingKnobs(**kw))


CELLS: tuple[Cell, ...] = (
    Cell("local-small", "card_pooling",
         _cp(size=(5, 10), locality="local", spread_minutes=(5, 5), presence=(1, 1),
             pharmacies=(1, 1)), note="5-10 neighbours, 5 min, every day"),
    Cell("local-big-rotating", "card_pooling",
         _cp(size=(40, 80), locality="local", spread_minutes=(5, 40), presence=(0.3, 0.6),
             pharmacies=(2, 2)), note="40-80 neighbours, each on 30-60% of days, 2 shops"),
    Cell("far-burst", "card_pooling",
         _cp(size=(10, 40), locality="far", spread_minutes=(1, 5), presence=(0.6, 1.0)),
         note="the old shape: far cards in minutes"),
    Cell("far-stream", "card_pooling",
         _cp(size=(20, 60), locality="far", spread_minutes=(40, 60), presence=(0.5, 0.9)),
         note="far cards streaming over an hour"),
    Cell("chain-three", "card_pooling",
         _cp(size=(15, 40), locality="local", spread_minutes=(10, 30), presence=(0.5, 0.8),
             pharmacies=(3, 3)), note="3 shops of one chain"),
    Cell("few-days", "card_pooling",
         _cp(size=(10, 30), spread_minutes=(5, 20), days=(3, 4)), note="3-4 days only"),
    Cell("collusion-local", "doctor_pharmacy_collusion",
         ScenarioKnobs(collusion=CollusionKnobs(patients=(15, 30), prescriptions=(20, 60),
                                                share=(0.6, 0.75))),
         note="small, 60-75% at the pharmacy"),
    Cell("collusion-heavy", "doctor_pharmacy_collusion",
         ScenarioKnobs(collusion=CollusionKnobs(patients=(40, 60), prescriptions=(100, 150),
                                                share=(0.9, 1.0))),
         note="big, 90-100% at the pharmacy"),
    Cell("recruited-staggered", "recruited_inpatients",
         ScenarioKnobs(recruited=RecruitedKnobs(persons=(10, 25), admission_spread_days=(2, 3),
                                                hospitals=(2, 2))),
         note="admissions spread 2-3 days, 2 hospitals"),
    Cell("recruited-big", "recruited_inpatients",
         ScenarioKnobs(recruited=RecruitedKnobs(persons=(40, 60), admission_spread_days=(0, 1),
                                                hospitals=(1, 1))),
         note="40-60 persons, one hospital"),
    Cell("defaults", "card_pooling", ScenarioKnobs(), note="every knob drawn"),
    Cell("background-heavy", "card_pooling", ScenarioKnobs(), scale_factor=2.0,
         note="defaults at twice the scale"),
)
"""The grid; even positions are tuning cells, odd positions held-out cells."""


def is_held_out(cell: Cell) -> bool:
    return CELLS.index(cell) % 2 == 1


@dataclass(frozen=True)
class Run:
    """One (cell, seed) run's figures."""

    cell: str
    seed: int
    scale: int
    held_out: bool
    recall: float
    focus_recall: float
    precision: float
    suspicious_rings: int
    honest_flagged: dict[str, int]
    codes_found: int
    codes_planted: int
    detect_seconds: float
    params: list[dict[str, Any]] = field(default_factory=list)


def _knobs_key(knobs: ScenarioKnobs) -> str:
    return hashlib.sha1(repr(knobs).encode()).hexdigest()[:8]


def _synthesize(cell: Cell, scale: int, seed: int, folder: Path) -> None:
    from yibao.synth import synthesize

    print(f"  synthesising {cell.name} seed {seed} ({scale:,}) …", file=sys.stderr)
    synthesize(folder, scale=scale, seed=seed, knobs=cell.knobs)


def _one_run(cell: Cell, scale: int, seed: int, *, cache: bool) -> Run:
    from graph.evaluate import evaluate_store, load_truth
    from loaders.store import open_store

    DATA_ROOT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DATA_ROOT) as tmp:
        if cache:
            folder = DATA_ROOT / f"robust-{cell.name}-{_knobs_key(cell.knobs)}-{scale}-{seed}"
            if not (folder / "truth.json").exists():
                _synthesize(cell, scale, seed, folder)
        else:
            folder = Path(tmp) / "data"
            _synthesize(cell, scale, seed, folder)
        db = Path(tmp) / "store.duckdb"
        print(f"  loading and detecting {cell.name} seed {seed} …", file=sys.stderr)
        _child(["--only", "load", "--data", str(folder), "--db", str(db)])
        shutil.rmtree(db.with_name(db.name + ".tmp"), ignore_errors=True)
        _, _, out = _child(["--only", "detect", "--db", str(db)])
        timings = json.loads(out)["timings"]
        truth = load_truth(folder)
        with open_store(db, read_only=True) as store:
            ev = evaluate_store(store.con, truth)
    focus = [s for s in ev.scenarios if s.pattern == cell.focus]
    persons = sum(s.persons for s in focus)
    return Run(
        cell=cell.name, seed=seed, scale=scale, held_out=is_held_out(cell), recall=ev.recall,
        focus_recall=sum(s.found for s in focus) / persons if persons else 1.0,
        precision=ev.precision, suspicious_rings=ev.suspicious_rings,
        honest_flagged={p: len(r) for p, r in ev.honest_by_pattern.items() if r},
        codes_found=ev.codes_found, codes_planted=ev.codes_planted,
        detect_seconds=float(timings.get("total", sum(timings.values()))),
        params=[s.params for s in focus],
    )


def _print_table(title: str, runs: list[Run]) -> None:
    print(title)
    if not runs:
        print("  (no runs: give seeds of both parities)")
        return
    head = (f"  {'cell':<20} {'seeds':>5} {'recall':>7} {'focus':>7} {'precis':>7} "
            f"{'rings':>6} {'codes':>9} {'detect s':>9}  honest look-alikes flagged")
    print(head)
    by_cell: dict[str, list[Run]] = {}
    for r in runs:
        by_cell.setdefault(r.cell, []).append(r)
    for name, rs in by_cell.items():
        honest: Counter[str] = Counter()
        for r in rs:
            honest.update(r.honest_flagged)
        flagged = ", ".join(f"{p} {n}" for p, n in sorted(honest.items())) or "none"
        codes = f"{sum(r.codes_found for r in rs)}/{sum(r.codes_planted for r in rs)}"
        print(f"  {name:<20} {len(rs):>5} {statistics.mean(r.recall for r in rs):7.3f} "
              f"{statistics.mean(r.focus_recall for r in rs):7.3f} "
              f"{statistics.mean(r.precision for r in rs):7.3f} "
              f"{sum(r.suspicious_rings for r in rs):6d} {codes:>9} "
              f"{statistics.mean(r.detect_seconds for r in rs):9.2f}  {flagged}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scale", type=int, default=200_000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    parser.add_argument("--cells", nargs="+", choices=[c.name for c in CELLS],
                        help="run only these cells (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help=f"cells {', '.join(QUICK_CELLS)}, one seed each, "
                             f"{QUICK_SCALE:,} settlements")
    parser.add_argument("--json", action="store_true", help="print every run as JSON")
    parser.add_argument("--cache", action="store_true",
                        help="keep the synthetic sets in benchmarks/.data and reuse them")
    args = parser.parse_args()
    names = list(QUICK_CELLS) if args.quick else (args.cells or [c.name for c in CELLS])
    seeds = list(QUICK_SEEDS) if args.quick else args.seeds
    scale = QUICK_SCALE if args.quick else args.scale
    runs: list[Run] = []
    for cell in CELLS:
        if cell.name not in names:
            continue
        for seed in seeds:
            if (seed % 2 == 0) != is_held_out(cell):
                continue
            runs.append(_one_run(cell, int(scale * cell.scale_factor), seed, cache=args.cache))
    if args.json:
        print(json.dumps({"scale": scale, "seeds": seeds, "runs": [asdict(r) for r in runs]},
                         indent=2, ensure_ascii=False))
        return
    print(f"detection per cell at {scale:,} settlements (recall: every planted fraud member; "
          "focus: members of the cell's pattern; precision among flagged ring members; codes: "
          "resale codes found/planted)")
    _print_table("tuning (even-position cells, odd seeds)", [r for r in runs if not r.held_out])
    print()
    _print_table("held-out (odd-position cells, even seeds)", [r for r in runs if r.held_out])


if __name__ == "__main__":
    main()
