"""线索台账: the list (filters, headline, leads from detection), a lead's page (map, masked
persons, history), the lifecycle through the buttons with every step audited, and two
simultaneous edits giving one conflict and no lost update."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from loaders.store import open_store
from tests.dashboards.conftest import no_exception
from tests.detected import Detected
from yibao.leads import Lead, LeadFilter
from yibao.leads.from_detection import lead_drafts_from_store, leads_from_store
from yibao.leads.sqlite_ledger import SqliteLedger

App = Callable[..., AppTest]


@pytest.fixture
def ledger_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh ledger file for the app under test (``YIBAO_LEADS``)."""
    path = tmp_path / "leads.sqlite"
    monkeypatch.setenv("YIBAO_LEADS", str(path))
    return path


@pytest.fixture
def filled(ledger_path: Path, detected: Detected) -> SqliteLedger:
    """The app's ledger holding the detection leads, made on 2024-05-01 (so the high-risk
    ones, due after 30 days, are overdue today)."""
    ledger = SqliteLedger(ledger_path, clock=lambda: datetime(2024, 5, 1, 9, 0))
    leads_from_store(detected.db, ledger, by="system")
    return SqliteLedger(ledger_path)


def _table_ids(at: AppTest) -> set[str]:
    return set(at.dataframe[0].value["线索编号"]) if at.dataframe else set()


def _ring_of(detected: Detected) -> str:
    return max(detected.result.suspicious, key=lambda r: len(r.persons)).ring_id


def _history(path: Path, lead_id: str) -> list[tuple[str, str | None, str | None, str]]:
    return [(e.action, e.from_state, e.to_state, e.by)
            for e in SqliteLedger(path).history(lead_id)]


def test_empty_ledger_says_how_to_fill_it(app: App, ledger_path: Path) -> None:
    at = app(page="leads")
    no_exception(at)
    assert at.title[0].value == "线索台账"
    assert any("生成线索" in i.value for i in at.info)
    assert at.metric[0].value == "0"


def test_create_leads_from_detection_once(app: App, ledger_path: Path,
                                          detected: Detected) -> None:
    with open_store(detected.db, read_only=True) as store:
        refs = {(d.source, d.source_ref) for d in lead_drafts_from_store(store.con)}
    at = app(page="leads")
    at.button(key="leads_generate").click().run()
    no_exception(at)
    assert any(f"新生成 {len(refs)} 条线索" in s.value for s in at.success)
    assert len(_table_ids(at)) == len(refs)
    assert at.metric[0].value == f"{len(refs):,}"
    at.button(key="leads_generate").click().run()
    assert any("新生成 0 条线索" in s.value for s in at.success)
    assert len(SqliteLedger(ledger_path).leads()) == len(refs)


def test_filters_change_what_is_listed(app: App, filled: SqliteLedger) -> None:
    every = {lead.lead_id for lead in filled.leads()}
    at = app(page="leads")
    no_exception(at)
    assert _table_ids(at) == every
    high = {lead.lead_id for lead in filled.leads(LeadFilter(risks=("high",)))}
    assert _table_ids(app(page="leads", risks="high")) == high
    chains = {lead.lead_id for lead in filled.leads(LeadFilter(sources=("chain",)))}
    assert _table_ids(app(page="leads", sources="chain")) == chains
    overdue = app(page="leads", overdue="1")
    assert _table_ids(overdue) == {lead.lead_id for lead in filled.overdue()} != set()
    lead = filled.leads()[0]
    assert lead.region is not None
    city = lead.region[:4] + "00"
    in_city = app(page="leads", province=lead.region[:2] + "0000", city=city)
    assert lead.lead_id in _table_ids(in_city)
    assert all(filled.get(i).region.startswith(city[:4])  # type: ignore[union-attr]
               for i in _table_ids(in_city))
    found = app(page="leads", q=lead.lead_id)
    assert _table_ids(found) == {lead.lead_id}
    assert app(page="leads", states="closed").dataframe == []


