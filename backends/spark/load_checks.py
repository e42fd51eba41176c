"""Validating one staged export file on Spark, with the embedded loader's own SQL per bucket.

The file's rows (staged by :mod:`backends.spark.load` as Parquet of the loader's ``raw``
table) pass the checks of :mod:`loaders.validate` in the embedded loader's order; each check
runs unchanged on an in-memory DuckDB holding one bucket's rows
(:mod:`backends.spark.partitioned`), and its result (the rows of ``checked`` with their
``_problems``, ``_notes`` and ``_unchanged``) goes on to the next step. A step reads only the
rows without a problem so far (every check after the row checks selects
``len(_problems) = 0``, so a refused row never changes again); the others wait aside. The
steps and what a bucket holds:

* **row checks** (:func:`~loaders.validate.check_rows`): row-local; each Spark partition of
  the staged file is one DuckDB table ``raw`` (no shuffle), with the shared lookup tables
  ``_divisions`` and ``_reasons``.
* **key** (:func:`~loaders.validate.flag_duplicates`, :func:`~loaders.validate.flag_stored`,
  and the references made through the key's first column): buckets of the first key column
  (``setl_id`` for ``fee_details``, whose key is ``setl_id + feedetl_sn``). A bucket holds the
  file's rows of its keys and the lake's rows of the table with those keys: the duplicates of
  a key are rows of that key, and ``flag_stored`` joins on the key. ``fee_details``'s
  reference to ``settlements.setl_id`` shares the bucket: it holds the settlement ids
  (lake's and this load's) and the quarantine entries of ``settlements`` of its ids.
  ``institutions`` get their coordinates checked here too
  (:func:`~loaders.geocheck.note_coordinates_outside_division`, row-local, after every
  check that can refuse an institution).
* **reference** (:func:`~loaders.validate.check_reference`), one step per other reference
  column: buckets of the referenced value. A bucket holds the rows whose value falls in it,
  the referenced table's keys that fall in it (the lake's and those this load accepted,
  the only rows ``NOT IN (SELECT key FROM ref_table)`` reads), and the quarantine entries of
  the referenced table whose raw record names such a key (the lake's and this load's: the
  only entries the ``LEFT JOIN`` on that key can meet; Spark finds an entry's key with
  ``get_json_object``, the check with DuckDB's ``json_extract_string``, which agree on the
  flat JSON objects of text the loader writes). When one key has entries in several files,
  the embedded SQL names ``any_value`` of them, and so may a bucket, another one.
* **reversals** (:func:`~loaders.validate.link_reversals`, settlements): buckets of
  (``psn_no``, ``fixmedins_code``), with the reversals (冲销) to link only (rows without a
  problem, not stored, negative). A reversal matches a settlement of its own person and
  institution only, so a bucket holds the lake's settlements and this file's accepted
  non-negative ones (stored first, as the embedded loader does) of its pairs: every
  candidate original. It also holds every settlement whose ``init_setl_id`` names one of
  those, placed in that one's bucket: the rows that make a candidate "already reversed"
  (the loader links a reversal within its pair, so these are mostly in the bucket anyway).
  The reversals choosing one original (numbered by ``nth``) share its pair, hence its bucket.
* **record** (:mod:`loaders.record`): buckets of the row number. A bucket holds its rows of
  ``checked``, the raw text of those refused (``raw``), the reader's rejects
  (``raw_rejects``) and the lake's quarantine entries of the same file (table and SHA-256)
  at those row numbers, which is all that ``record_quarantine``'s ``NOT EXISTS`` reads; it
  gives the accepted rows, traceability codes, notes, quarantine entries and the counts,
  which add up over buckets (:func:`loaders.record.combine_counts`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from backends.spark.partitioned import BUCKET, Job, Part, run_bucketed
from backends.spark.settlements import BROADCAST_ASKED
from loaders._sql import ident
from loaders.codes import CodeTables
from loaders.contract import TABLES
from loaders.geocheck import note_coordinates_outside_division
from loaders.record import (
    CheckedCounts,
    combine_counts,
    count_checked,
    insert_accepted,
    meta_sql,
    record_notes,
    record_quarantine,
)
from loaders.sources import RawStage
from loaders.validate import (
    check_reference,
    check_rows,
    content_hash_sql,
    flag_duplicates,
    flag_stored,
    link_reversals,
)

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

log = logging.getLogger(__name__)

__all__ = ["FileOutputs", "LoadedSoFar", "StagedFile", "Step", "steps_of", "validate_on_spark"]

REVERSAL_COLUMNS = ("setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "medfee_sumamt",
                    "setl_time", "init_setl_id")
"""The settlements' columns :func:`loaders.validate.link_reversals` reads."""

