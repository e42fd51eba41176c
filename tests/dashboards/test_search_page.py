"""查询: search by code and name, the neighbourhood's hops and period, the rings an entity belongs
to, masking for the leadership role, trace codes, connections and the English switch."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pandas as pd
from streamlit.testing.v1 import AppTest

from graph.rings import Ring
from loaders.store import open_store
from tests.dashboards.conftest import Workbench, no_exception
from tests.detected import Detected


def _ring(detected: Detected) -> Ring:
    return max(detected.result.suspicious, key=lambda r: (len(r.persons), r.ring_id))


def _nodes(at: AppTest) -> int:
    """The node count of the neighbourhood caption ("2 跳内 86 个节点，…")."""
    for caption in at.caption:
        found = re.search(r"跳内 ([\d,]+) 个节点", caption.value)
        if found:
            return int(found.group(1).replace(",", ""))
    raise AssertionError(f"no neighbourhood caption in {[c.value for c in at.caption]}")


def _field(at: AppTest, label: str) -> str:
    """The value of a profile card's field ``label``."""
    for m in at.markdown:
        found = re.search(rf">{re.escape(label)}</div><div[^>]*>(.*?)</div>", m.value)
        if found:
            return html.unescape(found.group(1))
    raise AssertionError(f"no card field {label!r}")


def _ring_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.label.startswith(("查看团伙", "Open ring"))]


def _candidates(at: AppTest) -> pd.DataFrame:
    return at.dataframe[0].value


def _one(db: object, sql: str, **params: str) -> str:
    with open_store(db, read_only=True) as store:  # type: ignore[arg-type]
        return str(store.con.execute(sql, params).fetchall()[0][0])


def test_search_page_renders_with_chinese_heading(app: Callable[..., AppTest]) -> None:
    at = app(page="search")
    no_exception(at)
    assert at.title[0].value.startswith("查询")
    assert at.radio(key="search_kind").options == ["参保人", "定点医药机构", "医保医师",
                                                   "药品追溯码"]


def test_searching_a_ring_member_lists_its_ring(app: Callable[..., AppTest],
                                                detected: Detected) -> None:
    ring = _ring(detected)
    at = app(page="search")
    at.text_input(key="search_q").input(ring.persons[0]).run()
    no_exception(at)
    assert list(_candidates(at)["人员编号"]) == [ring.persons[0]]
    assert at.query_params["code"] == ring.persons[0]
    assert f"查看团伙 {ring.ring_id}" in _ring_buttons(at)
    assert _nodes(at) > 1
    assert len(at.get("plotly_chart")) == 1
    at.button(key=f"search_ring_{ring.ring_id}").click().run()
    no_exception(at)
    assert ring.ring_id in at.title[0].value


def test_an_institution_by_part_of_its_name(app: Callable[..., AppTest],
                                           detected: Detected) -> None:
    ring = _ring(detected)
    place = ring.institutions[0]
    name = _one(detected.db, "SELECT fixmedins_name FROM institutions WHERE fixmedins_code = $c",
                c=place)
    at = app(page="search", kind="institution", by="name")
    at.text_input(key="search_q").input(name[1:]).run()
    no_exception(at)
    assert place in set(_candidates(at)["机构编码"])
    at = app(page="search", kind="institution", code=place)
    no_exception(at)
    assert _field(at, "机构名称") == name
    assert f"查看团伙 {ring.ring_id}" in _ring_buttons(at)


def test_hops_slider_changes_the_neighbourhood(app: Callable[..., AppTest],
                                               detected: Detected) -> None:
    at = app(page="search", kind="person", code=_ring(detected).persons[0])
    two = _nodes(at)
    at.slider(key="search_hops").set_value(1).run()
    no_exception(at)
    one = _nodes(at)
    at.slider(key="search_hops").set_value(3).run()
    three = _nodes(at)
    assert 1 < one < two <= three
    assert at.query_params["hops"] == "3"


def test_period_narrows_the_neighbourhood(app: Callable[..., AppTest],
                                          detected: Detected) -> None:
    place = _ring(detected).institutions[0]
    whole = app(page="search", kind="institution", code=place, hops="1")
    march = app(page="search", kind="institution", code=place, hops="1",
                **{"from": "2024-03-01", "to": "2024-03-31"})
    no_exception(march)
    assert 1 <= _nodes(march) < _nodes(whole)


