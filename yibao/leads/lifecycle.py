"""The fixed lifecycle of a lead (线索): states, dispositions and the allowed transitions.

A lead is checked one by one to closure (逐条核查、闭环)::

    待核查 pending ─▶ 核查中 checking ─▶ 查实 confirmed ─▶ 处理 handling ─▶ 已结案 closed
                                      └─▶ 排除 cleared ───────────────────▶ 已结案 closed

Moving into 处理 (handling) needs at least one disposition (协议处理, 行政处罚, 移送公安,
移送纪检; more than one may apply). States and dispositions are English codes in code and data;
their Chinese and English labels live in :data:`STATES` and :data:`DISPOSITIONS` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Literal, TypeVar, get_args

from yibao.errors import LeadTransitionError

__all__ = [
    "DISPOSITIONS",
    "STATES",
    "TRANSITIONS",
    "Disposition",
    "State",
    "allowed_next",
    "check_transition",
    "disposition_label",
    "match_choice",
    "parse_disposition",
    "parse_state",
    "path_between",
    "state_label",
]

K = TypeVar("K", bound=str)

State = Literal["pending", "checking", "confirmed", "cleared", "handling", "closed"]
Disposition = Literal["agreement", "penalty", "police", "discipline"]

STATES: dict[State, tuple[str, str]] = {
    "pending": ("待核查", "pending"),
    "checking": ("核查中", "checking"),
    "confirmed": ("查实", "confirmed"),
    "cleared": ("排除", "cleared"),
    "handling": ("处理", "handling"),
    "closed": ("已结案", "closed"),
}
"""State code -> (Chinese, English) label, in lifecycle order."""

DISPOSITIONS: dict[Disposition, tuple[str, str]] = {
    "agreement": ("协议处理", "agreement measures"),
    "penalty": ("行政处罚", "administrative penalty"),
    "police": ("移送公安", "police referral"),
    "discipline": ("移送纪检", "discipline referral"),
}
"""Disposition code -> (Chinese, English) label."""

TRANSITIONS: dict[State, tuple[State, ...]] = {
    "pending": ("checking",),
    "checking": ("confirmed", "cleared"),
    "confirmed": ("handling",),
    "cleared": ("closed",),
    "handling": ("closed",),
    "closed": (),
}
"""State -> the states a lead may move to next."""

assert set(get_args(State)) == set(STATES) == set(TRANSITIONS)
assert set(get_args(Disposition)) == set(DISPOSITIONS)


def state_label(state: State) -> str:
    """``"待核查 (pending)"``: the Chinese name with the English in brackets."""
    zh, en = STATES[state]
    return f"{zh} ({en})"


def disposition_label(disposition: Disposition) -> str:
    """``"协议处理 (agreement measures)"``."""
    zh, en = DISPOSITIONS[disposition]
    return f"{zh} ({en})"


def allowed_next(state: State) -> tuple[State, ...]:
    """The states a lead in ``state`` may move to next (empty once closed)."""
    return TRANSITIONS[state]


def _allowed_text(state: State) -> str:
    nxt = allowed_next(state)
    if not nxt:
        return "none: a closed lead (已结案) does not change any more"
    return ", ".join(state_label(s) for s in nxt)


def match_choice(table: Mapping[K, tuple[str, str]], value: str) -> K | None:
    """The code of ``table`` (code → (Chinese, English)) that ``value`` names: the code, the
    Chinese or English name, or both as ``"中文 (English)"``; ``None`` when none."""
    text = value.strip()
    for code, (zh, en) in table.items():
        if text in (code, zh, en, f"{zh} ({en})"):
            return code
    return None


def parse_state(value: str) -> State:
    """A state from its code, Chinese or English name (``"查实"``, ``"confirmed"``)."""
    code = match_choice(STATES, value)
    if code is not None:
        return code
    raise LeadTransitionError(
        f"{value!r} is not a lead state: use one of "
        f"{', '.join(state_label(s) for s in STATES)}",
        reason="unknown_choice", field="state", value=value, allowed=tuple(STATES))


def parse_disposition(value: str) -> Disposition:
    """A disposition from its code, Chinese or English name (``"行政处罚"``, ``"penalty"``)."""
    code = match_choice(DISPOSITIONS, value)
    if code is not None:
        return code
    raise LeadTransitionError(
        f"{value!r} is not a disposition: use one or more of "
        f"{', '.join(disposition_label(d) for d in DISPOSITIONS)}",
        reason="unknown_choice", field="dispositions", value=value, allowed=tuple(DISPOSITIONS))


def check_transition(current: State, target: State,
                     dispositions: Iterable[Disposition] = ()) -> None:
    """Raise :class:`LeadTransitionError` unless a lead may move from ``current`` to ``target``
    in one step (reason ``"not_next"``); moving into 处理 (handling) needs at least one
    disposition (reason ``"needs_disposition"``)."""
    if target not in allowed_next(current):
        raise LeadTransitionError(
            f"a lead in state {state_label(current)} cannot move to {state_label(target)}; "
            f"allowed next: {_allowed_text(current)}",
            reason="not_next", state=current, target=target, allowed=allowed_next(current))
    if target == "handling" and not tuple(dispositions):
        raise LeadTransitionError(
            f"moving to {state_label('handling')} needs at least one disposition: "
            f"{', '.join(disposition_label(d) for d in DISPOSITIONS)}",
            reason="needs_disposition", state=current, target=target, field="dispositions",
            allowed=tuple(DISPOSITIONS))


def _paths(current: State, target: State) -> list[tuple[State, ...]]:
    """Every path from ``current`` to ``target`` (the lifecycle has no cycles)."""
    if current == target:
        return [()]
    return [(nxt, *rest) for nxt in allowed_next(current) for rest in _paths(nxt, target)]


def path_between(current: State, target: State, *, via: State | None = None
                 ) -> tuple[State, ...]:
    """The states a lead passes through from ``current`` to ``target``, ``target`` last
    (empty when they are the same), through ``via`` when given.

    :class:`LeadTransitionError` when the lifecycle does not lead there (backwards, or from 查实
    to 排除; reason ``"unreachable"``, ``value`` the ``via`` asked for), or when it leads there
    two ways (核查中 to 已结案 through 查实 or 排除) and ``via`` does not choose (reason
    ``"fork"``, ``allowed`` the states to choose from): the decision must be recorded, not
    guessed.
    """
    paths = [p for p in _paths(current, target) if via is None or via in p or via == current]
    if not paths:
        through = f" through {state_label(via)}" if via else ""
        raise LeadTransitionError(
            f"a lead in state {state_label(current)} can never reach {state_label(target)}"
            f"{through} (the lifecycle only moves forward); allowed next: "
            f"{_allowed_text(current)}",
            reason="unreachable", state=current, target=target, value=via,
            allowed=allowed_next(current))
    if len(paths) > 1:
        forks = sorted({p[k] for p in paths for k in range(len(p))
                        if sum(1 for q in paths if p[k] in q) < len(paths)})
        # the decision to record is the first fork: among the next states
        forks = [s for s in forks if s in allowed_next(current)] or forks
        raise LeadTransitionError(
            f"a lead in state {state_label(current)} reaches {state_label(target)} through "
            f"{' or '.join(state_label(s) for s in forks)}: record that decision first "
            f"(move it to one of them), then to {state_label(target)}",
            reason="fork", state=current, target=target, allowed=tuple(forks))
    return paths[0]
