"""The ledger out to Excel, in Chinese (the ledger's own language) or English.

:func:`export_workbook` writes three sheets through :func:`yibao.spreadsheet.write_workbook`
(so no value from the data ever becomes a formula):

* **线索台账** (*Leads*) — one row per lead with its id and version; the editable columns come
  first;
* **统计** (*Statistics*) — the shape of the seeds' self-inspection statistics tables (序号,
  违规行为, 违规内容, 违规例(次)数, 违规金额(万元), 备注), one row per violation type, one lead
  counted as one case;
* **变更记录** (*Change log*) — every event of the exported leads (who, when, from, to, what,
  note, hash).

An English workbook has English sheet names, headers and labels (states, risks, sources,
dispositions, violation types, division names); the cells a user edits keep the ledger's
values, so :func:`yibao.leads.excel.import_workbook` reads either workbook back. Titles and
summaries worded in English for display (``texts``) go into two extra columns the import
leaves alone.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from yibao.errors import LeadError
from yibao.leads.changes import FIELD_LABELS
from yibao.leads.event_text import event_text
from yibao.leads.ledger import LeadLedger
from yibao.leads.lifecycle import DISPOSITIONS, STATES
from yibao.leads.model import LINK_KINDS, RISKS, SOURCES, Lead, LeadEvent, LeadFilter
from yibao.leads.violations import violation_label, violation_labels
from yibao.spreadsheet import write_workbook

__all__ = [
    "COLUMNS",
    "EVENTS_SHEET",
    "LEDGER_SHEET",
    "LEDGER_SHEETS",
    "NOTE",
    "SHEETS",
    "STATS_SHEET",
    "column_header",
    "events_frame",
    "export_workbook",
    "leads_frame",
    "statistics_frame",
    "workbook_name",
]

log = logging.getLogger(__name__)

Lang = Literal["zh", "en"]

LEDGER_SHEET = "线索台账"
STATS_SHEET = "统计"
EVENTS_SHEET = "变更记录"
SHEETS: dict[str, tuple[str, str]] = {
    "ledger": (LEDGER_SHEET, "Leads"),
    "stats": (STATS_SHEET, "Statistics"),
    "events": (EVENTS_SHEET, "Change log"),
}
"""Sheet -> (Chinese, English) name."""
LEDGER_SHEETS: tuple[str, ...] = SHEETS["ledger"]
"""The names the ledger sheet may have (an import reads either)."""

NOTE = "备注"
"""The ledger sheet's column for the note recorded with a row's changes (empty on export)."""

_LINK_CELL_CHARS = 30_000
"""Excel holds at most 32,767 characters in a cell; longer link lists are cut with a count."""

_EXTRA_HEADERS: dict[str, tuple[str, str]] = {
    "note": (NOTE, "note"),
    "region_name": ("区划名称", "region name"),
    "overdue": ("逾期", "overdue"),
    "needs_escalation": ("提级办理", "needs escalation"),
    "title_en": ("标题（英文）", "title (English, not imported)"),
    "summary_en": ("摘要（英文）", "summary (English, not imported)"),
}

COLUMNS: tuple[str, ...] = (
    "lead_id", "version", "state", "dispositions", "owner", "due", "amount_involved",
    "amount_recovered", "note", "title", "violation", "risk", "risk_score", "region",
    "region_name", "source", "source_ref", "summary", "overdue", "needs_escalation",
    *LINK_KINDS, "created_at", "created_by", "updated_at", "updated_by",
)
"""What the ledger sheet's columns hold, in order."""


def column_header(key: str, lang: Lang = "zh") -> str:
    """The ledger sheet's header of column ``key`` in ``lang``."""
    labels = FIELD_LABELS.get(key) or _EXTRA_HEADERS[key]
    return labels[0 if lang == "zh" else 1]


def workbook_name(lang: Lang, today: date, span: str = "") -> str:
    """The file name of an exported ledger: ``线索台账{span}_2024-05-01.xlsx`` or
    ``leads{span}_2024-05-01.xlsx``."""
    return f"{'线索台账' if lang == 'zh' else 'leads'}{span}_{today.isoformat()}.xlsx"


def _region_name(code: str | None, lang: Lang) -> str:
    if not code:
        return ""
    from yibao.divisions import division, is_known_division

    if not is_known_division(code):
        return ""
    found = division(code)
    return found.name if lang == "zh" else (found.name_en or found.name)


def _codes_cell(codes: Sequence[str], lang: Lang) -> str:
    text = ",".join(codes)
    if len(text) <= _LINK_CELL_CHARS:
        return text
    more = f"(共 {len(codes)} 个)" if lang == "zh" else f"({len(codes)} in all)"
    return text[:_LINK_CELL_CHARS].rsplit(",", 1)[0] + f",…{more}"


