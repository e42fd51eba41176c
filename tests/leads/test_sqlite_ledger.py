"""The embedded ledger: creating, moving, editing, linking and listing leads, each change one
audited event, stale writes refused, the file in WAL mode beside the store."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from tests.leads.ledger_helpers import Clock, draft
from yibao.errors import (
    LeadConflictError,
    LeadError,
    LeadNotFoundError,
    LeadTransitionError,
)
from yibao.leads import LeadEdit, LeadFilter
from yibao.leads.sqlite_ledger import SqliteLedger
from yibao.settings import Settings
from yibao.stores import open_ledger


def test_a_new_lead_is_pending_with_a_readable_id(ledger: SqliteLedger, clock: Clock) -> None:
    lead = ledger.add(draft(1), by="张三", note="from ring")
    assert lead.lead_id == "XS-2024-000001"
    assert (lead.state, lead.version, lead.created_by, lead.updated_at) == (
        "pending", 1, "张三", clock.now)
    assert lead.due == date(2024, 5, 31)  # high risk: 30 days
    assert lead.persons == ("P1", "P2")  # links sorted
    assert ledger.get(lead.lead_id) == lead
    assert ledger.find("ring", "R0001") == lead
    assert ledger.find("ring", "R9999") is None
    assert ledger.add(draft(2, risk="low", due=None), by="张三").due == date(2024, 7, 30)
    (event,) = ledger.history(lead.lead_id)
    assert (event.seq, event.action, event.version, event.by, event.note) == (
        1, "create", 1, "张三", "from ring")
    assert event.change("amount_involved") is not None
    assert event.change("amount_involved").new == "12345.67"  # type: ignore[union-attr]


def test_numbers_count_per_year(ledger: SqliteLedger, clock: Clock) -> None:
    ids = [ledger.add(draft(n), by="a").lead_id for n in range(3)]
    clock.now = clock.now.replace(year=2025)
    ids.append(ledger.add(draft(9), by="a").lead_id)
    assert ids == ["XS-2024-000001", "XS-2024-000002", "XS-2024-000003", "XS-2025-000001"]


def test_a_source_reference_makes_one_lead(ledger: SqliteLedger) -> None:
    first = ledger.add_many([draft(1), draft(2), draft(1)], by="a")
    assert [lead.source_ref for lead in first.created] == ["R0001", "R0002"]
    again = ledger.add_many([draft(1), draft(2), draft(3)], by="a")
    assert [lead.source_ref for lead in again.created] == ["R0003"]
    assert again.existing == ("XS-2024-000001", "XS-2024-000002")
    with pytest.raises(LeadConflictError, match="already has lead XS-2024-000001"):
        ledger.add(draft(1), by="a")
    assert len(ledger.leads()) == 3
    assert len(ledger.events()) == 3
    manual = [draft(source="report", source_ref=None)] * 2  # no reference: both are new
    assert len(ledger.add_many(manual, by="a").created) == 2


def test_a_lead_goes_from_pending_to_closed(ledger: SqliteLedger, clock: Clock) -> None:
    lead = ledger.add(draft(1), by="张三")
    steps = [("checking", {}), ("confirmed", {}),
             ("handling", {"dispositions": ["agreement", "penalty"]}), ("closed", {})]
    for k, (state, extra) in enumerate(steps, start=1):
        clock.advance(days=1)
        lead = ledger.transition(lead.lead_id, state, expected_version=lead.version,  # type: ignore[arg-type]
                                 by="李四", note=f"step {k}", **extra)  # type: ignore[arg-type]
        assert (lead.state, lead.version, lead.updated_by) == (state, k + 1, "李四")
    assert lead.dispositions == ("agreement", "penalty")
    history = ledger.history(lead.lead_id)
    assert [(e.action, e.from_state, e.to_state) for e in history] == [
        ("create", None, "pending"), ("transition", "pending", "checking"),
        ("transition", "checking", "confirmed"), ("transition", "confirmed", "handling"),
        ("transition", "handling", "closed")]
    assert history[3].change("dispositions").new == ["agreement", "penalty"]  # type: ignore[union-attr]
    assert [e.note for e in history[1:]] == ["step 1", "step 2", "step 3", "step 4"]
    with pytest.raises(LeadTransitionError, match=r"已结案 \(closed\).*does not change"):
        ledger.update(lead.lead_id, {"owner": "王五"}, expected_version=lead.version, by="王五")


def test_illegal_transition_is_refused_and_changes_nothing(ledger: SqliteLedger) -> None:
    lead = ledger.add(draft(1), by="a")
    with pytest.raises(LeadTransitionError,
                       match=r"待核查 \(pending\) cannot move to 查实 \(confirmed\).*"
                             r"allowed next: 核查中 \(checking\)"):
        ledger.transition(lead.lead_id, "confirmed", expected_version=1, by="a")
    lead = ledger.transition(lead.lead_id, "checking", expected_version=1, by="a")
    lead = ledger.transition(lead.lead_id, "confirmed", expected_version=2, by="a")
    with pytest.raises(LeadTransitionError, match="at least one disposition"):
        ledger.transition(lead.lead_id, "handling", expected_version=3, by="a")
    assert ledger.get(lead.lead_id) == lead
    assert len(ledger.history(lead.lead_id)) == 3


def test_stale_write_is_a_conflict_that_says_who_when_what(ledger: SqliteLedger,
                                                            clock: Clock) -> None:
    lead = ledger.add(draft(1), by="张三")
    clock.advance(hours=2)
    ledger.update(lead.lead_id, {"owner": "李四"}, expected_version=1, by="李四")
    with pytest.raises(LeadConflictError) as info:
        ledger.transition(lead.lead_id, "checking", expected_version=1, by="王五")
    message = str(info.value)
    assert "XS-2024-000001" in message
    assert "by 李四 at 2024-05-01 11:00:00" in message
    assert "责任人: None → '李四'" in message
    assert "reload" in message
    assert (info.value.expected_version, info.value.current_version) == (1, 2)
    assert ledger.get(lead.lead_id).state == "pending"
    assert len(ledger.history(lead.lead_id)) == 2


def test_updates_are_checked_and_recorded_old_to_new(ledger: SqliteLedger) -> None:
    lead = ledger.add(draft(1), by="a")
    lead = ledger.update(lead.lead_id, {"owner": "李四", "due": "2024-06-15",
                                        "amount_involved": "20,000.5", "title": "新标题"},
                         expected_version=1, by="b", note="分派")
    assert (lead.owner, lead.due, lead.amount_involved, lead.version) == (
        "李四", date(2024, 6, 15), Decimal("20000.50"), 2)
    event = ledger.history(lead.lead_id)[-1]
    assert event.action == "update"
    assert {c.field: (c.old, c.new) for c in event.changes} == {
        "owner": (None, "李四"), "due": ("2024-05-31", "2024-06-15"),
        "amount_involved": ("12345.67", "20000.50"), "title": ("聚集性刷卡 团伙 1", "新标题")}
    same = ledger.update(lead.lead_id, {"owner": "李四"}, expected_version=2, by="b")
    assert same == lead  # nothing changed: no event, no new version
    assert len(ledger.history(lead.lead_id)) == 2
    with pytest.raises(LeadError, match=r"追回金额.*from 查实 \(confirmed\) on"):
        ledger.update(lead.lead_id, {"amount_recovered": 5}, expected_version=2, by="b")
    with pytest.raises(LeadError, match=r"处理方式.*when the lead moves to 处理"):
        ledger.update(lead.lead_id, {"dispositions": ["penalty"]}, expected_version=2, by="b")
    with pytest.raises(LeadError, match=r"cannot be edited.*state"):
        ledger.update(lead.lead_id, {"state": "closed"}, expected_version=2, by="b")
    with pytest.raises(LeadError, match=r"标题.*must not be empty"):
        ledger.update(lead.lead_id, {"title": " "}, expected_version=2, by="b")
    with pytest.raises(LeadError, match="say who"):
        ledger.update(lead.lead_id, {"owner": "c"}, expected_version=2, by=" ")
    with pytest.raises(LeadNotFoundError, match="no lead 'XS-2024-999999'"):
        ledger.update("XS-2024-999999", {"owner": "c"}, expected_version=1, by="c")
    assert ledger.get(lead.lead_id) == lead


def test_recovered_money_and_closing_in_one_edit(ledger: SqliteLedger) -> None:
    lead = ledger.add(draft(1), by="a")
    lead = ledger.edit(lead.lead_id, LeadEdit(to_state="closed", dispositions=("penalty",),
                                              fields={"amount_recovered": "9000"},
                                              multi_step=True),
                       expected_version=1, by="b", note="一次导入")
    assert (lead.state, lead.amount_recovered, lead.dispositions, lead.version) == (
        "closed", Decimal("9000.00"), ("penalty",), 6)
    actions = [(e.action, e.to_state) for e in ledger.history(lead.lead_id)]
    assert actions == [("create", "pending"), ("transition", "checking"),
                       ("transition", "confirmed"), ("transition", "handling"),
                       ("update", None), ("transition", "closed")]


def test_links_are_added_and_removed(ledger: SqliteLedger) -> None:
    lead = ledger.add(draft(1), by="a")
    lead = ledger.link(lead.lead_id, "institutions", ["P3", "H34120000017"],
                       expected_version=1, by="b")
    assert (lead.institutions, lead.version) == (("H34120000017", "P3"), 2)
    lead = ledger.link(lead.lead_id, "persons", ["P1", "P9"], expected_version=2, by="b",
                       remove=True)
    assert lead.persons == ("P2",)
    events = ledger.history(lead.lead_id)
    assert [(e.action, [(c.field, c.old, c.new) for c in e.changes]) for e in events[1:]] == [
        ("link", [("institutions", [], ["P3"])]), ("unlink", [("persons", ["P1"], [])])]
    assert ledger.leads(LeadFilter(linked=("institutions", "P3"))) == [lead]
    assert ledger.leads(LeadFilter(linked=("persons", "P1"))) == []


def test_filters_overdue_and_escalation(ledger: SqliteLedger, clock: Clock) -> None:
    high = ledger.add(draft(1), by="a")  # due 2024-05-31
    medium = ledger.add(draft(2, risk="medium", region="320583", title="昆山 住院"), by="a")
    low = ledger.add(draft(3, risk="low", region="341282", source="report"), by="a")
    assert [x.lead_id for x in ledger.leads()] == [high.lead_id, medium.lead_id, low.lead_id]
    assert ledger.leads(LeadFilter(risks=("high", "low"))) == [high, low]
    assert ledger.leads(LeadFilter(region="340000")) == [high, low]
    assert ledger.leads(LeadFilter(region="341200")) == [high, low]
    assert ledger.leads(LeadFilter(region="341282")) == [low]
    assert ledger.leads(LeadFilter(sources=("report",))) == [low]
    assert ledger.leads(LeadFilter(text="昆山")) == [medium]
    assert ledger.leads(LeadFilter(text="xs-2024-000003")) == [low]
    assert ledger.overdue() == []
    clock.now += timedelta(days=61)  # 2024-07-01: high and medium past due, low not
    assert ledger.overdue() == [high, medium]
    assert ledger.escalations() == [high]
    assert ledger.leads(LeadFilter(overdue=False)) == [low]
    assert ledger.escalations(today=date(2024, 5, 1)) == []
    moved = ledger.transition(high.lead_id, "checking", expected_version=1, by="a")
    assert ledger.leads(LeadFilter(states=("checking",))) == [moved]
    assert [x.lead_id for x in ledger.leads(order_by="risk")] == [
        high.lead_id, medium.lead_id, low.lead_id]
    assert ledger.leads(order_by="updated")[0].lead_id == high.lead_id


def test_sums_of_amounts_are_exact(ledger: SqliteLedger) -> None:
    report = ledger.add_many([draft(n, amount_involved=Decimal("0.10")) for n in range(1000)],
                             by="a")
    assert len(report.created) == 1000
    assert sum(x.amount_involved for x in ledger.leads()) == Decimal("100.00")


def test_file_is_wal_beside_the_store(tmp_path: Path, clock: Clock) -> None:
    settings = Settings.from_env({}, db=tmp_path / "yibao.duckdb")
    with open_ledger(settings) as led:
        assert isinstance(led, SqliteLedger)
        assert led.path == tmp_path / "leads.sqlite"
        assert led.file_mode() == "wal"
    custom = Settings.from_env({"YIBAO_LEADS": str(tmp_path / "x" / "mine.sqlite")})
    with open_ledger(custom, backend="embedded") as led:
        assert isinstance(led, SqliteLedger)
        assert led.path == tmp_path / "x" / "mine.sqlite"
    with open_ledger(settings) as again:  # reopening keeps what was written
        again.add(draft(1), by="a")
    assert len(SqliteLedger(tmp_path / "leads.sqlite").leads()) == 1


def test_moving_to_the_state_it_is_in_is_refused(ledger: SqliteLedger) -> None:
    lead = ledger.add(draft(1), by="a")
    with pytest.raises(LeadTransitionError, match=r"already 待核查 \(pending\).*核查中"):
        ledger.transition(lead.lead_id, "pending", expected_version=1, by="a")
    assert ledger.get(lead.lead_id).version == 1