OUTPUTS = ("rows", "trace_codes", "data_notes", "quarantine")
"""What recording a file gives, besides its counts: its accepted rows (to the table's lake
folder) and the entries of the three lake tables of the same names."""


@dataclass(frozen=True)
class StagedFile:
    """One export file read by the loader's own reader and written as Parquet: ``raw``'s
    rows (the file's columns the contract ignores as ``_extra_<i>``, named in ``extras``)
    and ``raw_rejects``'s."""

    stage: RawStage
    raw: Path
    rejects: Path
    extras: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class Step:
    """One bucketed step of checks: bucketed by the file's ``v_<key>`` (``pair``: by
    ``psn_no`` and ``fixmedins_code``, the reversals' step)."""

    key: str
    duplicates: bool = False
    stored: bool = False
    references: tuple[tuple[str, str, str], ...] = ()
    geocheck: bool = False
    reversals: bool = False


def steps_of(table: str) -> tuple[Step, ...]:
    """The steps of ``table``'s checks after the row checks, in the embedded loader's order."""
    contract = TABLES[table]
    first = contract.key[0]
    refs = list(contract.references)
    with_key = []
    while refs and refs[0][0] == first:  # only while the contract's order is kept
        with_key.append(refs.pop(0))
    steps = [Step(first, duplicates=True, stored=True, references=tuple(with_key))]
    steps += [Step(ref[0], references=(ref,)) for ref in refs]
    if table == "institutions":
        steps[-1] = Step(**{**asdict(steps[-1]), "geocheck": True})
    if table == "settlements":
        steps.append(Step("pair", reversals=True))
    return tuple(steps)


@dataclass(frozen=True)
class LoadedSoFar:
    """What the checks read beyond the file: the lake's tables (empty frames for those it
    lacks, with the store's columns) and what this load accepted and quarantined so far."""

    lake: Mapping[str, DataFrame]
    accepted: Mapping[str, DataFrame]
    quarantined: Mapping[str, DataFrame]

    def rows(self, table: str) -> DataFrame:
        """The lake's rows of ``table`` and this load's."""
        frame = self.lake[table]
        new = self.accepted.get(table)
        return frame if new is None else frame.unionByName(new)

    def quarantine(self, table: str) -> DataFrame:
        """The quarantine entries of ``table``'s rows, the lake's and this load's."""
        from pyspark.sql import functions as sf

        entries = self.lake["quarantine"].where(sf.col("table_name") == table)
        new = self.quarantined.get(table)
        return entries if new is None else entries.unionByName(new)


@dataclass(frozen=True)
class FileOutputs:
    """What validating one file gave: the frames of :data:`OUTPUTS` and the counts."""

    frames: Mapping[str, DataFrame]
    counts: CheckedCounts
    inserted: int


