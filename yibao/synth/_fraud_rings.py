"""The fraud rings whose shape the knobs set (:mod:`yibao.synth.knobs`): card pooling (聚集性刷卡),
recruited inpatients (诱导住院) and doctor-pharmacy collusion (医药串通).

Each draws its shape (ring size, where members live, how fast the cards follow each other, how
often a member comes, how many institutions of one owner) from the knobs or, where a knob is
not set, over its whole range, and records the values drawn in ``Scenario.params``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from yibao.synth import _catalog as cat
from yibao.synth import knobs as kb
from yibao.synth._fraud import (
    DIAGNOSIS_FOR_DRUG,
    boxes_of,
    high_value_drugs,
    inst_name,
    item_of,
    persons_of_city,
)
from yibao.synth._planter import (
    LineSpec,
    Planter,
    at,
    covering_subsets,
    pharmacy_pool,
)
from yibao.synth.knobs import draw_float, draw_int
from yibao.synth.persons import person_specs
from yibao.synth.population import Category

__all__ = [
    "card_pooling",
    "chain_siblings",
    "doctor_pharmacy_collusion",
    "persons_near",
    "recruited_inpatients",
]

I64 = npt.NDArray[np.int64]
_HOSPITALS = (Category.SECONDARY, Category.TERTIARY_A, Category.TERTIARY_B,
              Category.PRIMARY_HOSPITAL)
_SMALL_SET_SIZE = (5, 40)
_SMALL_SET_DAYS = (3, 6)
"""Size and days of a card-pooling ring drawn in sets under 50,000 settlements (as before the
knobs), so that one ring does not swamp a small set; pinned knobs apply at every scale."""


def _stem(name: str) -> str:
    """The owner's part of an institution name: the brand before 大药房, or the private word."""
    if "大药房" in name:
        return name.split("大药房")[0] + "大药房"
    for word in cat.PRIVATE_HOSPITAL_WORDS:
        if word in name:
            return word
    return name


def chain_siblings(pl: Planter, first: int, k: int, *, wards: bool = False) -> list[int]:
    """``first`` and up to ``k - 1`` other unused institutions of its owner in its city.

    Synthetic institutions carry no owner column (nor does the national institutions file), so
    the owner is the name stem they share: ``益康大药房(xx店)``, ``xx仁爱医院``. Same county first.
    """
    stem = _stem(inst_name(pl, first))
    county = int(pl.inst.county[first])
    found = [first]
    categories = (Category(int(pl.inst.category[first])),)
    for scope in ({"county": county}, {"city": pl.county_city(county)}):
        for i in pl.institutions(categories, county=scope.get("county"),
                                 city=scope.get("city")).tolist():
            if len(found) >= k:
                return found
            name = inst_name(pl, i)
            if i in found or _stem(name) != stem or (wards and not name.endswith("医院")):
                continue
            pl.used_inst[i] = True
            found.append(i)
    return found


def persons_near(pl: Planter, k: int, county: int, ages: tuple[int, int]) -> I64:
    """``k`` persons living and insured in ``county``: ordinary ones first, then new ones."""
    age = pl.base_age
    fits = (age >= ages[0]) & (age <= ages[1])
    found = pl.base_persons(k, (pl.base.home_county == county) & fits)
    missing = k - len(found)
    if missing <= 0:
        return found
    made = pl.new_persons(person_specs(missing, pl.geo, pl.rng, county=county, ages=ages))
    return np.concatenate([found, made])


def _far_persons(pl: Planter, k: int, city: int) -> I64:
    """``k`` ordinary persons of other cities, most of them of other provinces."""
    base_city = pl.geo.county_city[pl.base.home_county]
    age = pl.base_age
    where = (base_city != city) & (age >= 25) & (age <= 80)
    weights = np.where(pl.geo.city_province[base_city] != pl.geo.city_province[city], 3.0,
                       1.0) * np.where(pl.base.insutype == 310, 2.0, 1.0)
    return pl.base_persons(k, where, weights)


