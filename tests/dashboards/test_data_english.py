"""The data behind the English view: division names in English wherever a page lists places,
and evidence that cites institutions by name."""

from __future__ import annotations

import re
from collections.abc import Iterable

import duckdb
import pytest

from dashboards.data import chains as chain_data
from dashboards.data import cross_region as cr
from dashboards.data import search
from dashboards.data.common import Period, data_period
from dashboards.data.evidence import cite_institutions, evidence_in
from dashboards.data.rings import rings_table
from loaders.store import Store

CJK = re.compile("[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


@pytest.fixture
def con(detected_store: Store) -> duckdb.DuckDBPyConnection:
    return detected_store.con


@pytest.fixture
def whole(con: duckdb.DuckDBPyConnection) -> Period:
    return data_period(con)


def _chinese(values: Iterable[object]) -> list[str]:
    return [v for v in values if isinstance(v, str) and CJK.search(v)]


def test_cross_region_names_divisions_in_english(con: duckdb.DuckDBPyConnection,
                                                 whole: Period) -> None:
    for level in ("city", "province"):
        flows = cr.cross_division_flows(con, whole, level=level, lang="en")
        zh = cr.cross_division_flows(con, whole, level=level)
        assert len(flows) == len(zh) > 0
        assert _chinese(flows["origin_name"]) == _chinese(flows["destination_name"]) == []
        assert _chinese(zh["origin_name"])  # Chinese stays the default
        balance = cr.division_balance(con, whole, level=level, lang="en")
        assert _chinese(balance["name"]) == []
    trips = cr.impossible_trips(con, whole, lang="en")
    assert _chinese(trips["from_city"]) == _chinese(trips["to_city"]) == []
    clusters = cr.card_use_clusters(con, whole, lang="en")
    for column in ("home_provinces", "care_provinces", "places"):
        assert _chinese(clusters[column]) == []


def test_ring_places_list_in_english(con: duckdb.DuckDBPyConnection, whole: Period) -> None:
    en, zh = rings_table(con, whole, lang="en"), rings_table(con, whole)
    assert list(en["ring_id"]) == list(zh["ring_id"])
    assert _chinese(en["places"]) == []
    assert any("、" in p for p in zh["places"])
    assert any(", " in p for p in en["places"])


def test_chains_name_their_cities_in_english(con: duckdb.DuckDBPyConnection,
                                             whole: Period) -> None:
    table = chain_data.chains_table(con, whole, lang="en")
    assert _chinese(table["city_names"]) == []
    hops = chain_data.chain_hops(con, str(table["drug_trac_codg"].iloc[0]), lang="en")
    assert _chinese(hops["city_name"]) == _chinese(hops["place"]) == []
    links = chain_data.chain_links(con, whole, lang="en")
    assert _chinese(links["src_city"]) == _chinese(links["dst_city"]) == []


def test_a_profile_names_the_insured_division_in_english(con: duckdb.DuckDBPyConnection,
                                                         whole: Period) -> None:
    code = con.execute("SELECT min(psn_no) FROM persons").fetchone()
    assert code is not None
    person = search.person_profile(con, str(code[0]), whole, lang="en")
    assert not CJK.search(str(person["home"].iloc[0]))
    inst = con.execute("SELECT min(fixmedins_code) FROM institutions").fetchone()
    assert inst is not None
    profile = search.institution_profile(con, str(inst[0]), whole, lang="en")
    assert not CJK.search(str(profile["place"].iloc[0]))


def test_evidence_cites_institutions_by_name(con: duckdb.DuckDBPyConnection) -> None:
    code, name = con.execute(
        "SELECT fixmedins_code, fixmedins_name FROM institutions ORDER BY 1 LIMIT 1").fetchone()
    doctor = con.execute("SELECT min(dr_codg) FROM practitioners").fetchone()[0]
    sentences = (f"Trace code 8306 was settled at {code} on 2024-06-22",
                 f"8 persons settled together at {name} ({code}) on 12 days",
                 f"Doctor {doctor} (of {code}) sent 71 prescriptions to X99999999999",
                 None)
    cited = cite_institutions(con, sentences)
    assert cited[0] == f"Trace code 8306 was settled at {name} on 2024-06-22"
    assert cited[1] == sentences[1]  # already named: the code stays beside its name
    assert cited[2] == f"Doctor {doctor} (of {name}) sent 71 prescriptions to X99999999999"
    assert cited[3] is None
    assert evidence_in(con, sentences, "zh") == list(sentences)
