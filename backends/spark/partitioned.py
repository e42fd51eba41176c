"""Running the embedded store's own code on Spark, one partition at a time.

A *bucketed job* takes several tables, each with the column whose hash picks its bucket, and
a Python function of a DuckDB connection. Spark hashes every row to one of ``buckets``
buckets (``pmod(xxhash64(key), buckets)``, so rows of equal keys of different tables meet),
ships each bucket's rows of every table to one Python worker as Arrow, and there the function
runs on an in-memory DuckDB holding exactly those rows under the tables' names, plus the
small *shared* tables every bucket gets whole. What it returns (one Arrow table per output
name) the worker writes as Parquet, a file per output and bucket, and Spark reads the files:
the outputs (the claims rows among them) never pass through the JVM, which costs about as
much per row as the way in.

So a step whose SQL is partitionable by a key (a person's visits, a doctor's prescriptions,
a traceability code's sales) runs the same SQL on Spark as on the embedded store, and its
results match the store's row for row. Statistics over everything (a pharmacy's market, an
item's usual price) are computed first, by a job of their own keyed by what they group, and
handed in as shared tables.

Tables cross the process boundary as Arrow IPC streams inside a binary column: the one way to
give one Python call several tables of different schemas (Spark's cogroup takes two). Memory
per worker is one bucket's rows; choose ``buckets`` so that a bucket is a few hundred MB.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession

__all__ = ["BUCKET", "Job", "Part", "bucket_of", "run_bucketed"]

BUCKET = "_bucket"
"""The column holding a row's bucket."""

_PAYLOAD_DDL = f"{BUCKET} int, _table string, _payload binary"

Job = Callable[[duckdb.DuckDBPyConnection], Mapping[str, pa.Table]]
"""What runs in a bucket: the DuckDB connection holding the bucket's tables -> output tables
by name (every name, every time, with the same schema: empty when nothing was found)."""


@dataclass(frozen=True)
class Part:
    """A table of a bucketed job: its rows and the column whose hash picks the bucket
    (:data:`BUCKET`: the rows carry their bucket already, e.g. a row needed in several)."""

    frame: DataFrame
    key: str
    distinct: bool = False
    """Keep one of identical rows within a bucket (rows asked for twice, e.g. a settlement
    and a reversal of another of the bucket's settlements, :mod:`backends.spark.settlements`)."""


def bucket_of(column: Column | str, buckets: int) -> Column:
    """The bucket of ``column``'s value: ``pmod(xxhash64(value), buckets)`` (an int)."""
    from pyspark.sql import functions as sf

    col = sf.col(column) if isinstance(column, str) else column
    return sf.pmod(sf.xxhash64(col), sf.lit(buckets)).cast("int")


def _ipc(table: pa.Table | pa.RecordBatch) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write(table)
    return sink.getvalue()


def _from_ipc(payloads: list[bytes], schema: pa.Schema) -> pa.Table:
    tables = [pa.ipc.open_stream(p).read_all() for p in payloads]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def _encoder(name: str) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """mapInArrow: each batch split by bucket into ``(bucket, name, IPC of its rows)``."""
    def encode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if batch.num_rows == 0:
                continue
            buckets = batch.column(BUCKET)
            rows = batch.drop_columns([BUCKET])
            ids, payloads = [], []
            for bucket in pc.unique(buckets).to_pylist():
                ids.append(bucket)
                payloads.append(_ipc(rows.filter(pc.equal(buckets, bucket))))
            yield pa.RecordBatch.from_pydict({
                BUCKET: pa.array(ids, pa.int32()),
                "_table": pa.array([name] * len(ids), pa.string()),
                "_payload": pa.array(payloads, pa.binary())})
    return encode


def _run_in(tables: Mapping[str, pa.Table], shared: Mapping[str, pa.Table], job: Job,
            distinct: frozenset[str] = frozenset()) -> dict[str, pa.Table]:
    con = duckdb.connect()
    try:
        for name, table in {**shared, **tables}.items():
            con.register("_arrow_in", table)
            unique = "DISTINCT " if name in distinct else ""
            con.execute(f"CREATE TABLE {name} AS SELECT {unique}* FROM _arrow_in")
            con.unregister("_arrow_in")
        return dict(job(con))
    finally:
        con.close()


_MANIFEST = pa.schema([(BUCKET, pa.int32()), ("_table", pa.string()), ("_rows", pa.int64())])
"""What a bucket's run gives back to Spark: the rows it wrote per output."""


def _write(table: pa.Table, folder: str, name: str) -> None:
    """``table`` as the Parquet file ``folder/name``, whole or not at all (written under a
    hidden name, then renamed: a task that runs again replaces it)."""
    final = os.path.join(folder, name)
    partial = os.path.join(folder, f".{name}.{os.getpid()}.partial")
    pq.write_table(table, partial)
    os.replace(partial, final)


