"""The leads ledger (线索台账): every suspicious lead checked one by one to closure
(逐条核查、闭环).

Open it with :func:`open_ledger` (settings decide: a SQLite file beside the store, or the Neo4j
server). Leads come from detection (:func:`yibao.leads.from_detection.leads_from_store`; one
ring's draft with :func:`lead_draft_from_ring`), from Excel
(:func:`yibao.leads.excel.import_workbook`) or by hand (:meth:`LeadLedger.add`), move through
the fixed lifecycle (:mod:`yibao.leads.lifecycle`) with every change audited
(:mod:`yibao.leads.audit`), and go back to Excel (:func:`yibao.leads.excel.export_workbook`).
Importing this package imports neither DuckDB, pandas nor the Neo4j driver.
"""

from __future__ import annotations

from yibao.leads.audit import VerifyReport
from yibao.leads.changes import EDITABLE, FIELD_LABELS, LeadEdit
from yibao.leads.from_detection import lead_draft_from_ring
from yibao.leads.ledger import AddReport, LeadLedger, OrderBy
from yibao.leads.lifecycle import (
    DISPOSITIONS,
    STATES,
    TRANSITIONS,
    Disposition,
    State,
    allowed_next,
    disposition_label,
    state_label,
)
from yibao.leads.model import (
    LINK_KINDS,
    RISKS,
    SOURCES,
    FieldChange,
    Lead,
    LeadDraft,
    LeadEvent,
    LeadFilter,
    LinkKind,
    Risk,
    Source,
    risk_label,
    source_label,
)

__all__ = [
    "DISPOSITIONS",
    "EDITABLE",
    "FIELD_LABELS",
    "LINK_KINDS",
    "RISKS",
    "SOURCES",
    "STATES",
    "TRANSITIONS",
    "AddReport",
    "Disposition",
    "FieldChange",
    "Lead",
    "LeadDraft",
    "LeadEdit",
    "LeadEvent",
    "LeadFilter",
    "LeadLedger",
    "LinkKind",
    "OrderBy",
    "Risk",
    "Source",
    "State",
    "VerifyReport",
    "allowed_next",
    "disposition_label",
    "lead_draft_from_ring",
    "risk_label",
    "source_label",
    "state_label",
]
