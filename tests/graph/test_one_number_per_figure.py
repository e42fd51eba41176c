"""One number per figure: suspicious fund, its settlements, persons and institutions, and the
flagged rings, computed for one city and one quarter through every surface that shows them (the
overview, the briefing, the inspection plan's candidates) equal :mod:`graph.figures`; the
leads' figures (by state, found true, money involved and recovered) on the leads page, in the
briefing and in the Excel statistics equal :func:`yibao.leads.figures.lead_figures`."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from dashboards.data.common import Period
from dashboards.data.overview import division_measures, headline, rings_by_pattern
from graph.figures import flagged_rings, rule_hits_by_rule, suspicious_fund
from loaders.store import open_store
from tests.detected import Detected, busiest_flagged_city
from yibao.brief.facts import facts_from_store
from yibao.brief.scope import period_between, region_from_code
from yibao.inspection.candidates import candidates_from_store
from yibao.leads import LeadFilter
from yibao.leads.excel_export import statistics_frame
from yibao.leads.figures import lead_figures
from yibao.leads.from_detection import leads_from_store
from yibao.leads.period import activity_spans, leads_in_period
from yibao.leads.sqlite_ledger import SqliteLedger

pytestmark = pytest.mark.integration


def _scope(con: duckdb.DuckDBPyConnection, area: str, period: str
           ) -> tuple[str, date, date, str | None]:
    """The busiest flagged city, the period's days and the region code of ``area``."""
    city = busiest_flagged_city(con)
    if period == "all":
        start, end = con.execute("SELECT min(setl_time)::DATE, max(setl_time)::DATE "
                                 "FROM settlements").fetchone()
    else:
        start, end = date(2024, 4, 1), date(2024, 6, 30)
    return city, start, end, {"delta": None, "province": city[:2] + "0000", "city": city}[area]


@pytest.mark.parametrize("period", ["all", "quarter"])
@pytest.mark.parametrize("area", ["delta", "province", "city"])
def test_every_surface_shows_the_same_suspicious_fund_and_rings(detected: Detected,
                                                               area: str, period: str) -> None:
    with open_store(detected.db, read_only=True) as store:
        con = store.con
        city, start, end, region = _scope(con, area, period)
        prefix = {"delta": "", "province": city[:2], "city": city[:4]}[area]
        money = suspicious_fund(con, start, end, prefix)
        rings = flagged_rings(con, start, end, prefix)
        hits = rule_hits_by_rule(con, start, end, prefix)

        head = headline(con, Period(start, end), within=prefix or None)
        facts = facts_from_store(con, period=period_between(start, end),
                                 region=region_from_code(region))
        plan = candidates_from_store(con, period=(start, end), region=region)
        level = "county" if area == "city" else "city"
        by_division = division_measures(con, Period(start, end), level=level,
                                        within=prefix or None)
        by_pattern = rings_by_pattern(con, Period(start, end), within=prefix or None)

    assert money.fund > 0
    assert rings.rings > 0
    assert head.suspicious_fund == pytest.approx(money.fund, abs=0.005)
    assert (head.suspicious_rings, head.suspicious_persons) == (rings.rings, rings.persons)
    assert head.rule_hits == sum(hits.values())
    assert facts.suspicious_fund == pytest.approx(money.fund, abs=0.005)
    assert (facts.suspicious_settlements, facts.persons_involved,
            facts.institutions_involved) == (money.settlements, money.persons,
                                             money.institutions)
    assert facts.rings == rings.rings
    assert float(plan["amount"].sum()) == pytest.approx(money.fund, abs=0.005)
    assert len(plan) == money.institutions
    assert float(by_division["suspicious_fund"].sum()) == pytest.approx(money.fund, abs=0.005)
    assert int(by_pattern["rings"].sum()) == rings.rings
    if (area, period) == ("delta", "all"):  # what `yibao detect` prints
        from yibao.cli_detect import _figures

        printed = _figures(detected.db)
        assert printed["suspicious_fund"] == pytest.approx(money.fund, abs=0.005)
        assert (printed["flagged_settlements"], printed["flagged_rings"]) == (
            money.settlements, rings.rings)
        assert printed["rule_hits_by_rule"] == hits


