"""The leads ledger on the Neo4j backend: ``(:Lead)`` and ``(:LeadEvent)`` nodes on the server.

The same :class:`~yibao.leads.ledger.LeadLedger` as the embedded SQLite file (every rule lives
there); this module only stores and fetches, with the named queries of ``queries/leads``:

* ``(:Lead {lead_id})`` with every field as a property (amounts in integer fen, the due date a
  ``Date``, times ``LocalDateTime``, dispositions and links as lists of codes);
* ``(:Lead)-[:HAS_EVENT]->(:LeadEvent {seq})``, the audit trail (changes as JSON text);
* ``(:LeadLedger {name})``, the head: the last event's number and hash, and the write lock;
* ``(:LeadCounter {year})``, the last lead number of a year.

Uniqueness constraints on the keys are created first (opening the ledger). Every write is one
explicit transaction that starts by writing the head, so writers take turns: Neo4j makes the
second wait until the first commits, then the second reads the first's result; ArcadeDB (which
commits optimistically) fails the second commit (a transient error, or a uniqueness violation on
the event number both took), and the ledger runs the whole write again, which then sees the
first's result. Either way the lead is updated with
``MATCH … WHERE l.version = $expected SET …`` and a stale write becomes a
:class:`~yibao.errors.LeadConflictError`, never a lost update. Standard Neo4j 5 Cypher only (no
APOC); links are list properties, so detection replacing its ``Ring`` nodes leaves leads whole.
An event can be changed on the server by anyone with write access (there are no triggers
without plugins): events are sealed with the ledger key kept on the clients
(:mod:`yibao.leads.seal`, ``YIBAO_LEDGER_KEY``: every client writing the ledger needs the same
key file), so :meth:`~yibao.leads.ledger.LeadLedger.verify` finds an edit, and a deleted tail
by the checkpoints in the audit log and anchor file.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from queries.runner import Record, Runner, Transaction
from yibao.errors import BackendError, LeadNotFoundError
from yibao.leads.audit import GENESIS, canonical_json
from yibao.leads.ledger import Clock, LeadLedger, LedgerTransaction
from yibao.leads.model import (
    LINK_KINDS,
    FieldChange,
    Lead,
    LeadEvent,
    LeadFilter,
    Source,
    fen_to_yuan,
    region_prefix,
    yuan_to_fen,
)
from yibao.leads.seal import SealOptions

if TYPE_CHECKING:
    import neo4j

__all__ = ["LEDGER_NAME", "Neo4jLedger"]

log = logging.getLogger(__name__)

LEDGER_NAME = "leads"
"""The ``name`` of the ledger's head node."""

RETRIES = 20
"""Times a write that collided with another one is run again."""

WRITE_ROWS = 2_000
"""Leads or events per statement."""

_SCHEMA = ("leads/lead_key", "leads/lead_event_key", "leads/lead_ledger_key",
           "leads/lead_counter_key", "leads/lead_ref", "leads/lead_event_lead")

T = TypeVar("T")


def _lead_props(lead: Lead) -> dict[str, Any]:
    return {
        "lead_id": lead.lead_id, "source": lead.source, "source_ref": lead.source_ref,
        "title": lead.title, "summary": lead.summary, "violation": lead.violation,
        "risk": lead.risk, "risk_score": lead.risk_score, "state": lead.state,
        "owner": lead.owner, "region": lead.region, "due": lead.due,
        "amount_involved_fen": yuan_to_fen(lead.amount_involved),
        "amount_recovered_fen": yuan_to_fen(lead.amount_recovered),
        "dispositions": list(lead.dispositions),
        **{kind: list(lead.links(kind)) for kind in LINK_KINDS},
        "version": lead.version, "created_at": lead.created_at, "created_by": lead.created_by,
        "updated_at": lead.updated_at, "updated_by": lead.updated_by,
    }


