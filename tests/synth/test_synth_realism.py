"""A believable Delta year: seasons, week and day rhythms, chronic care, flows, population."""

from __future__ import annotations

import pandas as pd
from synth_helpers import SynthSet, icd_core, level_class


def test_winter_peak_and_spring_festival_dip(settlements: pd.DataFrame) -> None:
    month = settlements["time"].dt.month
    assert month.isin([12, 1]).sum() > 1.1 * month.isin([6, 7]).sum()
    day = settlements["time"].dt.normalize()
    per_day = day.value_counts()
    before = per_day[pd.date_range("2024-02-01", "2024-02-07")].mean()
    festival = per_day.reindex(pd.date_range("2024-02-09", "2024-02-13"), fill_value=0).mean()
    assert festival < 0.7 * before


def test_week_and_opening_hours(settlements: pd.DataFrame) -> None:
    s = settlements[settlements["init_setl_id"] == ""]
    clinics = s[(s["med_type"] == "11") & (s["inst_type"] == "1")]
    weekday = clinics["time"].dt.day_of_week
    assert (weekday == 0).sum() > 1.8 * (weekday == 6).sum()
    hour = clinics["time"].dt.hour + clinics["time"].dt.minute / 60
    assert hour.between(7.5, 17.5).mean() > 0.9
    shops = s[s["med_type"] == "41"]
    hour = shops["time"].dt.hour + shops["time"].dt.minute / 60
    assert hour.between(7.5, 23).mean() > 0.97
    stays = s[s["med_type"] == "21"]
    assert stays["time"].dt.hour.between(8, 18).mean() > 0.95


def test_chronic_patients_come_monthly_to_the_same_place(settlements: pd.DataFrame) -> None:
    chronic = settlements[(settlements["med_type"] == "14") & (settlements["init_setl_id"] == "")]
    visits = chronic.groupby(["psn_no", "fixmedins_code"]).agg(
        n=("setl_id", "size"), months=("time", lambda t: t.dt.month.nunique()),
        dise=("dise_codg", "first"))
    regular = visits[(visits["n"] >= 6) & (visits["months"] >= 6)]
    assert len(regular) >= 30
    assert icd_core(regular["dise"]).isin(["I10.x00", "E11.900", "I25.103", "J44.900", "I69.300",
                                           "B18.100", "M05.900", "F20.900", "C34.900",
                                           "N18.900", "N18.500"]).all()


def test_cross_province_flows_toward_the_big_hospitals(settlements: pd.DataFrame) -> None:
    hospital = settlements[settlements["inst_type"] == "1"]
    away = hospital["psn_no"].str[:2] != hospital["fixmedins_code"].str[1:3]
    assert 0.005 < away.mean() < 0.1, "a few percent"
    big = hospital.loc[away, "fixmedins_code"].str[1:5].isin(["3101", "3301", "3201", "3401"])
    assert big.mean() > 0.5
    pharmacy = settlements[settlements["inst_type"] == "2"]
    assert (pharmacy["psn_no"].str[:4] == pharmacy["fixmedins_code"].str[1:5]).mean() > 0.85


def test_population_and_institutions(clean: SynthSet, legacy: SynthSet) -> None:
    p = clean["persons"]
    age = (pd.Timestamp("2024-07-01") - pd.to_datetime(p["brdy"])).dt.days / 365.25
    assert 0.15 < (age >= 60).mean() < 0.35
    assert 0.1 < (age < 15).mean() < 0.25
    assert 0.45 < (p["gend"] == "1").mean() < 0.55
    assert p["insu_admdvs"].value_counts().index[0] == "310100", "Shanghai is the largest"
    old = legacy["institutions"]
    top = old[old["hosp_lv"] == "02"]
    big = top["admdvs"].str[:4].isin(["3101", "3301", "3201", "3401"]).mean()
    assert big > 0.25, "三级甲等 hospitals concentrate in the big cities"
    inst = clean["institutions"]
    tertiary = inst[level_class(inst["hosp_lv"]) == "3"]
    big = tertiary["admdvs"].str[:4].isin(["3101", "3301", "3201", "3401"]).mean()
    assert big > 0.25, "三级 hospitals concentrate in the big cities, whatever the label"
    assert inst["fixmedins_name"].is_unique
    assert inst["fixmedins_name"].str.contains("社区卫生服务中心").any()
    assert inst["fixmedins_name"].str.contains("卫生室|诊所").any()


def test_stays_favour_the_elderly_and_pharmacies_sell_boxes(clean: SynthSet,
                                                            settlements: pd.DataFrame) -> None:
    persons = clean["persons"].set_index("psn_no")
    age = (pd.Timestamp("2024-07-01") - pd.to_datetime(persons["brdy"])).dt.days / 365.25
    stays = settlements[settlements["med_type"] == "21"]
    assert (stays["psn_no"].map(age) >= 60).mean() > 0.4
    f = clean["fee_details"]
    shop = f[f["setl_id"].isin(settlements.loc[settlements["med_type"] == "41", "setl_id"])]
    assert (shop["drug_trac_codg"] != "").all()


def test_nobody_settles_elsewhere_during_an_ordinary_stay(clean: SynthSet,
                                                          settlements: pd.DataFrame) -> None:
    planted = {i for s in clean.truth["scenarios"] for i in s["setl_ids"]}
    s = settlements[settlements["init_setl_id"] == ""]
    stays = s[s["med_type"].isin(["21", "52"]) & ~s["setl_id"].isin(planted)]
    assert len(stays) > 100
    begn = pd.to_datetime(stays["begndate"])
    end = pd.to_datetime(stays["enddate"])
    other = s[["psn_no", "time", "fixmedins_code"]].rename(
        columns={"fixmedins_code": "where", "time": "when"})
    joined = stays.assign(begn=begn, end=end).merge(other, on="psn_no")
    inside = (joined["when"] >= joined["begn"] + pd.Timedelta(days=1)) & (
        joined["when"] < joined["end"]) & (joined["where"] != joined["fixmedins_code"])
    assert not inside.any(), joined.loc[inside, ["psn_no", "begndate", "enddate", "when"]]
