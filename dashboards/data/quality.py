"""Data quality (数据质量) for the workbench: the loads, the rows quarantined and the notes on
rows kept, from the store's ``loads``, ``quarantine`` and ``data_notes`` tables.

Raw values of personal columns (names, ID numbers, phones) come back masked here, always, and
the same values are masked inside the reason texts that quote them: this page never reveals
personal data, whatever the role.
"""

from __future__ import annotations

from typing import Literal

import duckdb
import pandas as pd

from graph.claims import has_table
from yibao.masking import PERSONAL_COLUMNS, mask_value

__all__ = ["Source", "issue_rows", "issues_by_reason", "load_history"]

Source = Literal["quarantine", "data_notes"]
"""``quarantine``: rows refused; ``data_notes``: notes on rows kept (descriptive fields)."""


def load_history(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per load: when, from where, rows in, inserted, unchanged, quarantined, noted."""
    noted = (
        "(SELECT count(DISTINCT (table_name, file, row_no)) FROM data_notes n "
        "WHERE n.load_id = l.load_id)"
        if has_table(con, "data_notes") else "0"
    )
    return con.execute(
        f"""SELECT load_id, started_at, finished_at, source, rows_in, inserted, unchanged,
                   quarantined, {noted} AS noted
            FROM loads l WHERE finished_at IS NOT NULL ORDER BY load_id DESC"""
    ).df()


def issues_by_reason(con: duckdb.DuckDBPyConnection, source: Source) -> pd.DataFrame:
    """Counts by table, column and reason code, most frequent first."""
    if not has_table(con, source):
        return pd.DataFrame(columns=["table_name", "column_name", "reason_code", "n"])
    return con.execute(
        f"""SELECT table_name, column_name, reason_code, count(*) AS n FROM {source}
            GROUP BY ALL ORDER BY n DESC, table_name, column_name, reason_code"""
    ).df()


def issue_rows(con: duckdb.DuckDBPyConnection, source: Source, *, table: str | None = None,
               reason: str | None = None, limit: int = 200) -> pd.DataFrame:
    """The latest rows of ``source`` (optionally of one table and reason), personal values
    masked in ``raw_value`` and in both reason texts."""
    if not has_table(con, source):
        return pd.DataFrame(columns=["load_id", "table_name", "file", "row_no", "column_name",
                                     "raw_value", "reason_code", "reason_zh", "reason_en"])
    frame = con.execute(
        f"""SELECT load_id, table_name, file, row_no, column_name, raw_value, reason_code,
                   reason_zh, reason_en FROM {source}
            WHERE ($table IS NULL OR table_name = $table)
              AND ($reason IS NULL OR reason_code = $reason)
            ORDER BY load_id DESC, table_name, file, row_no LIMIT $limit""",
        {"table": table, "reason": reason, "limit": int(limit)},
    ).df()
    for i, row in frame.iterrows():
        kind = PERSONAL_COLUMNS.get(str(row["column_name"]))
        raw = row["raw_value"]
        if kind is None or raw is None or pd.isna(raw):
            continue
        masked = mask_value(str(raw), kind)
        frame.at[i, "raw_value"] = masked
        for text in ("reason_zh", "reason_en"):
            frame.at[i, text] = str(row[text]).replace(str(raw), str(masked))
    return frame
