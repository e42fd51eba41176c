"""The whole detection on a synthetic store: planted rings found, honest groups left alone,
results stored, ids stable across reruns and appends."""

from __future__ import annotations

import json

from graph.detect import detect
from graph.evaluate import evaluate_store, load_truth
from graph.scoring import load_detection_settings
from loaders.store import Store
from tests.detected import Detected


def test_planted_rings_are_found_and_honest_groups_are_not(detected: Detected,
                                                           detected_store: Store) -> None:
    ev = evaluate_store(detected_store.con, load_truth(detected.folder))
    assert ev.recall >= 0.95, [s for s in ev.scenarios if s.kind == "fraud" and s.recall < 1]
    assert ev.precision >= 0.90
    assert ev.honest_in_suspicious == []
    assert ev.chains_found == ev.chains_planted > 0
    for s in ev.scenarios:
        if s.kind == "honest":
            assert s.found == 0, s


def test_every_ring_is_stored_with_members_settlements_and_evidence(
        detected: Detected, detected_store: Store) -> None:
    con = detected_store.con
    rings = con.execute("SELECT ring_id, pattern, score, suspicious, rank, persons, "
                        "institutions, evidence_zh, evidence_en, features, fund_amount "
                        "FROM rings ORDER BY rank").fetchall()
    assert len(rings) == len(detected.result.rings) > 0
    assert [r[4] for r in rings] == list(range(1, len(rings) + 1))
    threshold = load_detection_settings().threshold
    keys = [(not r[3], -r[2], -r[10]) for r in rings]
    assert keys == sorted(keys)  # flagged first, then by evidence, then by money
    for ring_id, pattern, score, suspicious, _, persons, places, zh, en, feats, fund in rings:
        assert pattern in {"card_pooling", "recruited_inpatients", "cross_province_card_use",
                           "resale_chain", "doctor_pharmacy_collusion"}
        assert suspicious == (score >= threshold)
        assert persons
        assert places
        assert zh
        assert en
        assert len(zh) == len(en)
        assert any(ch.isdigit() for ch in zh[0])  # evidence carries its numbers
        assert set(json.loads(feats)) >= {"synchrony", "distance_from_home", "amount_vs_norm"}
        members = {r[0] for r in con.execute(
            "SELECT code FROM ring_members WHERE ring_id = ? AND kind = 'person'",
            [ring_id]).fetchall()}
        assert members == set(persons)
        n = con.execute("SELECT count(*) FROM ring_settlements WHERE ring_id = ?",
                        [ring_id]).fetchall()[0][0]
        assert n > 0
        assert fund >= 0


def test_a_pooling_ring_names_the_one_operator_who_keyed_it(detected_store: Store) -> None:
    # The generator keys each pooling ring's swipes by one operator (经办人), as a real ring's
    # cashier would; the evidence says so against that operator's usual share.
    pooling = detected_store.con.execute(
        "SELECT evidence_zh, evidence_en FROM rings WHERE suspicious AND "
        "pattern = 'card_pooling'").fetchall()
    assert pooling
    assert all(any("同一经办人" in z for z in zh) for zh, _ in pooling)
    assert all(any("keyed by one operator" in e for e in en) for _, en in pooling)


def test_rerun_keeps_every_ring_id(detected_copy: Store, detected: Detected) -> None:
    before = {r.ring_id: r.persons for r in detected.result.rings}
    again = detect(detected_copy.con)
    assert {r.ring_id: r.persons for r in again.rings} == before
    runs = detected_copy.con.execute("SELECT count(*) FROM detect_runs").fetchall()[0][0]
    assert runs == 2


def test_engines_agree_on_the_suspicious_rings(detected_copy: Store,
                                               detected: Detected) -> None:
    reference = detect(detected_copy.con, engine="networkx")
    assert {r.persons for r in reference.suspicious} == \
        {r.persons for r in detected.result.suspicious}
    assert abs(reference.modularity - detected.result.modularity) <= 0.005
