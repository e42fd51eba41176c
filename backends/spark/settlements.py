"""Settlement rows for buckets: a reversal (冲销) always travels with the settlement it cancels.

Every step that reads settlements reads them *effective*
(:func:`graph.claims.effective_settlements_sql`): an original is dropped when a reversal
names it. So a bucket holding a settlement must hold its reversals too, or the settlement
would count there as effective while the store drops it. Reversals are few (about 1% of
settlements), so both ways of putting them beside their originals move the reversals, never
the whole table twice:

* :func:`by_original`: every settlement in the bucket of a key column (a person, an
  institution), a reversal in its original's bucket. The loader links a reversal only to a
  settlement of the same person and institution, so for a store's lake this is the row's own
  bucket; a lake written by other tools gets the same guarantee from the join.
* :func:`with_reversals`: the settlements that buckets ask for by id (``setl_id``,
  ``_bucket``), plus the reversals of each, in the same buckets (:func:`and_reversals` when
  the rows are at hand already). A row can come twice into
  a bucket (asked for and a reversal of another asked-for row): the bucket's part is made
  ``distinct`` (:class:`backends.spark.partitioned.Part`), so it is counted once.

The reversals' rows are broadcast (sent whole to every task) when there are at most
:data:`BROADCAST_REVERSALS` of them, and joined by a shuffle otherwise; so are the ids asked
for (:data:`BROADCAST_ASKED`), so a step that needs a few settlements does not move them all.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from backends.spark.partitioned import BUCKET, bucket_of

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["BROADCAST_ASKED", "BROADCAST_REVERSALS", "and_reversals", "by_original", "reversals_of",
           "staged_reversals", "with_reversals"]

BROADCAST_REVERSALS = 2_000_000
"""Reversal rows up to which they are broadcast to every task rather than shuffled: a few
hundred MB of the driver's and each executor's memory at most."""

BROADCAST_ASKED = 1_000_000
"""Asked-for ids (``setl_id``, bucket) up to which :func:`with_reversals` broadcasts them and
reads the settlements where they lie, rather than shuffling every settlement to meet them."""


def reversals_of(settlements: DataFrame) -> DataFrame:
    """The rows of ``settlements`` that reverse another (``init_setl_id`` set)."""
    return settlements.where("init_setl_id IS NOT NULL")


def _broadcaster(reversals: DataFrame) -> Callable[[DataFrame], DataFrame]:
    """Marks a frame of at most as many rows as ``reversals`` for broadcast when they are
    few, else leaves it."""
    from pyspark.sql import functions as sf

    few = reversals.count() <= BROADCAST_REVERSALS
    return sf.broadcast if few else (lambda frame: frame)


def by_original(settlements: DataFrame, key: str, buckets: int,
                reversals: DataFrame | None = None) -> DataFrame:
    """``settlements`` with the bucket (:data:`BUCKET`) of their ``key`` column, each reversal
    with its original's. ``reversals``: the reversal rows of ``settlements`` when at hand
    already (:func:`staged_reversals`: read once for every step, not found again)."""
    from pyspark.sql import functions as sf

    found = reversals_of(settlements) if reversals is None else reversals
    small = _broadcaster(found)
    moved = settlements.select(sf.col("setl_id").alias("init_setl_id"),
                               sf.col(key).alias("_original_key")).join(
        small(found.select(sf.col("setl_id").alias("_reversal"), "init_setl_id")),
        "init_setl_id").select(sf.col("_reversal").alias("setl_id"), "_original_key")
    return settlements.join(small(moved), "setl_id", "left").withColumn(
        BUCKET, bucket_of(sf.coalesce(sf.col("_original_key"), sf.col(key)), buckets)
    ).drop("_original_key")


def and_reversals(settlements: DataFrame, rows: DataFrame,
                  reversals: DataFrame | None = None) -> DataFrame:
    """``rows`` (rows of ``settlements`` with a :data:`BUCKET`) and the reversals of each, in
    its bucket; a row may repeat within a bucket (make the part ``distinct``)."""
    from pyspark.sql import functions as sf

    found = reversals_of(settlements) if reversals is None else reversals
    extra = rows.select(sf.col("setl_id").alias("init_setl_id"), BUCKET).join(
        _broadcaster(found)(found), "init_setl_id")
    return rows.select(*settlements.columns, BUCKET).unionByName(
        extra.select(*settlements.columns, BUCKET))


def with_reversals(settlements: DataFrame, ids: DataFrame,
                   reversals: DataFrame | None = None) -> DataFrame:
    """The rows of ``settlements`` that ``ids`` (``setl_id``, ``_bucket``) ask for, and the
    reversals of those, each with the bucket that asked; a row may repeat within a bucket
    (make the part ``distinct``)."""
    from pyspark.sql import functions as sf

    asked = ids.select("setl_id", BUCKET)
    if asked.count() <= BROADCAST_ASKED:
        asked = sf.broadcast(asked)
    return and_reversals(settlements, settlements.join(asked, "setl_id"), reversals)


def staged_reversals(spark: SparkSession, settlements: DataFrame, path: Path) -> DataFrame:
    """The reversal rows of ``settlements`` written to Parquet at ``path`` and read back:
    every step that puts reversals beside their originals reads these few rows, not all the
    settlements again (a scan of every settlement per step at 10M)."""
    reversals_of(settlements).write.mode("overwrite").parquet(str(path))
    return spark.read.parquet(str(path))