def card_pooling(pl: Planter) -> None:
    """Cards swiped one after another at the pharmacies of one owner by one operator.

    Shape from ``pl.knobs.card_pooling``: 5-80 cards, local (the pharmacy next door) or far
    (other cities and provinces), a session of 5-60 minutes from the first card to the last,
    each member present on 30-100% of the ring's 3-20 days, at 1-3 pharmacies of one chain.
    """
    rng = pl.rng
    knobs = pl.knobs.card_pooling
    scen = pl.open("card_pooling")
    small = pl.scale < 50_000
    size = draw_int(rng, knobs.size, _SMALL_SET_SIZE if small else kb.CARD_POOLING_SIZE)
    locality = knobs.locality or ("local" if rng.random() < 0.5 else "far")
    spread = draw_float(rng, knobs.spread_minutes,
                        kb.CARD_POOLING_SPREAD_MINUTES)
    presence = draw_float(rng, knobs.presence,
                          kb.CARD_POOLING_PRESENCE)
    wanted = draw_int(rng, knobs.pharmacies,
                      kb.CARD_POOLING_PHARMACIES)
    n_days = draw_int(rng, knobs.days, _SMALL_SET_DAYS if small else
                      kb.CARD_POOLING_DAYS)
    first = pl.pick_institution((Category.PHARMACY,))
    shops = chain_siblings(pl, first, wanted)
    scen.keyed_by_one.extend(shops)
    county = int(pl.inst.county[first])
    city = pl.county_city(county)
    if locality == "local":
        persons = persons_near(pl, size, county, (25, 80))
    else:
        persons = _far_persons(pl, size, city)
    drugs = high_value_drugs(pl, int(rng.integers(1, 3)))
    days = np.sort(rng.choice(np.arange(3, 362), size=n_days, replace=False))
    sizes = [max(min(3, len(persons)), round(len(persons) * presence)) for _ in range(n_days)]
    groups = covering_subsets(rng, persons, sizes)
    for day, members in zip(days.tolist(), groups, strict=True):
        rng.shuffle(members)
        shop = shops[int(rng.integers(len(shops)))]
        latest = 21.5 - spread / 60
        start = (rng.uniform(8.5, min(11.5, latest)) if rng.random() < 0.3
                 else rng.uniform(13.5, max(13.6, latest)))
        gaps = rng.uniform(0.5, 1.5, max(len(members) - 1, 0))
        offsets = np.concatenate([[0.0], np.cumsum(gaps)])
        if offsets[-1] > 0:
            offsets *= spread * 60 / offsets[-1]
        t0 = at(day, start)
        for p, off in zip(members.tolist(), offsets.tolist(), strict=True):
            lines = [LineSpec(item_of(d), boxes_of(pl, d)) for d in drugs]
            dise = DIAGNOSIS_FOR_DRUG[drugs[0]] if rng.random() < 0.5 else None
            pl.settle(scen, int(p), shop, 41, t0 + int(off), lines, dise=dise)
    base_city = pl.geo.county_city[pl.home_county(persons)]
    cities = len(set(base_city.tolist()))
    names = "、".join(cat.ITEMS[item_of(d)].name for d in drugs)
    where = "、".join(inst_name(pl, s) for s in shops)
    scen.params = {"size": len(persons), "locality": locality, "spread_minutes": spread,
                   "presence": presence, "pharmacies": len(shops), "days": n_days,
                   "owner": _stem(inst_name(pl, first))}
    scen.description = (
        f"{len(persons)} cards insured in {cities} {'city' if cities == 1 else 'cities'} "
        f"({locality}) swiped one after another within about {spread:.0f} minutes at {where} on "
        f"{n_days} days, each card on about {presence:.0%} of them, always buying {names}.")


