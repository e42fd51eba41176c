"""Candidate institutions for an inspection plan (检查计划的候选机构), from a detected store.

A *candidate* is a designated institution (定点医药机构) where at least one *flagged* settlement
took place. A settlement is flagged by one of three kinds of evidence that detection stored:

- a suspicious ring (``rings.suspicious``; its settlements in ``ring_settlements``): rings below
  the detection threshold are the honest look-alikes that scoring cleared, so they flag nothing;
- a rule hit (``rule_hits``) whose severity is not ``info`` (``info`` marks the honest
  explanations: a refund followed by a resale, split packs). ``TRACE_REUSE`` hits are not
  counted here, because each of them is one trace-code chain, counted next;
- a trace-code chain (``chains``) that is not honest (``hit_class`` not ``refund`` or
  ``split_pack``): resale of returned drugs (回流药), forged codes, item substitution.

Per candidate (one row of the frame :func:`candidates_from_store` returns):

- ``amount``: 疑点金额, yuan: the insurance money (涉及医保基金 = 统筹基金 + 个人账户,
  :data:`graph.money.FUND_SQL`, the figure rings, leads and the brief show) of the distinct
  flagged settlements at that institution, never below 0 (a flagged reversal cannot make it
  negative).
- ``risk`` in [0, 1], 风险分: a noisy-OR of the evidence, each piece read as an independent
  chance that the institution is involved::

      risk = 1 - (1 - ring) * 0.7**n_high * 0.85**n_medium * 0.95**n_low * 0.8**n_chains

  ``ring`` is the highest confidence of a suspicious ring with a flagged settlement there
  (1 - its Benjamini-Hochberg q-value, :mod:`graph.suspicion`: a ring flagged at a 1% false
  discovery rate gives at least 0.99), ``n_high``/``n_medium``/``n_low`` count the distinct
  rule hits of each severity, ``n_chains`` the distinct chains. One high-severity hit alone
  gives 0.3, one chain 0.2; more evidence only raises it.
- ``days``: 检查天数, team-days a visit takes: 2 for a hospital of level 二级 or higher
  (``fixmedins_type`` 1 with ``hosp_lv`` 01 to 07), 1 for first-level or unrated hospitals,
  clinics and retail pharmacies.
- ``county``/``city``/``province``: 6-digit division codes from ``admdvs`` (the county); the
  city is the first 4 digits + ``00``, the province the first 2 + ``0000``.

:func:`synthetic_candidates` makes a seeded set of the same shape over the 41 cities of 沪苏浙皖
for demos and benchmarks.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from graph.figures import HONEST_CHAIN_CLASSES
from yibao.divisions import division, divisions_frame, is_known_division
from yibao.errors import PlanError

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "CANDIDATE_COLUMNS",
    "HIT_WEIGHTS",
    "HONEST_CHAIN_CLASSES",
    "REQUIRED_CANDIDATE_COLUMNS",
    "candidate_values",
    "candidates_from_store",
    "city_of",
    "province_of",
    "synthetic_candidates",
    "visit_days",
]

CANDIDATE_COLUMNS = (
    "fixmedins_code", "fixmedins_name", "fixmedins_type", "hosp_lv", "county", "city",
    "province", "lon", "lat", "risk", "amount", "days", "ring_score", "n_rings", "n_rule_hits",
    "n_chains", "n_settlements",
)
"""The columns of a candidates frame, in order."""

REQUIRED_CANDIDATE_COLUMNS = ("fixmedins_code", "city", "province", "risk", "amount", "days")
"""What the planner needs; the other columns are for people (names, the map, the evidence)."""

HIT_WEIGHTS = {"high": 0.3, "medium": 0.15, "low": 0.05}
"""Chance that one rule hit of this severity implicates the institution (noisy-OR term)."""

CHAIN_WEIGHT = 0.2
"""Chance that one dishonest trace-code chain through the institution implicates it."""

TWO_DAY_LEVELS = ("01", "02", "03", "04", "05", "06", "07")
"""``hosp_lv`` codes of 三级 and 二级 hospitals: a visit takes 2 team-days."""

_CANDIDATES_SQL = """
WITH flagged AS ({flagged}),
per_institution AS (
    SELECT fixmedins_code,
           coalesce(max(confidence), 0.0) AS ring_score,
           count(DISTINCT item) FILTER (WHERE kind = 'ring') AS n_rings,
           -- a TRACE_REUSE hit is one trace-code chain, counted as a chain
           count(DISTINCT item) FILTER (WHERE kind = 'hit' AND severity = 'high'
                                        AND violation <> 'TRACE_REUSE') AS n_high,
           count(DISTINCT item) FILTER (WHERE kind = 'hit' AND severity = 'medium'
                                        AND violation <> 'TRACE_REUSE') AS n_medium,
           count(DISTINCT item) FILTER (WHERE kind = 'hit' AND severity = 'low'
                                        AND violation <> 'TRACE_REUSE') AS n_low,
           count(DISTINCT item) FILTER (WHERE kind = 'chain') AS n_chains
    FROM flagged GROUP BY fixmedins_code
), amounts AS (
    SELECT fixmedins_code, greatest(sum(fund), 0.0) AS amount, count(*) AS n_settlements
    FROM (SELECT DISTINCT fixmedins_code, setl_id, fund FROM flagged)
    GROUP BY fixmedins_code
)
SELECT i.fixmedins_code, i.fixmedins_name, i.fixmedins_type, i.hosp_lv, i.admdvs AS county,
       i.lon, i.lat, p.ring_score, p.n_rings, p.n_high, p.n_medium, p.n_low, p.n_chains,
       a.amount, a.n_settlements
