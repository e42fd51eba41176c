"""A missing phone (or ID number, or name) shows as a dash, never as "None": in a ring's persons
table, in the search's candidate table and on a person's profile, masked or revealed."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from loaders.store import open_store
from tests.dashboards.conftest import no_exception
from tests.detected import Detected

DASH = "—"


@pytest.fixture(scope="module")
def phoneless(detected: Detected) -> tuple[str, str]:
    """A ring and one of its persons who has no phone in the store."""
    with open_store(detected.db, read_only=True) as store:
        found = store.con.execute("""
            SELECT m.ring_id, m.code FROM ring_members m JOIN persons p ON p.psn_no = m.code
            WHERE m.kind = 'person' AND p.tel IS NULL ORDER BY m.ring_id, m.code LIMIT 1
        """).fetchone()
    assert found is not None, "the detected store has no ring member without a phone"
    return str(found[0]), str(found[1])


def _table_with(at: AppTest, column: str) -> pd.DataFrame:
    for table in at.dataframe:
        if column in table.value.columns:
            return table.value
    raise AssertionError(f"no table with a {column!r} column")


def _phone_of(table: pd.DataFrame, person: str) -> object:
    row = table[table["人员编号"].astype(str) == person]
    assert len(row) == 1, f"{person} is not in the table once"
    return row["联系电话"].iloc[0]


def test_ring_persons_show_a_dash_for_a_missing_phone(
        app: Callable[..., AppTest], phoneless: tuple[str, str]) -> None:
    ring_id, person = phoneless
    at = app(page="rings", ring=ring_id)
    no_exception(at)
    assert _phone_of(_table_with(at, "联系电话"), person) == DASH
    at.toggle(key=f"unmask-ring:{ring_id}").set_value(True).run()
    no_exception(at)
    persons = _table_with(at, "联系电话")
    assert _phone_of(persons, person) == DASH
    assert persons[["姓名", "证件号码", "联系电话"]].notna().all().all()


def test_search_shows_a_dash_for_a_missing_phone(
        app: Callable[..., AppTest], phoneless: tuple[str, str]) -> None:
    _, person = phoneless
    at = app(page="search", kind="person", q=person, code=person)
    no_exception(at)
    for _ in range(2):  # masked, then revealed
        assert _phone_of(_table_with(at, "联系电话"), person) == DASH
        field = next(re.search(r">联系电话</div><div[^>]*>(.*?)</div>", m.value)
                     for m in at.markdown if ">联系电话</div>" in m.value)
        assert field is not None
        assert html.unescape(field.group(1)) == DASH
        at.toggle[0].set_value(True).run()
        no_exception(at)
