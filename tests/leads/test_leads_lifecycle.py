"""The lifecycle: the allowed moves, the refusals and their messages, paths through it."""

from __future__ import annotations

import pytest

from yibao.errors import LeadTransitionError
from yibao.leads.lifecycle import (
    STATES,
    TRANSITIONS,
    allowed_next,
    check_transition,
    parse_disposition,
    parse_state,
    path_between,
    state_label,
)


def test_the_fixed_lifecycle() -> None:
    assert TRANSITIONS == {
        "pending": ("checking",), "checking": ("confirmed", "cleared"),
        "confirmed": ("handling",), "cleared": ("closed",), "handling": ("closed",),
        "closed": (),
    }
    assert [STATES[s][0] for s in STATES] == ["待核查", "核查中", "查实", "排除", "处理", "已结案"]
    assert state_label("confirmed") == "查实 (confirmed)"


@pytest.mark.parametrize(("current", "target"), [
    ("pending", "confirmed"), ("checking", "handling"), ("confirmed", "cleared"),
    ("cleared", "handling"), ("handling", "confirmed"), ("closed", "pending"),
    ("pending", "pending"),
])
def test_illegal_moves_name_the_state_and_the_allowed_ones(current: str, target: str) -> None:
    allowed = allowed_next(current)  # type: ignore[arg-type]
    with pytest.raises(LeadTransitionError) as info:
        check_transition(current, target, ["agreement"])  # type: ignore[arg-type]
    message = str(info.value)
    assert state_label(current) in message  # type: ignore[arg-type]
    assert state_label(target) in message  # type: ignore[arg-type]
    for state in allowed:
        assert state_label(state) in message
    if not allowed:
        assert "已结案" in message


def test_every_allowed_move_passes() -> None:
    for current, targets in TRANSITIONS.items():
        for target in targets:
            check_transition(current, target, ["penalty"])


def test_handling_needs_a_disposition() -> None:
    with pytest.raises(LeadTransitionError, match=r"at least one disposition.*协议处理"):
        check_transition("confirmed", "handling", [])
    check_transition("confirmed", "handling", ["police", "discipline"])


def test_paths_go_forward_only() -> None:
    assert path_between("pending", "pending") == ()
    assert path_between("pending", "confirmed") == ("checking", "confirmed")
    assert path_between("pending", "closed", via="handling") == (
        "checking", "confirmed", "handling", "closed")
    assert path_between("checking", "closed", via="cleared") == ("cleared", "closed")
    assert path_between("confirmed", "closed") == ("handling", "closed")
    assert path_between("checking", "cleared") == ("cleared",)
    with pytest.raises(LeadTransitionError,
                       match=r"through 排除 \(cleared\) or 查实 \(confirmed\).*record that"):
        path_between("pending", "closed")
    with pytest.raises(LeadTransitionError, match=r"can never reach 排除 \(cleared\)"):
        path_between("confirmed", "cleared")
    with pytest.raises(LeadTransitionError, match="only moves forward"):
        path_between("handling", "pending")


def test_states_and_dispositions_parse_from_either_language() -> None:
    assert parse_state("查实") == parse_state("confirmed") == parse_state("查实 (confirmed)")
    assert parse_state(" 已结案 ") == "closed"
    assert parse_disposition("移送公安") == parse_disposition("police") == "police"
    with pytest.raises(LeadTransitionError, match=r"'done' is not a lead state.*待核查"):
        parse_state("done")
    with pytest.raises(LeadTransitionError, match=r"not a disposition.*行政处罚"):
        parse_disposition("warn")
