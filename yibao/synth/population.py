"""The supervised world: geography, designated institutions (定点医药机构) and practitioners.

Institutions of every level are placed inside their real county (``random_points_in_division``):
tertiary hospitals (三级) concentrated in the big cities, secondary (二级) county hospitals,
township hospitals and community health centres (一级, 社区卫生服务中心), village clinics
(村卫生室) and many retail pharmacies. Hospitals employ insurance doctors (医保医师, ``D``),
pharmacies employ pharmacists (``Y``); they are the ones who bill. Nurses (医保护士, ``N``),
technicians (``HJ``) and pharmacy staff (``HY``) are listed too (:func:`staff_for`); in real data
they rarely bill, here they never do. Persons live in :mod:`yibao.synth.persons`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yibao.divisions import (
    PROVINCE_CODES,
    division_geometries,
    divisions_frame,
    random_points_in_division,
)
from yibao.synth import _catalog as cat
from yibao.synth._ids import lpad_digits
from yibao.synth._sampling import WeightedCSR

__all__ = [
    "Category",
    "Geography",
    "Group",
    "Institutions",
    "Pools",
    "Practitioners",
    "Staff",
    "geography",
    "institutions_for_scale",
    "practitioners_for",
    "staff_for",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

RESERVED_SERIAL = 90_000
"""Serials from here to 99999 are never given to generated institutions or practitioners."""


class Category(IntEnum):
    """Kinds of designated institutions."""

    TERTIARY_A = 0  # 三级甲等
    TERTIARY_B = 1  # 三级乙等
    SECONDARY = 2  # 二级: county people's hospitals, TCM hospitals, private hospitals
    PRIMARY_HOSPITAL = 3  # 一级: township hospitals (乡镇卫生院), small private hospitals
    COMMUNITY = 4  # 社区卫生服务中心
    VILLAGE = 5  # 村卫生室, clinics (诊所)
    PHARMACY = 6  # 定点零售药店


class Group(IntEnum):
    """Where patients go for a kind of care: the pools institutions are picked from."""

    PHARMACY = 0
    PRIMARY = 1
    SECONDARY = 2
    TERTIARY = 3


_GROUP_OF_CATEGORY = np.array([3, 3, 2, 1, 1, 1, 0], dtype=np.int64)
LEVEL_CLASS_OF_CATEGORY = np.array([2, 2, 1, 0, 0, 0, 3], dtype=np.int64)
"""Price class of a category: 0 primary, 1 secondary, 2 tertiary, 3 pharmacy."""


@dataclass(frozen=True)
class Geography:
    """Cities and counties of 沪苏浙皖 with rough population weights."""

    county_code: tuple[str, ...]
    county_name: tuple[str, ...]
    county_short: tuple[str, ...]
    county_city: I64
    county_is_district: BOOL
    county_weight: F64
    """Share of the Delta's population living in the county (sums to 1)."""
    county_lon: F64
    county_lat: F64
    city_code: tuple[str, ...]
    city_name: tuple[str, ...]
    city_province: I64
    city_weight: F64
    province_code: tuple[str, ...]
    province_name: tuple[str, ...]

    @property
    def county_province(self) -> I64:
        return self.city_province[self.county_city]

    def county_index(self, code: str) -> int:
        return self.county_code.index(code)

    def city_index(self, code: str) -> int:
        return self.city_code.index(code)

    def counties_of_city(self, city: int) -> I64:
        return np.flatnonzero(self.county_city == city)


def _short_name(name: str) -> str:
    if name.endswith("新区") and len(name) > 3:
        return name[:-2]
    if len(name) > 2 and name[-1] in "区县市":
        return name[:-1]
    return name


