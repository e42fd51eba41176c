"""Overview figures: headline numbers, suspicious money and leads by division, rings by pattern.

"Suspicious fund" is the fund money (统筹 + 个人账户) of the settlements that belong to a
suspicious ring, counted once even when a settlement sits in two rings; it is placed at the
institution where it was settled. "Leads" (线索) are suspicious rings plus rule hits of high or
medium severity, each counted once per division it touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import duckdb
import pandas as pd

from dashboards.data.common import (
    FUND_SQL,
    Period,
    division_names,
    period_settlements_sql,
    query_frame,
)

__all__ = ["Headline", "division_measures", "headline", "rings_by_pattern"]

Level = Literal["city", "county"]


@dataclass(frozen=True)
class Headline:
    """The overview's headline figures for a period."""

    settlements: int
    fund_total: float
    suspicious_rings: int
    suspicious_persons: int
    suspicious_fund: float
    resale_chains: int
    rule_hits: int


def headline(con: duckdb.DuckDBPyConnection, period: Period) -> Headline:
    """Headline figures for ``period`` (rings and hits that overlap it)."""
    sql = f"""
        WITH s AS ({period_settlements_sql()}),
        sus AS (SELECT ring_id, persons FROM rings WHERE suspicious
                AND first_time < $p_end AND last_time >= $p_start)
        SELECT
          (SELECT count(*) FROM s) AS settlements,
          (SELECT coalesce(sum({FUND_SQL}), 0) FROM s) AS fund_total,
          (SELECT count(*) FROM sus) AS suspicious_rings,
          (SELECT count(DISTINCT p) FROM (SELECT unnest(persons) AS p FROM sus)) AS persons,
          (SELECT coalesce(sum({FUND_SQL}), 0) FROM s WHERE s.setl_id IN (
              SELECT rs.setl_id FROM ring_settlements rs JOIN sus USING (ring_id)))
            AS suspicious_fund,
          (SELECT count(*) FROM chains WHERE hit_class = 'resale'
              AND first_time < $p_end AND last_time >= $p_start) AS chains,
          (SELECT count(*) FROM rule_hits WHERE severity IN ('high', 'medium')
              AND first_time < $p_end AND last_time >= $p_start) AS hits
    """
    r = query_frame(con, sql, period.params).iloc[0]
    return Headline(
        settlements=int(r["settlements"]), fund_total=float(r["fund_total"]),
        suspicious_rings=int(r["suspicious_rings"]), suspicious_persons=int(r["persons"]),
        suspicious_fund=float(r["suspicious_fund"]), resale_chains=int(r["chains"]),
        rule_hits=int(r["hits"]),
    )


def _division_expr(level: Level) -> str:
    return "substr(i.admdvs, 1, 4) || '00'" if level == "city" else "i.admdvs"


def division_measures(con: duckdb.DuckDBPyConnection, period: Period, *,
                      level: Level = "city", within: str | None = None) -> pd.DataFrame:
    """One row per division with settlements: ``code``, ``name``, ``settlements``,
    ``fund``, ``suspicious_fund``, ``leads``, ``rings``.

    ``level`` is ``city`` (41 prefecture cities) or ``county``; ``within`` keeps only the
    divisions whose code starts with the city's (4 digits) or province's (2 digits) prefix.
    """
    div = _division_expr(level)
    sql = f"""
        WITH s AS ({period_settlements_sql()}),
        sus AS (SELECT ring_id, institutions FROM rings WHERE suspicious
                AND first_time < $p_end AND last_time >= $p_start),
        sus_setl AS (SELECT DISTINCT rs.setl_id FROM ring_settlements rs JOIN sus USING (ring_id)),
        base AS (
            SELECT {div} AS code, count(*) AS settlements, sum({FUND_SQL}) AS fund,
                   sum(CASE WHEN ss.setl_id IS NOT NULL THEN {FUND_SQL} ELSE 0 END)
                       AS suspicious_fund
            FROM s JOIN institutions i USING (fixmedins_code)
            LEFT JOIN sus_setl ss ON ss.setl_id = s.setl_id
            GROUP BY 1),
        ring_div AS (
            SELECT DISTINCT {div} AS code, sus.ring_id AS lead
            FROM sus, unnest(sus.institutions) AS u(code)
            JOIN institutions i ON i.fixmedins_code = u.code),
        hit_div AS (
            SELECT DISTINCT {div} AS code, h.hit_id AS lead
            FROM rule_hits h, unnest(h.institutions) AS u(code)
            JOIN institutions i ON i.fixmedins_code = u.code
            WHERE h.severity IN ('high', 'medium')
              AND h.first_time < $p_end AND h.last_time >= $p_start),
        leads AS (
            SELECT code, count(*) AS leads,
                   count(*) FILTER (WHERE lead IN (SELECT ring_id FROM sus)) AS rings
            FROM (SELECT * FROM ring_div UNION ALL SELECT * FROM hit_div) GROUP BY code)
        SELECT b.code, b.settlements, b.fund, b.suspicious_fund,
               coalesce(l.leads, 0) AS leads, coalesce(l.rings, 0) AS rings
        FROM base b LEFT JOIN leads l USING (code)
        WHERE $within IS NULL OR starts_with(b.code, $within)
        ORDER BY b.suspicious_fund DESC, b.code
    """
    frame = query_frame(con, sql, {**period.params, "within": within})
    names = division_names()
    frame.insert(1, "name", frame["code"].map(names).fillna(frame["code"]))
    return frame


def rings_by_pattern(con: duckdb.DuckDBPyConnection, period: Period) -> pd.DataFrame:
    """Suspicious rings per pattern overlapping ``period``: ``pattern``, ``rings``, ``persons``,
    ``fund`` (the rings' fund money inside the period)."""
    sql = f"""
        WITH s AS ({period_settlements_sql()}),
        sus AS (SELECT ring_id, pattern, persons FROM rings WHERE suspicious
                AND first_time < $p_end AND last_time >= $p_start),
        money AS (SELECT rs.ring_id, sum({FUND_SQL}) AS fund
                  FROM ring_settlements rs JOIN s ON s.setl_id = rs.setl_id GROUP BY 1)
        SELECT pattern, count(*) AS rings, sum(len(persons)) AS persons,
               coalesce(sum(m.fund), 0) AS fund
        FROM sus LEFT JOIN money m USING (ring_id)
        GROUP BY pattern ORDER BY fund DESC
    """
    return query_frame(con, sql, period.params)