def recruited_inpatients(pl: Planter) -> None:
    """Elderly of one county admitted in waves to the hospitals of one owner, one diagnosis.

    Shape from ``pl.knobs.recruited``: 10-60 persons, admissions of a wave spread over 0-3
    days, 1-2 hospitals of one owner (a wave goes to one of them).
    """
    rng = pl.rng
    knobs = pl.knobs.recruited
    scen = pl.open("recruited_inpatients")
    k = draw_int(rng, knobs.persons, kb.RECRUITED_PERSONS)
    spread = draw_int(rng, knobs.admission_spread_days,
                      kb.RECRUITED_SPREAD_DAYS)
    wanted = draw_int(rng, knobs.hospitals,
                      kb.RECRUITED_HOSPITALS)
    first = pl.pick_institution((Category.SECONDARY, Category.PRIMARY_HOSPITAL), private=True,
                                wards=True)
    hospitals = chain_siblings(pl, first, wanted, wards=True)
    h_county = int(pl.inst.county[first])
    city = pl.county_city(h_county)
    counties = pl.geo.counties_of_city(city)
    rural = counties[~pl.geo.county_is_district[counties] & (counties != h_county)]
    home = int(rng.choice(rural if len(rural) else counties))
    persons = pl.new_persons(person_specs(k, pl.geo, rng, county=home, ages=(60, 86),
                                          local_born=True))
    dise = str(rng.choice(["M51.202", "M47.800", "I63.900", "J44.100"]))
    doctors = {h: pl.doctors(h, int(rng.integers(1, 3))) for h in hospitals}
    n_waves = max(2, len(hospitals)) if pl.scale < 50_000 else int(rng.integers(2, 5))
    wave_days = [int(rng.integers(10, 120))]
    while len(wave_days) < n_waves and wave_days[-1] + 80 <= 340:
        wave_days.append(wave_days[-1] + int(rng.integers(35, 80)))
    sizes = [max(min(k, 8), round(k * rng.uniform(0.7, 1.0))) for _ in wave_days]
    for w, (day, members) in enumerate(zip(wave_days, covering_subsets(rng, persons, sizes),
                                           strict=True)):
        hospital = hospitals[w % len(hospitals)]
        stay = int(rng.integers(8, 13))
        hour = rng.uniform(9.0, 10.5)
        for p in members.tolist():
            begn = day + int(rng.integers(0, spread + 1))
            los = stay + int(rng.integers(-1, 2))
            end = min(begn + los, 365)
            los = end - begn
            dr = doctors[hospital][int(rng.integers(len(doctors[hospital])))]
            lines = [LineSpec(item_of(key), n, dr=dr) for key, n in (
                ("bed", los), ("nursing", los), ("infusion", los), ("infusion_set", los),
                ("rehab_emp", los), ("rehab_exercise", los), ("acupuncture", los), ("cbc", 1),
                ("urine", 1), ("liver", 1), ("renal", 1), ("ecg", 1),
                ("ct" if rng.random() < 0.6 else "mri", 1), ("xueshuantong", los),
                ("aescinate", max(1, los // 2)), ("saline", los), ("celecoxib", 2))]
            t = at(end, hour) + int(rng.integers(0, 1800))
            pl.settle(scen, int(p), hospital, 21, t, lines, dise=dise, dr=dr, begn=begn, end=end)
            if dr not in scen.practitioners:
                scen.practitioners.append(dr)
    scen.params = {"persons": k, "admission_spread_days": spread, "hospitals": len(hospitals),
                   "waves": len(wave_days), "owner": _stem(inst_name(pl, first))}
    scen.description = (
        f"{k} elderly residents of {pl.geo.county_name[home]} admitted in {len(wave_days)} waves "
        f"to {'、'.join(inst_name(pl, h) for h in hospitals)} with the same diagnosis {dise}, "
        f"admissions of a wave within {spread + 1} day{'s' if spread else ''} and near-identical "
        "stays and bills.")


def _other_pharmacy(pl: Planter, county: int, not_this: int) -> int:
    """A pharmacy near home as ordinary people pick one, other than ``not_this``."""
    for _ in range(5):
        shop = pharmacy_pool(pl, county)
        if shop != not_this:
            return shop
    city = pl.county_city(county)
    others = pl.institutions((Category.PHARMACY,), city=city, fresh=False)
    return int(pl.rng.choice(others[others != not_this]))


def doctor_pharmacy_collusion(pl: Planter) -> None:
    """A hospital doctor whose high-value prescriptions are filled mostly at one pharmacy.

    Shape from ``pl.knobs.collusion``: 15-60 local patients, 20-150 prescriptions, 60-100% of
    them filled at the colluding pharmacy (the rest at pharmacies near the patients' homes).
    Every fee line carries the prescribing doctor (``bilg_dr_codg``).
    """
    rng = pl.rng
    knobs = pl.knobs.collusion
    scen = pl.open("doctor_pharmacy_collusion")
    n_patients = draw_int(rng, knobs.patients,
                          kb.COLLUSION_PATIENTS)
    n_rx = draw_int(rng, knobs.prescriptions,
                    kb.COLLUSION_PRESCRIPTIONS)
    share = draw_float(rng, knobs.share, kb.COLLUSION_SHARE)
    hospital = pl.pick_institution(_HOSPITALS, private=True)
    doctor = pl.doctors(hospital, 1)[0]
    scen.practitioners.append(doctor)
    county = int(pl.inst.county[hospital])
    pharmacy = pl.pick_institution((Category.PHARMACY,), county=county)
    scen.keyed_by_one.append(pharmacy)
    patients = persons_near(pl, n_patients, county, (30, 85))
    if len(patients) < n_patients:
        more = persons_of_city(pl, n_patients - len(patients), pl.county_city(county), (30, 85))
        patients = np.concatenate([patients, more])
    homes = pl.home_county(patients)
    favourites = rng.choice(["semaglutide", "adalimumab", "sacubitril", "albumin", "glargine",
                             "osimertinib", "tiotropium", "seretide"], size=2, replace=False)
    colluding = np.zeros(n_rx, dtype=bool)
    colluding[rng.permutation(n_rx)[: max(1, round(share * n_rx))]] = True
    # every patient fills at least one prescription (when there are enough of them)
    order = np.concatenate([rng.permutation(len(patients)),
                            rng.integers(0, len(patients), max(0, n_rx - len(patients)))])
    for j in range(n_rx):
        pick = int(order[j])
        p = int(patients[pick])
        day = int(rng.integers(3, 362))
        drugs = rng.choice(favourites, size=int(rng.integers(1, 3)), replace=False).tolist()
        dise = DIAGNOSIS_FOR_DRUG[drugs[0]]
        if rng.random() < 0.6:
            lines = [LineSpec(item_of("consult"), 1, dr=doctor)]
            if rng.random() < 0.4:
                lines.append(LineSpec(item_of("cbc"), 1, dr=doctor))
            pl.settle(scen, p, hospital, 11, at(day, rng.uniform(8.5, 11.5)), lines, dise=dise,
                      dr=doctor)
        shop = pharmacy if colluding[j] else _other_pharmacy(pl, int(homes[pick]), pharmacy)
        lines = [LineSpec(item_of(d), boxes_of(pl, d, 2, 4), dr=doctor) for d in drugs]
        pl.settle(scen, p, shop, 41, at(day, rng.uniform(13.0, 19.0)), lines,
                  dise=dise if rng.random() < 0.7 else None, dr=doctor)
    at_pharmacy = int(colluding.sum())
    scen.params = {"patients": len(patients), "prescriptions": n_rx, "share": share}
    scen.description = (
        f"Doctor of {inst_name(pl, hospital)} whose {n_rx} prescriptions of high-value drugs were "
        f"filled {at_pharmacy} times at {inst_name(pl, pharmacy)} by {len(patients)} local "
        "patients, the rest at ordinary pharmacies.")
