"""Loading an export folder into a lake on Spark: the embedded loader's contract, at scale.

:func:`spark_load` reads the files ``yibao load`` reads and gives the same account: every row
in is inserted, unchanged (already in the lake) or quarantined, with the same reason codes,
row numbers and details as :func:`loaders.load.load_folder`. The lake
(:mod:`backends.spark.lake`) then holds what the store would: the accepted rows appended to
``<lake>/<table>/`` (with ``_load_id``, the store's columns and types; ``fee_details``'s
traceability codes in ``trace_codes``), and ``quarantine``, ``data_notes``, ``loads`` and
``load_files`` entries.

* **Reading** stays the loaders' own (:func:`loaders.sources.scan_file` and
  :func:`~loaders.sources.stage_raw`: encodings, header aliases, Excel, the reader's
  rejects): each file is staged to Parquet by DuckDB on the driver, one file at a time (a
  file is the natural parallel unit; reading them in Spark tasks is left for later).
* **Validating** runs on Spark, table after table in the contract's order (references
  resolve against the tables loaded before), with the embedded loader's SQL in buckets
  (:mod:`backends.spark.load_checks` says what each bucket holds).
* **Nothing half-written**: every output goes to a staging folder first; only when every
  file is validated and accounted for are the files moved into the lake, named
  ``load-<id>-…parquet``, the ``loads`` entry last. That entry commits the load: a load
  interrupted while moving leaves files of a load id that ``loads`` lacks, and the next
  :func:`spark_load` removes them before it starts. One load at a time writes a lake (a lock
  file, ``<lake>/_load.lock``, says which).

On a cluster, the lake and the work folder must be where the executors read (a shared file
system), as for :func:`backends.spark.detect.spark_detect`.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pyarrow as pa

from backends.spark.lake import lake_tables
from backends.spark.load_checks import (
    OUTPUTS,
    FileOutputs,
    LoadedSoFar,
    StagedFile,
    validate_on_spark,
)
from loaders._sql import ident, literal
from loaders.codes import CodeTables
from loaders.contract import TABLE_ORDER, TABLES
from loaders.load import folder_files
from loaders.record import file_report, lookup_tables
from loaders.report import FileReport, LoadReport
from loaders.sources import scan_file, stage_raw
from loaders.store import create_schema
from yibao.errors import StoreError, YibaoError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["LAKE_LOAD_TABLES", "ROWS_PER_BUCKET", "spark_load", "store_tables"]

log = logging.getLogger(__name__)

ROWS_PER_BUCKET = 250_000
"""Rows per bucket (of the file or of the lake's table, whichever is larger), as for the
rules (:data:`backends.spark.rules.ROWS_PER_BUCKET`)."""

LAKE_LOAD_TABLES = (*TABLE_ORDER, "trace_codes", "quarantine", "data_notes", "loads",
                    "load_files")
"""The lake's tables a load writes: every table of the store but its metadata."""

_FILE = re.compile(r"load-(\d+)-")
_LOCK = "_load.lock"


def store_tables() -> dict[str, pa.Table]:
    """The store's tables of :data:`LAKE_LOAD_TABLES`, empty: their columns and types."""
    con = duckdb.connect()
    try:
        create_schema(con)
        return {name: con.sql(f"SELECT * FROM {ident(name)}").to_arrow_table()
                for name in LAKE_LOAD_TABLES}
    finally:
        con.close()


def _parquet(folder: Path) -> str:
    return f"read_parquet({literal(str(folder / '*.parquet'))}, union_by_name = true)"


def _committed(lake: Path) -> set[int]:
    """The load ids the lake's ``loads`` records."""
    if "loads" not in lake_tables(lake):
        return set()
    con = duckdb.connect()
    try:
        rows = con.execute(f"SELECT load_id FROM {_parquet(lake / 'loads')}").fetchall()
        return {int(r[0]) for r in rows}
    finally:
        con.close()


def _roll_back_unfinished(lake: Path) -> None:
    """Remove the files of loads that moved some files into the lake but never committed."""
    committed = _committed(lake)
    for path in sorted(lake.glob("*/load-*.parquet")):
        found = _FILE.match(path.name)
        if found and int(found.group(1)) not in committed:
            log.warning("removing %s: its load did not finish", path)
            path.unlink()


def _next_load_id(lake: Path) -> int:
    """One more than any load id of the lake (its ``loads``, or rows copied from a store)."""
    present = set(lake_tables(lake))
    con = duckdb.connect()
    try:
        highest = max(_committed(lake), default=0)
        for table in (*TABLE_ORDER, "trace_codes"):
            if table in present:
                row = con.execute(f"SELECT max(_load_id) FROM {_parquet(lake / table)}").fetchone()
                highest = max(highest, int(row[0] or 0) if row else 0)
        return highest + 1
    finally:
        con.close()


def _lake_rows(lake: Path, table: str) -> int:
    if table not in lake_tables(lake):
        return 0
    con = duckdb.connect()
    try:
        row = con.execute(f"SELECT count(*) FROM {_parquet(lake / table)}").fetchone()
        return int(row[0]) if row else 0
    finally:
        con.close()


@contextmanager
def _locked(lake: Path) -> Iterator[None]:
    lock = lake / _LOCK
    try:
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        raise StoreError(
            f"the lake {lake} is being loaded by another process ({lock} exists): wait for "
            "it, or delete that file if no load is running (a crashed load left it)") from None
    try:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)


