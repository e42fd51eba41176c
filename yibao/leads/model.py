"""What a lead (线索) is: the lead, the draft it is created from, its audit events, a filter.

Money is :class:`~decimal.Decimal` yuan with two places (fen) everywhere in the API and integer
fen in storage, so sums never drift. Times are naive local ``datetime``; dates are ``date``.
Codes are English (``source``, ``risk``, ``state``); their Chinese/English labels are in
:data:`SOURCES`, :data:`RISKS` and :mod:`yibao.leads.lifecycle`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Literal, get_args

from yibao.errors import LeadError
from yibao.leads.lifecycle import Disposition, State

__all__ = [
    "DUE_DAYS",
    "LINK_KINDS",
    "RISKS",
    "SOURCES",
    "FieldChange",
    "Lead",
    "LeadDraft",
    "LeadEvent",
    "LeadFilter",
    "LinkKind",
    "Risk",
    "Source",
    "check_region",
    "fen_to_yuan",
    "region_prefix",
    "risk_from_score",
    "risk_label",
    "source_label",
    "to_yuan",
    "yuan_to_fen",
]

Source = Literal["ring", "chain", "rule_hit", "report", "national", "inspection", "manual"]
Risk = Literal["high", "medium", "low"]
LinkKind = Literal["persons", "institutions", "practitioners", "rings"]
Action = Literal["create", "transition", "update", "link", "unlink"]

SOURCES: dict[Source, tuple[str, str]] = {
    "ring": ("团伙识别", "detected ring"),
    "chain": ("回流药链条", "resale chain"),
    "rule_hit": ("规则命中", "rule hits"),
    "report": ("举报", "report"),
    "national": ("国家局线索", "national bureau"),
    "inspection": ("检查发现", "inspection"),
    "manual": ("手工录入", "entered by hand"),
}
"""Source code -> (Chinese, English) label."""

RISKS: dict[Risk, tuple[str, str]] = {
    "high": ("高", "high"),
    "medium": ("中", "medium"),
    "low": ("低", "low"),
}
"""Risk code -> (Chinese, English) label."""

LINK_KINDS: tuple[LinkKind, ...] = ("persons", "institutions", "practitioners", "rings")
"""What a lead links to: persons (psn_no), institutions (fixmedins_code), practitioners
(dr_codg) and rings (ring_id)."""

DUE_DAYS: dict[Risk, int] = {"high": 30, "medium": 60, "low": 90}
"""Days from creation to the due date (办结期限) by risk, when a draft gives none."""

RISK_BANDS: tuple[tuple[float, Risk], ...] = ((0.75, "high"), (0.5, "medium"))
"""Lowest score of each risk band (below the last: low)."""

_FEN = Decimal("0.01")
_REGION = re.compile(r"\d{6}")

assert set(get_args(Source)) == set(SOURCES)
assert set(get_args(Risk)) == set(RISKS)


def source_label(source: Source) -> str:
    """``"举报 (report)"``."""
    zh, en = SOURCES[source]
    return f"{zh} ({en})"


def risk_label(risk: Risk) -> str:
    """``"高 (high)"``."""
    zh, en = RISKS[risk]
    return f"{zh} ({en})"


def risk_from_score(score: float) -> Risk:
    """The risk band of a score in 0..1 (:data:`RISK_BANDS`: 0.75 and above high, 0.5 and above
    medium, else low)."""
    for lowest, risk in RISK_BANDS:
        if score >= lowest:
            return risk
    return "low"


_MOST_YUAN = Decimal(10) ** 15
"""Amounts at or above this are refused (a quadrillion yuan: no lead involves more, and a
typo such as 1e300 cannot be rounded to the fen)."""


def to_yuan(value: object, *, what: str = "amount", field: str | None = None) -> Decimal:
    """``value`` (a number or text such as ``"1,234.50"``) as yuan with two places; refuses
    what is not an amount (:class:`LeadError` reason ``"not_amount"``), negative amounts
    (``"negative"``) and amounts finer than a fen (分, ``"too_fine"``). ``what`` names the
    amount in the message, ``field`` is the lead field it is for (on the error)."""
    def refuse(message: str, reason: str) -> LeadError:
        return LeadError(message, reason=reason, field=field, value=value)

    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, bool):
        raise refuse(f"{what} must be an amount in yuan, not {value!r}", "not_amount")
    elif isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise refuse(f"{what} {value!r} is not an amount in yuan", "not_amount")
        amount = Decimal(repr(value))  # the shortest text of the float: what the user typed
        if abs(amount) < _MOST_YUAN:
            near = amount.quantize(_FEN, rounding=ROUND_HALF_UP)
            if abs(amount - near) < Decimal("0.000001"):  # a spreadsheet sum's binary noise
                amount = near
    elif isinstance(value, str):
        try:
            amount = Decimal(value.strip().replace(",", "").replace("，", "") or "0")
        except InvalidOperation as exc:
            raise refuse(f"{what} {value!r} is not a number: write yuan such as 1234.50",
                         "not_amount") from exc
    else:
        raise refuse(f"{what} must be an amount in yuan, not {value!r}", "not_amount")
    if not amount.is_finite():
        raise refuse(f"{what} {value!r} is not an amount in yuan", "not_amount")
    if amount < 0:
        raise refuse(f"{what} {value!r} must be a yuan amount of zero or more", "negative")
    if amount >= _MOST_YUAN:
        raise refuse(f"{what} {value!r} is too large: amounts are yuan below "
                     f"{_MOST_YUAN:,.0f}", "not_amount")
    rounded = amount.quantize(_FEN, rounding=ROUND_HALF_UP)
    if rounded != amount:
        raise refuse(f"{what} {value!r} has more than two decimals: amounts are yuan to the "
                     "fen (0.01)", "too_fine")
    return rounded


def yuan_to_fen(amount: Decimal) -> int:
    """Yuan (two places) as integer fen."""
    return int(amount * 100)


def fen_to_yuan(fen: int) -> Decimal:
    """Integer fen as yuan with two places."""
    return (Decimal(int(fen)) / 100).quantize(_FEN)


def check_region(region: str | None) -> str | None:
    """A 6-digit division code (or ``None``), else :class:`LeadError` (reason
    ``"bad_region"``)."""
    if region is None or region == "":
        return None
    text = str(region).strip()
    if not _REGION.fullmatch(text):
        raise LeadError(f"region {region!r} is not a 6-digit division code (e.g. 341202)",
                        reason="bad_region", field="region", value=region)
    return text


def region_prefix(code: str) -> str:
    """The code prefix that selects a division and everything in it: ``"34"`` for a province
    (``340000``), ``"3412"`` for a city (``341200``), the whole code for a county."""
    code = check_region(code) or ""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


@dataclass(frozen=True)
class LeadDraft:
    """What a new lead is made from. ``source_ref`` identifies the lead's origin (a ring id, a
    trace code, ``RULE@INSTITUTION``); a source never has two leads with the same reference.
    ``due`` defaults to creation day plus :data:`DUE_DAYS` of the risk; amounts are yuan."""

    source: Source
    title: str
    summary: str = ""
    source_ref: str | None = None
    violation: str = ""
    risk: Risk = "medium"
    risk_score: float | None = None
    owner: str | None = None
    region: str | None = None
    due: date | None = None
    amount_involved: Decimal = Decimal("0.00")
    persons: tuple[str, ...] = ()
    institutions: tuple[str, ...] = ()
    practitioners: tuple[str, ...] = ()
    rings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lead:
    """One lead of the ledger (台账), as stored after its last change.

    ``lead_id`` (``XS-2024-000123``: year of creation and a number) never changes;
    ``version`` grows by one with every recorded event; amounts are yuan; ``dispositions`` are
    set when the lead moves to 处理 (handling); the link tuples are sorted codes.
    """

    lead_id: str
    source: Source
    source_ref: str | None
    title: str
    summary: str
    violation: str
    risk: Risk
    risk_score: float | None
    state: State
    owner: str | None
    region: str | None
    due: date | None
    amount_involved: Decimal
    amount_recovered: Decimal
    dispositions: tuple[Disposition, ...]
    persons: tuple[str, ...]
    institutions: tuple[str, ...]
    practitioners: tuple[str, ...]
    rings: tuple[str, ...]
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime
    updated_by: str

    def overdue(self, today: date) -> bool:
        """Past its due date (办结期限) and not closed."""
        return self.due is not None and self.due < today and self.state != "closed"

    def needs_escalation(self, today: date) -> bool:
        """提级办理: overdue and high risk."""
        return self.overdue(today) and self.risk == "high"

    def links(self, kind: LinkKind) -> tuple[str, ...]:
        """The codes linked of ``kind``."""
        codes: tuple[str, ...] = getattr(self, kind)
        return codes


@dataclass(frozen=True)
class FieldChange:
    """One field of a lead, before and after, as JSON values: amounts as yuan text
    (``"1234.50"``), dates as ISO text, tuples as lists. For link events ``old``/``new`` are the
    codes removed/added."""

    field: str
    old: object
    new: object


@dataclass(frozen=True)
class LeadEvent:
    """One recorded change (create, transition, update, link, unlink) of a lead.

    ``seq`` numbers every event of the ledger from 1; ``version`` is the lead's version after
    it; ``hash`` is the keyed HMAC-SHA256 of ``prev_hash`` and the event's content
    (:func:`yibao.leads.audit.event_mac`; a plain SHA-256, :func:`~yibao.leads.audit.event_hash`,
    on events written before keying), so editing an event behind the API breaks the chain.
    """

    seq: int
    lead_id: str
    version: int
    at: datetime
    by: str
    action: Action
    from_state: State | None
    to_state: State | None
    changes: tuple[FieldChange, ...]
    note: str
    prev_hash: str
    hash: str

    def change(self, name: str) -> FieldChange | None:
        """The change of field ``name`` in this event, if any."""
        return next((c for c in self.changes if c.field == name), None)


@dataclass(frozen=True)
class LeadFilter:
    """Which leads to list; every criterion given must hold (empty tuples: any).

    ``region`` is a division code and selects everything in it (a province ``340000``, a city
    ``341200`` or a county); ``linked`` is ``(kind, code)``, e.g. ``("institutions",
    "H34120000017")``; ``text`` is searched in the id, title and summary; ``overdue`` and
    ``needs_escalation`` are judged on ``today`` (default: the ledger's today).
    """

    states: tuple[State, ...] = ()
    sources: tuple[Source, ...] = ()
    risks: tuple[Risk, ...] = ()
    owner: str | None = None
    region: str | None = None
    violation: str | None = None
    linked: tuple[LinkKind, str] | None = None
    text: str | None = None
    overdue: bool | None = None
    needs_escalation: bool | None = None
    today: date | None = None

    def __post_init__(self) -> None:
        if self.region is not None:
            check_region(self.region)
        if self.linked is not None and self.linked[0] not in LINK_KINDS:
            raise LeadError(f"linked kind {self.linked[0]!r} is not one of {LINK_KINDS}",
                            reason="unknown_choice", value=self.linked[0],
                            allowed=LINK_KINDS)
