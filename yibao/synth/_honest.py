"""Six of the planted honest look-alikes (see :mod:`yibao.synth.scenarios`).

Each leaves the tell-tale signs of legitimate care in the data: therapy codes and diagnoses that
fit, amounts that fit the treatment, schedules that follow opening hours, homes near the
institution, ages that make a family.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from yibao.synth import _catalog as cat
from yibao.synth._calendar import Profile, day_of_week
from yibao.synth._fees import catalog
from yibao.synth._planter import (
    LineSpec,
    Planter,
    at,
    covering_subsets,
    duration_factor,
    pharmacy_pool,
    primary_pool,
)
from yibao.synth.persons import concat_specs, person_specs
from yibao.synth.population import Category

__all__ = [
    "HOLIDAYS",
    "cross_border_commuters",
    "dialysis_cohort",
    "family_visits",
    "nursing_home",
    "refund_resale",
    "split_pack",
]

I64 = npt.NDArray[np.int64]

HOLIDAYS = set(range(40, 48)) | {0, 95, 96, 97, 121, 122, 123, 124, 125, 162, 258, 259, 260,
                                  *range(274, 281)}
"""Days (0 = 1 January 2024) of public holidays: clinics' rounds and courses pause."""


def _item(key: str) -> int:
    return cat.item_index()[key]


def _name(pl: Planter, inst: int) -> str:
    return str(pl.inst.name[inst].as_py())


def _county_by_population(pl: Planter) -> int:
    return int(pl.rng.choice(len(pl.geo.county_code), p=pl.geo.county_weight))


def _ordinary_drug(pl: Planter, child: bool) -> str:
    if child:
        return str(pl.rng.choice(["kids_paracetamol", "kids_cold", "amoxicillin", "ambroxol"]))
    return str(pl.rng.choice(["cold_tab", "ganmaoling", "lianhua", "ibuprofen", "omeprazole",
                              "smectite", "loratadine", "levo_eye"]))


def family_visits(pl: Planter) -> None:
    """Parents, children and a grandparent who go to the pharmacy or clinic together."""
    rng = pl.rng
    scen = pl.open("family_visits")
    county = _county_by_population(pl)
    surname = int(rng.choice(len(cat.SURNAMES), p=np.array([w for _, w in cat.SURNAMES]) /
                             sum(w for _, w in cat.SURNAMES)))
    father_age = float(rng.uniform(30, 48))
    parts = [
        person_specs(1, pl.geo, rng, county=county, ages=(father_age, father_age + 0.9), sex=1,
                     surname=surname, local_born=True),
        person_specs(1, pl.geo, rng, county=county, ages=(father_age - 4, father_age + 1), sex=2,
                     local_born=True),
        person_specs(int(rng.integers(1, 3)), pl.geo, rng, county=county, ages=(1, 16),
                     insutype=390, surname=surname, local_born=True),
    ]
    if rng.random() < 0.5:
        parts.append(person_specs(1, pl.geo, rng, county=county,
                                  ages=(father_age + 24, father_age + 32), sex=1, surname=surname,
                                  local_born=True))
    spec = concat_specs(parts)
    members = pl.new_persons(spec)
    child = pl._ages(spec) < 14
    venue = pharmacy_pool(pl, county) if rng.random() < 0.6 else primary_pool(pl, county)
    at_pharmacy = pl.inst.category[venue] == Category.PHARMACY
    visits = int(rng.integers(2, 6))
    days = sorted(rng.choice(np.arange(3, 362), size=visits, replace=False).tolist())
    sizes = [len(members) if rng.random() < 0.6 else max(3, len(members) - 1) for _ in days]
    for day, going in zip(days, covering_subsets(rng, members, sizes), strict=True):
        weekend = day_of_week(day) >= 5
        hour = rng.uniform(9.0, 11.0) if weekend or not at_pharmacy else rng.uniform(18.0, 20.0)
        t = at(day, hour)
        for p in going.tolist():
            t += int(rng.integers(30, 241))
            drug = _ordinary_drug(pl, bool(child[p - members[0]]))
            if at_pharmacy:
                pl.settle(scen, p, venue, 41, t, [LineSpec(_item(drug), int(rng.integers(1, 3)))])
            else:
                dr = int(pl.prac.pick_at(np.array([venue]), rng.random(1))[0])
                pl.settle(scen, p, venue, 11, t, [LineSpec(_item("consult"), 1, dr=dr),
                                                  LineSpec(_item(drug), 1, dr=dr)],
                          dise="J06.900", dr=dr)
    scen.description = (
        f"A family of {len(members)} from {pl.geo.county_name[county]} (shared surname and home, "
        f"children and parents' ages) settling minutes apart at {_name(pl, venue)} on {visits} "
        "days.")