def _runner(schemas: Mapping[str, bytes], shared: Mapping[str, bytes], job: Job,
            outputs: Mapping[str, bytes], work: str, distinct: frozenset[str]
            ) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """applyInArrow (the iterator form): one bucket's payload rows -> its output tables,
    written by this worker as ``work/<output>/bucket-<n>.parquet`` (in the output's schema,
    ``outputs``), and one manifest row per output (:data:`_MANIFEST`). The outputs do not
    pass through the JVM: Spark reads the files."""
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        group = pa.Table.from_batches(list(batches))
        if not group.num_rows:
            return
        bucket = int(group.column(BUCKET)[0].as_py())
        tables = {}
        if "_payload" not in group.column_names:  # one part: its rows came as they are
            (name, blob), = schemas.items()
            tables[name] = group.drop_columns([BUCKET]).cast(
                pa.ipc.read_schema(pa.py_buffer(blob)))
        else:
            names = group.column("_table").to_pylist()
            payloads = group.column("_payload").to_pylist()
            for name, blob in schemas.items():
                schema = pa.ipc.read_schema(pa.py_buffer(blob))
                tables[name] = _from_ipc([p for n, p in zip(names, payloads, strict=True)
                                          if n == name], schema)
            del payloads
        del group
        common = {name: pa.ipc.open_stream(blob).read_all() for name, blob in shared.items()}
        out = _run_in(tables, common, job, distinct)
        del tables
        written = []
        for name, blob in outputs.items():
            table = out[name].cast(pa.ipc.read_schema(pa.py_buffer(blob)))
            _write(table, os.path.join(work, name), f"bucket-{bucket:06d}.parquet")
            written.append((name, table.num_rows))
        yield pa.RecordBatch.from_pydict({
            BUCKET: pa.array([bucket] * len(written), pa.int32()),
            "_table": pa.array([n for n, _ in written], pa.string()),
            "_rows": pa.array([r for _, r in written], pa.int64())}, schema=_MANIFEST)
    return run


def _arrow_schema(frame: DataFrame) -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(frame.schema, prefers_large_types=False)


def run_bucketed(spark: SparkSession, parts: Mapping[str, Part], job: Job, *, buckets: int,
                 shared: Mapping[str, pa.Table] | None = None, work: Path) -> dict[str, Any]:
    """Run ``job`` on every bucket of ``parts`` (and the ``shared`` tables); returns its
    output tables as Spark DataFrames by name, read from the Parquet files the buckets wrote
    under ``work/outputs/<output>/`` (so each output is computed once, whatever reads it
    after).

    ``work`` must be a folder that the executors' Python workers can write at the same path
    (in local mode any folder; on a cluster the lake's shared mount, as the lake itself). A
    bucket holding no row of any part does not run. The output schemas are those ``job``
    gives on empty tables, found by running it once on the driver with no rows; that empty
    output is written too, so an output is readable when no bucket ran.
    """
    from pyspark.sql.pandas.types import from_arrow_schema

    schemas = {name: _arrow_schema(part.frame.drop(BUCKET) if part.key == BUCKET
                                   else part.frame) for name, part in parts.items()}
    common = dict(shared or {})
    empty = _run_in({n: s.empty_table() for n, s in schemas.items()}, common, job)
    payloads = None
    for name, part in parts.items():
        frame = (part.frame if part.key == BUCKET
                 else part.frame.withColumn(BUCKET, bucket_of(part.key, buckets)))
        if len(parts) == 1:  # one table: Spark sends its rows to the bucket's worker itself
            payloads = frame
            break
        encoded = frame.mapInArrow(_encoder(name), _PAYLOAD_DDL)
        payloads = encoded if payloads is None else payloads.unionByName(encoded)
    if payloads is None:
        raise ValueError("a bucketed job needs at least one part")
    folder = work / "outputs"
    shutil.rmtree(folder, ignore_errors=True)
    for name, table in empty.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        _write(table, str(folder / name), "empty.parquet")
    run = _runner({n: s.serialize().to_pybytes() for n, s in schemas.items()},
                  {n: _ipc(t) for n, t in common.items()}, job,
                  {n: t.schema.serialize().to_pybytes() for n, t in empty.items()},
                  str(folder.resolve()),
                  frozenset(n for n, part in parts.items() if part.distinct))
    manifest = payloads.groupBy(BUCKET).applyInArrow(run, from_arrow_schema(_MANIFEST))
    manifest.write.format("noop").mode("overwrite").save()  # runs every bucket
    return {name: spark.read.parquet(str(folder / name)) for name in empty}
