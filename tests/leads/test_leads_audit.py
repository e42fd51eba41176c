"""Events can't be edited away: the SQLite triggers refuse it, and the keyed chain and replay in
``verify()`` find what was changed behind the ledger's back (deleted tails, reordering and
legacy ledgers: ``test_ledger_seal.py``)."""

from __future__ import annotations

import itertools
import sqlite3
from contextlib import closing
from dataclasses import replace

import pytest

from tests.leads.ledger_helpers import Clock, draft
from yibao.leads.audit import GENESIS, event_hash, event_mac
from yibao.leads.seal import load_key
from yibao.leads.sqlite_ledger import SqliteLedger


@pytest.fixture
def filled(ledger: SqliteLedger, clock: Clock) -> SqliteLedger:
    a = ledger.add(draft(1), by="张三")
    ledger.add(draft(2), by="张三")
    clock.advance(hours=1)
    a = ledger.transition(a.lead_id, "checking", expected_version=1, by="李四")
    a = ledger.update(a.lead_id, {"owner": "李四"}, expected_version=2, by="李四")
    ledger.link(a.lead_id, "practitioners", ["D1"], expected_version=3, by="李四")
    return ledger


def _sql(ledger: SqliteLedger, *statements: str) -> None:
    with closing(sqlite3.connect(ledger.path, isolation_level=None)) as con:
        for statement in statements:
            con.execute(statement)


def test_the_chain_links_every_event(filled: SqliteLedger) -> None:
    events = filled.events()
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    key = load_key(filled.seal.key_path, create=False)
    assert key is not None
    assert all(e.hash.startswith("hmac:") and event_mac(key, e.prev_hash, e) == e.hash
               for e in events)
    assert filled.events(after_seq=3) == events[3:]
    assert filled.events(after_seq=1, limit=2) == events[1:3]
    report = filled.verify()
    assert report.ok, report.problems
    assert (report.events, report.leads, report.head) == (5, 2, events[-1].hash)
    assert str(report).startswith("ledger intact: 5 events, 2 leads")


@pytest.mark.parametrize("statement", [
    "UPDATE lead_events SET note = 'nothing happened' WHERE seq = 3",
    "DELETE FROM lead_events WHERE seq = 5",
    "DELETE FROM lead_events",
    "DELETE FROM leads WHERE lead_id = 'XS-2024-000002'",
])
def test_triggers_refuse_editing_history(filled: SqliteLedger, statement: str) -> None:
    with pytest.raises(sqlite3.IntegrityError, match=r"append-only|never deleted"):
        _sql(filled, statement)
    assert filled.verify().ok
    assert len(filled.events()) == 5


def test_verify_finds_an_event_edited_behind_the_api(filled: SqliteLedger) -> None:
    _sql(filled, "DROP TRIGGER lead_events_no_update",
         "UPDATE lead_events SET by = '王五' WHERE seq = 3")
    report = filled.verify()
    assert not report.ok
    assert report.problems == (
        "event #3 (XS-2024-000001 v2): content does not match its MAC (edited, or hashes "
        "recomputed without the key)",)
    assert report.first_bad == 3
    assert "tampered" in str(report)
    assert "first bad event #3" in str(report)


def test_verify_finds_a_deleted_event(filled: SqliteLedger) -> None:
    _sql(filled, "DROP TRIGGER lead_events_no_delete", "DELETE FROM lead_events WHERE seq = 4")
    problems = filled.verify().problems
    assert any("event #4: found sequence number 5, events #4-#4 missing" in p
               for p in problems)
    assert any("event #5: does not follow" in p for p in problems)
    assert any("XS-2024-000001: versions [1, 2, 4]" in p for p in problems)


def test_verify_finds_a_lead_changed_behind_the_api(filled: SqliteLedger) -> None:
    _sql(filled, "UPDATE leads SET amount_recovered_fen = 100000, state = 'closed' "
                 "WHERE lead_id = 'XS-2024-000002'")
    (problem,) = filled.verify().problems
    assert problem == ("XS-2024-000002: stored amount_recovered, state differ from its "
                       "history (changed behind the ledger)")


def test_verify_finds_a_rewritten_chain_tail(filled: SqliteLedger) -> None:
    """Rewriting an event and recomputing its own (unkeyed) hash is found, and breaks the link
    to the next."""
    forged = replace(filled.events()[2], note="forged")
    new_hash = event_hash(forged.prev_hash, forged)
    _sql(filled, "DROP TRIGGER lead_events_no_update",
         f"UPDATE lead_events SET note = 'forged', hash = '{new_hash}' WHERE seq = 3")
    problems = filled.verify().problems
    assert problems == (
        "event #3 (XS-2024-000001 v2): unkeyed after keyed events (rewritten without the key)",
        "event #4: does not follow the event before it (chain broken: an event deleted, "
        "inserted or reordered)")