def dialysis_cohort(pl: Planter) -> None:
    """Haemodialysis patients (N18.x) treated three times a week in the same shift for months."""
    rng = pl.rng
    scen = pl.open("dialysis_cohort")
    hospital = pl.pick_institution((Category.SECONDARY, Category.TERTIARY_A, Category.TERTIARY_B))
    city = pl.county_city(int(pl.inst.county[hospital]))
    counties = pl.geo.counties_of_city(city)
    w = pl.geo.county_weight[counties]
    k = int(rng.integers(10, 21))
    home = rng.choice(counties, size=k, p=w / w.sum())
    patients = pl.new_persons(person_specs(k, pl.geo, rng, county=home, ages=(35, 80)))
    doctors = pl.doctors(hospital, int(rng.integers(2, 4)))
    scen.practitioners.extend(doctors)
    factor = duration_factor(pl.scale)
    for p in patients.tolist():
        group = (0, 2, 4) if rng.random() < 0.5 else (1, 3, 5)
        shift_end = 11.5 if rng.random() < 0.55 else 16.5
        months = float(rng.uniform(1.0, 2.4)) * factor
        length = int(months * 30.4)
        start = int(rng.integers(0, max(1, 366 - length)))
        dise = "N18.500" if rng.random() < 0.8 else "N18.900"
        dr = doctors[int(rng.integers(len(doctors)))]
        for day in range(start, min(366, start + length)):
            if int(day_of_week(day)) not in group or rng.random() < 0.04:
                continue
            lines = [LineSpec(_item("dialysis"), 1, dr=dr), LineSpec(_item("dialyzer"), 1, dr=dr),
                     LineSpec(_item("dialysis_line"), 1, dr=dr),
                     LineSpec(_item("heparin"), 1, dr=dr)]
            if int(day_of_week(day)) == group[0]:
                lines.append(LineSpec(_item("epo"), int(rng.integers(1, 3)), dr=dr))
            t = at(day, shift_end) + int(rng.integers(0, 1500))
            pl.settle(scen, p, hospital, 14, t, lines, dise=dise, dr=dr)
    scen.description = (
        f"{k} haemodialysis patients (N18.x) of {_name(pl, hospital)}, three sessions a week in "
        "a fixed shift for months, settling together at the end of each shift with "
        "dialysis-sized bills.")


