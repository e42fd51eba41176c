"""Money to the fen, regions, risk bands, overdue and escalation."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from yibao.errors import LeadError
from yibao.leads.model import (
    Lead,
    fen_to_yuan,
    region_prefix,
    risk_from_score,
    to_yuan,
    yuan_to_fen,
)


@pytest.mark.parametrize(("given", "yuan"), [
    (12, "12.00"), ("1,234.5", "1234.50"), (0.1, "0.10"), (Decimal("3.40"), "3.40"),
    (0.1 + 0.2, "0.30"), ("", "0.00"), (1234567.89, "1234567.89"),
])
def test_amounts_become_exact_yuan(given: object, yuan: str) -> None:
    assert to_yuan(given) == Decimal(yuan)
    assert str(to_yuan(given)) == yuan


@pytest.mark.parametrize(("given", "why"), [
    (-1, "zero or more"), ("1.234", "more than two decimals"), ("abc", "not a number"),
    (True, "amount in yuan"), (float("nan"), "not an amount"), (0.125, "more than two"),
    ("1e300", "too large"), (1e300, "too large"), (Decimal("1E+15"), "too large"),
])
def test_bad_amounts_are_refused(given: object, why: str) -> None:
    with pytest.raises(LeadError, match=why):
        to_yuan(given)


def test_fen_round_trip_has_no_drift() -> None:
    amounts = [to_yuan("0.10")] * 1000 + [to_yuan("0.20")] * 1000
    assert sum(fen_to_yuan(yuan_to_fen(a)) for a in amounts) == Decimal("300.00")
    assert sum([0.1] * 1000 + [0.2] * 1000) != 300.0  # what floats would have given


def test_region_prefixes_select_provinces_cities_counties() -> None:
    assert region_prefix("340000") == "34"
    assert region_prefix("341200") == "3412"
    assert region_prefix("341282") == "341282"
    with pytest.raises(LeadError, match="6-digit division code"):
        region_prefix("3412")


def test_risk_bands() -> None:
    assert [risk_from_score(s) for s in (0.9, 0.75, 0.74, 0.5, 0.49, 0.0)] == [
        "high", "high", "medium", "medium", "low", "low"]


def _lead(state: str, due: date | None, risk: str = "high") -> Lead:
    at = datetime(2024, 1, 1)
    return Lead(lead_id="XS-2024-000001", source="manual", source_ref=None, title="t",
                summary="", violation="", risk=risk, risk_score=None,  # type: ignore[arg-type]
                state=state, owner=None, region=None, due=due,  # type: ignore[arg-type]
                amount_involved=Decimal(0), amount_recovered=Decimal(0), dispositions=(),
                persons=(), institutions=(), practitioners=(), rings=(), version=1,
                created_at=at, created_by="a", updated_at=at, updated_by="a")


def test_overdue_and_escalation() -> None:
    today = date(2024, 6, 1)
    assert _lead("checking", date(2024, 5, 31)).overdue(today)
    assert _lead("checking", date(2024, 5, 31)).needs_escalation(today)
    assert not _lead("checking", date(2024, 5, 31), risk="medium").needs_escalation(today)
    assert _lead("checking", date(2024, 5, 31), risk="medium").overdue(today)
    assert not _lead("checking", date(2024, 6, 1)).overdue(today)  # due today is not late
    assert not _lead("closed", date(2024, 1, 1)).overdue(today)
    assert _lead("cleared", date(2024, 1, 1)).overdue(today)  # cleared still needs closing
    assert not _lead("pending", None).overdue(today)


def test_importing_the_ledger_imports_no_heavy_library() -> None:
    code = ("import sys, yibao.leads; print(sorted(m for m in ('duckdb', 'pandas', 'neo4j', "
            "'openpyxl', 'networkx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