def leads_frame(leads: Iterable[Lead], today: date, *, lang: Lang = "zh",
                texts: Mapping[str, tuple[str, str]] | None = None) -> pd.DataFrame:
    """The ledger sheet: one row per lead, headers and labels in ``lang``, amounts in yuan
    (numbers), ``today`` judging 逾期/提级办理. ``texts`` (lead id -> title and summary in
    English) fills two extra columns of an English sheet."""
    i = 0 if lang == "zh" else 1
    yes = "是" if lang == "zh" else "yes"
    keys = [*COLUMNS, *(("title_en", "summary_en") if lang == "en" and texts else ())]
    rows = []
    for lead in leads:
        worded = (texts or {}).get(lead.lead_id, (lead.title, lead.summary))
        values: dict[str, Any] = {
            "lead_id": lead.lead_id, "version": lead.version, "state": STATES[lead.state][i],
            "dispositions": ("、" if lang == "zh" else ", ").join(
                DISPOSITIONS[d][i] for d in lead.dispositions),
            "owner": lead.owner or "", "due": lead.due,
            "amount_involved": float(lead.amount_involved),
            "amount_recovered": float(lead.amount_recovered), "note": "",
            "title": lead.title,
            "violation": violation_label(lead.violation, lang) if lead.violation else "",
            "risk": RISKS[lead.risk][i], "risk_score": lead.risk_score,
            "region": lead.region or "", "region_name": _region_name(lead.region, lang),
            "source": SOURCES[lead.source][i], "source_ref": lead.source_ref or "",
            "summary": lead.summary, "overdue": yes if lead.overdue(today) else "",
            "needs_escalation": yes if lead.needs_escalation(today) else "",
            **{kind: _codes_cell(lead.links(kind), lang) for kind in LINK_KINDS},
            "created_at": lead.created_at.replace(microsecond=0),
            "created_by": lead.created_by,
            "updated_at": lead.updated_at.replace(microsecond=0),
            "updated_by": lead.updated_by,
            "title_en": worded[0], "summary_en": worded[1],
        }
        rows.append([values[key] for key in keys])
    return pd.DataFrame(rows, columns=[column_header(k, lang) for k in keys], dtype=object)


