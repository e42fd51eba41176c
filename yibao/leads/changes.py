"""What a change does to a lead: checked values, the steps of an edit, and the events they make.

An edit (:class:`LeadEdit`) may change fields, move the lead through the lifecycle and add or
remove links, all at once and all or nothing. :func:`plan_edit` turns it into steps, each of
which becomes one audit event and one version:

1. transitions along the lifecycle up to the target (one step each; only the next state unless
   ``multi_step``), dispositions going with the move into 处理 (handling);
2. one ``update`` step with every field that changes (in the target state, or just before the
   closing move when the target is 已结案, since a closed lead does not change);
3. the closing transition, if any; then ``link``/``unlink`` steps.

Field rules: a closed lead does not change; the amount recovered (追回金额) is recorded from 查实
(confirmed) on; dispositions change only in 处理 (handling) and never become empty there.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, cast

from yibao.errors import LeadError, LeadTransitionError
from yibao.leads.audit import TRACKED_FIELDS, encode_value, event_mac
from yibao.leads.lifecycle import (
    DISPOSITIONS,
    Disposition,
    State,
    allowed_next,
    check_transition,
    match_choice,
    parse_disposition,
    path_between,
    state_label,
)
from yibao.leads.model import (
    DUE_DAYS,
    LINK_KINDS,
    RISKS,
    SOURCES,
    Action,
    FieldChange,
    Lead,
    LeadDraft,
    LeadEvent,
    LinkKind,
    check_region,
    to_yuan,
)

if TYPE_CHECKING:
    from yibao.leads.seal import ChainKey

__all__ = [
    "EDITABLE",
    "FIELD_LABELS",
    "LeadEdit",
    "Step",
    "apply_steps",
    "create_event",
    "lead_from_draft",
    "normalise",
    "plan_edit",
]

FIELD_LABELS: dict[str, tuple[str, str]] = {
    "lead_id": ("线索编号", "lead id"),
    "version": ("版本", "version"),
    "source": ("来源", "source"),
    "source_ref": ("来源编号", "source reference"),
    "title": ("标题", "title"),
    "summary": ("摘要/证据", "summary / evidence"),
    "violation": ("违规类型", "violation type"),
    "risk": ("风险等级", "risk"),
    "risk_score": ("风险分", "risk score"),
    "state": ("状态", "state"),
    "owner": ("责任人", "owner"),
    "region": ("区划代码", "region"),
    "due": ("办结期限", "due date"),
    "amount_involved": ("涉及金额(元)", "amount involved (yuan)"),
    "amount_recovered": ("追回金额(元)", "amount recovered (yuan)"),
    "dispositions": ("处理方式", "dispositions"),
    "persons": ("关联参保人", "linked persons"),
    "institutions": ("关联机构", "linked institutions"),
    "practitioners": ("关联医师/药师", "linked practitioners"),
    "rings": ("关联团伙", "linked rings"),
    "created_at": ("创建时间", "created at"),
    "created_by": ("创建人", "created by"),
    "updated_at": ("更新时间", "updated at"),
    "updated_by": ("更新人", "updated by"),
}
"""Field -> (Chinese, English) label."""

EDITABLE: tuple[str, ...] = (
    "title", "summary", "violation", "risk", "risk_score", "owner", "region", "due",
    "amount_involved", "amount_recovered", "dispositions",
)
"""Fields an update may change (the state changes by transitions, links by link/unlink)."""

_RECOVERY_STATES: tuple[State, ...] = ("confirmed", "handling")


def _label(name: str) -> str:
    zh, en = FIELD_LABELS[name]
    return f"{zh} ({en})"


def _text(name: str, value: object, *, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise LeadError(f"{_label(name)} must not be empty", reason="empty", field=name)
    return text


def _optional_text(value: object) -> str | None:
    text = "" if value is None else str(value).strip()
    return text or None


def _due(value: object) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError as exc:
        raise LeadError(f"{_label('due')} {value!r} is not a date: write YYYY-MM-DD",
                        reason="not_date", field="due", value=value) from exc


def _score(value: object) -> float | None:
    if value is None or value == "":
        return None
    try:
        score = float(cast(Any, value))
    except (TypeError, ValueError) as exc:
        raise LeadError(f"{_label('risk_score')} {value!r} is not a number from 0 to 1",
                        reason="not_score", field="risk_score", value=value) from exc
    if not 0.0 <= score <= 1.0:
        raise LeadError(f"{_label('risk_score')} {value!r} must lie from 0 to 1",
                        reason="not_score", field="risk_score", value=value)
    return round(score, 4)


def _dispositions(value: object) -> tuple[Disposition, ...]:
    if value is None or value == "":
        return ()
    items: Iterable[object]
    if isinstance(value, str):
        items = [v for v in value.replace("，", ",").replace("、", ",").replace(";", ",")
                 .split(",") if v.strip()]
    elif isinstance(value, Iterable):
        items = value
    else:
        raise LeadError(f"{_label('dispositions')} {value!r}: give a list of dispositions",
                        reason="not_list", field="dispositions", value=value)
    chosen = {parse_disposition(str(v)) for v in items}
    return tuple(d for d in DISPOSITIONS if d in chosen)


def _codes(kind: str, value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [v for v in value.replace("，", ",").replace(";", ",").split(",")]
    if not isinstance(value, Iterable):
        raise LeadError(f"{_label(kind)}: give a list of codes, not {value!r}",
                        reason="not_list", field=kind, value=value)
    return tuple(sorted({str(v).strip() for v in value if str(v).strip()}))


def normalise(name: str, value: object) -> object:
    """``value`` checked and converted to the type field ``name`` holds on a :class:`Lead`
    (Decimal yuan, ``date``, a tuple of dispositions …); :class:`LeadError` says what is wrong
    and how to write it (``reason``, ``field`` and ``value`` on it: ``"empty"``, ``"not_date"``,
    ``"not_score"``, ``"not_list"``, ``"unknown_choice"`` with the accepted codes in
    ``allowed``, ``"not_editable"``, or :func:`~yibao.leads.model.to_yuan`'s and
    :func:`~yibao.leads.model.check_region`'s)."""
    if name == "title":
        return _text(name, value, required=True)
    if name in ("summary", "violation"):
        return _text(name, value)
    if name == "risk":
        code = match_choice(RISKS, _text(name, value))
        if code is not None:
            return code
        raise LeadError(f"{_label('risk')} {value!r} must be one of "
                        f"{', '.join(f'{zh} ({c})' for c, (zh, _) in RISKS.items())}",
                        reason="unknown_choice", field="risk", value=value,
                        allowed=tuple(RISKS))
    if name == "source":
        source = match_choice(SOURCES, _text(name, value))
        if source is not None:
            return source
        raise LeadError(f"{_label('source')} {value!r} must be one of "
                        f"{', '.join(f'{zh} ({c})' for c, (zh, _) in SOURCES.items())}",
                        reason="unknown_choice", field="source", value=value,
                        allowed=tuple(SOURCES))
    if name in ("owner", "source_ref"):
        return _optional_text(value)
    if name == "region":
        return check_region(_optional_text(value))
    if name == "due":
        return _due(value)
    if name == "risk_score":
        return _score(value)
    if name in ("amount_involved", "amount_recovered"):
        return to_yuan(Decimal(0) if value is None or value == "" else value, what=_label(name),
                       field=name)
    if name == "dispositions":
        return _dispositions(value)
    if name in LINK_KINDS:
        return _codes(name, value)
    raise LeadError(f"{name!r} is not a field a change can set: use one of {', '.join(EDITABLE)}",
                    reason="not_editable", value=name, allowed=EDITABLE)


@dataclass(frozen=True)
class LeadEdit:
    """Changes to one lead, applied together or not at all (see the module docstring).

    ``fields``: field name -> new value (any of :data:`EDITABLE`, checked by
    :func:`normalise`); ``to_state``: where the lead should end up; ``dispositions``: for the
    move into 处理 (handling) or, in handling, new dispositions; ``link``/``unlink``: link kind ->
    codes; ``multi_step``: pass through intermediate states (an import row may say 查实 for a lead
    still 待核查), else only the next state is allowed.
    """

    fields: Mapping[str, object] = field(default_factory=dict)
    to_state: State | None = None
    dispositions: tuple[Disposition, ...] | None = None
    link: Mapping[LinkKind, tuple[str, ...]] = field(default_factory=dict)
    unlink: Mapping[LinkKind, tuple[str, ...]] = field(default_factory=dict)
    multi_step: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.fields) - set(EDITABLE))
        if unknown:
            raise LeadError(f"field(s) {unknown} cannot be edited: editable are "
                            f"{', '.join(EDITABLE)} (the state moves by transition, links by "
                            "link/unlink)", reason="not_editable", value=", ".join(unknown),
                            allowed=EDITABLE)
        checked = {name: normalise(name, value) for name, value in self.fields.items()}
        object.__setattr__(self, "fields", MappingProxyType(checked))
        if self.dispositions is not None:
            object.__setattr__(self, "dispositions", _dispositions(self.dispositions))
        for name in ("link", "unlink"):
            given = getattr(self, name)
            bad = sorted(set(given) - set(LINK_KINDS))
            if bad:
                raise LeadError(f"cannot {name} {bad}: link kinds are {', '.join(LINK_KINDS)}",
                                reason="unknown_choice", value=", ".join(bad),
                                allowed=LINK_KINDS)
            object.__setattr__(self, name, MappingProxyType(
                {k: _codes(k, v) for k, v in given.items() if v}))


