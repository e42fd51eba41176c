"""The figures of a leadership briefing (简报), from the store and the leads ledger: pure data.

:func:`facts_from_store` reads one period and one region and returns :class:`BriefFacts`; the
page (:mod:`yibao.brief.page`) only lays them out. What counts:

* **Settlements in scope**: effective settlements (a reversal and what it cancels left out,
  :func:`graph.claims.effective_settlements_sql`) whose settlement time lies in the period and
  whose institution lies in the region (``institutions.admdvs``). Persons may live elsewhere.
* **Suspicious settlements**: those of scope named by a suspicious ring (``ring_settlements``
  of ``rings.suspicious``) or by a rule hit that is not an honest explanation (severity other
  than ``info``). Fund money is 涉及医保基金 = 统筹 + 个人账户
  (:data:`graph.money.FUND_SQL`), yuan. A settlement named twice (a ring and a rule) counts
  once in totals, once per violation type.
* **Leads** (线索) come from the ledger: those whose region lies in the briefing's region and,
  when a period was asked for, those :func:`yibao.leads.period.leads_in_period` puts in it (the
  rule of the leads page and ``yibao leads export``). Their figures are
  :func:`yibao.leads.figures.lead_figures`: 查实 counts the leads found true (now in 查实 or
  处理, or closed with dispositions), 排除 the cleared ones.
* **Persons** are counted, never listed; evidence sentences are redacted
  (:func:`yibao.masking.redact_text`).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from yibao.brief.scope import Period, Region
from yibao.leads.figures import LeadFigures, lead_figures
from yibao.masking import redact_text

if TYPE_CHECKING:
    import duckdb

    from yibao.leads import LeadLedger

__all__ = [
    "BriefFacts",
    "DivisionAmount",
    "LeadFigures",
    "RingLine",
    "TrendPoint",
    "ViolationRow",
    "evidence_index",
    "facts_from_store",
    "lead_figures",
]

log = logging.getLogger(__name__)

MapLevel = Literal["city", "county"]
TrendUnit = Literal["month", "week"]

TOP_RINGS = 5
"""Rings listed on the page."""

_SIGNATURE: dict[str, re.Pattern[str]] = {
    "card_pooling": re.compile(r"相同日期结算"),
    "recruited_inpatients": re.compile(r"相同日期结算"),
    "cross_province_card_use": re.compile(r"跨省参保结算占"),
    "resale_chain": re.compile(r"追溯码在.*重复结算"),
    "doctor_pharmacy_collusion": re.compile(r"集中在药店"),
}
"""Per ring pattern, the evidence line (Chinese) that shows the pattern itself."""

_COUNT_LINE = re.compile(r"^\d+ 人、\d+ 家机构、\d+ 笔结算$")
"""The bare-count line detection puts first (the table shows those counts already)."""


@dataclass(frozen=True)
class RingLine:
    """One of the top suspicious rings: pattern key, the one-line evidence (redacted), members
    (persons and institutions, whole ring) and its suspicious settlements and fund in scope."""

    ring_id: str
    pattern: str
    evidence_zh: str
    evidence_en: str
    persons: int
    institutions: int
    settlements: int
    fund: float


@dataclass(frozen=True)
class ViolationRow:
    """A row of the statistics table (违规行为): suspicious settlements (例/次) and their fund
    (yuan) of one violation key, rings of that pattern, and the ledger's leads of it."""

    key: str
    cases: int
    fund: float
    rings: int = 0
    leads: int = 0
    confirmed: int = 0


@dataclass(frozen=True)
class DivisionAmount:
    """Suspicious fund (yuan) and settlements at the institutions of one division of the map."""

    code: str
    fund: float
    cases: int


@dataclass(frozen=True)
class TrendPoint:
    """Suspicious fund (yuan) and settlements of the month (or week) starting on ``start``."""

    start: date
    fund: float
    cases: int