def nursing_home(pl: Planter) -> None:
    """Residents of a nursing home seen on the weekly rounds of their visiting clinic."""
    rng = pl.rng
    scen = pl.open("nursing_home")
    county = _county_by_population(pl)
    clinic = pl.pick_institution((Category.COMMUNITY, Category.PRIMARY_HOSPITAL, Category.VILLAGE),
                                 county=county)
    county = int(pl.inst.county[clinic])
    doctor = pl.doctors(clinic, 1)
    scen.practitioners.extend(doctor)
    k = int(rng.integers(20, 41))
    residents = pl.new_persons(person_specs(k, pl.geo, rng, county=county, ages=(72, 96),
                                            local_born=True))
    conditions = ("I10.x00", "E11.900", "I69.300", "J44.900", "M81.000")
    c = catalog()
    dx = rng.choice(conditions, size=k)
    regimen: list[list[int]] = []
    for d in dx.tolist():
        group = c.diag_drugs[cat.diagnosis_index()[d]]
        picks = c.drug_pools.pick(np.full(2, 2 * group + 1), rng.random(2))
        regimen.append(sorted(set(picks.tolist()))[: int(rng.integers(1, 3))])
    weekday = int(rng.integers(1, 4))
    weeks = int(max(6, rng.uniform(6, 10) * duration_factor(pl.scale) * 0.8))
    first = int(rng.integers(0, max(1, 52 - weeks))) * 7 + weekday
    days = [d for d in range(first, min(first + 7 * weeks, 366), 7) if d not in HOLIDAYS]
    sizes = [max(3, int(k * rng.uniform(0.3, 0.7))) for _ in days]
    for day, seen in zip(days, covering_subsets(rng, np.arange(k), sizes), strict=True):
        t = at(day, 9.0) + int(rng.integers(0, 1800))
        for j in sorted(seen.tolist()):
            t += int(rng.integers(240, 721))
            lines = [LineSpec(_item("consult"), 1, dr=doctor[0])] if rng.random() < 0.8 else []
            lines += [LineSpec(int(d), 1, dr=doctor[0]) for d in regimen[j]]
            pl.settle(scen, int(residents[j]), clinic, 11, t, lines, dise=str(dx[j]), dr=doctor[0])
    scen.description = (
        f"{k} elderly residents of a nursing home in {pl.geo.county_name[county]} seen one after "
        f"another on the weekly rounds of {_name(pl, clinic)} for {len(days)} weeks (chronic "
        "diagnoses, small bills).")


def refund_resale(pl: Planter) -> None:
    """A box sold, returned (reversed), then sold again to someone else at the same pharmacy."""
    rng = pl.rng
    scen = pl.open("refund_resale")
    pharmacy = pl.pick_institution((Category.PHARMACY,))
    county = int(pl.inst.county[pharmacy])
    near = pl.base.home_county == county
    n_boxes = int(rng.integers(2, 7))
    buyers = pl.base_persons(2 * n_boxes, near & (pl.base_age >= 18))
    if len(buyers) < 2 * n_boxes:
        extra = pl.new_persons(person_specs(2 * n_boxes - len(buyers), pl.geo, rng,
                                            county=county, ages=(18, 80)))
        buyers = np.concatenate([buyers, extra])
    for b in range(n_boxes):
        drug = str(rng.choice(["amlodipine", "valsartan", "metformin", "atorvastatin",
                               "seretide", "glargine", "celecoxib", "omeprazole"]))
        day = int(rng.integers(3, 330))
        t = at(day, 0) + int(pl.seconds(Profile.PHARMACY)[0])
        plant, codes = pl.settle(scen, int(buyers[2 * b]), pharmacy, 41, t,
                                 [LineSpec(_item(drug), 1)])
        back = t + int(rng.integers(3600, 3 * 86_400))
        pl.reverse(scen, plant, back)
        again = (back // 86_400 + int(rng.integers(1, 21))) * 86_400 + int(
            pl.seconds(Profile.PHARMACY)[0])
        pl.settle(scen, int(buyers[2 * b + 1]), pharmacy, 41, again,
                  [LineSpec(_item(drug), 1, codes=codes[0])])
    scen.description = (
        f"{n_boxes} boxes sold at {_name(pl, pharmacy)}, returned (冲销, reversal with the "
        "original's setl_id) and sold again to another customer: the code reappears only after "
        "its refund.")