@dataclass(frozen=True)
class Step:
    """One planned change, to become one event: typed ``(field, old, new)`` triples."""

    action: Action
    from_state: State | None
    to_state: State | None
    changes: tuple[tuple[str, object, object], ...]


def _closed() -> LeadTransitionError:
    return LeadTransitionError(
        f"the lead is {state_label('closed')} and does not change any more", reason="closed",
        state="closed")


def _check_fields(state: State, changes: Mapping[str, tuple[object, object]]) -> None:
    """Refuse field changes the lead's ``state`` does not allow: reasons ``"closed"``,
    ``"recovered_too_early"`` (``allowed`` the states that record it), ``"not_in_handling"``
    and ``"keep_disposition"``."""
    if state == "closed":
        raise _closed()
    recovered = changes.get("amount_recovered")
    if recovered is not None and state not in _RECOVERY_STATES and recovered[1] != Decimal(0):
        raise LeadError(
            f"{_label('amount_recovered')} is recorded from {state_label('confirmed')} on; "
            f"the lead is {state_label(state)}", reason="recovered_too_early",
            field="amount_recovered", value=recovered[1], state=state,
            allowed=_RECOVERY_STATES)
    disp = changes.get("dispositions")
    if disp is not None:
        if state != "handling":
            raise LeadError(
                f"{_label('dispositions')} are set when the lead moves to "
                f"{state_label('handling')}; it is {state_label(state)}",
                reason="not_in_handling", field="dispositions", state=state)
        if not disp[1]:
            raise LeadError(f"a lead in {state_label('handling')} keeps at least one "
                            "disposition", reason="keep_disposition", field="dispositions",
                            state=state, allowed=tuple(DISPOSITIONS))


