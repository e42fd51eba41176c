"""Resale-chain data for the workbench, on the detected store: every planted resale chain is
listed, filters by class, search and period work, one chain's hops are the code's settlements
in order, and the pharmacy/collector network joins the chains' pharmacies and buyers."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import duckdb
import pandas as pd
import pytest

from dashboards.data import chains as cd
from dashboards.data.common import Period, data_period
from graph.chains import chain_of
from loaders.store import Store
from tests.detected import Detected


@pytest.fixture
def con(detected_store: Store) -> duckdb.DuckDBPyConnection:
    return detected_store.con


@pytest.fixture
def whole(con: duckdb.DuckDBPyConnection) -> Period:
    return data_period(con)


def _planted(detected: Detected, pattern: str = "resale_chain") -> list[dict[str, Any]]:
    truth = json.loads((detected.folder / "truth.json").read_text(encoding="utf-8"))
    return [s for s in truth["scenarios"] if s["pattern"] == pattern]


def _planted_codes(detected: Detected) -> set[str]:
    return {str(c) for s in _planted(detected) for c in s["trace_codes"]}


def test_every_planted_resale_chain_is_listed(con: duckdb.DuckDBPyConnection, whole: Period,
                                              detected: Detected) -> None:
    planted = _planted_codes(detected)
    assert planted
    table = cd.chains_table(con, whole)
    assert list(table.columns) == [
        "drug_trac_codg", "med_list_codg", "med_list_name", "hit_class", "n_settlements",
        "n_effective", "institutions", "cities", "city_names", "first_time", "last_time", "days"]
    assert set(table["drug_trac_codg"]) == planted  # the default class is resale
    assert (table["hit_class"] == "resale").all()
    assert (table["n_settlements"] >= 2).all()
    assert (table["cities"] >= 2).all()  # planted resale crosses cities
    assert table["city_names"].str.contains("、").all()
    assert (table["days"] > 0).all()
    assert table["n_settlements"].is_monotonic_decreasing


def test_class_filter_and_all_classes(con: duckdb.DuckDBPyConnection, whole: Period) -> None:
    everything = cd.chains_table(con, whole, classes=None)
    counts = everything["hit_class"].value_counts()
    assert {"resale", "refund", "split_pack"} <= set(counts.index)
    for cls, n in counts.items():
        part = cd.chains_table(con, whole, classes=(str(cls),))
        assert len(part) == n
        assert (part["hit_class"] == cls).all()
    both = cd.chains_table(con, whole, classes=("refund", "split_pack"))
    assert len(both) == counts["refund"] + counts["split_pack"]


def test_search_matches_part_of_a_code(con: duckdb.DuckDBPyConnection, whole: Period,
                                       detected: Detected) -> None:
    code = sorted(_planted_codes(detected))[0]
    part = code[-9:]
    found = cd.chains_table(con, whole, classes=None, search=f"  {part} ")
    assert code in set(found["drug_trac_codg"])
    assert found["drug_trac_codg"].str.contains(part).all()
    assert cd.chains_table(con, whole, classes=None, search="no-such-code").empty


def test_period_keeps_chains_that_overlap_it(con: duckdb.DuckDBPyConnection,
                                             whole: Period) -> None:
    march = Period(date(2024, 3, 1), date(2024, 3, 31))
    part = cd.chains_table(con, march, classes=None)
    assert 0 < len(part) < len(cd.chains_table(con, whole, classes=None))
    assert (part["first_time"] < pd.Timestamp("2024-04-01")).all()
    assert (part["last_time"] >= pd.Timestamp("2024-03-01")).all()


def test_a_chains_hops_are_its_settlements_in_order(con: duckdb.DuckDBPyConnection,
                                                    detected: Detected) -> None:
    code = sorted(_planted_codes(detected))[0]
    chain = cd.chain_record(con, code)
    assert chain is not None
    assert chain.hit_class == "resale"
    hops = cd.chain_hops(con, code)
    assert len(hops) == chain.n_settlements
    assert list(hops["hop"]) == list(range(1, len(hops) + 1))
    assert hops["setl_time"].is_monotonic_increasing
    assert list(hops["setl_id"]) == [h.setl_id for h in chain_of(con, code)]
    assert list(hops["fixmedins_code"]) == chain.institutions
    assert list(hops["psn_no"]) == chain.persons
    assert hops["psn_name"].notna().all()
    assert hops["city_name"].str.endswith("市").all()
    assert hops[["lon", "lat"]].notna().all().all()
    moved = hops["fixmedins_code"].ne(hops["fixmedins_code"].shift())
    # a resale hop crosses cities (neighbouring cities' shops can be a few km apart)
    assert (hops["city_name"] != hops["city_name"].shift())[moved].iloc[1:].all()
    assert (hops["km"][moved].iloc[1:] > 0).all()
    assert hops["gap_days"].iloc[1:].gt(0).all()
    assert (hops["amount"] > 0).all()


def test_unknown_code_is_no_chain(con: duckdb.DuckDBPyConnection) -> None:
    assert cd.chain_record(con, "00000000000000000000") is None
    assert cd.chain_hops(con, "00000000000000000000").empty


def test_codes_settled_once_are_found_by_search(con: duckdb.DuckDBPyConnection,
                                                detected: Detected) -> None:
    once = con.execute("SELECT drug_trac_codg FROM trace_codes WHERE drug_trac_codg NOT IN "
                       "(SELECT drug_trac_codg FROM chains) ORDER BY 1 LIMIT 1").fetchall()[0][0]
    found = cd.single_settled_codes(con, once[2:14])
    assert once in set(found["code"])
    chained = sorted(_planted_codes(detected))[0]
    assert chained not in set(cd.single_settled_codes(con, chained)["code"])


def test_links_and_network_join_pharmacies_and_buyers(con: duckdb.DuckDBPyConnection,
                                                      whole: Period,
                                                      detected: Detected) -> None:
    links = cd.chain_links(con, whole)
    assert set(links["kind"]) == {"institution", "person"}
    inst = links[links["kind"] == "institution"]
    assert inst[["src_name", "dst_name", "src_lon", "dst_lat", "src_city"]].notna().all().all()
    assert (inst["n_codes"] >= 1).all()
    planted_inst = {str(i) for s in _planted(detected) for i in s["institutions"]}
    linked = set(inst["src"]) | set(inst["dst"])
    assert linked & planted_inst

    graph = cd.chain_network(con, whole)
    kinds = {k for _, k in graph.nodes(data="kind")}
    assert kinds == {"institution", "person"}
    assert {("institution", c) for c in linked} <= set(graph.nodes)
    links_kinds = {d["link"] for *_, d in graph.edges(data=True)}
    assert links_kinds == {"resale", "sale"}
    nodes = cd.network_nodes(graph)
    assert len(nodes) == graph.number_of_nodes()
    assert list(nodes.columns) == ["kind", "code", "label", "degree", "resale_links", "sales",
                                   "codes"]
    assert nodes["codes"].is_monotonic_decreasing


def test_network_around_one_chain_touches_it(con: duckdb.DuckDBPyConnection, whole: Period,
                                             detected: Detected) -> None:
    chain = cd.chain_record(con, sorted(_planted_codes(detected))[0])
    assert chain is not None
    around = tuple([*chain.institutions, *chain.persons])
    links = cd.chain_links(con, whole, around=around)
    assert not links.empty
    assert (links["src"].isin(around) | links["dst"].isin(around)).all()
    graph = cd.chain_network(con, whole, classes=None, around=around)
    assert {("institution", c) for c in chain.institutions} <= set(graph.nodes)
    assert {("person", p) for p in chain.persons} <= set(graph.nodes)
    assert set(graph.nodes) <= set(cd.chain_network(con, whole, classes=None).nodes)


def test_honest_classes_leave_no_network(con: duckdb.DuckDBPyConnection,
                                         whole: Period) -> None:
    assert cd.chain_links(con, whole, classes=("refund",)).empty
    assert set(cd.SUSPICIOUS_CLASSES).isdisjoint({"refund", "split_pack"})