def split_pack(pl: Planter) -> None:
    """One box opened and sold in small parts (拆零): one traceability code on several sales."""
    rng = pl.rng
    scen = pl.open("split_pack")
    pharmacy = pl.pick_institution((Category.PHARMACY,))
    county = int(pl.inst.county[pharmacy])
    splittable = [k for k in ("amoxicillin", "cold_tab", "omeprazole", "ibuprofen", "loxoprofen",
                              "metformin", "aspirin", "lianhua")]
    n_boxes = int(rng.integers(1, 4))
    customers = pl.base_persons(6 * n_boxes, (pl.base.home_county == county)
                                & (pl.base_age >= 12))
    if len(customers) < 6 * n_boxes:
        extra = pl.new_persons(person_specs(6 * n_boxes - len(customers), pl.geo, rng,
                                            county=county, ages=(12, 85)))
        customers = np.concatenate([customers, extra])
    used = 0
    sales = 0
    for _ in range(n_boxes):
        key = str(rng.choice(splittable))
        item = cat.ITEMS[_item(key)]
        code = pl.fresh_codes(_item(key), 1)
        unit = max(1, round(item.price_fen / item.pack))
        parts = int(rng.integers(3, 7))
        size = max(1, item.pack // parts)
        day = int(rng.integers(3, 330))
        for _ in range(parts):
            t = at(day, 0) + int(pl.seconds(Profile.PHARMACY)[0])
            pl.settle(scen, int(customers[used]), pharmacy, 41, t,
                      [LineSpec(_item(key), size, codes=code, pric=unit)])
            used += 1
            sales += 1
            day = min(365, day + int(rng.integers(1, 8)))
    scen.description = (
        f"{n_boxes} {'box' if n_boxes == 1 else 'boxes'} opened at {_name(pl, pharmacy)} and sold "
        "by the tablet (拆零) in "
        f"{sales} small sales: one traceability code per box on several settlements.")


_COMMUTES = {
    "320583": ("310114", "310118"), "320585": ("310114", "310113"),
    "330421": ("310118", "310117"), "330482": ("310116", "310117"),
    "320681": ("310151", "310115"), "320614": ("310151", "310115"),
}


def cross_border_commuters(pl: Planter) -> None:
    """People of Kunshan, Taicang, Jiaxing or Nantong who work in Shanghai: both sides weekly."""
    rng = pl.rng
    scen = pl.open("cross_border_commuters")
    home_code = str(rng.choice(sorted(_COMMUTES)))
    home = pl.geo.county_index(home_code)
    k = int(rng.integers(3, 11))
    people = pl.new_persons(person_specs(k, pl.geo, rng, county=home, ages=(25, 50),
                                         insutype=310))
    weeks = int(max(8, rng.uniform(8, 15) * duration_factor(pl.scale) * 0.9))
    for p in people.tolist():
        work = pl.geo.county_index(str(rng.choice(_COMMUTES[home_code])))
        in_shanghai = pharmacy_pool(pl, work) if rng.random() < 0.7 else primary_pool(pl, work)
        near_home = pharmacy_pool(pl, home)
        shop = pl.inst.category[in_shanghai] == Category.PHARMACY
        first = int(rng.integers(0, max(1, 52 - weeks)))
        for week in range(first, min(52, first + weeks)):
            day = week * 7 + int(rng.integers(0, 5))
            if day in HOLIDAYS or day > 365:
                continue
            hour = rng.uniform(12.0, 13.4) if rng.random() < 0.5 else rng.uniform(17.8, 19.0)
            drug = _ordinary_drug(pl, False)
            if shop:
                pl.settle(scen, p, in_shanghai, 41, at(day, hour),
                          [LineSpec(_item(drug), int(rng.integers(1, 3)))])
            else:
                dr = int(pl.prac.pick_at(np.array([in_shanghai]), rng.random(1))[0])
                pl.settle(scen, p, in_shanghai, 11, at(day, hour),
                          [LineSpec(_item("consult"), 1, dr=dr), LineSpec(_item(drug), 1, dr=dr)],
                          dise="J06.900", dr=dr)
            if rng.random() < 0.3:
                weekend = week * 7 + 5 + int(rng.integers(0, 2))
                if weekend <= 365:
                    pl.settle(scen, p, near_home, 41, at(weekend, rng.uniform(9.0, 17.0)),
                              [LineSpec(_item(_ordinary_drug(pl, False)), 1)])
    scen.description = (
        f"{k} employees living and insured in {pl.geo.county_name[home]} who settle in Shanghai "
        f"near work on a weekday every week for {weeks} weeks and near home at weekends.")