@dataclass(frozen=True)
class BriefFacts:
    """Everything a briefing says, for one period and region (amounts in yuan).

    ``period_given`` is False when the briefing covers all the data (``period`` is then the
    days the settlements span). ``map_level`` is the level of ``hot_spots`` (cities for the
    whole Delta, counties otherwise); ``trend_unit`` months, or weeks for two months or less.
    """

    period: Period
    period_given: bool
    region: Region
    made_on: date
    settlements: int
    institutions: int
    suspicious_settlements: int
    suspicious_fund: float
    persons_involved: int
    institutions_involved: int
    rings_by_pattern: tuple[tuple[str, int], ...]
    leads: LeadFigures
    ledger_total: int
    map_level: MapLevel
    hot_spots: tuple[DivisionAmount, ...]
    trend_unit: TrendUnit
    trend: tuple[TrendPoint, ...]
    top_rings: tuple[RingLine, ...]
    violations: tuple[ViolationRow, ...]
    detected_at: datetime | None

    @property
    def rings(self) -> int:
        """Suspicious rings with settlements in scope."""
        return sum(n for _, n in self.rings_by_pattern)


def _has(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    from graph.claims import has_table

    return has_table(con, table)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None
          ) -> list[tuple[Any, ...]]:
    return con.execute(sql, params or {}).fetchall()


def _scope_tables(con: duckdb.DuckDBPyConnection, period: Period | None, region: Region) -> None:
    """Temp tables ``_brief_setl`` (effective settlements in scope) and ``_brief_hits`` (their
    flagged ones, :func:`graph.figures.flagged_settlements_sql`: one row per piece of evidence,
    with its violation key and ring)."""
    from graph.claims import effective_settlements_sql
    from graph.figures import flagged_settlements_sql, scope_params
    from graph.money import FUND_SQL

    start = period.start if period is not None else None
    end = period.end_exclusive - timedelta(days=1) if period is not None else None
    params = scope_params(start, end, region.prefix)
    where = ("($f_start IS NULL OR s.setl_time >= $f_start) "
             "AND ($f_end IS NULL OR s.setl_time < $f_end)")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _brief_setl AS
        SELECT s.setl_id, s.psn_no, s.fixmedins_code, i.admdvs, s.setl_time,
               {FUND_SQL} AS fund
        FROM ({effective_settlements_sql(where)}) s
        JOIN institutions i USING (fixmedins_code)
        WHERE starts_with(coalesce(i.admdvs, ''), $f_prefix)""", params)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _brief_hits AS
        SELECT violation, ring_id, setl_id, psn_no, fixmedins_code, admdvs, setl_time, fund
        FROM ({flagged_settlements_sql(con)})""", params)


