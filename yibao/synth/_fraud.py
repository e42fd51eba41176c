"""Cross-province card use and resale chains, and the helpers every fraud planter shares.

The fraud rings whose shape the knobs set live in :mod:`yibao.synth._fraud_rings`.

Where one hand swipes the cards (the pooled cards, the borrowed cards used far from home, the
colluding pharmacy's fills), the institution goes into ``Scenario.keyed_by_one``: all of the
scenario's settlements there are keyed by one operator (经办人), whoever is on duty.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from yibao.geo import haversine_km
from yibao.synth import _catalog as cat
from yibao.synth._calendar import Profile
from yibao.synth._planter import (
    LineSpec,
    Planter,
    at,
    pharmacy_pool,
    primary_pool,
)
from yibao.synth.persons import person_specs
from yibao.synth.population import Category

__all__ = [
    "DIAGNOSIS_FOR_DRUG",
    "HIGH_VALUE",
    "boxes_of",
    "cross_province_card_use",
    "high_value_drugs",
    "inst_name",
    "item_of",
    "persons_of_city",
    "resale_chain",
]

I64 = npt.NDArray[np.int64]

HIGH_VALUE = ("angong", "semaglutide", "albumin", "adalimumab", "sacubitril", "glargine",
              "osimertinib")
_HIGH_VALUE_P = np.array([3, 3, 2, 1.5, 1.5, 2, 0.5])
DIAGNOSIS_FOR_DRUG = {
    "angong": "I69.300", "semaglutide": "E11.900", "glargine": "E11.900", "albumin": "C34.900",
    "adalimumab": "M05.900", "sacubitril": "I50.900", "osimertinib": "C34.900",
    "tiotropium": "J44.900", "seretide": "J44.900", "dapagliflozin": "E11.900",
}


def item_of(key: str) -> int:
    return cat.item_index()[key]


def boxes_of(pl: Planter, key: str, lo: int = 2, hi: int = 5) -> int:
    """Boxes of one drug in one suspicious purchase: fewer of the very expensive ones."""
    if cat.ITEMS[item_of(key)].price_fen > 100_000:
        return int(pl.rng.integers(1, 3))
    return int(pl.rng.integers(lo, hi + 1))


def high_value_drugs(pl: Planter, k: int) -> list[str]:
    chosen = pl.rng.choice(len(HIGH_VALUE), size=k, replace=False,
                           p=_HIGH_VALUE_P / _HIGH_VALUE_P.sum())
    return [HIGH_VALUE[i] for i in sorted(chosen.tolist())]


def persons_of_city(pl: Planter, k: int, city: int, ages: tuple[int, int]) -> I64:
    """``k`` persons living in ``city``: ordinary ones first, new ones when too few exist."""
    home_city = pl.geo.county_city[pl.base.home_county]
    age = pl.base_age
    found = pl.base_persons(k, (home_city == city) & (age >= ages[0]) & (age <= ages[1]))
    missing = k - len(found)
    if missing <= 0:
        return found
    counties = pl.geo.counties_of_city(city)
    w = pl.geo.county_weight[counties]
    county = pl.rng.choice(counties, size=missing, p=w / w.sum())
    made = pl.new_persons(person_specs(missing, pl.geo, pl.rng, county=county, ages=ages))
    return np.concatenate([found, made])


def inst_name(pl: Planter, inst: int) -> str:
    return str(pl.inst.name[inst].as_py())


def _city_name(pl: Planter, city: int) -> str:
    return pl.geo.city_name[city]


def _city_centroids(pl: Planter) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    geo = pl.geo
    n = len(geo.city_code)
    w = geo.county_weight
    lon = np.bincount(geo.county_city, weights=geo.county_lon * w, minlength=n)
    lat = np.bincount(geo.county_city, weights=geo.county_lat * w, minlength=n)
    total = np.bincount(geo.county_city, weights=w, minlength=n)
    return lon / total, lat / total


def cross_province_card_use(pl: Planter) -> None:
    """Cards of one province used at another province's pharmacies the same day as at home."""
    rng = pl.rng
    geo = pl.geo
    scen = pl.open("cross_province_card_use")
    lon, lat = _city_centroids(pl)
    dist = haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    other = geo.city_province[:, None] != geo.city_province[None, :]
    far = (dist >= 380) & other
    homes = np.flatnonzero(far.any(axis=1))
    w = geo.city_weight[homes]
    home_city = int(rng.choice(homes, p=w / w.sum()))
    away_city = int(rng.choice(np.flatnonzero(far[home_city])))
    away = [pl.pick_institution((Category.PHARMACY,), city=away_city)
            for _ in range(int(rng.integers(1, 4)))]
    scen.keyed_by_one.extend(away)  # the borrowed cards are swiped by the same hand
    persons = persons_of_city(pl, int(rng.integers(5, 16)), home_city, (20, 75))
    away_drugs = ("sacubitril", "glargine", "semaglutide", "tiotropium", "seretide",
                  "dapagliflozin", "albumin")
    home_drugs = ("amlodipine", "cold_tab", "omeprazole", "metformin", "ibuprofen")
    pairs = 0
    for p in persons.tolist():
        county = int(pl.home_county(np.array([p]))[0])
        for day in sorted(rng.choice(np.arange(3, 362), size=int(rng.integers(2, 6)),
                                     replace=False).tolist()):
            shop = int(rng.choice(away))
            at_pharmacy = rng.random() < 0.6
            local = pharmacy_pool(pl, county) if at_pharmacy else primary_pool(pl, county)
            km = float(haversine_km(pl.inst.lon[local], pl.inst.lat[local], pl.inst.lon[shop],
                                    pl.inst.lat[shop]))
            if km < 250:
                continue
            gap = int(rng.uniform(10, min(60.0, km / 300 * 60)) * 60)
            t_home = at(day, rng.uniform(8.5, 17.5))
            t_away = t_home + gap if rng.random() < 0.5 else t_home - gap
            drug = str(rng.choice(home_drugs))
            if at_pharmacy:
                pl.settle(scen, p, local, 41, t_home,
                          [LineSpec(item_of(drug), int(rng.integers(1, 3)))])
            else:
                dr = int(pl.prac.pick_at(np.array([local]), rng.random(1))[0])
                pl.settle(scen, p, local, 11, t_home,
                          [LineSpec(item_of("consult"), 1, dr=dr),
                           LineSpec(item_of(drug), 1, dr=dr)],
                          dise="I10.x00" if drug == "amlodipine" else "J06.900", dr=dr)
            bought = rng.choice(away_drugs, size=int(rng.integers(1, 3)), replace=False).tolist()
            pl.settle(scen, p, shop, 41, t_away, [LineSpec(item_of(d), boxes_of(pl, d, 2, 4))
                                                  for d in bought])
            pairs += 1
    scen.description = (
        f"{len(persons)} cards insured in {_city_name(pl, home_city)} settled at home and, "
        f"minutes to an hour apart on the same day, at pharmacies in {_city_name(pl, away_city)} "
        f"over 250 km away ({pairs} impossible journeys).")


