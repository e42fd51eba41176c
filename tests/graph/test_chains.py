"""Traceability-code chains: hops in time order, reversals marked, the link network, and the
planted scenarios of a 60k synthetic set found (resale chains, travel, doctors) or spared
(refunds, split packs, honest look-alikes)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _tiny_store import T0, TinyStore, add_trace_cases

from graph.chains import build_chains, chain_of
from graph.rules import TRACE_CLASSES, run_rules
from loaders.load import load_folder
from loaders.store import Store, open_store
from yibao.synth import synthesize

PA, PB, PD = "P34120000001", "P34120000002", "P34120000004"


@pytest.fixture(scope="module")
def chained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, dict[str, str]]]:
    ts = TinyStore()
    codes = add_trace_cases(ts)
    store = ts.load(tmp_path_factory.mktemp("chains"))
    build_chains(store.con)
    yield store, codes
    store.close()


def _chain(store: Store, code: str) -> dict[str, Any]:
    cur = store.con.execute("SELECT * FROM chains WHERE drug_trac_codg = ?", [code])
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    assert row is not None, code
    chain = dict(zip(names, row, strict=True))
    chain["hops"] = json.loads(chain["hops"])
    return chain


def test_chain_tables_schema(chained: tuple[Store, dict[str, str]]) -> None:
    store, _ = chained
    chains = {r[0]: r[1] for r in store.con.execute("DESCRIBE chains").fetchall()}
    assert chains == {
        "drug_trac_codg": "VARCHAR", "med_list_codg": "VARCHAR", "med_list_name": "VARCHAR",
        "n_settlements": "BIGINT", "n_effective": "BIGINT", "hit_class": "VARCHAR",
        "first_time": "TIMESTAMP", "last_time": "TIMESTAMP", "institutions": "VARCHAR[]",
        "persons": "VARCHAR[]", "setl_ids": "VARCHAR[]", "hops": "JSON",
    }
    links = {r[0]: r[1] for r in store.con.execute("DESCRIBE chain_links").fetchall()}
    assert links == {
        "kind": "VARCHAR", "src": "VARCHAR", "dst": "VARCHAR", "n_codes": "BIGINT",
        "first_time": "TIMESTAMP", "last_time": "TIMESTAMP", "hit_classes": "VARCHAR[]",
        "chain_codes": "VARCHAR[]",
    }


def test_chains_agree_with_the_rule(chained: tuple[Store, dict[str, str]]) -> None:
    store, codes = chained
    run_rules(store.con)
    rule = dict(store.con.execute(
        "SELECT subject_id, hit_class FROM rule_hits WHERE rule_id = 'TRACE_REUSE'").fetchall())
    chains = dict(store.con.execute("SELECT drug_trac_codg, hit_class FROM chains").fetchall())
    assert chains == rule
    assert set(chains.values()) == set(TRACE_CLASSES)
    assert codes["reversed_only"] not in chains
    assert codes["single_sale"] not in chains


def test_three_hop_chain_in_time_order(chained: tuple[Store, dict[str, str]]) -> None:
    store, codes = chained
    chain = _chain(store, codes["three_hops"])
    assert chain["hit_class"] == "resale"
    assert chain["institutions"] == [PA, PB, PD]
    assert chain["n_settlements"] == chain["n_effective"] == 3
    assert [h["fixmedins_code"] for h in chain["hops"]] == chain["institutions"]
    assert [h["setl_id"] for h in chain["hops"]] == chain["setl_ids"]
    assert [h["psn_no"] for h in chain["hops"]] == chain["persons"]
    assert chain["hops"][0] == {
        "setl_id": chain["setl_ids"][0], "psn_no": chain["persons"][0], "fixmedins_code": PA,
        "admdvs": "341202", "setl_time": "2024-03-01 10:00:00", "pric": 10.0, "cnt": 1.0,
        "reversed": False, "reversal": False, "effective": True, "init_setl_id": None,
    }
    assert chain["first_time"] == T0


def test_refund_hops_are_marked(chained: tuple[Store, dict[str, str]]) -> None:
    store, codes = chained
    chain = _chain(store, codes["refund"])
    assert chain["hit_class"] == "refund"
    assert (chain["n_settlements"], chain["n_effective"]) == (2, 1)
    flags = [(h["reversal"], h["reversed"], h["effective"], h["cnt"]) for h in chain["hops"]]
    assert flags == [(False, True, False, 1.0), (True, True, False, -1.0),
                     (False, False, True, 1.0)]
    assert chain["hops"][1]["init_setl_id"] == chain["setl_ids"][0]


def test_chain_links_form_the_network(chained: tuple[Store, dict[str, str]]) -> None:
    store, codes = chained
    links = {(k, s, d): (n, c, classes) for k, s, d, n, c, classes in store.con.execute(
        "SELECT kind, src, dst, n_codes, chain_codes, hit_classes FROM chain_links").fetchall()}
    n, sample, classes = links[("institution", PA, PB)]
    assert n == 5
    assert classes == ["counterfeit", "resale"]
    assert set(sample) == {codes[k] for k in ("resale", "resale_at_threshold", "three_hops",
                                              "counterfeit", "counterfeit_below_threshold")}
    assert links[("institution", PB, PD)][0] == 1
    honest = {codes[k] for k in ("refund", "split_pack", "split_fraction")}
    for _, sample, _ in links.values():
        assert not honest & set(sample)
    assert all(src != dst for _, src, dst in links)
    assert sum(1 for k, _, _ in links if k == "person") > 0


def test_chain_codes_are_a_sample(chained: tuple[Store, dict[str, str]]) -> None:
    store, _ = chained
    build_chains(store.con, sample_codes=1)
    n, sample = store.con.execute(
        "SELECT n_codes, chain_codes FROM chain_links WHERE kind = 'institution' AND src = ? "
        "AND dst = ?", [PA, PB]).fetchone() or (0, [])
    assert n == 5
    assert len(sample) == 1
    build_chains(store.con)


def test_chain_of_one_code(chained: tuple[Store, dict[str, str]]) -> None:
    store, codes = chained
    hops = chain_of(store.con, codes["late_reversal"])
    assert [(h.reversal, h.reversed, h.effective) for h in hops] == [
        (False, True, True), (False, False, True), (True, True, False)]
    assert hops[2].init_setl_id == hops[0].setl_id
    assert hops[2].cnt == -1.0
    assert [h.setl_id for h in chain_of(store.con, codes["refund"])] == _chain(
        store, codes["refund"])["setl_ids"]
    assert chain_of(store.con, "'; DROP TABLE chains; --") == []
    assert store.con.execute("SELECT count(*) FROM chains").fetchone() != (0,)


def test_summary_counts(tmp_path: Path) -> None:
    ts = TinyStore()
    add_trace_cases(ts)
    with ts.load(tmp_path) as store:
        summary = build_chains(store.con)
        assert summary.n_chains == 11
        assert dict(summary.classes) == {"counterfeit": 2, "item_substitution": 3, "refund": 1,
                                         "resale": 3, "split_pack": 2}
        assert summary.n_institution_links == 2
        assert summary.seconds >= 0


# -- planted scenarios at 60k settlements ---------------------------------------------------------

_HONEST_PEOPLE = ("dialysis_cohort", "family_visits", "nursing_home", "cross_border_commuters")


@pytest.mark.slow
def test_planted_scenarios_at_60k(tmp_path: Path) -> None:
    folder = tmp_path / "synth"
    synthesize(folder, scale=60_000, seed=5)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))["scenarios"]
    with open_store(tmp_path / "s.duckdb") as store:
        load_folder(folder, store)
        run_rules(store.con)
        build_chains(store.con)
        con = store.con
        chain_class = dict(con.execute("SELECT drug_trac_codg, hit_class FROM chains").fetchall())
        hit_subjects: dict[str, set[str]] = {}
        for rule_id, subjects in con.execute(
                "SELECT rule_id, list(DISTINCT p) FROM (SELECT rule_id, unnest(persons || "
                "practitioners) AS p FROM rule_hits) GROUP BY 1").fetchall():
            hit_subjects[rule_id] = set(subjects)
        travel = hit_subjects.get("IMPOSSIBLE_TRAVEL", set())
        doctors = hit_subjects.get("DOCTOR_PHARMACY_CONCENTRATION", set())
        seen = Counter(s["pattern"] for s in truth)
        planted: set[str] = set()
        for s in truth:
            classes = Counter(chain_class.get(c) for c in s["trace_codes"])
            if s["pattern"] == "resale_chain":
                assert classes == {"resale": len(s["trace_codes"])}, s["id"]
            elif s["pattern"] == "refund_resale":
                assert classes == {"refund": len(s["trace_codes"])}, s["id"]
            elif s["pattern"] == "split_pack":
                assert set(classes) == {"split_pack"}, s["id"]
            else:
                assert "resale" not in classes, s["id"]
            if s["pattern"] == "cross_province_card_use":
                assert set(s["persons"]) <= travel, s["id"]
            if s["pattern"] == "doctor_pharmacy_collusion":
                assert set(s["practitioners"]) <= doctors, s["id"]
            if s["pattern"] in _HONEST_PEOPLE:
                people = set(s["persons"]) | set(s["practitioners"])
                assert not people & (travel | doctors), s["id"]
            planted |= set(s["persons"]) | set(s["practitioners"])
        assert all(seen[p] for p in ("resale_chain", "refund_resale", "split_pack",
                                     "cross_province_card_use", "doctor_pharmacy_collusion"))
        background = {rule: len(subjects - planted) for rule, subjects in hit_subjects.items()}
        assert background.get("IMPOSSIBLE_TRAVEL", 0) == 0
        assert background.get("DOCTOR_PHARMACY_CONCENTRATION", 0) == 0
        assert background.get("MANY_PHARMACIES_DAY", 0) == 0
        planted_codes = {c for s in truth for c in s["trace_codes"]}
        assert {c for c in chain_class if c not in planted_codes} == set()