FROM per_institution p
JOIN amounts a USING (fixmedins_code)
JOIN institutions i USING (fixmedins_code)
ORDER BY i.fixmedins_code
"""
"""Per institution with a flagged settlement (:func:`graph.figures.flagged_settlements_sql`,
the definition the overview and the briefing use): evidence counts and the amount."""


def city_of(code: str) -> str:
    """The 6-digit city code of a county, city or province code (first 4 digits + ``00``)."""
    return code[:4] + "00"


def province_of(code: str) -> str:
    """The 6-digit province code of a division code (first 2 digits + ``0000``)."""
    return code[:2] + "0000"


def visit_days(fixmedins_type: str | None, hosp_lv: str | None) -> int:
    """Team-days one inspection visit takes: 2 for a 二级-or-higher hospital, else 1."""
    return 2 if fixmedins_type == "1" and hosp_lv in TWO_DAY_LEVELS else 1


def candidate_values(candidates: pd.DataFrame) -> npt.NDArray[np.int64]:
    """Risk-weighted suspicious amount of each candidate, whole yuan: ``round(risk * amount)``.

    The one definition the solver maximises, the greedy baseline sorts by and the validator
    adds up (CP-SAT needs integer coefficients; a yuan is fine enough)."""
    risk = candidates["risk"].to_numpy(dtype=np.float64)
    amount = candidates["amount"].to_numpy(dtype=np.float64)
    values: npt.NDArray[np.int64] = np.rint(risk * amount).astype(np.int64)
    return values


def _region_prefix(region: str | None) -> str | None:
    if region is None:
        return None
    if not is_known_division(region):
        raise PlanError(
            f"region {region!r} is not a 沪苏浙皖 division code: pass a 6-digit province, "
            "city or county code such as 340000 (安徽省), 341200 (阜阳市) or 341282 (界首市)"
        )
    level = division(region).level
    return region[:2] if level == "province" else region[:4] if level == "city" else region


def _period_bounds(
    period: tuple[date, date] | None,
) -> tuple[datetime | None, datetime | None]:
    if period is None:
        return None, None
    start, end = period
    if end < start:
        raise PlanError(
            f"period {start} .. {end} ends before it starts: give (first day, last day)"
        )
    first = datetime(start.year, start.month, start.day)
    after = datetime(end.year, end.month, end.day) + timedelta(days=1)
    return first, after


def candidates_from_store(
    con: duckdb.DuckDBPyConnection,
    *,
    period: tuple[date, date] | None = None,
    region: str | None = None,
) -> pd.DataFrame:
    """Candidate institutions from a store on which detection has run.

    ``con``: a DuckDB connection to the store (read-only is enough). ``period``: (first day,
    last day), both included: only settlements in it are flagged evidence and money.
    ``region``: a 6-digit province, city or county code: only institutions there.

    Returns one row per institution with a flagged settlement, columns
    :data:`CANDIDATE_COLUMNS` (see the module docstring for how ``risk``, ``amount`` and
    ``days`` are made), sorted by ``fixmedins_code``; ``n_rule_hits`` counts hits of every
    counted severity. Empty when nothing is flagged. Raises :class:`PlanError` when detection
    has not run on the store or ``region``/``period`` cannot be used.
    """
    tables = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    missing = [t for t in ("rings", "ring_settlements", "rule_hits", "chains") if t not in tables]
    if missing:
        raise PlanError(
            f"the store has no detection results (missing tables: {', '.join(missing)}): "
            "run 'yibao detect --db STORE' first"
        )
    from graph.figures import flagged_settlements_sql, scope_params

    start, end = _period_bounds(period)
    raw = con.execute(
        _CANDIDATES_SQL.replace("{flagged}", flagged_settlements_sql(con)),
        scope_params(start.date() if start else None,
                     (end - timedelta(days=1)).date() if end else None,
                     _region_prefix(region) or ""),
    ).fetchdf()
    return _candidates_frame(raw)


def _candidates_frame(raw: pd.DataFrame) -> pd.DataFrame:
    no_ring = 1.0 - raw["ring_score"].astype(float).clip(0.0, 1.0)
    keep = (
        no_ring
        * (1.0 - HIT_WEIGHTS["high"]) ** raw["n_high"].astype(float)
        * (1.0 - HIT_WEIGHTS["medium"]) ** raw["n_medium"].astype(float)
        * (1.0 - HIT_WEIGHTS["low"]) ** raw["n_low"].astype(float)
        * (1.0 - CHAIN_WEIGHT) ** raw["n_chains"].astype(float)
    )
    county = raw["county"].astype(str)
    frame = pd.DataFrame({
        "fixmedins_code": raw["fixmedins_code"].astype(str),
        "fixmedins_name": raw["fixmedins_name"].astype(str),
        "fixmedins_type": raw["fixmedins_type"].astype(str),
        "hosp_lv": raw["hosp_lv"].astype(object).where(raw["hosp_lv"].notna(), None),
        "county": county,
        "city": county.map(city_of),
        "province": county.map(province_of),
        "lon": raw["lon"].astype(float),
        "lat": raw["lat"].astype(float),
        "risk": (1.0 - keep).clip(0.0, 1.0).round(4),
        "amount": raw["amount"].astype(float).round(2),
        "days": [visit_days(t, lv) for t, lv in
                 zip(raw["fixmedins_type"], raw["hosp_lv"], strict=True)],
        "ring_score": raw["ring_score"].astype(float),
        "n_rings": raw["n_rings"].astype(int),
        "n_rule_hits": (raw["n_high"] + raw["n_medium"] + raw["n_low"]).astype(int),
        "n_chains": raw["n_chains"].astype(int),
        "n_settlements": raw["n_settlements"].astype(int),
    })
    frame["days"] = frame["days"].astype(int)
    return frame.reset_index(drop=True)


_TYPES = (  # (fixmedins_type, hosp_lv choices, share): pharmacies, clinics, 二级+ hospitals
    ("2", (None,), 0.40),
    ("1", ("08", "09", "10", "11"), 0.35),
    ("1", ("02", "03", "05", "06", "07"), 0.25),
)


def synthetic_candidates(n: int, *, seed: int = 0) -> pd.DataFrame:
    """``n`` synthetic candidates spread over the 305 counties (so all 41 cities) of 沪苏浙皖,
    columns :data:`CANDIDATE_COLUMNS`, for demos and benchmarks; same seed, same frame.

    Shaped on the detected 1M-settlement store: 40% pharmacies, 35% clinics and first-level
    hospitals (1 day each), 25% 二级-or-higher hospitals (2 days); risk from a mixture (70%
    single-hit evidence, Beta(2, 5); 30% ring or chain evidence, Beta(5, 2)); amount lognormal
    with a median of about 1,800 yuan and a long tail (1% above about 120,000 yuan), capped at
    5 million. Codes are ``H``/``P`` + county code + a 5-digit serial, as in real exports.
    """
    if n < 0:
        raise PlanError(f"n={n}: ask for 0 or more synthetic candidates")
    rng = np.random.default_rng(seed)
    divisions = divisions_frame()
    counties = divisions[divisions["level"] == "county"].reset_index(drop=True)
    picked = counties.iloc[rng.integers(0, len(counties), n)].reset_index(drop=True)
    kind = rng.choice(len(_TYPES), size=n, p=[t[2] for t in _TYPES])
    types = [_TYPES[k][0] for k in kind]
    levels = [_TYPES[k][1][rng.integers(0, len(_TYPES[k][1]))] for k in kind]
    high = rng.random(n) < 0.3
    risk = np.where(high, rng.beta(5, 2, n), rng.beta(2, 5, n))
    amount = np.minimum(rng.lognormal(7.5, 1.8, n), 5_000_000.0)
    codes = [f"{'P' if t == '2' else 'H'}{c}{i:05d}"
             for i, (t, c) in enumerate(zip(types, picked["code"], strict=True))]
    names = [f"{c}{'大药房' if t == '2' else '医院' if lv in TWO_DAY_LEVELS else '诊所'}{i + 1}"
             for i, (t, lv, c) in enumerate(zip(types, levels, picked["name"], strict=True))]
    lon = picked["lon"].to_numpy(dtype=float) + rng.normal(0.0, 0.05, n)
    lat = picked["lat"].to_numpy(dtype=float) + rng.normal(0.0, 0.05, n)
    county = picked["code"].astype(str)
    frame = pd.DataFrame({
        "fixmedins_code": codes,
        "fixmedins_name": names,
        "fixmedins_type": types,
        "hosp_lv": levels,
        "county": county,
        "city": county.map(city_of),
        "province": county.map(province_of),
        "lon": lon.round(6),
        "lat": lat.round(6),
        "risk": risk.round(4),
        "amount": amount.round(2),
        "days": [visit_days(t, lv) for t, lv in zip(types, levels, strict=True)],
        "ring_score": np.where(high, risk, 0.0).round(4),
        "n_rings": high.astype(int),
        "n_rule_hits": np.where(high, 0, 1),
        "n_chains": np.zeros(n, dtype=int),
        "n_settlements": rng.integers(1, 60, n),
    })
    frame["days"] = frame["days"].astype(int)
    return frame
