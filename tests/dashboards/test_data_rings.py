"""Ring data for the workbench: a ring's money (whole and per period) is detection's stored
figure, and the flag line comes from the detection run that drew it, not from the settings file.
"""

from __future__ import annotations

from datetime import date

import pytest

from dashboards.data.common import FUND_SQL, Period, data_period
from dashboards.data.rings import (
    latest_detection_run,
    ring_fund,
    ring_practitioners,
    ring_record,
    rings_table,
)
from dashboards.i18n import EXPLANATIONS, explanation_label
from graph import money
from graph.explanations import EXPLANATION_KEYS
from graph.scoring import load_detection_settings
from loaders.store import Store
from tests.detected import Detected


def test_the_workbench_sums_money_as_detection_does() -> None:
    assert FUND_SQL == money.FUND_SQL


def test_a_rings_money_is_its_stored_amount(detected_store: Store, detected: Detected) -> None:
    con = detected_store.con
    whole = data_period(con)
    for ring in detected.result.rings:
        got = ring_fund(con, ring.ring_id)
        assert got.fund == pytest.approx(ring.fund_amount, abs=0.005)
        assert got.pool + got.account == pytest.approx(got.fund, abs=0.005)
        assert got.settlements == ring.n_settlements
        assert ring_fund(con, ring.ring_id, whole) == got


def test_the_periods_add_up_to_the_whole_ring(detected_store: Store,
                                              detected: Detected) -> None:
    con = detected_store.con
    ring = detected.result.suspicious[0]
    halves = [Period(date(2000, 1, 1), date(2024, 6, 30)), Period(date(2024, 7, 1),
                                                                   date(2099, 12, 31))]
    parts = [ring_fund(con, ring.ring_id, p) for p in halves]
    assert sum(p.settlements for p in parts) == ring.n_settlements
    assert sum(p.fund for p in parts) == pytest.approx(ring.fund_amount, abs=0.01)


def test_the_flag_line_is_the_runs_own(detected_store: Store) -> None:
    run = latest_detection_run(detected_store.con)
    assert run is not None
    st = load_detection_settings()
    assert run.threshold == pytest.approx(st.threshold)
    assert run.fdr == st.suspicion.fdr
    assert run.surprise_full == st.suspicion.surprise_full
    assert run.rings == len(detected_store.con.execute("SELECT * FROM rings").fetchall())


def test_a_run_that_stored_no_flag_line_gives_none(detected_copy: Store) -> None:
    detected_copy.con.execute("""UPDATE detect_runs SET settings = '{"weights": {}}'""")
    assert latest_detection_run(detected_copy.con) is None
    detected_copy.con.execute("DELETE FROM detect_runs")
    assert latest_detection_run(detected_copy.con) is None


def test_a_stored_ring_decodes_its_explanation(detected_store: Store,
                                               detected: Detected) -> None:
    for ring in detected.result.rings:
        record = ring_record(detected_store.con, ring.ring_id)
        assert record is not None
        assert record.explanation == ring.explanation


def test_every_explanation_has_a_label_in_both_languages() -> None:
    assert set(EXPLANATIONS) == set(EXPLANATION_KEYS) - {""}
    assert explanation_label("dialysis", "zh") == "血液透析"
    assert explanation_label("weekly_session", "zh") == "每周固定门诊（巡诊/集日）"
    assert explanation_label("family", "en") == "a family visiting together"


def test_the_ring_list_counts_the_doctors_its_network_shows(detected_store: Store) -> None:
    from graph.subgraph import ring_subgraph

    con = detected_store.con
    table = rings_table(con, data_period(con), suspicious_only=False)
    assert not table.empty
    for ring_id, count in zip(table["ring_id"], table["practitioners"], strict=True):
        graph = ring_subgraph(con, ring_id)
        doctors = sorted(code for kind, code in graph.nodes if kind == "practitioner")
        assert count == len(doctors), ring_id
        listed = ring_practitioners(con, ring_id, data_period(con))  # the ring page's list
        assert sorted(listed["dr_codg"]) == doctors
    assert table["practitioners"].sum() > 0


def test_the_ring_list_dates_are_those_inside_the_period(detected_store: Store) -> None:
    con = detected_store.con
    spring = Period(date(2024, 3, 1), date(2024, 5, 31))
    table = rings_table(con, spring, suspicious_only=False)
    whole = rings_table(con, data_period(con), suspicious_only=False).set_index("ring_id")
    assert not table.empty
    for _, row in table.iterrows():
        assert spring.start <= row["first_time"].date() <= row["last_time"].date() \
            <= spring.end, row["ring_id"]
        part = ring_fund(con, row["ring_id"], spring)
        assert row["fund"] == pytest.approx(part.fund, abs=0.01)
    assert any(whole.loc[r, "first_time"] < table.set_index("ring_id").loc[r, "first_time"]
               or whole.loc[r, "last_time"] > table.set_index("ring_id").loc[r, "last_time"]
               for r in table["ring_id"])
