"""Leads data for the workbench, on the detected store and a ledger filled from it: the table,
the headline figures, which leads belong to a period, a lead's history as a table and a change
in words, its persons and institutions, and the workbook of the leads a page shows."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dashboards.data import leads as ld
from dashboards.data.common import Period, data_period
from loaders.store import Store
from tests.detected import Detected
from yibao.leads import LeadFilter
from yibao.leads.from_detection import leads_from_store
from yibao.leads.sqlite_ledger import SqliteLedger

TODAY = date(2024, 5, 1)


class _Clock:
    now = datetime(2024, 5, 1, 9, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def con(detected_store: Store) -> duckdb.DuckDBPyConnection:
    return detected_store.con


@pytest.fixture(scope="module")
def filled(detected: Detected, tmp_path_factory: pytest.TempPathFactory) -> SqliteLedger:
    """A ledger with the detection leads of the shared store, created on 2024-05-01."""
    ledger = SqliteLedger(tmp_path_factory.mktemp("data_leads") / "leads.sqlite",
                          clock=_Clock())
    leads_from_store(detected.db, ledger, by="system")
    return ledger


def test_leads_table_has_one_row_per_lead_in_yuan_and_wan(filled: SqliteLedger) -> None:
    leads = filled.leads()
    table = ld.leads_table(leads, TODAY)
    assert list(table.columns) == list(ld.LEAD_COLUMNS)
    assert list(table["lead_id"]) == [lead.lead_id for lead in leads]
    assert table["amount_involved"].sum() == pytest.approx(
        float(sum((lead.amount_involved for lead in leads), Decimal(0))))
    assert (table["amount_involved_wan"] - table["amount_involved"] / 1e4).abs().max() <= 0.005
    named = table[table["region"] != ""]
    assert not named.empty
    assert (named["region_name"] != named["region"]).all()
    assert not table["overdue"].any()  # created today, due in 30 to 90 days


def test_overdue_and_escalation_follow_the_day(filled: SqliteLedger) -> None:
    leads = filled.leads()
    later = TODAY + timedelta(days=45)  # high risk (30 days) overdue, medium (60) not yet
    table = ld.leads_table(leads, later)
    assert set(table.loc[table["overdue"], "risk"]) == {"high"}
    assert (table["needs_escalation"] == table["overdue"]).all()
    head = ld.ledger_headline(leads, later)
    assert head.overdue == head.escalations == sum(lead.risk == "high" for lead in leads) > 0


def test_headline_counts_states_and_money(filled: SqliteLedger) -> None:
    first = filled.leads(LeadFilter(states=("pending",)))[0]
    filled.transition(first.lead_id, "checking", expected_version=first.version, by="wang")
    now = filled.leads()
    head = ld.ledger_headline(now, TODAY)
    states = [lead.state for lead in now]
    assert head.leads == len(now)
    assert head.by_state["checking"] == states.count("checking") >= 1
    assert (head.by_state["pending"] == states.count("pending")
            == len(now) - head.by_state["checking"])
    assert head.by_state["confirmed"] == head.closed == 0
    assert head.amount_involved == sum((lead.amount_involved for lead in now), Decimal(0))
    assert head.amount_recovered == Decimal(0)


def test_activity_spans_are_the_detection_times(con: duckdb.DuckDBPyConnection) -> None:
    spans = ld.activity_spans(con)
    rings = con.execute("SELECT ring_id, first_time, last_time FROM rings").fetchall()
    got = {ref: span for (source, ref), span in spans.items() if source == "ring"}
    assert got == {ring_id: (first.date(), last.date()) for ring_id, first, last in rings}
    chains = con.execute("SELECT count(DISTINCT drug_trac_codg) FROM chains").fetchone()
    assert chains is not None
    assert sum(1 for source, _ in spans if source == "chain") == chains[0]
    assert all("@" in ref for source, ref in spans if source == "rule_hit")


def test_period_keeps_leads_whose_activity_overlaps(filled: SqliteLedger,
                                                    con: duckdb.DuckDBPyConnection) -> None:
    spans = ld.activity_spans(con)
    leads = filled.leads()
    whole = data_period(con)
    assert len(ld.leads_in_period(leads, spans, whole)) == len(leads)
    ring = next(lead for lead in leads if lead.source == "ring")
    first, last = con.execute("SELECT first_time, last_time FROM rings WHERE ring_id = $r",
                              {"r": ring.source_ref}).fetchone()  # type: ignore[misc]
    assert ld.leads_in_period(leads, spans, whole) == leads  # in their order
    inside = Period(first.date(), first.date())
    assert ring in ld.leads_in_period(leads, spans, inside)
    # after its activity and its due date (a high-risk lead is due soon after creation)
    end = max(last.date(), ring.due or last.date(), TODAY)
    after = Period(end + timedelta(days=1), end + timedelta(days=2))
    assert ring not in ld.leads_in_period(leads, spans, after)
    # a period holding the creation day keeps every lead, whatever its activity
    made = Period(TODAY, TODAY)
    assert len(ld.leads_in_period(leads, spans, made)) == len(leads)
    # before any activity, creation or due date: none
    before = Period(date(2000, 1, 1), date(2000, 1, 2))
    assert ld.leads_in_period(leads, spans, before) == []


def test_history_frame_has_every_event(filled: SqliteLedger) -> None:
    lead = filled.leads(LeadFilter(states=("pending",)))[0]
    lead = filled.transition(lead.lead_id, "checking", expected_version=lead.version,
                             by="wang", note="开始核查")
    lead = filled.update(lead.lead_id, {"owner": "wang"}, expected_version=lead.version,
                         by="wang")
    zh = ld.history_frame(filled.history(lead.lead_id), "zh")
    assert list(zh["action"]) == ["create", "transition", "update"]
    assert list(zh["version"]) == [1, 2, 3]
    assert list(zh["to_state"]) == ["待核查", "核查中", ""]
    assert zh.iloc[1]["from_state"] == "待核查"
    assert zh.iloc[1]["note"] == "开始核查"
    assert zh.iloc[2]["changes"] == "责任人: — → wang"
    en = ld.history_frame(filled.history(lead.lead_id), "en")
    assert list(en["to_state"]) == ["pending", "checking", ""]
    assert en.iloc[2]["changes"] == "owner: — → wang"


def test_event_text_says_the_move_and_the_fields(filled: SqliteLedger) -> None:
    lead = filled.leads(LeadFilter(states=("pending",)))[0]
    lead = filled.transition(lead.lead_id, "checking", expected_version=lead.version,
                             by="wang")
    lead = filled.update(lead.lead_id, {"owner": "wang", "amount_involved": "12.50"},
                         expected_version=lead.version, by="wang")
    create, move, edit = filled.history(lead.lead_id)[:3]
    assert ld.event_text(create, "zh") == "创建线索"
    assert ld.event_text(create, "en") == "created"
    assert ld.event_text(move, "zh") == "待核查 → 核查中"
    assert ld.event_text(move, "en") == "pending → checking"
    assert "责任人: — → wang" in ld.event_text(edit, "zh")
    assert "owner: — → wang" in ld.event_text(edit, "en")
    assert "12.50" in ld.event_text(edit, "en")


def test_workbook_of_a_period_holds_only_its_leads(filled: SqliteLedger,
                                                   con: duckdb.DuckDBPyConnection) -> None:
    """What the page's download gets: exactly the leads the table shows after the period."""
    import io

    import openpyxl

    leads = filled.leads()
    ring = next(lead for lead in leads if lead.source == "ring")
    (last,) = con.execute("SELECT last_time FROM rings WHERE ring_id = $r",
                          {"r": ring.source_ref}).fetchone()  # type: ignore[misc]
    end = max(last.date(), ring.due or last.date(), TODAY)
    after = Period(end + timedelta(days=1), end + timedelta(days=2))
    shown = ld.leads_in_period(leads, ld.activity_spans(con), after)
    assert ring not in shown
    assert len(shown) < len(leads)
    book = openpyxl.load_workbook(io.BytesIO(ld.workbook_bytes(filled, shown)))
    ids = [row[0] for row in book["线索台账"].iter_rows(min_row=4, values_only=True) if row[0]]
    assert ids == [lead.lead_id for lead in shown]
    assert ring.lead_id not in ids
    stats = [row for row in book["统计"].iter_rows(min_row=4, values_only=True) if row[0]]
    assert sum(int(row[3]) for row in stats) == len(shown)  # type: ignore[arg-type]
    logged = {row[1] for row in book["变更记录"].iter_rows(min_row=4, values_only=True)
              if row[0]}
    assert logged == set(ids)


