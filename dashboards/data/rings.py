"""Rings for the workbench: the ranked table, one ring's record, members, settlements, money,
and the flag line of the detection run that scored them.

Everything is read from the tables detection writes (``rings``, ``ring_members``,
``ring_settlements``, ``detect_runs``) joined to the loaded data. Money is 涉及医保基金
(统筹 + 个人账户, yuan) as :mod:`graph.money` defines it; a ring's whole and period figures
come from :func:`graph.money.ring_money`, which detection's stored ``fund_amount`` agrees with.
Personal columns (``psn_name``, ``certno``, ``tel``) come back in full: masking is the
caller's job (:func:`yibao.masking.mask_frame`), because only the caller knows the user's role.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from dashboards.data.common import FUND_SQL, Period, division_names, query_frame
from graph.claims import effective_settlements_sql
from graph.explanations import EXPLANATION_KEYS
from graph.money import Money, ring_money
from yibao.divisions import division_list, divisions_frame
from yibao.i18n import Lang
from yibao.leads import ring_facts

__all__ = [
    "DetectionRun",
    "RingRecord",
    "latest_detection_run",
    "ring_fund",
    "ring_institutions",
    "ring_monthly_fund",
    "ring_persons",
    "ring_practitioners",
    "ring_record",
    "ring_settlements",
    "ring_trips",
    "rings_of",
    "rings_table",
]


def rings_table(con: duckdb.DuckDBPyConnection, period: Period, *,
                suspicious_only: bool = True, patterns: list[str] | None = None,
                lang: Lang = "zh") -> pd.DataFrame:
    """Rings with settlements inside ``period``, best first: ``ring_id``, ``rank``,
    ``pattern``, ``score``, ``suspicious``, ``persons``, ``institutions``, ``practitioners``
    (counts; the practitioners of the ring's network,
    :func:`yibao.leads.ring_facts.ring_practitioners`), ``fund`` (fund money of the ring's
    settlements inside the period), ``first_time`` and ``last_time`` (of those settlements),
    ``days`` (span), ``places`` (division names in ``lang``, listed), ``evidence_zh/en`` (first
    sentence after the summary)."""
    sql = f"""
        WITH s AS ({effective_settlements_sql(
            "s.setl_time >= $p_start AND s.setl_time < $p_end")}),
        r AS (SELECT * FROM rings WHERE first_time < $p_end AND last_time >= $p_start
              AND (suspicious OR NOT $sus_only)
              AND ($patterns IS NULL OR list_contains($patterns, pattern))),
        inside AS (SELECT rs.ring_id, sum({FUND_SQL}) AS fund, min(s.setl_time) AS first_time,
                          max(s.setl_time) AS last_time
                   FROM ring_settlements rs JOIN s ON s.setl_id = rs.setl_id
                   WHERE rs.ring_id IN (SELECT ring_id FROM r) GROUP BY 1)
        SELECT r.ring_id, r.rank, r.pattern, r.score, r.suspicious,
               len(r.persons) AS persons, len(r.institutions) AS institutions,
               m.fund, m.first_time, m.last_time,
               date_diff('day', m.first_time, m.last_time) + 1 AS days,
               r.divisions, r.evidence_zh[2] AS evidence_zh, r.evidence_en[2] AS evidence_en
        FROM r JOIN inside m USING (ring_id)
        ORDER BY r.score DESC, r.ring_id
    """
    frame = query_frame(con, sql, {**period.params, "sus_only": suspicious_only,
                                   "patterns": patterns})
    doctors = ring_facts.ring_practitioners(con, list(frame["ring_id"]))
    frame.insert(7, "practitioners", [len(doctors.get(r, ())) for r in frame["ring_id"]])
    frame["places"] = frame.pop("divisions").map(
        lambda codes: division_list(list(codes) if codes is not None else [], lang))
    return frame


_RING_PERIOD_SETTLEMENTS = f"""
    SELECT s.* FROM ring_settlements rs
    JOIN ({effective_settlements_sql("s.setl_time >= $p_start AND s.setl_time < $p_end")}) s
      ON s.setl_id = rs.setl_id
    WHERE rs.ring_id = $id"""
"""The effective settlements of ring ``$id`` inside ``$p_start`` .. ``$p_end``: the one
definition behind a ring's members, institutions and practitioners tables and its money."""


