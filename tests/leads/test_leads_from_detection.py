"""Leads from the shared detected store: one per suspicious ring, per resale chain, per rule and
institution (each hit in exactly one group), idempotent, money exact, period-aware."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from loaders.store import Store, open_store
from tests.detected import Detected
from tests.leads.ledger_helpers import Clock
from yibao.leads import lead_draft_from_ring
from yibao.leads.from_detection import lead_drafts_from_store, leads_from_store
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


def test_one_lead_per_suspicious_ring(made: SqliteLedger, detected_store: Store) -> None:
    rings = {r[0]: r for r in _rows(detected_store, """
        SELECT ring_id, score, fund_amount, persons, institutions FROM rings WHERE suspicious""")}
    leads = {lead.source_ref: lead for lead in made.leads() if lead.source == "ring"}
    assert set(leads) == set(rings)
    for ring_id, (_, score, fund, persons, institutions) in rings.items():
        lead = leads[ring_id]
        assert lead.risk == risk_from_score(score)
        assert lead.amount_involved == Decimal(str(round(fund, 2)))
        assert lead.persons == tuple(sorted(persons))
        assert lead.institutions == tuple(sorted(institutions))
        assert lead.rings == (ring_id,)
        assert lead.region is not None
        assert lead.region[:4] in {i[1:5] for i in institutions}  # H3412… lies in 3412
        assert lead.due == {"high": date(2024, 5, 31), "medium": date(2024, 6, 30),
                            "low": date(2024, 7, 30)}[lead.risk]


def test_one_lead_per_resale_chain(made: SqliteLedger, detected_store: Store) -> None:
    chains = {r[0]: r for r in _rows(detected_store, """
        SELECT c.drug_trac_codg, i.admdvs, h.fund_amount + h.acct_amount FROM chains c
        JOIN institutions i ON i.fixmedins_code = c.institutions[len(c.institutions)]
        JOIN rule_hits h ON h.rule_id = 'TRACE_REUSE' AND h.subject_id = c.drug_trac_codg
        WHERE c.hit_class = 'resale'""")}
    leads = {lead.source_ref: lead for lead in made.leads() if lead.source == "chain"}
    assert set(leads) == set(chains)
    assert len(leads) > 10
    for code, (_, admdvs, fund) in chains.items():
        assert leads[code].region == admdvs  # where the returned box was sold again
        assert leads[code].violation == "resale_chain"
        assert leads[code].risk == "high"
        assert leads[code].amount_involved == Decimal(str(round(fund, 2)))
    assert sum(lead.amount_involved > 0 for lead in leads.values()) > len(leads) / 2


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
        (n_chains,) = store.con.execute("""
            SELECT count(*) FROM chains WHERE hit_class = 'resale'
              AND last_time >= DATE '2024-03-01' AND first_time < DATE '2024-04-01'""").fetchone()
    assert 0 < len(drafts) < len(all_drafts)
    assert sum(1 for d in drafts if d.source == "chain") == n_chains
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
