"""Two investigators edit the same lead from the same version at once: exactly one change is
saved, the other gets the conflict, the history holds exactly one new event.

The threads share one ledger object (as workbench sessions do); the processes open the same file
separately (as two workbench servers or a CLI import beside the workbench do). A slowed-down
ledger holds its transaction open after reading, so the two writes really overlap.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.leads.ledger_helpers import draft
from yibao.errors import LeadConflictError
from yibao.leads.ledger import LedgerTransaction
from yibao.leads.sqlite_ledger import SqliteLedger

ROOT = Path(__file__).resolve().parents[2]


class SlowLedger(SqliteLedger):
    """Holds each write transaction open a moment after it began."""

    @contextmanager
    def _transaction(self) -> Iterator[LedgerTransaction]:
        with super()._transaction() as tx:
            time.sleep(0.2)
            yield tx


def _race(ledger: SqliteLedger, lead_id: str, version: int) -> dict[str, object]:
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def edit(name: str, fields: dict[str, object]) -> None:
        barrier.wait()
        try:
            outcome[name] = ledger.update(lead_id, fields, expected_version=version, by=name)
        except LeadConflictError as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=edit, args=("张三", {"owner": "张三", "due": "2024-06-01"})),
               threading.Thread(target=edit, args=("李四", {"owner": "李四", "title": "李四的"}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcome


def test_two_threads_one_wins_one_is_told(tmp_path: Path) -> None:
    ledger = SlowLedger(tmp_path / "leads.sqlite")
    lead = ledger.add(draft(1), by="a")
    outcome = _race(ledger, lead.lead_id, 1)
    conflicts = [v for v in outcome.values() if isinstance(v, LeadConflictError)]
    winners = [k for k, v in outcome.items() if not isinstance(v, LeadConflictError)]
    assert len(conflicts) == 1, outcome
    assert len(winners) == 1
    (winner,) = winners
    assert f"by {winner} at" in str(conflicts[0])
    assert "reload" in str(conflicts[0])
    history = ledger.history(lead.lead_id)
    assert [e.version for e in history] == [1, 2]
    assert history[1].by == winner
    saved = ledger.get(lead.lead_id)
    assert (saved.owner, saved.version) == (winner, 2)
    assert ledger.verify().ok


_WORKER = """
import json, sys, time
from pathlib import Path
from yibao.errors import LeadConflictError
from yibao.leads.sqlite_ledger import SqliteLedger
path, lead_id, name, start = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
ledger = SqliteLedger(Path(path))
while time.time() < start:
    time.sleep(0.001)
try:
    lead = ledger.transition(lead_id, "checking", expected_version=1, by=name,
                             note=name + " takes it")
    print(json.dumps({"ok": lead.version}))
except LeadConflictError as exc:
    print(json.dumps({"conflict": str(exc)}))
"""


def test_two_processes_one_wins_one_is_told(tmp_path: Path) -> None:
    path = tmp_path / "leads.sqlite"
    ledger = SqliteLedger(path)
    lead = ledger.add(draft(1), by="a")
    start = time.time() + 3.0  # both interpreters are up by then
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, str(path), lead.lead_id, name,
                               str(start)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
             for name in ("张三", "李四")]
    answers = [json.loads(p.communicate(timeout=60)[0]) for p in procs]
    assert sorted(next(iter(a)) for a in answers) == ["conflict", "ok"], answers
    winner = ("张三", "李四")[next(k for k, a in enumerate(answers) if "ok" in a)]
    conflict = next(a["conflict"] for a in answers if "conflict" in a)
    assert f"by {winner} at" in conflict
    assert "核查中 (checking)" in conflict
    history = ledger.history(lead.lead_id)
    assert [(e.version, e.by) for e in history] == [(1, "a"), (2, winner)]
    assert ledger.get(lead.lead_id).state == "checking"
    assert ledger.verify().ok


@pytest.mark.slow
def test_many_writers_on_many_leads_lose_nothing(tmp_path: Path) -> None:
    """Eight threads each move their own leads through the lifecycle while the others write:
    every event lands, numbers stay unique, the chain stays whole."""
    ledger = SqliteLedger(tmp_path / "leads.sqlite")
    ids = [x.lead_id for x in ledger.add_many([draft(n) for n in range(40)], by="a").created]
    errors: list[BaseException] = []

    def work(mine: list[str]) -> None:
        try:
            for lead_id in mine:
                lead = ledger.transition(lead_id, "checking", expected_version=1, by="w")
                ledger.transition(lead_id, "cleared", expected_version=lead.version, by="w")
                ledger.add(draft(1000 + int(lead_id[-6:])), by="w")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids[k::8],)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert len(ledger.leads()) == 80
    assert len({x.lead_id for x in ledger.leads()}) == 80
    assert len(ledger.events()) == 40 + 80 + 40
    assert ledger.verify().ok