def test_lead_persons_and_institutions(filled: SqliteLedger,
                                       con: duckdb.DuckDBPyConnection) -> None:
    lead = next(lead for lead in filled.leads() if lead.source == "ring")
    persons = ld.lead_persons(con, lead.persons)
    assert list(persons["psn_no"]) == sorted(lead.persons)
    assert persons["psn_name"].notna().all()
    assert persons["home"].ne("").all()
    insts = ld.lead_institutions(con, lead.institutions)
    assert set(insts["fixmedins_code"]) == set(lead.institutions)
    assert insts["lon"].between(114, 123).all()
    assert insts["lat"].between(27, 36).all()
    assert ld.lead_persons(con, ("NOBODY",))["psn_name"].isna().all()


def test_violation_names() -> None:
    assert ld.violation_name("card_pooling", "zh") != "card_pooling"
    assert ld.violation_name("IMPOSSIBLE_TRAVEL", "en") == "Impossible travel between settlements"
    # one name per type for the page, the Excel and the brief: the ring pattern's
    assert ld.violation_name("resale_chain", "zh") == "倒卖医保药品(回流药)"
    assert ld.violation_name("resale_chain", "en") == "Drug resale chain"
    assert ld.violation_name("duplicate_charging", "zh") == "重复收费"
    assert ld.violation_name("duplicate_charging", "en") == "Duplicate charging"
    assert ld.violation_name("本局自定类别", "en") == "本局自定类别"


def test_empty_ledger_gives_empty_frames(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "leads.sqlite")
    table = ld.leads_table(ledger.leads(), TODAY)
    assert table.empty
    assert list(table.columns) == list(ld.LEAD_COLUMNS)
    assert ld.ledger_headline([], TODAY).leads == 0
    assert isinstance(ld.history_frame([], "zh"), pd.DataFrame)
