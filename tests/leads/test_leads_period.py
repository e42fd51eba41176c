"""Which leads belong to a period, and a period's export: the workbook holds exactly those
leads, the statistics over them and their change log only."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from tests.leads.ledger_helpers import Clock, draft
from yibao.errors import LeadError
from yibao.leads import LeadFilter
from yibao.leads.excel import EVENTS_SHEET, LEDGER_SHEET, STATS_SHEET, export_workbook
from yibao.leads.period import ActivitySpans, leads_in_period
from yibao.leads.sqlite_ledger import SqliteLedger

MAY_1 = date(2024, 5, 1)


@pytest.fixture
def three(ledger: SqliteLedger, clock: Clock) -> SqliteLedger:
    """Three ring leads made 2024-05-01 (R0001 and R0002 high risk: due 05-31; R0003 low:
    due 07-30), R0002 linked to ring R0009 too; one move on R0001."""
    ledger.add(draft(1), by="张三")
    ledger.add(draft(2, rings=("R0002", "R0009"), violation="IMPOSSIBLE_TRAVEL",
                     amount_involved=Decimal("100.00")), by="张三")
    ledger.add(draft(3, risk="low"), by="张三")
    clock.advance(hours=1)
    ledger.transition("XS-2024-000001", "checking", expected_version=1, by="李四")
    return ledger


SPANS: ActivitySpans = {
    ("ring", "R0001"): (date(2024, 1, 10), date(2024, 2, 20)),
    ("ring", "R0002"): (date(2024, 3, 1), date(2024, 3, 5)),
    ("ring", "R0009"): (date(2024, 1, 1), date(2024, 1, 2)),
    ("ring", "R0003"): (date(2024, 4, 1), date(2024, 4, 9)),
}


def _ids(leads: list) -> list[str]:  # type: ignore[type-arg]
    return [lead.lead_id for lead in leads]


def test_activity_creation_and_due_days_decide(three: SqliteLedger) -> None:
    leads = three.leads()
    assert _ids(leads_in_period(leads, SPANS, date(2024, 2, 1), date(2024, 2, 29))) == [
        "XS-2024-000001"]
    # R0002 through its linked ring R0009 (its own ring is active in March)
    assert _ids(leads_in_period(leads, SPANS, date(2024, 1, 1), date(2024, 1, 1))) == [
        "XS-2024-000002"]
    assert _ids(leads_in_period(leads, SPANS, MAY_1, MAY_1)) == _ids(leads)  # created then
    assert _ids(leads_in_period(leads, SPANS, date(2024, 7, 30), date(2024, 8, 1))) == [
        "XS-2024-000003"]  # due then
    assert leads_in_period(leads, SPANS, date(2023, 1, 1), date(2023, 12, 31)) == []
    assert leads_in_period(leads, {}, date(2024, 2, 1), date(2024, 2, 29)) == []


def _data_rows(path: Path, sheet: str, key: str) -> list[list[object]]:
    ws = openpyxl.load_workbook(path)[sheet]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(k for k, row in enumerate(rows) if row[:len(key)] and key in row)
    return [row for row in rows[header + 1:] if any(v is not None for v in row)]


def test_a_period_excludes_a_lead_from_the_workbook(three: SqliteLedger,
                                                     tmp_path: Path) -> None:
    spring = leads_in_period(three.leads(), SPANS, date(2024, 1, 1), date(2024, 3, 31))
    assert _ids(spring) == ["XS-2024-000001", "XS-2024-000002"]
    whole = export_workbook(three, tmp_path / "all.xlsx")
    part = export_workbook(three, tmp_path / "spring.xlsx", leads=spring)
    assert len(_data_rows(whole, LEDGER_SHEET, "线索编号")) == 3
    ledger_rows = _data_rows(part, LEDGER_SHEET, "线索编号")
    assert [row[0] for row in ledger_rows] == ["XS-2024-000001", "XS-2024-000002"]
    stats = _data_rows(part, STATS_SHEET, "违规行为")
    assert sum(int(row[3]) for row in stats) == 2  # type: ignore[call-overload]
    assert {row[1] for row in stats} == {"聚集性刷卡(套刷)", "同日异地不可能行程"}
    pooling = next(row for row in stats if row[1] == "聚集性刷卡(套刷)")
    assert (pooling[3], pooling[4]) == (1, 1.23)  # R0003's 12,345.67 yuan left out
    events = _data_rows(part, EVENTS_SHEET, "线索编号")
    assert sorted({row[1] for row in events}) == ["XS-2024-000001", "XS-2024-000002"]
    assert len(events) == 3  # two creations and R0001's move
    assert len(_data_rows(whole, EVENTS_SHEET, "线索编号")) == 4


def test_export_takes_leads_in_their_order_or_a_filter_not_both(three: SqliteLedger,
                                                                 tmp_path: Path) -> None:
    chosen = list(reversed(three.leads()))[:2]
    path = export_workbook(three, tmp_path / "x.xlsx", leads=chosen)
    assert [row[0] for row in _data_rows(path, LEDGER_SHEET, "线索编号")] == _ids(chosen)
    with pytest.raises(LeadError, match="not both"):
        export_workbook(three, tmp_path / "y.xlsx", leads=chosen,
                        flt=LeadFilter(states=("pending",)))
    none = export_workbook(three, tmp_path / "none.xlsx", leads=[])
    assert _data_rows(none, LEDGER_SHEET, "线索编号") == []
    assert MAY_1 + timedelta(days=30) == three.get("XS-2024-000001").due


def test_the_change_log_stops_at_the_version_exported(three: SqliteLedger,
                                                       tmp_path: Path) -> None:
    shown = three.leads()  # as a page drew them
    three.transition("XS-2024-000002", "checking", expected_version=1, by="李四")
    path = export_workbook(three, tmp_path / "x.xlsx", leads=shown)
    events = _data_rows(path, EVENTS_SHEET, "线索编号")
    assert [(row[1], row[2]) for row in events if row[1] == "XS-2024-000002"] == [
        ("XS-2024-000002", 1)]
    row = next(r for r in _data_rows(path, LEDGER_SHEET, "线索编号") if r[0] == "XS-2024-000002")
    assert (row[1], row[2]) == (1, "待核查")


def test_a_rule_hit_lead_of_one_quarter_counts_by_its_own_days(ledger: SqliteLedger) -> None:
    # the rule group spans the year; the lead made for its first quarter names those days
    ledger.add(draft(7, source="rule_hit", source_ref="DUP_SETTLE@H1@2024-01-01..2024-03-31",
                     rings=(), violation="DUP_SETTLE"), by="张三")
    spans: ActivitySpans = {("rule_hit", "DUP_SETTLE@H1"): (date(2024, 1, 3), date(2024, 12, 9))}
    leads = ledger.leads()
    assert _ids(leads_in_period(leads, spans, date(2024, 2, 1), date(2024, 2, 2))) == _ids(leads)
    assert leads_in_period(leads, spans, date(2024, 9, 1), date(2024, 9, 30)) == []
    # the rule group is gone from the store (detection ran again without it): no activity
    assert leads_in_period(leads, {}, date(2024, 2, 1), date(2024, 2, 2)) == []