def geography() -> Geography:
    """The shipped divisions as arrays, with county weights from city populations."""
    frame = divisions_frame()
    cities = frame[frame["level"] == "city"].sort_values("code")
    counties = frame[frame["level"] == "county"].sort_values("code")
    city_code = tuple(str(c) for c in cities["code"])
    province_code = tuple(sorted(PROVINCE_CODES))
    city_province = np.array([province_code.index(c[:2] + "0000") for c in city_code])
    county_code = tuple(str(c) for c in counties["code"])
    county_city = np.array([city_code.index(c[:4] + "00") for c in county_code], dtype=np.int64)
    names = tuple(str(n) for n in counties["name"])
    is_district = np.array([n.endswith("区") for n in names])
    raw = np.asarray(counties["area_km2"], dtype=np.float64) ** 0.3 * np.where(is_district, 1.6, 1)
    city_pop = np.array([cat.CITY_POPULATION_10K[c] for c in city_code], dtype=np.float64)
    county_weight = np.empty(len(county_code))
    for ci in range(len(city_code)):
        members = county_city == ci
        county_weight[members] = raw[members] / raw[members].sum() * city_pop[ci]
    county_weight /= county_weight.sum()
    return Geography(
        county_code=county_code,
        county_name=names,
        county_short=tuple(_short_name(n) for n in names),
        county_city=county_city,
        county_is_district=is_district,
        county_weight=county_weight,
        county_lon=np.asarray(counties["lon"], dtype=np.float64),
        county_lat=np.asarray(counties["lat"], dtype=np.float64),
        city_code=city_code,
        city_name=tuple(str(n) for n in cities["name"]),
        city_province=city_province.astype(np.int64),
        city_weight=city_pop / city_pop.sum(),
        province_code=province_code,
        province_name=tuple(PROVINCE_CODES[p] for p in province_code),
    )


@dataclass(frozen=True)
class Institutions:
    """Designated medical institutions and pharmacies, one entry per ``fixmedins_code``."""

    code: pa.StringArray
    name: pa.StringArray
    addr: pa.StringArray
    hosp_lv: pa.StringArray
    """National level code (``02`` 三级甲等 ...), null for pharmacies."""
    category: I64
    county: I64
    lon: F64
    lat: F64
    weight: F64
    """Relative popularity within its pool."""
    serial: I64

    def __len__(self) -> int:
        return len(self.category)

    @property
    def fixmedins_type(self) -> I64:
        """1 medical institution, 2 retail pharmacy."""
        return np.where(self.category == Category.PHARMACY, 2, 1).astype(np.int64)

    @property
    def group(self) -> I64:
        return _GROUP_OF_CATEGORY[self.category]

    @property
    def level_class(self) -> I64:
        return LEVEL_CLASS_OF_CATEGORY[self.category]


def _allocate(total: int, weights: F64, minimum: int, rng: np.random.Generator, *,
              exact: bool = False) -> I64:
    """``minimum`` each, the rest drawn in proportion to ``weights`` (or rounded if ``exact``)."""
    counts = np.full(len(weights), minimum, dtype=np.int64)
    rest = max(0, total - int(counts.sum()))
    if rest and exact:
        share = rest * weights / weights.sum()
        extra = np.floor(share).astype(np.int64)
        extra[np.argsort(-(share - extra), kind="stable")[: rest - int(extra.sum())]] += 1
        counts += extra
    elif rest:
        counts += rng.multinomial(rest, weights / weights.sum())
    return counts


