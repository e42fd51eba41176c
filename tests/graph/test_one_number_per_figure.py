"""One number per figure: suspicious fund, its settlements, persons and institutions, and the
flagged rings, computed for one city and one quarter through every surface that shows them (the
overview, the briefing, the inspection plan's candidates) equal :mod:`graph.figures`."""

from __future__ import annotations

from datetime import date

import pytest

from dashboards.data.common import Period
from dashboards.data.overview import division_measures, headline, rings_by_pattern
from graph.figures import flagged_rings, rule_hits_by_rule, suspicious_fund
from loaders.store import open_store
from tests.detected import Detected, busiest_flagged_city
from yibao.brief.facts import facts_from_store
from yibao.brief.scope import period_between, region_from_code
from yibao.inspection.candidates import candidates_from_store

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("period", ["all", "quarter"])
@pytest.mark.parametrize("area", ["delta", "province", "city"])
def test_every_surface_shows_the_same_suspicious_fund_and_rings(detected: Detected,
                                                               area: str, period: str) -> None:
    with open_store(detected.db, read_only=True) as store:
        con = store.con
        city = busiest_flagged_city(con)
        if period == "all":
            start, end = con.execute("SELECT min(setl_time)::DATE, max(setl_time)::DATE "
                                     "FROM settlements").fetchone()
        else:
            start, end = date(2024, 4, 1), date(2024, 6, 30)
        region = {"delta": None, "province": city[:2] + "0000", "city": city}[area]
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
