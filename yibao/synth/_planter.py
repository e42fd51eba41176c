"""Building planted rows: the :class:`Planter` used by the fraud and honest scenario modules.

Scenario rows are few, so they are built one by one in Python, then turned into one
:class:`~yibao.synth._batch.Batch` with amounts split exactly as ordinary rows are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from yibao.synth import _catalog as cat
from yibao.synth._batch import Batch, Lines, TraceAllocator, split_payments
from yibao.synth._calendar import Profile, sample_seconds_of_day
from yibao.synth._fees import catalog
from yibao.synth.knobs import ScenarioKnobs
from yibao.synth.persons import DAY_2024, PersonSpec, concat_specs
from yibao.synth.population import Category, Geography, Group, Institutions, Pools, Practitioners

__all__ = [
    "FRAUD_PATTERNS",
    "HONEST_PATTERNS",
    "LineSpec",
    "Plan",
    "Planter",
    "Scenario",
    "at",
    "covering_subsets",
    "duration_factor",
    "pharmacy_pool",
    "primary_pool",
]

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]

FRAUD_PATTERNS = ("card_pooling", "recruited_inpatients", "cross_province_card_use",
                  "resale_chain", "doctor_pharmacy_collusion")
HONEST_PATTERNS = ("family_visits", "dialysis_cohort", "nursing_home", "refund_resale",
                   "split_pack", "cross_border_commuters", "chemo_cycles", "rehab_course",
                   "checkup_day", "market_day_clinic")


@dataclass
class Scenario:
    """One planted group; ids are generator indices until written."""

    pattern: str
    kind: str
    index: int
    description: str = ""
    persons: list[int] = field(default_factory=list)
    institutions: list[int] = field(default_factory=list)
    practitioners: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    """Plant ids of the scenario's settlements."""
    codes: list[tuple[int, int]] = field(default_factory=list)
    """Traceability codes as (drug item, serial counter)."""
    keyed_by_one: list[int] = field(default_factory=list)
    """Institutions where one operator (经办人) keys all of the scenario's settlements."""
    params: dict[str, Any] = field(default_factory=dict)
    """The shape drawn for the scenario (ring size, spread, ...), written to ``truth.json``."""


@dataclass(frozen=True)
class LineSpec:
    """A fee line to plant: ``codes`` (serials) reuse boxes; ``pric`` (fen) overrides the price."""

    item: int
    cnt: int
    codes: I64 | None = None
    pric: int | None = None
    dr: int = -1


@dataclass(frozen=True)
class Plan:
    """All planted rows (sorted by time) with their scenarios and the persons made for them."""

    scenarios: list[Scenario]
    batch: Batch
    extra_persons: PersonSpec
    n_planted: int


def at(day: int, hour: float, second: int = 0) -> int:
    """Seconds since 2024-01-01 of ``day`` at ``hour`` (fractional hours) plus ``second``."""
    return int(day * 86_400 + round(hour * 3600) + second)


