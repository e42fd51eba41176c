"""The leads ledger (线索台账): one interface, kept in SQLite beside the store or in Neo4j.

:class:`LeadLedger` holds every rule of the ledger: the lifecycle, field checks, audit events
and their hash chain, optimistic concurrency. Its two implementations only store and fetch:

* :class:`yibao.leads.sqlite_ledger.SqliteLedger` (the embedded default, a SQLite file beside
  the DuckDB store);
* :class:`yibao.leads.neo4j_ledger.Neo4jLedger` (``(:Lead)`` and ``(:LeadEvent)`` nodes on the
  Neo4j server of the ``neo4j`` backend).

Every write names the ``expected_version`` the user saw. Inside one storage transaction the
ledger reads the lead, refuses with :class:`~yibao.errors.LeadConflictError` (who changed it,
when, what; reload) when its version differs, plans the change, writes the lead only where its
version is still the expected one, and appends the events. So two investigators editing the same
lead from the same version never overwrite each other: one wins, the other is told.

:func:`open_ledger` chooses the storage like :func:`backends.base.open_backend`: the explicit
``backend`` argument, then ``settings.backend`` (``YIBAO_BACKEND``), then embedded.

Events are sealed with the key of :mod:`yibao.leads.seal` (``YIBAO_LEDGER_KEY``; created on
the first write), and after every write the new head is checkpointed to the audit log and the
anchor file of the ledger's :class:`~yibao.leads.seal.SealOptions`, so :meth:`LeadLedger.verify`
also finds a deleted tail. :meth:`LeadLedger.batch` runs many adds and edits (an Excel import)
in one transaction: all of them are saved, or none.
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol, TypeVar

from yibao.errors import (
    LeadConflictError,
    LeadError,
    LeadNotFoundError,
    YibaoError,
)
from yibao.leads.audit import VerifyReport, verify_ledger
from yibao.leads.changes import (
    FIELD_LABELS,
    LeadEdit,
    apply_steps,
    create_event,
    lead_from_draft,
    plan_edit,
)
from yibao.leads.lifecycle import Disposition, State, state_label
from yibao.leads.model import Lead, LeadDraft, LeadEvent, LeadFilter, LinkKind, Source
from yibao.leads.seal import ChainKey, SealOptions, checkpoint_ledger, checkpoints_for, load_key
from yibao.settings import Settings

__all__ = [
    "AddReport",
    "Clock",
    "LeadLedger",
    "LedgerBatch",
    "LedgerTransaction",
    "OrderBy",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Where the ledger gets "now" (naive local time); tests pass a fixed one."""

OrderBy = Literal["lead_id", "due", "risk", "amount", "updated"]

T = TypeVar("T")

_RISK_ORDER = {"high": 0, "medium": 1, "low": 2}


def _now() -> datetime:
    return datetime.now()


@dataclass(frozen=True)
class AddReport:
    """What :meth:`LeadLedger.add_many` did: the leads ``created``, and the ids of the leads
    that already held a draft's source reference (``existing``, nothing added for them)."""

    created: tuple[Lead, ...]
    existing: tuple[str, ...]


class LedgerTransaction(Protocol):
    """What a storage offers inside one write transaction (the implementations' contract)."""

    def lead(self, lead_id: str) -> Lead | None:
        """The lead as committed now (``None``: no such lead)."""

    def existing_refs(self, source: Source, refs: Sequence[str]) -> dict[str, str]:
        """Source reference -> lead id, for those of ``refs`` that a lead of ``source`` holds."""

    def events_after(self, lead_id: str, version: int) -> list[LeadEvent]:
        """The lead's events after ``version``, oldest first."""

    def head(self) -> tuple[int, str]:
        """The last event's sequence number and hash (``0`` and the genesis hash at first)."""

    def take_numbers(self, year: int, n: int) -> int:
        """Reserve ``n`` lead numbers of ``year``; the first of them."""

    def insert_leads(self, leads: Sequence[Lead]) -> None:
        """Store new leads (their links too)."""

    def update_lead(self, lead: Lead, expected_version: int) -> bool:
        """Store ``lead`` where the stored one still has ``expected_version``; False when not."""

    def append_events(self, events: Sequence[LeadEvent]) -> None:
        """Append events (they continue the chain from :meth:`head`)."""


