"""Both leads ledgers give the same answers: the SQLite file beside the store and the Neo4j
ledger on the session's Bolt server (ArcadeDB, or NEO4J_URI).

One scenario — creating, moving through the whole lifecycle, refusals, conflicts, updates,
links, filters, overdue and escalation, leads from detection, the Excel round trip — runs on
each ledger with the same clock; the leads, the events (down to their hashes) and every answer
must be equal (both sealed with one key). Then the Neo4j ledger's own guarantees: two writers
racing on one lead (one wins, one is told), tampering done on the server behind the API found by
``verify()`` (an edit, and a deleted tail by its checkpoint), and an Excel import undone whole
when one row fails.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backends.embedded import EmbeddedBackend
from backends.neo4j import Neo4jBackend
from tests.backends.conftest import BoltServer
from yibao.errors import LeadConflictError, LeadError
from yibao.leads import LeadDraft, LeadEdit, LeadFilter, LeadLedger
from yibao.leads.excel import export_workbook, import_workbook
from yibao.leads.from_detection import leads_from_store
from yibao.leads.neo4j_ledger import Neo4jLedger
from yibao.leads.seal import SealOptions
from yibao.leads.sqlite_ledger import SqliteLedger
from yibao.stores import open_backend, open_ledger

pytestmark = pytest.mark.slow


@dataclass
class Clock:
    now: datetime = datetime(2024, 5, 1, 9, 0, 0, 250_000)

    def __call__(self) -> datetime:
        return self.now


def _wipe_ledger(server: BoltServer) -> None:
    """Remove every ledger node (test setup, through the driver directly)."""
    from neo4j import GraphDatabase

    s = server.settings
    assert s.neo4j_uri
    assert s.neo4j_password is not None
    with GraphDatabase.driver(s.neo4j_uri, auth=(s.neo4j_user or "neo4j", s.neo4j_password)
                              ) as driver, driver.session(database=s.neo4j_database) as session:
        session.run("MATCH (n) WHERE n:Lead OR n:LeadEvent OR n:LeadLedger OR n:LeadCounter "
                    "DETACH DELETE n").consume()


@pytest.fixture
def neo4j_ledger(bolt_server: BoltServer, tmp_path: Path
                 ) -> Iterator[tuple[Neo4jLedger, Clock]]:
    _wipe_ledger(bolt_server)
    clock = Clock()
    seal = SealOptions(tmp_path / "ledger.key", tmp_path / "audit.jsonl")
    server = open_backend(bolt_server.settings, "neo4j")
    ledger = Neo4jLedger(server.runner, clock=clock, seal=seal)  # type: ignore[attr-defined]
    yield ledger, clock
    server.close()


def _draft(n: int, **extra: Any) -> LeadDraft:
    values: dict[str, Any] = {
        "source": "ring", "source_ref": f"R{n}", "title": f"团伙 {n} =SUM(A1)",
        "summary": "证据", "violation": "card_pooling", "risk": "high", "risk_score": 0.8123,
        "region": "341202", "amount_involved": Decimal("1234.56"), "persons": ("P2", "P1"),
        "institutions": ("H1",), "rings": (f"R{n}",)}
    values.update(extra)
    return LeadDraft(**values)


def _error(call: Any) -> str:
    try:
        call()
    except LeadError as exc:
        return f"{type(exc).__name__}: {exc}"
    raise AssertionError("expected a refusal")


def scenario(ledger: LeadLedger, clock: Clock, store: Path, tmp: Path) -> dict[str, Any]:
    """Everything a ledger answers in one working day of two investigators."""
    out: dict[str, Any] = {}
    made = ledger.add_many([_draft(1), _draft(2, risk="medium", region="320583"),
                            _draft(3, risk="low", source="report", source_ref=None)], by="张三")
    out["created"] = made.created
    out["again"] = ledger.add_many([_draft(1), _draft(4)], by="张三")
    a, b = "XS-2024-000001", "XS-2024-000002"
    clock.now += timedelta(hours=1)
    out["illegal"] = _error(lambda: ledger.transition(a, "confirmed", expected_version=1,
                                                      by="李四"))
    lead = ledger.transition(a, "checking", expected_version=1, by="李四", note="开始")
    out["conflict"] = _error(lambda: ledger.update(a, {"owner": "王五"}, expected_version=1,
                                                   by="王五"))
    lead = ledger.update(a, {"owner": "李四", "due": "2024-05-20", "amount_involved": "99.9"},
                         expected_version=lead.version, by="李四")
    lead = ledger.link(a, "practitioners", ["D2", "D1"], expected_version=lead.version, by="李四")
    lead = ledger.link(a, "persons", ["P1"], expected_version=lead.version, by="李四",
                       remove=True)
    clock.now += timedelta(days=1)
    lead = ledger.edit(a, LeadEdit(to_state="closed", dispositions=("police", "agreement"),
                                   fields={"amount_recovered": 50}, multi_step=True),
                       expected_version=lead.version, by="李四", note="结案")
    out["closed_edit"] = _error(lambda: ledger.update(a, {"owner": "x"},
                                                      expected_version=lead.version, by="x"))
    ledger.transition(b, "checking", expected_version=1, by="王五")
    ledger.transition(b, "cleared", expected_version=2, by="王五")
    out["no_change"] = ledger.update(b, {"title": _draft(2).title}, expected_version=3,
                                     by="王五").version
    clock.now = datetime(2024, 7, 15, 8, 0)
    filters = {
        "all": LeadFilter(), "closed": LeadFilter(states=("closed",)),
        "anhui": LeadFilter(region="340000"), "county": LeadFilter(region="320583"),
        "report": LeadFilter(sources=("report",)), "text": LeadFilter(text="团伙 2"),
        "linked": LeadFilter(linked=("practitioners", "D1")),
        "owner": LeadFilter(owner="李四"), "high": LeadFilter(risks=("high",)),
        "not_overdue": LeadFilter(overdue=False),
        "violation": LeadFilter(violation="card_pooling"),
    }
    out["filters"] = {k: [x.lead_id for x in ledger.leads(f)] for k, f in filters.items()}
    out["by_risk"] = [x.lead_id for x in ledger.leads(order_by="risk")]
    out["overdue"] = [x.lead_id for x in ledger.overdue()]
    out["escalations"] = [x.lead_id for x in ledger.escalations()]
    out["detection"] = leads_from_store(store, ledger, by="system")
    out["detection_again"] = leads_from_store(store, ledger, by="system")
    book = export_workbook(ledger, tmp / "ledger.xlsx")
    out["import"] = import_workbook(ledger, book, by="王五").summary()
    out["leads"] = ledger.leads()
    out["events"] = ledger.events()
    out["history"] = ledger.history(a)
    out["get"] = ledger.get(a)
    out["find"] = ledger.find("ring", "R2")
    out["page"] = ledger.events(after_seq=3, limit=4)
    out["verify"] = ledger.verify()
    return out


def test_both_ledgers_answer_the_same(neo4j_ledger: tuple[Neo4jLedger, Clock],
                                      embedded: EmbeddedBackend, tmp_path: Path) -> None:
    neo, neo_clock = neo4j_ledger
    clock = Clock()
    sqlite = SqliteLedger(tmp_path / "leads.sqlite", clock=clock,
                          seal=SealOptions(tmp_path / "ledger.key"))  # the same key
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    expected = scenario(sqlite, clock, embedded.db, tmp_path / "a")
    got = scenario(neo, neo_clock, embedded.db, tmp_path / "b")
    assert expected["verify"].ok, expected["verify"].problems
    assert got["verify"].anchored == got["verify"].events  # checkpoints in the audit log
    got["verify"] = replace(got["verify"], anchored=0, checkpoints=0)
    assert expected["detection"].total_created >= 5  # one lead per ring or rule group
    assert expected["detection_again"].total_created == 0
    assert expected["import"]["unchanged"] == expected["import"]["rows"]
    assert expected["events"][-1].hash == expected["verify"].head
    for key in expected:
        assert got[key] == expected[key], key


def test_neo4j_writers_racing_on_one_lead(neo4j_ledger: tuple[Neo4jLedger, Clock]) -> None:
    ledger, _ = neo4j_ledger
    lead = ledger.add(_draft(1), by="a")
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def edit(name: str) -> None:
        barrier.wait()
        try:
            outcome[name] = ledger.update(lead.lead_id, {"owner": name}, expected_version=1,
                                          by=name)
        except LeadConflictError as exc:
            outcome[name] = exc

    threads = [threading.Thread(target=edit, args=(n,)) for n in ("张三", "李四")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    conflicts = [v for v in outcome.values() if isinstance(v, LeadConflictError)]
    assert len(conflicts) == 1, outcome
    (winner,) = [k for k, v in outcome.items() if not isinstance(v, LeadConflictError)]
    assert f"by {winner} at" in str(conflicts[0])
    assert [(e.version, e.by) for e in ledger.history(lead.lead_id)] == [(1, "a"), (2, winner)]
    assert ledger.get(lead.lead_id).owner == winner


def test_neo4j_many_writers_lose_nothing(neo4j_ledger: tuple[Neo4jLedger, Clock]) -> None:
    ledger, _ = neo4j_ledger
    ids = [x.lead_id for x in ledger.add_many([_draft(n) for n in range(12)], by="a").created]
    errors: list[BaseException] = []

    def work(mine: list[str]) -> None:
        try:
            for lead_id in mine:
                lead = ledger.transition(lead_id, "checking", expected_version=1, by="w")
                ledger.transition(lead_id, "cleared", expected_version=lead.version, by="w")
                ledger.add(_draft(100 + int(lead_id[-3:])), by="w")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(ids[k::4],)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors
    assert len(ledger.leads()) == 24
    assert len(ledger.events()) == 12 + 24 + 12
    assert ledger.verify().ok


def test_neo4j_tampering_behind_the_api_is_found(neo4j_ledger: tuple[Neo4jLedger, Clock],
                                                 bolt_server: BoltServer) -> None:
    from neo4j import GraphDatabase

    ledger, _ = neo4j_ledger
    lead = ledger.add(_draft(1), by="a")
    ledger.transition(lead.lead_id, "checking", expected_version=1, by="b")
    assert ledger.verify().ok
    s = bolt_server.settings
    assert s.neo4j_uri
    assert s.neo4j_password is not None
    with GraphDatabase.driver(s.neo4j_uri, auth=(s.neo4j_user or "neo4j", s.neo4j_password)
                              ) as driver, driver.session(database=s.neo4j_database) as session:
        session.run("MATCH (e:LeadEvent {seq: 2}) SET e.by = 'nobody'").consume()
        session.run("MATCH (l:Lead) SET l.amount_recovered_fen = 99").consume()
    problems = ledger.verify().problems
    assert problems == (
        f"event #2 ({lead.lead_id} v2): content does not match its MAC (edited, or hashes "
        "recomputed without the key)",
        f"{lead.lead_id}: stored amount_recovered, updated_by differ from its history "
        "(changed behind the ledger)")


def _server(server: BoltServer, *statements: str) -> None:
    from neo4j import GraphDatabase

    s = server.settings
    assert s.neo4j_uri
    assert s.neo4j_password is not None
    with GraphDatabase.driver(s.neo4j_uri, auth=(s.neo4j_user or "neo4j", s.neo4j_password)
                              ) as driver, driver.session(database=s.neo4j_database) as session:
        for statement in statements:
            session.run(statement).consume()


def test_neo4j_deleted_tail_is_found_by_its_checkpoint(
        neo4j_ledger: tuple[Neo4jLedger, Clock], bolt_server: BoltServer) -> None:
    ledger, _ = neo4j_ledger
    lead = ledger.add(_draft(1), by="a")
    ledger.transition(lead.lead_id, "checking", expected_version=1, by="b")
    last = ledger.add(_draft(2), by="c")
    assert ledger.verify().ok
    _server(bolt_server, "MATCH (e:LeadEvent {seq: 3}) DETACH DELETE e",
            f"MATCH (l:Lead {{lead_id: '{last.lead_id}'}}) DETACH DELETE l",
            "MATCH (h:LeadLedger) SET h.seq = 2")
    report = ledger.verify()
    assert report.first_bad == 3
    assert report.problems[0].startswith("event #3-#3 missing: the checkpoint of ")


def test_neo4j_import_failing_on_a_row_saves_nothing(
        neo4j_ledger: tuple[Neo4jLedger, Clock], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    import openpyxl

    import yibao.leads.ledger as ledger_module
    from yibao.leads.excel import LEDGER_SHEET

    ledger, _ = neo4j_ledger
    ledger.add_many([_draft(n) for n in range(1, 4)], by="a")
    book = export_workbook(ledger, tmp_path / "ledger.xlsx")
    wb = openpyxl.load_workbook(book)
    ws = wb[LEDGER_SHEET]
    header = next(r for r in range(1, 10) if ws.cell(r, 1).value == "线索编号")
    owner = next(c for c in range(1, ws.max_column + 1) if ws.cell(header, c).value == "责任人")
    for r in range(header + 1, ws.max_row + 1):
        ws.cell(r, owner).value = f"调查员{r}"
    wb.save(book)
    before = (ledger.leads(), ledger.events())
    real, calls = ledger_module.apply_steps, []

    def failing(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise ArithmeticError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(ledger_module, "apply_steps", failing)
    report = import_workbook(ledger, book, by="王五")
    assert report.failed_row == header + 2
    assert report.summary()["rejected"] == report.rows_in == 3
    assert (ledger.leads(), ledger.events()) == before
    monkeypatch.setattr(ledger_module, "apply_steps", real)
    again = import_workbook(ledger, book, by="王五")
    assert again.summary()["updated"] == 3
    assert ledger.verify().ok


def test_open_ledger_follows_the_backend(bolt_server: BoltServer, tmp_path: Path) -> None:
    with Neo4jBackend.connect(bolt_server.settings) as backend:
        assert "leads" in backend.capabilities
        ledger = open_ledger(backend=backend)
        assert isinstance(ledger, Neo4jLedger)
        assert isinstance(open_ledger(backend=backend), Neo4jLedger)
        ledger.close()  # shares the backend's connection: closing it leaves the backend open
        assert open_ledger(backend=backend).leads() == ledger.leads()
    with open_ledger(bolt_server.settings) as own:
        assert isinstance(own, Neo4jLedger)
    embedded = EmbeddedBackend(tmp_path / "store.duckdb")
    assert "leads" in embedded.capabilities
    local = open_ledger(backend=embedded)
    assert isinstance(local, SqliteLedger)
    assert local.path == tmp_path / "leads.sqlite"
