"""Ordinary settlements (结算) and their fee details: the honest bulk of the data.

The year is cut into chunks of consecutive days (about 200,000 settlements each) generated one
after another, so memory stays bounded at any scale. In a chunk, visits are drawn for each kind
of care (outpatient 11, pharmacy 41, emergency 13, inpatient 21, TCM 16, day surgery 28,
maternity 51/52) with seasonal, weekday and opening-hour rhythms; persons by age-dependent
activity; institutions near home (favourite pharmacy and clinic, the county's and city's
hospitals), with a few percent travelling to the big hospitals of Shanghai, Hangzhou, Nanjing and
Hefei. Chronic patients (门诊慢特病, 14) come monthly to the same institution and doctor. A small
share of settlements is reversed (冲销). Nobody is in two places too far apart for the time
between their settlements, and nobody settles elsewhere during their own ordinary hospital stay.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from yibao.geo import haversine_km
from yibao.synth import _catalog as cat
from yibao.synth._batch import Batch, TraceAllocator, split_payments
from yibao.synth._calendar import (
    DAYS,
    Profile,
    day_of_week,
    day_weights,
    sample_days,
    sample_seconds_of_day,
)
from yibao.synth._fees import SETTING_OF_MED_TYPE, Setting, catalog, explicit_lines, ordinary_lines
from yibao.synth._sampling import weighted_sample_without_replacement
from yibao.synth.persons import Persons
from yibao.synth.population import Category, Geography, Group, Institutions, Pools, Practitioners

__all__ = [
    "CHUNK_ROWS",
    "Background",
    "ChronicPlan",
    "ChunkPlan",
    "World",
    "chronic_plan",
    "chunk_plan",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]

CHUNK_ROWS = 200_000
FREE_MIX: dict[int, float] = {11: 0.44, 41: 0.40, 13: 0.045, 21: 0.035, 16: 0.03, 28: 0.004,
                              51: 0.006, 52: 0.003}
"""Shares of the kinds of ordinary (non-chronic) settlements."""
CHRONIC_SHARE = 0.08
REVERSAL_SHARE = 0.004
MAX_SPEED_KMH = 80.0
"""Ordinary persons never move faster than this (straight line) between two settlements."""

_PROFILE_OF = {11: Profile.HOSPITAL, 41: Profile.PHARMACY, 13: Profile.EMERGENCY,
               21: Profile.DISCHARGE, 16: Profile.HOSPITAL, 28: Profile.DISCHARGE,
               51: Profile.HOSPITAL, 52: Profile.DISCHARGE}
_PROFILE_LUT = np.zeros(100, dtype=np.int64)
_SETTING_LUT = np.zeros(100, dtype=np.int64)
for _mt, _profile in _PROFILE_OF.items():
    _PROFILE_LUT[_mt] = _profile
for _mt, _setting in SETTING_OF_MED_TYPE.items():
    _SETTING_LUT[_mt] = _setting
# province (sorted codes 31, 32, 33, 34) -> big-city choice (Shanghai, Hangzhou, Nanjing, Hefei)
_BIG_CITY_BY_PROVINCE = np.array([[1.0, 0.0, 0.0, 0.0], [0.45, 0.05, 0.45, 0.05],
                                  [0.35, 0.60, 0.03, 0.02], [0.30, 0.05, 0.15, 0.50]])
# (cumulative threshold, target) per kind of care; targets: fav_ph, fav_prim, county:g, city:g,
# big, dest:g
_ROUTES: dict[int, tuple[tuple[float, str], ...]] = {
    41: ((0.62, "fav_ph"), (0.88, "county:0"), (0.96, "city:0"), (1.0, "dest:0")),
    11: ((0.40, "fav_prim"), (0.55, "county:1"), (0.75, "county:2"), (0.93, "city:3"),
         (0.975, "big"), (1.0, "dest:2")),
    13: ((0.50, "county:2"), (0.95, "city:3"), (1.0, "big")),
    16: ((0.40, "county:1"), (0.75, "county:2"), (1.0, "city:3")),
    21: ((0.45, "county:2"), (0.87, "city:3"), (0.97, "big"), (1.0, "dest:2")),
    28: ((0.70, "city:3"), (1.0, "big")),
    51: ((0.50, "county:2"), (1.0, "city:3")),
    52: ((0.50, "county:2"), (1.0, "city:3")),
}


@dataclass(frozen=True)
class World:
    """Everything rows refer to: places, institutions, practitioners and persons."""

    geo: Geography
    inst: Institutions
    pools: Pools
    prac: Practitioners
    persons: Persons


def _person_weights(world: World, rng: np.random.Generator) -> dict[str, F64]:
    p = world.persons
    age = p.age
    base = rng.gamma(0.7, 1 / 0.7, len(age))
    bands = [age < 7, age < 18, age < 40, age < 60, age < 75]
    op = np.select(bands, [2.0, 0.9, 0.6, 0.9, 1.6], 2.0)
    ph = np.select([age < 14, age < 40, age < 60], [0.4, 0.8, 1.1], 1.4) * np.where(
        p.insutype == 390, 0.8, 1.6)
    er = np.select([age < 7, age < 60], [1.4, 1.0], 1.3)
    ip = np.select([age < 7, age < 18, age < 45, age < 60, age < 75],
                   [1.0, 0.3, 0.4, 0.9, 2.0], 3.5)
    mat = ((p.gend == 2) & (age >= 21) & (age <= 42)).astype(np.float64)
    return {k: np.cumsum(base * w) for k, w in
            (("op", op), ("ph", ph), ("er", er), ("ip", ip), ("mat", mat))}


_WEIGHT_OF = {11: "op", 16: "op", 41: "ph", 13: "er", 21: "ip", 28: "ip", 51: "mat", 52: "mat"}


@dataclass(frozen=True)
class ChronicPlan:
    """Monthly visits of chronic patients (门诊慢特病), sorted by time."""

    person: I64
    inst: I64
    dr: I64
    dise: I64
    time: I64
    patient: I64
    lab: BOOL
    regimen_item: I64
    """(patients, 3) drug items of each patient's regimen, -1 for none."""
    regimen_cnt: I64

    def __len__(self) -> int:
        return len(self.person)


