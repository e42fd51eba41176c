"""Leads from the shared detected store: one per suspicious ring, per resale network, per rule and
institution (each hit in exactly one group), idempotent, money exact, period-aware."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from graph.subgraph import ring_subgraph
from loaders.store import Store, open_store
from tests.detected import Detected
from tests.leads.ledger_helpers import Clock
from yibao.leads import lead_draft_from_ring
from yibao.leads.from_detection import (
    detection_texts,
    lead_drafts_from_store,
    leads_from_store,
)
from yibao.leads.model import risk_from_score
from yibao.leads.sqlite_ledger import SqliteLedger

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def made(detected: Detected, tmp_path_factory: pytest.TempPathFactory) -> SqliteLedger:
    ledger = SqliteLedger(tmp_path_factory.mktemp("from_detection") / "leads.sqlite",
                          clock=Clock())
    report = leads_from_store(detected.db, ledger, by="system")
    assert report.total_created == len(ledger.leads()) > 0
    return ledger


def _rows(store: Store, sql: str) -> list[tuple]:  # type: ignore[type-arg]
    return store.con.execute(sql).fetchall()


def _confidence(store: Store, ring_id: str) -> float:
    (confidence,) = store.con.execute("""
        SELECT coalesce(1 - try_cast(json_extract(metrics, '$.q_value') AS DOUBLE), score)
        FROM rings WHERE ring_id = $r""", {"r": ring_id}).fetchone()  # type: ignore[misc]
    return float(confidence)


def _top_place(store: Store, ring_id: str) -> tuple[str, str, str]:
    """(code, name, division) of the institution with most of the ring's fund money, summed
    here from the base tables."""
    row = store.con.execute("""
        SELECT s.fixmedins_code, any_value(i.fixmedins_name), any_value(i.admdvs)
        FROM ring_settlements rs JOIN settlements s USING (setl_id)
        JOIN institutions i USING (fixmedins_code)
        WHERE rs.ring_id = $r GROUP BY s.fixmedins_code
        ORDER BY sum(s.fund_pay_sumamt + s.acct_pay) DESC, count(*) DESC, 1 LIMIT 1""",
                            {"r": ring_id}).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_one_lead_per_suspicious_ring(made: SqliteLedger, detected_store: Store) -> None:
    rings = {r[0]: r for r in _rows(detected_store, """
        SELECT ring_id, fund_amount, persons, institutions FROM rings WHERE suspicious""")}
    leads = {lead.source_ref: lead for lead in made.leads() if lead.source == "ring"}
    assert set(leads) == set(rings)
    for ring_id, (_, fund, persons, institutions) in rings.items():
        lead = leads[ring_id]
        assert lead.risk == risk_from_score(_confidence(detected_store, ring_id))
        assert lead.amount_involved == Decimal(str(round(fund, 2)))
        assert lead.persons == tuple(sorted(persons))
        assert lead.institutions == tuple(sorted(institutions))
        assert lead.rings == (ring_id,)
        assert lead.due == {"high": date(2024, 5, 31), "medium": date(2024, 6, 30),
                            "low": date(2024, 7, 30)}[lead.risk]


def test_a_ring_lead_is_named_and_placed_where_its_money_went(
        made: SqliteLedger, detected_store: Store) -> None:
    leads = [lead for lead in made.leads() if lead.source == "ring"]
    moved = 0
    for lead in leads:
        code, name, admdvs = _top_place(detected_store, str(lead.source_ref))
        assert lead.region == admdvs
        assert lead.title.split("：", 1)[1].startswith(name), lead.title
        (first,) = detected_store.con.execute(  # type: ignore[misc]
            "SELECT institutions[1] FROM rings WHERE ring_id = $r",
            {"r": lead.source_ref}).fetchone()
        moved += first != code
    assert moved >= 1  # the stored first member is not where the money went for every ring


def test_a_ring_lead_names_the_practitioners_of_its_network(
        made: SqliteLedger, detected_store: Store) -> None:
    leads = [lead for lead in made.leads() if lead.source == "ring"]
    for lead in leads:
        graph = ring_subgraph(detected_store.con, str(lead.source_ref))
        doctors = sorted(code for kind, code in graph.nodes if kind == "practitioner")
        assert lead.practitioners == tuple(doctors)
    assert any(lead.practitioners for lead in leads)


def test_a_resale_ring_is_one_lead_not_one_per_code(made: SqliteLedger,
                                                     detected_store: Store) -> None:
    (codes,) = detected_store.con.execute("""
        SELECT count(*) FROM chains WHERE hit_class = 'resale'""").fetchone()  # type: ignore[misc]
    resale_rings = {r[0] for r in _rows(detected_store, """
        SELECT ring_id FROM rings WHERE suspicious AND pattern = 'resale_chain'""")}
    assert codes > len(resale_rings) >= 1
    leads = made.leads()
    assert not [lead for lead in leads if lead.source == "chain"]  # every code is in a ring
    resale = [lead for lead in leads if lead.violation in ("resale_chain",)]
    assert {lead.source_ref for lead in resale} == resale_rings
    assert len(leads) < codes + len(resale_rings)


def test_resale_chains_outside_rings_make_one_lead_per_network(detected_copy: Store) -> None:
    con = detected_copy.con
    con.execute("UPDATE rings SET suspicious = false WHERE pattern = 'resale_chain'")
    networks = _rows(detected_copy, """
        SELECT ring_id, trace_codes FROM rings WHERE pattern = 'resale_chain'""")
    drafts = [d for d in lead_drafts_from_store(con) if d.source == "chain"]
    assert len(drafts) == len(networks) >= 1
    for ring_id, codes in networks:
        (draft,) = [d for d in drafts if d.source_ref == min(codes)]
        assert draft.rings == (ring_id,)
        (fund,) = con.execute("""
            SELECT sum(s.fund_pay_sumamt + s.acct_pay) FROM settlements s
            WHERE s.setl_id IN (SELECT DISTINCT unnest(setl_ids) FROM rule_hits
                                WHERE rule_id = 'TRACE_REUSE' AND hit_class = 'resale'
                                  AND list_has_any(trace_codes, $codes))
              AND s.init_setl_id IS NULL AND s.medfee_sumamt >= 0
              AND NOT EXISTS (SELECT 1 FROM settlements r WHERE r.init_setl_id = s.setl_id)
        """, {"codes": list(codes)}).fetchone()  # type: ignore[misc]
        assert draft.amount_involved == Decimal(str(round(fund, 2)))
        assert f"{len(codes)} 个追溯码" in draft.title
        assert draft.risk == "high"  # TRACE_REUSE resale is a high-severity rule


def test_a_lead_without_money_is_high_only_on_a_high_rule(detected_copy: Store) -> None:
    con = detected_copy.con
    con.execute("UPDATE rings SET fund_amount = 0 WHERE suspicious")
    drafts = {d.source_ref: d for d in lead_drafts_from_store(con) if d.source == "ring"}
    hard = {r[0] for r in _rows(detected_copy, """
        SELECT DISTINCT r.ring_id FROM rings r JOIN rule_hits h
          ON list_contains(r.hit_ids, h.hit_id) AND h.severity = 'high'
        WHERE r.suspicious""")}
    assert hard
    assert set(drafts) - hard
    for ring_id, draft in drafts.items():
        assert draft.amount_involved == 0
        assert (draft.risk == "high") == (ring_id in hard), ring_id


def test_titles_and_summaries_in_english(made: SqliteLedger, detected_store: Store) -> None:
    con = detected_store.con
    names = sorted((str(r[0]) for r in _rows(detected_store, """
        SELECT fixmedins_name FROM institutions WHERE fixmedins_name IS NOT NULL""")),
                   key=len, reverse=True)
    english = lead_drafts_from_store(con, lang="en")
    assert [d.source_ref for d in english] == [d.source_ref for d in lead_drafts_from_store(con)]
    for draft in english:
        for text in (draft.title, draft.summary):
            assert not [c for c in _without(text, names) if _cjk(c)], text
    leads = made.leads()
    edited = leads[0]
    made.update(edited.lead_id, {"title": "手工改过的标题"}, expected_version=edited.version,
                by="wang")
    texts = detection_texts(con, made.leads(), "en")
    assert set(texts) == {lead.lead_id for lead in leads}
    assert texts[edited.lead_id][0] == "手工改过的标题"  # an edit is kept as written
    by_ref = {d.source_ref: d for d in english}
    for lead in made.leads()[1:]:
        assert texts[lead.lead_id] == (by_ref[lead.source_ref].title,
                                       by_ref[lead.source_ref].summary)
    assert detection_texts(con, made.leads(), "zh") == {}


def _cjk(c: str) -> bool:
    return "\u3000" <= c <= "\u9fff" or "\uff00" <= c <= "\uffef"


def _without(text: str, names: list[str]) -> str:
    """``text`` without the institution names in it (names stay as registered)."""
    for name in names:
        text = text.replace(name, "")
    return text


def test_rule_hits_grouped_per_rule_and_busiest_institution(made: SqliteLedger,
                                                            detected_store: Store) -> None:
    hits = _rows(detected_store, """
        SELECT hit_id, rule_id, institutions, setl_ids FROM rule_hits
        WHERE severity <> 'info' AND NOT (rule_id = 'TRACE_REUSE' AND hit_class = 'resale')""")
    per_inst: Counter[tuple[str, str]] = Counter(
        (rule, inst) for _, rule, insts, _ in hits for inst in insts)
    groups: dict[tuple[str, str], list[list[str]]] = defaultdict(list)
    for _, rule, insts, setl_ids in hits:  # every hit to the institution most hits pass
        inst = min(insts, key=lambda i: (-per_inst[rule, i], i)) if insts else "-"
        groups[rule, inst].append(setl_ids)
    leads = {lead.source_ref: lead for lead in made.leads() if lead.source == "rule_hit"}
    assert set(leads) == {f"{rule}@{inst}" for rule, inst in groups}
    assert sum(int(lead.title.rsplit("（", 1)[1].split(" ")[0]) for lead in leads.values()) \
        == len(hits)  # each hit counted in exactly one group
    (rule, inst), setl_lists = max(groups.items(), key=lambda kv: len(kv[1]))
    setl_ids = sorted({s for ids in setl_lists for s in ids})
    (fund,) = detected_store.con.execute("""
        SELECT sum(s.fund_pay_sumamt + s.acct_pay) FROM settlements s
        WHERE s.setl_id IN (SELECT unnest($ids::VARCHAR[])) AND s.init_setl_id IS NULL
          AND s.medfee_sumamt >= 0
          AND NOT EXISTS (SELECT 1 FROM settlements r WHERE r.init_setl_id = s.setl_id)""",
                                         {"ids": setl_ids}).fetchone()
    assert leads[f"{rule}@{inst}"].amount_involved == Decimal(fund)
    assert leads[f"{rule}@{inst}"].institutions == (inst,)


def test_running_again_adds_nothing(made: SqliteLedger, detected: Detected) -> None:
    before, events = made.leads(), made.events()
    again = leads_from_store(detected.db, made, by="system")
    assert again.total_created == 0
    assert again.existing == again.drafts
    assert made.leads() == before
    assert made.events() == events
    assert made.verify().ok


def test_amounts_add_up_exactly(made: SqliteLedger) -> None:
    total = sum((lead.amount_involved for lead in made.leads()), Decimal(0))
    assert total == total.quantize(Decimal("0.01"))
    assert total > 0


def test_a_period_keeps_what_overlaps_it(detected: Detected, tmp_path: Path) -> None:
    spring = (date(2024, 3, 1), date(2024, 3, 31))
    with open_store(detected.db, read_only=True) as store:
        all_drafts = lead_drafts_from_store(store.con)
        drafts = lead_drafts_from_store(store.con, period=spring)
        (n_rings,) = store.con.execute("""
            SELECT count(*) FROM rings WHERE suspicious
              AND last_time >= DATE '2024-03-01' AND first_time < DATE '2024-04-01'""").fetchone()
    assert 0 < len(drafts) < len(all_drafts)
    assert sum(1 for d in drafts if d.source == "ring") == n_rings
    rule_refs = [d.source_ref for d in drafts if d.source == "rule_hit"]
    assert rule_refs
    assert all(str(ref).endswith("@2024-03-01..2024-03-31") for ref in rule_refs)
    ledger = SqliteLedger(tmp_path / "leads.sqlite")
    assert leads_from_store(detected.db, ledger, by="x", period=spring).total_created == \
        len(drafts)
    with pytest.raises(ValueError, match="before it starts"):
        leads_from_store(detected.db, ledger, by="x", period=(spring[1], spring[0]))


def test_a_store_without_detection_gives_no_leads(tmp_path: Path) -> None:
    with open_store(tmp_path / "empty.duckdb") as store:
        assert lead_drafts_from_store(store.con) == []


def test_one_ring_s_draft_is_the_draft_detection_makes(detected_store: Store) -> None:
    """The ring page's "make it a lead" and detection's ring leads come from one code path."""
    con = detected_store.con
    drafts = {d.source_ref: d for d in lead_drafts_from_store(con) if d.source == "ring"}
    assert drafts
    for ring_id, expected in drafts.items():
        assert lead_draft_from_ring(con, str(ring_id)) == expected
    assert lead_draft_from_ring(con, "RFFFFFFFFFF") is None
    (honest,) = con.execute("SELECT ring_id FROM rings WHERE NOT suspicious "
                            "ORDER BY ring_id LIMIT 1").fetchone()  # type: ignore[misc]
    made = lead_draft_from_ring(con, honest)
    assert made is not None  # a ring below the threshold can still be made a lead by hand
    assert (made.source, made.source_ref, made.rings) == ("ring", honest, (honest,))
    assert made.region is not None
    assert made.amount_involved > 0


def test_no_rings_no_ring_draft(tmp_path: Path) -> None:
    with open_store(tmp_path / "empty.duckdb") as store:
        assert lead_draft_from_ring(store.con, "R1") is None
