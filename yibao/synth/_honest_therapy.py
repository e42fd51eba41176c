"""Honest look-alikes of regular therapy: chemotherapy cycles and rehabilitation courses.

Both bring the same patients to one institution together, again and again, like a ring; the
tell-tale signs of care are in the data: a neoplasm (C00-D48) with Z51.1 and a 14-, 21- or
28-day cycle for chemotherapy (化疗), Z50.x or stroke sequelae (I69.x) and a daily weekday slot
for rehabilitation (康复), bills that fit the treatment, patients who live in the city.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from yibao.synth import _catalog as cat
from yibao.synth._calendar import day_of_week
from yibao.synth._honest import HOLIDAYS
from yibao.synth._planter import LineSpec, Planter, Scenario, at
from yibao.synth.persons import person_specs
from yibao.synth.population import Category

__all__ = ["CHEMO_REGIMENS", "chemo_cycles", "rehab_course"]

I64 = npt.NDArray[np.int64]

CHEMO_REGIMENS: dict[str, tuple[tuple[str, tuple[tuple[str, int], ...], int], ...]] = {
    "C34.900": (("PC", (("pemetrexed", 2), ("carboplatin", 2)), 21),
                ("DC", (("docetaxel", 1), ("carboplatin", 2)), 21),
                ("PC-4w", (("pemetrexed", 2), ("carboplatin", 2)), 28)),
    "C50.900": (("wPH", (("paclitaxel", 1), ("trastuzumab", 1)), 21),
                ("ddT", (("paclitaxel", 2),), 14),
                ("TC", (("docetaxel", 1), ("carboplatin", 2)), 21)),
    "C18.900": (("FOLFOX", (("oxaliplatin", 1), ("fluorouracil", 4)), 14),
                ("CAPOX", (("oxaliplatin", 2),), 21),
                ("FOLFOX-4w", (("oxaliplatin", 2), ("fluorouracil", 4)), 28)),
}
"""Cancer -> (regimen, its drugs per cycle in vials, cycle length in days)."""

_SETTINGS = ("inpatient", "day_ward", "outpatient_special")
"""How a hospital settles a cycle: a 2-4 day stay or a one-day ward stay (med_type 21), or as
a 门诊特殊病 outpatient visit (med_type 14)."""


def _item(key: str) -> int:
    return cat.item_index()[key]


def _name(pl: Planter, inst: int) -> str:
    return str(pl.inst.name[inst].as_py())


def _pick_named(pl: Planter, categories: tuple[Category, ...], word: str) -> int:
    """An unused institution of ``categories`` whose name holds ``word``, else any of them."""
    found = pl.institutions(categories)
    named = [i for i in found.tolist() if word in _name(pl, i)]
    if named and pl.rng.random() < 0.7:
        i = int(pl.rng.choice(named))
        pl.used_inst[i] = True
        return i
    return pl.pick_institution(categories, wards=True)


def _city_patients(pl: Planter, k: int, city: int, ages: tuple[int, int],
                   sex: int | None = None) -> I64:
    """``k`` new persons living in the counties of ``city`` (by population)."""
    counties = pl.geo.counties_of_city(city)
    w = pl.geo.county_weight[counties]
    home = pl.rng.choice(counties, size=k, p=w / w.sum())
    return pl.new_persons(person_specs(k, pl.geo, pl.rng, county=home, ages=ages, sex=sex))


def chemo_cycles(pl: Planter) -> None:
    """8-20 cancer patients of an oncology or tertiary hospital on chemotherapy cycles.

    Patients with one cancer and regimen form a group with one cycle length (14, 21 or 28
    days) and one start day, so several are admitted the same day, cycle after cycle; a cycle
    is now and then delayed a few days (low blood counts), which shifts the rest.
    """
    rng = pl.rng
    scen = pl.open("chemo_cycles")
    hospital = _pick_named(pl, (Category.TERTIARY_A, Category.TERTIARY_B), "肿瘤")
    city = pl.county_city(int(pl.inst.county[hospital]))
    doctors = pl.doctors(hospital, int(rng.integers(2, 5)))
    k = int(rng.integers(8, 21))
    n_groups = int(rng.integers(1, 4))
    sizes = np.maximum(1, rng.multinomial(k - n_groups, np.full(n_groups, 1 / n_groups)) + 1)
    cycles_lo, cycles_hi = (3, 5) if pl.scale < 50_000 else (4, 8)
    cycle_lengths: list[int] = []
    settings: list[str] = []
    patients: list[int] = []
    for size in sizes.tolist():
        cancer = str(rng.choice(sorted(CHEMO_REGIMENS)))
        regimens = CHEMO_REGIMENS[cancer]
        _, drugs, cycle = regimens[int(rng.integers(len(regimens)))]
        setting = _SETTINGS[int(rng.choice(3, p=[0.45, 0.3, 0.25]))]
        sex = 2 if cancer == "C50.900" else None
        group = _city_patients(pl, size, city, (40, 80), sex=sex)
        n_cycles = int(rng.integers(cycles_lo, cycles_hi + 1))
        start = int(rng.integers(3, max(4, 362 - cycle * n_cycles)))
        dr = doctors[int(rng.integers(len(doctors)))]
        for p in group.tolist():
            day = start
            for _ in range(n_cycles):
                if day > 362:
                    break
                _settle_cycle(pl, scen, p, hospital, day, setting, cancer, drugs, dr)
                day += cycle + (int(rng.integers(1, 8)) if rng.random() < 0.12 else 0)
        cycle_lengths.append(cycle)
        settings.append(setting)
        patients.extend(group.tolist())
        if dr not in scen.practitioners:
            scen.practitioners.append(dr)
    scen.params = {"patients": len(patients), "groups": len(sizes),
                   "cycle_days": cycle_lengths, "settings": settings}
    scen.description = (
        f"{len(patients)} cancer patients (C34/C50/C18 with Z51.1) of {_name(pl, hospital)} on "
        f"chemotherapy cycles of {'/'.join(str(c) for c in sorted(set(cycle_lengths)))} days, "
        "admitted in groups on the same days with chemotherapy-sized bills.")


def _settle_cycle(pl: Planter, scen: Scenario, person: int, hospital: int, day: int,
                  setting: str, cancer: str, drugs: tuple[tuple[str, int], ...], dr: int) -> None:
    """One chemotherapy cycle: the stay or visit with its drugs, tests and (inpatient) bed."""
    rng = pl.rng
    lines = [LineSpec(_item(key), n, dr=dr) for key, n in drugs]
    lines += [LineSpec(_item("ondansetron"), int(rng.integers(1, 3)), dr=dr),
              LineSpec(_item("dexamethasone_inj"), int(rng.integers(1, 3)), dr=dr),
              LineSpec(_item("saline"), int(rng.integers(2, 4)), dr=dr),
              LineSpec(_item("cbc"), 1, dr=dr), LineSpec(_item("liver"), 1, dr=dr),
              LineSpec(_item("renal"), 1, dr=dr)]
    if setting == "outpatient_special":
        lines.append(LineSpec(_item("infusion"), len(drugs) + 1, dr=dr))
        t = at(day, rng.uniform(13.0, 17.0))
        pl.settle(scen, person, hospital, 14, t, lines, dise=cancer, dr=dr)
        return
    los = 1 if setting == "day_ward" else int(rng.integers(2, 5))
    lines += [LineSpec(_item("bed"), los, dr=dr), LineSpec(_item("nursing"), los, dr=dr),
              LineSpec(_item("infusion"), los + len(drugs), dr=dr),
              LineSpec(_item("infusion_set"), los + len(drugs), dr=dr)]
    dise = "Z51.100" if rng.random() < 0.6 else cancer
    end = min(day + los, 365)
    t = at(end, rng.uniform(9.5, 16.0))
    pl.settle(scen, person, hospital, 21, t, lines, dise=dise, dr=dr, begn=day, end=end)


_REHAB_DIAGNOSES = (("Z50.900", 3.0), ("Z50.100", 2.0), ("I69.300", 2.5), ("I69.400", 1.5))


def rehab_course(pl: Planter) -> None:
    """8-15 outpatients of a rehabilitation department, every weekday for 2-6 weeks, same slot."""
    rng = pl.rng
    scen = pl.open("rehab_course")
    clinic = _pick_named(pl, (Category.TERTIARY_A, Category.TERTIARY_B, Category.SECONDARY),
                         "康复")
    county = int(pl.inst.county[clinic])
    doctors = pl.doctors(clinic, int(rng.integers(1, 3)))
    k = int(rng.integers(8, 16))
    patients = pl.new_persons(person_specs(k, pl.geo, rng, county=county, ages=(35, 85)))
    codes = [c for c, _ in _REHAB_DIAGNOSES]
    w = np.array([x for _, x in _REHAB_DIAGNOSES])
    slot = float(rng.choice([8.0, 9.0, 10.0, 14.0]))
    weeks_hi = 3 if pl.scale < 50_000 else 6
    first_monday = int(rng.integers(0, 40)) * 7  # 2024-01-01 is a Monday
    weeks_drawn: list[int] = []
    for p in patients.tolist():
        weeks = int(rng.integers(2, weeks_hi + 1))
        start = first_monday + 7 * int(rng.integers(0, 3))
        dise = str(rng.choice(codes, p=w / w.sum()))
        dr = doctors[int(rng.integers(len(doctors)))]
        therapy = ("rehab_exercise", "rehab_emp") if dise.startswith("I69") else (
            "rehab_exercise", "physio")
        for day in range(start, min(start + 7 * weeks, 366)):
            if int(day_of_week(day)) >= 5 or day in HOLIDAYS or rng.random() < 0.06:
                continue
            lines = [LineSpec(_item(key), 1, dr=dr) for key in therapy]
            if rng.random() < 0.3:
                lines.append(LineSpec(_item("acupuncture"), 1, dr=dr))
            if int(day_of_week(day)) == 0:
                lines.insert(0, LineSpec(_item("consult"), 1, dr=dr))
            t = at(day, slot + rng.uniform(0.75, 1.25))
            pl.settle(scen, p, clinic, 11, t, lines, dise=dise, dr=dr)
        weeks_drawn.append(weeks)
        if dr not in scen.practitioners:
            scen.practitioners.append(dr)
    scen.params = {"patients": k, "slot_hour": slot, "weeks": weeks_drawn}
    scen.description = (
        f"{k} rehabilitation outpatients (Z50.x, I69.x) of {_name(pl, clinic)} treated every "
        f"weekday in the {slot:g}:00 slot for {min(weeks_drawn)}-{max(weeks_drawn)} weeks, "
        "with small therapy bills.")
