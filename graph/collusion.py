"""Doctor-pharmacy collusion (医药串通): a doctor's prescriptions tested against their peers'.

A doctor steers patients when their prescriptions are filled at one pharmacy far more often than
their colleagues' (other doctors of the same institution, who see patients from the same
streets) are. That null model leaves honest concentrations alone: the pharmacy next to a hospital
that every doctor's patients use, the one pharmacy of a small county.

For each doctor with at least :data:`MIN_FILLS` fills at retail pharmacies (settlements whose
fee lines name the doctor in ``bilg_dr_codg``), take the pharmacy with most of them: ``k`` of
``n`` fills. Under the null each fill goes to that pharmacy with the larger of two shares, each
smoothed toward the pharmacy's share of its county's pharmacy settlements by :data:`SMOOTHING`
fills: the share the colleagues' fills have there, and the share the same patients' other
pharmacy settlements (without this doctor's prescriptions) have there — patients who shop at
that pharmacy anyway, e.g. the one pharmacy of their village, show no steering. ``p =
P(Binomial(n, share) >= k)``, times the number of pharmacies the doctor's fills went to (the
top one was chosen). Every doctor tested counts in the run's false-discovery control.

Not modelled: a specialist whose drugs only a 双通道 (DTP) pharmacy stocks, when the
colleagues of the same institution prescribe other drugs; the evidence names the pharmacy, and
an investigator can see it is a DTP pharmacy.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

from graph.claims import effective_settlements_sql, pharmacy_sql
from graph.rules.sqltools import prepare_views
from graph.rules.visits import PHARMACY_MARKET_SQL
from graph.suspicion import binomial_surprise

__all__ = ["CANDIDATE_P", "MIN_FILLS", "SMOOTHING", "CollusionFindings", "SteeringTest",
           "collusion_findings", "ring_places", "steering_tests"]

MIN_FILLS = 10
"""Doctors with fewer pharmacy fills are not tested."""
SMOOTHING = 20.0
"""Pseudo-fills at the pharmacy's market share added to the colleagues' fills."""

_PHARMACY = pharmacy_sql()

_SQL = f"""
WITH s AS ({effective_settlements_sql()}),
fills AS (
    SELECT DISTINCT f.bilg_dr_codg AS dr, s.setl_id, s.psn_no, s.fixmedins_code AS pharmacy
    FROM fee_details f JOIN s ON s.setl_id = f.setl_id
    JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
    WHERE {_PHARMACY} AND f.bilg_dr_codg IS NOT NULL AND f.bilg_dr_codg <> ''
),
per_pharmacy AS (
    SELECT f.dr, p.fixmedins_code AS inst, f.pharmacy, count(*) AS n
    FROM fills f LEFT JOIN practitioners p ON p.dr_codg = f.dr GROUP BY ALL
),
tested AS (
    SELECT dr, any_value(inst) AS inst, sum(n) AS total, count(*) AS n_pharmacies,
           arg_max(pharmacy, struct_pack(n := n, p := pharmacy)) AS top, max(n) AS top_n
    FROM per_pharmacy GROUP BY dr HAVING sum(n) >= $min_fills
),
market AS (
    -- effective pharmacy settlements per pharmacy and per division (made first, or handed in)
    SELECT pharmacy, sum(n) AS n FROM _pharmacy_market GROUP BY 1
),
area AS (
    SELECT admdvs, sum(n) AS n FROM _pharmacy_market GROUP BY 1
),
peers AS (
    -- the colleagues' fills (same institution, other doctors): at the top pharmacy, in all
    SELECT t.dr,
           coalesce(sum(pp.n) FILTER (WHERE pp.pharmacy = t.top), 0) AS at_top,
           coalesce(sum(pp.n), 0) AS total
    FROM tested t LEFT JOIN per_pharmacy pp ON pp.inst = t.inst AND pp.dr <> t.dr
    GROUP BY t.dr
),
habits AS (
    -- the same patients' other pharmacy settlements (without this doctor's prescriptions)
    SELECT t.dr, count(*) FILTER (WHERE x.fixmedins_code = t.top) AS at_top, count(*) AS total
    FROM tested t
    JOIN (SELECT DISTINCT dr, psn_no FROM fills) pt ON pt.dr = t.dr
    JOIN s x ON x.psn_no = pt.psn_no
    JOIN institutions i ON i.fixmedins_code = x.fixmedins_code
    WHERE {_PHARMACY}
      AND NOT EXISTS (SELECT 1 FROM fills f WHERE f.dr = t.dr AND f.setl_id = x.setl_id)
    GROUP BY t.dr
)
SELECT t.dr, t.top, t.total, t.top_n, t.n_pharmacies,
       greatest((pe.at_top + $smoothing * m.n / ar.n) / (pe.total + $smoothing),
                (coalesce(h.at_top, 0) + $smoothing * m.n / ar.n)
                / (coalesce(h.total, 0) + $smoothing)) AS p0, t.inst,
       list_sort(list_distinct(list(f.psn_no) FILTER (WHERE f.pharmacy = t.top))) AS steered
