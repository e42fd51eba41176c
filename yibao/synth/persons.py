"""Insured persons (参保人): who they are, where they live, their ID numbers.

Persons are first described as :class:`PersonSpec` batches (home county, sex, birth day,
scheme), drawn at random for the ordinary population or to order for a scenario (an elderly
cohort of one county, a family). :func:`assemble_persons` then gives all of them identifiers at
once, so scenario persons are indistinguishable from the others: ``psn_no`` (insuring city code +
14 digits of a permuted counter), GB 11643 ID numbers with their check digit (birth county, birth
date, sequence odd for men) and mobile numbers. Ages are in years at 2024-07-01.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yibao.synth import _catalog as cat
from yibao.synth._ids import certno_check_chars, lpad_digits, permute, splitmix64
from yibao.synth.population import Geography, Group, Pools

__all__ = [
    "DAY_2024",
    "PersonSpec",
    "Persons",
    "assemble_persons",
    "concat_specs",
    "person_specs",
    "random_names",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

DAY_2024 = 19_723
"""2024-01-01 in days since 1970-01-01 (birth days are counted from 1970)."""
_MID_2024 = DAY_2024 + 182
_PSN_A, _PSN_B = 1_103_515_245, 12_345_679

# age bins (years) and shares of the insured population
_AGE_BINS = ((0, 5, 4.5), (5, 15, 11.5), (15, 25, 10.0), (25, 35, 15.0), (35, 45, 14.0),
             (45, 55, 16.0), (55, 65, 13.0), (65, 75, 9.5), (75, 85, 4.5), (85, 100, 1.5))
_MOBILE_PREFIXES = np.array(
    [130, 131, 132, 133, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155, 156, 157, 158, 159,
     166, 173, 177, 180, 181, 182, 183, 185, 186, 187, 188, 189, 191, 198, 199], dtype=np.int64)


@dataclass(frozen=True)
class PersonSpec:
    """Persons before they have identifiers; all arrays have one entry per person."""

    home_county: I64
    birth_county: I64
    """County code in the ID number: where the person was born (differs for migrants)."""
    sex: I64
    """1 male, 2 female (the national ``gend`` codes)."""
    birth: I64
    """Birth date in days since 1970-01-01."""
    insutype: I64
    surname: I64
    """Index into the surname list (families share one)."""
    has_tel: BOOL

    def __len__(self) -> int:
        return len(self.sex)


def concat_specs(specs: list[PersonSpec]) -> PersonSpec:
    """Several batches as one, in order."""
    return PersonSpec(**{
        f.name: np.concatenate([getattr(s, f.name) for s in specs]) for f in fields(PersonSpec)
    })


def _surname_weights() -> F64:
    w = np.array([w for _, w in cat.SURNAMES], dtype=np.float64)
    out: F64 = w / w.sum()
    return out


def _sample_ages(n: int, rng: np.random.Generator) -> F64:
    w = np.array([b[2] for b in _AGE_BINS])
    which = rng.choice(len(_AGE_BINS), size=n, p=w / w.sum())
    lo = np.array([b[0] for b in _AGE_BINS], dtype=np.float64)[which]
    hi = np.array([b[1] for b in _AGE_BINS], dtype=np.float64)[which]
    ages: F64 = lo + rng.random(n) * (hi - lo)
    return ages


def person_specs(
    n: int,
    geo: Geography,
    rng: np.random.Generator,
    *,
    county: I64 | int | None = None,
    ages: tuple[float, float] | None = None,
    sex: int | None = None,
    insutype: int | None = None,
    surname: int | None = None,
    local_born: bool = False,
) -> PersonSpec:
    """``n`` persons; unconstrained attributes follow the Delta's population.

    ``county``: home county index (one for all, or one per person), else drawn by population;
    ``ages``: (youngest, oldest) in years at 2024-07-01, else the population pyramid;
    ``local_born``: no migrants (the ID number's county is the home county).
    """
    if county is None:
        home = rng.choice(len(geo.county_code), size=n, p=geo.county_weight).astype(np.int64)
    else:
        home = np.broadcast_to(np.asarray(county, dtype=np.int64), (n,)).copy()
    age = _sample_ages(n, rng) if ages is None else rng.uniform(ages[0], ages[1], n)
    birth = (_MID_2024 - np.floor(age * 365.25)).astype(np.int64)
    birth = np.minimum(birth, DAY_2024 - 40)
    sexes = (rng.integers(1, 3, n) if sex is None else np.full(n, sex)).astype(np.int64)
    age_years = (_MID_2024 - birth) / 365.25
    city = geo.county_city[home]
    big_city = np.isin(np.array(geo.city_code)[city], np.array((*cat.BIG_CITIES, "320500")))
    migrant = ~local_born & big_city & (age_years >= 18) & (age_years < 60) & (rng.random(n) < 0.25)
    elsewhere = rng.choice(len(geo.county_code), size=n, p=geo.county_weight)
    birth_county = np.where(migrant, elsewhere, home).astype(np.int64)
    if insutype is None:
        urban = geo.county_is_district[home]
        u = rng.random(n)
        working = (age_years >= 22) & (age_years < 60)
        retired = age_years >= 60
        employee = (working & (u < np.where(urban, 0.72, 0.42))) | (
            retired & (u < np.where(urban, 0.55, 0.25)))
        types = np.where(employee, 310, 390)
        types = np.where((age_years >= 92) & (rng.random(n) < 0.3), 340, types)
    else:
        types = np.full(n, insutype)
    if surname is None:
        names = rng.choice(len(cat.SURNAMES), size=n, p=_surname_weights())
    else:
        names = np.full(n, surname)
    child = age_years < 14
    old = age_years >= 85
    has_tel = rng.random(n) >= np.where(child, 0.7, np.where(old, 0.3, 0.03))
    return PersonSpec(
        home_county=home, birth_county=birth_county, sex=sexes, birth=birth,
        insutype=types.astype(np.int64), surname=names.astype(np.int64), has_tel=has_tel,
    )


def random_names(
    n: int,
    rng: np.random.Generator,
    *,
    birth_year: I64,
    sex: I64 | None = None,
    surname: I64 | None = None,
) -> pa.StringArray:
    """Chinese names: a surname and one or two given characters in the style of the birth year."""
    if surname is None:
        surname = rng.choice(len(cat.SURNAMES), size=n, p=_surname_weights())
    if sex is None:
        sex = rng.integers(1, 3, n)
    sur = np.array([s for s, _ in cat.SURNAMES])[surname]
    old = birth_year < 1975
    pools = {
        (True, 1): np.array(list(cat.GIVEN_OLD_MALE)),
        (True, 2): np.array(list(cat.GIVEN_OLD_FEMALE)),
        (False, 1): np.array(list(cat.GIVEN_NEW_MALE)),
        (False, 2): np.array(list(cat.GIVEN_NEW_FEMALE)),
    }
    first = np.empty(n, dtype=object)
    second = np.empty(n, dtype=object)
    one_char = rng.random(n) < 0.3
    for (is_old, s), chars in pools.items():
        mask = (old == is_old) & (sex == s)
        k = int(mask.sum())
        first[mask] = chars[rng.integers(0, len(chars), k)]
        second[mask] = np.where(one_char[mask], "", chars[rng.integers(0, len(chars), k)])
    joined: pa.StringArray = pc.binary_join_element_wise(
        pa.array(sur), pa.array(first, type=pa.string()), pa.array(second, type=pa.string()), "")
    return joined


@dataclass(frozen=True)
class Persons:
    """Insured persons with their identifiers; index = person id used by the generator."""

    psn_no: pa.StringArray
    name: pa.StringArray
    certno: pa.StringArray
    tel: pa.StringArray
    gend: I64
    brdy: I64
    """Birth date in days since 1970-01-01."""
    insutype: I64
    insu_city: I64
    home_county: I64
    age: I64
    """Whole years at 2024-07-01."""
    fav_pharmacy: I64
    fav_primary: I64
    file_order: I64
    """Person ids in the order of the persons file (sorted by ``psn_no``)."""

    def __len__(self) -> int:
        return len(self.gend)


def _ymd(days: I64) -> tuple[I64, I64, I64]:
    dt = np.asarray(days, dtype="datetime64[D]")
    year = dt.astype("datetime64[Y]").astype(np.int64) + 1970
    month = dt.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (dt - dt.astype("datetime64[M]")).astype(np.int64) + 1
    return year, month, day


def _certnos(spec: PersonSpec, geo: Geography) -> pa.StringArray:
    n = len(spec)
    county_code = np.array([int(c) for c in geo.county_code], dtype=np.int64)[spec.birth_county]
    year, month, day = _ymd(spec.birth)
    ymd = year * 10_000 + month * 100 + day
    order = np.lexsort((np.arange(n), spec.sex, spec.birth, spec.birth_county))
    key = (county_code[order] * 100_000_000 + ymd[order]) * 4 + spec.sex[order]
    new_group = np.concatenate([[True], key[1:] != key[:-1]])
    group_start = np.flatnonzero(new_group)
    group_id = np.cumsum(new_group) - 1
    rank = np.arange(n) - group_start[group_id]
    offset = (splitmix64(key) % np.uint64(200)).astype(np.int64)
    slot = np.empty(n, dtype=np.int64)
    slot[order] = offset + rank
    seq = 2 * slot + np.where(spec.sex == 1, 1, 2)
    if int(seq.max(initial=0)) > 999:
        raise RuntimeError("too many persons share a birth county and day for 3-digit sequences")
    first17 = county_code * 10**11 + ymd * 1000 + seq
    powers = 10 ** np.arange(16, -1, -1, dtype=np.int64)
    digits = ((first17[:, None] // powers[None, :]) % 10).astype(np.int8)
    check = certno_check_chars(digits)
    certno: pa.StringArray = pc.binary_join_element_wise(
        lpad_digits(first17, 17), pa.array(check), "")
    return certno


def assemble_persons(
    spec: PersonSpec, geo: Geography, pools: Pools, rng: np.random.Generator
) -> Persons:
    """Identifiers, names, phones and favourite pharmacy/clinic for every person of ``spec``."""
    n = len(spec)
    city = geo.county_city[spec.home_county]
    city_code = np.array(geo.city_code)[city]
    serial = permute(np.arange(n, dtype=np.int64), _PSN_A, _PSN_B)
    psn_no = pc.binary_join_element_wise(pa.array(city_code), lpad_digits(serial, 14), "")
    year, _, _ = _ymd(spec.birth)
    names = random_names(n, rng, birth_year=year, sex=spec.sex, surname=spec.surname)
    mobile = rng.choice(_MOBILE_PREFIXES, n) * 100_000_000 + rng.integers(0, 100_000_000, n)
    tel = pa.array(mobile).cast(pa.string())
    tel = pc.if_else(pa.array(spec.has_tel), tel, pa.scalar(None, pa.string()))
    fav_pharmacy = pools.pick(pools.county_pool[spec.home_county, Group.PHARMACY], rng.random(n))
    fav_primary = pools.pick(pools.county_pool[spec.home_county, Group.PRIMARY], rng.random(n))
    age = ((_MID_2024 - spec.birth) / 365.25).astype(np.int64)
    file_order = pc.sort_indices(psn_no).to_numpy()
    return Persons(
        psn_no=psn_no, name=names, certno=_certnos(spec, geo), tel=tel, gend=spec.sex,
        brdy=spec.birth, insutype=spec.insutype, insu_city=city.astype(np.int64),
        home_county=spec.home_county, age=age, fav_pharmacy=fav_pharmacy,
        fav_primary=fav_primary, file_order=file_order.astype(np.int64),
    )
