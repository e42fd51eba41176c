"""Planted scenarios: the truth resolves to the files and each scenario shows its pattern."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest
from synth_helpers import SynthSet, haversine_km, icd_core

from yibao.synth.scenarios import FRAUD_PATTERNS, HONEST_PATTERNS, LABELS_ZH


def _rows(settlements: pd.DataFrame, scenario: dict[str, object]) -> pd.DataFrame:
    ids = scenario["setl_ids"]
    assert isinstance(ids, list)
    return settlements[settlements["setl_id"].isin(ids)].sort_values("time")


def _bursts(times: pd.Series, gap_minutes: float = 10) -> list[pd.Index]:
    """Groups of rows whose consecutive times are at most ``gap_minutes`` apart."""
    times = times.sort_values()
    new = times.diff().dt.total_seconds().fillna(1e9) > gap_minutes * 60
    return [g.index for _, g in times.groupby(new.cumsum())]


def _ages(clean: SynthSet, psn: list[str]) -> pd.Series:
    p = clean["persons"].set_index("psn_no").loc[psn]
    return (pd.Timestamp("2024-07-01") - pd.to_datetime(p["brdy"])).dt.days / 365.25


def test_truth_has_every_pattern_and_resolves(clean: SynthSet,
                                              settlements: pd.DataFrame) -> None:
    truth = clean.truth
    assert truth["seed"] > 0
    assert truth["scale"] == 10_000
    assert truth["period"] == ["2024-01-01", "2024-12-31"]
    scenarios = truth["scenarios"]
    assert {s["pattern"] for s in scenarios} == set(FRAUD_PATTERNS) | set(HONEST_PATTERNS)
    assert len({s["id"] for s in scenarios}) == len(scenarios)
    persons = set(clean["persons"]["psn_no"])
    institutions = set(clean["institutions"]["fixmedins_code"])
    practitioners = set(clean["practitioners"]["dr_codg"])
    codes = set(clean["fee_details"]["drug_trac_codg"].str.split(";").explode())
    medfee = settlements.set_index("setl_id")["medfee_sumamt_fen"]
    for s in scenarios:
        assert s["kind"] == ("fraud" if s["pattern"] in FRAUD_PATTERNS else "honest")
        assert s["label_zh"] == LABELS_ZH[s["pattern"]]
        assert s["description"].endswith(".")
        assert s["persons"]
        assert set(s["persons"]) <= persons
        assert set(s["institutions"]) <= institutions
        assert set(s["practitioners"]) <= practitioners
        assert set(s["trace_codes"]) <= codes
        assert s["setl_ids"]
        assert set(s["setl_ids"]) <= set(medfee.index)
        rows = settlements[settlements["setl_id"].isin(s["setl_ids"])]
        assert set(rows["psn_no"]) == set(s["persons"])
        assert set(rows["fixmedins_code"]) == set(s["institutions"])
        assert s["amount_yuan"] == pytest.approx(medfee.loc[s["setl_ids"]].sum() / 100)
    planted = [i for s in scenarios for i in s["setl_ids"]]
    assert len(planted) == len(set(planted)), "a settlement belongs to one scenario"
    people = [p for s in scenarios for p in s["persons"]]
    assert len(people) == len(set(people)), "a person belongs to one scenario"


def test_card_pooling_sessions_at_the_pharmacies_of_one_owner(
        clean: SynthSet, settlements: pd.DataFrame) -> None:
    for s in clean.scenarios("card_pooling"):
        params = s["params"]
        rows = _rows(settlements, s)
        assert rows["fixmedins_code"].nunique() <= params["pharmacies"] <= 3
        assert (rows["inst_type"] == "2").all()
        assert (rows["med_type"] == "41").all()
        names = clean["institutions"].set_index("fixmedins_code").loc[s["institutions"],
                                                                      "fixmedins_name"]
        assert names.str.startswith(params["owner"]).all(), "one owner: a shared name stem"
        assert 5 <= len(s["persons"]) == params["size"] <= 80
        days = rows["time"].dt.date
        assert days.nunique() == params["days"], "one session a day"
        for _, session in rows.groupby(days):
            span = session["time"].max() - session["time"].min()
            assert span <= pd.Timedelta(minutes=params["spread_minutes"] + 1)
            assert len(session) >= min(3, params["size"])
        presence = rows.groupby("psn_no")["time"].apply(lambda t: t.dt.date.nunique())
        assert presence.mean() / params["days"] == pytest.approx(params["presence"], abs=0.2)
        home = rows["psn_no"].str[:4]
        shop_city = rows["fixmedins_code"].str[1:5]
        if params["locality"] == "far":
            assert (home != shop_city).all(), "far from home"
        else:
            assert (home == shop_city).all(), "the pharmacy next door"
        lines = clean["fee_details"][clean["fee_details"]["setl_id"].isin(rows["setl_id"])]
        assert lines["med_list_codg"].nunique() <= 2, "the same drugs every time"
        assert (lines["det_item_fee_sumamt"].astype(float) >= 70).all(), "high-value drugs"


def test_recruited_inpatients_admitted_together(clean: SynthSet,
                                                settlements: pd.DataFrame) -> None:
    for s in clean.scenarios("recruited_inpatients"):
        params = s["params"]
        rows = _rows(settlements, s)
        assert (rows["med_type"] == "21").all()
        assert rows["fixmedins_code"].nunique() == params["hospitals"] <= 2
        assert icd_core(rows["dise_codg"]).nunique() == 1
        assert 10 <= len(s["persons"]) == params["persons"] <= 60
        assert (_ages(clean, s["persons"]) >= 60).all()
        certno = clean["persons"].set_index("psn_no").loc[s["persons"], "certno"]
        assert certno.str[:6].nunique() == 1, "from the same county"
        begn = pd.to_datetime(rows["begndate"])
        waves = _bursts(begn.astype("datetime64[ns]"), gap_minutes=5 * 24 * 60)
        assert len(waves) >= 2
        for wave in waves:
            assert len(wave) >= 8
            spread = begn[wave].max() - begn[wave].min()
            assert spread <= pd.Timedelta(days=params["admission_spread_days"])
        stay = (pd.to_datetime(rows["enddate"]) - begn).dt.days
        assert stay.between(6, 14).all()
        assert s["practitioners"]


def test_cross_province_cards_travel_impossibly(clean: SynthSet,
                                                settlements: pd.DataFrame) -> None:
    for s in clean.scenarios("cross_province_card_use"):
        rows = _rows(settlements, s)
        pairs = 0
        for psn, g in rows.groupby("psn_no"):
            found = False
            for (_, a), (_, b) in itertools.combinations(g.iterrows(), 2):
                if a["time"].date() != b["time"].date() or a["province"] == b["province"]:
                    continue
                hours = abs((b["time"] - a["time"]).total_seconds()) / 3600
                km = haversine_km(a["lon"], a["lat"], b["lon"], b["lat"])
                assert km >= 250
                assert km / max(hours, 1 / 60) > 250, "too far apart for the time"
                found = True
                pairs += 1
            assert found, psn
            assert g["psn_no"].str[:2].eq(g["psn_no"].str[:2].iloc[0]).all()
        assert pairs >= len(s["persons"])


def test_resale_codes_settled_again_at_other_pharmacies(clean: SynthSet,
                                                        settlements: pd.DataFrame) -> None:
    f = clean["fee_details"]
    lines = f.assign(code=f["drug_trac_codg"].str.split(";")).explode("code")
    lines = lines.merge(settlements[["setl_id", "fixmedins_code", "time", "inst_type"]],
                        on="setl_id")
    for s in clean.scenarios("resale_chain"):
        assert s["trace_codes"]
        assert len(s["institutions"]) == 3
        for code in s["trace_codes"]:
            sales = lines[lines["code"] == code].sort_values("time")
            assert (sales["inst_type"] == "2").all()
            assert sales["fixmedins_code"].nunique() >= 2, code
            assert sales["fixmedins_code"].is_unique, "each sale at another pharmacy"
            gaps = sales["time"].diff().dropna()
            assert (gaps >= pd.Timedelta(days=13)).all(), "weeks later"
            cities = sales["fixmedins_code"].str[1:5]
            assert cities.iloc[0] not in set(cities.iloc[1:]), "in other cities"


def test_doctor_fills_most_prescriptions_at_one_pharmacy(
        clean: SynthSet, settlements: pd.DataFrame) -> None:
    f = clean["fee_details"]
    for s in clean.scenarios("doctor_pharmacy_collusion"):
        params = s["params"]
        (doctor,) = s["practitioners"]
        assert 15 <= len(s["persons"]) == params["patients"] <= 60
        planted = _rows(settlements, s)
        rx = planted[(planted["dr_codg"] == doctor) & (planted["inst_type"] == "2")]
        assert len(rx) == params["prescriptions"]
        top = rx["fixmedins_code"].value_counts()
        assert top.iloc[0] / len(rx) == pytest.approx(params["share"], abs=1.5 / len(rx) + 0.01)
        assert top.index[0] in s["institutions"]
        lines = f[f["setl_id"].isin(rx["setl_id"])]
        assert (lines["bilg_dr_codg"] == doctor).all(), "every fill names the prescriber"
        mine = rx[rx["fixmedins_code"] == top.index[0]]
        mine_lines = f[f["setl_id"].isin(mine["setl_id"])]
        assert mine_lines["det_item_fee_sumamt"].astype(float).median() >= 100


def test_family_visits_together_at_one_place(clean: SynthSet,
                                             settlements: pd.DataFrame) -> None:
    for s in clean.scenarios("family_visits"):
        rows = _rows(settlements, s)
        assert 3 <= len(s["persons"]) <= 5
        assert rows["fixmedins_code"].nunique() == 1
        people = clean["persons"].set_index("psn_no").loc[s["persons"]]
        assert people["certno"].str[:6].nunique() == 1, "same home"
        assert people["psn_name"].str[0].value_counts().iloc[0] >= 2, "a shared surname"
        assert (_ages(clean, s["persons"]) < 18).any(), "with children"
        for burst in _bursts(rows["time"], gap_minutes=10):
            assert rows.loc[burst, "psn_no"].is_unique
            assert len(burst) >= 3
        assert (rows["medfee_sumamt_fen"] < 20_000).all(), "ordinary amounts"


def test_dialysis_cohort_three_sessions_a_week(clean: SynthSet,
                                               settlements: pd.DataFrame) -> None:
    f = clean["fee_details"]
    for s in clean.scenarios("dialysis_cohort"):
        rows = _rows(settlements, s)
        assert 10 <= len(s["persons"]) <= 20
        assert rows["fixmedins_code"].nunique() == 1
        assert rows["dise_codg"].str.startswith("N18").all()
        assert (rows["med_type"] == "14").all()
        lines = f[f["setl_id"].isin(rows["setl_id"])]
        per_setl = lines.groupby("setl_id")["med_list_name"].apply(set)
        assert per_setl.map(lambda names: "血液透析" in names).all()
        for _, g in rows.groupby("psn_no"):
            weekdays = set(g["time"].dt.day_of_week)
            assert weekdays <= {0, 2, 4} or weekdays <= {1, 3, 5}
            hours = g["time"].dt.hour
            assert hours.nunique() <= 2, "the same shift"
            weekly = g.groupby(g["time"].dt.isocalendar().week).size()
            assert weekly.max() <= 3


def test_nursing_home_weekly_rounds(clean: SynthSet, settlements: pd.DataFrame) -> None:
    for s in clean.scenarios("nursing_home"):
        rows = _rows(settlements, s)
        assert 20 <= len(s["persons"]) <= 40
        assert rows["fixmedins_code"].nunique() == 1
        assert (_ages(clean, s["persons"]) >= 70).all()
        assert rows["time"].dt.day_of_week.nunique() == 1
        assert rows["time"].dt.hour.between(9, 16).all()
        assert len(s["practitioners"]) == 1
        assert (rows["dr_codg"] == s["practitioners"][0]).all()


def test_refund_then_resale_of_the_same_box(clean: SynthSet,
                                            settlements: pd.DataFrame) -> None:
    f = clean["fee_details"].merge(settlements, on="setl_id")
    for s in clean.scenarios("refund_resale"):
        for code in s["trace_codes"]:
            sales = f[f["drug_trac_codg"] == code].sort_values("time")
            assert len(sales) == 3
            first, back, again = (sales.iloc[i] for i in range(3))
            assert back["init_setl_id"] == first["setl_id"]
            assert back["cnt"] == "-1"
            assert again["psn_no"] != first["psn_no"]
            assert sales["fixmedins_code"].nunique() == 1


def test_split_pack_one_code_several_small_sales(clean: SynthSet,
                                                 settlements: pd.DataFrame) -> None:
    f = clean["fee_details"].merge(settlements, on="setl_id")
    for s in clean.scenarios("split_pack"):
        for code in s["trace_codes"]:
            sales = f[f["drug_trac_codg"] == code]
            assert len(sales) >= 3
            assert sales["fixmedins_code"].nunique() == 1
            assert sales["psn_no"].is_unique
            assert (sales["cnt"].astype(int) > 1).all(), "sold by the tablet"


def test_cross_border_commuters_settle_in_shanghai_on_weekdays(
        clean: SynthSet, settlements: pd.DataFrame) -> None:
    for s in clean.scenarios("cross_border_commuters"):
        rows = _rows(settlements, s)
        assert set(rows["psn_no"].str[:6]) <= {"320500", "330400", "320600"}
        shanghai = rows[rows["fixmedins_code"].str[1:3] == "31"]
        assert len(shanghai) >= 6 * len(s["persons"])
        assert (shanghai["time"].dt.day_of_week < 5).all()
        weekly = shanghai.groupby(["psn_no", shanghai["time"].dt.isocalendar().week]).size()
        assert weekly.max() == 1


def test_only_planted_cards_travel_impossibly(clean: SynthSet,
                                              settlements: pd.DataFrame) -> None:
    s = settlements[settlements["init_setl_id"] == ""].sort_values(["psn_no", "time"])
    same = s["psn_no"].eq(s["psn_no"].shift())
    hours = s["time"].diff().dt.total_seconds() / 3600
    prev_lon, prev_lat = s["lon"].shift(), s["lat"].shift()
    km = pd.Series([haversine_km(a, b, c, d) if m else 0.0 for a, b, c, d, m in zip(
        s["lon"], s["lat"], prev_lon, prev_lat, same, strict=True)], index=s.index)
    fast = same & (km > 30) & (km > 150 * hours.clip(lower=1 / 60))
    travellers = set(s.loc[fast, "psn_no"])
    planted = {p for x in clean.scenarios("cross_province_card_use") for p in x["persons"]}
    assert travellers <= planted
    assert travellers