@dataclass(frozen=True)
class RingRecord:
    """One ring as detection stored it."""

    ring_id: str
    pattern: str
    source: str
    score: float
    suspicious: bool
    rank: int
    fund_amount: float
    medfee_amount: float
    n_settlements: int
    first_time: pd.Timestamp
    last_time: pd.Timestamp
    persons: list[str]
    core_persons: list[str]
    institutions: list[str]
    practitioners: list[str]
    trace_codes: list[str]
    hit_ids: list[str]
    divisions: list[str]
    features: dict[str, float]
    metrics: dict[str, float]
    evidence_zh: list[str]
    evidence_en: list[str]

    @property
    def explanation(self) -> str:
        """The key of the honest explanation that cleared the ring (``""``: none held), as
        :attr:`graph.rings.Ring.explanation` decodes ``metrics["explanation"]``."""
        code = int(self.metrics.get("explanation", 0))
        return EXPLANATION_KEYS[code] if 0 <= code < len(EXPLANATION_KEYS) else ""


def _as_list(value: Any) -> list[str]:
    return [str(v) for v in value] if value is not None else []


def ring_record(con: duckdb.DuckDBPyConnection, ring_id: str) -> RingRecord | None:
    """The ring ``ring_id``, or ``None`` when no ring has that id."""
    frame = query_frame(con, "SELECT * FROM rings WHERE ring_id = $id", {"id": ring_id})
    if frame.empty:
        return None
    r = frame.iloc[0]
    return RingRecord(
        ring_id=str(r["ring_id"]), pattern=str(r["pattern"]), source=str(r["source"]),
        score=float(r["score"]), suspicious=bool(r["suspicious"]), rank=int(r["rank"]),
        fund_amount=float(r["fund_amount"]), medfee_amount=float(r["medfee_amount"]),
        n_settlements=int(r["n_settlements"]), first_time=pd.Timestamp(r["first_time"]),
        last_time=pd.Timestamp(r["last_time"]), persons=_as_list(r["persons"]),
        core_persons=_as_list(r["core_persons"]), institutions=_as_list(r["institutions"]),
        practitioners=_as_list(r["practitioners"]), trace_codes=_as_list(r["trace_codes"]),
        hit_ids=_as_list(r["hit_ids"]), divisions=_as_list(r["divisions"]),
        features={k: float(v) for k, v in json.loads(r["features"]).items()},
        metrics={k: float(v) for k, v in json.loads(r["metrics"]).items()},
        evidence_zh=_as_list(r["evidence_zh"]), evidence_en=_as_list(r["evidence_en"]),
    )


def ring_fund(con: duckdb.DuckDBPyConnection, ring_id: str, period: Period | None = None
              ) -> Money:
    """涉及医保基金 of the ring's settlements, yuan, with its parts (统筹 ``pool`` + 个人账户
    ``account``) and the number of settlements: the whole ring (``period=None``; equal to the
    stored ``rings.fund_amount``), or its settlements inside ``period``."""
    if period is None:
        return ring_money(con, ring_id)
    params = period.params
    return ring_money(con, ring_id, start=params["p_start"], end=params["p_end"])


@dataclass(frozen=True)
class DetectionRun:
    """The latest detection run and the flag line it drew (from ``detect_runs.settings``).

    ``threshold`` is the score of a ring at q = ``fdr`` (rings at or above it are flagged);
    ``fdr`` the false-discovery rate; ``surprise_full`` the -log10 q at which the score is 1;
    ``rings`` how many candidates the run tested (the Benjamini-Hochberg family).
    """

    run_id: int
    started_at: pd.Timestamp
    rings: int
    threshold: float
    fdr: float
    surprise_full: float


def latest_detection_run(con: duckdb.DuckDBPyConnection) -> DetectionRun | None:
    """The flag line of the latest detection run as that run stored it, or ``None`` when no
    run stored one (no run yet, or a run from before rings were tested against chance)."""
    frame = query_frame(con, "SELECT run_id, started_at, rings, settings FROM detect_runs "
                             "ORDER BY run_id DESC LIMIT 1")
    if frame.empty:
        return None
    r = frame.iloc[0]
    try:
        stored = json.loads(r["settings"] or "{}")
        suspicion = stored["suspicion"]
        return DetectionRun(run_id=int(r["run_id"]), started_at=pd.Timestamp(r["started_at"]),
                            rings=int(r["rings"]), threshold=float(stored["threshold"]),
                            fdr=float(suspicion["fdr"]),
                            surprise_full=float(suspicion["surprise_full"]))
    except (KeyError, TypeError, ValueError):
        return None


