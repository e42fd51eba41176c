"""A person's profile opened from the search's candidates has one reveal switch, not two: the
candidates' switch covers the profile picked from them (and is audited for every candidate);
a profile opened without candidates has its own."""

from __future__ import annotations

from collections.abc import Callable

from streamlit.testing.v1 import AppTest

from dashboards.audit import read_audit
from tests.dashboards.conftest import Workbench, no_exception
from tests.detected import Detected


def _person(detected: Detected) -> str:
    ring = max(detected.result.suspicious, key=lambda r: (len(r.persons), r.ring_id))
    return sorted(ring.persons)[0]


def _fields(at: AppTest) -> str:
    """The profile card's markdown (names, ID numbers and phones)."""
    return "".join(m.value for m in at.markdown if "search-field" in m.value)


def test_a_profile_picked_from_the_candidates_has_one_switch(
        app: Callable[..., AppTest], detected: Detected, workbench: Workbench) -> None:
    person = _person(detected)
    at = app(page="search", kind="person", q=person, code=person)
    no_exception(at)
    assert len(at.toggle) == 1
    masked = _fields(at)
    at.toggle[0].set_value(True).run()
    no_exception(at)
    assert len(at.toggle) == 1
    assert _fields(at) != masked  # the one switch reveals the profile too
    unmasks = {e.subject for e in read_audit(workbench.audit) if e.action == "unmask"}
    assert person in unmasks


def test_a_profile_without_candidates_has_its_own_switch(
        app: Callable[..., AppTest], detected: Detected) -> None:
    person = _person(detected)
    at = app(page="search", kind="person", code=person)
    no_exception(at)
    assert [t.key for t in at.toggle] == [f"unmask-person:{person}"]