_MONTH_START = np.array([0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366])


def chronic_plan(world: World, n_patients: int, excluded: BOOL,
                 rng: np.random.Generator) -> ChronicPlan:
    """``n_patients`` chronic patients (35+, mostly elderly) and their monthly visits."""
    p = world.persons
    c = catalog()
    age = p.age
    w = np.select([age < 35, age < 45, age < 55, age < 65, age < 75], [0, 0.03, 0.08, 0.18, 0.3],
                  0.38) * ~excluded
    who = weighted_sample_without_replacement(w, n_patients, rng)
    n = len(who)
    setting = np.full(n, Setting.CHRONIC, dtype=np.int64)
    dise = c.diag_pools.pick(c.diagnosis_pool(setting, age[who], np.full(n, 200)), rng.random(n))
    home = p.home_county[who]
    city = world.geo.county_city[home]
    u = rng.random(n)
    secondary = world.pools.pick(world.pools.county_pool[home, Group.SECONDARY], rng.random(n))
    tertiary = world.pools.pick(world.pools.city_pool[city, Group.TERTIARY], rng.random(n))
    inst = np.where(u < 0.35, p.fav_primary[who], np.where(u < 0.8, secondary, tertiary))
    dr = world.prac.pick_at(inst, rng.random(n))
    group = c.diag_drugs[dise]
    regimen = np.full((n, 3), -1, dtype=np.int64)
    size = rng.integers(1, 4, n)
    for j in range(3):
        pick = c.drug_pools.pick(2 * group, rng.random(n))
        fresh = (j < size) & ~(regimen == pick[:, None]).any(axis=1)
        regimen[:, j] = np.where(fresh, pick, -1)
    pack = c.pack[np.maximum(regimen, 0)]
    boxes = np.where(pack >= 28, rng.integers(1, 3, (n, 3)), rng.integers(2, 5, (n, 3)))
    boxes = np.where(c.price[np.maximum(regimen, 0)] > 20_000, 1, boxes)
    pref = rng.integers(0, 28, n)
    profile = np.where(world.inst.category[inst] >= Category.PRIMARY_HOSPITAL, Profile.PRIMARY,
                       Profile.HOSPITAL)
    months = np.arange(12)
    pat = np.repeat(np.arange(n), 12)
    month = np.tile(months, n)
    skip = rng.random(len(pat)) < 0.12
    jitter = rng.integers(-3, 4, len(pat))
    length = _MONTH_START[month + 1] - _MONTH_START[month]
    day = _MONTH_START[month] + np.clip(pref[pat] + jitter, 0, length - 1)
    day = np.where(day_of_week(day) == 6, day - 1, day)
    festival = (day >= 39) & (day <= 47)  # 9-17 February: visits move before the holiday
    day = np.where(festival, 35 + (day % 3), day)
    pat, day, month = pat[~skip], day[~skip], month[~skip]
    sec = np.where(profile[pat] == Profile.PRIMARY,
                   sample_seconds_of_day(Profile.PRIMARY, len(pat), rng),
                   sample_seconds_of_day(Profile.HOSPITAL, len(pat), rng))
    time = day * 86_400 + sec
    order = np.argsort(time, kind="stable")
    pat = pat[order]
    return ChronicPlan(
        person=who[pat], inst=inst[pat], dr=dr[pat], dise=dise[pat], time=time[order],
        patient=pat, lab=(month[order] % 3 == 0) & (rng.random(len(pat)) < 0.7),
        regimen_item=regimen, regimen_cnt=boxes,
    )