def _who(by: str) -> str:
    who = (by or "").strip()
    if not who:
        raise LeadError("say who makes the change: by=NAME (the investigator's name or user id)",
                        reason="no_user")
    return who


def _listed(value: object) -> str:
    return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)


def _describe(event: LeadEvent) -> str:
    parts = []
    if event.from_state and event.to_state and event.action == "transition":
        parts.append(f"{state_label(event.from_state)} → {state_label(event.to_state)}")
    for c in event.changes:
        if c.field == "state":
            continue
        label = FIELD_LABELS.get(c.field, (c.field, c.field))[0]
        if event.action == "link":
            parts.append(f"{label} +{_listed(c.new)}")
        elif event.action == "unlink":
            parts.append(f"{label} -{_listed(c.old)}")
        elif event.action != "create":
            parts.append(f"{label}: {c.old!r} → {c.new!r}")
    return "; ".join(parts) or event.action


def _conflict_error(lead: Lead, expected_version: int, changed: Sequence[LeadEvent]
                   ) -> LeadConflictError:
    """The error for a write based on ``expected_version`` of a lead now at ``lead.version``:
    who changed it, when and to what, and to reload (reason ``"changed"``, the events on it as
    ``changes``; ``"version"`` when no event explains the difference)."""
    if changed:
        what = " | ".join(
            f"v{e.version} by {e.by} at {e.at:%Y-%m-%d %H:%M:%S}: {_describe(e)}"
            for e in changed[-3:])
        more = f" (and {len(changed) - 3} earlier changes)" if len(changed) > 3 else ""
        said = f"was changed after version {expected_version} that you saw{more}: {what}"
    else:
        said = f"is at version {lead.version}, not version {expected_version} that you gave"
    return LeadConflictError(
        f"lead {lead.lead_id} {said}. Nothing of your change was saved: reload the lead "
        f"(now version {lead.version}, {state_label(lead.state)}) and apply your change again",
        lead_id=lead.lead_id, expected_version=expected_version, current_version=lead.version,
        changes=tuple(changed), reason="changed" if changed else "version", state=lead.state)


def _created_one(draft: LeadDraft, report: AddReport) -> Lead:
    """The lead created for ``draft``; :class:`LeadConflictError` (reason ``"duplicate"``)
    when its source reference already had one."""
    if report.created:
        return report.created[0]
    raise LeadConflictError(
        f"{draft.source} {draft.source_ref!r} already has lead {report.existing[0]}: open "
        "that lead instead of creating another", lead_id=report.existing[0],
        reason="duplicate", field="source_ref", value=draft.source_ref)


def _sort_leads(leads: Iterable[Lead], order_by: OrderBy = "lead_id") -> list[Lead]:
    """Leads in a stable order: by id; by due date (none last); by risk (high first, then
    score); by amount involved (largest first); by last update (newest first)."""
    rows = sorted(leads, key=lambda lead: lead.lead_id)
    if order_by == "due":
        rows.sort(key=lambda lead: (lead.due is None, lead.due or date.min))
    elif order_by == "risk":
        rows.sort(key=lambda lead: (_RISK_ORDER[lead.risk], -(lead.risk_score or 0.0)))
    elif order_by == "amount":
        rows.sort(key=lambda lead: -lead.amount_involved)
    elif order_by == "updated":
        rows.sort(key=lambda lead: lead.updated_at, reverse=True)
    elif order_by != "lead_id":
        raise LeadError(f"cannot order leads by {order_by!r}: use lead_id, due, risk, amount "
                        "or updated", reason="unknown_choice", value=order_by,
                        allowed=("lead_id", "due", "risk", "amount", "updated"))
    return rows


