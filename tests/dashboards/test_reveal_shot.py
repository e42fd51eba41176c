"""显示完整个人信息 meets 截图模式: what an investigator revealed on a page stays masked on the
slide made of it (every table, network label, hover text and caption), the unmask toggle is not
drawn there, and the reveal is back when the investigator leaves the slide. One function decides
(:func:`dashboards.ui.reveals`); the source test below keeps it the only one.

The same scan over every page in a real browser: tests/browser/test_shot_leaks_browser.py."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboards.audit import read_audit
from loaders.store import open_store
from tests.dashboards.conftest import Workbench, no_exception
from tests.detected import Detected

DASHBOARDS = Path(__file__).resolve().parents[2] / "dashboards"
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _ring_people(db: Path, ring_id: str) -> tuple[set[str], set[str]]:
    """Full names of the ring's persons and of its doctors, from the store."""
    with open_store(db, read_only=True) as store:
        persons = store.con.execute("""
            SELECT p.psn_name FROM ring_members m JOIN persons p ON p.psn_no = m.code
            WHERE m.ring_id = $id AND m.kind = 'person'""", {"id": ring_id}).fetchall()
        doctors = store.con.execute("""
            SELECT d.dr_name FROM ring_members m JOIN practitioners d ON d.dr_codg = m.code
            WHERE m.ring_id = $id AND m.kind = 'practitioner'""", {"id": ring_id}).fetchall()
    return {str(r[0]) for r in persons if r[0]}, {str(r[0]) for r in doctors if r[0]}


def _page_texts(at: AppTest) -> dict[str, str]:
    """Per element type, every element's message as the browser would get it (dataframes as
    their Arrow bytes, plotly figures as their JSON, markdown, captions, labels...), decoded
    as UTF-8 with JSON's ``\\uXXXX`` escapes (plotly writes Chinese that way) undone."""
    texts: dict[str, list[str]] = {}
    for node in [*at.main, *at.sidebar]:
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        raw = proto.SerializeToString().decode("utf-8", errors="replace")
        texts.setdefault(node.type, []).append(
            _JSON_ESCAPE.sub(lambda m: chr(int(m[1], 16)), raw))
    return {kind: "\n".join(parts) for kind, parts in texts.items()}


def _found(at: AppTest, names: Iterable[str]) -> dict[str, set[str]]:
    """Per element type, which of ``names`` it shows."""
    wanted = set(names)
    return {kind: hits for kind, text in _page_texts(at).items()
            if (hits := {n for n in wanted if n in text})}


def _enter_shot_mode(at: AppTest) -> None:
    at.sidebar.button(key="shot_enter").click().run()
    no_exception(at)
    assert at.query_params["shot"] == "1"


def test_a_revealed_ring_is_masked_in_screenshot_mode(
        app: Callable[..., AppTest], detected: Detected, workbench: Workbench) -> None:
    ring = max(detected.result.suspicious,
               key=lambda r: (len(r.practitioners) > 0, len(r.persons), r.ring_id))
    persons, doctors = _ring_people(detected.db, ring.ring_id)
    assert persons
    assert doctors
    at = app(user="wang", page="rings", ring=ring.ring_id)
    no_exception(at)
    assert not _found(at, persons | doctors)  # masked until revealed
    at.toggle(key=f"unmask-ring:{ring.ring_id}").set_value(True).run()
    no_exception(at)
    revealed = _found(at, persons | doctors)
    shown = set().union(*revealed.values())
    assert persons <= shown  # the scan sees what a reveal shows
    assert doctors <= shown
    assert {"dataframe", "plotly_chart"} <= set(revealed)  # tables and the network

    _enter_shot_mode(at)
    assert at.query_params["ring"] == ring.ring_id
    assert not at.toggle  # no unmask toggle on a slide
    assert ring.ring_id in at.title[0].value  # the page itself is drawn
    leaks = _found(at, persons | doctors)
    assert not leaks, f"full names in screenshot mode: {leaks}"

    at.button(key="shot_exit").click().run()  # back: the reveal still holds, not re-audited
    no_exception(at)
    assert at.toggle(key=f"unmask-ring:{ring.ring_id}").value
    assert persons <= set().union(*_found(at, persons).values())
    entries = read_audit(workbench.audit)
    assert [(e.user, e.action, e.subject) for e in entries] == [
        ("wang", "unmask", ring.ring_id)]


def test_a_revealed_person_profile_is_masked_in_screenshot_mode(
        app: Callable[..., AppTest], detected: Detected) -> None:
    ring = max(detected.result.suspicious, key=lambda r: (len(r.persons), r.ring_id))
    code = ring.persons[0]
    with open_store(detected.db, read_only=True) as store:
        name, certno, tel = store.con.execute(
            "SELECT psn_name, certno, tel FROM persons WHERE psn_no = $c", {"c": code}
        ).fetchall()[0]
    secrets = {str(v) for v in (name, certno, tel) if v}
    at = app(user="wang", page="search", kind="person", q=code, code=code)
    no_exception(at)
    at.toggle[0].set_value(True).run()  # the one reveal switch (the candidates')
    no_exception(at)
    assert set().union(*_found(at, secrets).values()) == secrets

    _enter_shot_mode(at)
    assert not at.toggle
    leaks = _found(at, secrets)
    assert not leaks, f"personal data in screenshot mode: {leaks}"


def test_a_name_search_is_not_shown_in_screenshot_mode(
        app: Callable[..., AppTest], detected: Detected) -> None:
    """A search by name puts the name in the URL; the slide (and a leadership user opening the
    link) does not show it, in the search box or in a "nothing matches" line."""
    ring = max(detected.result.suspicious, key=lambda r: (len(r.persons), r.ring_id))
    persons, _ = _ring_people(detected.db, ring.ring_id)
    name = sorted(persons)[0]
    at = app(user="wang", page="search", kind="person", by="name", q=name)
    no_exception(at)
    assert _found(at, {name})
    _enter_shot_mode(at)
    assert not at.warning
    leaks = _found(at, {name})
    assert not leaks, f"the searched name in screenshot mode: {leaks}"


def test_one_function_decides_what_is_revealed() -> None:
    """The session's revealed subjects are read in one place (``dashboards/ui.py``), and no
    page masks or unmasks on its own: pages get masked data from ``ui``."""
    sources = {p: p.read_text(encoding="utf-8") for p in DASHBOARDS.rglob("*.py")}
    readers = [f"{p.relative_to(DASHBOARDS)}:{n}" for p, text in sources.items()
               for n, line in enumerate(text.splitlines(), 1) if '"unmasked"' in line]
    assert len(readers) == 1, readers
    assert readers[0].startswith("ui.py:"), readers
    for path in (DASHBOARDS / "views").glob("*.py"):
        if path.name == "quality.py":  # always masked, never revealed (its own module)
            continue
        assert "yibao.masking" not in sources[path], f"{path.name} masks on its own"
