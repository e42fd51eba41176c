"""Overview figures: headline numbers, suspicious money and leads by division, rings by pattern.

Every figure of detection comes from :mod:`graph.figures` (the briefing and the inspection plan
read the same functions): "suspicious fund" is the fund money (统筹 + 个人账户) of the distinct
flagged settlements (in a suspicious ring, named by a rule hit that is not ``info``, or in a
trace-code chain that is not honest), placed at the institution where it was settled. The map's
"leads" measure counts the detection's findings (suspicious rings and rule hits) with a flagged
settlement in the division, not the leads ledger.
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
from graph.figures import (
    flagged_rings,
    flagged_settlements_sql,
    rule_hits_by_rule,
    scope_params,
    suspicious_fund,
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


def headline(con: duckdb.DuckDBPyConnection, period: Period, within: str | None = None
             ) -> Headline:
    """Headline figures for ``period`` at the institutions of the division prefix ``within``
    (``None``: everywhere); detection's figures from :mod:`graph.figures`."""
    prefix = within or ""
    r = query_frame(con, f"""
        SELECT count(*) AS settlements, coalesce(sum({FUND_SQL}), 0) AS fund_total
        FROM ({period_settlements_sql()}) s JOIN institutions i USING (fixmedins_code)
        WHERE starts_with(coalesce(i.admdvs, ''), $prefix)""",
        {**period.params, "prefix": prefix}).iloc[0]
    money = suspicious_fund(con, period.start, period.end, prefix)
    rings = flagged_rings(con, period.start, period.end, prefix)
    chains = query_frame(con, f"""
        SELECT count(DISTINCT item) AS n FROM ({flagged_settlements_sql(con)})
        WHERE kind = 'chain'""", scope_params(period.start, period.end, prefix)).iloc[0]["n"]
    return Headline(
        settlements=int(r["settlements"]), fund_total=float(r["fund_total"]),
        suspicious_rings=rings.rings, suspicious_persons=rings.persons,
        suspicious_fund=money.fund, resale_chains=int(chains),
        rule_hits=sum(rule_hits_by_rule(con, period.start, period.end, prefix).values()),
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
        flagged AS ({flagged_settlements_sql(con)}),
        base AS (
            SELECT {div} AS code, count(*) AS settlements, sum({FUND_SQL}) AS fund
            FROM s JOIN institutions i USING (fixmedins_code)
            GROUP BY 1),
        money AS (
            SELECT {div} AS code, sum(fund) AS suspicious_fund
            FROM (SELECT DISTINCT setl_id, admdvs, fund FROM flagged) i GROUP BY 1),
        findings AS (
            SELECT {div} AS code, count(DISTINCT item) AS leads,
                   count(DISTINCT item) FILTER (WHERE kind = 'ring') AS rings
            FROM flagged i WHERE kind IN ('ring', 'hit') GROUP BY 1)
        SELECT b.code, b.settlements, b.fund, coalesce(m.suspicious_fund, 0) AS suspicious_fund,
               coalesce(f.leads, 0) AS leads, coalesce(f.rings, 0) AS rings
        FROM base b LEFT JOIN money m USING (code) LEFT JOIN findings f USING (code)
        WHERE $within IS NULL OR starts_with(b.code, $within)
        ORDER BY suspicious_fund DESC, b.code
    """
    frame = query_frame(con, sql, {**period.params, **scope_params(period.start, period.end),
                                   "within": within})
    names = division_names()
    frame.insert(1, "name", frame["code"].map(names).fillna(frame["code"]))
    return frame


def rings_by_pattern(con: duckdb.DuckDBPyConnection, period: Period,
                     within: str | None = None) -> pd.DataFrame:
    """Suspicious rings per pattern with a flagged settlement in ``period`` (and division
    prefix ``within``): ``pattern``, ``rings``, ``persons`` (members, summed over rings),
    ``fund`` (their flagged settlements' fund money in scope)."""
    sql = f"""
        WITH f AS (SELECT DISTINCT ring_id, setl_id, fund FROM ({flagged_settlements_sql(con)})
                   WHERE kind = 'ring'),
        money AS (SELECT ring_id, sum(fund) AS fund FROM f GROUP BY 1)
        SELECT r.pattern, count(*) AS rings, sum(len(r.persons)) AS persons,
               coalesce(sum(m.fund), 0) AS fund
        FROM money m JOIN rings r USING (ring_id)
        GROUP BY r.pattern ORDER BY fund DESC, r.pattern
    """
    return query_frame(con, sql, scope_params(period.start, period.end, within or ""))
