"""Which leads belong to a period (时间范围): the one rule the workbench's period filter, the
briefing's lead figures and ``yibao leads export --start/--end`` share.

A lead belongs to the inclusive day range ``start``..``end`` when the suspicious activity
behind it overlaps the range (the first to last time of its ring, its resale chain or its rule
group, or of a ring it is linked to; a rule-hit lead of one quarter, whose reference names its
days, by those days), or when it was created or falls due inside the range. So
a quarter's export holds the leads about that quarter's claims and the leads opened or due in
it. The times of the activity come from the store's detection tables
(:func:`activity_spans`); the ledger itself does not hold them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from yibao.leads.model import Lead

if TYPE_CHECKING:
    import duckdb

__all__ = [
    "ActivitySpans",
    "activity_spans",
    "leads_in_period",
    "rule_ref_days",
]

ActivitySpans = dict[tuple[str, str], tuple[date, date]]
"""``(source, reference)`` -> first and last day of the suspicious activity: ``ring`` and the
ring id, ``chain`` and the traceability code, ``rule_hit`` and ``RULE@INSTITUTION`` (``-``
for hits without an institution), as detection's leads carry them."""

_SPANS_SQL = {
    "rings": """SELECT 'ring' AS source, ring_id AS ref, min(first_time) AS first_time,
                       max(last_time) AS last_time
                FROM rings GROUP BY ring_id""",
    "chains": """SELECT 'chain', drug_trac_codg, min(first_time), max(last_time)
                 FROM chains GROUP BY drug_trac_codg""",
    "rule_hits": """
        SELECT 'rule_hit', rule_id || '@' || inst, min(first_time), max(last_time)
        FROM (SELECT rule_id, first_time, last_time,
                     unnest(CASE WHEN len(coalesce(institutions, [])) > 0 THEN institutions
                                 ELSE ['-'] END) AS inst
              FROM rule_hits)
        GROUP BY rule_id, inst""",
}
"""Per detection table, the spans of the leads it makes."""


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def activity_spans(con: duckdb.DuckDBPyConnection) -> ActivitySpans:
    """When the suspicious activity behind detection's leads happened, from the store's
    ``rings``, ``chains`` and ``rule_hits`` (see :data:`ActivitySpans`); a rule group's span
    covers every hit of that rule through that institution. Empty before detection."""
    from graph.claims import has_table

    parts = [sql for table, sql in _SPANS_SQL.items() if has_table(con, table)]
    if not parts:
        return {}
    cur = con.cursor()
    try:
        rows = cur.execute(" UNION ALL ".join(parts)).fetchall()
    finally:
        cur.close()
    return {(str(source), str(ref)): (_day(first), _day(last))
            for source, ref, first, last in rows if first is not None and last is not None}


def rule_ref_days(ref: str) -> tuple[date, date] | None:
    """The days a rule group's reference names (``RULE@INST@2024-01-01..2024-03-31``, as
    detection makes one per period); ``None`` when it names none."""
    parts = ref.split("@")
    if len(parts) < 3:
        return None
    first, _, last = parts[2].partition("..")
    try:
        return date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        return None


def _own_span(lead: Lead) -> tuple[date, date] | None:
    """The days a rule-hit lead names in its reference, narrower than its rule group's."""
    if lead.source != "rule_hit" or not lead.source_ref:
        return None
    return rule_ref_days(lead.source_ref)


def _span_keys(lead: Lead) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if lead.source_ref and lead.source in ("ring", "chain", "rule_hit"):
        ref = lead.source_ref
        if lead.source == "rule_hit":  # RULE@INSTITUTION[@first..last]
            ref = "@".join(ref.split("@")[:2])
        keys.append((lead.source, ref))
    keys += [("ring", ring) for ring in lead.rings]
    return keys


def _activity(lead: Lead, spans: ActivitySpans) -> list[tuple[date, date]]:
    keys = _span_keys(lead)
    own = _own_span(lead)
    if own is not None and keys[0] in spans:  # the rule group still exists: its lead's days
        return [own] + [spans[k] for k in keys[1:] if k in spans]
    return [spans[k] for k in keys if k in spans]


def leads_in_period(leads: Iterable[Lead], spans: ActivitySpans, start: date, end: date
                    ) -> list[Lead]:
    """The leads (in their order) that belong to the inclusive days ``start``..``end``: their
    activity in ``spans`` overlaps it (a rule-hit lead that names its own days: those days),
    or they were created or fall due inside it."""
    out = []
    for lead in leads:
        touched = any(first <= end and last >= start for first, last in _activity(lead, spans))
        made = start <= lead.created_at.date() <= end
        due = lead.due is not None and start <= lead.due <= end
        if touched or made or due:
            out.append(lead)
    return out