def test_period_narrows_the_list_and_says_how(app: App, filled: SqliteLedger) -> None:
    whole = app(page="leads")
    assert any("全部线索" in c.value for c in whole.caption)
    narrow = app(page="leads", **{"from": "2024-12-30", "to": "2024-12-31"})
    no_exception(narrow)
    assert any("重叠" in c.value for c in narrow.caption)
    assert _table_ids(narrow) < _table_ids(whole)


def test_lead_page_shows_map_masked_persons_and_history(app: App, filled: SqliteLedger,
                                                        detected: Detected) -> None:
    lead = filled.find("ring", _ring_of(detected))
    assert lead is not None
    at = app(page="leads", lead=lead.lead_id)
    no_exception(at)
    assert at.title[0].value.startswith(f"线索 {lead.lead_id}")
    assert [h.value for h in at.header] == ["基本信息", "办理", "涉及地点", "涉及人员", "变更记录"]
    assert at.get("plotly_chart")
    persons = next(d.value for d in at.dataframe if "姓名" in d.value.columns)
    assert set(persons["人员编号"]) == set(lead.persons)
    assert persons["姓名"].str.fullmatch(r".\*\*").all()
    history = next(d.value for d in at.dataframe if "操作人" in d.value.columns)
    assert list(history["操作人"]) == ["system"]
    assert [b.key for b in at.button if b.key and b.key.startswith("lead_go_")] == \
        ["lead_go_checking"]


def test_leadership_reads_only(app: App, filled: SqliteLedger, detected: Detected) -> None:
    lead = filled.find("ring", _ring_of(detected))
    assert lead is not None
    at = app(user="li", page="leads", lead=lead.lead_id)
    no_exception(at)
    assert not [b for b in at.button if b.key and b.key.startswith(("lead_go_", "lead_save"))]
    assert any("只读" in c.value for c in at.caption)
    assert not at.toggle  # no unmasking for leadership
    listing = app(user="li", page="leads")
    assert not [b for b in listing.button if b.key in ("leads_generate", "leads_import")]


def _go(at: AppTest, target: str) -> AppTest:
    at.button(key=f"lead_go_{target}").click().run()
    no_exception(at)
    assert not at.error, [e.value for e in at.error]
    return at


def test_ring_to_closed_in_the_workbench_with_every_step_audited(
        app: App, ledger_path: Path, detected: Detected) -> None:
    """The issue's done-when: from a ring to 已结案 through the buttons, every step audited."""
    ring_id = _ring_of(detected)
    at = app(page="rings", ring=ring_id)
    no_exception(at)
    assert any("尚未转为线索" in c.value for c in at.caption)
    at.button(key="ring_to_lead").click().run()
    no_exception(at)
    lead_id = str(at.query_params["lead"])
    assert at.title[0].value.startswith(f"线索 {lead_id}")
    at.switch_page("views/leads.py")  # AppTest reruns the page it was told, not the one the
    at.run()                          # script switched to (a browser follows the switch)
    _go(at, "checking")
    _go(at, "confirmed")
    disposition = next(m for m in at.multiselect if m.key and m.key.startswith("lead_disp_"))
    disposition.set_value(["penalty"])
    recovered = next(n for n in at.number_input
                     if n.key and n.key.startswith("lead_recovered_") and "edit" not in n.key)
    recovered.set_value(1234.5)
    _go(at, "handling")
    _go(at, "closed")
    assert any("已结案" in s.value for s in at.success)
    lead = SqliteLedger(ledger_path).get(lead_id)
    assert (lead.state, lead.dispositions, lead.source_ref) == ("closed", ("penalty",), ring_id)
    assert str(lead.amount_recovered) == "1234.50"
    steps = [(a, f, t) for a, f, t, _ in _history(ledger_path, lead_id)]
    assert steps == [("create", None, "pending"), ("transition", "pending", "checking"),
                     ("transition", "checking", "confirmed"),
                     ("transition", "confirmed", "handling"), ("update", None, None),
                     ("transition", "handling", "closed")]
    assert {by for *_, by in _history(ledger_path, lead_id)} == {"wang"}
    assert SqliteLedger(ledger_path).verify().ok
    shown = next(d.value for d in at.dataframe if "操作人" in d.value.columns)
    assert len(shown) == len(steps)
    assert set(shown["操作人"]) == {"wang"}
    # back on the ring page the lead is linked, with no second button
    ring = app(page="rings", ring=ring_id)
    assert any(lead_id in m.value for m in ring.markdown)
    assert not [b for b in ring.button if b.key == "ring_to_lead"]


