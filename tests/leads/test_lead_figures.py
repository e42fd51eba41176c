"""The figures of a set of leads (:mod:`yibao.leads.figures`): the count of leads whose state
is 查实 now and the count of leads found true differ on purpose, and the labels say so."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tests.leads.ledger_helpers import Clock, draft
from yibao.leads.figures import LABELS, lead_figures
from yibao.leads.sqlite_ledger import SqliteLedger


def _walk(ledger: SqliteLedger, lead_id: str, *states: str, **last: object) -> None:
    for k, state in enumerate(states):
        version = ledger.get(lead_id).version
        extra = last if k == len(states) - 1 else {}
        ledger.transition(lead_id, state, expected_version=version, by="李四",  # type: ignore[arg-type]
                          **extra)  # type: ignore[arg-type]


def test_found_true_counts_handled_and_closed_with_measures(ledger: SqliteLedger,
                                                            clock: Clock) -> None:
    for n in range(1, 6):
        ledger.add(draft(n), by="张三")
    _walk(ledger, "XS-2024-000001", "checking", "confirmed")
    _walk(ledger, "XS-2024-000002", "checking", "confirmed", "handling",
          dispositions=("agreement",), amount_recovered=Decimal("800.00"))
    _walk(ledger, "XS-2024-000003", "checking", "cleared")
    _walk(ledger, "XS-2024-000004", "checking", "confirmed", "handling",
          dispositions=("penalty",), amount_recovered=Decimal("200.00"))
    _walk(ledger, "XS-2024-000004", "closed")
    figures = lead_figures(ledger.leads(), date(2024, 12, 31))
    assert figures.leads == 5
    assert figures.by_state == {"pending": 1, "checking": 0, "confirmed": 1, "cleared": 1,
                                "handling": 1, "closed": 1}
    assert figures.found_true == 3  # confirmed, handling, closed with a penalty
    assert figures.cleared == 1
    assert figures.amount_recovered == Decimal("1000.00")
    assert figures.amount_involved == 5 * Decimal("12345.67")
    assert figures.overdue >= 1  # the pending lead was due in May
    assert dict((k, (n, t)) for k, n, t in figures.by_violation) == {"card_pooling": (5, 3)}
    assert lead_figures(ledger.leads()).overdue == 0  # no day asked: not judged
    # the two counts that share 查实 have labels that say what each counts
    assert LABELS["found_true"][0] != LABELS["state_confirmed"][0]
    assert "结案" in LABELS["found_true"][0]
    assert "现处" in LABELS["state_confirmed"][0]