@pytest.fixture(scope="module")
def worked_ledger(detected: Detected, tmp_path_factory: pytest.TempPathFactory) -> SqliteLedger:
    """The detected store's leads, a few of them worked: found true with money recovered,
    cleared, and closed with and without measures."""
    ledger = SqliteLedger(tmp_path_factory.mktemp("figures") / "leads.sqlite",
                          clock=lambda: datetime(2024, 8, 10, 9, 0))
    with open_store(detected.db, read_only=True) as store:
        leads_from_store(store.con, ledger, by="tester")
    walks = [("checking", "confirmed"), ("checking", "confirmed", "handling"),
             ("checking", "cleared"), ("checking", "cleared", "closed"),
             ("checking", "confirmed", "handling", "closed")]
    for lead, walk in zip(ledger.leads(), walks * 3, strict=False):
        for state in walk:
            extra: dict[str, object] = {}
            if state == "handling":
                extra = {"dispositions": ("agreement",), "amount_recovered": Decimal("150.00")}
            version = ledger.get(lead.lead_id).version
            ledger.transition(lead.lead_id, state, expected_version=version,  # type: ignore[arg-type]
                              by="t", **extra)  # type: ignore[arg-type]
    return ledger


@pytest.mark.parametrize("period", ["all", "quarter"])
@pytest.mark.parametrize("area", ["delta", "province", "city"])
def test_every_surface_shows_the_same_lead_figures(detected: Detected,
                                                  worked_ledger: SqliteLedger, area: str,
                                                  period: str) -> None:
    from dashboards.data.leads import ledger_headline

    with open_store(detected.db, read_only=True) as store:
        con = store.con
        _city, start, end, region = _scope(con, area, period)
        facts = facts_from_store(con, period=period_between(start, end),
                                 region=region_from_code(region), ledger=worked_ledger)
        spans = activity_spans(con)
    # the leads page: its region filter, then its period filter, then its headline
    shown = leads_in_period(worked_ledger.leads(LeadFilter(region=region)), spans, start, end)
    page = ledger_headline(shown, end)
    expected = lead_figures(shown)
    stats = statistics_frame(shown)

    assert expected.leads > 0
    assert expected.found_true > 0
    assert facts.leads.leads == page.leads == expected.leads == int(stats.iloc[:, 3].sum())
    assert facts.leads.found_true == page.found_true == expected.found_true
    assert facts.leads.by_state == page.by_state == expected.by_state
    assert (facts.leads.amount_involved == page.amount_involved
            == expected.amount_involved)
    assert (facts.leads.amount_recovered == page.amount_recovered
            == expected.amount_recovered)
    assert float(stats.iloc[:, 4].sum()) == pytest.approx(
        float(expected.amount_involved) / 10_000, abs=0.01 * len(stats))
    if (area, period) == ("delta", "all"):
        assert expected.leads == len(worked_ledger.leads())
    else:
        assert expected.leads < len(worked_ledger.leads())


def test_the_cli_period_export_holds_the_pages_leads(detected: Detected,
                                                      worked_ledger: SqliteLedger,
                                                      tmp_path: Path) -> None:
    from click.testing import CliRunner

    from yibao.cli import cli

    start, end = date(2024, 4, 1), date(2024, 6, 30)
    with open_store(detected.db, read_only=True) as store:
        shown = leads_in_period(worked_ledger.leads(), activity_spans(store.con), start, end)
    out = tmp_path / "q2.xlsx"
    result = CliRunner().invoke(cli, [
        "leads", "export", "--db", str(detected.db), "--leads", str(worked_ledger.path),
        "--start", "2024-04-01", "--end", "2024-06-30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"exported {len(shown)} leads" in result.output