class LeadLedger(abc.ABC):
    """The leads ledger (see the module docstring). Close it when done, or use it as a context
    manager. Safe to share between threads: every call opens its own storage transaction."""

    name: str = ""

    def __init__(self, *, clock: Clock | None = None, seal: SealOptions | None = None) -> None:
        self._clock = clock or _now
        self._seal = seal
        self._key: ChainKey | None = None
        self._key_lock = threading.Lock()

    # -- the seal (key and checkpoints) --------------------------------------------------

    @property
    def target(self) -> str:
        """The name checkpoints give this ledger (its file, or its server ledger)."""
        return self.name

    def _default_seal(self) -> SealOptions:
        return SealOptions.from_settings(Settings.from_env(), audit=False)

    @property
    def seal(self) -> SealOptions:
        """Where this ledger's key is and where its checkpoints go."""
        return self._seal or self._default_seal()

    def _chain_key(self) -> ChainKey:
        """The key sealing new events (its file created on first use)."""
        with self._key_lock:
            if self._key is None:
                self._key = load_key(self.seal.key_path, create=True)
            assert self._key is not None
            return self._key

    def _commit(self, work: Callable[[LedgerTransaction, ChainKey], T]) -> T:
        """:meth:`_write` ``work`` with the key; then checkpoint the new head, if it moved
        (a checkpoint that cannot be written is logged: the write itself is saved)."""
        key = self._chain_key()
        heads: list[tuple[int, str]] = []

        def sealed(tx: LedgerTransaction) -> T:
            heads[:] = [tx.head()]
            out = work(tx, key)
            heads.append(tx.head())
            return out

        out = self._write(sealed)
        if len(heads) == 2 and heads[1] != heads[0]:
            try:
                checkpoint_ledger(self.seal, key, self.target, *heads[1])
            except (YibaoError, OSError) as exc:
                log.warning("ledger %s: the checkpoint of event #%d was not written (%s): "
                            "check that the audit log and anchor file are writable",
                            self.target, heads[1][0], exc)
        return out

    # -- storage (what implementations provide) ------------------------------------------

    @abc.abstractmethod
    def _transaction(self) -> AbstractContextManager[LedgerTransaction]:
        """One write transaction: committed when the block ends, rolled back when it raises."""

    def _write(self, work: Callable[[LedgerTransaction], T]) -> T:
        """Run ``work`` in one write transaction (a storage may retry it when the transaction
        collided with another one; ``work`` re-reads, so a retry sees the other's result)."""
        with self._transaction() as tx:
            return work(tx)

    @abc.abstractmethod
    def get(self, lead_id: str) -> Lead:
        """The lead ``lead_id``; :class:`LeadNotFoundError` when there is none."""

    @abc.abstractmethod
    def find(self, source: Source, source_ref: str) -> Lead | None:
        """The lead made from ``source_ref`` of ``source`` (a ring id, a trace code …), if any."""

    @abc.abstractmethod
    def _select(self, flt: LeadFilter, today: date) -> list[Lead]:
        """The leads matching ``flt`` (any order)."""

    @abc.abstractmethod
    def history(self, lead_id: str) -> list[LeadEvent]:
        """Every event of the lead, oldest first (empty for an unknown id)."""

    @abc.abstractmethod
    def events(self, *, after_seq: int = 0, limit: int | None = None) -> list[LeadEvent]:
        """The ledger's events after sequence number ``after_seq``, in order."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the storage's connections."""

    def __enter__(self) -> LeadLedger:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- reading -------------------------------------------------------------------------

    def now(self) -> datetime:
        """The ledger's clock."""
        return self._clock()

    def today(self) -> date:
        """Today by the ledger's clock (what overdue is judged on)."""
        return self._clock().date()

    def leads(self, flt: LeadFilter | None = None, *, order_by: OrderBy = "lead_id"
              ) -> list[Lead]:
        """The leads matching ``flt`` (all by default), ordered by ``order_by``."""
        flt = flt or LeadFilter()
        return _sort_leads(self._select(flt, flt.today or self.today()), order_by)

    def overdue(self, today: date | None = None) -> list[Lead]:
        """Leads past their due date and not closed, the longest overdue first."""
        return self.leads(LeadFilter(overdue=True, today=today), order_by="due")

    def escalations(self, today: date | None = None) -> list[Lead]:
        """提级办理: overdue high-risk leads, the longest overdue first."""
        return self.leads(LeadFilter(needs_escalation=True, today=today), order_by="due")

    def verify(self, *, anchors: Sequence[Path] = ()) -> VerifyReport:
        """Check the event chain, its head against every checkpoint in the audit log, the
        anchor file and ``anchors``, and that every lead matches its history
        (:func:`yibao.leads.audit.verify_ledger`). Never creates the key: keyed events and no
        key file raise :class:`~yibao.errors.SettingsError`."""
        seal = self.seal
        key = self._key or load_key(seal.key_path, create=False)
        sources = [p for p in (seal.audit_path, seal.anchor_path, *anchors) if p is not None]
        points, problems = checkpoints_for(self.target, key, sources)
        return verify_ledger(self.events(), self.leads(), key=key, checkpoints=points,
                             checkpoint_problems=problems)

    def batch(self, work: Callable[[LedgerBatch], T]) -> T:
        """Run ``work`` with a :class:`LedgerBatch` whose adds and edits all happen in one
        transaction: saved together when ``work`` returns, none of them when it raises. A
        refusal ``work`` catches (a conflict, a bad value) changes nothing by itself: every
        check runs before anything of that call is written. ``work`` may run again when the
        storage retries a collided transaction."""
        return self._commit(lambda tx, key: work(LedgerBatch(self, tx, key)))

    # -- writing -------------------------------------------------------------------------

    def add(self, draft: LeadDraft, *, by: str, note: str = "") -> Lead:
        """Create one lead from ``draft`` (待核查 pending, version 1); a draft whose source
        reference already has a lead raises :class:`LeadConflictError` naming that lead
        (reason ``"duplicate"``, ``value`` the source reference)."""
        report = self.add_many([draft], by=by, note=note)
        return _created_one(draft, report)

    def add_many(self, drafts: Iterable[LeadDraft], *, by: str, note: str = "") -> AddReport:
        """Create a lead for every draft whose source reference has none yet, all in one
        transaction (all or none); drafts repeating a reference add nothing."""
        who = _who(by)
        items = list(drafts)
        at = self._clock()
        report = self._commit(lambda tx, key: self._add_in(tx, key, items, who, note, at))
        log.info("ledger %s: %d leads created, %d existing", self.name, len(report.created),
                 len(report.existing))
        return report

    def edit(self, lead_id: str, edit: LeadEdit, *, expected_version: int, by: str,
             note: str = "") -> Lead:
        """Apply ``edit`` to the lead at ``expected_version`` in one transaction (see
        :mod:`yibao.leads.changes`); the lead after it (unchanged, with no event, when nothing
        changes). Raises :class:`LeadConflictError` when the lead is no longer at
        ``expected_version``, :class:`~yibao.errors.LeadTransitionError` for a move the
        lifecycle does not allow, :class:`LeadError` for a bad value."""
        who = _who(by)
        return self._commit(lambda tx, key: self._edit_in(tx, key, lead_id, edit,
                                                          expected_version, who, note))

    def transition(self, lead_id: str, to: State, *, expected_version: int, by: str,
                   note: str = "", dispositions: Sequence[Disposition] = (),
                   amount_recovered: Decimal | int | str | None = None) -> Lead:
        """Move the lead to the next state ``to`` (待核查 → 核查中 → 查实/排除 → 处理 → 已结案);
        moving to 处理 (handling) needs ``dispositions``; ``amount_recovered`` (yuan) may be
        recorded on the way (from 查实 on)."""
        fields = {} if amount_recovered is None else {"amount_recovered": amount_recovered}
        return self.edit(lead_id, LeadEdit(fields=fields, to_state=to,
                                           dispositions=tuple(dispositions) or None),
                         expected_version=expected_version, by=by, note=note)

    def update(self, lead_id: str, fields: Mapping[str, object], *, expected_version: int,
               by: str, note: str = "") -> Lead:
        """Change fields of the lead (any of :data:`yibao.leads.changes.EDITABLE`)."""
        return self.edit(lead_id, LeadEdit(fields=fields), expected_version=expected_version,
                         by=by, note=note)

    def link(self, lead_id: str, kind: LinkKind, codes: Iterable[str], *,
             expected_version: int, by: str, note: str = "", remove: bool = False) -> Lead:
        """Link the lead to persons, institutions, practitioners or rings (``remove``: unlink)."""
        moves = {kind: tuple(codes)}
        edit = LeadEdit(unlink=moves) if remove else LeadEdit(link=moves)
        return self.edit(lead_id, edit, expected_version=expected_version, by=by, note=note)


    # -- one write, inside a transaction -------------------------------------------------

    def _add_in(self, tx: LedgerTransaction, key: ChainKey, items: Sequence[LeadDraft],
                who: str, note: str, at: datetime) -> AddReport:
        known: dict[tuple[str, str], str] = {}
        by_source: dict[Source, list[str]] = {}
        for d in items:
            if d.source_ref:
                by_source.setdefault(d.source, []).append(d.source_ref)
        for source, refs in by_source.items():
            for ref, lead_id in tx.existing_refs(source, sorted(set(refs))).items():
                known[source, ref] = lead_id
        fresh: list[LeadDraft] = []
        seen: set[tuple[str, str]] = set()
        existing: list[str] = []
        for d in items:
            pair = (d.source, d.source_ref or "")
            if d.source_ref and pair in known:
                existing.append(known[pair])
            elif not d.source_ref or pair not in seen:
                seen.add(pair)
                fresh.append(d)
        if not fresh:
            return AddReport((), tuple(existing))
        # checked before a number is taken, so a refused draft writes nothing
        checked = [lead_from_draft(d, lead_id="", at=at, by=who) for d in fresh]
        first = tx.take_numbers(at.year, len(fresh))
        leads = [replace(lead, lead_id=f"XS-{at.year}-{first + k:06d}")
                 for k, lead in enumerate(checked)]
        seq, prev = tx.head()
        events = []
        for k, lead in enumerate(leads, start=1):
            event = create_event(lead, seq=seq + k, note=note, prev_hash=prev, key=key)
            events.append(event)
            prev = event.hash
        tx.insert_leads(leads)
        tx.append_events(events)
        return AddReport(tuple(leads), tuple(existing))

    def _edit_in(self, tx: LedgerTransaction, key: ChainKey, lead_id: str, edit: LeadEdit,
                 expected_version: int, who: str, note: str) -> Lead:
        lead = tx.lead(lead_id)
        if lead is None:
            raise LeadNotFoundError(f"no lead {lead_id!r} in the ledger: check the id "
                                    "(XS-YEAR-NUMBER) or list the leads",
                                    reason="not_found", lead_id=lead_id)
        if lead.version != expected_version:
            raise _conflict_error(lead, expected_version,
                                  tx.events_after(lead_id, expected_version))
        steps = plan_edit(lead, edit)
        if not steps:
            return lead
        seq, prev = tx.head()
        new, events = apply_steps(lead, steps, at=self._clock(), by=who, note=note,
                                  seq=seq, prev_hash=prev, key=key)
        if not tx.update_lead(new, expected_version):
            now = tx.lead(lead_id) or lead
            raise _conflict_error(now, expected_version,
                                  tx.events_after(lead_id, expected_version))
        tx.append_events(events)
        return new


class LedgerBatch:
    """Adds and edits inside one transaction of :meth:`LeadLedger.batch` (each call sees what
    the calls before it did; nothing is saved before the batch ends)."""

    def __init__(self, ledger: LeadLedger, tx: LedgerTransaction, key: ChainKey) -> None:
        self._ledger = ledger
        self._tx = tx
        self._key = key

    def history(self, lead_id: str) -> list[LeadEvent]:
        """Every event of the lead so far, oldest first (empty for an unknown id)."""
        return self._tx.events_after(lead_id, 0)

    def add(self, draft: LeadDraft, *, by: str, note: str = "") -> Lead:
        """As :meth:`LeadLedger.add`, inside the batch."""
        report = self._ledger._add_in(self._tx, self._key, [draft], _who(by), note,
                                      self._ledger.now())
        return _created_one(draft, report)

    def edit(self, lead_id: str, edit: LeadEdit, *, expected_version: int, by: str,
             note: str = "") -> Lead:
        """As :meth:`LeadLedger.edit`, inside the batch."""
        return self._ledger._edit_in(self._tx, self._key, lead_id, edit, expected_version,
                                     _who(by), note)
