"""线索台账: the list (filters, headline, leads from detection), a lead's page (map, masked
persons, history), the lifecycle through the buttons with every step audited, and two
simultaneous edits giving one conflict and no lost update."""

from __future__ import annotations

import re
import socket
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

LATIN_WORDS = re.compile(r"\b(?!XS\b)[A-Za-z]{3,}\b")
"""An English word in a Chinese message (user names and lead ids aside)."""
CJK = re.compile(r"[\u4e00-\u9fff]")


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
    message = other.error[0].value
    assert lead.lead_id in message
    assert f"在您看到的第 {lead.version} 版之后已被修改" in message
    assert "由 wang 于" in message  # who, when, what
    assert "待核查 → 核查中" in message
    assert "您的修改均未保存" in message
    assert "重新载入" in message
    assert not LATIN_WORDS.search(message.replace("wang", "")), message
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
    message = at.error[0].value
    assert "由 li 于" in message
    assert "待核查 → 核查中" in message
    assert "核查中 → 查实" in message
    assert "“查实”" in message  # the state it is in now
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


def test_conflict_in_english(app: App, filled: SqliteLedger, detected: Detected) -> None:
    lead = _pending_ring_lead(filled, detected)
    first = app(page="leads", lead=lead.lead_id, lang="en")
    other = app(page="leads", lead=lead.lead_id, lang="en")
    first.button(key="lead_go_checking").click().run()
    other.button(key="lead_go_checking").click().run()
    no_exception(other)
    assert len(other.error) == 1
    message = other.error[0].value
    assert message.startswith(f"Lead {lead.lead_id} was changed after version {lead.version} "
                              "that you saw: version")
    assert "by wang at" in message
    assert "pending → checking" in message
    assert "Nothing of your change was saved" in message
    assert "(2, checking)" in message
    assert not CJK.search(message), message
    assert filled.get(lead.lead_id).version == lead.version + 1


def _confirmed(filled: SqliteLedger, detected: Detected) -> Lead:
    lead = _pending_ring_lead(filled, detected)
    for state in ("checking", "confirmed"):
        lead = filled.transition(lead.lead_id, state, expected_version=lead.version, by="li")
    return lead


@pytest.mark.parametrize(("lang", "expected", "foreign"), [
    ("zh", "转为“处理”须至少选择一种处理方式：协议处理、行政处罚、移送公安、移送纪检。",
     LATIN_WORDS),
    ("en", ": moving to handling needs at least one disposition: agreement measures, "
           "administrative penalty, police referral, discipline referral.", CJK),
])
def test_a_refused_transition_is_told_in_the_user_s_language(
        app: App, filled: SqliteLedger, detected: Detected, lang: str, expected: str,
        foreign: re.Pattern[str]) -> None:
    lead = _confirmed(filled, detected)
    query = {"lang": "en"} if lang == "en" else {}
    at = app(page="leads", lead=lead.lead_id, **query)
    at.button(key="lead_go_handling").click().run()  # no disposition chosen
    no_exception(at)
    assert len(at.error) == 1
    message = at.error[0].value
    assert lead.lead_id in message
    assert expected in message
    assert not foreign.search(message.replace(lead.lead_id, "")), message
    assert filled.get(lead.lead_id).version == lead.version  # nothing saved


def test_an_edit_refusal_names_the_field_in_chinese(app: App, filled: SqliteLedger,
                                                    detected: Detected) -> None:
    lead = _confirmed(filled, detected)
    lead = filled.transition(lead.lead_id, "handling", expected_version=lead.version, by="li",
                             dispositions=("penalty",))
    at = app(page="leads", lead=lead.lead_id)
    next(m for m in at.multiselect if m.key and m.key.startswith("lead_disp_edit_")
         ).set_value([])
    at.button(key="lead_save").click().run()
    no_exception(at)
    assert [e.value for e in at.error] == [
        "处于“处理”阶段的线索至少保留一种处理方式（协议处理、行政处罚、移送公安、移送纪检）。"]
    adding = app(page="leads")
    adding.button(key="FormSubmitter:leads_new-新增线索").click().run()  # no title
    no_exception(adding)
    assert [e.value for e in adding.error] == ["标题不能为空。"]


def _selects(at: AppTest) -> list[tuple[str, str]]:
    return [(str(w.key), w.proto.placeholder) for w in [*at.selectbox, *at.multiselect]]


