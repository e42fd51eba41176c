"""The honest look-alikes of therapy and gatherings: each planted with the shape of real care."""

from __future__ import annotations

import pandas as pd
from synth_helpers import SynthSet, icd_core

CANCERS = {"C34.900", "C50.900", "C18.900"}


def _rows(settlements: pd.DataFrame, scenario: dict[str, object]) -> pd.DataFrame:
    ids = scenario["setl_ids"]
    assert isinstance(ids, list)
    return settlements[settlements["setl_id"].isin(ids)].sort_values("time")


def _ages(clean: SynthSet, psn: list[str]) -> pd.Series:
    p = clean["persons"].set_index("psn_no").loc[psn]
    return (pd.Timestamp("2024-07-01") - pd.to_datetime(p["brdy"])).dt.days / 365.25


def _hours(times: pd.Series) -> pd.Series:
    return times.dt.hour + times.dt.minute / 60


def test_every_new_lookalike_is_planted_as_honest(clean: SynthSet) -> None:
    for pattern in ("chemo_cycles", "rehab_course", "checkup_day", "market_day_clinic"):
        found = clean.scenarios(pattern)
        assert found, pattern
        assert all(s["kind"] == "honest" and s["params"] for s in found)


def test_chemo_cycles_repeat_every_14_21_or_28_days(clean: SynthSet,
                                                    settlements: pd.DataFrame) -> None:
    for s in clean.scenarios("chemo_cycles"):
        rows = _rows(settlements, s)
        assert set(rows["med_type"]) <= {"21", "14"}
        assert set(icd_core(rows["dise_codg"])) <= CANCERS | {"Z51.100"}
        assert rows["fixmedins_code"].nunique() == 1
        assert (rows["psn_no"].str[:4] == rows["fixmedins_code"].str[1:5]).all(), "local"
        assert _ages(clean, s["persons"]).between(40, 81).all()
        assert 8 <= len(s["persons"]) <= 20
        assert rows["medfee_sumamt_fen"].median() >= 50_000, "chemotherapy-sized bills"
        inpatient = rows["med_type"] == "21"
        stay = (pd.to_datetime(rows["enddate"]) - pd.to_datetime(rows["begndate"])).dt.days
        assert stay[inpatient].between(1, 4).all()
        start = pd.to_datetime(rows["begndate"]).where(inpatient, rows["time"].dt.normalize())
        assert start.value_counts().max() >= 2, "several patients admitted the same day"
        for _, days in start.groupby(rows["psn_no"]):
            gaps = days.sort_values().diff().dropna().dt.days
            if len(gaps) == 0:
                continue
            assert gaps.min() in (14, 21, 28), gaps.tolist()
            assert (gaps == gaps.min()).mean() >= 0.5, "delays are the exception"
            assert gaps.min() in s["params"]["cycle_days"]


def test_rehab_course_every_weekday_in_one_slot(clean: SynthSet,
                                                settlements: pd.DataFrame) -> None:
    for s in clean.scenarios("rehab_course"):
        rows = _rows(settlements, s)
        assert (rows["med_type"] == "11").all()
        core = icd_core(rows["dise_codg"])
        assert (core.str.startswith("Z50") | core.str.startswith("I69")).all()
        assert (rows["time"].dt.day_of_week < 5).all(), "weekdays only"
        hours = _hours(rows["time"])
        assert hours.max() - hours.min() <= 0.6, "the same slot"
        assert rows["medfee_sumamt_fen"].median() <= 30_000, "modest bills"
        for _, g in rows.groupby("psn_no"):
            span = (g["time"].max() - g["time"].min()).days
            assert span <= 6 * 7
            assert len(g) >= 0.7 * 5 * (span // 7 + 1) - 5, "daily, not now and then"


def test_checkup_day_is_one_morning_of_one_employer(clean: SynthSet,
                                                     settlements: pd.DataFrame) -> None:
    for s in clean.scenarios("checkup_day"):
        rows = _rows(settlements, s)
        assert 40 <= len(s["persons"]) <= 150
        assert len(rows) == len(s["persons"]), "one visit each"
        assert rows["time"].dt.date.nunique() <= 2
        assert rows["time"].dt.date.value_counts().iloc[0] >= 0.7 * len(rows)
        assert _hours(rows["time"]).between(7.5, 11.6).all(), "within a morning"
        assert set(icd_core(rows["dise_codg"])) <= {"Z00.000", "Z00.001"}
        assert _ages(clean, s["persons"]).between(22, 61).all()
        assert rows["psn_no"].str[:4].nunique() == 1, "staff of one city"
        fee = rows["medfee_sumamt_fen"]
        assert fee.max() <= 2 * fee.min(), "near-identical packages"


def test_market_day_clinic_on_one_weekday(clean: SynthSet,
                                          settlements: pd.DataFrame) -> None:
    for s in clean.scenarios("market_day_clinic"):
        rows = _rows(settlements, s)
        assert rows["fixmedins_code"].nunique() == 1
        assert rows["time"].dt.day_of_week.nunique() == 1, "the market day"
        assert (rows["time"].dt.day_of_week == s["params"]["weekday"]).all()
        assert _hours(rows["time"]).between(7.5, 12).all(), "in the morning"
        assert icd_core(rows["dise_codg"]).nunique() >= 4, "diverse ailments"
        assert rows["medfee_sumamt_fen"].median() <= 20_000, "small bills"
        assert 20 <= len(s["persons"]) <= 60
        persons = clean["persons"].set_index("psn_no").loc[s["persons"]]
        assert (persons["insu_admdvs"].str[:4] == rows["fixmedins_code"].iloc[0][1:5]).all()
        visits = rows.groupby("psn_no").size()
        assert visits.max() < rows["time"].dt.date.nunique() or len(visits) == 1, (
            "each person on a subset of the market days")
