"""截图模式 shows nothing personal, on any page, whatever the investigator revealed before.

In a real browser an investigator reveals personal data wherever the workbench offers it (a
ring, a resale chain, the impossible trips, a person's and a doctor's profile, a search by name,
a lead), then every page of the workbench is opened as a slide (``?shot=1``). Each slide's text
(node by node), attribute values, plotly figures and every websocket frame Streamlit sent for
it are searched for any full name, ID number or phone number of the data set (see
:mod:`tests.browser.leaks`). The search is first shown to work: on the ring's normal page after
the reveal it finds the members' names, ID numbers and phones in each of those places, and
again after the tour (the reveal held all along).

Screenshots of the ring's slide after the reveal, in Chinese and English, land in
``build/screenshots/shot_revealed_ring_{zh,en}.png``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from dashboards.audit import read_audit
from dashboards.capture import SHOT_MARK
from loaders.store import open_store
from tests.browser.conftest import VIEWPORT, Server, Tab
from tests.browser.leaks import PAGE_TEXTS_JS, PersonalData, frame_texts
from tests.detected import Detected
from yibao.divisions import divisions_frame
from yibao.inspection import synthetic_inspectors
from yibao.leads.from_detection import lead_draft_from_ring
from yibao.leads.sqlite_ledger import SqliteLedger

pytestmark = pytest.mark.browser

PLAN_ROSTER = synthetic_inspectors(24, seed=7)
"""The plan page's roster when none is uploaded (views/plan.py: DEFAULT_INSPECTORS,
SYNTHETIC_SEED): made-up inspectors, shown by design, some named like persons of the data."""

CHANNELS = ("text", "attributes", "figures", "frames")


@dataclass(frozen=True)
class Subjects:
    """What the tour reveals and shows: a ring (with doctors), its first person and doctor, a
    resale chain, a lead; the person's full name, and the full names, ID numbers and phones of
    the ring's persons."""

    ring: str
    person: str
    doctor: str
    chain: str
    lead: str
    name: str
    names: frozenset[str]
    numbers: frozenset[str]


@pytest.fixture(scope="module")
def personal(detected: Detected) -> PersonalData:
    """The data set's personal values, less the names the workbench shows as something else."""
    divisions = divisions_frame()
    public = [*divisions["name"], *divisions["name_en"], *(i.name for i in PLAN_ROSTER),
              "王调查", "李处长"]  # the test users (tests/browser/conftest.py)
    found = PersonalData.from_store(detected.db, public=public)
    assert len(found.names) > 20 * len(found.left_out), sorted(found.left_out)
    return found


@pytest.fixture(scope="module")
def subjects(detected: Detected, workbench_server: Server) -> Subjects:
    ring = max(detected.result.suspicious,
               key=lambda r: (len(r.practitioners) > 0, len(r.persons), r.ring_id))
    with open_store(detected.db, read_only=True) as store:
        con = store.con
        members = con.execute("""
            SELECT psn_no, psn_name, certno, tel FROM persons WHERE list_contains($p, psn_no)
            ORDER BY psn_no""", {"p": list(ring.persons)}).fetchall()
        chain = con.execute("""
            SELECT drug_trac_codg FROM chains WHERE hit_class = 'resale'
            ORDER BY n_settlements DESC, drug_trac_codg LIMIT 1""").fetchall()[0][0]
        ledger = SqliteLedger(workbench_server.db.with_name("leads.sqlite"))  # the server's
        lead = ledger.find("ring", ring.ring_id)
        if lead is None:
            draft = lead_draft_from_ring(con, ring.ring_id)
            assert draft is not None
            lead = ledger.add(draft, by="wang")
    return Subjects(ring=ring.ring_id, person=members[0][0],
                    doctor=sorted(ring.practitioners)[0], chain=str(chain), lead=lead.lead_id,
                    name=members[0][1], names=frozenset(m[1] for m in members if m[1]),
                    numbers=frozenset(v for m in members for v in m[2:] if v))


def _scan(tab: Tab, personal: PersonalData, since: int
          ) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Per channel, the personal values in the page now shown and in the frames received
    since frame ``since`` (the page is first made tall enough for every element to render),
    and the page's texts per channel."""
    tab.show_everything()
    page: dict[str, str] = tab.page.evaluate(PAGE_TEXTS_JS)
    tab.page.set_viewport_size(VIEWPORT)
    found = {channel: personal.find(page[channel]) for channel in CHANNELS[:3]}
    found["frames"] = personal.find_in_frames(tab.frames[since:])
    return found, page