def _wan(yuan: Decimal) -> float:
    return float((yuan / 10_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


_STATS_HEADERS = {
    "zh": ["序号", "违规行为", "违规内容", "违规例(次)数", "违规金额(万元)", "备注"],
    "en": ["No.", "Violation", "What", "Cases", "Amount (10k yuan)", "Remarks"],
}


def _remark(members: Sequence[Lead], recovered: Decimal, lang: Lang) -> str:
    i = 0 if lang == "zh" else 1
    sources = Counter(lead.source for lead in members)
    states = Counter(lead.state for lead in members)
    sep = "、" if lang == "zh" else ", "
    said_sources = sep.join(f"{SOURCES[s][i]} {n}" for s, n in sources.most_common())
    said_states = sep.join(f"{STATES[s][i]} {states[s]}" for s in STATES if states[s])
    if lang == "zh":
        return (f"来源：{said_sources}；状态：{said_states}"
                + (f"；已追回 {_wan(recovered):.2f} 万元" if recovered else ""))
    return (f"Sources: {said_sources}; states: {said_states}"
            + (f"; {_wan(recovered):.2f} × 10k yuan recovered" if recovered else ""))


def statistics_frame(leads: Iterable[Lead], *, lang: Lang = "zh") -> pd.DataFrame:
    """The statistics sheet in the seeds' shape: per violation type (detection patterns and
    rules first, in the rule base's order) the leads (例), their amount involved (万元, to two
    places from the exact yuan sum), the institutions and persons involved, and in 备注 the
    sources, states and money recovered."""
    groups: dict[str, list[Lead]] = defaultdict(list)
    for lead in leads:
        groups[lead.violation].append(lead)
    known = list(violation_labels())
    order = sorted(groups, key=lambda v: (v not in known, known.index(v) if v in known else 0,
                                          v))
    rows = []
    for k, key in enumerate(order, start=1):
        members = groups[key]
        amount = sum((lead.amount_involved for lead in members), Decimal(0))
        recovered = sum((lead.amount_recovered for lead in members), Decimal(0))
        institutions = {c for lead in members for c in lead.institutions}
        persons = {c for lead in members for c in lead.persons}
        what = (f"涉及定点医药机构 {len(institutions)} 家、参保人 {len(persons)} 人"
                if lang == "zh" else
                f"{len(institutions)} institutions, {len(persons)} insured persons")
        rows.append([k, violation_label(key, lang), what, len(members), _wan(amount),
                     _remark(members, recovered, lang)])
    return pd.DataFrame(rows, columns=_STATS_HEADERS[lang], dtype=object)


_ACTIONS = {"create": ("创建", "created"), "transition": ("状态变更", "state change"),
            "update": ("修改", "edited"), "link": ("关联", "linked"),
            "unlink": ("取消关联", "unlinked")}

_EVENT_HEADERS = {
    "zh": ["序号", "线索编号", "版本", "时间", "操作人", "操作", "原状态", "新状态", "变更内容",
           "说明", "哈希"],
    "en": ["No.", "lead id", "version", "at", "by", "action", "from", "to", "changes", "note",
           "hash"],
}


def events_frame(events: Iterable[LeadEvent], *, lang: Lang = "zh") -> pd.DataFrame:
    """The change log sheet: one row per event, in order."""
    i = 0 if lang == "zh" else 1
    rows = [[e.seq, e.lead_id, e.version, e.at.replace(microsecond=0), e.by,
             _ACTIONS[e.action][i], STATES[e.from_state][i] if e.from_state else "",
             STATES[e.to_state][i] if e.to_state else "", event_text(e, lang), e.note, e.hash]
            for e in events]
    return pd.DataFrame(rows, columns=_EVENT_HEADERS[lang], dtype=object)


def _sheet_titles(lang: Lang, stamp: str, n_leads: int, n_events: int
                  ) -> dict[str, list[str]]:
    if lang == "zh":
        return {
            LEDGER_SHEET: [
                "医保基金监管线索台账",
                f"导出时间：{stamp}；共 {n_leads} 条。可修改：状态、处理方式、责任人、办结期限、"
                "金额、标题、违规类型、风险等级、区划代码、摘要；修改说明填在“备注”；"
                "“线索编号”为空的行将新增线索；请勿修改“版本”。"],
            STATS_SHEET: [
                "医保基金监管线索违规情况统计表",
                f"统计时间：{stamp}；每条线索计 1 例；同一笔基金可能同时出现在团伙线索与"
                "规则线索中，各行金额不宜相加。"],
            EVENTS_SHEET: ["线索变更记录（不可修改）", f"导出时间：{stamp}；共 {n_events} 条。"],
        }
    return {
        SHEETS["ledger"][1]: [
            "Medical insurance fund supervision: leads ledger",
            f"Exported {stamp}; {n_leads} leads. Editable: state, dispositions, owner, due "
            "date, amounts, title, violation type, risk, region code, summary; write why in "
            "'note'; a row without a lead id adds a new lead; do not change 'version'. The "
            "English title and summary columns are for reading and are not imported."],
        SHEETS["stats"][1]: [
            "Violations found by the leads",
            f"Counted {stamp}; one lead is one case; the same money can be in a ring's lead "
            "and a rule's lead, so do not add the amounts of the rows."],
        SHEETS["events"][1]: ["Change log of the leads (read-only)",
                              f"Exported {stamp}; {n_events} events."],
    }


def export_workbook(ledger: LeadLedger, path: Path, *, flt: LeadFilter | None = None,
                    leads: Sequence[Lead] | None = None, today: date | None = None,
                    lang: Lang = "zh", texts: Mapping[str, tuple[str, str]] | None = None
                    ) -> Path:
    """Write leads of the ledger to the workbook ``path``: the ledger sheet, statistics (over
    those leads) and the change log (their events only), in ``lang``; see the module
    docstring. Returns ``path``.

    The leads are ``leads`` when given, exactly those in that order (what a caller selected
    beyond :class:`LeadFilter`, e.g. a period: :func:`yibao.leads.period.leads_in_period`),
    else the ledger's leads matching ``flt``; giving both is a :class:`LeadError`. The change
    log holds each lead's events up to the version exported. ``texts``: lead id -> title and
    summary in English (:func:`yibao.leads.from_detection.detection_texts`) for an English
    workbook."""
    if leads is not None and flt is not None:
        raise LeadError("give export_workbook either flt or leads, not both: filter the leads "
                        "first, then pass them", reason="flt_and_leads")
    today = today or ledger.today()
    leads = list(leads) if leads is not None else ledger.leads(flt)
    versions = {lead.lead_id: lead.version for lead in leads}
    # up to each lead's version: leads given as a page showed them may be older than the log
    events = [e for e in ledger.events() if e.version <= versions.get(e.lead_id, 0)]
    stamp = ledger.now().strftime("%Y-%m-%d %H:%M")
    i = 0 if lang == "zh" else 1
    sheets = {SHEETS["ledger"][i]: leads_frame(leads, today, lang=lang, texts=texts),
              SHEETS["stats"][i]: statistics_frame(leads, lang=lang),
              SHEETS["events"][i]: events_frame(events, lang=lang)}
    write_workbook(path, sheets, titles=_sheet_titles(lang, stamp, len(leads), len(events)))
    log.info("exported %d leads and %d events to %s", len(leads), len(events), path)
    return path