def _date(value: Any) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def _lead_from(p: Record) -> Lead:
    return Lead(
        lead_id=p["lead_id"], source=p["source"], source_ref=p.get("source_ref"),
        title=p["title"], summary=p.get("summary") or "", violation=p.get("violation") or "",
        risk=p["risk"], risk_score=p.get("risk_score"), state=p["state"],
        owner=p.get("owner"), region=p.get("region"), due=_date(p.get("due")),
        amount_involved=fen_to_yuan(p["amount_involved_fen"]),
        amount_recovered=fen_to_yuan(p["amount_recovered_fen"]),
        dispositions=tuple(p.get("dispositions") or ()),
        persons=tuple(sorted(p.get("persons") or ())),
        institutions=tuple(sorted(p.get("institutions") or ())),
        practitioners=tuple(sorted(p.get("practitioners") or ())),
        rings=tuple(sorted(p.get("rings") or ())), version=int(p["version"]),
        created_at=p["created_at"], created_by=p["created_by"],
        updated_at=p["updated_at"], updated_by=p["updated_by"])


def _event_props(e: LeadEvent) -> dict[str, Any]:
    return {"seq": e.seq, "lead_id": e.lead_id, "version": e.version, "at": e.at, "by": e.by,
            "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
            "changes": canonical_json([[c.field, c.old, c.new] for c in e.changes]),
            "note": e.note, "prev_hash": e.prev_hash, "hash": e.hash}


def _event_from(p: Record) -> LeadEvent:
    return LeadEvent(
        seq=int(p["seq"]), lead_id=p["lead_id"], version=int(p["version"]), at=p["at"],
        by=p["by"], action=p["action"], from_state=p.get("from_state"),
        to_state=p.get("to_state"),
        changes=tuple(FieldChange(f, old, new) for f, old, new in json.loads(p["changes"])),
        note=p.get("note") or "", prev_hash=p["prev_hash"], hash=p["hash"])


class _Tx:
    """:class:`~yibao.leads.ledger.LedgerTransaction` in an explicit transaction whose first
    statement took the head's lock."""

    def __init__(self, tx: Transaction, name: str) -> None:
        self.tx = tx
        self.name = name
        (row,) = tx.run("leads/lock_head", {"name": name})
        self._head = (int(row["seq"]), str(row["hash"]))

    def lead(self, lead_id: str) -> Lead | None:
        rows = self.tx.run("leads/lead", {"lead_id": lead_id})
        return _lead_from(rows[0]["lead"]) if rows else None

    def existing_refs(self, source: Source, refs: Sequence[str]) -> dict[str, str]:
        rows = self.tx.run("leads/refs", {"source": source, "refs": list(refs)})
        return {r["ref"]: r["lead_id"] for r in rows}

    def events_after(self, lead_id: str, version: int) -> list[LeadEvent]:
        rows = self.tx.run("leads/events_of", {"lead_id": lead_id, "version": version})
        return [_event_from(r["event"]) for r in rows]

    def head(self) -> tuple[int, str]:
        return self._head

    def take_numbers(self, year: int, n: int) -> int:
        (row,) = self.tx.run("leads/take_numbers", {"year": year, "n": n})
        return int(row["n"]) - n + 1

    def insert_leads(self, leads: Sequence[Lead]) -> None:
        rows = [_lead_props(lead) for lead in leads]
        for k in range(0, len(rows), WRITE_ROWS):
            self.tx.run("leads/insert_leads", {"rows": rows[k:k + WRITE_ROWS]})

    def update_lead(self, lead: Lead, expected_version: int) -> bool:
        row = _lead_props(lead)
        return bool(self.tx.run("leads/update_lead", {
            "lead_id": lead.lead_id, "expected": expected_version, "row": row}))

    def append_events(self, events: Sequence[LeadEvent]) -> None:
        rows = [_event_props(e) for e in events]
        for k in range(0, len(rows), WRITE_ROWS):
            self.tx.run("leads/append_events", {"rows": rows[k:k + WRITE_ROWS]})
        if events:
            self._head = (events[-1].seq, events[-1].hash)
            self.tx.run("leads/set_head", {"name": self.name, "seq": self._head[0],
                                           "hash": self._head[1]})


