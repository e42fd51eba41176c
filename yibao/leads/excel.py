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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

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
from yibao.leads.excel_export import (
    COLUMNS,
    EVENTS_SHEET,
    LEDGER_SHEET,
    LEDGER_SHEETS,
    NOTE,
    STATS_SHEET,
    column_header,
    events_frame,
    export_workbook,
    leads_frame,
    statistics_frame,
)
from yibao.leads.ledger import LeadLedger, LedgerBatch
from yibao.leads.lifecycle import parse_state
from yibao.leads.model import LINK_KINDS, Lead, LeadDraft
from yibao.leads.violations import parse_violation

__all__ = [
    "EVENTS_SHEET",
    "LEDGER_SHEET",
    "NOTE",
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


def _h(name: str) -> str:
    return column_header(name, "zh")


_COLUMNS: tuple[tuple[str, str], ...] = tuple((_h(key), key) for key in COLUMNS)
"""Ledger sheet header (Chinese) -> what it holds."""

_UPDATABLE = ("title", "summary", "violation", "risk", "risk_score", "owner", "region", "due",
              "amount_involved", "amount_recovered")
"""Fields an import row may change besides the state and dispositions."""

Outcome = Literal["updated", "created", "unchanged", "rejected"]


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


def _read_sheet(path: Path) -> tuple[str, int, list[str], list[tuple[int, list[object]]]]:
    """The ledger sheet's name (Chinese or English), its header row number, the headers and
    the data rows (Excel row number, cells).

    Read through :func:`loaders.workbook.read_sheet`: a workbook declaring a billion empty
    cells is refused before python-calamine would allocate them (and abort the process).
    """
    from loaders.workbook import read_sheet, sheet_names

    try:
        names = sheet_names(path)
        sheet = next((name for name in LEDGER_SHEETS if name in names), None)
        if sheet is None:
            raise LedgerImportError(
                f"no sheet {LEDGER_SHEET!r} (found: {', '.join(names)}): import a workbook "
                "exported with 'yibao leads export'", path=str(path), reason="no_sheet",
                value=names)
        rows = read_sheet(path, sheet=sheet, alternative=None)
    except DataFileError as exc:
        detail = str(exc).removeprefix(f"{exc.path}: ")
        raise LedgerImportError(detail, path=str(path), reason="unreadable",
                                value=detail) from exc
    key = _h("lead_id")
    keys = {key, column_header("lead_id", "en")}
    for k, cells in enumerate(rows[:20]):
        headers = ["" if c is None else str(c).strip() for c in cells]
        if keys & set(headers):
            data: list[tuple[int, list[object]]] = [
                (k + 2 + j, list(r)) for j, r in enumerate(rows[k + 1:])]
            return sheet, k + 1, headers, data
    raise LedgerImportError(f"no header row with {key!r} in the first 20 rows of sheet "
                            f"{LEDGER_SHEET!r}: keep the exported header row", path=str(path),
                            reason="no_header")


def _aliases() -> dict[str, str]:
    """Header text -> column key: the Chinese and English headers and the keys (the English
    title and summary columns are for reading: not imported)."""
    out: dict[str, str] = {}
    for key in COLUMNS:
        out[column_header(key, "zh")] = key
        out[column_header(key, "en")] = key
        out[key] = key
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
    sheet, header_row, headers, data = _read_sheet(path)
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
                return RowResult(str(path), sheet, row, lead, outcome, column, reason)

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
        failed = RowResult(str(path), sheet, failed_row, rows[k][1], "rejected", None,
                           f"{type(error).__name__}: {error}; {_UNDONE}: fix this row and "
                           "import the file again")
        results = _undone(done, [(r, lead) for r, lead, _ in rows[k + 1:]], failed)
    report = ImportReport(str(path), tuple(results), failed_row)
    log.info("imported %s: %s", path, report.summary())
    return report
