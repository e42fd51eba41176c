"""The store handle, the period filter and SQL pieces shared by the workbench's data modules.

``FUND_SQL`` is :data:`graph.money.FUND_SQL` (涉及医保基金 of settlement alias ``s``:
统筹 + 个人账户, yuan), re-exported so every page sums money the way detection does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd

from graph.claims import effective_settlements_sql, has_table
from graph.money import FUND_SQL
from loaders.store import open_store
from yibao.divisions import divisions_frame
from yibao.errors import StoreError

__all__ = [
    "FUND_SQL",
    "Period",
    "data_period",
    "division_names",
    "has_detection",
    "open_read_only",
    "period_settlements_sql",
    "query_frame",
]


@dataclass(frozen=True)
class Period:
    """An inclusive range of calendar days."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    @property
    def params(self) -> dict[str, object]:
        """``$p_start`` / ``$p_end`` (exclusive) for SQL filters on a timestamp."""
        return {"p_start": self.start, "p_end": self.end + timedelta(days=1)}

    def __str__(self) -> str:
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def open_read_only(path: Path, *, memory_limit: str | None = None,
                   threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the store at ``path`` (the workbench never writes the store),
    configured as the embedded backend opens it (DuckDB refuses a second connection to one
    file with a different configuration in the same process)."""
    if not path.exists():
        raise StoreError(f"no store at {path}: run 'yibao demo' or 'yibao load' first, "
                         "or point YIBAO_DB at the store")
    store = open_store(path, read_only=True, memory_limit=memory_limit, threads=threads)
    return store.con


def query_frame(con: duckdb.DuckDBPyConnection, sql: str,
                params: dict[str, object] | None = None) -> pd.DataFrame:
    """Run ``sql`` with named ``params`` on a fresh cursor (thread-safe) and return a frame."""
    cur = con.cursor()
    try:
        return cur.execute(sql, params or {}).df()
    finally:
        cur.close()


def has_detection(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether detection has written its tables into the store."""
    cur = con.cursor()
    try:
        return has_table(cur, "rings") and has_table(cur, "rule_hits")
    finally:
        cur.close()


def period_settlements_sql() -> str:
    """Effective settlements inside ``$p_start`` .. ``$p_end`` (alias ``s``)."""
    return effective_settlements_sql("s.setl_time >= $p_start AND s.setl_time < $p_end")


def data_period(con: duckdb.DuckDBPyConnection) -> Period:
    """The first and last settlement day in the store (today, if there are none)."""
    frame = query_frame(con, "SELECT min(setl_time)::DATE AS a, max(setl_time)::DATE AS b "
                             "FROM settlements")
    a, b = frame.iloc[0]["a"], frame.iloc[0]["b"]
    if pd.isna(a) or pd.isna(b):
        today = date.today()
        return Period(today, today)
    return Period(pd.Timestamp(a).date(), pd.Timestamp(b).date())


def division_names() -> dict[str, str]:
    """Division code → Chinese name, for every province, city and county shipped."""
    frame = divisions_frame()
    return dict(zip(frame["code"], frame["name"], strict=True))