def _reveal(tab: Tab, path: str, heading: str) -> None:
    """Open ``path`` (normal view) and switch on every 显示完整个人信息 toggle it offers."""
    tab.open(path, heading)
    switches = tab.page.get_by_role("switch")
    assert switches.count() > 0, f"no unmask toggle on {path}"
    for i in range(switches.count()):
        if not switches.nth(i).is_checked():  # its label takes the click
            tab.click(switches.nth(i).locator("xpath=ancestor::label[1]"), heading)
    for i in range(switches.count()):
        assert switches.nth(i).is_checked(), path
    assert not tab.exceptions(), tab.exceptions()


def _assert_scan_finds(tab: Tab, personal: PersonalData, s: Subjects, path: str) -> None:
    """The ring's normal page, revealed: the scan finds its members' names, ID numbers and
    phones in the page's text (the table rows drawn), every name in the network figure, and
    all of them in the frames."""
    since = len(tab.frames)
    tab.open(path, f"团伙 {s.ring}")
    found, _ = _scan(tab, personal, since)
    names = s.names & personal.names
    numbers = s.numbers & personal.numbers
    assert names
    assert numbers == s.numbers
    assert found["text"] & names, sorted(found["text"])[:20]
    assert len(found["text"] & numbers) >= 2, sorted(found["text"])[:20]
    assert names <= found["figures"], sorted(names - found["figures"])
    assert names | numbers <= found["frames"], sorted((names | numbers) - found["frames"])


def test_no_personal_data_on_any_slide(
        open_tab: Any, workbench_server: Server, personal: PersonalData, subjects: Subjects
) -> None:
    s = subjects
    ring_page = f"/rings?ring={s.ring}"
    tab = open_tab(ring_page, "wang", f"团伙 {s.ring}")
    # the search page keeps its widgets' choices while it stays open: another page between
    reveals = [
        (ring_page, f"团伙 {s.ring}"),
        (f"/search?kind=person&code={s.person}", "查询"),
        (f"/chains?code={s.chain}", "回流药"),
        (f"/search?kind=practitioner&code={s.doctor}", "查询"),
        ("/cross_region", "异地就医"),
        (f"/search?kind=person&by=name&q={s.name}", "查询"),
        (f"/leads?lead={s.lead}", f"线索 {s.lead}"),
    ]
    for path, heading in reveals:
        _reveal(tab, path, heading)
    audited = {(e.subject_kind, e.subject) for e in read_audit(workbench_server.audit)
               if e.user == "wang" and e.action == "unmask"}
    assert {("ring", s.ring), ("chain", s.chain), ("person", s.person),
            ("practitioner", s.doctor), ("lead", s.lead)} <= audited, audited
    _assert_scan_finds(tab, personal, s, ring_page)  # the scan works: not vacuous

    slides = [
        ("/", "总览"), ("/rings", "团伙"), (ring_page, f"团伙 {s.ring}"),
        (f"/search?kind=person&code={s.person}", "查询"), ("/chains", "回流药"),
        (f"/search?kind=practitioner&code={s.doctor}", "查询"),
        (f"/chains?code={s.chain}", "回流药"),
        (f"/search?kind=person&by=name&q={s.name}&code={s.person}", "查询"),
        ("/cross_region", "异地就医"), ("/leads", "线索台账"),
        (f"/leads?lead={s.lead}", f"线索 {s.lead}"),
        ("/plan?budget=40", "检查计划"), ("/brief", "领导简报"), ("/quality", "数据质量"),
        (f"{ring_page}&lang=en", f"Ring {s.ring}"),  # the language is kept: last
    ]
    leaks: dict[str, dict[str, list[str]]] = {}
    for path, heading in slides:
        slide = f"{path}{'&' if '?' in path else '?'}shot=1"
        since = len(tab.frames)
        tab.open(slide, heading)
        assert tab.page.locator(f"#{SHOT_MARK}").is_visible(), slide
        assert not tab.exceptions(), (slide, tab.exceptions())
        if path == ring_page:
            tab.screenshot("shot_revealed_ring_zh")
        elif path == f"{ring_page}&lang=en":
            tab.screenshot("shot_revealed_ring_en")
        found, page = _scan(tab, personal, since)
        if found["frames"]:
            page["frames"] = "\n".join(t for f in tab.frames[since:] for t in frame_texts(f))
        for channel, values in found.items():
            if values:
                leaks.setdefault(slide, {})[channel] = [
                    f"{v} …{personal.context(v, page[channel])}…" for v in sorted(values)[:5]]
    assert not leaks, leaks

    _assert_scan_finds(tab, personal, s, f"{ring_page}&lang=zh")  # the reveal held
