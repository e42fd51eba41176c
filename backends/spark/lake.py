"""The lake: the store's tables as Parquet in one folder, the form Spark reads and writes.

``<lake>/<table>/*.parquet`` for the loaded tables (:data:`LOADED_TABLES`) and, after a Spark
detection, for its results (:data:`RESULT_TABLES`). :func:`write_lake` copies a store's tables
there (DuckDB writes the files, nothing passes through Python); :func:`read_lake` gives Spark
DataFrames of them; :func:`attach_lake` makes a DuckDB connection see a lake's tables under
their store names, which is how the workbench and the figures read Spark's results.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from loaders._sql import literal
from yibao.errors import StoreError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["DETECTION_COLUMNS", "LOADED_TABLES", "RESULT_TABLES", "attach_lake", "lake_tables",
           "read_lake", "write_lake"]

LOADED_TABLES = ("settlements", "fee_details", "trace_codes", "institutions", "persons",
                 "practitioners")
"""The store's tables of loaded data that detection reads."""

RESULT_TABLES = ("rule_hits", "chains", "chain_links")
"""The tables a Spark detection writes."""

DETECTION_COLUMNS: dict[str, tuple[str, ...]] = {
    "settlements": ("setl_id", "psn_no", "fixmedins_code", "med_type", "setl_time",
                    "begndate", "enddate", "medfee_sumamt", "fund_pay_sumamt", "acct_pay",
                    "dise_codg", "dr_codg", "init_setl_id", "opter_id"),
    "fee_details": ("setl_id", "feedetl_sn", "med_list_codg", "med_list_name", "cnt", "pric",
                    "bilg_dr_codg", "drug_trac_codg"),
    "trace_codes": ("drug_trac_codg", "setl_id", "feedetl_sn"),
}
"""The columns detection reads (:mod:`graph`), per table; Spark reads only these from
Parquet and moves only these between its stages. Tables not listed are read whole."""



def write_lake(con: duckdb.DuckDBPyConnection, folder: Path,
               tables: Iterable[str] = LOADED_TABLES) -> dict[str, int]:
    """Copy ``tables`` of the store behind ``con`` to ``folder/<table>/data.parquet``
    (replacing what is there); returns the rows written per table."""
    counts: dict[str, int] = {}
    for table in tables:
        target = folder / table
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.parquet"):
            old.unlink()
        con.execute(f"COPY (SELECT * FROM {table}) TO {literal(str(target / 'data.parquet'))} "
                    "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)")
        row = con.execute(
            f"SELECT count(*) FROM read_parquet({literal(str(target / '*.parquet'))})").fetchone()
        counts[table] = int(row[0]) if row else 0
    return counts


def lake_tables(folder: Path) -> tuple[str, ...]:
    """The tables present in the lake ``folder`` (a subfolder holding Parquet files)."""
    if not folder.is_dir():
        return ()
    return tuple(sorted(p.name for p in folder.iterdir()
                        if p.is_dir() and any(p.glob("*.parquet"))))


def read_lake(spark: SparkSession, folder: Path, tables: Iterable[str] = LOADED_TABLES,
              *, columns: dict[str, tuple[str, ...]] | None = None) -> dict[str, DataFrame]:
    """Spark DataFrames of ``tables`` in the lake ``folder``; ``columns``: read only these
    columns of the tables it names (those present: an optional column a lake lacks is not an
    error)."""
    present = set(lake_tables(folder))
    missing = [t for t in tables if t not in present]
    if missing:
        raise StoreError(f"the lake {folder} has no table(s) {missing}: write them with "
                         "`yibao detect --backend spark` (or backends.spark.lake.write_lake) "
                         "first")
    frames = {}
    for table in tables:
        frame = spark.read.parquet(str(folder / table))
        wanted = (columns or {}).get(table)
        if wanted:
            frame = frame.select(*(c for c in wanted if c in frame.columns))
        frames[table] = frame
    return frames


def attach_lake(con: duckdb.DuckDBPyConnection, folder: Path,
                tables: Iterable[str] | None = None) -> tuple[str, ...]:
    """Views named like the store's tables over the lake's Parquet files on ``con``
    (``tables``: those present); returns the tables made."""
    chosen = tuple(lake_tables(folder) if tables is None else tables)
    for table in chosen:
        con.execute(f"CREATE OR REPLACE VIEW {table} AS "
                    f"SELECT * FROM read_parquet({literal(str(folder / table / '*.parquet'))})")
    return chosen
