"""The search page's data: escaped LIKE patterns, candidates by code and name, profiles, trace-code
hops and neighbourhoods, ring spans (on a tiny hand-made store and on the detected store)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

import duckdb
import networkx as nx
import pytest

from backends.base import Expansion, Window
from backends.embedded import EmbeddedBackend
from dashboards.data.common import Period
from dashboards.data.search import (
    SEARCH_KINDS,
    escape_like,
    institution_profile,
    names_of,
    period_bounds,
    person_profile,
    practitioner_profile,
    ring_spans,
    search_entities,
    trace_code_hops,
    trace_code_summary,
)
from loaders.store import Store
from tests.detected import Detected

YEAR = Period(date(2024, 1, 1), date(2024, 12, 31))
NOTHING = Period(date(1999, 1, 1), date(1999, 12, 31))


@pytest.fixture
def tiny() -> Iterator[duckdb.DuckDBPyConnection]:
    """Institutions whose names hold LIKE wildcards, and a few settlements."""
    con = duckdb.connect()
    con.execute("""CREATE TABLE institutions AS SELECT * FROM (VALUES
        ('H1', 'A%B 医院', '1', '02', '310101'), ('H2', 'AxB 医院', '1', '02', '310101'),
        ('H3', 'A_B 药店', '2', NULL, '320102'), ('H4', 'AyyB 药店', '2', NULL, '320102'),
        ('H5', 'C\\D 诊所', '1', '11', '330102'))
        t(fixmedins_code, fixmedins_name, fixmedins_type, hosp_lv, admdvs)""")
    con.execute("""CREATE TABLE settlements AS SELECT * FROM (VALUES
        ('S1', 'P1', 'H2', TIMESTAMP '2024-03-01 10:00', 100.0, 60.0, 10.0, NULL),
        ('S2', 'P2', 'H2', TIMESTAMP '2024-03-02 10:00', 100.0, 60.0, 0.0, NULL),
        ('S3', 'P1', 'H1', TIMESTAMP '2024-05-01 10:00', 50.0, 20.0, 5.0, NULL))
        t(setl_id, psn_no, fixmedins_code, setl_time, medfee_sumamt, fund_pay_sumamt,
          acct_pay, init_setl_id)""")
    yield con
    con.close()


def test_escape_like_escapes_wildcards_and_the_escape() -> None:
    assert escape_like("50%_off\\") == "50\\%\\_off\\\\"
    assert escape_like("人民医院") == "人民医院"


@pytest.mark.parametrize(("query", "codes"), [
    ("%", ["H1"]), ("_", ["H3"]), ("\\", ["H5"]), ("a%b", ["H1"]), ("B 医院", ["H2", "H1"]),
])
def test_wildcards_in_a_name_match_only_themselves(tiny: duckdb.DuckDBPyConnection, query: str,
                                                   codes: list[str]) -> None:
    found = search_entities(tiny, "institution", query, YEAR, by="name")
    assert list(found["fixmedins_code"]) == codes


def test_code_search_is_a_prefix_and_counts_the_period(tiny: duckdb.DuckDBPyConnection
                                                       ) -> None:
    found = search_entities(tiny, "institution", "H", YEAR)
    assert list(found["fixmedins_code"][:2]) == ["H2", "H1"]  # most settlements first
    assert found.set_index("fixmedins_code").loc["H2", "fund"] == pytest.approx(130.0)
    assert (found["matches"] == 5).all()
    assert search_entities(tiny, "institution", "_", YEAR).empty  # "_" is no wildcard here
    march = search_entities(tiny, "institution", "H1", Period(date(2024, 3, 1),
                                                              date(2024, 3, 31)))
    assert list(march["settlements"]) == [0]


def test_unsupported_searches_say_how_to_fix(tiny: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(ValueError, match="search it by code"):
        search_entities(tiny, "trace_code", "x", YEAR, by="name")
    with pytest.raises(ValueError, match="'vehicle'"):
        search_entities(tiny, "vehicle", "x", YEAR)


@pytest.mark.parametrize("kind", SEARCH_KINDS)
def test_nonsense_finds_nothing(detected_store: Store, kind: str) -> None:
    assert search_entities(detected_store.con, kind, "ZZ%_no-such-thing", YEAR).empty
    assert search_entities(detected_store.con, kind, "   ", YEAR).empty


def test_a_ring_member_is_found_by_code_and_by_name(detected: Detected,
                                                    detected_store: Store) -> None:
    con = detected_store.con
    ring = detected.result.suspicious[0]
    person = ring.persons[0]
    by_code = search_entities(con, "person", person, YEAR)
    assert list(by_code["psn_no"]) == [person]
    assert int(by_code["settlements"].iloc[0]) > 0
    prefix = search_entities(con, "person", person[:6], YEAR)
    assert prefix["psn_no"].str.startswith(person[:6]).all()
    assert len(prefix) == 50
    assert int(prefix["matches"].iloc[0]) > 50
    name = str(con.execute("SELECT psn_name FROM persons WHERE psn_no = $p",
                           {"p": person}).fetchall()[0][0])
    by_name = search_entities(con, "person", name[1:], YEAR, by="name")
    assert by_name["psn_name"].str.contains(name[1:], regex=False).all()
    if int(by_name["matches"].iloc[0]) <= 50:
        assert person in set(by_name["psn_no"])
    place = ring.institutions[0]
    inst_name = str(con.execute("SELECT fixmedins_name FROM institutions "
                                "WHERE fixmedins_code = $c", {"c": place}).fetchall()[0][0])
    found = search_entities(con, "institution", inst_name, YEAR, by="name")
    assert found["fixmedins_code"].iloc[0] == place or place in set(found["fixmedins_code"])


def test_profiles_count_the_period(detected: Detected, detected_store: Store) -> None:
    con = detected_store.con
    ring = detected.result.suspicious[0]
    person = person_profile(con, ring.persons[0], YEAR)
    assert list(person["psn_no"]) == [ring.persons[0]]
    assert int(person["settlements"].iloc[0]) > 0
    assert float(person["fund"].iloc[0]) > 0
    assert int(person_profile(con, ring.persons[0], NOTHING)["settlements"].iloc[0]) == 0
    assert person_profile(con, "no-such-person", YEAR).empty
    inst = institution_profile(con, ring.institutions[0], YEAR)
    assert int(inst["persons"].iloc[0]) >= 1
    assert inst["place"].iloc[0]
    doctor = str(con.execute("SELECT dr_codg FROM settlements WHERE dr_codg IS NOT NULL "
                             "LIMIT 1").fetchall()[0][0])
    dr = practitioner_profile(con, doctor, YEAR)
    assert int(dr["settlements"].iloc[0]) >= 1
    assert dr["dr_name"].iloc[0]


def _chain_code(con: duckdb.DuckDBPyConnection) -> tuple[str, list[str]]:
    code, setl_ids = con.execute(
        "SELECT drug_trac_codg, setl_ids FROM chains WHERE hit_class = 'resale' "
        "ORDER BY n_settlements DESC, drug_trac_codg LIMIT 1").fetchall()[0]
    return str(code), [str(s) for s in setl_ids]


def test_trace_code_hops_follow_the_chain(detected_store: Store) -> None:
    con = detected_store.con
    code, setl_ids = _chain_code(con)
    hops = trace_code_hops(con, code, YEAR)
    assert list(hops["setl_id"]) == setl_ids
    assert list(hops["hop"]) == list(range(1, len(setl_ids) + 1))
    assert hops["fixmedins_name"].notna().all()
    assert hops["in_period"].all()
    assert not trace_code_hops(con, code, NOTHING)["in_period"].any()
    assert trace_code_hops(con, "no-such-code", YEAR).empty
    summary = trace_code_summary(con, code)
    assert summary["hit_class"].tolist() == ["resale"]
    found = search_entities(con, "trace_code", code[:-1], YEAR)
    assert code in set(found["drug_trac_codg"])
    assert found["med_list_name"].notna().all()


def test_trace_code_neighbourhood_grows_from_its_sales(detected_store: Store) -> None:
    """The backend's trace-code neighbourhood (built from its own chain_of and neighbourhood,
    so the Neo4j backend answers it too): the code's sales first, then their neighbours."""
    con = detected_store.con
    code, _ = _chain_code(con)
    hops = trace_code_hops(con, code, YEAR)
    start, end = period_bounds(YEAR)
    backend = EmbeddedBackend(detected_store.path)

    def around(n: int, lo: datetime = start, hi: datetime = end) -> nx.Graph:
        return backend.trace_code_neighbourhood(code, Expansion(hops=n, window=Window(lo, hi)))

    one = around(1)
    center = ("trace_code", code)
    sold = {("person", p) for p in hops.loc[hops["effective"], "psn_no"]} | {
        ("institution", i) for i in hops.loc[hops["effective"], "fixmedins_code"]}
    assert set(one.neighbors(center)) == sold
    assert sum(one.edges[center, n]["settlements"] for n in sold
               if n[0] == "institution") == int(hops["effective"].sum())
    two = around(2)
    assert set(one.nodes) <= set(two.nodes)
    assert len(two) > len(one)
    assert max(nx.shortest_path_length(two, center).values()) <= 2
    empty = around(2, datetime(1999, 1, 1), datetime(1999, 12, 31))
    assert list(empty.nodes) == [center]


def test_period_bounds_cover_whole_days() -> None:
    start, end = period_bounds(Period(date(2024, 3, 1), date(2024, 3, 31)))
    assert start == datetime(2024, 3, 1)
    assert end.date() == date(2024, 3, 31)
    assert end > datetime(2024, 3, 31, 23, 59, 59)


def test_names_and_ring_spans(detected: Detected, detected_store: Store) -> None:
    con = detected_store.con
    ring = detected.result.suspicious[0]
    nodes = [("person", ring.persons[0]), ("institution", ring.institutions[0]),
             ("person", "no-such-person")]
    names = names_of(con, nodes)
    assert set(zip(names["kind"], names["code"], strict=True)) == set(nodes[:2])
    assert names["name"].str.len().gt(0).all()
    spans = ring_spans(con, [ring.ring_id], YEAR)
    assert spans["in_period"].tolist() == [True]
    assert ring_spans(con, [ring.ring_id], NOTHING)["in_period"].tolist() == [False]
