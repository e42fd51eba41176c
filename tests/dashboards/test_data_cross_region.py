"""Cross-region data for the workbench, on the detected store: flows add up to the effective
cross-division settlements of the period at both levels, the balance per division agrees with
them, impossible trips and cross-province clusters carry the planted cases and honour the
period."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import duckdb
import pandas as pd
import pytest

from dashboards.data import cross_region as cr
from dashboards.data.common import Period, data_period
from graph.claims import effective_settlements_sql
from loaders.store import Store
from tests.detected import Detected

MARCH = Period(date(2024, 3, 1), date(2024, 3, 31))


@pytest.fixture
def con(detected_store: Store) -> duckdb.DuckDBPyConnection:
    return detected_store.con


@pytest.fixture
def whole(con: duckdb.DuckDBPyConnection) -> Period:
    return data_period(con)


def _planted(detected: Detected, pattern: str) -> list[dict[str, Any]]:
    truth = json.loads((detected.folder / "truth.json").read_text(encoding="utf-8"))
    return [s for s in truth["scenarios"] if s["pattern"] == pattern]


def _cross_settlements(con: duckdb.DuckDBPyConnection, period: Period, keep: int
                       ) -> tuple[int, float]:
    """Effective settlements in ``period`` whose person is insured in another division."""
    row = con.execute(f"""
        SELECT count(*), coalesce(sum(s.fund_pay_sumamt + s.acct_pay), 0)::DOUBLE
        FROM ({effective_settlements_sql()}) s
        JOIN persons p USING (psn_no) JOIN institutions i USING (fixmedins_code)
        WHERE s.setl_time >= $a AND s.setl_time < $b
          AND left(p.insu_admdvs, {keep}) <> left(i.admdvs, {keep})
    """, {"a": period.params["p_start"], "b": period.params["p_end"]}).fetchall()[0]
    return int(row[0]), float(row[1])


@pytest.mark.parametrize(("level", "keep"), [("city", 4), ("province", 2)])
def test_flows_add_up_to_the_cross_division_settlements(con: duckdb.DuckDBPyConnection,
                                                         whole: Period, level: cr.Level,
                                                         keep: int) -> None:
    for period in (whole, MARCH):
        flows = cr.cross_division_flows(con, period, level=level)
        n, fund = _cross_settlements(con, period, keep)
        assert n > 0
        assert int(flows["settlements"].sum()) == n
        assert float(flows["fund"].sum()) == pytest.approx(fund, abs=1.0)
        assert (flows["origin"] != flows["destination"]).all()
        assert flows["settlements"].is_monotonic_decreasing
        assert flows["share"].between(0, 1, inclusive="right").all()
        assert (flows["persons"] <= flows["settlements"]).all()
        assert flows[["origin_lon", "destination_lat"]].notna().all().all()


def test_levels_name_cities_and_provinces(con: duckdb.DuckDBPyConnection,
                                          whole: Period) -> None:
    cities = cr.cross_division_flows(con, whole, level="city")
    provinces = cr.cross_division_flows(con, whole, level="province")
    assert cities["origin"].str.match(r"^\d{4}00$").all()
    assert provinces["origin"].str.endswith("0000").all()
    assert set(provinces["origin_name"]) <= {"上海市", "江苏省", "浙江省", "安徽省"}
    assert len(provinces) <= 12 < len(cities)
    assert "上海市" in set(cities["destination_name"])
    with pytest.raises(ValueError, match="county"):
        cr.cross_division_flows(con, whole, level="county")  # type: ignore[arg-type]


def test_period_narrows_the_flows(con: duckdb.DuckDBPyConnection, whole: Period) -> None:
    a = int(cr.cross_division_flows(con, whole)["settlements"].sum())
    b = int(cr.cross_division_flows(con, MARCH)["settlements"].sum())
    assert 0 < b < a / 6


def test_balance_agrees_with_the_flows(con: duckdb.DuckDBPyConnection, whole: Period) -> None:
    for level in ("city", "province"):
        flows = cr.cross_division_flows(con, whole, level=level)  # type: ignore[arg-type]
        balance = cr.division_balance(con, whole, level=level)  # type: ignore[arg-type]
        total = int(flows["settlements"].sum())
        assert int(balance["outbound"].sum()) == total == int(balance["inbound"].sum())
        assert int(balance["net"].sum()) == 0
        out = flows.groupby("origin")["settlements"].sum()
        assert balance.set_index("code")["outbound"].reindex(out.index).tolist() == out.tolist()
        assert balance["outbound_share"].between(0, 1).all()
    assert len(cr.division_balance(con, whole, level="province")) == 4
    assert len(cr.division_balance(con, whole, level="city")) == 41


def test_impossible_trips_carry_the_planted_travellers(con: duckdb.DuckDBPyConnection,
                                                       whole: Period,
                                                       detected: Detected) -> None:
    trips = cr.impossible_trips(con, whole)
    n_trips = con.execute("SELECT coalesce(sum((metrics->>'n_trips')::INT), 0) FROM rule_hits "
                          "WHERE rule_id = 'IMPOSSIBLE_TRAVEL'").fetchall()[0][0]
    assert len(trips) == n_trips > 0
    planted = {p for s in _planted(detected, "cross_province_card_use") for p in s["persons"]}
    assert set(trips["psn_no"]) <= planted
    assert set(trips["psn_no"]) & planted
    assert trips["psn_name"].notna().all()
    assert (trips["from_inst"] != trips["to_inst"]).all()
    assert (trips["speed_kmh"] > 100).all()
    assert trips["speed_kmh"].is_monotonic_decreasing
    assert (trips["to_time"] > trips["from_time"]).all()
    assert trips[["from_city", "to_city", "from_lon", "to_lat"]].notna().all().all()
    assert ((trips["km"] / (trips["minutes"] / 60) - trips["speed_kmh"]).abs()
            < 0.05 * trips["speed_kmh"]).all()


def test_impossible_trips_honour_the_period(con: duckdb.DuckDBPyConnection,
                                            whole: Period) -> None:
    march = cr.impossible_trips(con, MARCH)
    assert len(march) < len(cr.impossible_trips(con, whole))
    assert (march["from_time"] >= pd.Timestamp("2024-03-01")).all()
    assert (march["from_time"] < pd.Timestamp("2024-04-01")).all()


def test_card_use_clusters_are_the_cross_province_rings(con: duckdb.DuckDBPyConnection,
                                                        whole: Period,
                                                        detected: Detected) -> None:
    clusters = cr.card_use_clusters(con, whole)
    expected = {r.ring_id for r in detected.result.suspicious
                if r.pattern == "cross_province_card_use"}
    assert expected
    assert set(clusters["ring_id"]) == expected
    planted = {p for s in _planted(detected, "cross_province_card_use") for p in s["persons"]}
    members = {p for r in detected.result.suspicious if r.ring_id in expected
               for p in r.persons}
    assert members & planted
    assert (clusters["home_provinces"] != "").all()
    assert (clusters["care_provinces"] != "").all()
    assert (clusters["fund"] > 0).all()
    outside = Period(date(2023, 1, 1), date(2023, 1, 31))
    assert cr.card_use_clusters(con, outside).empty