def _stage_file(table: str, path: Path, folder: Path) -> StagedFile:
    """Read ``path`` with the loaders' reader and write ``raw`` and ``raw_rejects`` as
    Parquet under ``folder``."""
    t0 = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    scan = scan_file(path)
    con = duckdb.connect()
    try:
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            stage = stage_raw(con, path, table, scan=scan, workdir=Path(tmp))
            extras = stage.ignored_columns
            columns = ", ".join(["CAST(_row AS BIGINT) AS _row",
                                 *(ident(c.name) for c in TABLES[table].columns),
                                 *(f"{ident('extra:' + n)} AS {ident(f'_extra_{i}')}"
                                   for i, n in enumerate(extras))])
            raw, rejects = folder / f"{table}.raw.parquet", folder / f"{table}.rejects.parquet"
            con.execute(f"COPY (SELECT {columns} FROM raw) TO {literal(str(raw))} "
                        "(FORMAT parquet)")
            con.execute("COPY (SELECT CAST(_row AS BIGINT) AS _row, code, detail, text "
                        f"FROM raw_rejects) TO {literal(str(rejects))} (FORMAT parquet)")
    finally:
        con.close()
    return StagedFile(stage=stage, raw=raw, rejects=rejects, extras=extras,
                      seconds=time.perf_counter() - t0)


def _lake_frames(spark: SparkSession, lake: Path, empty: Mapping[str, pa.Table]
                 ) -> dict[str, DataFrame]:
    """The lake's tables with the store's columns (a column a lake lacks: NULL; a table it
    lacks: empty)."""
    from pyspark.sql import functions as sf
    from pyspark.sql.pandas.types import from_arrow_schema

    present = set(lake_tables(lake))
    frames = {}
    for name in (*TABLE_ORDER, "quarantine"):
        schema = from_arrow_schema(empty[name].schema)
        if name not in present:
            frames[name] = spark.createDataFrame([], schema)
            continue
        frame = spark.read.parquet(str(lake / name))
        frames[name] = frame.select(*(
            (sf.col(f.name) if f.name in frame.columns else sf.lit(None))
            .cast(f.dataType).alias(f.name) for f in schema))
    return frames


def _records(folder: Path, load_id: int, source: str, started: datetime,
             staged: list[StagedFile], reports: list[FileReport]) -> None:
    """``loads`` and ``load_files`` of this load as Parquet under ``folder``."""
    con = duckdb.connect()
    try:
        create_schema(con)
        con.execute(
            "INSERT INTO loads VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, started, datetime.now(), source, sum(r.rows_in for r in reports),
             sum(r.inserted for r in reports), sum(r.unchanged for r in reports),
             sum(r.quarantined for r in reports)])
        for file, report in zip(staged, reports, strict=True):
            con.execute(
                "INSERT INTO load_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [load_id, report.table, report.file, report.sha256, file.stage.scan.size,
                 report.file_format, report.encoding, report.rows_in, report.inserted,
                 report.unchanged, report.quarantined, list(report.ignored_columns),
                 json.dumps(report.normalised)])
        for name in ("loads", "load_files"):
            (folder / name / "load").mkdir(parents=True, exist_ok=True)
            json_columns = ", normalised::VARCHAR AS normalised" if name == "load_files" else ""
            exclude = " EXCLUDE (normalised)" if json_columns else ""
            con.execute(f"COPY (SELECT *{exclude}{json_columns} FROM {name}) TO "
                        f"{literal(str(folder / name / 'load' / 'part-0.parquet'))} "
                        "(FORMAT parquet)")
    finally:
        con.close()


def _commit(out: Path, lake: Path, load_id: int, empty: Mapping[str, pa.Table]) -> None:
    """Move the staged files into the lake (files with rows; an empty one for a table the
    lake lacks), ``loads`` last: the load is committed when its entry is there."""
    import pyarrow.parquet as pq

    moves: list[tuple[Path, Path]] = []
    for name in LAKE_LOAD_TABLES:
        target = lake / name
        files = sorted((out / name).glob("*/*.parquet"))
        kept = [f for f in files if pq.read_metadata(f).num_rows > 0]
        if not kept and not any(target.glob("*.parquet")):
            kept = files[:1]
            if not kept:
                blank = out / name / "_empty" / "part-0.parquet"
                blank.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(empty[name], blank)
                kept = [blank]
        moves += [(f, target / f"load-{load_id:06d}-{f.parent.name.strip('_')}-{i:04d}.parquet")
                  for i, f in enumerate(kept)]
    moves.sort(key=lambda m: m[1].parent.name == "loads")
    for source, target in moves:
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(source), str(target))