@dataclass(frozen=True)
class ChunkPlan:
    """Day ranges of the chunks and how many ordinary rows and reversals each holds."""

    day_lo: I64
    day_hi: I64
    free: I64
    reversals: I64

    def __len__(self) -> int:
        return len(self.day_lo)


def _split_evenly(total: int, weights: F64) -> I64:
    exact = total * weights / weights.sum()
    counts = np.floor(exact).astype(np.int64)
    rest = total - int(counts.sum())
    if rest:
        counts[np.argsort(-(exact - counts), kind="stable")[:rest]] += 1
    out: I64 = counts.astype(np.int64)
    return out


def chunk_plan(total_rows: int, free: int, reversals: int) -> ChunkPlan:
    """Cut the year into chunks of about :data:`CHUNK_ROWS` settlements."""
    n_chunks = max(1, -(-total_rows // CHUNK_ROWS))
    mix = np.zeros(DAYS)
    for mt, share in FREE_MIX.items():
        mix += share * day_weights(_PROFILE_OF[mt])
    cum = np.cumsum(mix) / np.sum(mix)
    cuts = np.searchsorted(cum, np.arange(1, n_chunks) / n_chunks) + 1
    bounds = np.unique(np.clip(np.concatenate([[0], cuts, [DAYS]]), 0, DAYS))
    lo, hi = bounds[:-1].astype(np.int64), bounds[1:].astype(np.int64)
    mass = np.array([mix[a:b].sum() for a, b in zip(lo, hi, strict=True)])
    free_c = _split_evenly(free, mass)
    return ChunkPlan(lo, hi, free_c, _split_evenly(reversals, free_c.astype(np.float64) + 1e-9))


def with_reversals(batch: Batch, rows: I64, times: I64) -> Batch:
    """``batch`` then reversals (冲销) of its ``rows`` at ``times``: amounts and counts negated."""
    k = len(rows)
    if not k:
        return batch
    new_row = np.full(len(batch), -1, dtype=np.int64)
    new_row[rows] = np.arange(k)
    line_pick = np.flatnonzero(new_row[batch.lines.row] >= 0)
    line_pick = line_pick[np.argsort(new_row[batch.lines.row[line_pick]], kind="stable")]
    lines = batch.lines.take(line_pick)
    none = np.full(k, -1, dtype=np.int64)
    copied = {name: getattr(batch, name)[rows] for name in
              ("person", "inst", "med_type", "begn", "end", "dise", "dr", "scen")}
    rev = Batch(
        **copied, time=np.asarray(times, dtype=np.int64), fund=-batch.fund[rows],
        hifp=-batch.hifp[rows], acct=-batch.acct[rows], cash=-batch.cash[rows], orig=none,
        orig_plant=none, plant=none,
        lines=replace(lines, row=new_row[lines.row], cnt=-lines.cnt),
    )
    combined = Batch.concat([batch, rev])
    orig = combined.orig.copy()
    orig[len(batch):] = rows  # link after concat, which would shift in-batch links
    return replace(combined, orig=orig)


class Background:
    """Generates the ordinary rows of each chunk."""

    def __init__(self, world: World, chronic: ChronicPlan, plan: ChunkPlan,
                 seed: np.random.SeedSequence, alloc: TraceAllocator) -> None:
        self.world = world
        self.chronic = chronic
        self.plan = plan
        self.seed = seed
        self.alloc = alloc
        self.weights = _person_weights(world, np.random.default_rng(seed.spawn(1)[0]))
        self._chunk_seeds = seed.spawn(len(plan))

    # -- picking -------------------------------------------------------------------------
    def _persons(self, med_type: I64, rng: np.random.Generator) -> I64:
        out = np.empty(len(med_type), dtype=np.int64)
        for mt, key in _WEIGHT_OF.items():
            mask = med_type == mt
            k = int(mask.sum())
            if k:
                cum = self.weights[key]
                out[mask] = np.minimum(np.searchsorted(cum, rng.random(k) * cum[-1], side="right"),
                                       len(cum) - 1)
        return out

    def _institutions(self, med_type: I64, person: I64, rng: np.random.Generator) -> I64:
        w = self.world
        n = len(person)
        home = w.persons.home_county[person]
        city = w.geo.county_city[home]
        province = w.geo.city_province[city]
        branch = rng.random(n)
        u = rng.random(n)
        dest = rng.choice(len(w.geo.county_code), size=n, p=w.geo.county_weight)
        cum_big = np.cumsum(_BIG_CITY_BY_PROVINCE[province], axis=1)
        big = (rng.random(n)[:, None] > cum_big).sum(axis=1)
        big_city = np.array([w.geo.city_index(c) for c in cat.BIG_CITIES])[np.minimum(big, 3)]
        pool = np.full(n, -1, dtype=np.int64)
        direct = np.full(n, -1, dtype=np.int64)
        for mt, routes in _ROUTES.items():
            mask = med_type == mt
            if not mask.any():
                continue
            lower = 0.0
            for upper, target in routes:
                sel = mask & (branch >= lower) & (branch < upper)
                lower = upper
                if target == "fav_ph":
                    direct[sel] = w.persons.fav_pharmacy[person[sel]]
                elif target == "fav_prim":
                    direct[sel] = w.persons.fav_primary[person[sel]]
                elif target == "big":
                    pool[sel] = w.pools.city_pool[big_city[sel], Group.TERTIARY]
                else:
                    scope, g = target.split(":")
                    if scope == "county":
                        pool[sel] = w.pools.county_pool[home[sel], int(g)]
                    elif scope == "city":
                        pool[sel] = w.pools.city_pool[city[sel], int(g)]
                    else:
                        pool[sel] = w.pools.county_pool[dest[sel], int(g)]
        picked = w.pools.pick(np.maximum(pool, 0), u)
        return np.where(direct >= 0, direct, picked)

    def _clinical(self, med_type: I64, person: I64, day: I64, rng: np.random.Generator
                  ) -> tuple[I64, I64]:
        """Latent diagnosis and stay length (days) of visits, from the person's age and day."""
        cat_ = catalog()
        n = len(med_type)
        setting = _SETTING_LUT[med_type]
        latent = cat_.diag_pools.pick(
            cat_.diagnosis_pool(setting, self.world.persons.age[person], day), rng.random(n))
        stay_days = rng.integers(cat_.stay_lo[latent], cat_.stay_hi[latent] + 1)
        stay = np.where(np.isin(med_type, (21, 52)), np.maximum(stay_days, 1), 0)
        stay = np.where(med_type == 28, rng.integers(0, 2, n), stay)
        return latent, stay.astype(np.int64)

    def _conflicts(self, person: I64, inst: I64, time: I64, stay: I64, fixed: Batch) -> I64:
        """Ordinary rows to re-draw: they would make someone travel implausibly fast, or be
        elsewhere during their own ordinary hospital stay."""
        w = self.world
        n = len(person)
        all_person = np.concatenate([person, fixed.person])
        all_inst = np.concatenate([inst, fixed.inst])
        all_time = np.concatenate([time, fixed.time])
        movable = np.concatenate([np.ones(n, dtype=bool), np.zeros(len(fixed), dtype=bool)])
        order = np.lexsort((all_time, all_person))
        p, t, i = all_person[order], all_time[order], all_inst[order]
        same = (p[1:] == p[:-1]) & (i[1:] != i[:-1])
        gap_h = (t[1:] - t[:-1]) / 3600.0
        dist = haversine_km(w.inst.lon[i[1:]], w.inst.lat[i[1:]], w.inst.lon[i[:-1]],
                            w.inst.lat[i[:-1]])
        bad = same & (dist > 5.0) & (gap_h < 24) & (dist > MAX_SPEED_KMH * gap_h)
        a, b = order[:-1][bad], order[1:][bad]
        picks = [np.where(movable[b], b, np.where(movable[a], a, -1))]
        stays = np.flatnonzero(stay > 0)
        if len(stays):
            key = p * (1 << 26) + t
            end = time[stays] // 86_400
            lo = np.searchsorted(key, person[stays] * (1 << 26) + (end - stay[stays] + 1) * 86_400)
            hi = np.searchsorted(key, person[stays] * (1 << 26) + end * 86_400)
            counts = hi - lo
            holder = np.repeat(stays, counts)
            inside = order[np.repeat(lo - np.cumsum(counts) + counts, counts)
                           + np.arange(int(counts.sum()))]
            elsewhere = all_inst[inside] != inst[holder]
            holder, inside = holder[elsewhere], inside[elsewhere]
            picks.append(np.where(movable[inside], inside, holder))
        pick = np.concatenate(picks)
        return np.unique(pick[pick >= 0])

    def _fix_conflicts(self, med_type: I64, person: I64, inst: I64, time: I64, fixed: Batch,
                       rng: np.random.Generator) -> tuple[I64, I64, I64, I64]:
        """Re-draw person and institution of conflicting ordinary rows (a few rounds)."""
        day = time // 86_400
        latent, stay = self._clinical(med_type, person, day, rng)
        for _ in range(8):
            redo = self._conflicts(person, inst, time, stay, fixed)
            if not len(redo):
                break
            person, inst = person.copy(), inst.copy()
            person[redo] = self._persons(med_type[redo], rng)
            inst[redo] = self._institutions(med_type[redo], person[redo], rng)
            latent[redo], stay[redo] = self._clinical(med_type[redo], person[redo], day[redo],
                                                      rng)
        return person, inst, latent, stay

    # -- rows ----------------------------------------------------------------------------
    def _free_rows(self, c: int, fixed: Batch, rng: np.random.Generator) -> Batch:
        w = self.world
        n = int(self.plan.free[c])
        lo, hi = int(self.plan.day_lo[c]), int(self.plan.day_hi[c])
        kinds = np.array(list(FREE_MIX))
        shares = np.array(list(FREE_MIX.values()))
        med_type = kinds[rng.choice(len(kinds), size=n, p=shares / shares.sum())]
        day = np.empty(n, dtype=np.int64)
        for mt in FREE_MIX:
            mask = med_type == mt
            day[mask] = sample_days(_PROFILE_OF[mt], int(mask.sum()), rng, lo, hi)
        person = self._persons(med_type, rng)
        inst = self._institutions(med_type, person, rng)
        group = w.inst.group[inst]
        profile = _PROFILE_LUT[med_type]
        profile = np.where((profile == Profile.HOSPITAL) & (group == Group.PRIMARY),
                           Profile.PRIMARY, profile)
        sec = np.zeros(n, dtype=np.int64)
        for pr in Profile:
            mask = profile == pr
            sec[mask] = sample_seconds_of_day(pr, int(mask.sum()), rng)
        time = day * 86_400 + sec
        person, inst, latent, stay = self._fix_conflicts(med_type, person, inst, time, fixed,
                                                         rng)
        setting = _SETTING_LUT[med_type]
        age = w.persons.age[person]
        pharmacy = med_type == 41
        dise = np.where(pharmacy & (rng.random(n) > 0.45), -1, latent)
        u = rng.random(n)
        dr = np.where(pharmacy,
                      np.where(u < 0.35, w.prac.pick_in_county(w.inst.county[inst], rng.random(n)),
                               -1),
                      w.prac.pick_at(inst, rng.random(n)))
        level = w.inst.level_class[inst]
        lines = ordinary_lines(setting, latent, level, stay, age < 15, dr, rng, self.alloc)
        none = np.full(n, -1, dtype=np.int64)
        batch = Batch(
            person=person, inst=inst, med_type=med_type, time=time, begn=day - stay, end=day,
            dise=dise, dr=dr, fund=none, hifp=none, acct=none, cash=none, orig=none,
            orig_plant=none, plant=none, scen=none, lines=lines,
        )
        return self._pay(batch, rng)

    def _pay(self, batch: Batch, rng: np.random.Generator) -> Batch:
        w = self.world
        fund, hifp, acct, cash = split_payments(
            batch.medfee, batch.med_type, w.persons.insutype[batch.person],
            w.inst.level_class[batch.inst], rng)
        return replace(batch, fund=fund, hifp=hifp, acct=acct, cash=cash)

    def _chronic_rows(self, c: int, rng: np.random.Generator) -> Batch:
        ch = self.chronic
        lo = int(np.searchsorted(ch.time, self.plan.day_lo[c] * 86_400))
        hi = int(np.searchsorted(ch.time, self.plan.day_hi[c] * 86_400))
        n = hi - lo
        sl = slice(lo, hi)
        idx = cat.item_index()
        level = self.world.inst.level_class[ch.inst[sl]]
        regimen = ch.regimen_item[ch.patient[sl]]
        boxes = ch.regimen_cnt[ch.patient[sl]]
        consult = rng.random(n) < 0.5
        rows = [np.flatnonzero(consult)]
        items = [np.full(int(consult.sum()), idx["consult"])]
        cnts = [np.ones(int(consult.sum()), dtype=np.int64)]
        lab_rows = np.flatnonzero(ch.lab[sl])
        cat_ = catalog()
        exam_group = cat_.diag_exams[ch.dise[sl][lab_rows]]
        has_exam = cat_.exam_start[exam_group + 1] > cat_.exam_start[exam_group]
        rows.append(lab_rows[has_exam])
        items.append(cat_.exam_item[cat_.exam_start[exam_group[has_exam]]])
        cnts.append(np.ones(int(has_exam.sum()), dtype=np.int64))
        for j in range(3):
            has = regimen[:, j] >= 0
            rows.append(np.flatnonzero(has))
            items.append(regimen[has, j])
            cnts.append(boxes[has, j])
        row = np.concatenate(rows)
        order = np.argsort(row, kind="stable")
        row = row[order]
        dr = ch.dr[sl]
        lines = explicit_lines(row, np.concatenate(items)[order], np.concatenate(cnts)[order],
                               level[row], dr[row], self.alloc)
        none = np.full(n, -1, dtype=np.int64)
        day = ch.time[sl] // 86_400
        batch = Batch(
            person=ch.person[sl], inst=ch.inst[sl], med_type=np.full(n, 14, dtype=np.int64),
            time=ch.time[sl], begn=day, end=day, dise=ch.dise[sl], dr=dr, fund=none,
            hifp=none, acct=none, cash=none, orig=none, orig_plant=none, plant=none, scen=none,
            lines=lines,
        )
        return self._pay(batch, rng)

    def chunk(self, c: int, planted: Batch) -> Batch:
        """Ordinary rows of chunk ``c`` (free visits, their reversals, chronic visits), unsorted.

        ``planted`` are the chunk's scenario rows: ordinary rows avoid impossible travel with
        them too.
        """
        rng = np.random.default_rng(self._chunk_seeds[c])
        chronic = self._chronic_rows(c, rng)
        fixed = Batch.concat([chronic, planted])
        free = self._free_rows(c, fixed, rng)
        k = int(self.plan.reversals[c])
        end_sec = int(self.plan.day_hi[c]) * 86_400 - 1
        candidates = np.flatnonzero(free.time < end_sec - 600)
        rows = np.sort(rng.choice(candidates, size=min(k, len(candidates)), replace=False))
        delay = np.clip(rng.lognormal(np.log(3 * 3600), 1.2, len(rows)), 120, None)
        times = np.minimum(free.time[rows] + delay.astype(np.int64), end_sec)
        free = with_reversals(free, rows, times)
        return Batch.concat([free, chronic])
