"""The audit trail of the ledger: field values as JSON, the event hash chain, and verification.

Every change to a lead is an event (:class:`~yibao.leads.model.LeadEvent`). Events are chained:
each stores ``hash = sha256(prev_hash + content)`` where ``content`` is the canonical JSON of its
sequence number, lead, version, time, author, action, states, changed fields and note, and
``prev_hash`` is the hash of the event before it (:data:`GENESIS` for the first). The ledger's
API cannot change or delete events; the chain makes changes made *behind* the API (an event
edited, removed or reordered in the storage) visible to :func:`verify_ledger`, which also
replays every lead's events and compares the result with the stored lead (a lead edited behind
the API no longer matches its history).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from yibao.leads.model import LINK_KINDS, FieldChange, Lead, LeadEvent

__all__ = [
    "GENESIS",
    "TRACKED_FIELDS",
    "VerifyReport",
    "canonical_json",
    "encode_value",
    "event_hash",
    "lead_values",
    "values_at",
    "verify_ledger",
]

GENESIS = "0" * 64
"""The ``prev_hash`` of the first event."""

TRACKED_FIELDS: tuple[str, ...] = (
    "source", "source_ref", "title", "summary", "violation", "risk", "risk_score", "state",
    "owner", "region", "due", "amount_involved", "amount_recovered", "dispositions",
    *LINK_KINDS,
)
"""The fields of a lead that events record (the rest: id, version, created/updated at/by,
come from the events themselves)."""


def encode_value(value: object) -> Any:
    """A field value as JSON: Decimal yuan as text with two places, dates and times as ISO text,
    tuples as lists."""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [encode_value(v) for v in value]
    return value


def canonical_json(value: object) -> str:
    """JSON with sorted keys, no spaces and Chinese kept as is: the same value always gives the
    same text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                      allow_nan=False)


def event_content(event: LeadEvent) -> dict[str, Any]:
    """What an event's hash covers (everything but its hashes)."""
    return {
        "seq": event.seq, "lead_id": event.lead_id, "version": event.version,
        "at": event.at.isoformat(timespec="microseconds"), "by": event.by,
        "action": event.action, "from_state": event.from_state, "to_state": event.to_state,
        "changes": [[c.field, c.old, c.new] for c in event.changes], "note": event.note,
    }


def event_hash(prev_hash: str, event: LeadEvent) -> str:
    """SHA-256 (hex) of ``prev_hash`` followed by the canonical JSON of the event's content."""
    text = prev_hash + canonical_json(event_content(event))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def lead_values(lead: Lead) -> dict[str, Any]:
    """The tracked fields of ``lead`` as JSON values (what replaying its events must give)."""
    return {name: encode_value(getattr(lead, name)) for name in TRACKED_FIELDS}


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify_ledger` found: ``ok`` when the chain is whole and every lead matches
    its history; ``problems`` says where it is not (event sequence number or lead id)."""

    ok: bool
    events: int
    leads: int
    problems: tuple[str, ...]
    head: str

    def __str__(self) -> str:
        if self.ok:
            return (f"ledger intact: {self.events} events, {self.leads} leads, "
                    f"head {self.head[:12]}")
        return f"ledger tampered with ({len(self.problems)} problems): " + "; ".join(
            self.problems[:5]) + ("; …" if len(self.problems) > 5 else "")


def _codes(value: object) -> set[str]:
    return {str(v) for v in value} if isinstance(value, list) else set()


def _replay(changes: Iterable[FieldChange], action: str, values: dict[str, Any]) -> None:
    """Apply one event's changes to ``values``; link events carry the codes added (``new``) or
    removed (``old``)."""
    for c in changes:
        if action == "link":
            values[c.field] = sorted(_codes(values.get(c.field)) | _codes(c.new))
        elif action == "unlink":
            values[c.field] = sorted(_codes(values.get(c.field)) - _codes(c.old))
        else:
            values[c.field] = c.new


def values_at(history: Iterable[LeadEvent], version: int) -> dict[str, Any]:
    """The tracked fields of a lead (as JSON values, see :func:`lead_values`) as they were at
    ``version``, replayed from its ``history``."""
    values: dict[str, Any] = {}
    for e in history:
        if e.version > version:
            break
        _replay(e.changes, e.action, values)
    return values


def verify_ledger(events: Sequence[LeadEvent], leads: Iterable[Lead]) -> VerifyReport:
    """Check ``events`` (all of them, by ``seq``) and ``leads`` (all of them) against each
    other: sequence numbers run 1, 2, 3 …; each ``prev_hash`` is the previous event's hash and
    each hash recomputes; every lead's events run version 1, 2, 3 … from a ``create``; and
    replaying a lead's events gives the stored lead (fields, version, who and when)."""
    problems: list[str] = []
    prev = GENESIS
    per_lead: dict[str, list[LeadEvent]] = defaultdict(list)
    for k, e in enumerate(events, start=1):
        if e.seq != k:
            problems.append(f"event #{k}: found sequence number {e.seq} (events missing or "
                            "reordered)")
        if e.prev_hash != prev:
            problems.append(f"event #{e.seq}: does not follow the event before it (chain "
                            "broken)")
        if event_hash(e.prev_hash, e) != e.hash:
            problems.append(f"event #{e.seq} ({e.lead_id} v{e.version}): content does not "
                            "match its hash (edited)")
        prev = e.hash
        per_lead[e.lead_id].append(e)
    stored = {lead.lead_id: lead for lead in leads}
    for lead_id, history in per_lead.items():
        versions = [e.version for e in history]
        if versions != list(range(1, len(history) + 1)) or history[0].action != "create":
            problems.append(f"{lead_id}: versions {versions[:6]} do not run 1, 2, 3 … from a "
                            "create")
        lead = stored.pop(lead_id, None)
        if lead is None:
            problems.append(f"{lead_id}: has events but no lead (deleted)")
            continue
        values: dict[str, Any] = {}
        for e in history:
            _replay(e.changes, e.action, values)
        last, first = history[-1], history[0]
        expected: Mapping[str, Any] = {
            **values, "version": last.version, "updated_at": last.at, "updated_by": last.by,
            "created_at": first.at, "created_by": first.by}
        actual = {**lead_values(lead), "version": lead.version, "updated_at": lead.updated_at,
                  "updated_by": lead.updated_by, "created_at": lead.created_at,
                  "created_by": lead.created_by}
        wrong = sorted(k for k in expected if expected[k] != actual.get(k))
        if wrong:
            problems.append(f"{lead_id}: stored {', '.join(wrong)} differ from its history "
                            "(changed behind the ledger)")
    for lead_id in sorted(stored):
        problems.append(f"{lead_id}: has no events (created behind the ledger)")
    return VerifyReport(ok=not problems, events=len(events), leads=len(per_lead) + len(stored),
                        problems=tuple(problems), head=prev)