def _write_outputs(spark: SparkSession, out: Path, table: str, outputs: FileOutputs
                   ) -> tuple[DataFrame, DataFrame]:
    """Stage one file's outputs under ``out/<lake table>/<table>/``; its accepted rows and
    quarantine entries, read back."""
    for name in OUTPUTS:
        lake_table = table if name == "rows" else name
        outputs.frames[name].write.mode("overwrite").parquet(str(out / lake_table / table))
    return (spark.read.parquet(str(out / table / table)),
            spark.read.parquet(str(out / "quarantine" / table)))


def spark_load(spark: SparkSession, folder: str | Path, lake: str | Path, *,
               codes: CodeTables | None = None, buckets: int | None = None,
               work: Path | None = None,
               progress: Callable[[str, int, int], None] | None = None) -> LoadReport:
    """Load the export ``folder`` into the lake ``lake`` with ``spark`` (module docstring).

    Parameters
    ----------
    codes
        The code tables to read coded columns with (the shipped ones by default).
    buckets
        Buckets per step (default: one per :data:`ROWS_PER_BUCKET` rows).
    work
        Where intermediate files go (default ``<lake>/_work``); removed at the end.
    progress
        ``progress(stage, done, total)``, as :data:`loaders.load.Progress`.

    Returns
    -------
    LoadReport
        As :func:`loaders.load.load_folder` gives it (``db``: the lake).

    Raises :class:`~yibao.errors.DataFileError` for a file that cannot be read (the lake is
    left as it was) and :class:`~yibao.errors.YibaoError` when a file's rows do not add up.
    """
    started_at, started = datetime.now(), time.perf_counter()
    folder, lake = Path(folder), Path(lake)
    files, ignored = folder_files(folder)
    ordered = [(t, files[t]) for t in TABLE_ORDER if t in files]
    tick = progress or (lambda _stage, _done, _total: None)
    made_lake = not lake.exists()
    lake.mkdir(parents=True, exist_ok=True)
    root = work or lake / "_work"
    made_root = not root.exists()
    base = root / "load"
    try:
        with _locked(lake):
            _roll_back_unfinished(lake)
            shutil.rmtree(base, ignore_errors=True)
            staged = []
            for i, (table, path) in enumerate(ordered):
                tick(f"read {path.name}", i, len(ordered))
                staged.append(_stage_file(table, path, base / "raw"))
            load_id = _next_load_id(lake)
            empty, shared = store_tables(), lookup_tables()
            lake_frames = _lake_frames(spark, lake, empty)
            accepted: dict[str, DataFrame] = {}
            quarantined: dict[str, DataFrame] = {}
            reports: list[FileReport] = []
            for i, file in enumerate(staged):
                table, t0 = file.stage.table, time.perf_counter()
                tick(f"load {file.stage.path.name}", i, len(staged))
                n = buckets or max(1, math.ceil(max(file.stage.rows_read, _lake_rows(
                    lake, table)) / ROWS_PER_BUCKET))
                outputs = validate_on_spark(
                    spark, file, LoadedSoFar(lake_frames, dict(accepted), dict(quarantined)),
                    load_id=load_id, buckets=n, codes=codes, empty=empty, shared=shared,
                    work=base / "steps" / table)
                if outputs.counts.rows != file.stage.rows_read:
                    raise YibaoError(
                        f"internal error loading {file.stage.path.name}: Spark checked "
                        f"{outputs.counts.rows} of its {file.stage.rows_read} rows; nothing was "
                        "written to the lake, please report it")
                accepted[table], quarantined[table] = _write_outputs(
                    spark, base / "out", table, outputs)
                reports.append(file_report(file.stage, outputs.counts, outputs.inserted,
                                           file.seconds + time.perf_counter() - t0))
                log.info("loaded %s on Spark: %s", file.stage.path, reports[-1])
            tick("commit", len(staged), len(staged))
            _records(base / "out", load_id, str(folder), started_at, staged, reports)
            _commit(base / "out", lake, load_id, empty)
    finally:
        shutil.rmtree(base, ignore_errors=True)
        for made, path in ((made_root, root), (made_lake, lake)):
            if made and path.is_dir() and not any(path.iterdir()):
                path.rmdir()
    tick("done", len(ordered), len(ordered))
    return LoadReport(load_id=load_id, source=str(folder), db=str(lake), files=tuple(reports),
                      ignored_files=tuple(p.name for p in ignored),
                      seconds=time.perf_counter() - started)
