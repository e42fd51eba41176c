"""Honest look-alikes of gatherings: an employer's health check-up day and a village clinic's
market day.

A check-up (健康查体, Z00.x) brings a whole workforce to one institution within hours on one
day: an event, not a ring. A township or village clinic (乡镇卫生院, 村卫生室) fills on the weekly
market day (集日) with locals and their everyday ailments: the same weekday every week, diverse
diagnoses, small bills.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from yibao.synth import _catalog as cat
from yibao.synth._calendar import day_of_week
from yibao.synth._fees import catalog
from yibao.synth._honest import HOLIDAYS
from yibao.synth._planter import LineSpec, Planter, at, duration_factor
from yibao.synth.persons import DAY_2024, person_specs
from yibao.synth.population import Category

__all__ = ["CHECKUP_ITEMS", "MARKET_DAY_DIAGNOSES", "checkup_day", "market_day_clinic"]

I64 = npt.NDArray[np.int64]

CHECKUP_ITEMS = ("cbc", "urine", "liver", "renal", "lipids", "glucose_test", "xray")
"""The package every employee gets; women add an ultrasound, the over-40s an ECG."""
MARKET_DAY_DIAGNOSES = (("J06.900", 4.0), ("K29.700", 2.5), ("I10.x00", 3.0), ("M54.500", 2.5),
                        ("E11.900", 1.5), ("J20.900", 1.5), ("M17.900", 1.2), ("L30.900", 0.8),
                        ("K52.900", 0.8), ("R50.900", 0.7))
"""Everyday ailments seen at a village clinic, with relative weights."""


def _item(key: str) -> int:
    return cat.item_index()[key]


def _name(pl: Planter, inst: int) -> str:
    return str(pl.inst.name[inst].as_py())


def checkup_day(pl: Planter) -> None:
    """40-150 staff of one employer checked up at one hospital within a morning (a few come on a
    second day), all with Z00.x and the same package of tests."""
    rng = pl.rng
    scen = pl.open("checkup_day")
    hospital = pl.pick_institution((Category.SECONDARY, Category.TERTIARY_A,
                                    Category.TERTIARY_B, Category.COMMUNITY))
    city = pl.county_city(int(pl.inst.county[hospital]))
    counties = pl.geo.counties_of_city(city)
    w = pl.geo.county_weight[counties]
    k = int(rng.integers(40, 81 if pl.scale < 50_000 else 151))
    home = rng.choice(counties, size=k, p=w / w.sum())
    staff = pl.new_persons(person_specs(k, pl.geo, rng, county=home, ages=(22, 60),
                                        insutype=310))
    doctors = pl.doctors(hospital, int(rng.integers(1, 3)))
    main_code = "Z00.000" if rng.random() < 0.5 else "Z00.001"
    day = int(rng.integers(3, 340))
    while int(day_of_week(day)) >= 5 or day in HOLIDAYS:
        day += 1
    second = day + int(rng.integers(1, 15))
    while int(day_of_week(second)) >= 5 or second in HOLIDAYS:
        second += 1
    late = rng.random(k) < float(rng.uniform(0.0, 0.2))
    spec = pl.specs[-1]  # the staff's own batch: sex and age pick the package's extras
    age = ((DAY_2024 + 182 - spec.birth) / 365.25).astype(np.int64)
    for j, p in enumerate(staff.tolist()):
        when = second if late[j] else day
        dr = doctors[int(rng.integers(len(doctors)))]
        keys = list(CHECKUP_ITEMS)
        if int(spec.sex[j]) == 2:
            keys.append("ultrasound")
        if int(age[j]) >= 40:
            keys.append("ecg")
        lines = [LineSpec(_item(key), 1, dr=dr) for key in keys]
        dise = main_code if rng.random() < 0.9 else ("Z00.001" if main_code == "Z00.000"
                                                     else "Z00.000")
        t = at(when, rng.uniform(7.75, 11.5))
        pl.settle(scen, p, hospital, 11, t, lines, dise=dise, dr=dr)
        if dr not in scen.practitioners:
            scen.practitioners.append(dr)
    scen.params = {"staff": k, "days": 2 if late.any() else 1, "diagnosis": main_code}
    scen.description = (
        f"{k} employees of one employer living in {pl.geo.city_name[city]} given a health "
        f"check-up (Z00.x) at {_name(pl, hospital)} in one morning"
        f"{' (some on a second day)' if late.any() else ''}, each with the same tests.")


def market_day_clinic(pl: Planter) -> None:
    """A rural clinic's weekly market day: 20-60 locals, each on some of the market days, in the
    morning, with everyday diagnoses and small bills."""
    rng = pl.rng
    scen = pl.open("market_day_clinic")
    rural = np.flatnonzero(~pl.geo.county_is_district)
    w = pl.geo.county_weight[rural]
    county = int(rng.choice(rural, p=w / w.sum()))
    clinic = pl.pick_institution((Category.VILLAGE, Category.PRIMARY_HOSPITAL), county=county)
    county = int(pl.inst.county[clinic])
    doctors = pl.doctors(clinic, 1)
    scen.practitioners.extend(doctors)
    dr = doctors[0] if doctors else -1
    k = int(rng.integers(20, 61))
    locals_ = pl.base_persons(k, (pl.base.home_county == county) & (pl.base_age >= 18))
    if len(locals_) < k:
        made = pl.new_persons(person_specs(k - len(locals_), pl.geo, rng, county=county,
                                           ages=(18, 88), local_born=True))
        locals_ = np.concatenate([locals_, made])
    weekday = int(rng.integers(0, 7))
    weeks = int(max(6, rng.uniform(8, 12) * duration_factor(pl.scale) * 0.7))
    first = int(rng.integers(0, max(1, 52 - weeks))) * 7
    first += (weekday - int(day_of_week(first))) % 7
    days = [d for d in range(first, min(first + 7 * weeks, 366), 7) if d not in HOLIDAYS]
    codes = [c for c, _ in MARKET_DAY_DIAGNOSES]
    cw = np.array([x for _, x in MARKET_DAY_DIAGNOSES])
    c = catalog()
    visits = 0
    for p in locals_.tolist():
        n = int(rng.integers(1, min(len(days), 6) + 1))
        chronic = str(rng.choice(["I10.x00", "E11.900", "M54.500"])) if rng.random() < 0.4 else ""
        for day in sorted(rng.choice(days, size=n, replace=False).tolist()):
            dise = chronic or str(rng.choice(codes, p=cw / cw.sum()))
            group = c.diag_drugs[cat.diagnosis_index()[dise]]
            picks = c.drug_pools.pick(np.full(2, 2 * group + 1), rng.random(2))
            drugs = sorted(set(picks.tolist()))[: int(rng.integers(1, 3))]
            lines = [LineSpec(_item("consult"), 1, dr=dr)]
            lines += [LineSpec(int(d), 1, dr=dr) for d in drugs]
            t = at(int(day), rng.uniform(7.5, 11.75))
            pl.settle(scen, p, clinic, 11, t, lines, dise=dise, dr=dr)
            visits += 1
    weekday_zh = "一二三四五六日"[weekday]
    scen.params = {"persons": len(locals_), "weekday": weekday, "market_days": len(days)}
    scen.description = (
        f"{len(locals_)} residents of {pl.geo.county_name[county]} seen at {_name(pl, clinic)} "
        f"on the weekly market day (星期{weekday_zh}) over {len(days)} weeks ({visits} visits, "
        "everyday ailments, small bills).")