class Planter:
    """Builds scenario rows one by one (they are few) and turns them into a :class:`Batch`."""

    def __init__(self, geo: Geography, inst: Institutions, pools: Pools, prac: Practitioners,
                 base: PersonSpec, scale: int, rng: np.random.Generator,
                 alloc: TraceAllocator, knobs: ScenarioKnobs | None = None) -> None:
        self.geo = geo
        self.knobs = knobs or ScenarioKnobs()
        self.inst = inst
        self.pools = pools
        self.prac = prac
        self.base = base
        self.scale = scale
        self.rng = rng
        self.alloc = alloc
        self.specs: list[PersonSpec] = []
        self.n_persons = len(base)
        self.used = np.zeros(len(base), dtype=bool)
        self.used_inst = np.zeros(len(inst), dtype=bool)
        self.used_prac = np.zeros(len(prac), dtype=bool)
        names = inst.name.to_pylist()
        self._private_names = np.array(
            [any(w in str(nm) for w in cat.PRIVATE_HOSPITAL_WORDS) for nm in names], dtype=bool)
        self._has_wards = np.array([str(nm).endswith("医院") for nm in names], dtype=bool)
        self.scenarios: list[Scenario] = []
        self._rows: list[tuple[int, ...]] = []
        self._lines: list[tuple[int, int, int, int, int]] = []
        self._line_codes: list[I64] = []
        self._row_lines: dict[int, list[int]] = {}
        self._insutype: list[I64] = [base.insutype]
        self._age: list[I64] = [self._ages(base)]
        self._home: list[I64] = [base.home_county]

    # -- persons -------------------------------------------------------------------------
    @staticmethod
    def _ages(spec: PersonSpec) -> I64:
        out: I64 = ((DAY_2024 + 182 - spec.birth) / 365.25).astype(np.int64)
        return out

    def new_persons(self, spec: PersonSpec) -> I64:
        """Persons made for a scenario; they also live ordinary lives in the background."""
        ids = np.arange(self.n_persons, self.n_persons + len(spec), dtype=np.int64)
        self.n_persons += len(spec)
        self.specs.append(spec)
        self._insutype.append(spec.insutype)
        self._age.append(self._ages(spec))
        self._home.append(spec.home_county)
        return ids

    def insutype(self, ids: I64) -> I64:
        out: I64 = np.concatenate(self._insutype)[ids]
        return out

    def home_county(self, ids: I64) -> I64:
        out: I64 = np.concatenate(self._home)[ids]
        return out

    def base_persons(self, k: int, where: BOOL, weights: npt.NDArray[np.float64] | None = None,
                     ) -> I64:
        """Up to ``k`` distinct unused ordinary persons matching ``where`` (claimed for good)."""
        ok = where & ~self.used
        candidates = np.flatnonzero(ok)
        k = min(k, len(candidates))
        if k == 0:
            return np.zeros(0, dtype=np.int64)
        p = None
        if weights is not None:
            w = weights[candidates]
            p = w / w.sum()
        chosen = np.sort(self.rng.choice(candidates, size=k, replace=False, p=p))
        self.used[chosen] = True
        return chosen.astype(np.int64)

    @property
    def base_age(self) -> I64:
        return self._age[0]

    # -- institutions --------------------------------------------------------------------
    def institutions(self, categories: tuple[Category, ...], *, county: int | None = None,
                     city: int | None = None, fresh: bool = True) -> I64:
        """Institutions of ``categories`` in a county or city (unused by scenarios if ``fresh``)."""
        mask = np.isin(self.inst.category, categories)
        if county is not None:
            mask &= self.inst.county == county
        if city is not None:
            mask &= self.geo.county_city[self.inst.county] == city
        if fresh:
            mask &= ~self.used_inst
        return np.flatnonzero(mask).astype(np.int64)

    def pick_institution(self, categories: tuple[Category, ...], *, county: int | None = None,
                         city: int | None = None, private: bool = False,
                         wards: bool = False) -> int:
        """A random unused institution, widening to the city, then anywhere, when none fits.

        ``private``: prefer hospitals with an invented private name (康华医院, 仁爱医院 ...), so
        that fraud in the truth file is not pinned on a name like 某市第一人民医院 that real
        public hospitals carry; ``wards``: a hospital (医院) that admits patients, not an
        outpatient department (门诊部).
        """
        for scope in ((county, city), (None, city if county is None else
                                       int(self.geo.county_city[county])), (None, None)):
            found = self.institutions(categories, county=scope[0], city=scope[1])
            if wards:
                found = found[self._has_wards[found]]
            if private and len(found):
                named = self._private_names[found]
                found = found[named] if named.any() else found
            if len(found):
                i = int(self.rng.choice(found))
                self.used_inst[i] = True
                return i
        raise RuntimeError(f"no institution of {categories} left for a scenario")

    def doctors(self, inst: int, k: int) -> list[int]:
        """Up to ``k`` practitioners of ``inst``, not used by another scenario."""
        lo = int(self.prac.inst_start[inst])
        ids = [i for i in range(lo, lo + int(self.prac.inst_count[inst]))
               if not self.used_prac[i]]
        chosen = sorted(self.rng.choice(ids, size=min(k, len(ids)), replace=False).tolist())
        self.used_prac[chosen] = True
        return [int(i) for i in chosen]

    def county_city(self, county: int) -> int:
        return int(self.geo.county_city[county])

    # -- rows ----------------------------------------------------------------------------
    def open(self, pattern: str) -> Scenario:
        kind = "fraud" if pattern in FRAUD_PATTERNS else "honest"
        scen = Scenario(pattern, kind, len(self.scenarios))
        self.scenarios.append(scen)
        return scen

    def fresh_codes(self, item: int, n: int) -> I64:
        """Serials of ``n`` new boxes of drug ``item``."""
        return self.alloc.allocate(np.full(n, item, dtype=np.int64))

    def settle(self, scen: Scenario, person: int, inst: int, med_type: int, time: int,
               lines: list[LineSpec], *, dise: str | None = None, dr: int = -1,
               begn: int | None = None, end: int | None = None) -> tuple[int, list[I64]]:
        """One planted settlement; returns its plant id and the codes of each line."""
        c = catalog()
        plant = len(self._rows)
        day = time // 86_400
        dise_idx = cat.diagnosis_index()[dise] if dise else -1
        self._rows.append((person, inst, med_type, time, day if begn is None else begn,
                           day if end is None else end, dise_idx, dr, -1,
                           scen.index))
        level = int(self.inst.level_class[inst])
        used_codes: list[I64] = []
        for spec in lines:
            if spec.codes is not None:
                codes = np.asarray(spec.codes, dtype=np.int64)
            elif c.kind[spec.item] == cat.ItemKind.DRUG:
                codes = self.fresh_codes(spec.item, abs(spec.cnt))
            else:
                codes = np.zeros(0, dtype=np.int64)
            pric = spec.pric if spec.pric is not None else int(
                c.unit_price(np.array([spec.item]), np.array([level]))[0])
            self._row_lines.setdefault(plant, []).append(len(self._lines))
            self._lines.append((plant, spec.item, spec.cnt, pric, spec.dr))
            self._line_codes.append(codes)
            used_codes.append(codes)
            scen.codes.extend((spec.item, int(s)) for s in codes)
        scen.rows.append(plant)
        if person not in scen.persons:
            scen.persons.append(person)
        if inst not in scen.institutions:
            scen.institutions.append(inst)
        return plant, used_codes

    def reverse(self, scen: Scenario, plant: int, time: int) -> int:
        """A reversal (冲销) of planted row ``plant`` at ``time``: same codes, negated counts."""
        person, inst, med_type, _, begn, end, dise, dr, _, s = self._rows[plant]
        rev = len(self._rows)
        self._rows.append((person, inst, med_type, time, begn, end, dise, dr, plant, s))
        for j in self._row_lines.get(plant, []):
            _, item, cnt, pric, ldr = self._lines[j]
            self._row_lines.setdefault(rev, []).append(len(self._lines))
            self._lines.append((rev, item, -cnt, pric, ldr))
            self._line_codes.append(self._line_codes[j])
        scen.rows.append(rev)
        return rev

    def seconds(self, profile: Profile, n: int = 1) -> I64:
        return sample_seconds_of_day(profile, n, self.rng)

    def finish(self) -> Plan:
        """The planted rows as a time-sorted batch with amounts split into fund/account/cash."""
        n = len(self._rows)
        if n == 0:
            raise RuntimeError("no scenario rows were planted")
        cols = np.array(self._rows, dtype=np.int64).T
        person, inst, med_type, time, begn, end, dise, dr, orig_plant, scen = cols
        lines_arr = np.array(self._lines, dtype=np.int64).T
        counts = np.array([len(c) for c in self._line_codes], dtype=np.int64)
        off = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=off[1:])
        serial = np.concatenate(self._line_codes) if len(self._line_codes) else np.zeros(0)
        lines = Lines(row=lines_arr[0], item=lines_arr[1], cnt=lines_arr[2], pric=lines_arr[3],
                      dr=lines_arr[4], code_off=off, code_prod=np.repeat(lines_arr[1], counts),
                      code_ser=serial.astype(np.int64))
        order = np.argsort(lines.row, kind="stable")
        lines = lines.take(order)
        plant = np.arange(n, dtype=np.int64)
        none = np.full(n, -1, dtype=np.int64)
        batch = Batch(person=person, inst=inst, med_type=med_type, time=time, begn=begn, end=end,
                      dise=dise, dr=dr, fund=none, hifp=none, acct=none, cash=none, orig=none,
                      orig_plant=orig_plant, plant=plant, scen=scen, lines=lines)
        medfee = batch.medfee
        fund, hifp, acct, cash = split_payments(
            medfee, med_type, self.insutype(person), self.inst.level_class[inst], self.rng)
        rev = orig_plant >= 0
        src = np.where(rev, orig_plant, plant)
        sign = np.where(rev, -1, 1)
        batch = Batch(person=person, inst=inst, med_type=med_type, time=time, begn=begn, end=end,
                      dise=dise, dr=dr, fund=sign * fund[src], hifp=sign * hifp[src],
                      acct=sign * acct[src], cash=sign * cash[src], orig=none,
                      orig_plant=orig_plant, plant=plant, scen=scen, lines=lines)
        batch = batch.take(np.argsort(time, kind="stable"))
        extra = concat_specs(self.specs) if self.specs else _empty_spec()
        return Plan(self.scenarios, batch, extra, n)


