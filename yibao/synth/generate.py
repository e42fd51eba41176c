"""``synthesize``: write a synthetic Yangtze-Delta year of settlements, with planted truth.

Order of work: geography and institutions, practitioners, the ordinary population, the planted
scenarios (which may add persons), identifiers for everyone, chronic schedules, the export view
(how codes are written, :mod:`yibao.synth._export`), then the year in chunks of days, each
written as soon as it is made. Randomness comes from one ``numpy.random.SeedSequence(seed)``
split into independent streams per stage and per chunk, so the same arguments give
byte-identical files, the dirty copy contains exactly the clean data, and the export formats
change only the columns they are about.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from yibao.errors import SynthError
from yibao.synth._batch import Batch, TraceAllocator
from yibao.synth._export import ExportView, export_view
from yibao.synth._format import (
    column_label_zh,
    fee_table,
    institutions_table,
    persons_table,
    practitioners_table,
    setl_ids,
    settlements_table,
    table_columns,
    trace_codes,
)
from yibao.synth.background import (
    CHRONIC_SHARE,
    REVERSAL_SHARE,
    Background,
    World,
    chronic_plan,
    chunk_plan,
)
from yibao.synth.formats import ExportFormats
from yibao.synth.knobs import ScenarioKnobs
from yibao.synth.persons import assemble_persons, concat_specs, person_specs
from yibao.synth.population import (
    Pools,
    geography,
    institutions_for_scale,
    practitioners_for,
)
from yibao.synth.scenarios import LABELS_ZH, Plan, plan_scenarios
from yibao.synth.writer import XLSX_MAX_ROWS, FileFormat, TableWriter, open_writer

__all__ = ["SCALE_MAX", "SCALE_MIN", "SynthSummary", "synthesize"]

logger = logging.getLogger(__name__)

SCALE_MIN = 10_000
SCALE_MAX = 10_000_000
PERIOD = ("2024-01-01", "2024-12-31")
TABLE_NAMES = ("persons", "institutions", "practitioners", "settlements", "fee_details")
_EXTENSIONS = ("csv", "parquet", "xlsx")
_LINES_PER_SETTLEMENT_LOW = 2.7
"""Below the fee lines per settlement of any set (about 2.9-3.0): refuses hopeless xlsx early."""

Progress = Callable[[str, int, int], None]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class SynthSummary:
    """What :func:`synthesize` wrote: files and data rows per table, scenarios and faults."""

    out_dir: Path
    files: dict[str, Path]
    rows: dict[str, int]
    scenarios: int
    faults: int


def _our_names() -> set[str]:
    names = {f"{t}.{ext}" for t in TABLE_NAMES for ext in _EXTENSIONS}
    names |= {"truth.json", "faults.json"}
    return names | {n + ".part" for n in names} | {n + ".part.tmp" for n in names}


def _validate(out_dir: Path, scale: int, seed: int, file_format: str) -> None:
    if isinstance(scale, bool) or not isinstance(scale, int | np.integer):
        raise SynthError(f"scale must be an integer number of settlements, got {scale!r}")
    if not SCALE_MIN <= scale <= SCALE_MAX:
        raise SynthError(
            f"scale {scale:,} is out of range: choose {SCALE_MIN:,} to {SCALE_MAX:,} settlements")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise SynthError(f"seed must be a non-negative integer, got {seed!r}")
    if file_format not in _EXTENSIONS:
        raise SynthError(
            f"unknown file format {file_format!r}; choose one of {', '.join(_EXTENSIONS)}")
    if file_format == "xlsx" and scale > XLSX_MAX_ROWS / _LINES_PER_SETTLEMENT_LOW:
        limit = int(XLSX_MAX_ROWS / _LINES_PER_SETTLEMENT_LOW) // 1000 * 1000
        raise SynthError(
            f"xlsx cannot hold scale {scale:,}: fee_details would exceed {XLSX_MAX_ROWS:,} rows, "
            f"the most an Excel sheet holds; use file_format 'csv' or 'parquet', or a scale of at "
            f"most about {limit:,}")
    if out_dir.exists() and not out_dir.is_dir():
        raise SynthError(f"out_dir {str(out_dir)!r} is a file; give a directory to write into")
    if out_dir.is_dir():
        foreign = sorted(p.name for p in out_dir.iterdir() if p.name not in _our_names())
        if foreign:
            shown = ", ".join(foreign[:5]) + (" ..." if len(foreign) > 5 else "")
            raise SynthError(
                f"out_dir {str(out_dir)!r} holds files that are not synthetic output ({shown}); "
                "choose an empty or new directory (earlier synthetic output is overwritten)")


def _clear(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in _our_names():
        (out_dir / name).unlink(missing_ok=True)


class _Run:
    """State of one call of :func:`synthesize`."""

    def __init__(self, out_dir: Path, scale: int, seed: int, file_format: FileFormat,
                 formats: ExportFormats, progress: Progress | None,
                 knobs: ScenarioKnobs | None = None) -> None:
        self.out_dir = out_dir
        self.knobs = knobs
        self.scale = scale
        self.seed = seed
        self.file_format = file_format
        self.formats = formats
        self.progress = progress or (lambda stage, done, total: None)
        # streams added later come after the first eight, which therefore never change
        self.streams = dict(zip(
            ("institutions", "practitioners", "persons", "scenarios", "identities", "chronic",
             "background", "dirty", "formats", "staff", "operators"),
            np.random.SeedSequence(seed).spawn(11), strict=True))

    def rng(self, stream: str) -> np.random.Generator:
        return np.random.default_rng(self.streams[stream])

    def build(self) -> None:
        report = self.progress
        report("population", 0, 4)
        geo = geography()
        inst = institutions_for_scale(self.scale, geo, self.rng("institutions"))
        pools = Pools.build(inst, geo)
        report("population", 1, 4)
        prac = practitioners_for(inst, geo, self.scale, self.rng("practitioners"))
        report("population", 2, 4)
        base = person_specs(self.scale // 7 + 1500, geo, self.rng("persons"))
        report("population", 3, 4)
        self.alloc = TraceAllocator()
        self.plan: Plan = plan_scenarios(geo, inst, pools, prac, base, self.scale,
                                         self.rng("scenarios"), self.alloc, self.knobs)
        report("scenarios", 1, 1)
        spec = concat_specs([base, self.plan.extra_persons])
        persons = assemble_persons(spec, geo, pools, self.rng("identities"))
        self.world = World(geo, inst, pools, prac, persons)
        report("population", 4, 4)
        key = int(self.streams["formats"].generate_state(1, dtype=np.uint64)[0]) >> 1
        self.view: ExportView = export_view(self.formats, key, geo, inst, prac, self.plan,
                                            self.rng("staff"), self.rng("operators"))
        planted = len(self.plan.batch)
        budget = self.scale - planted
        if budget < self.scale // 2:
            raise SynthError(f"scenarios took {planted:,} of {self.scale:,} settlements; "
                             "use a larger scale")
        excluded = np.zeros(len(persons), dtype=bool)
        for scen in self.plan.scenarios:
            excluded[scen.persons] = True
        chronic = chronic_plan(self.world, round(CHRONIC_SHARE * budget / 10.56), excluded,
                               self.rng("chronic"))
        reversals = round(REVERSAL_SHARE * budget)
        free = budget - len(chronic) - reversals
        self.chunks = chunk_plan(self.scale, free, reversals)
        self.background = Background(self.world, chronic, self.chunks,
                                     self.streams["background"], self.alloc)
        logger.info("synth: %d institutions, %d practitioners, %d persons, %d planted rows in "
                    "%d scenarios, %d chronic visits, %d chunks", len(inst), len(prac),
                    len(persons), planted, len(self.plan.scenarios), len(chronic),
                    len(self.chunks))

    def settlement_chunks(self) -> Iterator[tuple[Batch, pa.Table, pa.Table]]:
        """Yield (chunk batch sorted by time, settlements table, fee table) per chunk."""
        plan = self.plan
        planted_time = plan.batch.time
        self.plant_counter = np.full(plan.n_planted, -1, dtype=np.int64)
        done = 0
        for c in range(len(self.chunks)):
            t0 = time.perf_counter()
            lo = int(np.searchsorted(planted_time, self.chunks.day_lo[c] * 86_400))
            hi = int(np.searchsorted(planted_time, self.chunks.day_hi[c] * 86_400))
            planted = plan.batch.take(np.arange(lo, hi, dtype=np.int64))
            ordinary = self.background.chunk(c, planted)
            merged = Batch.concat([ordinary, planted])
            merged = merged.take(np.argsort(merged.time, kind="stable"))
            counter = done + np.arange(len(merged), dtype=np.int64)
            is_plant = merged.plant >= 0
            self.plant_counter[merged.plant[is_plant]] = counter[is_plant]
            init = np.full(len(merged), -1, dtype=np.int64)
            local = merged.orig >= 0
            init[local] = counter[merged.orig[local]]
            planted_rev = merged.orig_plant >= 0
            init[planted_rev] = self.plant_counter[merged.orig_plant[planted_rev]]
            if (init[planted_rev] < 0).any():
                raise RuntimeError("a planted reversal precedes its original")
            w = self.world
            setl = settlements_table(merged, counter, init, w.persons, w.inst, self.view)
            fees = fee_table(merged, setl.column("setl_id").combine_chunks(), self.view)
            done += len(merged)
            logger.debug("chunk %d: %d settlements, %d fee lines in %.2f s", c, len(merged),
                         len(merged.lines), time.perf_counter() - t0)
            yield merged, setl, fees
            self.progress("settlements", done, self.scale)
        if done != self.scale:
            raise RuntimeError(f"wrote {done} settlements instead of {self.scale}")

    def truth(self) -> dict[str, Any]:
        """The answer key: each scenario's persons, institutions, practitioners, rows and codes,
        and (with operator columns) the ``opter_id`` of each ring's one operator."""
        w = self.world
        plan = self.plan
        order_by_plant = np.empty(plan.n_planted, dtype=np.int64)
        order_by_plant[plan.batch.plant] = np.arange(plan.n_planted)
        medfee = plan.batch.fund + plan.batch.acct + plan.batch.cash
        entries = []
        for k, scen in enumerate(plan.scenarios):
            plants = np.array(scen.rows, dtype=np.int64)
            ids = setl_ids(self.plant_counter[plants]).to_pylist()
            item = np.array([c[0] for c in scen.codes], dtype=np.int64)
            serial = np.array([c[1] for c in scen.codes], dtype=np.int64)
            codes = trace_codes(item, serial).to_pylist() if len(item) else []
            fen = int(medfee[order_by_plant[plants]].sum())
            entries.append({
                "id": f"SC{k + 1:04d}",
                "pattern": scen.pattern,
                "kind": scen.kind,
                "label_zh": LABELS_ZH[scen.pattern],
                "persons": w.persons.psn_no.take(pa.array(scen.persons)).to_pylist(),
                "institutions": w.inst.code.take(pa.array(scen.institutions)).to_pylist(),
                "practitioners": self.view.prac_code.take(
                    pa.array(scen.practitioners, type=pa.int64())).to_pylist(),
                "setl_ids": ids,
                "trace_codes": list(dict.fromkeys(codes)),
                "amount_yuan": round(fen / 100, 2),
                "description": scen.description,
                "params": scen.params,
            })
            if self.view.operators is not None:
                entries[-1]["operators"] = [self.view.ring_operator(scen.index, i)
                                            for i in scen.keyed_by_one]
        return {"seed": int(self.seed), "scale": int(self.scale), "period": list(PERIOD),
                "scenarios": entries}


