"""Flow projections, aggregated in the store: prescriptions and cross-region settlement.

* :func:`prescription_flows`: practitioner -> institution where their prescription lines were
  settled (处方流向). A doctor of hospital H whose lines are settled at pharmacy P is a flow
  H's doctor -> P; one pharmacy taking nearly all of a doctor's flow is the collusion signal
  that the rule ``DOCTOR_PHARMACY_CONCENTRATION`` turns into hits.
* :func:`division_flows`: insured division (参保地) -> treatment division (就医地), the
  origin-destination matrix of out-of-area settlement (异地就医).

Both return pandas frames ordered by size; amounts are yuan of insurance money (统筹 +
个人账户).
"""

from __future__ import annotations

import duckdb
import pandas as pd

from graph.claims import effective_settlements_sql

__all__ = ["division_flows", "prescription_flows"]


def prescription_flows(con: duckdb.DuckDBPyConnection, *, min_settlements: int = 1
                       ) -> pd.DataFrame:
    """One row per (practitioner, settling institution): settlements, persons, fund, and the
    share of the practitioner's settlements that went there."""
    return con.execute(f"""
        WITH lines AS (
            SELECT DISTINCT f.bilg_dr_codg AS dr_codg, s.setl_id, s.psn_no, s.fixmedins_code,
                   (s.fund_pay_sumamt + s.acct_pay)::DOUBLE AS fund
            FROM fee_details f JOIN ({effective_settlements_sql()}) s USING (setl_id)
            WHERE f.bilg_dr_codg IS NOT NULL
        ), flows AS (
            SELECT l.dr_codg, p.fixmedins_code AS home_institution,
                   l.fixmedins_code AS institution, count(*) AS settlements,
                   count(DISTINCT l.psn_no) AS persons, sum(l.fund) AS fund
            FROM lines l LEFT JOIN practitioners p USING (dr_codg)
            GROUP BY ALL
        )
        SELECT *, settlements / sum(settlements) OVER (PARTITION BY dr_codg) AS share
        FROM flows WHERE settlements >= $min
        ORDER BY settlements DESC, dr_codg, institution
    """, {"min": min_settlements}).df()


def division_flows(con: duckdb.DuckDBPyConnection, *, level: str = "city") -> pd.DataFrame:
    """Settlements, persons and fund from insured division to treatment division.

    ``level``: ``city`` (4-digit prefix + 00) or ``province`` (2-digit prefix + 0000).
    """
    if level not in ("city", "province"):
        raise ValueError(f"level must be 'city' or 'province', not {level!r}")
    keep = 4 if level == "city" else 2
    return con.execute(f"""
        SELECT rpad(left(p.insu_admdvs, {keep}), 6, '0') AS origin,
               rpad(left(i.admdvs, {keep}), 6, '0') AS destination,
               count(*) AS settlements, count(DISTINCT s.psn_no) AS persons,
               sum(s.fund_pay_sumamt + s.acct_pay)::DOUBLE AS fund
        FROM ({effective_settlements_sql()}) s
        JOIN persons p USING (psn_no) JOIN institutions i USING (fixmedins_code)
        GROUP BY ALL ORDER BY settlements DESC, origin, destination
    """).df()
