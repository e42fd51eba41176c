"""The audit trail of the ledger: field values as JSON, the keyed event chain, and verification.

Every change to a lead is an event (:class:`~yibao.leads.model.LeadEvent`). Events are chained:
each stores ``hash = HMAC-SHA256(key, prev_hash + content)`` (written ``"hmac:" + hex``, see
:mod:`yibao.leads.seal`) where ``content`` is the canonical JSON of its sequence number, lead,
version, time, author, action, states, changed fields and note, and ``prev_hash`` is the hash of
the event before it (:data:`GENESIS` for the first). Events written before the chain was keyed
carry ``sha256(prev_hash + content)`` instead: an unkeyed legacy segment, allowed only before
the first keyed event (which chains from it). The ledger's API cannot change or delete events;
the chain makes changes made *behind* the API (an event edited, removed or reordered in the
storage) visible to :func:`verify_ledger`, checkpoints of the head (in the audit log and an
anchor file) make a deleted tail visible, and replaying every lead's events and comparing the
result with the stored lead finds a lead edited behind the API.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from yibao.errors import SettingsError
from yibao.leads.model import LINK_KINDS, FieldChange, Lead, LeadEvent
from yibao.leads.seal import ChainKey, Checkpoint, canonical_json, compare_checkpoints, is_keyed

__all__ = [
    "GENESIS",
    "TRACKED_FIELDS",
    "VerifyReport",
    "canonical_json",
    "encode_value",
    "event_hash",
    "event_mac",
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


def event_mac(key: ChainKey, prev_hash: str, event: LeadEvent) -> str:
    """The keyed hash of an event: ``"hmac:"`` + HMAC-SHA256 of ``prev_hash`` followed by the
    canonical JSON of the event's content, with the ledger's key."""
    return key.mac(prev_hash, canonical_json(event_content(event)).encode("utf-8"))


def lead_values(lead: Lead) -> dict[str, Any]:
    """The tracked fields of ``lead`` as JSON values (what replaying its events must give)."""
    return {name: encode_value(getattr(lead, name)) for name in TRACKED_FIELDS}


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify_ledger` found: ``ok`` when the chain is whole, agrees with every
    checkpoint, and every lead matches its history; ``problems`` says where it is not (event
    sequence number or lead id); ``first_bad`` is the first event that cannot be trusted;
    ``legacy`` counts the unkeyed events written before keyed chaining; ``anchored`` is the
    last event a checkpoint confirms (of ``checkpoints`` read)."""

    ok: bool
    events: int
    leads: int
    problems: tuple[str, ...]
    head: str
    first_bad: int | None = None
    legacy: int = 0
    anchored: int = 0
    checkpoints: int = 0

    def __str__(self) -> str:
        notes = ""
        if self.legacy:
            notes += (f"; 事件 #1-#{self.legacy} 为启用密钥前的旧记录 / events #1-#{self.legacy}"
                      " are an unkeyed legacy segment (written before keyed chaining: checked "
                      "by their plain hashes, sealed by the first keyed event after them)")
        notes += (f"; 检查点确认至 #{self.anchored} / checkpoints confirm events up to "
                  f"#{self.anchored}" if self.anchored else
                  "; 无检查点 / no checkpoint found: deleting the last events cannot be detected"
                  " (set YIBAO_ANCHOR, or verify with --anchor FILE)")
        if self.ok:
            return (f"ledger intact: {self.events} events, {self.leads} leads, "
                    f"head {self.head[:17]}{notes}")
        first = (f", first bad event #{self.first_bad}: events from #{self.first_bad} on cannot"
                 " be trusted; restore the ledger from a backup made before it, compare, and "
                 "find out who could write to the ledger" if self.first_bad else "")
        return (f"台账被改动 / ledger tampered with ({len(self.problems)} problems){first}: "
                + "; ".join(self.problems[:5]) + ("; …" if len(self.problems) > 5 else "")
                + notes)


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


def _check_chain(events: Sequence[LeadEvent], key: ChainKey | None
                 ) -> tuple[list[tuple[int, str]], int]:
    """Problems (sequence number, text) of the event chain, and how many events are unkeyed
    legacy; :class:`~yibao.errors.SettingsError` when events are keyed and there is no key."""
    problems: list[tuple[int, str]] = []
    prev, prev_seq, legacy, keyed = GENESIS, 0, 0, False
    for e in events:
        if e.seq != prev_seq + 1:
            gap = (f"events #{prev_seq + 1}-#{e.seq - 1} missing (deleted)"
                   if e.seq > prev_seq + 1 else "out of order (reordered)")
            problems.append((min(e.seq, prev_seq + 1),
                             f"event #{prev_seq + 1}: found sequence number {e.seq}, {gap}"))
        if e.prev_hash != prev:
            problems.append((e.seq, f"event #{e.seq}: does not follow the event before it "
                                    "(chain broken: an event deleted, inserted or reordered)"))
        if is_keyed(e.hash):
            if key is None:
                raise SettingsError("the ledger's events are sealed with a key, but there is "
                                    "no key file: set YIBAO_LEDGER_KEY to the key file that "
                                    "sealed them")
            keyed = True
            if event_mac(key, e.prev_hash, e) != e.hash:
                problems.append((e.seq, f"event #{e.seq} ({e.lead_id} v{e.version}): content "
                                        "does not match its MAC (edited, or hashes recomputed "
                                        "without the key)"))
        elif keyed:
            problems.append((e.seq, f"event #{e.seq} ({e.lead_id} v{e.version}): unkeyed after "
                                    "keyed events (rewritten without the key)"))
        else:
            legacy += 1
            if event_hash(e.prev_hash, e) != e.hash:
                problems.append((e.seq, f"event #{e.seq} ({e.lead_id} v{e.version}): content "
                                        "does not match its hash (edited)"))
        prev, prev_seq = e.hash, e.seq
    return problems, legacy


def verify_ledger(events: Sequence[LeadEvent], leads: Iterable[Lead], *,
                  key: ChainKey | None = None, checkpoints: Iterable[Checkpoint] = (),
                  checkpoint_problems: Sequence[str] = ()) -> VerifyReport:
    """Check ``events`` (all of them, by ``seq``) and ``leads`` (all of them) against each
    other and against the ``checkpoints`` of the head: sequence numbers run 1, 2, 3 …; each
    ``prev_hash`` is the previous event's hash and each hash recomputes (with ``key`` for keyed
    events); no checkpoint names an event that is missing or different; every lead's events run
    version 1, 2, 3 … from a ``create``; and replaying a lead's events gives the stored lead
    (fields, version, who and when). ``checkpoint_problems``: problems found in the logs the
    checkpoints came from, reported too."""
    chain, legacy = _check_chain(events, key)
    points = list(checkpoints)
    missing, anchored = compare_checkpoints([e.hash for e in events], points, what="event")
    chain = sorted(chain + missing, key=lambda p: p[0])
    problems = [text for _, text in chain]
    problems += [f"checkpoint log {p}" for p in checkpoint_problems]
    per_lead: dict[str, list[LeadEvent]] = defaultdict(list)
    for e in events:
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
                        problems=tuple(problems), head=events[-1].hash if events else GENESIS,
                        first_bad=chain[0][0] if chain else None, legacy=legacy,
                        anchored=anchored, checkpoints=len(points))