def _transition(lead_state: State, target: State,
                dispositions: tuple[Disposition, ...], old_disp: tuple[Disposition, ...]) -> Step:
    changes: list[tuple[str, object, object]] = [("state", lead_state, target)]
    if target == "handling":
        changes.append(("dispositions", old_disp, dispositions))
    return Step("transition", lead_state, target, tuple(changes))


def plan_edit(lead: Lead, edit: LeadEdit) -> list[Step]:
    """The steps that make ``edit`` on ``lead`` (empty when nothing changes); raises
    :class:`LeadTransitionError` or :class:`LeadError` when the edit is not allowed (with the
    lead's id on it; reason ``"already"`` when it is already in the state asked for)."""
    try:
        return _plan(lead, edit)
    except LeadError as exc:
        if exc.lead_id is None:
            exc.lead_id = lead.lead_id
        raise


def _plan(lead: Lead, edit: LeadEdit) -> list[Step]:
    target = edit.to_state or lead.state
    if edit.multi_step:
        via: State | None = "handling" if edit.dispositions else None
        path = path_between(lead.state, target, via=via)
    elif edit.to_state is not None:
        if target == lead.state:
            raise LeadTransitionError(
                f"the lead is already {state_label(target)}; allowed next: "
                f"{', '.join(state_label(s) for s in allowed_next(target)) or 'none'}",
                reason="already", state=target, target=target, allowed=allowed_next(target))
        check_transition(lead.state, target, edit.dispositions or ())
        path = (target,)
    else:
        path = ()
    changes = {name: (getattr(lead, name), value) for name, value in edit.fields.items()
               if getattr(lead, name) != value}
    disp = edit.dispositions
    if "dispositions" in changes:
        disp = cast(tuple[Disposition, ...], changes.pop("dispositions")[1])
    if "handling" in path:
        at = path.index("handling")
        check_transition(path[at - 1] if at else lead.state, "handling", disp or ())
    elif disp is not None and disp != lead.dispositions:
        changes["dispositions"] = (lead.dispositions, disp)
    closing = bool(path) and path[-1] == "closed"
    before = path[:-1] if closing else path
    update_state = before[-1] if before else lead.state
    steps: list[Step] = []
    state = lead.state
    for nxt in before:
        steps.append(_transition(state, nxt, disp or (), lead.dispositions))
        state = nxt
    if changes:
        _check_fields(update_state, changes)
        steps.append(Step("update", None, None,
                          tuple((k, old, new) for k, (old, new) in sorted(changes.items()))))
    if closing:
        steps.append(_transition(state, "closed", (), lead.dispositions))
        state = "closed"
    for action, given in (("link", edit.link), ("unlink", edit.unlink)):
        moves = []
        for kind in LINK_KINDS:
            have = set(lead.links(kind))
            codes = set(given.get(kind, ()))
            moved = sorted(codes - have) if action == "link" else sorted(codes & have)
            if moved:
                moves.append((kind, () if action == "link" else tuple(moved),
                              tuple(moved) if action == "link" else ()))
        if moves:
            if state == "closed":
                raise _closed()
            steps.append(Step(cast(Action, action), None, None, tuple(moves)))
    return steps


