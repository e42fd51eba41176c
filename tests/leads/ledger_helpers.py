"""Helpers of the leads tests: a clock the test moves, and drafts to fill a ledger."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal

from yibao.leads import LeadDraft


@dataclass
class Clock:
    """A settable "now" for the ledger (starts 2024-05-01 09:00)."""

    now: datetime = datetime(2024, 5, 1, 9, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def draft(n: int = 1, **changes: object) -> LeadDraft:
    """A ring lead draft numbered ``n`` (source_ref ``R{n}``)."""
    base = LeadDraft(
        source="ring", source_ref=f"R{n:04d}", title=f"聚集性刷卡 团伙 {n}",
        summary="7 人同一药店同一时段结算", violation="card_pooling", risk="high",
        risk_score=0.82, region="341202", amount_involved=Decimal("12345.67"),
        persons=("P2", "P1"), institutions=("H34120000017",), rings=(f"R{n:04d}",))
    return replace(base, **changes)  # type: ignore[arg-type]