def test_every_select_has_a_placeholder_in_the_language(app: App, filled: SqliteLedger,
                                                        detected: Detected) -> None:
    lead = _confirmed(filled, detected)
    for query, foreign in (({}, LATIN_WORDS), ({"lang": "en"}, CJK)):
        for page in (app(page="leads", **query),
                     app(page="leads", lead=lead.lead_id, **query)):
            selects = _selects(page)
            assert selects
            for key, placeholder in selects:
                assert placeholder, key
                assert not foreign.search(placeholder), (key, placeholder)
    switched = app(page="leads")
    assert "待核查" in switched.multiselect(key="leads_states").options
    switched.segmented_control(key="lang_switch").set_value("English").run()
    no_exception(switched)
    assert "pending" in switched.multiselect(key="leads_states_en").options
    assert "Sort by" in [s.label for s in switched.selectbox]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # nothing listens once the socket is closed


def test_absent_ledger_server_offers_a_retry(app: App, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    import dashboards.ui as ui
    from yibao.stores import open_ledger as real_open

    monkeypatch.setenv("YIBAO_BACKEND", "neo4j")
    monkeypatch.setenv("NEO4J_URI", f"bolt://127.0.0.1:{_closed_port()}")
    monkeypatch.setenv("NEO4J_USER", "neo4j")
    monkeypatch.setenv("NEO4J_PASSWORD", "not-used")
    attempts: list[object] = []

    def counting_open(*args: object, **kwargs: object) -> object:
        attempts.append(kwargs.get("backend"))
        return real_open(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ui, "open_ledger", counting_open)
    at = app(page="leads")
    no_exception(at)
    assert any("线索台账暂时无法使用" in e.value for e in at.error)
    retry = at.button(key="retry_ledger")
    assert retry.label == "立即重试连接服务器"
    at.run()
    assert attempts == ["neo4j"]  # re-rendering does not wait on the server again
    at.button(key="retry_ledger").click().run()
    no_exception(at)
    assert attempts == ["neo4j", "neo4j"]  # the click tried the server again at once
    assert any("线索台账暂时无法使用" in e.value for e in at.error)
    english = app(page="leads", lang="en")
    assert english.button(key="retry_ledger").label == "Retry the server now"


def test_the_page_script_draws_no_stray_text() -> None:
    """Streamlit's magic draws a bare string statement of a page script: only the module
    docstring may be one (it is not drawn)."""
    import ast

    page = Path(__file__).resolve().parents[2] / "dashboards" / "views" / "leads.py"
    body = ast.parse(page.read_text(encoding="utf-8")).body
    stray = [node.lineno for node in body[1:] if isinstance(node, ast.Expr)
             and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)]
    assert stray == []


def test_lead_region_in_english(app: App, filled: SqliteLedger, detected: Detected) -> None:
    from yibao.divisions import division

    lead = _pending_ring_lead(filled, detected)
    assert lead.region
    at = app(page="leads", lead=lead.lead_id, lang="en")
    no_exception(at)
    lines = "\n".join(m.value for m in at.markdown)
    assert f"Region: {division(lead.region).name_en}" in lines


def _without_names(text: str, names: list[str]) -> str:
    for name in names:
        text = text.replace(name, "")
    return text


def test_the_list_and_a_lead_in_english(app: App, filled: SqliteLedger,
                                        detected: Detected) -> None:
    """Titles, summaries and regions of detection's leads read in English (institution names
    stay as registered); the ledger keeps its Chinese."""
    with open_store(detected.db, read_only=True) as store:
        names = sorted((r[0] for r in store.con.execute(
            "SELECT fixmedins_name FROM institutions WHERE fixmedins_name IS NOT NULL"
        ).fetchall()), key=len, reverse=True)
    at = app(page="leads", lang="en")
    no_exception(at)
    table = at.dataframe[0].value
    assert len(table) == len(filled.leads())
    for column in ("Title", "Region"):
        said = [_without_names(str(v), names) for v in table[column]]
        assert not [s for s in said if CJK.search(s)], column
    assert table["Region"].str.len().gt(0).all()
    lead = next(x for x in filled.leads() if x.source == "ring")
    assert CJK.search(lead.title)  # stored in Chinese
    one = app(page="leads", lead=lead.lead_id, lang="en")
    no_exception(one)
    assert not CJK.search(_without_names(one.title[0].value, names))
    captions = [c.value for c in one.caption]
    assert any("persons" in c and not CJK.search(_without_names(c, names)) for c in captions)
