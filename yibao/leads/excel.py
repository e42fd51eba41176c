"""The ledger in Excel: export with Chinese headers, and import a filled ledger back.

:func:`export_workbook` writes three sheets through :func:`yibao.spreadsheet.write_workbook`
(so no value from the data ever becomes a formula):

* **线索台账** — one row per lead with its id and version; the editable columns come first;
* **统计** — the shape of the seeds' self-inspection statistics tables (序号, 违规行为, 违规内容,
  违规例(次)数, 违规金额(万元), 备注), one row per violation type, one lead counted as one case;
* **变更记录** — every event of the exported leads (who, when, from, to, what, note, hash).

:func:`import_workbook` reads the 线索台账 sheet of a filled workbook (python-calamine, behind
the guard of :mod:`loaders.workbook`) and applies its rows in one ledger transaction
(:meth:`~yibao.leads.ledger.LeadLedger.batch`): the accepted rows are saved together, and a
failure on any row (not a refusal: an error nobody foresaw) saves none of them. Each row has
the row's 版本 as the expected version: a row equal to its lead *as it was at
that version* is ``unchanged`` (so rows nobody touched never conflict with changes made since
the export); otherwise its changes
(state moves through the lifecycle, dispositions, owner, due date, amounts, title …; 备注 is the
note recorded with them) are applied, and a lead changed since the export rejects the row with
the conflict message. A row without 线索编号 becomes a new lead (state empty or 待核查). Every
row is reported once: rows in = updated + created + unchanged + rejected, each rejection with
file, sheet, row, column and reason; when a row failed and the import was undone, every row
says so and ``failed_row`` names the row to fix.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from yibao.errors import (
    DataFileError,
    LeadConflictError,
    LeadError,
    LeadNotFoundError,
    LeadTransitionError,
    LedgerImportError,
)
from yibao.leads.audit import encode_value, values_at
from yibao.leads.changes import FIELD_LABELS, LeadEdit, normalise
from yibao.leads.ledger import LeadLedger, LedgerBatch
from yibao.leads.lifecycle import DISPOSITIONS, STATES, parse_state
from yibao.leads.model import (
    LINK_KINDS,
    RISKS,
    SOURCES,
    Lead,
    LeadDraft,
    LeadEvent,
    LeadFilter,
)
from yibao.leads.violations import parse_violation, violation_label, violation_labels
from yibao.spreadsheet import write_workbook

__all__ = [
    "EVENTS_SHEET",
    "LEDGER_SHEET",
    "STATS_SHEET",
    "ImportReport",
    "RowResult",
    "events_frame",
    "export_workbook",
    "import_workbook",
    "leads_frame",
    "statistics_frame",
]

log = logging.getLogger(__name__)

LEDGER_SHEET = "线索台账"
STATS_SHEET = "统计"
EVENTS_SHEET = "变更记录"

NOTE = "备注"
"""The ledger sheet's column for the note recorded with a row's changes (empty on export)."""

_LINK_CELL_CHARS = 30_000
"""Excel holds at most 32,767 characters in a cell; longer link lists are cut with a count."""


def _h(name: str) -> str:
    return FIELD_LABELS[name][0]


_COLUMNS: tuple[tuple[str, str], ...] = (
    (_h("lead_id"), "lead_id"), (_h("version"), "version"), (_h("state"), "state"),
    (_h("dispositions"), "dispositions"), (_h("owner"), "owner"), (_h("due"), "due"),
    (_h("amount_involved"), "amount_involved"), (_h("amount_recovered"), "amount_recovered"),
    (NOTE, "note"), (_h("title"), "title"), (_h("violation"), "violation"),
    (_h("risk"), "risk"), (_h("risk_score"), "risk_score"), (_h("region"), "region"),
    ("区划名称", "region_name"), (_h("source"), "source"), (_h("source_ref"), "source_ref"),
    (_h("summary"), "summary"), ("逾期", "overdue"), ("提级办理", "needs_escalation"),
    *((_h(kind), kind) for kind in LINK_KINDS),
    (_h("created_at"), "created_at"), (_h("created_by"), "created_by"),
    (_h("updated_at"), "updated_at"), (_h("updated_by"), "updated_by"),
)
"""Ledger sheet header -> what it holds."""

_UPDATABLE = ("title", "summary", "violation", "risk", "risk_score", "owner", "region", "due",
              "amount_involved", "amount_recovered")
"""Fields an import row may change besides the state and dispositions."""

_ACTIONS = {"create": "创建", "transition": "状态变更", "update": "修改", "link": "关联",
            "unlink": "取消关联"}

Outcome = Literal["updated", "created", "unchanged", "rejected"]


def _region_name(code: str | None) -> str:
    if not code:
        return ""
    from yibao.divisions import division, is_known_division

    return division(code).name if is_known_division(code) else ""


def _codes_cell(codes: Sequence[str]) -> str:
    text = ",".join(codes)
    if len(text) <= _LINK_CELL_CHARS:
        return text
    return text[:_LINK_CELL_CHARS].rsplit(",", 1)[0] + f",…(共 {len(codes)} 个)"


def leads_frame(leads: Iterable[Lead], today: date) -> pd.DataFrame:
    """The ledger sheet: one row per lead, Chinese headers, labels in Chinese, amounts in yuan
    (numbers), ``today`` judging 逾期/提级办理."""
    rows = []
    for lead in leads:
        values: dict[str, Any] = {
            "lead_id": lead.lead_id, "version": lead.version, "state": STATES[lead.state][0],
            "dispositions": "、".join(DISPOSITIONS[d][0] for d in lead.dispositions),
            "owner": lead.owner or "", "due": lead.due,
            "amount_involved": float(lead.amount_involved),
            "amount_recovered": float(lead.amount_recovered), "note": "",
            "title": lead.title, "violation": violation_label(lead.violation) if lead.violation
            else "", "risk": RISKS[lead.risk][0], "risk_score": lead.risk_score,
            "region": lead.region or "", "region_name": _region_name(lead.region),
            "source": SOURCES[lead.source][0], "source_ref": lead.source_ref or "",
            "summary": lead.summary, "overdue": "是" if lead.overdue(today) else "",
            "needs_escalation": "是" if lead.needs_escalation(today) else "",
            **{kind: _codes_cell(lead.links(kind)) for kind in LINK_KINDS},
            "created_at": lead.created_at.replace(microsecond=0),
            "created_by": lead.created_by,
            "updated_at": lead.updated_at.replace(microsecond=0),
            "updated_by": lead.updated_by,
        }
        rows.append([values[key] for _, key in _COLUMNS])
    return pd.DataFrame(rows, columns=[header for header, _ in _COLUMNS], dtype=object)


def _wan(yuan: Decimal) -> float:
    return float((yuan / 10_000).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def statistics_frame(leads: Iterable[Lead]) -> pd.DataFrame:
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
        sources = Counter(lead.source for lead in members)
        states = Counter(lead.state for lead in members)
        remark = (
            "来源：" + "、".join(f"{SOURCES[s][0]} {n}" for s, n in sources.most_common())
            + "；状态：" + "、".join(f"{STATES[s][0]} {states[s]}" for s in STATES if states[s])
            + (f"；已追回 {_wan(recovered):.2f} 万元" if recovered else ""))
        rows.append([k, violation_label(key),
                     f"涉及定点医药机构 {len(institutions)} 家、参保人 {len(persons)} 人",
                     len(members), _wan(amount), remark])
    return pd.DataFrame(rows, columns=["序号", "违规行为", "违规内容", "违规例(次)数",
                                       "违规金额(万元)", "备注"], dtype=object)


def _label(name: str) -> str:
    return FIELD_LABELS.get(name, (name, name))[0]


def _shown(value: object) -> str:
    if value is None or value == "" or value == []:
        return "空"
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, str) and value in STATES:
        return STATES[value][0]
    return str(value)


def _event_text(event: LeadEvent) -> str:
    if event.action == "create":
        return "创建线索"
    parts = []
    for c in event.changes:
        if event.action == "link":
            parts.append(f"{_label(c.field)} +{_shown(c.new)}")
        elif event.action == "unlink":
            parts.append(f"{_label(c.field)} -{_shown(c.old)}")
        else:
            parts.append(f"{_label(c.field)}: {_shown(c.old)} → {_shown(c.new)}")
    return "；".join(parts)


def events_frame(events: Iterable[LeadEvent]) -> pd.DataFrame:
    """The change log sheet: one row per event, in order."""
    rows = [[e.seq, e.lead_id, e.version, e.at.replace(microsecond=0), e.by,
             _ACTIONS[e.action], STATES[e.from_state][0] if e.from_state else "",
             STATES[e.to_state][0] if e.to_state else "", _event_text(e), e.note, e.hash]
            for e in events]
    return pd.DataFrame(rows, columns=["序号", "线索编号", "版本", "时间", "操作人", "操作",
                                       "原状态", "新状态", "变更内容", "说明", "哈希"],
                        dtype=object)


def export_workbook(ledger: LeadLedger, path: Path, *, flt: LeadFilter | None = None,
                    leads: Sequence[Lead] | None = None, today: date | None = None) -> Path:
    """Write leads of the ledger to the workbook ``path``: 线索台账, 统计 (over those leads) and
    变更记录 (their events only); see the module docstring. Returns ``path``.

    The leads are ``leads`` when given, exactly those in that order (what a caller selected
    beyond :class:`LeadFilter`, e.g. a period: :func:`yibao.leads.period.leads_in_period`),
    else the ledger's leads matching ``flt``; giving both is a :class:`LeadError`. The change
    log holds each lead's events up to the version exported."""
    if leads is not None and flt is not None:
        raise LeadError("give export_workbook either flt or leads, not both: filter the leads "
                        "first, then pass them", reason="flt_and_leads")
    today = today or ledger.today()
    leads = list(leads) if leads is not None else ledger.leads(flt)
    versions = {lead.lead_id: lead.version for lead in leads}
    # up to each lead's version: leads given as a page showed them may be older than the log
    events = [e for e in ledger.events() if e.version <= versions.get(e.lead_id, 0)]
    stamp = ledger.now().strftime("%Y-%m-%d %H:%M")
    titles = {
        LEDGER_SHEET: [
            "医保基金监管线索台账",
            f"导出时间：{stamp}；共 {len(leads)} 条。可修改：状态、处理方式、责任人、办结期限、"
            "金额、标题、违规类型、风险等级、区划代码、摘要；修改说明填在“备注”；"
            "“线索编号”为空的行将新增线索；请勿修改“版本”。"],
        STATS_SHEET: [
            "医保基金监管线索违规情况统计表",
            f"统计时间：{stamp}；每条线索计 1 例；同一笔基金可能同时出现在团伙线索与规则线索中，"
            "各行金额不宜相加。"],
        EVENTS_SHEET: ["线索变更记录（不可修改）", f"导出时间：{stamp}；共 {len(events)} 条。"],
    }
    sheets = {LEDGER_SHEET: leads_frame(leads, today), STATS_SHEET: statistics_frame(leads),
              EVENTS_SHEET: events_frame(events)}
    write_workbook(path, sheets, titles=titles)
    log.info("exported %d leads and %d events to %s", len(leads), len(events), path)
    return path