FROM tested t JOIN peers pe ON pe.dr = t.dr LEFT JOIN habits h ON h.dr = t.dr
JOIN market m ON m.pharmacy = t.top
JOIN institutions ti ON ti.fixmedins_code = t.top
JOIN area ar ON ar.admdvs = ti.admdvs
JOIN fills f ON f.dr = t.dr
GROUP BY ALL ORDER BY t.dr
"""


@dataclass(frozen=True)
class SteeringTest:
    """One doctor's prescriptions tested against their peers' (see the module docstring)."""

    doctor: str
    doctor_institution: str | None
    pharmacy: str
    fills: int
    at_pharmacy: int
    pharmacies: int
    peer_share: float
    p_value: float
    """Corrected for the choice of the top pharmacy."""
    surprise: float
    """-log10 of the uncorrected binomial tail."""
    steered: tuple[str, ...]
    """The patients whose fills of this doctor's prescriptions went to the pharmacy."""


def _has_temp_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    row = con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = $n",
                      {"n": name}).fetchone()
    return bool(row and row[0])


def steering_tests(con: duckdb.DuckDBPyConnection) -> list[SteeringTest]:
    """Every doctor with at least :data:`MIN_FILLS` pharmacy fills, tested (empty when the store
    has no fee details).

    The pharmacy market is the temp table ``_pharmacy_market``
    (:data:`graph.rules.visits.PHARMACY_MARKET_SQL`, over the ``_effective`` view made here):
    counted here and dropped after, so a later call counts afresh; one already there (handed
    in by a partitioned run, :mod:`backends.spark.collusion`) is used and kept."""
    made = not _has_temp_table(con, "_pharmacy_market")
    try:
        prepare_views(con)
        con.execute(PHARMACY_MARKET_SQL)
        rows = con.execute(_SQL, {"min_fills": MIN_FILLS, "smoothing": SMOOTHING}).fetchall()
    finally:
        if made:
            con.execute("DROP TABLE IF EXISTS _pharmacy_market")
    out = []
    for dr, top, total, top_n, n_ph, p0, inst, steered in rows:
        p, surprise = binomial_surprise(int(top_n), int(total), float(p0))
        out.append(SteeringTest(
            doctor=str(dr), doctor_institution=inst, pharmacy=str(top), fills=int(total),
            at_pharmacy=int(top_n), pharmacies=int(n_ph), peer_share=float(p0),
            p_value=min(1.0, p * int(n_ph)), surprise=surprise,
            steered=tuple(steered or ())))
    return out


CANDIDATE_P = 0.05
"""Steering tests with a p-value this high or higher can never be flagged at a sensible false
discovery rate: they are not kept as candidates (they still count in the control)."""

_OTHERS_SQL = f"""
    WITH ring AS (SELECT unnest($drs) AS dr, unnest($places) AS places)
    SELECT DISTINCT r.dr, s.psn_no FROM ring r
    JOIN fee_details f ON f.bilg_dr_codg = r.dr
    JOIN settlements s ON s.setl_id = f.setl_id
    JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
    WHERE {_PHARMACY}
      AND EXISTS (SELECT 1 FROM settlements x WHERE x.psn_no = s.psn_no
                  AND list_contains(r.places, x.fixmedins_code))
    ORDER BY 1, 2"""


@dataclass(frozen=True)
class CollusionFindings:
    """What the steering tests found: the tests kept as candidates (p below
    :data:`CANDIDATE_P`, by doctor), how many doctors were tested in all, and per kept doctor
    the other patients who filled the doctor's prescriptions at a pharmacy and settled at the
    ring's places too (codes, sorted)."""

    kept: tuple[SteeringTest, ...] = ()
    n_tests: int = 0
    others: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def ring_places(test: SteeringTest) -> list[str]:
    """The places of a steering ring: the pharmacy and the doctor's own institution."""
    return sorted({test.pharmacy, *([test.doctor_institution] if test.doctor_institution
                                     else [])})


def collusion_findings(con: duckdb.DuckDBPyConnection) -> CollusionFindings:
    """The steering tests of every doctor of the store and the other patients of the kept
    ones (nothing when the store has no fee details)."""
    tests = steering_tests(con)
    kept = tuple(t for t in tests if t.p_value < CANDIDATE_P)
    others: dict[str, list[str]] = {t.doctor: [] for t in kept}
    if kept:
        rows = con.execute(_OTHERS_SQL, {"drs": [t.doctor for t in kept],
                                         "places": [ring_places(t) for t in kept]}).fetchall()
        for dr, psn in rows:
            others[dr].append(psn)
    return CollusionFindings(kept=kept, n_tests=len(tests),
                             others={dr: tuple(p) for dr, p in others.items()})
