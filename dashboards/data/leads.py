"""Leads (线索台账) for the workbench: ledger objects to tables, headline figures, the period a
lead covers, its persons and institutions from the store, and a lead draft made from one ring.

The ledger itself lives in :mod:`yibao.leads`; the page reads it through ``ui.ledger()`` and
hands the leads and events to the pure functions here. Functions that read the store take the
DuckDB connection first (the page calls them through ``ui.cached``). Personal columns
(``psn_name``, ``certno``, ``tel``) come back in full: masking is the caller's job.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

import duckdb
import pandas as pd

from dashboards.data.common import FUND_SQL, Period, division_names, query_frame
from dashboards.i18n import Lang
from graph.rings import PATTERNS
from yibao.leads import (
    DISPOSITIONS,
    FIELD_LABELS,
    STATES,
    Lead,
    LeadDraft,
    LeadEvent,
)
from yibao.leads.model import risk_from_score, to_yuan
from yibao.leads.violations import violation_label

__all__ = [
    "LEAD_COLUMNS",
    "LedgerHeadline",
    "activity_spans",
    "history_frame",
    "lead_institutions",
    "lead_persons",
    "leads_in_period",
    "leads_table",
    "ledger_headline",
    "ring_lead_draft",
    "violation_name",
    "wan",
]

LEAD_COLUMNS = (
    "lead_id", "title", "violation", "risk", "risk_score", "state", "owner", "region",
    "region_name", "due", "amount_involved", "amount_recovered", "amount_involved_wan",
    "amount_recovered_wan", "overdue", "needs_escalation", "source", "version", "updated_at",
)
"""The columns of :func:`leads_table`, in order."""

_EVIDENCE_LINES = 5
"""Evidence sentences of a ring kept in a lead's summary (as detection's leads keep)."""


@cache
def _rule_names_en() -> dict[str, str]:
    from graph.rules import load_rulebase

    return {rule.id: rule.name_en for rule in load_rulebase()}


def violation_name(key: str, lang: Lang) -> str:
    """The name of violation type ``key`` (a ring pattern, a rule id, one of the seeds'
    categories or a bureau's own text) in ``lang``; English falls back to Chinese where the
    type has no English name."""
    if lang == "en":
        if key in PATTERNS:
            return PATTERNS[key][1]
        if key in _rule_names_en():
            return _rule_names_en()[key]
        if key == "resale_chain":
            return "Resale of returned drugs"
        if not key:
            return "unclassified"
    if key == "resale_chain":
        return "倒卖回流药"
    return violation_label(key)


def wan(yuan: Decimal | float) -> float:
    """Yuan as 万元 (10,000 yuan), to two places."""
    return round(float(yuan) / 10_000, 2)


def leads_table(leads: Iterable[Lead], today: date) -> pd.DataFrame:
    """One row per lead, columns :data:`LEAD_COLUMNS`: codes (``state``, ``risk``, ``source``,
    ``violation``) as stored, ``region_name`` the division's Chinese name, amounts in yuan
    (float) and 万元, ``overdue`` / ``needs_escalation`` judged on ``today``."""
    names = division_names()
    rows = [{
        "lead_id": lead.lead_id, "title": lead.title, "violation": lead.violation,
        "risk": lead.risk, "risk_score": lead.risk_score, "state": lead.state,
        "owner": lead.owner or "", "region": lead.region or "",
        "region_name": names.get(lead.region or "", lead.region or ""), "due": lead.due,
        "amount_involved": float(lead.amount_involved),
        "amount_recovered": float(lead.amount_recovered),
        "amount_involved_wan": wan(lead.amount_involved),
        "amount_recovered_wan": wan(lead.amount_recovered),
        "overdue": lead.overdue(today), "needs_escalation": lead.needs_escalation(today),
        "source": lead.source, "version": lead.version, "updated_at": lead.updated_at,
    } for lead in leads]
    return pd.DataFrame(rows, columns=list(LEAD_COLUMNS))


@dataclass(frozen=True)
class LedgerHeadline:
    """Headline figures of a list of leads: counts per state, overdue and 需提级办理 (overdue
    and high risk) on a day, amounts involved and recovered in yuan."""

    leads: int
    pending: int
    checking: int
    confirmed: int
    closed: int
    overdue: int
    escalations: int
    amount_involved: Decimal
    amount_recovered: Decimal


def ledger_headline(leads: Sequence[Lead], today: date) -> LedgerHeadline:
    """The headline figures of ``leads`` with overdue judged on ``today``."""
    def count(state: str) -> int:
        return sum(1 for lead in leads if lead.state == state)

    return LedgerHeadline(
        leads=len(leads), pending=count("pending"), checking=count("checking"),
        confirmed=count("confirmed"), closed=count("closed"),
        overdue=sum(1 for lead in leads if lead.overdue(today)),
        escalations=sum(1 for lead in leads if lead.needs_escalation(today)),
        amount_involved=sum((lead.amount_involved for lead in leads), Decimal(0)),
        amount_recovered=sum((lead.amount_recovered for lead in leads), Decimal(0)),
    )


def activity_spans(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """When the suspicious activity behind detection's leads happened: ``source`` (``ring``,
    ``chain``, ``rule_hit``), ``ref`` (ring id, trace code, ``RULE@INSTITUTION``, as the
    leads' source references), ``first_time``, ``last_time``. A rule group's span covers
    every hit of that rule through that institution (``-``: hits without one)."""
    sql = """
        SELECT 'ring' AS source, ring_id AS ref, min(first_time) AS first_time,
               max(last_time) AS last_time
        FROM rings GROUP BY ring_id
        UNION ALL
        SELECT 'chain', drug_trac_codg, min(first_time), max(last_time)
        FROM chains GROUP BY drug_trac_codg
        UNION ALL
        SELECT 'rule_hit', rule_id || '@' || inst, min(first_time), max(last_time)
        FROM (SELECT rule_id, first_time, last_time,
                     unnest(CASE WHEN len(coalesce(institutions, [])) > 0 THEN institutions
                                 ELSE ['-'] END) AS inst
              FROM rule_hits)
        GROUP BY rule_id, inst
    """
    return query_frame(con, sql)


def _span_key(lead: Lead) -> tuple[str, str] | None:
    if not lead.source_ref or lead.source not in ("ring", "chain", "rule_hit"):
        return None
    ref = lead.source_ref
    if lead.source == "rule_hit":  # RULE@INSTITUTION[@first..last]
        ref = "@".join(ref.split("@")[:2])
    return lead.source, ref


def leads_in_period(leads: Iterable[Lead], spans: pd.DataFrame, period: Period
                    ) -> list[Lead]:
    """The leads that belong to ``period`` (inclusive days): those whose suspicious activity
    (the span in ``spans`` of their source reference or of a ring they link) overlaps it, and
    those created or due inside it."""
    lookup: dict[tuple[str, str], tuple[date, date]] = {
        (str(s), str(r)): (pd.Timestamp(a).date(), pd.Timestamp(b).date())
        for s, r, a, b in zip(spans["source"], spans["ref"], spans["first_time"],
                              spans["last_time"], strict=True)
        if pd.notna(a) and pd.notna(b)}
    out = []
    for lead in leads:
        keys = [k for k in [_span_key(lead), *(("ring", r) for r in lead.rings)] if k]
        touched = any(first <= period.end and last >= period.start
                      for first, last in (lookup[k] for k in keys if k in lookup))
        made = period.start <= lead.created_at.date() <= period.end
        due = lead.due is not None and period.start <= lead.due <= period.end
        if touched or made or due:
            out.append(lead)
    return out


def _value(value: object, lang: Lang) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return "、".join(_value(v, lang) for v in value)
    i = 0 if lang == "zh" else 1
    if isinstance(value, str) and value in STATES:
        return STATES[value][i]
    if isinstance(value, str) and value in DISPOSITIONS:
        return DISPOSITIONS[value][i]
    return str(value)


def _changes(event: LeadEvent, lang: Lang) -> str:
    i = 0 if lang == "zh" else 1
    parts = []
    for c in event.changes:
        if c.field == "state" and event.action == "transition":
            continue
        label = FIELD_LABELS.get(c.field, (c.field, c.field))[i]
        if event.action == "create":
            continue
        if event.action == "link":
            parts.append(f"{label} +{_value(c.new, lang)}")
        elif event.action == "unlink":
            parts.append(f"{label} -{_value(c.old, lang)}")
        else:
            parts.append(f"{label}: {_value(c.old, lang)} → {_value(c.new, lang)}")
    return "；".join(parts) if lang == "zh" else "; ".join(parts)


def history_frame(events: Iterable[LeadEvent], lang: Lang) -> pd.DataFrame:
    """A lead's history, one row per event, oldest first: ``seq``, ``version``, ``at``
    (to the second), ``by``, ``action`` (code), ``from_state`` / ``to_state`` (labels in
    ``lang``, empty when the event does not move the lead), ``changes`` (each changed field,
    old → new, in ``lang``) and ``note``."""
    i = 0 if lang == "zh" else 1
    rows = [{
        "seq": e.seq, "version": e.version, "at": e.at.replace(microsecond=0), "by": e.by,
        "action": e.action,
        "from_state": STATES[e.from_state][i] if e.from_state else "",
        "to_state": STATES[e.to_state][i] if e.to_state else "",
        "changes": _changes(e, lang), "note": e.note,
    } for e in events]
    return pd.DataFrame(rows, columns=["seq", "version", "at", "by", "action", "from_state",
                                       "to_state", "changes", "note"])


def lead_persons(con: duckdb.DuckDBPyConnection, codes: tuple[str, ...]) -> pd.DataFrame:
    """The persons ``codes`` (psn_no) as the store knows them: ``psn_no``, ``psn_name``,
    ``certno``, ``tel``, ``gend``, ``insu_admdvs``, ``home`` (division name); codes unknown
    to the store keep a row with empty fields."""
    sql = """
        SELECT c.psn_no, p.psn_name, p.certno, p.tel, p.gend, p.insu_admdvs
        FROM (SELECT unnest($codes::VARCHAR[]) AS psn_no) c
        LEFT JOIN persons p USING (psn_no)
        ORDER BY c.psn_no
    """
    frame = query_frame(con, sql, {"codes": list(codes)})
    names = division_names()
    frame["home"] = frame["insu_admdvs"].map(lambda c: names.get(c, c) if c else "")
    return frame


def lead_institutions(con: duckdb.DuckDBPyConnection, codes: tuple[str, ...]
                      ) -> pd.DataFrame:
    """The institutions ``codes`` (fixmedins_code) with a place on the map:
    ``fixmedins_code``, ``fixmedins_name``, ``fixmedins_type``, ``admdvs``, ``place``
    (division name), ``lon``, ``lat``."""
    sql = """
        SELECT i.fixmedins_code, i.fixmedins_name, i.fixmedins_type, i.admdvs, i.lon, i.lat
        FROM institutions i
        WHERE i.fixmedins_code IN (SELECT unnest($codes::VARCHAR[]))
        ORDER BY i.fixmedins_code
    """
    frame = query_frame(con, sql, {"codes": list(codes)})
    names = division_names()
    frame.insert(4, "place", frame["admdvs"].map(lambda c: names.get(c, c)))
    return frame


def ring_lead_draft(con: duckdb.DuckDBPyConnection, ring_id: str) -> LeadDraft | None:
    """A lead draft (source ``ring``, reference the ring id) for the ring ``ring_id``, made as
    detection's leads are (:mod:`yibao.leads.from_detection`): title from the pattern, the
    first institution and the persons; summary the first evidence sentences; risk from the
    score; money the ring's fund (yuan); region the county whose institutions took most of the
    ring's fund; linked to its persons, institutions, practitioners and itself. ``None`` when
    there is no such ring."""
    ring = query_frame(con, """
        SELECT ring_id, pattern, score, persons, institutions, practitioners, fund_amount,
               evidence_zh
        FROM rings WHERE ring_id = $id""", {"id": ring_id})
    if ring.empty:
        return None
    r = ring.iloc[0]
    top = query_frame(con, f"""
        SELECT i.admdvs, sum({FUND_SQL}) AS fund
        FROM ring_settlements rs JOIN settlements s USING (setl_id)
        JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        WHERE rs.ring_id = $id GROUP BY i.admdvs ORDER BY fund DESC, i.admdvs LIMIT 1""",
                      {"id": ring_id})
    insts = [str(c) for c in (r["institutions"] if r["institutions"] is not None else [])]
    persons = [str(c) for c in (r["persons"] if r["persons"] is not None else [])]
    doctors = [str(c) for c in (r["practitioners"] if r["practitioners"] is not None else [])]
    names = query_frame(con, """
        SELECT fixmedins_code, fixmedins_name, admdvs FROM institutions
        WHERE fixmedins_code IN (SELECT unnest($codes::VARCHAR[]))""", {"codes": insts[:1]})
    first = names.iloc[0] if not names.empty else None
    where = str(first["fixmedins_name"]) if first is not None else (insts[0] if insts
                                                                     else "无机构")
    more = f"等 {len(insts)} 家机构" if len(insts) > 1 else ""
    evidence = [str(s) for s in (r["evidence_zh"] if r["evidence_zh"] is not None else [])
                if s]
    extra = len(evidence) - _EVIDENCE_LINES
    summary = "；".join(evidence[:_EVIDENCE_LINES]) + (f"；另有 {extra} 条" if extra > 0 else "")
    region = (str(top.iloc[0]["admdvs"]) if not top.empty
              else str(first["admdvs"]) if first is not None else None)
    score = float(r["score"])
    return LeadDraft(
        source="ring", source_ref=str(r["ring_id"]),
        title=f"{PATTERNS.get(str(r['pattern']), (str(r['pattern']), ''))[0]}：{where}{more}，"
              f"{len(persons)} 人",
        summary=summary, violation=str(r["pattern"]), risk=risk_from_score(score),
        risk_score=round(score, 4), region=region,
        amount_involved=to_yuan(round(float(r["fund_amount"] or 0.0), 2)),
        persons=tuple(persons), institutions=tuple(insts), practitioners=tuple(doctors),
        rings=(str(r["ring_id"]),))