def ring_settlements(con: duckdb.DuckDBPyConnection, ring_id: str, period: Period
                     ) -> pd.DataFrame:
    """The ring's settlements inside ``period``: ``setl_id``, ``setl_time``, ``psn_no``,
    ``fixmedins_code``, ``fixmedins_name``, ``dr_codg``, ``med_type``, ``dise_codg``,
    ``medfee``, ``fund``, institution ``lon``/``lat`` and ``admdvs``, the person's
    ``insu_admdvs``."""
    sql = f"""
        SELECT s.setl_id, s.setl_time, s.psn_no, s.fixmedins_code, i.fixmedins_name,
               s.dr_codg, s.med_type, s.dise_codg, s.medfee_sumamt::DOUBLE AS medfee,
               {FUND_SQL} AS fund, i.lon, i.lat, i.admdvs, p.insu_admdvs
        FROM ring_settlements rs
        JOIN settlements s ON s.setl_id = rs.setl_id
        JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        LEFT JOIN persons p ON p.psn_no = s.psn_no
        WHERE rs.ring_id = $id AND s.setl_time >= $p_start AND s.setl_time < $p_end
        ORDER BY s.setl_time, s.setl_id
    """
    return query_frame(con, sql, {"id": ring_id, **period.params})


def ring_monthly_fund(settlements: pd.DataFrame) -> pd.DataFrame:
    """Fund money and settlements per calendar month (``month`` as ``YYYY-MM``)."""
    if settlements.empty:
        return pd.DataFrame({"month": [], "fund": [], "settlements": []})
    month = pd.to_datetime(settlements["setl_time"]).dt.strftime("%Y-%m")
    out = settlements.assign(month=month).groupby("month", as_index=False).agg(
        fund=("fund", "sum"), settlements=("setl_id", "count"))
    return out


def ring_days(settlements: pd.DataFrame) -> pd.DataFrame:
    """The ring's settlements per day and institution: ``day``, ``fixmedins_code``,
    ``fixmedins_name``, ``persons`` (distinct members who settled there that day),
    ``settlements`` and ``fund``, in time order. A big ring's timeline reads better per day:
    many members at one place on one day is what co-settlement means."""
    cols = ["day", "fixmedins_code", "fixmedins_name", "persons", "settlements", "fund"]
    if settlements.empty:
        return pd.DataFrame(columns=cols)
    day = pd.to_datetime(settlements["setl_time"]).dt.normalize()
    out = settlements.assign(day=day).groupby(
        ["day", "fixmedins_code", "fixmedins_name"], as_index=False
    ).agg(persons=("psn_no", "nunique"), settlements=("setl_id", "count"), fund=("fund", "sum"))
    return out[cols].sort_values(["day", "fixmedins_code"], ignore_index=True)


def ring_persons(con: duckdb.DuckDBPyConnection, ring_id: str, period: Period
                 ) -> pd.DataFrame:
    """The ring's persons: ``psn_no``, ``psn_name``, ``certno``, ``tel``, ``gend``, ``age``
    (years at the period's end), ``insu_admdvs``, ``home`` (division name), ``role`` (core or
    attached), ``settlements`` and ``fund`` inside the period."""
    sql = f"""
        SELECT m.code AS psn_no, p.psn_name, p.certno, p.tel, p.gend,
               date_diff('year', p.brdy, $p_end::DATE) AS age, p.insu_admdvs, m.role,
               count(s.setl_id) AS settlements, coalesce(sum({FUND_SQL}), 0) AS fund
        FROM ring_members m
        LEFT JOIN persons p ON p.psn_no = m.code
        LEFT JOIN ({_RING_PERIOD_SETTLEMENTS}) s ON s.psn_no = m.code
        WHERE m.ring_id = $id AND m.kind = 'person'
        GROUP BY ALL ORDER BY fund DESC, psn_no
    """
    frame = query_frame(con, sql, {"id": ring_id, **period.params})
    names = division_names()
    frame.insert(7, "home", frame["insu_admdvs"].map(lambda c: names.get(c, c)))
    return frame


