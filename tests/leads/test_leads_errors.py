"""The ledger's refusals carry their facts (reason, lead, state, state asked for, allowed next
states, field, value, who changed the lead and when) beside an English message, so a user
interface can say them in its own language."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.leads.ledger_helpers import Clock, draft
from yibao.errors import (
    LeadConflictError,
    LeadError,
    LeadNotFoundError,
    LeadTransitionError,
)
from yibao.leads.lifecycle import check_transition, parse_state, path_between
from yibao.leads.model import LeadFilter, check_region, to_yuan
from yibao.leads.sqlite_ledger import SqliteLedger


def test_a_move_the_lifecycle_forbids_names_state_target_and_allowed() -> None:
    with pytest.raises(LeadTransitionError, match=r"cannot move to 查实 \(confirmed\)") as info:
        check_transition("pending", "confirmed")
    exc = info.value
    assert (exc.reason, exc.state, exc.target, exc.allowed) == (
        "not_next", "pending", "confirmed", ("checking",))
    with pytest.raises(LeadTransitionError) as info:
        check_transition("closed", "pending")
    assert info.value.allowed == ()


def test_handling_without_disposition_names_the_dispositions() -> None:
    with pytest.raises(LeadTransitionError, match="at least one disposition") as info:
        check_transition("confirmed", "handling")
    exc = info.value
    assert (exc.reason, exc.field, exc.target) == ("needs_disposition", "dispositions",
                                                   "handling")
    assert exc.allowed == ("agreement", "penalty", "police", "discipline")


def test_paths_that_do_not_lead_there_say_why() -> None:
    with pytest.raises(LeadTransitionError) as info:
        path_between("confirmed", "cleared")
    assert (info.value.reason, info.value.allowed) == ("unreachable", ("handling",))
    with pytest.raises(LeadTransitionError) as info:
        path_between("checking", "closed")
    assert (info.value.reason, set(info.value.allowed)) == ("fork", {"confirmed", "cleared"})
    with pytest.raises(LeadTransitionError) as info:
        parse_state("done")
    assert (info.value.reason, info.value.field, info.value.value) == (
        "unknown_choice", "state", "done")
    assert info.value.allowed[0] == "pending"


@pytest.mark.parametrize(("value", "reason"), [
    ("abc", "not_amount"), (-1, "negative"), ("1.234", "too_fine"), (True, "not_amount")])
def test_amounts_refused_with_field_and_value(value: object, reason: str) -> None:
    with pytest.raises(LeadError) as info:
        to_yuan(value, field="amount_recovered")
    assert (info.value.reason, info.value.field, info.value.value) == (
        reason, "amount_recovered", value)


def test_regions_and_filters() -> None:
    with pytest.raises(LeadError, match="6-digit") as info:
        check_region("34")
    assert (info.value.reason, info.value.field, info.value.value) == (
        "bad_region", "region", "34")
    with pytest.raises(LeadError) as info:
        LeadFilter(linked=("cars", "X"))  # type: ignore[arg-type]
    assert info.value.reason == "unknown_choice"


def test_a_stale_write_carries_who_when_what(ledger: SqliteLedger, clock: Clock) -> None:
    lead = ledger.add(draft(1), by="张三")
    clock.advance(minutes=5)
    ledger.transition(lead.lead_id, "checking", expected_version=1, by="李四", note="开始")
    with pytest.raises(LeadConflictError, match="reload") as info:
        ledger.update(lead.lead_id, {"owner": "王五"}, expected_version=1, by="王五")
    exc = info.value
    assert (exc.reason, exc.lead_id, exc.expected_version, exc.current_version, exc.state) == (
        "changed", lead.lead_id, 1, 2, "checking")
    assert [(e.version, e.by, e.at, e.to_state) for e in exc.changes] == [
        (2, "李四", clock.now, "checking")]
    assert "by 李四" in str(exc)


def test_a_duplicate_source_reference_names_the_existing_lead(ledger: SqliteLedger) -> None:
    first = ledger.add(draft(1), by="张三")
    with pytest.raises(LeadConflictError) as info:
        ledger.add(draft(1), by="李四")
    assert (info.value.reason, info.value.lead_id, info.value.value) == (
        "duplicate", first.lead_id, "R0001")
    assert info.value.current_version is None


def test_refusals_of_an_edit_name_the_lead_and_field(ledger: SqliteLedger) -> None:
    lead = ledger.add(draft(1), by="张三")
    with pytest.raises(LeadError) as info:
        ledger.update(lead.lead_id, {"amount_recovered": Decimal(5)}, expected_version=1,
                      by="张三")
    exc = info.value
    assert (exc.reason, exc.lead_id, exc.field, exc.state) == (
        "recovered_too_early", lead.lead_id, "amount_recovered", "pending")
    assert exc.allowed == ("confirmed", "handling")
    with pytest.raises(LeadTransitionError) as info:
        ledger.transition(lead.lead_id, "closed", expected_version=1, by="张三")
    assert (info.value.reason, info.value.lead_id, info.value.allowed) == (
        "not_next", lead.lead_id, ("checking",))
    with pytest.raises(LeadError) as info:
        ledger.update(lead.lead_id, {"title": " "}, expected_version=1, by="张三")
    assert (info.value.reason, info.value.field) == ("empty", "title")
    with pytest.raises(LeadNotFoundError) as info:
        ledger.transition("XS-2024-999999", "checking", expected_version=1, by="张三")
    assert (info.value.reason, info.value.lead_id) == ("not_found", "XS-2024-999999")
    with pytest.raises(LeadNotFoundError) as info:
        ledger.get("XS-2024-999999")
    assert info.value.lead_id == "XS-2024-999999"


def test_a_lead_in_handling_keeps_a_disposition(ledger: SqliteLedger) -> None:
    lead = ledger.add(draft(1), by="张三")
    for state in ("checking", "confirmed"):
        lead = ledger.transition(lead.lead_id, state, expected_version=lead.version, by="张三")
    lead = ledger.transition(lead.lead_id, "handling", expected_version=lead.version,
                             by="张三", dispositions=("penalty",))
    with pytest.raises(LeadError, match="keeps at least one") as info:
        ledger.update(lead.lead_id, {"dispositions": ()}, expected_version=lead.version,
                      by="张三")
    assert (info.value.reason, info.value.field, info.value.state) == (
        "keep_disposition", "dispositions", "handling")
    closed = ledger.transition(lead.lead_id, "closed", expected_version=lead.version,
                               by="张三")
    with pytest.raises(LeadTransitionError) as info:
        ledger.update(lead.lead_id, {"owner": "x"}, expected_version=closed.version, by="张三")
    assert (info.value.reason, info.value.state) == ("closed", "closed")