def _encoded(changes: Iterable[tuple[str, object, object]]) -> tuple[FieldChange, ...]:
    return tuple(FieldChange(name, encode_value(old), encode_value(new))
                 for name, old, new in changes)


def apply_steps(lead: Lead, steps: Iterable[Step], *, at: datetime, by: str, note: str,
                seq: int, prev_hash: str, key: ChainKey) -> tuple[Lead, list[LeadEvent]]:
    """``lead`` after ``steps`` and the chained events recording them, sealed with ``key``;
    ``seq`` and ``prev_hash`` are the ledger's last event's."""
    events: list[LeadEvent] = []
    for step in steps:
        values: dict[str, object] = {}
        for name, old, new in step.changes:
            if step.action == "link":
                values[name] = tuple(sorted({*lead.links(cast(LinkKind, name)),
                                             *cast(tuple[str, ...], new)}))
            elif step.action == "unlink":
                values[name] = tuple(c for c in lead.links(cast(LinkKind, name))
                                     if c not in set(cast(tuple[str, ...], old)))
            else:
                values[name] = new
        seq += 1
        lead = dataclasses.replace(lead, **values, version=lead.version + 1,  # type: ignore[arg-type]
                                   updated_at=at, updated_by=by)
        event = LeadEvent(seq=seq, lead_id=lead.lead_id, version=lead.version, at=at, by=by,
                          action=step.action, from_state=step.from_state,
                          to_state=step.to_state, changes=_encoded(step.changes), note=note,
                          prev_hash=prev_hash, hash="")
        event = dataclasses.replace(event, hash=event_mac(key, prev_hash, event))
        prev_hash = event.hash
        events.append(event)
    return lead, events


def lead_from_draft(draft: LeadDraft, *, lead_id: str, at: datetime, by: str) -> Lead:
    """A new lead (version 1, 待核查 pending) from ``draft``; the due date defaults to the
    creation day plus :data:`~yibao.leads.model.DUE_DAYS` of its risk."""
    if draft.source not in SOURCES:
        normalise("source", draft.source)
    risk = cast(Any, normalise("risk", draft.risk))
    due = _due(draft.due)
    if due is None:
        due = at.date() + timedelta(days=DUE_DAYS[risk])
    return Lead(
        lead_id=lead_id, source=draft.source,
        source_ref=cast(str | None, normalise("source_ref", draft.source_ref)),
        title=cast(str, normalise("title", draft.title)),
        summary=cast(str, normalise("summary", draft.summary)),
        violation=cast(str, normalise("violation", draft.violation)), risk=risk,
        risk_score=_score(draft.risk_score), state="pending",
        owner=_optional_text(draft.owner), region=check_region(draft.region), due=due,
        amount_involved=to_yuan(draft.amount_involved, what=_label("amount_involved"),
                                field="amount_involved"),
        amount_recovered=Decimal("0.00"), dispositions=(),
        persons=_codes("persons", draft.persons),
        institutions=_codes("institutions", draft.institutions),
        practitioners=_codes("practitioners", draft.practitioners),
        rings=_codes("rings", draft.rings), version=1, created_at=at, created_by=by,
        updated_at=at, updated_by=by)


def create_event(lead: Lead, *, seq: int, note: str, prev_hash: str, key: ChainKey
                 ) -> LeadEvent:
    """The ``create`` event of a new ``lead``: every tracked field from ``None`` to its value,
    sealed with ``key``."""
    event = LeadEvent(
        seq=seq, lead_id=lead.lead_id, version=1, at=lead.created_at, by=lead.created_by,
        action="create", from_state=None, to_state=lead.state,
        changes=_encoded((name, None, getattr(lead, name)) for name in TRACKED_FIELDS),
        note=note, prev_hash=prev_hash, hash="")
    return dataclasses.replace(event, hash=event_mac(key, prev_hash, event))
