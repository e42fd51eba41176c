"""Which leads belong to a period (时间范围): the rule the workbench's period filter and
``yibao leads export --start/--end`` share.

A lead belongs to the inclusive day range ``start``..``end`` when the suspicious activity
behind it overlaps the range (the first to last time of its ring, its resale chain or its rule
group, or of a ring it is linked to), or when it was created or falls due inside the range. So
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


def _span_keys(lead: Lead) -> list[tuple[str, str]]:
    keys: list[tuple[str, str]] = []
    if lead.source_ref and lead.source in ("ring", "chain", "rule_hit"):
        ref = lead.source_ref
        if lead.source == "rule_hit":  # RULE@INSTITUTION[@first..last]
            ref = "@".join(ref.split("@")[:2])
        keys.append((lead.source, ref))
    keys += [("ring", ring) for ring in lead.rings]
    return keys


def leads_in_period(leads: Iterable[Lead], spans: ActivitySpans, start: date, end: date
                    ) -> list[Lead]:
    """The leads (in their order) that belong to the inclusive days ``start``..``end``: their
    activity in ``spans`` overlaps it, or they were created or fall due inside it."""
    out = []
    for lead in leads:
        touched = any(first <= end and last >= start
                      for first, last in (spans[k] for k in _span_keys(lead) if k in spans))
        made = start <= lead.created_at.date() <= end
        due = lead.due is not None and start <= lead.due <= end
        if touched or made or due:
            out.append(lead)
    return out