def _trend(con: duckdb.DuckDBPyConnection, period: Period, unit: TrendUnit
           ) -> tuple[TrendPoint, ...]:
    """Suspicious fund per month (or week, Monday first) of ``period``, empty ones as 0."""
    got = {d: (float(f or 0), int(n)) for d, f, n in _rows(con, f"""
        SELECT date_trunc('{unit}', setl_time)::DATE AS start, sum(fund), count(*)
        FROM (SELECT DISTINCT setl_id, setl_time, fund FROM _brief_hits)
        GROUP BY 1 ORDER BY 1""")}
    if unit == "month":
        starts = [date(y, m, 1) for y in range(period.start.year, period.end.year + 1)
                  for m in range(1, 13)
                  if date(period.start.year, period.start.month, 1) <= date(y, m, 1)
                  <= period.end]
    else:
        first = period.start - timedelta(days=period.start.weekday())
        starts = [first + timedelta(weeks=k)
                  for k in range((period.end - first).days // 7 + 1)]
    return tuple(TrendPoint(d, *got.get(d, (0.0, 0))) for d in starts)


def _map_level(region: Region) -> MapLevel:
    return "city" if region.level == "delta" else "county"


def _hot_spots(con: duckdb.DuckDBPyConnection, level: MapLevel) -> tuple[DivisionAmount, ...]:
    key = "admdvs" if level == "county" else "substr(admdvs, 1, 4) || '00'"
    rows = _rows(con, f"""
        SELECT {key} AS code, sum(fund), count(*)
        FROM (SELECT DISTINCT setl_id, admdvs, fund FROM _brief_hits)
        GROUP BY 1 ORDER BY 2 DESC, 1""")
    return tuple(DivisionAmount(str(c), float(f or 0), int(n)) for c, f, n in rows)


def evidence_index(pattern: str, lines: list[str]) -> int:
    """Which of a ring's evidence lines (Chinese) is its one-line evidence: the first that
    shows the pattern itself (:data:`_SIGNATURE`), else the first that says more than the bare
    counts, else the first."""
    signature = _SIGNATURE.get(pattern)
    if signature is not None:
        for i, line in enumerate(lines):
            if signature.search(line):
                return i
    return next((i for i, line in enumerate(lines) if not _COUNT_LINE.match(line.strip())), 0)


def _top_rings(con: duckdb.DuckDBPyConnection, top: int) -> tuple[RingLine, ...]:
    if not _has(con, "rings"):
        return ()
    rows = _rows(con, """
        WITH h AS (SELECT DISTINCT ring_id, setl_id, fund FROM _brief_hits
                   WHERE ring_id IS NOT NULL),
        t AS (SELECT ring_id, count(*) AS n, sum(fund) AS fund FROM h GROUP BY 1)
        SELECT r.ring_id, r.pattern, r.evidence_zh, r.evidence_en, len(r.persons),
               len(r.institutions), t.n, t.fund
        FROM t JOIN rings r USING (ring_id)
        ORDER BY t.fund DESC, r.rank, r.ring_id LIMIT $top""", {"top": top})
    ids = [r[0] for r in rows]
    codes: dict[str, set[str]] = {i: set() for i in ids}
    names: dict[str, set[str]] = {i: set() for i in ids}
    if ids and _has(con, "ring_members"):
        for ring_id, code, name in _rows(con, """
                SELECT m.ring_id, m.code, coalesce(p.psn_name, d.dr_name)
                FROM ring_members m
                LEFT JOIN persons p ON m.kind = 'person' AND p.psn_no = m.code
                LEFT JOIN (SELECT DISTINCT dr_codg, dr_name FROM practitioners) d
                       ON m.kind = 'practitioner' AND d.dr_codg = m.code
                WHERE m.ring_id IN (SELECT unnest($ids)) AND m.kind <> 'institution'""",
                                         {"ids": ids}):
            codes[ring_id].add(str(code))
            if name:
                names[ring_id].add(str(name))
    lines = []
    for ring_id, pattern, ev_zh, ev_en, n_psn, n_ins, n, fund in rows:
        zh = [str(x) for x in (ev_zh or [])]
        en = [str(x) for x in (ev_en or [])]
        i = evidence_index(str(pattern), zh)
        j = i if len(en) == len(zh) else 0
        redact = {"person_codes": codes[ring_id], "names": names[ring_id]}
        lines.append(RingLine(
            ring_id=str(ring_id), pattern=str(pattern),
            evidence_zh=redact_text(zh[i], **redact) if zh else "",
            evidence_en=redact_text(en[j], **redact) if en else "",
            persons=int(n_psn or 0), institutions=int(n_ins or 0), settlements=int(n),
            fund=float(fund or 0)))
    return tuple(lines)


def _violations(con: duckdb.DuckDBPyConnection, leads: LeadFigures) -> tuple[ViolationRow, ...]:
    from yibao.leads.violations import violation_labels

    rows = _rows(con, """
        WITH v AS (SELECT violation, count(*) AS n, sum(fund) AS fund
                   FROM (SELECT DISTINCT violation, setl_id, fund FROM _brief_hits)
                   GROUP BY 1),
        r AS (SELECT violation, count(DISTINCT ring_id) AS rings FROM _brief_hits
              WHERE ring_id IS NOT NULL GROUP BY 1)
        SELECT v.violation, v.n, v.fund, coalesce(r.rings, 0)
        FROM v LEFT JOIN r USING (violation)""")
    by_key = {str(k): ViolationRow(str(k), int(n), float(f or 0), int(rings))
              for k, n, f, rings in rows}
    for key, found, confirmed in leads.by_violation:
        row = by_key.get(key, ViolationRow(key, 0, 0.0))
        by_key[key] = ViolationRow(key, row.cases, row.fund, row.rings, found, confirmed)
    order = {key: i for i, key in enumerate(violation_labels())}
    return tuple(sorted(by_key.values(),
                        key=lambda r: (-r.fund, -r.cases, order.get(r.key, len(order)), r.key)))


def _leads(con: duckdb.DuckDBPyConnection, ledger: LeadLedger | None, period: Period | None,
           region: Region) -> tuple[LeadFigures, int]:
    if ledger is None:
        return LeadFigures(), 0
    from yibao.leads import LeadFilter
    from yibao.leads.period import activity_spans, leads_in_period

    everything = ledger.leads()
    chosen = ledger.leads(LeadFilter(region=region.code)) if region.code else everything
    if period is not None:
        chosen = leads_in_period(chosen, activity_spans(con), period.start, period.end)
    return lead_figures(chosen), len(everything)


def facts_from_store(con: duckdb.DuckDBPyConnection, *, period: Period | None = None,
                     region: Region, ledger: LeadLedger | None = None,
                     made_on: date | None = None, top: int = TOP_RINGS) -> BriefFacts:
    """The facts of a briefing on ``period`` (``None``: all the data) and ``region`` from the
    store behind ``con`` (read-only is enough: only temp tables are written) and the leads of
    ``ledger`` (``None``: no ledger, every lead figure 0)."""
    _scope_tables(con, period, region)
    n_setl, n_ins, first, last = _rows(con, """
        SELECT count(*), count(DISTINCT fixmedins_code), min(setl_time), max(setl_time)
        FROM _brief_setl""")[0]
    if period is None:
        today = made_on or date.today()
        covered = Period(first.date() if first else today, last.date() if last else today,
                         "range")
    else:
        covered = period
    n_sus, fund, n_psn, n_inst = _rows(con, """
        SELECT count(*), coalesce(sum(fund), 0), count(DISTINCT psn_no),
               count(DISTINCT fixmedins_code)
        FROM (SELECT DISTINCT setl_id, psn_no, fixmedins_code, fund FROM _brief_hits)""")[0]
    by_pattern = tuple((str(p), int(n)) for p, n in _rows(con, """
        SELECT violation, count(DISTINCT ring_id) FROM _brief_hits
        WHERE ring_id IS NOT NULL GROUP BY 1 ORDER BY 2 DESC, 1"""))
    leads, total = _leads(con, ledger, period, region)
    unit: TrendUnit = "week" if covered.days <= 62 else "month"
    level = _map_level(region)
    detected_at = None
    if _has(con, "detect_runs"):
        run = _rows(con, "SELECT max(started_at) FROM detect_runs")
        detected_at = run[0][0] if run else None
    facts = BriefFacts(
        period=covered, period_given=period is not None, region=region,
        made_on=made_on or date.today(), settlements=int(n_setl), institutions=int(n_ins),
        suspicious_settlements=int(n_sus), suspicious_fund=float(fund),
        persons_involved=int(n_psn), institutions_involved=int(n_inst),
        rings_by_pattern=by_pattern, leads=leads, ledger_total=total, map_level=level,
        hot_spots=_hot_spots(con, level), trend_unit=unit,
        trend=_trend(con, covered, unit),
        top_rings=_top_rings(con, top), violations=_violations(con, leads),
        detected_at=detected_at)
    con.execute("DROP TABLE IF EXISTS _brief_hits")
    con.execute("DROP TABLE IF EXISTS _brief_setl")
    return facts