def _header(table: str, formats: ExportFormats, chinese: bool = False) -> list[str]:
    cols = table_columns(table, operators=formats.operators)
    return [column_label_zh(table, c) if chinese else c for c in cols]


def synthesize(
    out_dir: Path,
    *,
    scale: int,
    seed: int,
    dirty: bool = False,
    file_format: Literal["csv", "parquet", "xlsx"] = "csv",
    formats: ExportFormats | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    knobs: ScenarioKnobs | None = None,
) -> SynthSummary:
    """Write a synthetic year (2024) of 沪苏浙皖 medical-insurance data into ``out_dir``.

    ``scale``: settlement rows of the clean data (10,000 to 10,000,000), planted rows and
    reversals included. Writes ``persons``, ``institutions``, ``practitioners``, ``settlements``
    and ``fee_details`` in ``file_format`` plus ``truth.json``; with ``dirty`` the same data
    with export faults, listed in ``faults.json`` (persons as GBK CSV with Chinese headers,
    practitioners as UTF-8 CSV with BOM, institutions as xlsx). ``formats`` chooses the shapes
    of codes and the extra columns (:class:`~yibao.synth.formats.ExportFormats`; default: every
    real shape; ``ExportFormats.legacy()``: the earlier generator's shapes, byte for byte);
    other output does not depend on it. ``knobs`` pins the shapes of the planted fraud rings
    (:class:`~yibao.synth.knobs.ScenarioKnobs`; default: every shape drawn at random, recorded
    as each scenario's ``params`` in ``truth.json``). ``progress(stage, done, total)`` is
    called as work advances.
    Raises :class:`~yibao.errors.SynthError` for unusable arguments.
    """
    out_dir = Path(out_dir)
    formats = ExportFormats() if formats is None else formats
    if not isinstance(formats, ExportFormats):
        raise SynthError(f"formats must be an ExportFormats, got {formats!r}; use "
                         "ExportFormats.parse('real') or ExportFormats.legacy()")
    if knobs is not None and not isinstance(knobs, ScenarioKnobs):
        raise SynthError(f"knobs must be a ScenarioKnobs, got {knobs!r}")
    _validate(out_dir, scale, seed, file_format)
    _clear(out_dir)
    started = time.perf_counter()
    run = _Run(out_dir, int(scale), int(seed), file_format, formats, progress, knobs)
    run.build()
    from yibao.synth.dirty import FaultInjector

    injector = FaultInjector(run, dirty=dirty)
    writers: dict[str, TableWriter] = {}
    files: dict[str, Path] = {}
    try:
        for table in ("settlements", "fee_details"):
            path = out_dir / f"{table}.{file_format}"
            writers[table] = open_writer(path, _header(table, formats), file_format,
                                         table=table)
            files[table] = path
        for merged, setl, fees in run.settlement_chunks():
            injector.settlements(writers["settlements"], setl, merged)
            injector.fee_details(writers["fee_details"], fees, merged)
        for table in ("settlements", "fee_details"):
            writers.pop(table).close()
        w = run.world
        layout = injector.layout(file_format)
        frames = {
            "persons": persons_table(w.persons, w.geo),
            "institutions": institutions_table(w.inst, w.geo, run.view),
            "practitioners": practitioners_table(w.prac, w.inst, run.view),
        }
        for table, frame in frames.items():
            fmt, encoding, bom, chinese = layout[table]
            path = out_dir / f"{table}.{fmt}"
            writers[table] = open_writer(path, _header(table, formats, chinese), fmt, table=table,
                                         encoding=encoding, bom=bom)
            files[table] = path
            injector.small_table(table, writers[table], frame)
            writers.pop(table).close()
            run.progress(table, 1, 1)
        truth = run.truth()
        _write_json(out_dir / "truth.json", truth)
        faults = injector.finish(out_dir)
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise
    rows = {t: injector.rows_written[t] for t in TABLE_NAMES}
    logger.info("synth: wrote %s in %.1f s", ", ".join(f"{t}={n:,}" for t, n in rows.items()),
                time.perf_counter() - started)
    ordered = {t: files[t] for t in TABLE_NAMES}
    return SynthSummary(out_dir=out_dir, files=ordered, rows=rows,
                        scenarios=len(truth["scenarios"]), faults=faults)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".part")
    with tmp.open("w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.write("\n")
    os.replace(tmp, path)