def institutions_for_scale(scale: int, geo: Geography, rng: np.random.Generator) -> Institutions:
    """Institutions sized for ``scale`` settlements: about 1,000 at least, 60,000 at most.

    Every county has at least one pharmacy and one primary clinic, every city a secondary and a
    三级甲等 hospital.
    """
    n_total = int(np.clip(scale // 40, 1000, 60_000))
    n_county = len(geo.county_code)
    n_city = len(geo.city_code)
    capital_bonus = np.array([5.0 if c == "310100" else 3.5 if c in cat.BIG_CITIES else 1.0
                              for c in geo.city_code])
    counts = np.zeros((n_county, len(Category)), dtype=np.int64)

    def by_city(n: int, bonus: F64, minimum: int, column: Category) -> None:
        per_city = _allocate(n, geo.city_weight * bonus, minimum, rng, exact=True)
        for ci in range(n_city):
            members = geo.counties_of_city(ci)
            w = geo.county_weight[members] * np.where(geo.county_is_district[members], 3.0, 1.0)
            counts[members, column] += rng.multinomial(per_city[ci], w / w.sum())

    by_city(int(np.clip(0.02 * n_total, 70, 450)), capital_bonus, 1, Category.TERTIARY_A)
    by_city(int(np.clip(0.012 * n_total, 10, 250)), capital_bonus, 0, Category.TERTIARY_B)
    by_city(int(np.clip(0.07 * n_total, 60, 2200)), np.ones(n_city), 1, Category.SECONDARY)
    rural = np.where(geo.county_is_district, 0.5, 1.5)
    urban = np.where(geo.county_is_district, 1.5, 0.6)
    counts[:, Category.PRIMARY_HOSPITAL] = _allocate(
        int(0.06 * n_total), geo.county_weight * rural, 0, rng)
    counts[:, Category.COMMUNITY] = _allocate(int(0.07 * n_total), geo.county_weight * urban, 0,
                                              rng)
    counts[:, Category.VILLAGE] = _allocate(int(0.17 * n_total), geo.county_weight * rural, 0, rng)
    no_primary = counts[:, Category.PRIMARY_HOSPITAL:Category.PHARMACY].sum(axis=1) == 0
    counts[no_primary & geo.county_is_district, Category.COMMUNITY] += 1
    counts[no_primary & ~geo.county_is_district, Category.VILLAGE] += 1
    n_pharmacy = max(n_county, n_total - int(counts.sum()))
    counts[:, Category.PHARMACY] = _allocate(n_pharmacy, geo.county_weight, 1, rng)

    county_parts: list[I64] = []
    category_parts: list[I64] = []
    lon_parts: list[F64] = []
    lat_parts: list[F64] = []
    serial_parts: list[I64] = []
    for k, code in enumerate(geo.county_code):
        row = counts[k]
        n = int(row.sum())
        lon, lat = _points_in(code, n, rng)
        county_parts.append(np.full(n, k, dtype=np.int64))
        category_parts.append(np.repeat(np.arange(len(Category), dtype=np.int64), row))
        lon_parts.append(lon)
        lat_parts.append(lat)
        serial_parts.append(rng.choice(RESERVED_SERIAL - 1, size=n, replace=False) + 1)
    county = np.concatenate(county_parts)
    category = np.concatenate(category_parts)
    serial = np.concatenate(serial_parts).astype(np.int64)
    n = len(county)
    letter = np.where(category == Category.PHARMACY, "P", "H")
    county_codes = np.array(geo.county_code)[county]
    code = pc.binary_join_element_wise(
        pa.array(letter), pa.array(county_codes), lpad_digits(serial, 5), "")
    names, addrs = _institution_names(geo, county, category, rng)
    levels = _hospital_levels(category, rng)
    factor = np.array([1.6, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])[category]
    weight = rng.lognormal(0.0, 0.6, n) * factor
    return Institutions(
        code=code, name=names, addr=addrs, hosp_lv=levels, category=category, county=county,
        lon=np.concatenate(lon_parts), lat=np.concatenate(lat_parts), weight=weight,
        serial=serial,
    )


def _points_in(code: str, n: int, rng: np.random.Generator) -> tuple[F64, F64]:
    """``n`` points in the county, rounded to 6 decimals (about 0.1 m) and still inside it."""
    import shapely

    geom = division_geometries("county")[code]
    lon, lat = random_points_in_division(code, n, rng)
    lon, lat = np.round(lon, 6), np.round(lat, 6)
    outside = ~shapely.contains_xy(geom, lon, lat)
    while outside.any():
        k = int(outside.sum())
        new_lon, new_lat = random_points_in_division(code, k, rng)
        lon[outside], lat[outside] = np.round(new_lon, 6), np.round(new_lat, 6)
        outside = ~shapely.contains_xy(geom, lon, lat)
    return lon, lat


def _hospital_levels(category: I64, rng: np.random.Generator) -> pa.StringArray:
    u = rng.random(len(category))
    options: dict[int, tuple[tuple[str, float], ...]] = {
        Category.TERTIARY_A: (("02", 1.0),),
        Category.TERTIARY_B: (("03", 1.0),),
        Category.SECONDARY: (("05", 0.7), ("06", 0.95), ("07", 1.0)),
        Category.PRIMARY_HOSPITAL: (("08", 0.5), ("09", 0.8), ("10", 0.9), ("11", 1.0)),
        Category.COMMUNITY: (("08", 0.6), ("11", 1.0)),
        Category.VILLAGE: (("11", 1.0),),
    }
    out: list[str | None] = []
    for c, x in zip(category.tolist(), u.tolist(), strict=True):
        level = None
        for lv, upto in options.get(c, ()):
            if x < upto:
                level = lv
                break
        out.append(level)
    return pa.array(out, type=pa.string())


def _place(rng: np.random.Generator, suffix: str) -> str:
    a = cat.PLACE_FIRST[int(rng.integers(len(cat.PLACE_FIRST)))]
    b = cat.PLACE_SECOND[int(rng.integers(len(cat.PLACE_SECOND)))]
    return a + b + suffix


def _institution_names(
    geo: Geography, county: I64, category: I64, rng: np.random.Generator
) -> tuple[pa.StringArray, pa.StringArray]:
    names: list[str] = []
    addrs: list[str] = []
    used: set[str] = set()
    words = cat.PRIVATE_HOSPITAL_WORDS
    seen_city: dict[int, int] = {}
    seen_county: dict[tuple[int, int], int] = {}
    for k, c in zip(county.tolist(), category.tolist(), strict=True):
        ci = int(geo.county_city[k])
        city = geo.city_name[ci]
        cname = geo.county_name[k]
        short = geo.county_short[k]
        nth_key = (k, c)
        nth = seen_county.get(nth_key, 0)
        seen_county[nth_key] = nth + 1
        if c in (Category.TERTIARY_A, Category.TERTIARY_B):
            j = seen_city.get(ci, 0)
            seen_city[ci] = j + 1
            if j < len(cat.CITY_HOSPITAL_NAMES):
                name = city + cat.CITY_HOSPITAL_NAMES[j]
            else:
                name = f"{city}第{j - len(cat.CITY_HOSPITAL_NAMES) + 7}人民医院"
        elif c == Category.SECONDARY:
            fixed = ("人民医院", "中医院", "第二人民医院", "妇幼保健院")
            # the county's first is its people's hospital; private hospitals are common too
            if nth == 0 or (nth < len(fixed) and rng.random() < 0.65):
                name = cname + fixed[nth]
            else:
                word = words[int(rng.integers(len(words)))]
                name = f"{short}{word}医院"
        elif c == Category.PRIMARY_HOSPITAL:
            if geo.county_is_district[k] or rng.random() < 0.3:
                word = words[int(rng.integers(len(words)))]
                name = f"{short}{word}{'医院' if rng.random() < 0.6 else '门诊部'}"
            else:
                name = f"{short}{_place(rng, '镇')}卫生院"
        elif c == Category.COMMUNITY:
            name = f"{cname}{_place(rng, '街道')}社区卫生服务中心"
        elif c == Category.VILLAGE:
            if geo.county_is_district[k]:
                name = f"{short}{_place(rng, '')}诊所"
            else:
                name = f"{short}{_place(rng, '镇')}{_place(rng, '村')}卫生室"
        else:
            brand = cat.PHARMACY_BRANDS[int(rng.integers(len(cat.PHARMACY_BRANDS)))]
            road = cat.ROADS[int(rng.integers(len(cat.ROADS)))]
            name = f"{brand}大药房({short}{road}店)"
        base = name
        suffix = 2
        while name in used:
            if c == Category.PHARMACY:
                name = f"{base[:-2]}{suffix}{base[-2:]}"
            else:
                name = f"{base}{suffix}部"
            suffix += 1
        used.add(name)
        names.append(name)
        province = geo.province_name[int(geo.city_province[ci])]
        prefix = city if province == city else province + city
        road = cat.ROADS[int(rng.integers(len(cat.ROADS)))]
        addrs.append(f"{prefix}{cname}{road}{int(rng.integers(1, 999))}号")
    return pa.array(names, type=pa.string()), pa.array(addrs, type=pa.string())


@dataclass(frozen=True)
class Pools:
    """Institutions grouped for picking: per county and per city, for each :class:`Group`.

    A county with no institution of a group falls back to its city's pool; tertiary hospitals
    are always picked from the city's pool.
    """

    csr: WeightedCSR
    county_pool: I64
    """(county, group) -> pool id."""
    city_pool: I64
    """(city, group) -> pool id."""

    @classmethod
    def build(cls, inst: Institutions, geo: Geography) -> Pools:
        group = inst.group
        city = geo.county_city[inst.county]
        weight = inst.weight.tolist()
        n_groups = len(Group)
        lists: list[list[tuple[int, float]]] = []
        city_pool = np.full((len(geo.city_code), n_groups), -1, dtype=np.int64)
        county_pool = np.full((len(geo.county_code), n_groups), -1, dtype=np.int64)
        by_city: dict[tuple[int, int], list[int]] = {}
        by_county: dict[tuple[int, int], list[int]] = {}
        for i, (ci, k, g) in enumerate(zip(city.tolist(), inst.county.tolist(), group.tolist(),
                                           strict=True)):
            by_city.setdefault((ci, g), []).append(i)
            by_county.setdefault((k, g), []).append(i)
        for ci in range(len(geo.city_code)):
            for g in range(n_groups):
                members = by_city.get((ci, g))
                if not members:
                    raise RuntimeError(f"city {geo.city_code[ci]} has no institution of group {g}")
                city_pool[ci, g] = len(lists)
                lists.append([(i, weight[i]) for i in members])
        for k in range(len(geo.county_code)):
            for g in range(n_groups):
                members = by_county.get((k, g))
                if members and g != Group.TERTIARY:
                    county_pool[k, g] = len(lists)
                    lists.append([(i, weight[i]) for i in members])
                else:
                    county_pool[k, g] = city_pool[geo.county_city[k], g]
        return cls(WeightedCSR.from_lists(lists), county_pool, city_pool)

    def pick(self, pool: I64, u: F64) -> I64:
        """One institution per pool id, weighted by popularity, using uniforms ``u``."""
        return self.csr.pick(pool, u)


@dataclass(frozen=True)
class Practitioners:
    """Insurance doctors (``D``, type 1) and pharmacists (``Y``, type 2), grouped by institution."""

    code: pa.StringArray
    name: pa.StringArray
    inst: I64
    dr_type: I64
    inst_start: I64
    """First practitioner of each institution (practitioners are stored by institution)."""
    inst_count: I64
    county_doctors: I64
    """Doctors grouped by the county of their institution (CSR with ``county_start``)."""
    county_start: I64
    serial: I64
    """The code's serial (1 to 89,999, unique within the county); the code is the letter, the
    county and the serial."""

    def __len__(self) -> int:
        return len(self.inst)

    def pick_at(self, inst: I64, u: F64) -> I64:
        """A practitioner of each institution (uniform), or -1 where it has none."""
        count = self.inst_count[inst]
        pos = self.inst_start[inst] + np.minimum((u * count).astype(np.int64), count - 1)
        return np.where(count > 0, pos, -1).astype(np.int64)

    def pick_in_county(self, county: I64, u: F64) -> I64:
        """A hospital doctor of each county (uniform), or -1 where it has none."""
        lo = self.county_start[county]
        count = self.county_start[county + 1] - lo
        pos = lo + np.minimum((u * count).astype(np.int64), np.maximum(count - 1, 0))
        safe = np.minimum(pos, len(self.county_doctors) - 1)
        return np.where(count > 0, self.county_doctors[safe], -1).astype(np.int64)


_DOCTORS_PER_CATEGORY = np.array([40.0, 20.0, 12.0, 4.0, 5.0, 1.2, 0.0])
_MIN_DOCTORS = np.array([5, 3, 3, 1, 1, 1, 0])


def practitioners_for(
    inst: Institutions, geo: Geography, scale: int, rng: np.random.Generator
) -> Practitioners:
    """Doctors for every hospital and clinic (more in busier sets), 1-3 pharmacists per pharmacy."""
    from yibao.synth.persons import random_names

    n_inst = len(inst)
    factor = float(np.clip(scale / n_inst / 40.0, 0.25, 4.0))
    doctors = np.maximum(
        _MIN_DOCTORS[inst.category],
        np.round(_DOCTORS_PER_CATEGORY[inst.category] * factor * rng.lognormal(0, 0.3, n_inst)),
    ).astype(np.int64)
    pharmacy = inst.category == Category.PHARMACY
    pharmacists = 1 + (rng.random(n_inst) < 0.5) + (rng.random(n_inst) < 0.15)
    count = np.where(pharmacy, pharmacists, doctors).astype(np.int64)
    total = int(count.sum())
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    owner = np.repeat(np.arange(n_inst, dtype=np.int64), count)
    dr_type = np.where(pharmacy[owner], 2, 1).astype(np.int64)
    county = inst.county[owner]
    serial = np.zeros(total, dtype=np.int64)
    order = np.argsort(county, kind="stable")
    bounds = np.searchsorted(county[order], np.arange(len(geo.county_code) + 1))
    for k in range(len(geo.county_code)):
        lo, hi = int(bounds[k]), int(bounds[k + 1])
        if hi > lo:
            serial[order[lo:hi]] = rng.choice(RESERVED_SERIAL - 1, size=hi - lo, replace=False) + 1
    letter = np.where(dr_type == 1, "D", "Y")
    code = pc.binary_join_element_wise(
        pa.array(letter), pa.array(np.array(geo.county_code)[county]), lpad_digits(serial, 5), "")
    names = random_names(total, rng, birth_year=rng.integers(1960, 1998, total))
    is_doctor = dr_type == 1
    doc_idx = np.flatnonzero(is_doctor)
    doc_order = doc_idx[np.argsort(county[doc_idx], kind="stable")]
    county_start = np.searchsorted(county[doc_order], np.arange(len(geo.county_code) + 1))
    return Practitioners(
        code=code, name=names, inst=owner, dr_type=dr_type, inst_start=start,
        inst_count=count, county_doctors=doc_order.astype(np.int64),
        county_start=county_start.astype(np.int64), serial=serial,
    )


@dataclass(frozen=True)
class Staff:
    """Staff with insurance codes who do not bill here: nurses (``N``, ``dr_type`` 3),
    technicians (``HJ``, 4) and pharmacy staff (``HY``, 2), sorted by institution."""

    prefix: tuple[str, ...]
    """Code prefix of each kind (index = ``kind``)."""
    kind: I64
    inst: I64
    serial: I64
    """Unique within (county, prefix): 1 to 89,999."""
    name: pa.StringArray

    def __len__(self) -> int:
        return len(self.inst)

    @property
    def dr_type(self) -> I64:
        out: I64 = np.array([3, 4, 2], dtype=np.int64)[self.kind]
        return out


_NURSES_PER_DOCTOR = np.array([1.2, 1.1, 1.0, 0.8, 0.7, 0.3, 0.0])
_TECHNICIANS_PER_DOCTOR = np.array([0.15, 0.12, 0.1, 0.1, 0.08, 0.0, 0.0])
_PHARMACY_STAFF_PER_DOCTOR = np.array([0.06, 0.05, 0.05, 0.05, 0.04, 0.0, 0.0])


def staff_for(inst: Institutions, prac: Practitioners, geo: Geography,
              rng: np.random.Generator) -> Staff:
    """Nurses and technicians in proportion to each institution's doctors (a village clinic
    has a nurse now and then), pharmacy staff at hospital pharmacies and 0-2 per pharmacy."""
    from yibao.synth.persons import random_names

    doctors = prac.inst_count.astype(np.float64)
    cat_ = inst.category
    pharmacy = cat_ == Category.PHARMACY
    jitter = rng.lognormal(0.0, 0.25, (3, len(inst)))
    nurses = rng.poisson(_NURSES_PER_DOCTOR[cat_] * doctors * jitter[0])
    technicians = rng.poisson(_TECHNICIANS_PER_DOCTOR[cat_] * doctors * jitter[1])
    counter = rng.random(len(inst))
    shop_staff = np.where(pharmacy, (counter < 0.5).astype(np.int64) + (counter < 0.15), 0)
    pharmacy_staff = np.where(pharmacy, shop_staff,
                              rng.poisson(_PHARMACY_STAFF_PER_DOCTOR[cat_] * doctors * jitter[2]))
    counts = np.stack([nurses, technicians, pharmacy_staff]).astype(np.int64)  # (kind, inst)
    per_inst = counts.T.reshape(-1)
    owner = np.repeat(np.repeat(np.arange(len(inst), dtype=np.int64), 3), per_inst)
    kind = np.repeat(np.tile(np.arange(3, dtype=np.int64), len(inst)), per_inst)
    county = inst.county[owner]
    serial = np.zeros(len(owner), dtype=np.int64)
    group = county * 3 + kind
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(len(geo.county_code) * 3 + 1))
    for g in np.flatnonzero(np.diff(bounds)):
        lo, hi = int(bounds[g]), int(bounds[g + 1])
        serial[order[lo:hi]] = rng.choice(RESERVED_SERIAL - 1, size=hi - lo, replace=False) + 1
    names = random_names(len(owner), rng, birth_year=rng.integers(1965, 2002, len(owner)),
                         sex=np.where((kind == 0) & (rng.random(len(owner)) < 0.92), 2,
                                      rng.integers(1, 3, len(owner))))
    return Staff(prefix=("N", "HJ", "HY"), kind=kind, inst=owner, serial=serial, name=names)