def _connect(tables: Mapping[str, pa.Table]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for name, table in tables.items():
        con.register("_arrow_in", table)
        con.execute(f"CREATE TABLE {ident(name)} AS SELECT * FROM _arrow_in")
        con.unregister("_arrow_in")
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> pa.Table:
    """The rows of ``sql`` (after running to its end what the loader's SQL left unread)."""
    con.complete()
    return con.sql(sql).to_arrow_table()


def _checked_rows(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """``checked`` without its content hash (unsigned: no Spark type; recomputed on arrival,
    :func:`_restore_checked`)."""
    return _rows(con, "SELECT * EXCLUDE (_hash) FROM checked")


def _restore_checked(con: duckdb.DuckDBPyConnection, table: str) -> None:
    """``checked`` from a bucket's rows (``_checked``), with the content hash back."""
    con.execute(f"""CREATE OR REPLACE TEMP TABLE checked AS
        SELECT *, {content_hash_sql(TABLES[table], "v_")} AS _hash FROM _checked""")


def _row_checks_runner(stage: RawStage, codes: CodeTables | None,
                       shared: Mapping[str, pa.Table], schema: pa.Schema
                       ) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    present = frozenset(stage.column_map)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        rows = pa.Table.from_batches(list(batches))
        if not rows.num_rows:
            return
        con = _connect({**shared, "raw": rows})
        try:
            check_rows(con, stage.table, codes=codes, present=present)
            yield from _checked_rows(con).cast(schema).to_batches()
        finally:
            con.close()
    return run


def _row_checks(spark: SparkSession, staged: StagedFile, raw: DataFrame,
                codes: CodeTables | None, shared: Mapping[str, pa.Table],
                work: Path) -> DataFrame:
    """``checked`` after :func:`~loaders.validate.check_rows`, partition by partition."""
    from pyspark.sql.pandas.types import from_arrow_schema, to_arrow_schema

    columns = ["_row", *(c.name for c in TABLES[staged.stage.table].columns)]
    rows = raw.select(*columns)
    empty = to_arrow_schema(rows.schema, prefers_large_types=False).empty_table()
    con = _connect({**shared, "raw": empty})
    try:
        check_rows(con, staged.stage.table, codes=codes,
                   present=frozenset(staged.stage.column_map))
        spark_schema = from_arrow_schema(_checked_rows(con).schema)
    finally:
        con.close()
    schema = to_arrow_schema(spark_schema, prefers_large_types=False)
    out = rows.mapInArrow(_row_checks_runner(staged.stage, codes, shared, schema), spark_schema)
    out.write.mode("overwrite").parquet(str(work))
    return spark.read.parquet(str(work))


def _checks_job(table: str, step: Step) -> Job:
    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        _restore_checked(con, table)
        if step.duplicates:
            flag_duplicates(con, table)
        if step.stored:
            flag_stored(con, table)
        for column, ref_table, ref_column in step.references:
            check_reference(con, column, ref_table, ref_column)
        if step.geocheck:
            note_coordinates_outside_division(con)
        if step.reversals:
            link_reversals(con)
        return {"checked": _checked_rows(con)}
    return job


def _small(frame: DataFrame) -> DataFrame:
    """``frame`` marked for broadcast (sent whole to every task, so that what it filters is
    not shuffled) when it has at most :data:`BROADCAST_ASKED` rows."""
    from pyspark.sql import functions as sf

    return sf.broadcast(frame) if frame.count() <= BROADCAST_ASKED else frame


def _pair_bucket(psn_no: str, fixmedins_code: str, buckets: int) -> Column:
    from pyspark.sql import functions as sf

    return sf.pmod(sf.xxhash64(sf.col(psn_no), sf.col(fixmedins_code)),
                   sf.lit(buckets)).cast("int")


def _reversal_settlements(checked: DataFrame, candidates: DataFrame, so_far: LoadedSoFar,
                          buckets: int) -> DataFrame:
    """The settlements the reversals' buckets read (see the module docstring), with
    :data:`BUCKET`; a row may come twice into a bucket (make the part distinct)."""
    from pyspark.sql import functions as sf

    accepted = checked.where("size(_problems) = 0 AND NOT _unchanged AND v_medfee_sumamt >= 0")
    every = so_far.lake["settlements"].select(*REVERSAL_COLUMNS).unionByName(
        accepted.select(*(sf.col("v_" + c).alias(c) for c in REVERSAL_COLUMNS)))
    pairs = candidates.select(sf.col("v_psn_no").alias("psn_no"),
                              sf.col("v_fixmedins_code").alias("fixmedins_code")).distinct()
    theirs = every.join(_small(pairs), ["psn_no", "fixmedins_code"], "left_semi") \
        .withColumn(BUCKET, _pair_bucket("psn_no", "fixmedins_code", buckets))
    reversing = every.where("init_setl_id IS NOT NULL").join(
        theirs.select(sf.col("setl_id").alias("init_setl_id"), BUCKET), "init_setl_id")
    return theirs.unionByName(reversing.select(*REVERSAL_COLUMNS, BUCKET))


def _step_parts(table: str, step: Step, rows: DataFrame, checked: DataFrame,
                so_far: LoadedSoFar, buckets: int) -> dict[str, Part]:
    """The parts of a step's buckets (see the module docstring)."""
    from pyspark.sql import functions as sf

    if step.reversals:
        return {
            "_checked": Part(rows.withColumn(
                BUCKET, _pair_bucket("v_psn_no", "v_fixmedins_code", buckets)), BUCKET),
            "settlements": Part(_reversal_settlements(checked, rows, so_far, buckets), BUCKET,
                                distinct=True)}
    parts = {"_checked": Part(rows, "v_" + step.key)}
    if step.stored:
        parts[table] = Part(so_far.lake[table], step.key)
    entries = []
    for _column, ref_table, ref_column in step.references:
        parts[ref_table] = Part(so_far.rows(ref_table).select(ref_column), ref_column)
        entries.append(so_far.quarantine(ref_table).withColumn(
            "_ref_key", sf.get_json_object("raw_record", f"$.{ref_column}"))
            .where("_ref_key IS NOT NULL"))
    if entries:
        quarantine = entries[0]
        for more in entries[1:]:
            quarantine = quarantine.unionByName(more)
        parts["quarantine"] = Part(quarantine, "_ref_key")
    return parts


def _record_job(staged: StagedFile, load_id: int) -> Job:
    stage = staged.stage
    table = stage.table
    names = [c.name for c in TABLES[table].columns]
    raw_select = ", ".join(["_row", *(ident(n) for n in names), *(
        f"{ident(f'_extra_{i}')} AS {ident('extra:' + name)}"
        for i, name in enumerate(staged.extras))])

    def job(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
        _restore_checked(con, table)
        con.execute(f"CREATE OR REPLACE TEMP VIEW raw AS SELECT {raw_select} FROM _raw")
        inserted = insert_accepted(con, table, load_id)
        meta = meta_sql(load_id, table, stage.path.name, stage.scan.sha256)
        record_notes(con, table, meta)
        record_quarantine(con, table, meta, stage.scan.sha256)
        counts = {**asdict(count_checked(con, table)), "inserted": inserted}
        return {
            "rows": _rows(con, f"SELECT * FROM {ident(table)}"),
            "trace_codes": _rows(con, "SELECT * FROM trace_codes"),
            "data_notes": _rows(con, "SELECT * FROM data_notes"),
            "quarantine": _rows(con, f"SELECT * FROM quarantine WHERE load_id = {int(load_id)}"),
            "counts": pa.table({"counts": [json.dumps(counts)]}),
        }
    return job


def _record(spark: SparkSession, staged: StagedFile, raw: DataFrame, checked: DataFrame,
            so_far: LoadedSoFar, *, load_id: int, buckets: int, empty: Mapping[str, pa.Table],
            shared: Mapping[str, pa.Table], work: Path) -> FileOutputs:
    from pyspark.sql import functions as sf

    stage = staged.stage
    refused = checked.where("size(_problems) > 0").select("_row")
    quarantine = so_far.lake["quarantine"].where(
        (sf.col("table_name") == stage.table) & (sf.col("sha256") == stage.scan.sha256))
    rejects = spark.read.parquet(str(staged.rejects))
    out = run_bucketed(spark, {
        "_checked": Part(checked, "_row"),
        "_raw": Part(raw.join(_small(refused), "_row", "left_semi"), "_row"),
        "raw_rejects": Part(rejects, "_row"),
        "quarantine": Part(quarantine, "row_no"),
    }, _record_job(staged, load_id), buckets=buckets,
        shared={**shared, stage.table: empty[stage.table],
                **{name: empty[name] for name in ("trace_codes", "data_notes")}},
        work=work)
    parts = []
    inserted = 0
    for row in out["counts"].toArrow().to_pylist():
        data: dict[str, Any] = json.loads(row["counts"])
        inserted += int(data.pop("inserted"))
        parts.append(CheckedCounts(**data))
    return FileOutputs(frames={name: out[name] for name in OUTPUTS},
                       counts=combine_counts(stage.table, parts), inserted=inserted)


def validate_on_spark(spark: SparkSession, staged: StagedFile, so_far: LoadedSoFar, *,
                      load_id: int, buckets: int, codes: CodeTables | None,
                      empty: Mapping[str, pa.Table], shared: Mapping[str, pa.Table],
                      work: Path) -> FileOutputs:
    """Validate and record ``staged`` (see the module docstring) against ``so_far``.

    ``empty``: the store's tables, empty (their columns and types); ``shared``: the lookup
    tables (:func:`loaders.record.lookup_tables`); ``work``: a folder for the steps' files.
    The frames given are read from files under ``work``.
    """
    from pyspark.sql import functions as sf

    table = staged.stage.table
    raw = spark.read.parquet(str(staged.raw))
    t0 = time.perf_counter()
    checked = _row_checks(spark, staged, raw, codes, shared, work / "rows")
    log.info("%s: row checks in %.1f s", table, time.perf_counter() - t0)
    for i, step in enumerate(steps_of(table)):
        t0 = time.perf_counter()
        wanted = "size(_problems) = 0"
        if step.reversals:
            wanted += " AND NOT _unchanged AND v_medfee_sumamt < 0"
        chosen = sf.coalesce(sf.expr(wanted), sf.lit(False))
        rows = checked.where(chosen)
        parts = _step_parts(table, step, rows, checked, so_far, buckets)
        done = run_bucketed(spark, parts, _checks_job(table, step), buckets=buckets,
                            shared=shared, work=work / f"step{i}")["checked"]
        checked = checked.where(~chosen).unionByName(done)
        log.info("%s: %s in %.1f s", table, step, time.perf_counter() - t0)
    return _record(spark, staged, raw, checked, so_far, load_id=load_id, buckets=buckets,
                   empty=empty, shared=shared, work=work / "record")
