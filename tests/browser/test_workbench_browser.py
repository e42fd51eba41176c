"""The workbench in a real browser: sign in through the form, open every page, check what was
drawn, that personal data stays masked for leadership, and that nothing leaves the machine.

Screenshots of every page land in ``build/screenshots/<page>.png`` (look at them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from dashboards.audit import read_audit
from loaders.store import open_store
from tests.browser.conftest import Server, Tab, new_tab
from tests.detected import Detected
from yibao.masking import mask_certno, mask_phone

pytestmark = pytest.mark.browser


@dataclass(frozen=True)
class View:
    """A page of the contract: screenshot name, URL (``{ring}``: a ring id, ``{code}``: a resale
    trace code), expected Chinese heading text, and the least numbers of plotly charts and of
    plotly map subplots (maplibre, tile-free) it must draw."""

    name: str
    path: str
    heading: str
    charts: int = 0
    maps: int = 0


VIEWS = [
    View("overview", "/", "总览", charts=2, maps=1),  # the default page lives at the root
    View("rings", "/rings", "团伙"),
    View("ring", "/rings?ring={ring}", "团伙 {ring}", charts=5),
    View("chains", "/chains", "回流药"),
    View("chain", "/chains?code={code}", "回流药", charts=2),  # hops on a map, a timeline
    View("cross_region", "/cross_region", "异地就医"),
    View("search", "/search", "查询"),
]


@dataclass(frozen=True)
class RingPersons:
    """A suspicious ring of the store and its members' personal data (unmasked)."""

    ring_id: str
    names: list[str]
    certnos: list[str]
    phones: list[str]


@pytest.fixture(scope="module")
def ring(detected: Detected) -> RingPersons:
    """The top-ranked suspicious ring with the most persons, and its members' data."""
    with open_store(detected.db, read_only=True) as store:
        found = store.con.execute("""
            SELECT ring_id FROM rings WHERE suspicious
            ORDER BY len(persons) DESC, rank, ring_id LIMIT 1
        """).fetchone()
        assert found is not None, "the detected store has no suspicious ring"
        rows = store.con.execute("""
            SELECT p.psn_name, p.certno, p.tel FROM ring_members m
            JOIN persons p ON p.psn_no = m.code
            WHERE m.ring_id = $id AND m.kind = 'person' ORDER BY p.psn_no
        """, {"id": found[0]}).fetchall()
    assert rows, f"ring {found[0]} has no persons"
    return RingPersons(ring_id=str(found[0]), names=[r[0] for r in rows if r[0]],
                       certnos=[r[1] for r in rows if r[1]], phones=[r[2] for r in rows if r[2]])


@pytest.fixture(scope="module")
def resale_code(detected: Detected) -> str:
    """The trace code of the resale chain with the most settlements."""
    with open_store(detected.db, read_only=True) as store:
        found = store.con.execute("""
            SELECT drug_trac_codg FROM chains WHERE hit_class = 'resale'
            ORDER BY n_settlements DESC, drug_trac_codg LIMIT 1
        """).fetchone()
    assert found is not None, "the detected store has no resale chain"
    return str(found[0])


@pytest.fixture(scope="module")
def investigator(workbench_server: Server, chromium_browser: Any) -> Iterator[Tab]:
    """One tab signed in as the investigator, shared by the page tour."""
    context, tab = new_tab(chromium_browser, workbench_server, "/")
    tab.sign_in("wang", "总览")
    yield tab
    context.close()


def _problems(tab: Tab, view: View, heading: str) -> list[str]:
    """Everything wrong with the page now shown, as sentences (empty: all good)."""
    problems = [f"Streamlit error on {view.name}: {e}" for e in tab.exceptions()]
    if not any(heading in h for h in tab.headings()):
        problems.append(f"{view.name}: no heading with {heading!r} in {tab.headings()}")
    charts = tab.charts()
    drawn = [c for c in charts if c["traces"] and (c["paths"] or c["gl"] or c["map_features"])]
    if len(drawn) < len(charts) or len(drawn) < view.charts:
        problems.append(f"{view.name}: {len(drawn)} of {len(charts)} charts drew, expected at "
                        f"least {view.charts}: {charts}")
    maps = [n for chart in charts for n in chart["map_features"]]
    if len(maps) < view.maps:
        problems.append(f"{view.name}: {len(maps)} maps drawn, expected at least {view.maps}")
    if any(n == 0 for n in maps):
        problems.append(f"{view.name}: an empty map (rendered features per map: {maps})")
    problems += [f"{view.name}: request left the machine: {u}" for u in tab.outside_requests()]
    return problems