# -- import ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowResult:
    """What became of one row: ``outcome`` and, for a rejected row, the ``column`` at fault and
    the ``reason`` (nothing of a rejected row was saved)."""

    path: str
    sheet: str
    row: int
    lead_id: str | None
    outcome: Outcome
    column: str | None = None
    reason: str = ""

    def __str__(self) -> str:
        where = f"{self.path} [{self.sheet}] row {self.row}"
        if self.column:
            where += f", column {self.column}"
        return f"{where}: {self.outcome}" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class ImportReport:
    """Every data row of the sheet, once: ``rows_in == updated + created + unchanged +
    rejected``. ``failed_row``: the Excel row whose failure undid the whole import (then every
    row is rejected and nothing was saved), else ``None``."""

    path: str
    rows: tuple[RowResult, ...]
    failed_row: int | None = None

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def rows_in(self) -> int:
        return len(self.rows)

    @property
    def rejected(self) -> tuple[RowResult, ...]:
        return tuple(r for r in self.rows if r.outcome == "rejected")

    def summary(self) -> dict[str, int]:
        return {"rows": self.rows_in, **{o: self.count(o) for o in
                                         ("updated", "created", "unchanged", "rejected")}}


class _RowError(Exception):
    def __init__(self, column: str | None, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def _cell(value: object) -> object:
    """A cell as calamine gives it, made ready for :func:`normalise`: whole floats as ints
    (a division code typed as a number), blank text as ``None``."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, str):
        return value.strip() or None
    return value


def _read_sheet(path: Path) -> tuple[int, list[str], list[tuple[int, list[object]]]]:
    """The header row number, the headers and the data rows (Excel row number, cells).

    Read through :func:`loaders.workbook.read_sheet`: a workbook declaring a billion empty
    cells is refused before python-calamine would allocate them (and abort the process).
    """
    from loaders.workbook import read_sheet, sheet_names

    try:
        names = sheet_names(path)
        if LEDGER_SHEET not in names:
            raise LedgerImportError(
                f"no sheet {LEDGER_SHEET!r} (found: {', '.join(names)}): import a workbook "
                "exported with 'yibao leads export'", path=str(path), reason="no_sheet",
                value=names)
        rows = read_sheet(path, sheet=LEDGER_SHEET, alternative=None)
    except DataFileError as exc:
        detail = str(exc).removeprefix(f"{exc.path}: ")
        raise LedgerImportError(detail, path=str(path), reason="unreadable",
                                value=detail) from exc
    key = _h("lead_id")
    for k, cells in enumerate(rows[:20]):
        headers = ["" if c is None else str(c).strip() for c in cells]
        if key in headers:
            data: list[tuple[int, list[object]]] = [
                (k + 2 + j, list(r)) for j, r in enumerate(rows[k + 1:])]
            return k + 1, headers, data
    raise LedgerImportError(f"no header row with {key!r} in the first 20 rows of sheet "
                            f"{LEDGER_SHEET!r}: keep the exported header row", path=str(path),
                            reason="no_header")


def _aliases() -> dict[str, str]:
    """Header text -> column key: the Chinese headers, also the English labels and keys."""
    out: dict[str, str] = {}
    for header, key in _COLUMNS:
        out[header] = key
        out[key] = key
        if key in FIELD_LABELS:
            out[FIELD_LABELS[key][1]] = key
    out["note"] = "note"
    return out


def _wanted(cells: dict[str, object], *, new: bool) -> dict[str, Any]:
    """The row's values, checked and typed (``_RowError`` names the column at fault)."""
    headers = {key: header for header, key in _COLUMNS}
    wanted: dict[str, Any] = {}
    names = [*_UPDATABLE, "dispositions", "state"]
    if new:
        names += ["source", "source_ref", *LINK_KINDS]
    for name in names:
        if name not in cells:
            continue
        value = cells[name]
        if new and value is None and name in ("risk", "due"):
            continue  # a new lead's defaults: medium risk, due by its risk
        try:
            if name == "state":
                if value is not None:
                    wanted[name] = parse_state(str(value))
            elif name == "violation":
                wanted[name] = parse_violation(value)
            elif name == "source" and value is None:
                wanted[name] = "manual"
            else:
                wanted[name] = normalise(name, value)
        except LeadError as exc:
            raise _RowError(headers[name], str(exc)) from exc
    return wanted


def _column_of(message: str) -> str:
    """The ledger column a refusal is about (the first field label in the message)."""
    for header, key in _COLUMNS:
        if key in FIELD_LABELS and f"{header} (" in message:
            return header
    if "disposition" in message:
        return _h("dispositions")
    return _h("state")


def _create(ledger: LedgerBatch, wanted: dict[str, Any], by: str, note: str) -> Lead:
    state = wanted.pop("state", "pending")
    if state != "pending":
        raise _RowError(_h("state"), "a new lead starts 待核查 (pending): leave 状态 empty, "
                        "import, then move it on in the next import")
    for name in ("amount_recovered", "dispositions"):
        if wanted.pop(name, None):
            raise _RowError(_h(name), f"a new lead has no {_h(name)} yet: leave it empty")
    if "title" not in wanted:
        raise _RowError(_h("title"), "a new lead needs a title (标题)")
    try:
        return ledger.add(LeadDraft(**wanted), by=by, note=note)
    except LeadConflictError as exc:
        raise _RowError(_h("source_ref"), str(exc)) from exc
    except LeadError as exc:
        raise _RowError(_column_of(str(exc)), str(exc)) from exc


def _update(ledger: LedgerBatch, lead_id: str, version: object, wanted: dict[str, Any], by: str,
            note: str) -> Lead | None:
    """Apply the row to its lead; ``None`` when it equals the lead at the row's version."""
    if isinstance(version, str) and version.isdigit():
        version = int(version)
    if not isinstance(version, int) or version < 1:
        raise _RowError(_h("version"), f"版本 {version!r} must be the whole number exported "
                        "with the lead: export again and edit that file")
    history = ledger.history(lead_id)
    if not history:
        raise _RowError(_h("lead_id"), f"no lead {lead_id!r} in the ledger: clear 线索编号 to "
                        "add the row as a new lead, or fix the id")
    if version > history[-1].version:
        raise _RowError(_h("version"), f"lead {lead_id} has no version {version} (it is at "
                        f"{history[-1].version}): do not edit 版本")
    base = values_at(history, version)
    changed = {k: v for k, v in wanted.items() if encode_value(v) != base.get(k)}
    if not changed:
        return None
    state = changed.pop("state", None)
    dispositions = changed.pop("dispositions", None)
    edit = LeadEdit(fields=changed, to_state=state, dispositions=dispositions, multi_step=True)
    try:
        return ledger.edit(lead_id, edit, expected_version=version, by=by, note=note)
    except LeadConflictError as exc:
        raise _RowError(_h("version"), str(exc)) from exc
    except LeadNotFoundError as exc:
        raise _RowError(_h("lead_id"), str(exc)) from exc
    except LeadTransitionError as exc:
        column = _h("dispositions") if "disposition" in str(exc) else _h("state")
        raise _RowError(column, str(exc)) from exc
    except LeadError as exc:
        raise _RowError(_column_of(str(exc)), str(exc)) from exc


_UNDONE = "导入已整体撤销，未保存任何行 / the whole import was undone, nothing was saved"


def _undone(results: Sequence[RowResult], pending: Sequence[tuple[int, str | None]],
            failed: RowResult) -> list[RowResult]:
    """Every row rejected after row ``failed.row`` failed: the rows before it (what they would
    have been), the failed row, and the rows not reached."""
    out: list[RowResult] = []
    for r in results:
        if r.outcome == "rejected":
            out.append(r)
        else:
            out.append(dataclasses.replace(
                r, outcome="rejected", column=None,
                reason=f"would be {r.outcome}, not saved: row {failed.row} failed; {_UNDONE}"))
    out.append(failed)
    for row, lead_id in pending:
        out.append(RowResult(failed.path, failed.sheet, row, lead_id, "rejected", None,
                             f"not checked: row {failed.row} failed; {_UNDONE}"))
    return out


def import_workbook(ledger: LeadLedger, path: Path, *, by: str) -> ImportReport:
    """Apply the 线索台账 sheet of the workbook ``path`` to ``ledger`` in one transaction (see
    the module docstring); :class:`LedgerImportError` when the sheet cannot be read at all."""
    header_row, headers, data = _read_sheet(path)
    aliases = _aliases()
    keys = [aliases.get(h) for h in headers]
    if "version" not in keys:
        raise LedgerImportError(f"the header row (row {header_row}) has no {_h('version')!r} "
                                "column: keep the exported columns", path=str(path),
                                reason="no_version_column", value=header_row)
    rows: list[tuple[int, str | None, dict[str, object]]] = []
    for excel_row, cells in data:
        values = {key: _cell(cells[i]) for i, key in enumerate(keys)
                  if key is not None and i < len(cells)}
        if all(v is None for v in values.values()):
            continue
        lead_id = values.get("lead_id")
        rows.append((excel_row, str(lead_id) if lead_id is not None else None, values))
    failure: list[tuple[list[RowResult], int, BaseException]] = []

    def apply(batch: LedgerBatch) -> list[RowResult]:
        failure.clear()
        results: list[RowResult] = []
        for k, (excel_row, lead_id, values) in enumerate(rows):
            def result(outcome: Outcome, column: str | None = None, reason: str = "",
                       lead: str | None = lead_id, row: int = excel_row) -> RowResult:
                return RowResult(str(path), LEDGER_SHEET, row, lead, outcome, column, reason)

            note = str(values.get("note") or "")
            try:
                wanted = _wanted(values, new=lead_id is None)
                if lead_id is None:
                    lead = _create(batch, wanted, by, note)
                    results.append(result("created", lead=lead.lead_id))
                elif _update(batch, lead_id, values.get("version"), wanted, by, note) is None:
                    results.append(result("unchanged"))
                else:
                    results.append(result("updated"))
            except _RowError as exc:
                results.append(result("rejected", exc.column, exc.reason))
            except Exception as exc:  # undo the whole import, then report every row
                failure[:] = [(results, k, exc)]
                raise
        return results

    try:
        results = ledger.batch(apply)
        failed_row = None
    except Exception as exc:
        if not failure:
            raise
        done, k, error = failure[0]
        failed_row = rows[k][0]
        log.error("import of %s undone: row %d failed", path, failed_row, exc_info=exc)
        failed = RowResult(str(path), LEDGER_SHEET, failed_row, rows[k][1], "rejected", None,
                           f"{type(error).__name__}: {error}; {_UNDONE}: fix this row and "
                           "import the file again")
        results = _undone(done, [(r, lead) for r, lead, _ in rows[k + 1:]], failed)
    report = ImportReport(str(path), tuple(results), failed_row)
    log.info("imported %s: %s", path, report.summary())
    return report
