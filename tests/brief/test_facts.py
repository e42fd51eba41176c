"""The figures of a briefing from the detected store: totals agree with each other and with an
independent count, provinces and quarters partition the whole, leads are scoped by region and
period, evidence carries no person number."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from tests.detected import Detected
from yibao.brief import parse_period, region_from_code
from yibao.brief.facts import BriefFacts, evidence_index, facts_from_store
from yibao.leads import LeadDraft
from yibao.leads.from_detection import leads_from_store
from yibao.leads.sqlite_ledger import SqliteLedger

pytestmark = pytest.mark.slow

PROVINCES = ("310000", "320000", "330000", "340000")


@pytest.fixture(scope="module")
def con(detected: Detected) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect(str(detected.db), read_only=True)
    yield connection
    connection.close()


def _facts(con: duckdb.DuckDBPyConnection, period: str | None = None, region: str | None = None,
           **kw: object) -> BriefFacts:
    return facts_from_store(con, period=parse_period(period) if period else None,
                            region=region_from_code(region), made_on=date(2025, 1, 2),
                            **kw)  # type: ignore[arg-type]


def test_totals_agree_with_each_other(con: duckdb.DuckDBPyConnection) -> None:
    facts = _facts(con)
    assert facts.suspicious_settlements > 0
    assert facts.rings > 0
    assert math.isclose(sum(s.fund for s in facts.hot_spots), facts.suspicious_fund, rel_tol=1e-9)
    assert sum(s.cases for s in facts.hot_spots) == facts.suspicious_settlements
    assert math.isclose(sum(p.fund for p in facts.trend), facts.suspicious_fund, rel_tol=1e-9)
    assert sum(p.cases for p in facts.trend) == facts.suspicious_settlements
    assert facts.map_level == "city"
    assert facts.trend_unit == "month"
    assert all(s.code.endswith("00") for s in facts.hot_spots)
    assert [r.fund for r in facts.top_rings] == sorted((r.fund for r in facts.top_rings),
                                                       reverse=True)
    assert 0 < len(facts.top_rings) <= 5
    # a violation row counts a settlement once per type; the total counts it once
    assert max(v.cases for v in facts.violations) <= facts.suspicious_settlements
    assert sum(v.cases for v in facts.violations) >= facts.suspicious_settlements
    assert not facts.period_given
    assert facts.leads.leads == 0
    assert facts.ledger_total == 0


def test_suspicious_money_matches_an_independent_count(con: duckdb.DuckDBPyConnection) -> None:
    facts = _facts(con)
    n, fund, persons = con.execute("""
        SELECT count(*), sum(fund_pay_sumamt + acct_pay), count(DISTINCT psn_no)
        FROM settlements s
        WHERE s.init_setl_id IS NULL AND s.medfee_sumamt >= 0
          AND s.setl_id NOT IN (SELECT init_setl_id FROM settlements
                                WHERE init_setl_id IS NOT NULL)
          AND (s.setl_id IN (SELECT setl_id FROM ring_settlements
                             WHERE ring_id IN (SELECT ring_id FROM rings WHERE suspicious))
               OR s.setl_id IN (SELECT unnest(setl_ids) FROM rule_hits
                                WHERE severity != 'info'))""").fetchone() or (0, 0, 0)
    assert facts.suspicious_settlements == n
    assert math.isclose(facts.suspicious_fund, float(fund), rel_tol=1e-9)
    assert facts.persons_involved == persons


def test_provinces_partition_the_delta_and_regions_change_the_figures(
        con: duckdb.DuckDBPyConnection) -> None:
    whole = _facts(con)
    parts = {code: _facts(con, region=code) for code in PROVINCES}
    assert sum(p.suspicious_settlements for p in parts.values()) == whole.suspicious_settlements
    assert sum(p.settlements for p in parts.values()) == whole.settlements
    assert math.isclose(sum(p.suspicious_fund for p in parts.values()), whole.suspicious_fund,
                        rel_tol=1e-9)
    anhui = parts["340000"]
    assert anhui.suspicious_fund < whole.suspicious_fund
    assert anhui.map_level == "county"
    assert all(s.code.startswith("34") for s in anhui.hot_spots)
    city = max(anhui.hot_spots, key=lambda s: s.fund).code[:4] + "00"
    in_city = _facts(con, region=city)
    assert 0 < in_city.suspicious_fund <= anhui.suspicious_fund
    assert all(s.code.startswith(city[:4]) for s in in_city.hot_spots)


def test_quarters_partition_the_year(con: duckdb.DuckDBPyConnection) -> None:
    first, last = con.execute("SELECT min(setl_time), max(setl_time) FROM settlements"
                              ).fetchone() or (None, None)
    assert first.year == last.year
    year = _facts(con, str(first.year))
    quarters = [_facts(con, f"{first.year}-Q{q}") for q in range(1, 5)]
    assert sum(q.suspicious_settlements for q in quarters) == year.suspicious_settlements
    assert [len(q.trend) for q in quarters] == [3, 3, 3, 3]
    month = _facts(con, f"{first.year}-07")
    assert month.trend_unit == "week"
    assert month.trend[0].start <= date(first.year, 7, 1) < month.trend[1].start


def test_evidence_shows_the_pattern_and_no_person_number(con: duckdb.DuckDBPyConnection) -> None:
    facts = _facts(con)
    members = {r[0] for r in con.execute(
        "SELECT code FROM ring_members WHERE kind = 'person'").fetchall()}
    for ring in facts.top_rings:
        assert ring.evidence_zh
        assert ring.evidence_en
        assert not any(code in ring.evidence_zh or code in ring.evidence_en for code in members)
    lines = ["9 人、1 家机构、38 笔结算", "距参保地中位数 58 公里，跨省参保结算占 0%",
             "134 个药品追溯码在 3 家机构间被重复结算"]
    assert evidence_index("resale_chain", lines) == 2
    assert evidence_index("cross_province_card_use", lines) == 1
    assert evidence_index("unknown", lines) == 1
    assert evidence_index("unknown", lines[:1]) == 0


def test_leads_are_counted_by_region_and_period(con: duckdb.DuckDBPyConnection,
                                                detected: Detected, tmp_path: Path) -> None:
    clock_now = [datetime(2024, 8, 10, 9, 0)]
    ledger = SqliteLedger(tmp_path / "leads.sqlite", clock=lambda: clock_now[0])
    leads_from_store(con, ledger, by="tester")
    everything = ledger.leads()
    rings = [lead for lead in everything if lead.source == "ring"]
    moved = rings[:3]
    for lead in moved:
        lead = ledger.transition(lead.lead_id, "checking", expected_version=lead.version, by="t")
        lead = ledger.transition(lead.lead_id, "confirmed", expected_version=lead.version,
                                 by="t")
        ledger.transition(lead.lead_id, "handling", expected_version=lead.version, by="t",
                          dispositions=("agreement",), amount_recovered=Decimal("100.00"))
    hand = ledger.add(LeadDraft(source="report", title="举报：某药店串换药品", region="340102",
                                violation="item_substitution",
                                amount_involved=Decimal("5000.00")), by="t")

    whole = _facts(con, ledger=ledger)
    assert whole.leads.leads == whole.ledger_total == len(everything) + 1
    assert whole.leads.found_true == 3
    assert whole.leads.amount_recovered == Decimal("300.00")
    assert whole.leads.amount_involved == sum((x.amount_involved for x in ledger.leads()),
                                              Decimal("0.00"))
    row = next(v for v in whole.violations if v.key == "item_substitution")
    assert (row.cases, row.leads) == (0, 1)  # a hand-entered lead shows in the table too

    anhui = _facts(con, region="340000", ledger=ledger)
    assert anhui.leads.leads == sum(1 for x in ledger.leads()
                                    if x.region and x.region.startswith("34"))
    assert 0 < anhui.leads.leads < whole.leads.leads

    q3 = _facts(con, "2024-Q3", ledger=ledger)
    q1 = _facts(con, "2024-Q1", ledger=ledger)
    # every lead was created on 2024-08-10, inside Q3 (the leads page's rule: created, due or
    # active in the period); Q1 holds only those whose activity lies in it
    assert q3.leads.leads == whole.leads.leads
    assert 0 < q1.leads.leads < whole.leads.leads
    # the hand-entered lead was created in August: it belongs to Q3 only
    assert hand.created_at.date() == date(2024, 8, 10)
    assert any(v.key == "item_substitution" and v.leads == 1 for v in q3.violations)
    assert not any(v.key == "item_substitution" for v in q1.violations)