@pytest.mark.parametrize("view", VIEWS, ids=[v.name for v in VIEWS])
def test_page_renders(investigator: Tab, ring: RingPersons, resale_code: str, view: View
                      ) -> None:
    path = view.path.format(ring=ring.ring_id, code=resale_code)
    heading = view.heading.format(ring=ring.ring_id)
    investigator.open(path, heading)
    investigator.screenshot(view.name)
    assert _problems(investigator, view, heading) == []


def test_overview_map_draws_every_city(investigator: Tab) -> None:
    investigator.open("/", "总览")
    (first, *_) = [c for c in investigator.charts() if c["map_features"]]
    # 41 city outlines plus the coloured cities: the map layers really hold the divisions
    assert first["map_features"][0] >= 41, first


def test_sign_in_refuses_a_wrong_password(open_tab: Any) -> None:
    tab = open_tab("/")
    tab.page.wait_for_selector('input[type="password"]')
    tab.screenshot("sign_in")
    tab.submit_sign_in("wang", "not-the-password")
    tab.page.wait_for_selector('[data-testid="stAlertContentError"]')
    assert "用户名或密码错误" in tab.text()
    assert tab.page.locator('input[type="password"]').count() == 1
    tab.sign_in("wang", "总览")
    assert tab.exceptions() == []
    assert tab.outside_requests() == []


def test_english_switch(open_tab: Any) -> None:
    tab = open_tab("/?lang=en", "wang", "Overview")
    tab.screenshot("overview_en")
    english = View("overview_en", "/?lang=en", "Overview", charts=2, maps=1)
    assert _problems(tab, english, "Overview") == []
    sidebar = tab.page.locator('[data-testid="stSidebar"]')
    tab.click(sidebar.get_by_role("link", name="Rings"), "Rings")
    assert tab.exceptions() == []
    tab.click(sidebar.get_by_role("radio", name="中文"), "团伙")
    assert "lang=en" not in tab.page.url
    tab.click(sidebar.get_by_role("radio", name="English"), "Rings")
    assert "lang=en" in tab.page.url
    assert tab.outside_requests() == []


def test_leadership_sees_only_masked_persons(open_tab: Any, ring: RingPersons) -> None:
    tab = open_tab(f"/rings?ring={ring.ring_id}", "li", f"团伙 {ring.ring_id}")
    tab.screenshot("ring_leadership")
    tab.show_everything()
    text, received = tab.text(), tab.received()
    assert "显示完整个人信息" not in text  # no unmask switch for leadership
    assert any(mask_certno(c) in text for c in ring.certnos), "the persons table did not show"
    leaked = [c for c in ring.certnos if c in text or c.encode() in received]
    leaked += [p for p in ring.phones if p in text or p.encode() in received]
    assert leaked == []
    assert any(mask_phone(p) in text for p in ring.phones) or not ring.phones
    assert tab.outside_requests() == []


def test_investigator_unmasking_shows_and_audits(open_tab: Any, ring: RingPersons,
                                                 workbench_server: Server) -> None:
    tab = open_tab(f"/rings?ring={ring.ring_id}", "wang", f"团伙 {ring.ring_id}")
    assert not any(c in tab.text() for c in ring.certnos)
    tab.click(tab.page.get_by_text("显示完整个人信息"), f"团伙 {ring.ring_id}")
    tab.show_everything()
    text = tab.text()
    assert any(c in text for c in ring.certnos)
    entries = read_audit(workbench_server.audit)
    assert any(e.user == "wang" and e.role == "investigator" and e.action == "unmask"
               and e.subject == ring.ring_id for e in entries), entries
    assert tab.outside_requests() == []


def test_reload_keeps_the_user_signed_in_until_sign_out(open_tab: Any) -> None:
    tab = open_tab("/rings", user="wang", heading="团伙")
    tab.page.wait_for_function("document.cookie.includes('yibao_session=')", timeout=30_000)
    before = tab.runs
    tab.page.reload()
    tab.wait_rendered("团伙", after=before)  # a new session, signed in from the token
    assert tab.page.locator('input[type="password"]').count() == 0
    assert "王调查" in tab.text()
    before = tab.runs
    tab.page.get_by_role("button", name="退出登录").click()
    tab.page.wait_for_selector('input[type="password"]', timeout=30_000)
    tab.page.wait_for_function("!document.cookie.includes('yibao_session=')", timeout=30_000)
    tab.page.reload()
    tab.page.wait_for_selector('input[type="password"]', timeout=30_000)
    assert tab.runs > before
