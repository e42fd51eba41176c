"""The chains' network table names each node once: a person's name column holds the person's
name (masked unless the chain is revealed), not the person number again."""

from __future__ import annotations

import json
from collections.abc import Callable

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from loaders.store import open_store
from tests.dashboards.conftest import no_exception
from tests.detected import Detected


@pytest.fixture(scope="module")
def resale_code(detected: Detected) -> str:
    truth = json.loads((detected.folder / "truth.json").read_text(encoding="utf-8"))
    return sorted(str(c) for s in truth["scenarios"] if s["pattern"] == "resale_chain"
                  for c in s["trace_codes"])[0]


def _persons(at: AppTest) -> pd.DataFrame:
    """The network table's person rows."""
    table = next(d.value for d in at.dataframe if "相连节点" in d.value.columns)
    return table[table["类别"] == "人员"]


def _full_names(db: object, codes: list[str]) -> dict[str, str]:
    with open_store(db, read_only=True) as store:  # type: ignore[arg-type]
        rows = store.con.execute("SELECT psn_no, psn_name FROM persons "
                                 "WHERE list_contains($c, psn_no)", {"c": codes}).fetchall()
    return {str(code): str(name) for code, name in rows if name}


def test_the_network_table_does_not_repeat_the_person_number(
        app: Callable[..., AppTest], resale_code: str, detected: Detected) -> None:
    for at in (app(page="chains"), app(page="chains", code=resale_code)):
        no_exception(at)
        persons = _persons(at)
        assert not persons.empty
        assert not (persons["名称"] == persons["编码"]).any()
        assert persons["名称"].str.fullmatch(r".\*\*|—").all()  # masked: no switch on yet

    at.toggle(key=f"unmask-chain:{resale_code}").set_value(True).run()
    no_exception(at)
    persons = _persons(at)
    full = _full_names(detected.db, list(persons["编码"].astype(str)))
    assert list(persons["名称"]) == [full.get(str(c), "—") for c in persons["编码"]]
