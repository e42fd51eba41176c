"""数据质量: the loads, the quarantine and the notes of a store are listed by reason and row, in
Chinese and English, and personal values are masked in the values and in the reason texts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from loaders.load import load_folder
from loaders.store import open_store
from tests.dashboards.conftest import APP, no_exception, sign_in

BAD_CERTNO_BODY = "34120219800101123"


@pytest.fixture
def quality_app(tmp_path: Path, tiny: Any, users_file: Path,
                monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    rows = tiny.rows()
    rows["persons"][0]["certno"] = BAD_CERTNO_BODY + "0"  # wrong check digit: kept, noted
    rows["persons"][1]["psn_name"] = "\u3000"  # a missing name: kept, noted
    rows["institutions"][0]["hosp_lv"] = "三级医院"  # a local label: kept, noted
    rows["settlements"][2]["medfee_sumamt"] = "1.00"  # amounts do not add up: quarantined
    db = tmp_path / "store.duckdb"
    with open_store(db) as store:
        report = load_folder(tiny.write_folder(tmp_path / "export", rows), store)
    monkeypatch.setenv("YIBAO_DB", str(db))
    monkeypatch.setenv("YIBAO_USERS", str(users_file))
    monkeypatch.setenv("YIBAO_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield {"report": report, "certno": BAD_CERTNO_BODY + "0"}
    st.cache_resource.clear()
    st.cache_data.clear()


def _page(lang: str = "zh", user: str = "wang") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    if lang == "en":
        at.query_params["lang"] = "en"
    sign_in(at, user)
    at.switch_page("views/quality.py")
    return at.run()


def _frames(at: AppTest) -> list[pd.DataFrame]:
    return [d.value for d in at.dataframe]


@pytest.mark.parametrize("user", ["wang", "li"])
def test_quarantine_and_notes_are_listed_and_masked(
    quality_app: dict[str, Any], user: str
) -> None:
    at = _page(user=user)
    no_exception(at)
    assert at.title[0].value.startswith("数据质量")
    metrics = {m.label: m.value for m in at.metric}
    report = quality_app["report"]
    assert metrics["隔离"] == f"{report.quarantined:,}"
    assert metrics["入库但有注记"] == f"{report.noted:,}"
    frames = _frames(at)
    loads, quarantine_counts, _, note_counts, note_rows = frames
    assert list(loads["读入行数"]) == [report.rows_in]
    assert set(quarantine_counts["原因代码"]) == {"amounts_mismatch", "reference_quarantined"}
    assert set(note_counts["原因代码"]) == {"certno_check_digit", "missing_value", "unknown_code"}
    certno = note_rows[note_rows["列"] == "certno"].iloc[0]
    assert certno["原值"] == "3412**********1230"
    everything = " ".join(str(v) for f in frames for v in f.to_numpy().ravel())
    assert quality_app["certno"] not in everything  # not in the value, not in the reason
    assert "3412**********1230" in str(certno["原因与修正方法"])
    assert "三级医院" in everything
    assert len(note_rows) == 3


def test_the_page_in_english(quality_app: dict[str, Any]) -> None:
    at = _page("en")
    no_exception(at)
    assert at.title[0].value == "Data quality: loads, quarantine and notes"
    note_rows = _frames(at)[-1]
    assert "Reason and how to fix it" in note_rows.columns
    hosp = note_rows[note_rows["Column"] == "hosp_lv"].iloc[0]
    assert "code mapping file" in hosp["Reason and how to fix it"]
