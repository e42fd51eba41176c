"""The cross-region page's flows and balance come from one query per snapshot
(:func:`dashboards.data.cross_region.flow_facts`): summed for any period, level and language
without another query, they equal the per-period SQL that ran before (the reference below)."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import pandas as pd
import pytest

from dashboards.data import cross_region as cr
from dashboards.data.common import (
    FUND_SQL,
    Period,
    data_period,
    period_settlements_sql,
    query_frame,
)
from loaders.store import Store
from yibao.divisions import division_name

PERIODS = (Period(date(2024, 3, 1), date(2024, 3, 31)), Period(date(2024, 7, 4), date(2024, 7, 4)))


def _reference_flows_sql(level: str) -> str:
    keep = 4 if level == "city" else 2
    return f"""
        WITH s AS ({period_settlements_sql()})
        SELECT rpad(left(p.insu_admdvs, {keep}), 6, '0') AS origin,
               rpad(left(i.admdvs, {keep}), 6, '0') AS destination, count(*) AS settlements,
               count(DISTINCT s.psn_no) AS persons, sum({FUND_SQL}) AS fund
        FROM s JOIN persons p USING (psn_no) JOIN institutions i USING (fixmedins_code)
        GROUP BY ALL
    """


def _reference_flows(con: duckdb.DuckDBPyConnection, period: Period, level: str
                     ) -> pd.DataFrame:
    return con.execute(f"""
        WITH f AS ({_reference_flows_sql(level)}),
        o AS (SELECT origin, sum(settlements) AS total FROM f GROUP BY 1)
        SELECT f.origin, f.destination, f.settlements, f.persons, round(f.fund, 2) AS fund,
               round(f.settlements / o.total, 4) AS share
        FROM f JOIN o USING (origin) WHERE f.origin <> f.destination
        ORDER BY f.settlements DESC, f.origin, f.destination
    """, period.params).df()


def _reference_balance(con: duckdb.DuckDBPyConnection, period: Period, level: str
                       ) -> pd.DataFrame:
    return con.execute(f"""
        WITH f AS ({_reference_flows_sql(level)}),
        codes AS (SELECT origin AS code FROM f UNION SELECT destination FROM f)
        SELECT c.code,
          coalesce(sum(f.settlements) FILTER (WHERE f.origin = c.code
                                              AND f.destination = c.code), 0) AS local,
          coalesce(sum(f.settlements) FILTER (WHERE f.origin = c.code
                                              AND f.destination <> c.code), 0) AS outbound,
          coalesce(sum(f.settlements) FILTER (WHERE f.destination = c.code
                                              AND f.origin <> c.code), 0) AS inbound
        FROM codes c JOIN f ON f.origin = c.code OR f.destination = c.code
        GROUP BY c.code ORDER BY c.code
    """, period.params).df()


@pytest.fixture
def con(detected_store: Store) -> duckdb.DuckDBPyConnection:
    return detected_store.con


@pytest.mark.parametrize("level", ["city", "province"])
def test_summed_facts_equal_the_per_period_query(con: duckdb.DuckDBPyConnection,
                                                 level: cr.Level) -> None:
    facts = cr.flow_facts(con)
    for period in (data_period(con), *PERIODS):
        flows = cr.flows_from_facts(facts, period, level=level, lang="en")
        expected = _reference_flows(con, period, level)
        assert len(flows) == len(expected) > 0
        pd.testing.assert_frame_equal(
            flows[["origin", "destination", "settlements", "persons"]].reset_index(drop=True),
            expected[["origin", "destination", "settlements", "persons"]].astype(
                {"settlements": "int64", "persons": "int64"}), check_dtype=False)
        assert flows["fund"].to_numpy() == pytest.approx(expected["fund"].to_numpy(), abs=0.02)
        assert flows["share"].to_numpy() == pytest.approx(expected["share"].to_numpy(),
                                                          abs=2e-4)  # rounding
        assert list(flows["origin_name"]) == [division_name(c, "en") for c in flows["origin"]]
        balance = cr.balance_from_facts(facts, period, level=level).sort_values("code")
        ref = _reference_balance(con, period, level)
        assert list(balance["code"]) == list(ref["code"])
        for col in ("local", "outbound", "inbound"):
            assert list(balance[col]) == [int(v) for v in ref[col]], col


def test_one_query_serves_every_period_level_and_language(
        con: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    queries: list[str] = []
    def counting(con: duckdb.DuckDBPyConnection, sql: str, params: Any = None) -> pd.DataFrame:
        queries.append(sql)
        return query_frame(con, sql, params)

    monkeypatch.setattr(cr, "query_frame", counting)
    facts = cr.flow_facts(con)
    for period in PERIODS:
        for level in ("city", "province"):
            for lang in ("zh", "en"):
                assert not cr.flows_from_facts(facts, period, level=level, lang=lang).empty
                assert not cr.balance_from_facts(facts, period, level=level, lang=lang).empty
    assert len(queries) == 1
    # the facts are few: settlements at home are one row per city and day
    settlements = con.execute("SELECT count(*) FROM settlements").fetchall()[0][0]
    assert len(facts) < settlements / 2