def test_leadership_searches_persons_by_code_only_and_sees_masks(
        app: Callable[..., AppTest], detected: Detected) -> None:
    person = _ring(detected).persons[0]
    full = _one(detected.db, "SELECT psn_name FROM persons WHERE psn_no = $p", p=person)
    at = app(user="li", page="search", by="name")
    no_exception(at)
    assert at.radio(key="search_by").options == ["按编码"]
    assert any("仅限调查员" in c.value for c in at.caption)
    at.text_input(key="search_q").input(full).run()  # a name, searched as a code
    assert not at.dataframe
    assert any(full in i.value for i in at.info)
    at.text_input(key="search_q").input(person[:8]).run()
    names = _candidates(at)["姓名"]
    assert len(names) > 1
    assert names.str.fullmatch(r".\*\*").all()
    at = app(user="li", page="search", kind="person", code=person)
    no_exception(at)
    assert not at.toggle
    assert _field(at, "姓名") == full[0] + "**"
    assert re.fullmatch(r"\w{4}\*{10}\w{4}", _field(at, "证件号码"))
    assert re.fullmatch(r"\d{3}\*{4}\d{4}|—", _field(at, "联系电话"))
    institution_modes = app(user="li", page="search", kind="institution")
    assert institution_modes.radio(key="search_by").options == ["按编码", "按名称"]


def test_investigator_finds_a_person_by_name_and_reveals_it(
        app: Callable[..., AppTest], detected: Detected, workbench: Workbench) -> None:
    person = _ring(detected).persons[0]
    full = _one(detected.db, "SELECT psn_name FROM persons WHERE psn_no = $p", p=person)
    at = app(page="search", by="name")
    at.text_input(key="search_q").input(full).run()
    no_exception(at)
    table = _candidates(at)
    assert table["姓名"].str.fullmatch(r".\*\*").all()
    at.toggle[0].set_value(True).run()
    revealed = _candidates(at)
    assert (revealed["姓名"].str.contains(full)).all()
    # the audit log names every person the reveal showed, one line each
    from dashboards.audit import read_audit

    unmasks = [e for e in read_audit(workbench.audit) if e.action == "unmask"]
    assert sorted(e.subject for e in unmasks) == sorted(revealed["人员编号"].astype(str))
    assert {e.subject_kind for e in unmasks} == {"person"}
    assert all(f"search:person:name:{full}" in e.context for e in unmasks)


def test_a_trace_code_shows_its_hops_chain_link_and_ring(app: Callable[..., AppTest],
                                                         detected: Detected) -> None:
    ring = next((r for r in detected.result.suspicious if r.trace_codes), None)
    code = ring.trace_codes[0] if ring else _one(
        detected.db, "SELECT drug_trac_codg FROM chains ORDER BY n_settlements DESC LIMIT 1")
    at = app(page="search", kind="trace_code", code=code)
    no_exception(at)
    assert any("追溯码流转" in m.value for m in at.markdown)
    assert at.get("page_link")
    assert _nodes(at) > 2
    if ring is not None:
        assert f"查看团伙 {ring.ring_id}" in _ring_buttons(at)


def test_shortest_connection_between_two_ring_members(app: Callable[..., AppTest],
                                                      detected: Detected) -> None:
    ring = _ring(detected)
    at = app(page="search", kind="person", code=ring.persons[0], other=ring.persons[1])
    no_exception(at)
    path = next(m.value for m in at.markdown if "跳关联" in m.value)
    assert path.count("→") >= 2
    assert ring.persons[1] in path


def test_unknown_code_says_so(app: Callable[..., AppTest]) -> None:
    at = app(page="search", kind="practitioner", code="D-NO-SUCH")
    no_exception(at)
    assert any("D-NO-SUCH" in w.value for w in at.warning)


def test_english_switch(app: Callable[..., AppTest], detected: Detected) -> None:
    at = app(page="search", lang="en", kind="person", code=_ring(detected).persons[0])
    no_exception(at)
    assert at.title[0].value.startswith("Search")
    assert "Neighbourhood" in [h.value for h in at.header]
    assert any(b.startswith("Open ring") for b in _ring_buttons(at))