def _pending_ring_lead(filled: SqliteLedger, detected: Detected) -> Lead:
    lead = filled.find("ring", _ring_of(detected))
    assert lead is not None
    assert lead.state == "pending"
    return lead


@pytest.mark.parametrize("second", ["transition", "edit"])
def test_two_simultaneous_edits_one_conflict_no_lost_update(
        app: App, filled: SqliteLedger, detected: Detected, second: str) -> None:
    lead = _pending_ring_lead(filled, detected)
    first, other = app(page="leads", lead=lead.lead_id), app(page="leads", lead=lead.lead_id)
    for at in (first, other):
        no_exception(at)
        assert f"第 {lead.version} 版" in at.markdown[0].value or any(
            f"第 {lead.version} 版" in m.value for m in at.markdown)
    before = len(filled.history(lead.lead_id))
    first.button(key="lead_go_checking").click().run()
    if second == "transition":
        other.button(key="lead_go_checking").click().run()
    else:
        owner = next(t for t in other.text_input if t.key and t.key.startswith("lead_owner_"))
        owner.input("li")
        other.button(key="lead_save").click().run()
    no_exception(first)
    no_exception(other)
    assert not first.error
    assert first.success
    assert len(other.error) == 1
    assert lead.lead_id in other.error[0].value
    assert "reload" in other.error[0].value
    after = filled.history(lead.lead_id)
    assert len(after) == before + 1
    assert (after[-1].action, after[-1].to_state) == ("transition", "checking")
    now = filled.get(lead.lead_id)
    assert (now.state, now.owner, now.version) == ("checking", None, lead.version + 1)
    # the loser sees the reloaded lead (now 核查中) and can act on it
    assert other.metric[0].value == "核查中"
    assert [b.key for b in other.button if b.key and b.key.startswith("lead_go_")] == \
        ["lead_go_confirmed", "lead_go_cleared"]


def test_illegal_move_names_the_allowed_ones(app: App, filled: SqliteLedger,
                                             detected: Detected) -> None:
    lead = _pending_ring_lead(filled, detected)
    at = app(page="leads", lead=lead.lead_id)
    filled.transition(lead.lead_id, "checking", expected_version=lead.version, by="li")
    moved = filled.get(lead.lead_id)
    filled.transition(lead.lead_id, "confirmed", expected_version=moved.version, by="li")
    at.button(key="lead_go_checking").click().run()  # the page still shows 待核查
    assert at.error
    assert "reload" in at.error[0].value
    assert filled.get(lead.lead_id).state == "confirmed"


def test_unknown_lead_says_so(app: App, ledger_path: Path) -> None:
    at = app(page="leads", lead="XS-2099-999999")
    no_exception(at)
    assert any("XS-2099-999999" in w.value for w in at.warning)


def test_english_ledger(app: App, filled: SqliteLedger) -> None:
    at = app(page="leads", lang="en")
    no_exception(at)
    assert at.title[0].value == "Leads ledger"
    assert "State" in at.dataframe[0].value.columns
    assert set(at.dataframe[0].value["State"]) == {"pending"}
