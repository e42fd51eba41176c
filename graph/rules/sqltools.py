"""What every rule's SQL shares: named parameters, gap and distance wording, the effective
settlements view, the hit insert, and a store transaction."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal

import duckdb

from graph.claims import effective_settlements_sql
from yibao.errors import StoreError

# -- running -----------------------------------------------------------------------------------


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
         ) -> duckdb.DuckDBPyConnection:
    """Execute ``sql`` with the named parameters it uses (``$name``) taken from ``params``."""
    names = set(re.findall(r"\$([A-Za-z_]\w*)", sql))
    return con.execute(sql, {k: v for k, v in (params or {}).items() if k in names})


def gap_sql(days: str, lang: Literal["zh", "en"]) -> str:
    """SQL text for a gap of ``days`` (a column): '41 天', '6.9 天', '5.2 小时' (or English)."""
    unit_d, unit_h = ("天", "小时") if lang == "zh" else ("days", "hours")
    return (f"CASE WHEN {days} >= 10 THEN format('{{:.0f}} {unit_d}', {days}) "
            f"WHEN {days} >= 1 THEN format('{{:.1f}} {unit_d}', {days}) "
            f"ELSE format('{{:.1f}} {unit_h}', {days} * 24) END")


def km_sql(km: str, lang: Literal["zh", "en"]) -> str:
    if lang == "zh":
        return f"coalesce(format('相距 {{:.0f}} 公里', {km}), '距离未知')"
    return f"coalesce(format('{{:.0f}} km away', {km}), 'distance unknown')"


PREPARE = (
    """CREATE OR REPLACE TEMP TABLE _reversed AS
       SELECT init_setl_id AS setl_id, min(setl_time) AS reversed_at, min(setl_id) AS reversal_id
       FROM settlements WHERE init_setl_id IS NOT NULL GROUP BY 1""",
    # the one definition of an effective settlement (graph.claims), as every figure uses it
    "CREATE OR REPLACE TEMP VIEW _effective AS " + effective_settlements_sql(),
)


STAT_TABLES = ("_trace_rows", "_trace_pairs", "_trace_class", "_item_price",
               "_pharmacy_market")
"""Temporary tables the rules leave while they run and drop at the end: so a later run on
the same connection computes its statistics afresh."""


def prepare_views(con: duckdb.DuckDBPyConnection) -> None:
    for sql in PREPARE:
        con.execute(sql)


INSERT_HITS = """INSERT INTO rule_hits
    WITH h AS (
        SELECT *, $rule_id || '-' || substr(sha1(array_to_string(list_sort(hit_keys), '|')), 1, 12)
                  AS hit_id
        FROM _hits
    ), money AS (
        SELECT u.hit_id, min(s.setl_time) AS first_time, max(s.setl_time) AS last_time,
               coalesce(sum(s.fund_pay_sumamt) FILTER (WHERE e.setl_id IS NOT NULL), 0)::DOUBLE
                   AS fund_amount,
               coalesce(sum(s.acct_pay) FILTER (WHERE e.setl_id IS NOT NULL), 0)::DOUBLE
                   AS acct_amount
        FROM (SELECT hit_id, unnest(setl_ids) AS setl_id FROM h) u
        JOIN settlements s ON s.setl_id = u.setl_id
        LEFT JOIN _effective e ON e.setl_id = u.setl_id
        GROUP BY u.hit_id
    )
    SELECT h.hit_id, $rule_id, coalesce(c.severity, $severity), h.hit_class, h.subject_kind,
           h.subject_id, h.persons, h.institutions, h.practitioners, h.setl_ids, h.trace_codes,
           m.first_time, m.last_time, coalesce(m.fund_amount, 0), h.evidence_zh, h.evidence_en,
           h.metrics, coalesce(m.acct_amount, 0)
    FROM h LEFT JOIN money m USING (hit_id)
    LEFT JOIN (SELECT unnest($classes::VARCHAR[]) AS hit_class,
                      unnest($class_severities::VARCHAR[]) AS severity) c
      ON c.hit_class = h.hit_class
    ORDER BY h.hit_id"""


@contextmanager
def write_transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All-or-nothing work on ``con``: a transaction of its own, committed at the end and
    rolled back on an error; inside the caller's open transaction, the caller's (it commits or
    rolls back). A read-only store raises :class:`~yibao.errors.StoreError`."""
    readonly = con.execute("SELECT readonly FROM duckdb_databases() "
                           "WHERE database_name = current_database()").fetchone()
    if readonly is not None and readonly[0]:
        raise StoreError("the store is open read-only: rule hits and chains are written into it; "
                         "open it with read_only=False (or copy it first)")
    # A failed BEGIN would abort the caller's transaction, so ask instead: in autocommit mode
    # every statement runs in a transaction of its own, with a new id.
    ids = [con.execute("SELECT txid_current()").fetchone() for _ in range(2)]
    owned = ids[0] != ids[1]
    if owned:
        con.begin()
    try:
        yield
    except BaseException:
        if owned:
            con.rollback()
        raise
    if owned:
        con.commit()
