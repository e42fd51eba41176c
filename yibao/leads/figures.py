"""The figures of a set of leads (线索台账), defined once: how many, by state, how many were
found true and cleared, overdue and due for escalation, the money involved and recovered.

The leads page's headline, the briefing's lead figures and the ``yibao leads`` summary all
read :func:`lead_figures`. Which leads a region or a period holds is decided elsewhere (the
ledger's :class:`~yibao.leads.LeadFilter` and :func:`yibao.leads.period.leads_in_period`),
so a figure differs between two surfaces only when they were asked about different leads.

Two counts share the word 查实 and differ on purpose; :data:`LABELS` says what each counts:

* ``by_state["confirmed"]`` is the leads whose state *now* is 查实 (the ledger's state
  column);
* ``found_true`` is the leads *found true* at any time: now in 查实 or 处理, or closed with
  dispositions (a closed lead without dispositions was cleared).

These are ledger figures: the money a lead names (涉及金额) is what the investigator recorded,
not the suspicious fund detection found (:mod:`graph.figures`), and the two are labelled so.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from yibao.leads.lifecycle import STATES, State
from yibao.leads.model import Lead

__all__ = [
    "LABELS",
    "LeadFigures",
    "figure_label",
    "found_true",
    "lead_figures",
    "was_cleared",
]


def found_true(lead: Lead) -> bool:
    """Whether ``lead`` was found true (查实): it is in 查实 or 处理, or it was closed with
    dispositions."""
    return lead.state in ("confirmed", "handling") or (lead.state == "closed"
                                                      and bool(lead.dispositions))


def was_cleared(lead: Lead) -> bool:
    """Whether ``lead`` was cleared (排除): it is in 排除, or it was closed without
    dispositions."""
    return lead.state == "cleared" or (lead.state == "closed" and not lead.dispositions)


@dataclass(frozen=True)
class LeadFigures:
    """The figures of some leads (see the module's docstring for what each counts).

    ``overdue`` and ``escalations`` are judged on the day asked for and are 0 when none was.
    ``by_violation`` holds, per violation key in key order, the leads and those found true.
    Money is yuan, exact.
    """

    leads: int = 0
    by_state: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATES, 0))
    found_true: int = 0
    cleared: int = 0
    overdue: int = 0
    escalations: int = 0
    amount_involved: Decimal = Decimal("0.00")
    amount_recovered: Decimal = Decimal("0.00")
    by_violation: tuple[tuple[str, int, int], ...] = ()

    @property
    def closed(self) -> int:
        """Leads in 已结案, with or without dispositions."""
        return self.by_state["closed"]


def lead_figures(leads: Iterable[Lead], today: date | None = None) -> LeadFigures:
    """:class:`LeadFigures` of ``leads``; overdue and escalations judged on ``today``."""
    chosen = list(leads)
    states: Counter[State] = Counter(lead.state for lead in chosen)
    found: Counter[str] = Counter(lead.violation for lead in chosen)
    true: Counter[str] = Counter(lead.violation for lead in chosen if found_true(lead))
    return LeadFigures(
        leads=len(chosen),
        by_state={state: states[state] for state in STATES},
        found_true=sum(true.values()),
        cleared=sum(1 for lead in chosen if was_cleared(lead)),
        overdue=0 if today is None else sum(1 for lead in chosen if lead.overdue(today)),
        escalations=(0 if today is None
                     else sum(1 for lead in chosen if lead.needs_escalation(today))),
        amount_involved=sum((lead.amount_involved for lead in chosen), Decimal("0.00")),
        amount_recovered=sum((lead.amount_recovered for lead in chosen), Decimal("0.00")),
        by_violation=tuple((k, n, true[k]) for k, n in sorted(found.items())))


LABELS: dict[str, tuple[str, str]] = {
    "leads": ("线索", "Leads"),
    "found_true": ("查实线索（现处查实、处理，或有处理结果的结案）",
                   "Found true (now confirmed or handling, or closed with measures)"),
    "cleared": ("排除线索（现处排除，或无处理结果的结案）",
                "Cleared (now cleared, or closed without measures)"),
    "state_confirmed": ("现处查实", "Confirmed now"),
    "overdue": ("逾期", "Overdue"),
    "escalations": ("需督办", "To escalate"),
    "amount_involved": ("线索涉及金额（台账登记）", "Amount involved (as the ledger records)"),
    "amount_recovered": ("追回金额", "Recovered"),
}
"""Figure -> (Chinese, English) label that says what it counts."""


def figure_label(key: str, lang: str) -> str:
    """The label of figure ``key`` (:data:`LABELS`) in ``lang`` (``zh`` or ``en``)."""
    zh, en = LABELS[key]
    return zh if lang == "zh" else en
