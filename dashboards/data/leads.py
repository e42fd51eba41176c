"""Leads (线索台账) for the workbench: ledger objects to tables, headline figures, the period a
lead covers, a change in words, its persons and institutions from the store, and the Excel
workbook of the leads a page shows.

The ledger itself lives in :mod:`yibao.leads`; the page reads it through ``ui.ledger()`` and
hands the leads and events to the functions here. Functions that read the store take the
DuckDB connection first (the page calls them through ``ui.cached``). Personal columns
(``psn_name``, ``certno``, ``tel``) come back in full: masking is the caller's job.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd

from dashboards.data.common import Period, division_names, query_frame
from dashboards.i18n import Lang
from yibao.divisions import division, is_known_division
from yibao.leads import (
    STATES,
    Lead,
    LeadEvent,
    LeadLedger,
)
from yibao.leads import period as period_rule
from yibao.leads.event_text import changes_text, event_text
from yibao.leads.excel import export_workbook
from yibao.leads.figures import LeadFigures, lead_figures
from yibao.leads.from_detection import detection_texts
from yibao.leads.period import ActivitySpans
from yibao.leads.violations import violation_label

__all__ = [
    "LEAD_COLUMNS",
    "activity_spans",
    "event_text",
    "history_frame",
    "lead_institutions",
    "lead_persons",
    "lead_texts",
    "leads_in_period",
    "leads_table",
    "ledger_headline",
    "region_name",
    "violation_name",
    "wan",
    "workbook_bytes",
]

LEAD_COLUMNS = (
    "lead_id", "title", "violation", "risk", "risk_score", "state", "owner", "region",
    "region_name", "due", "amount_involved", "amount_recovered", "amount_involved_wan",
    "amount_recovered_wan", "overdue", "needs_escalation", "source", "version", "updated_at",
)
"""The columns of :func:`leads_table`, in order."""

def violation_name(key: str, lang: Lang) -> str:
    """The name of violation type ``key`` (a ring pattern, a rule id, one of the seeds'
    categories or a bureau's own text) in ``lang``
    (:func:`yibao.leads.violations.violation_label`)."""
    return violation_label(key, lang)


def region_name(code: str | None, lang: Lang) -> str:
    """The name of division ``code`` in ``lang`` (the code itself when unknown)."""
    if not code:
        return ""
    if not is_known_division(code):
        return code
    found = division(code)
    return found.name if lang == "zh" else (found.name_en or found.name)


def lead_texts(con: duckdb.DuckDBPyConnection, leads: tuple[Lead, ...], lang: Lang
               ) -> dict[str, tuple[str, str]]:
    """Lead id -> title and summary in ``lang`` for the leads detection made
    (:func:`yibao.leads.from_detection.detection_texts`; edited fields as written)."""
    return detection_texts(con, leads, lang)


def wan(yuan: Decimal | float) -> float:
    """Yuan as 万元 (10,000 yuan), to two places."""
    return round(float(yuan) / 10_000, 2)


def leads_table(leads: Iterable[Lead], today: date, *, lang: Lang = "zh",
                texts: Mapping[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """One row per lead, columns :data:`LEAD_COLUMNS`: codes (``state``, ``risk``, ``source``,
    ``violation``) as stored, ``title`` in ``lang`` where ``texts`` (:func:`lead_texts`) has
    it, ``region_name`` the division's name in ``lang``, amounts in yuan (float) and 万元,
    ``overdue`` / ``needs_escalation`` judged on ``today``."""
    worded = texts or {}
    rows = [{
        "lead_id": lead.lead_id, "title": worded.get(lead.lead_id, (lead.title, ""))[0],
        "violation": lead.violation,
        "risk": lead.risk, "risk_score": lead.risk_score, "state": lead.state,
        "owner": lead.owner or "", "region": lead.region or "",
        "region_name": region_name(lead.region, lang), "due": lead.due,
        "amount_involved": float(lead.amount_involved),
        "amount_recovered": float(lead.amount_recovered),
        "amount_involved_wan": wan(lead.amount_involved),
        "amount_recovered_wan": wan(lead.amount_recovered),
        "overdue": lead.overdue(today), "needs_escalation": lead.needs_escalation(today),
        "source": lead.source, "version": lead.version, "updated_at": lead.updated_at,
    } for lead in leads]
    return pd.DataFrame(rows, columns=list(LEAD_COLUMNS))


def ledger_headline(leads: Sequence[Lead], today: date) -> LeadFigures:
    """The headline figures of ``leads`` with overdue judged on ``today``
    (:func:`yibao.leads.figures.lead_figures`, the briefing's definition)."""
    return lead_figures(leads, today)


def activity_spans(con: duckdb.DuckDBPyConnection) -> ActivitySpans:
    """When the suspicious activity behind detection's leads happened: ``(source, reference)``
    -> first and last day (:func:`yibao.leads.period.activity_spans`)."""
    return period_rule.activity_spans(con)


def leads_in_period(leads: Iterable[Lead], spans: ActivitySpans, period: Period
                    ) -> list[Lead]:
    """The leads that belong to ``period`` (inclusive days), in their order: those whose
    suspicious activity (in ``spans``) overlaps it, and those created or due inside it
    (:func:`yibao.leads.period.leads_in_period`, the rule ``yibao leads export --start/--end``
    uses too)."""
    return period_rule.leads_in_period(leads, spans, period.start, period.end)


def workbook_bytes(ledger: LeadLedger, leads: Sequence[Lead], *, lang: Lang = "zh",
                   texts: Mapping[str, tuple[str, str]] | None = None) -> bytes:
    """The Excel workbook (:func:`yibao.leads.excel.export_workbook`) of exactly ``leads`` in
    ``lang``: the ledger sheet, the statistics over them and their change log."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ledger.xlsx"
        export_workbook(ledger, path, leads=leads, lang=lang, texts=texts)
        return path.read_bytes()


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
        "changes": changes_text(e, lang), "note": e.note,
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