def ring_institutions(con: duckdb.DuckDBPyConnection, ring_id: str, period: Period
                      ) -> pd.DataFrame:
    """The ring's institutions: code, name, type, level, ``admdvs``, ``place`` (division
    name), ``lon``/``lat``, ``settlements`` and ``fund`` of the ring inside the period."""
    sql = f"""
        SELECT i.fixmedins_code, i.fixmedins_name, i.fixmedins_type, i.hosp_lv, i.admdvs,
               i.lon, i.lat, count(s.setl_id) AS settlements,
               coalesce(sum({FUND_SQL}), 0) AS fund
        FROM ring_members m
        JOIN institutions i ON i.fixmedins_code = m.code
        LEFT JOIN ({_RING_PERIOD_SETTLEMENTS}) s ON s.fixmedins_code = i.fixmedins_code
        WHERE m.ring_id = $id AND m.kind = 'institution'
        GROUP BY ALL ORDER BY fund DESC
    """
    frame = query_frame(con, sql, {"id": ring_id, **period.params})
    names = division_names()
    frame.insert(5, "place", frame["admdvs"].map(lambda c: names.get(c, c)))
    return frame


def ring_practitioners(con: duckdb.DuckDBPyConnection, ring_id: str, period: Period
                       ) -> pd.DataFrame:
    """The ring's practitioners, those of its network
    (:func:`yibao.leads.ring_facts.ring_practitioners`, so the list, the count and the network
    agree): code, name, type, institution, the ring's settlements with them in the period."""
    codes = list(ring_facts.ring_practitioners(con, [ring_id]).get(ring_id, ()))
    sql = f"""
        SELECT c.dr_codg, d.dr_name, d.dr_type, d.fixmedins_code,
               count(s.setl_id) AS settlements
        FROM (SELECT unnest($codes::VARCHAR[]) AS dr_codg) c
        LEFT JOIN practitioners d ON d.dr_codg = c.dr_codg
        LEFT JOIN ({_RING_PERIOD_SETTLEMENTS}) s ON s.dr_codg = c.dr_codg
        GROUP BY ALL ORDER BY settlements DESC, c.dr_codg
    """
    return query_frame(con, sql, {"id": ring_id, "codes": codes, **period.params})


def ring_trips(settlements: pd.DataFrame) -> pd.DataFrame:
    """Home-to-institution trips of the ring: one row per (home division, institution) with
    ``home_lon/lat`` (the insured division's centroid), ``lon/lat`` (the institution),
    ``settlements``, ``persons`` and ``fund``."""
    cols = ["insu_admdvs", "home", "home_lon", "home_lat", "fixmedins_code", "fixmedins_name",
            "lon", "lat", "settlements", "persons", "fund"]
    if settlements.empty:
        return pd.DataFrame(columns=cols)
    divs = divisions_frame().set_index("code")
    grouped = settlements.groupby(
        ["insu_admdvs", "fixmedins_code", "fixmedins_name", "lon", "lat"], as_index=False
    ).agg(settlements=("setl_id", "count"), persons=("psn_no", "nunique"), fund=("fund", "sum"))
    known = grouped["insu_admdvs"].isin(divs.index)
    grouped = grouped[known].copy()
    grouped["home"] = grouped["insu_admdvs"].map(divs["name"])
    grouped["home_lon"] = grouped["insu_admdvs"].map(divs["lon"])
    grouped["home_lat"] = grouped["insu_admdvs"].map(divs["lat"])
    return grouped[cols].sort_values("fund", ascending=False, ignore_index=True)


def rings_of(con: duckdb.DuckDBPyConnection, kind: str, code: str) -> pd.DataFrame:
    """Every ring that ``code`` (a ``person``, ``institution``, ``practitioner`` or a
    ``trace_code``) belongs to: ``ring_id``, ``pattern``, ``score``, ``suspicious``."""
    if kind == "trace_code":
        sql = ("SELECT ring_id, pattern, score, suspicious FROM rings "
               "WHERE list_contains(trace_codes, $code) ORDER BY score DESC")
        return query_frame(con, sql, {"code": code})
    sql = """
        SELECT r.ring_id, r.pattern, r.score, r.suspicious FROM ring_members m
        JOIN rings r USING (ring_id) WHERE m.kind = $kind AND m.code = $code
        ORDER BY r.score DESC
    """
    return query_frame(con, sql, {"kind": kind, "code": code})
