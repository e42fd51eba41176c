"""Every page of the workbench in English, in a real browser: no Chinese left on screen.

An investigator's tab opens each page with ``?lang=en`` (a ring, a resale chain, a person's and
an institution's profile and a lead included) and collects what the page shows or can show: the
document's text, every table cell the server sent (a table draws only the rows in view), every
option of a select box, radio or segmented control, and the text of every chart (axis ticks,
legends, map labels, hover text). Any CJK character there fails the test, except in the proper
names of the data, removed exactly as they are spelled before the check:

* person names (insured persons, practitioners, operators) as stored and as masked;
* institution names;
* drug and service names of the catalogue (医保目录名称; a chain's title names its drug);
* the users' display names, the plan's synthetic inspectors and the words typed into the
  ledger (an owner, a note);
* the language switch itself (``语言 / Language``, ``中文``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pytest
from google.protobuf.message import DecodeError
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from loaders.store import open_store
from tests.browser.conftest import ROOT, Server, Tab, new_tab
from tests.detected import Detected
from yibao.inspection import synthetic_inspectors
from yibao.leads.sqlite_ledger import SqliteLedger
from yibao.masking import mask_name

pytestmark = pytest.mark.browser

CJK = re.compile(
    "[\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u31a0-\u31ff\u3200-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003134f]")
"""Han ideographs, CJK punctuation and full-width forms (``（``, ``：``, ``、`` read as Chinese
in an English sentence too)."""

SWITCH = ("语言 / Language", "中文")
USERS = ("王调查", "李处长")  # display names of the fixture's user file
INSPECTORS = tuple(i.name for i in synthetic_inspectors(24, seed=7))
"""The plan page's default roster (``DEFAULT_INSPECTORS``, ``SYNTHETIC_SEED`` of
``dashboards/views/plan.py``): made-up person names."""
CONTEXT = 40

# The document's text without scripts, styles and the language switch, and the placeholders of
# its inputs.
_TEXT_JS = """
() => {
  const skip = new Set(['SCRIPT', 'STYLE', 'NOSCRIPT']);
  const switches = [...document.querySelectorAll('[data-testid="stButtonGroup"]')]
    .filter((g) => g.textContent.includes('English'))
    .map((g) => g.closest('[data-testid="stElementContainer"]') || g);
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || skip.has(parent.tagName)) continue;
    if (switches.some((s) => s.contains(node))) continue;
    if (node.textContent.trim()) out.push(node.textContent);
  }
  for (const input of document.querySelectorAll('[placeholder]')) {
    out.push(input.getAttribute('placeholder'));
  }
  return out;
}
"""


@dataclass(frozen=True)
class Page:
    """A page of the tour: name, URL (``{ring}``, ``{code}``, ``{person}``, ``{institution}``,
    ``{lead}``), the English heading it shows and a text that proves the part under test
    drew (a profile's heading)."""

    name: str
    path: str
    heading: str
    shows: str = ""


PAGES = [
    Page("overview", "/", "Overview"),
    Page("rings", "/rings", "Rings"),
    Page("ring", "/rings?ring={ring}", "Ring {ring}"),
    Page("chains", "/chains", "Resale chains"),
    Page("chain", "/chains?code={code}", "Resale chain {code}"),
    Page("cross_region", "/cross_region", "Cross-region care"),
    Page("search", "/search", "Search"),
    Page("person", "/search?kind=person&code={person}", "Search", "Insured person {person}"),
    Page("leads", "/leads", "Leads ledger"),
    Page("lead", "/leads?lead={lead}", "Lead {lead}"),
    Page("plan", "/plan", "Inspection plan"),
    Page("brief", "/brief", "Briefing"),
    Page("tuning", "/tuning", "Explore and tune"),
    Page("quality", "/quality", "Data quality"),
    # after other pages: the search form keeps the kind of its last visit while it shows
    Page("institution", "/search?kind=institution&code={institution}", "Search",
         "Institution {institution}"),
]


@dataclass(frozen=True)
class Subjects:
    """What the detail pages show: the top suspicious ring (most persons), its first person
    and busiest institution, and the resale chain with most settlements."""

    ring: str
    person: str
    institution: str
    code: str


@pytest.fixture(scope="module")
def subjects(detected: Detected) -> Subjects:
    with open_store(detected.db, read_only=True) as store:
        ring = store.con.execute("""
            SELECT ring_id FROM rings WHERE suspicious
            ORDER BY len(persons) DESC, rank, ring_id LIMIT 1""").fetchone()
        assert ring is not None, "the detected store has no suspicious ring"
        person, institution = store.con.execute("""
            SELECT min(code) FILTER (kind = 'person'), min(code) FILTER (kind = 'institution')
            FROM ring_members WHERE ring_id = $id""", {"id": ring[0]}).fetchone() or (None, None)
        code = store.con.execute("""
            SELECT drug_trac_codg FROM chains WHERE hit_class = 'resale'
            ORDER BY n_settlements DESC, drug_trac_codg LIMIT 1""").fetchone()
        assert code is not None, "the detected store has no resale chain"
    assert person, f"ring {ring[0]} has no person"
    assert institution, f"ring {ring[0]} has no institution"
    return Subjects(ring=str(ring[0]), person=str(person), institution=str(institution),
                    code=str(code[0]))


@pytest.fixture(scope="module")
def data_names(detected: Detected) -> frozenset[str]:
    """The proper names of the store: persons (also masked), institutions, catalogue items."""
    with open_store(detected.db, read_only=True) as store:
        people = [r[0] for r in store.con.execute("""
            SELECT psn_name FROM persons UNION SELECT dr_name FROM practitioners
            UNION SELECT opter_name FROM settlements""").fetchall() if r[0]]
        others = [r[0] for r in store.con.execute("""
            SELECT fixmedins_name FROM institutions UNION SELECT med_list_name FROM fee_details
            UNION SELECT med_list_name FROM chains""").fetchall() if r[0]]
    masked = [m for m in (mask_name(p) for p in people) if m]
    return frozenset([*people, *masked, *others, *USERS, *INSPECTORS, *SWITCH])


@pytest.fixture(scope="module")
def tab(workbench_server: Server, chromium_browser: Any) -> Iterator[Tab]:
    """One investigator's tab in English, shared by the tour."""
    context, tab = new_tab(chromium_browser, workbench_server, "/?lang=en")
    tab.sign_in("wang", "Overview")
    yield tab
    context.close()


def _ledger(server: Server) -> SqliteLedger:
    return SqliteLedger(server.db.with_name("leads.sqlite"))  # the default beside the store


def _lead(tab: Tab, server: Server, ring: str) -> str:
    """The lead of ``ring`` (or the first lead), created from detection with the English
    button when the ledger is still empty."""
    if not _ledger(server).leads():
        tab.open("/leads", "Leads ledger")
        tab.page.get_by_text("Export, import, create").click()
        button = tab.page.get_by_role("button", name="Create leads")
        button.wait_for(state="visible")
        tab.click(button, "Leads ledger")
    ledger = _ledger(server)
    lead = ledger.find("ring", ring)
    leads = ledger.leads()
    assert lead is not None or leads, "no lead in the ledger after creating them"
    return (lead or leads[0]).lead_id


def _typed_words(server: Server) -> set[str]:
    """What users typed into the ledger (owners, notes) and who did it."""
    ledger = _ledger(server)
    words: set[str] = set()
    for lead in ledger.leads():
        words.update(w for w in (lead.owner, lead.created_by, lead.updated_by) if w)
        for event in ledger.history(lead.lead_id):
            words.update(w for w in (event.note, event.by) if w)
    return words


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


_PLOTLY_HIDDEN = {"geojson", "source", "uid", "ids", "meta", "customdata", "legendgroup",
                  "locations", "featureidkey", "selectedpoints", "template"}
"""Figure keys whose strings never show (map geometry, ids, the theme); ``customdata`` shows
only through a trace's ``hovertemplate`` and is read there."""


def _plotly_texts(spec: str) -> Iterator[str]:
    figure = json.loads(spec)

    def walk(value: Any) -> Iterator[str]:
        if isinstance(value, dict):
            for k, v in value.items():
                if k not in _PLOTLY_HIDDEN:
                    yield from walk(v)
        elif isinstance(value, list):
            for v in value:
                yield from walk(v)
        elif isinstance(value, str):
            yield value

    for trace in figure.get("data", []):
        yield from walk(trace)
        if "customdata" in str(trace.get("hovertemplate", "")):
            yield from _strings(trace.get("customdata"))
    yield from walk(figure.get("layout", {}))


def _table_texts(arrow: bytes, config: str, order: Iterable[str]) -> Iterator[str]:
    table = pa.ipc.open_stream(arrow).read_all()
    columns = json.loads(config) if config else {}
    hidden = {k for k, v in columns.items() if isinstance(v, dict) and v.get("hidden")}
    shown = [c for c in (list(order) or table.column_names)
             if c in table.column_names and c not in hidden
             and not (c.startswith("__index_level_") and "_index" in hidden)]
    for name in shown:
        yield name
        column = table.column(name)
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            yield from (v for v in column.to_pylist() if v)
        elif pa.types.is_list(column.type):
            yield from _strings(column.to_pylist())


def _element_texts(element: Any) -> Iterator[str]:
    """What a widget, table or chart delta can show beyond the document's text."""
    kind = element.WhichOneof("type")
    if kind in ("dataframe", "table"):
        proto = getattr(element, kind)
        config = proto.columns if kind == "dataframe" else ""
        order = list(proto.column_order) if kind == "dataframe" else []
        yield from _table_texts(proto.arrow_data.data, config, order)
    elif kind in ("selectbox", "multiselect", "radio", "button_group"):
        proto = getattr(element, kind)
        options = [o if isinstance(o, str) else o.content for o in proto.options]
        if "English" not in options:  # the language switch
            yield proto.label
            yield from options
    elif kind == "plotly_chart":
        yield from _plotly_texts(element.plotly_chart.spec)


def _sent_texts(frames: list[bytes]) -> Iterator[str]:
    """Texts of the elements in ``frames`` (references to messages sent before resolved)."""
    for data in frames:
        msg = ForwardMsg()
        try:
            msg.ParseFromString(data)
        except DecodeError:
            continue
        if msg.WhichOneof("type") == "delta" and msg.delta.WhichOneof("type") == "new_element":
            yield from _element_texts(msg.delta.new_element)


def _resolved(frames: list[bytes], start: int) -> list[bytes]:
    """``frames[start:]`` with every cached-message reference replaced by the message."""
    by_hash: dict[str, bytes] = {}
    out: list[bytes] = []
    for i, data in enumerate(frames):
        msg = ForwardMsg()
        try:
            msg.ParseFromString(data)
        except DecodeError:
            continue
        if msg.hash:
            by_hash[msg.hash] = data
        if i >= start:
            ref = msg.ref_hash if msg.WhichOneof("type") == "ref_hash" else ""
            out.append(by_hash.get(ref, data) if ref else data)
    return out


def chinese_left(texts: Iterable[str], names: Iterable[str]) -> list[str]:
    """Every text that still holds a CJK character once the exact ``names`` are removed, with
    its CJK run in context (empty: all English)."""
    ordered = sorted({n for n in names if n}, key=len, reverse=True)
    strip = re.compile("|".join(re.escape(n) for n in ordered)) if ordered else None
    found: list[str] = []
    for raw in texts:
        left = strip.sub(" ", raw) if strip else raw
        match = CJK.search(left)
        if match:
            a, b = max(match.start() - CONTEXT, 0), match.end() + CONTEXT
            snippet = " ".join(left[a:b].split())
            if snippet not in found:
                found.append(snippet)
    return found


def test_the_tour_covers_every_page() -> None:
    """A page added to the navigation must join the tour (``url_path`` of ``st.Page``)."""
    app = (ROOT / "dashboards" / "app.py").read_text(encoding="utf-8")
    paths = set(re.findall(r'url_path="([a-z_]+)"', app))
    toured = {p.path.split("?")[0].strip("/") or "overview" for p in PAGES}
    assert paths, "no st.Page url_path found in dashboards/app.py"
    assert paths <= toured, f"pages missing from the English tour: {sorted(paths - toured)}"


def test_chinese_left_strips_exact_names_only() -> None:
    names = ["张三", "张*", "上海仁济医院"]
    assert chinese_left(["Ring of 张三 and 张* at 上海仁济医院 (H31)"], names) == []
    assert chinese_left(["Places: 上海市"], names) == ["Places: 上海市"]
    assert chinese_left(["张三丰 settled"], names) == ["丰 settled"]
    assert chinese_left(["Amount（yuan）"], names) == ["Amount（yuan）"]


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_page_is_english(tab: Tab, workbench_server: Server, subjects: Subjects,
                         data_names: frozenset[str], page: Page) -> None:
    lead = _lead(tab, workbench_server, subjects.ring) if "{lead}" in page.path else ""
    fields = {"ring": subjects.ring, "code": subjects.code, "person": subjects.person,
              "institution": subjects.institution, "lead": lead}
    start = len(tab.frames)
    tab.open(page.path.format(**fields), page.heading.format(**fields))
    tab.show_everything()
    assert tab.exceptions() == []
    assert page.shows.format(**fields) in tab.text()
    texts = [*tab.page.evaluate(_TEXT_JS), *_sent_texts(_resolved(tab.frames, start))]
    tab.page.set_viewport_size({"width": 1600, "height": 1000})
    names = data_names | _typed_words(workbench_server)
    left = chinese_left(texts, names)
    assert not left, f"{page.name} shows Chinese in English:\n" + "\n".join(left)
