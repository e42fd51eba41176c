"""One definition for every figure of detection shown in more than one place.

The overview, the briefing, the inspection plan's candidates and the CLI read these functions
(or the SQL they are built from); none has its own. A scope is a period (settlement time from
``start`` to ``end`` inclusive; ``None``: unbounded) and a region (the prefix of the settling
institution's division code: ``""`` all, ``"32"`` a province, ``"3205"`` a city).

* A **flagged settlement** (疑点结算) is an effective settlement (neither a reversal nor
  reversed, :func:`graph.claims.effective_settlements_sql`) that detection names as evidence:
  a settlement of a suspicious ring (``ring_settlements`` of ``rings.suspicious``), one named by
  a rule hit whose severity is not ``info`` (``info`` marks honest explanations), or one of a
  trace-code chain that is not honest (``hit_class`` not ``refund`` or ``split_pack``).
* **Suspicious fund** (涉嫌违规基金) is the insurance money (:data:`graph.money.FUND_SQL`) of
  the distinct flagged settlements in scope, with how many settlements, persons and
  institutions they are.
* **Flagged rings** are suspicious rings with at least one flagged settlement in scope; their
  **persons** are the distinct members of those rings.
* **Rule hits** are counted per rule as distinct hits with at least one of their settlements in
  scope (a hit is one finding: a pair of trips, one doctor's prescriptions, ...), not as the
  settlements they name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from graph.chains import HONEST_CLASSES
from graph.claims import effective_settlements_sql, has_table
from graph.money import FUND_SQL

__all__ = ["HONEST_CHAIN_CLASSES", "FlaggedRings", "SuspiciousFund", "flagged_rings",
           "flagged_settlements_sql", "rule_hits_by_rule", "scope_params", "suspicious_fund"]

HONEST_CHAIN_CLASSES = HONEST_CLASSES
"""Trace-code chains with an honest explanation: a refund then a new sale, a split pack
(:data:`graph.chains.HONEST_CLASSES`)."""


@dataclass(frozen=True)
class SuspiciousFund:
    """涉嫌违规基金 of a scope: the money of its flagged settlements and who and where."""

    fund: float
    settlements: int
    persons: int
    institutions: int


@dataclass(frozen=True)
class FlaggedRings:
    rings: int
    persons: int


def scope_params(start: date | None, end: date | None, prefix: str = "") -> dict[str, object]:
    """The named parameters of :func:`flagged_settlements_sql` for a scope."""
    return {"f_start": start, "f_end": end + timedelta(days=1) if end else None,
            "f_prefix": prefix or ""}


def flagged_settlements_sql(con: duckdb.DuckDBPyConnection) -> str:
    """SQL of the flagged settlements in scope (``$f_start``, ``$f_end`` exclusive,
    ``$f_prefix``; :func:`scope_params`), one row per piece of evidence: ``setl_id``,
    ``psn_no``, ``fixmedins_code``, ``admdvs`` (the institution's), ``setl_time``, ``fund``,
    ``kind`` (``ring``, ``hit``, ``chain``), ``item`` (ring id, hit id, trace code),
    ``violation`` (ring pattern or rule id, ``resale_chain`` for chains), ``ring_id`` (rings
    only), ``severity`` (hits only) and ``confidence`` (rings: 1 - q)."""
    parts = []
    if has_table(con, "rings") and has_table(con, "ring_settlements"):
        parts.append("""
            SELECT rs.setl_id, 'ring' AS kind, r.ring_id AS item, r.pattern AS violation,
                   r.ring_id, NULL::VARCHAR AS severity,
                   coalesce(1 - try_cast(json_extract(r.metrics, '$.q_value') AS DOUBLE),
                            r.score) AS confidence
            FROM rings r JOIN ring_settlements rs USING (ring_id) WHERE r.suspicious""")
    if has_table(con, "rule_hits"):
        parts.append("""
            SELECT unnest(h.setl_ids) AS setl_id, 'hit', h.hit_id, h.rule_id, NULL::VARCHAR,
                   h.severity, NULL::DOUBLE
            FROM rule_hits h WHERE h.severity <> 'info'""")
    if has_table(con, "chains"):
        honest = ", ".join(f"'{c}'" for c in HONEST_CHAIN_CLASSES)
        parts.append(f"""
            SELECT unnest(c.setl_ids), 'chain', c.drug_trac_codg, 'resale_chain',
                   NULL::VARCHAR, NULL::VARCHAR, NULL::DOUBLE
            FROM chains c WHERE c.hit_class NOT IN ({honest})""")
    evidence = " UNION ALL ".join(parts) or (
        "SELECT NULL::VARCHAR AS setl_id, NULL::VARCHAR AS kind, NULL::VARCHAR AS item, "
        "NULL::VARCHAR AS violation, NULL::VARCHAR AS ring_id, NULL::VARCHAR AS severity, "
        "NULL::DOUBLE AS confidence WHERE FALSE")
    where = ("($f_start IS NULL OR s.setl_time >= $f_start) "
             "AND ($f_end IS NULL OR s.setl_time < $f_end)")
    return f"""
        SELECT e.setl_id, s.psn_no, s.fixmedins_code, i.admdvs, s.setl_time,
               {FUND_SQL} AS fund, e.kind, e.item, e.violation, e.ring_id, e.severity,
               e.confidence
        FROM ({evidence}) e
        JOIN ({effective_settlements_sql(where)}) s ON s.setl_id = e.setl_id
        JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        WHERE starts_with(coalesce(i.admdvs, ''), $f_prefix)"""


def suspicious_fund(con: duckdb.DuckDBPyConnection, start: date | None, end: date | None,
                    prefix: str = "") -> SuspiciousFund:
    """涉嫌违规基金 of the scope (see the module's docstring)."""
    row = con.execute(f"""
        SELECT coalesce(sum(fund), 0), count(*), count(DISTINCT psn_no),
               count(DISTINCT fixmedins_code)
        FROM (SELECT DISTINCT setl_id, psn_no, fixmedins_code, fund
              FROM ({flagged_settlements_sql(con)}))""",
        scope_params(start, end, prefix)).fetchone()
    assert row is not None
    return SuspiciousFund(fund=float(row[0]), settlements=int(row[1]), persons=int(row[2]),
                          institutions=int(row[3]))


def flagged_rings(con: duckdb.DuckDBPyConnection, start: date | None, end: date | None,
                  prefix: str = "") -> FlaggedRings:
    """Suspicious rings with a flagged settlement in scope, and their distinct persons."""
    if not has_table(con, "rings"):
        return FlaggedRings(0, 0)
    row = con.execute(f"""
        WITH r AS (SELECT DISTINCT ring_id FROM ({flagged_settlements_sql(con)})
                   WHERE kind = 'ring')
        SELECT count(*), (SELECT count(DISTINCT p) FROM rings x, unnest(x.persons) u(p)
                          WHERE x.ring_id IN (SELECT ring_id FROM r))
        FROM r""", scope_params(start, end, prefix)).fetchone()
    assert row is not None
    return FlaggedRings(rings=int(row[0]), persons=int(row[1]))


def rule_hits_by_rule(con: duckdb.DuckDBPyConnection, start: date | None, end: date | None,
                      prefix: str = "") -> dict[str, int]:
    """Distinct rule hits (not ``info``) with a settlement in scope, per rule id."""
    rows = con.execute(f"""
        SELECT violation, count(DISTINCT item) FROM ({flagged_settlements_sql(con)})
        WHERE kind = 'hit' GROUP BY 1 ORDER BY 1""",
        scope_params(start, end, prefix)).fetchall()
    return {str(r[0]): int(r[1]) for r in rows}