def _empty_spec() -> PersonSpec:
    z = np.zeros(0, dtype=np.int64)
    return PersonSpec(z, z, z, z, z, z, np.zeros(0, dtype=bool))


def covering_subsets(rng: np.random.Generator, everyone: I64, sizes: list[int]) -> list[I64]:
    """Random subsets of ``everyone`` of the given sizes in which every member appears at least
    once (members missed by chance join a random subset), each sorted."""
    groups = [set(rng.choice(everyone, size=min(s, len(everyone)), replace=False).tolist())
              for s in sizes]
    if groups:
        seen = set().union(*groups)
        for member in everyone.tolist():
            if member not in seen:
                groups[int(rng.integers(len(groups)))].add(member)
    return [np.array(sorted(g), dtype=np.int64) for g in groups]


def duration_factor(scale: int) -> float:
    """Months that recurring scenarios run: short in small sets so they do not swamp them."""
    if scale < 50_000:
        return 1.0
    if scale < 500_000:
        return 2.5
    return 5.0


def pharmacy_pool(pl: Planter, county: int) -> int:
    """A pharmacy of ``county`` as ordinary people pick one (may be used by other scenarios)."""
    return int(pl.pools.pick(np.array([pl.pools.county_pool[county, Group.PHARMACY]]),
                             pl.rng.random(1))[0])


def primary_pool(pl: Planter, county: int) -> int:
    """A primary clinic of ``county`` as ordinary people pick one."""
    return int(pl.pools.pick(np.array([pl.pools.county_pool[county, Group.PRIMARY]]),
                             pl.rng.random(1))[0])