def _collided(exc: BackendError) -> bool:
    """Whether ``exc`` is a write that collided with another one (worth running again): a
    transient error, or (ArcadeDB, committing optimistically) a uniqueness violation on an event
    number or lead id that the other writer took first, since every number is read from the
    locked head."""
    from neo4j.exceptions import ConstraintError, TransientError

    cause = exc.__cause__
    if isinstance(cause, TransientError):
        return not str(cause.code or "").endswith(".Terminated")
    return isinstance(cause, ConstraintError)


class Neo4jLedger(LeadLedger):
    """The ledger on the server behind ``runner`` (see the module docstring); make it with
    :meth:`connect` or :meth:`backends.neo4j.Neo4jBackend.ledger`. Creates its constraints
    and head node when opened."""

    name = "neo4j"

    def __init__(self, runner: Runner, *, clock: Clock | None = None,
                 ledger_name: str = LEDGER_NAME, driver: neo4j.Driver | None = None,
                 seal: SealOptions | None = None) -> None:
        super().__init__(clock=clock, seal=seal)
        self.runner = runner
        self.ledger_name = ledger_name
        self._driver = driver
        for query in _SCHEMA:
            runner.run(query)
        runner.run("leads/create_head", {"name": ledger_name, "genesis": GENESIS})

    @property
    def target(self) -> str:
        return "neo4j:" + self.ledger_name

    def close(self) -> None:
        """Close the connection when this ledger opened it (:meth:`connect`)."""
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    @contextmanager
    def _transaction(self) -> Iterator[LedgerTransaction]:
        with self.runner.transaction("leads ledger write") as tx:
            yield _Tx(tx, self.ledger_name)

    def _write(self, work: Callable[[LedgerTransaction], T]) -> T:
        for attempt in range(1, RETRIES + 1):
            try:  # a managed transaction: the driver also runs it again on a transient error
                return self.runner.write("leads ledger write",
                                         lambda tx: work(_Tx(tx, self.ledger_name)))
            except BackendError as exc:
                if attempt == RETRIES or not _collided(exc):
                    raise
                log.debug("ledger write collided (attempt %d): %s", attempt, exc)
                time.sleep(random.uniform(0.01, 0.05) * attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def get(self, lead_id: str) -> Lead:
        rows = self.runner.run("leads/lead", {"lead_id": lead_id})
        if not rows:
            raise LeadNotFoundError(f"no lead {lead_id!r} in the Neo4j ledger: check the id "
                                    "(XS-YEAR-NUMBER) or list the leads")
        return _lead_from(rows[0]["lead"])

    def find(self, source: Source, source_ref: str) -> Lead | None:
        rows = self.runner.run("leads/refs", {"source": source, "refs": [source_ref]})
        return self.get(rows[0]["lead_id"]) if rows else None

    def _select(self, flt: LeadFilter, today: date) -> list[Lead]:
        params = {
            "states": list(flt.states) or None, "sources": list(flt.sources) or None,
            "risks": list(flt.risks) or None, "owner": flt.owner,
            "region": region_prefix(flt.region) if flt.region else None,
            "violation": flt.violation,
            "kind": flt.linked[0] if flt.linked else None,
            "code": flt.linked[1] if flt.linked else None,
            "text": flt.text.strip().lower() if flt.text and flt.text.strip() else None,
            "overdue": flt.overdue, "escalate": flt.needs_escalation, "today": today,
        }
        return [_lead_from(r["lead"]) for r in self.runner.run("leads/select", params)]

    def history(self, lead_id: str) -> list[LeadEvent]:
        rows = self.runner.run("leads/events_of", {"lead_id": lead_id, "version": 0})
        return [_event_from(r["event"]) for r in rows]

    def events(self, *, after_seq: int = 0, limit: int | None = None) -> list[LeadEvent]:
        if limit is None:
            rows = self.runner.run("leads/events", {"after": after_seq})
        else:
            rows = self.runner.run("leads/events_page", {"after": after_seq, "limit": limit})
        return [_event_from(r["event"]) for r in rows]