def resale_chain(pl: Planter) -> None:
    """Boxes bought with insurance at pharmacy A, settled again weeks later at B and C elsewhere."""
    rng = pl.rng
    scen = pl.open("resale_chain")
    first = pl.pick_institution((Category.PHARMACY,))
    city_a = pl.county_city(int(pl.inst.county[first]))
    others = [c for c in range(len(pl.geo.city_code)) if c != city_a]
    city_b, city_c = (int(c) for c in rng.choice(others, size=2, replace=False))
    shop_b = pl.pick_institution((Category.PHARMACY,), city=city_b)
    shop_c = pl.pick_institution((Category.PHARMACY,), city=city_c)
    sellers = persons_of_city(pl, int(rng.integers(4, 11)), city_a, (45, 85))
    buyers = {shop_b: persons_of_city(pl, int(rng.integers(1, 4)), city_b, (25, 70)),
              shop_c: persons_of_city(pl, int(rng.integers(1, 4)), city_c, (25, 70))}
    drugs = high_value_drugs(pl, int(rng.integers(1, 3)))
    boxes: list[tuple[int, int, int]] = []  # (item, serial, day bought)
    for p in sellers.tolist():
        for day in rng.choice(np.arange(5, 290), size=int(rng.integers(1, 4)), replace=False):
            t = at(int(day), 0) + int(pl.seconds(Profile.PHARMACY)[0])
            lines = [LineSpec(item_of(d), boxes_of(pl, d)) for d in drugs]
            _, codes = pl.settle(scen, p, first, 41, t, lines,
                                 dise=DIAGNOSIS_FOR_DRUG[drugs[0]] if rng.random() < 0.6 else None)
            for spec, serials in zip(lines, codes, strict=True):
                boxes.extend((spec.item, int(s), int(day)) for s in serials)
    resold: list[tuple[int, int]] = []
    share = rng.uniform(0.5, 0.9)
    chosen = [b for b in boxes if rng.random() < share] or boxes[:1]
    # (shop, day, item) -> serials
    sales: dict[tuple[int, int, int], list[int]] = {}
    for item, serial, day in chosen:
        shop = shop_b if rng.random() < 0.6 else shop_c
        again = day + int(rng.integers(14, 61))
        if again > 364:
            continue
        sales.setdefault((shop, again, item), []).append(serial)
        resold.append((item, serial))
        if shop == shop_b and rng.random() < 0.2 and again + 40 <= 364:
            sales.setdefault((shop_c, again + int(rng.integers(14, 41)), item), []).append(serial)
    for (shop, day, item), sold in sorted(sales.items()):
        for start in range(0, len(sold), 4):
            part = np.array(sold[start:start + 4], dtype=np.int64)
            t = at(day, 0) + int(pl.seconds(Profile.PHARMACY)[0])
            pl.settle(scen, int(rng.choice(buyers[shop])), shop, 41, t,
                      [LineSpec(item, len(part), codes=part)])
    scen.codes[:] = list(dict.fromkeys(resold))
    names = "、".join(cat.ITEMS[item_of(d)].name for d in drugs)
    scen.description = (
        f"{len(resold)} boxes of {names} bought with insurance by {len(sellers)} persons at "
        f"{inst_name(pl, first)} were settled again weeks later at {inst_name(pl, shop_b)} and "
        f"{inst_name(pl, shop_c)} in other cities (回流药).")


# the names benchmarks/app.py plants its big collusion ring with (kept until it moves to the
# public ones above)
_item = item_of
_boxes = boxes_of
_persons_of_city = persons_of_city
_HOSPITALS = (Category.SECONDARY, Category.TERTIARY_A, Category.TERTIARY_B,
              Category.PRIMARY_HOSPITAL)
