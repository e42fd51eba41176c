"""Fee details (费用明细) of ordinary settlements: what a visit, a stay or a purchase bills.

Lines follow the diagnosis: a consultation fee, the examinations and tests of the diagnosis'
group, drugs of its drug group (children get paediatric forms), and for stays the bed, nursing,
infusion and surgery lines. Every box of drug gets one traceability code. Prices are in fen;
services cost more at higher-level hospitals.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cache

import numpy as np
import numpy.typing as npt

from yibao.synth import _catalog as cat
from yibao.synth._batch import Lines, TraceAllocator
from yibao.synth._calendar import is_winter
from yibao.synth._sampling import WeightedCSR

__all__ = [
    "SETTING_OF_MED_TYPE",
    "Catalog",
    "Setting",
    "catalog",
    "explicit_lines",
    "ordinary_lines",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
BOOL = npt.NDArray[np.bool_]


class Setting(IntEnum):
    """Where care happens; each has its own diagnoses and billing pattern."""

    OUTPATIENT = 0  # 11
    EMERGENCY = 1  # 13
    TCM = 2  # 16
    PHARMACY = 3  # 41
    INPATIENT = 4  # 21
    DAY_SURGERY = 5  # 28
    MATERNITY_OUTPATIENT = 6  # 51
    MATERNITY_INPATIENT = 7  # 52
    CHRONIC = 8  # 14


SETTING_OF_MED_TYPE: dict[int, Setting] = {
    11: Setting.OUTPATIENT, 13: Setting.EMERGENCY, 16: Setting.TCM, 41: Setting.PHARMACY,
    21: Setting.INPATIENT, 28: Setting.DAY_SURGERY, 51: Setting.MATERNITY_OUTPATIENT,
    52: Setting.MATERNITY_INPATIENT, 14: Setting.CHRONIC,
}
_STAYS = (Setting.INPATIENT, Setting.DAY_SURGERY, Setting.MATERNITY_INPATIENT)

# diagnosis, weight for children (<15), adults, elderly (60+), winter multiplier
_DIAGNOSIS_MIX: dict[Setting, tuple[tuple[str, float, float, float, float], ...]] = {
    Setting.OUTPATIENT: (
        ("J06.900", 30, 18, 10, 2.0), ("J02.900", 6, 6, 3, 1.5), ("J20.900", 10, 6, 8, 1.8),
        ("J18.900", 3, 1, 2, 2.0), ("R50.900", 6, 2, 1, 1.5), ("K29.700", 1, 8, 7, 1),
        ("K52.900", 6, 3, 2, 1), ("R10.400", 2, 2, 1, 1), ("M54.500", 0, 6, 6, 1),
        ("M17.900", 0, 2, 6, 1), ("L30.900", 4, 4, 2, 1), ("H10.900", 3, 2, 1, 1),
        ("N39.000", 1, 3, 3, 1), ("K02.900", 4, 2, 1, 1), ("I10.x00", 0, 6, 14, 1.1),
        ("E11.900", 0, 4, 9, 1), ("E78.500", 0, 3, 5, 1), ("I25.103", 0, 1, 5, 1.1),
        ("J44.900", 0, 0.5, 3, 1.5), ("M81.000", 0, 0.5, 2, 1), ("B18.100", 0, 0.6, 0.4, 1),
        ("M47.800", 0, 2, 2, 1),
    ),
    Setting.EMERGENCY: (
        ("T14.000", 8, 8, 4, 1), ("S61.000", 4, 6, 2, 1), ("R10.400", 5, 6, 5, 1),
        ("R50.900", 12, 4, 3, 1.5), ("J06.900", 8, 3, 2, 1.8), ("J18.900", 2, 1, 3, 2),
        ("I10.x00", 0, 1, 3, 1.2), ("K52.900", 3, 3, 2, 1),
    ),
    Setting.TCM: (
        ("M54.500", 0.2, 6, 6, 1), ("M47.800", 0, 5, 5, 1), ("M17.900", 0, 2, 5, 1),
        ("K29.700", 0.5, 2, 2, 1), ("I69.300", 0, 0.5, 2, 1), ("J06.900", 2, 2, 1, 1.5),
    ),
    Setting.PHARMACY: (
        ("J06.900", 20, 12, 6, 2.0), ("J02.900", 4, 4, 2, 1.5), ("J20.900", 3, 3, 4, 1.8),
        ("K29.700", 1, 6, 5, 1), ("K52.900", 4, 2, 2, 1), ("M54.500", 0, 5, 5, 1),
        ("M17.900", 0, 1, 4, 1), ("L30.900", 3, 3, 2, 1), ("H10.900", 2, 2, 1, 1),
        ("N39.000", 0, 2, 2, 1), ("I10.x00", 0, 6, 16, 1), ("E11.900", 0, 4, 10, 1),
        ("E78.500", 0, 3, 5, 1), ("I25.103", 0, 1, 6, 1), ("J44.900", 0, 0.3, 2, 1.3),
        ("I69.300", 0, 0.3, 1.5, 1), ("B18.100", 0, 0.6, 0.4, 1), ("M05.900", 0, 0.3, 0.4, 1),
        ("F20.900", 0, 0.3, 0.2, 1), ("C34.900", 0, 0.05, 0.15, 1), ("M81.000", 0, 0.3, 2, 1),
        ("I50.900", 0, 0.1, 0.8, 1),
    ),
    Setting.INPATIENT: (
        ("J18.900", 10, 3, 8, 2.0), ("I63.900", 0, 2, 10, 1.3), ("I21.900", 0, 1, 3, 1.2),
        ("I50.900", 0, 0.5, 5, 1.3), ("J44.100", 0, 0.5, 6, 1.6), ("K80.200", 0, 4, 3, 1),
        ("K35.800", 3, 4, 1, 1), ("S72.000", 0, 0.5, 3, 1.1), ("M51.202", 0, 3, 2, 1),
        ("M47.800", 0, 1, 1, 1), ("C34.900", 0, 1, 3, 1), ("N20.000", 0, 3, 1, 1),
        ("E11.900", 0, 1, 3, 1), ("I25.103", 0, 1, 4, 1.1), ("M17.100", 0, 0.3, 2, 1),
    ),
    Setting.DAY_SURGERY: (("H25.900", 0, 0.2, 5, 1), ("K80.200", 0, 1, 0.5, 1)),
    Setting.MATERNITY_OUTPATIENT: (("Z34.900", 1, 1, 1, 1),),
    Setting.MATERNITY_INPATIENT: (("O80.000", 1, 1, 1, 1),),
    Setting.CHRONIC: (
        ("I10.x00", 0, 45, 45, 1), ("E11.900", 0, 25, 25, 1), ("I25.103", 0, 6, 9, 1),
        ("J44.900", 0, 3, 6, 1), ("I69.300", 0, 4, 7, 1), ("B18.100", 0, 4, 2, 1),
        ("M05.900", 0, 2, 2, 1), ("F20.900", 0, 4, 2, 1), ("C34.900", 0, 1, 1, 1),
        ("N18.900", 0, 2, 2, 1),
    ),
}

_CONSULT_P = (0.9, 0.95, 0.9, 0.0, 0.0, 0.0, 0.9, 0.0, 0.5)
_EXAM_MULT = (1.0, 1.6, 0.0, 0.0, 2.5, 1.5, 1.0, 2.0, 0.25)
# probability of 0, 1, 2, 3 drugs of the diagnosis' group
_DRUG_COUNT_P = (
    (0.15, 0.35, 0.30, 0.20), (0.20, 0.45, 0.25, 0.10), (0.55, 0.35, 0.10, 0.0),
    (0.0, 0.55, 0.30, 0.15), (0.0, 0.45, 0.40, 0.15), (0.3, 0.7, 0.0, 0.0),
    (0.6, 0.4, 0.0, 0.0), (0.3, 0.7, 0.0, 0.0), (0.0, 0.4, 0.4, 0.2),
)
_STAY_LABS = (("cbc", 0.95), ("urine", 0.7), ("liver", 0.8), ("renal", 0.8), ("ecg", 0.7),
              ("xray", 0.45))
_LEVEL_FACTOR = np.array([0.85, 1.0, 1.2, 1.0])


@dataclass(frozen=True)
class Catalog:
    """The static catalogue as arrays for vectorised billing."""

    price: I64
    kind: I64
    pack: I64
    high_value: BOOL
    level_priced: BOOL
    product: I64
    drug_pools: WeightedCSR
    """Pool ``2 * g`` = drug group ``g``; ``2 * g + 1`` = its drugs sold by pharmacies."""
    diag_drugs: I64
    diag_kids_drugs: I64
    diag_exams: I64
    stay_lo: I64
    stay_hi: I64
    exam_start: I64
    exam_item: I64
    exam_prob: F64
    surgery_start: I64
    surgery_item: I64
    diag_pools: WeightedCSR
    """Pool ``(setting * 3 + age band) * 2 + winter`` of diagnoses."""
    group_ids: dict[str, int]

    def diagnosis_pool(self, setting: I64, age: I64, day: I64) -> I64:
        band = np.where(age < 15, 0, np.where(age < 60, 1, 2))
        out: I64 = (setting * 3 + band) * 2 + is_winter(day).astype(np.int64)
        return out

    def unit_price(self, item: I64, level_class: I64) -> I64:
        """Price in fen of ``item`` at an institution of ``level_class``."""
        factor = np.where(self.level_priced[item], _LEVEL_FACTOR[level_class], 1.0)
        out: I64 = np.round(self.price[item] * factor).astype(np.int64)
        return out


@cache
def catalog() -> Catalog:
    """The catalogue arrays (built once)."""
    items = cat.ITEMS
    idx = cat.item_index()
    groups = list(cat.DRUG_GROUPS)
    group_ids = {g: i for i, g in enumerate(groups)}
    drug_lists: list[list[tuple[int, float]]] = []
    for g in groups:
        members = [(idx[k], w) for k, w in cat.DRUG_GROUPS[g]]
        drug_lists.append(members)
        drug_lists.append([(m, w) for m, w in members if items[m].pharmacy])
    exam_groups = list(cat.EXAM_GROUPS)
    exam_start = np.cumsum([0] + [len(cat.EXAM_GROUPS[g]) for g in exam_groups])
    exam_item = [idx[k] for g in exam_groups for k, _ in cat.EXAM_GROUPS[g]]
    exam_prob = [p for g in exam_groups for _, p in cat.EXAM_GROUPS[g]]
    diags = cat.DIAGNOSES
    diag_drugs = [group_ids.get(d.drugs, -1) for d in diags]
    diag_kids = [group_ids.get(d.drugs + "_kids", group_ids.get(d.drugs, -1)) for d in diags]
    diag_exams = [exam_groups.index(d.exams) for d in diags]
    surgery_start = np.cumsum([0] + [len(d.surgery) for d in diags])
    surgery_item = [idx[k] for d in diags for k in d.surgery]
    didx = cat.diagnosis_index()
    diag_lists: list[list[tuple[int, float]]] = []
    for setting in Setting:
        for band in range(3):
            for winter in (False, True):
                pool = []
                for code, *weights, winter_mult in _DIAGNOSIS_MIX[setting]:
                    w = weights[band] * (winter_mult if winter else 1.0)
                    if w > 0:
                        pool.append((didx[code], float(w)))
                if not pool:  # e.g. children in chronic care: use the adult mix
                    pool = [(didx[code], float(w[1])) for code, *w in _DIAGNOSIS_MIX[setting]]
                diag_lists.append(pool)
    return Catalog(
        price=np.array([i.price_fen for i in items], dtype=np.int64),
        kind=np.array([int(i.kind) for i in items], dtype=np.int64),
        pack=np.array([i.pack for i in items], dtype=np.int64),
        high_value=np.array([i.high_value for i in items]),
        level_priced=np.array([i.level_priced for i in items]),
        product=np.array([i.product for i in items], dtype=np.int64),
        drug_pools=WeightedCSR.from_lists(drug_lists),
        diag_drugs=np.array(diag_drugs, dtype=np.int64),
        diag_kids_drugs=np.array(diag_kids, dtype=np.int64),
        diag_exams=np.array(diag_exams, dtype=np.int64),
        stay_lo=np.array([d.stay_days[0] for d in diags], dtype=np.int64),
        stay_hi=np.array([d.stay_days[1] for d in diags], dtype=np.int64),
        exam_start=exam_start.astype(np.int64),
        exam_item=np.array(exam_item, dtype=np.int64),
        exam_prob=np.array(exam_prob, dtype=np.float64),
        surgery_start=surgery_start.astype(np.int64),
        surgery_item=np.array(surgery_item, dtype=np.int64),
        diag_pools=WeightedCSR.from_lists(diag_lists),
        group_ids=group_ids,
    )


def _expand(counts: I64) -> tuple[I64, I64]:
    """Row of each expanded entry and its position within the row."""
    rows = np.repeat(np.arange(len(counts), dtype=np.int64), counts)
    first = np.cumsum(counts) - counts
    return rows, np.arange(len(rows), dtype=np.int64) - first[rows]


def _with_codes(
    row: I64, item: I64, cnt: I64, pric: I64, dr: I64, alloc: TraceAllocator
) -> Lines:
    c = catalog()
    is_drug = c.kind[item] == cat.ItemKind.DRUG
    n_codes = np.where(is_drug, np.abs(cnt), 0)
    off = np.zeros(len(row) + 1, dtype=np.int64)
    np.cumsum(n_codes, out=off[1:])
    prod = np.repeat(item, n_codes)
    return Lines(row, item, cnt, pric, dr, off, prod, alloc.allocate(prod))


def explicit_lines(
    row: I64, item: I64, cnt: I64, level_class: I64, dr: I64, alloc: TraceAllocator
) -> Lines:
    """Lines with the given items and quantities at catalogue prices, fresh codes per box."""
    c = catalog()
    row = np.asarray(row, dtype=np.int64)
    item = np.asarray(item, dtype=np.int64)
    pric = c.unit_price(item, np.asarray(level_class, dtype=np.int64))
    return _with_codes(row, item, np.asarray(cnt, dtype=np.int64), pric,
                       np.asarray(dr, dtype=np.int64), alloc)


def ordinary_lines(
    setting: I64,
    dise: I64,
    level_class: I64,
    stay: I64,
    child: BOOL,
    dr: I64,
    rng: np.random.Generator,
    alloc: TraceAllocator,
) -> Lines:
    """Fee lines of ordinary settlements (one entry per settlement; ``stay`` in days).

    Rows of the result refer to positions in these arrays.
    """
    c = catalog()
    idx = cat.item_index()
    n = len(setting)
    rows: list[I64] = []
    items: list[I64] = []
    cnts: list[I64] = []
    slots: list[I64] = []

    def add(r: I64, it: I64, cn: I64, slot: int) -> None:
        rows.append(r)
        items.append(np.broadcast_to(it, r.shape).astype(np.int64))
        cnts.append(np.broadcast_to(cn, r.shape).astype(np.int64))
        slots.append(np.full(len(r), slot, dtype=np.int64))

    consult = np.flatnonzero(rng.random(n) < np.asarray(_CONSULT_P)[setting])
    add(consult, np.where(setting[consult] == Setting.EMERGENCY, idx["consult_er"],
                          idx["consult"]), np.ones(1, dtype=np.int64), 0)

    has_dise = dise >= 0
    safe_dise = np.maximum(dise, 0)
    exam_names = list(cat.EXAM_GROUPS)
    group = np.where(setting == Setting.TCM, exam_names.index("tcm"),
                     np.where(has_dise, c.diag_exams[safe_dise], exam_names.index("none")))
    sizes = c.exam_start[group + 1] - c.exam_start[group]
    er, within = _expand(sizes)
    pos = c.exam_start[group[er]] + within
    mult = np.where(setting[er] == Setting.TCM, 1.0, np.asarray(_EXAM_MULT)[setting[er]])
    keep = rng.random(len(er)) < np.minimum(c.exam_prob[pos] * mult, 0.95)
    add(er[keep], c.exam_item[pos[keep]], np.ones(1, dtype=np.int64), 1)

    in_stay = np.isin(setting, _STAYS)
    stay_rows = np.flatnonzero(in_stay)
    for key, p in _STAY_LABS:
        chosen = stay_rows[rng.random(len(stay_rows)) < p]
        add(chosen, np.array(idx[key]), np.ones(1, dtype=np.int64), 1)

    kids = child & (c.diag_kids_drugs[safe_dise] >= 0)
    drug_group = np.where(kids, c.diag_kids_drugs[safe_dise], c.diag_drugs[safe_dise])
    drug_group = np.where(has_dise, drug_group, -1)
    k_p = np.asarray(_DRUG_COUNT_P)[setting]
    k = (rng.random(n)[:, None] > np.cumsum(k_p, axis=1)).sum(axis=1).astype(np.int64)
    k = np.where(drug_group >= 0, k, 0)
    dr_rows, _ = _expand(k)
    pool = 2 * drug_group[dr_rows] + (setting[dr_rows] == Setting.PHARMACY)
    drug = c.drug_pools.pick(pool, rng.random(len(dr_rows)))
    pharmacy = setting[dr_rows] == Setting.PHARMACY
    u = rng.random(len(dr_rows))
    n_box = np.where(pharmacy, 1 + (u > 0.5) + (u > 0.78) + (u > 0.9) + (u > 0.95) + (u > 0.98),
                     1 + (u > 0.6) + (u > 0.9))
    n_box = np.where(c.price[np.maximum(drug, 0)] > 20_000, 1 + (u > 0.85), n_box)
    ok = drug >= 0
    add(dr_rows[ok], drug[ok], n_box[ok], 2)

    stay_k = np.where(setting[stay_rows] == Setting.INPATIENT, rng.integers(3, 8, len(stay_rows)),
                      rng.integers(1, 3, len(stay_rows)))
    sr, _ = _expand(stay_k)
    sr = stay_rows[sr]
    inj = c.drug_pools.pick(np.full(len(sr), 2 * c.group_ids["inpatient"]), rng.random(len(sr)))
    inj_cnt = np.clip(stay[sr] * rng.integers(1, 3, len(sr)), 1, 12)
    inj_cnt = np.where(c.price[inj] > 20_000, np.minimum(inj_cnt, 3), inj_cnt)
    add(sr, inj, inj_cnt, 3)

    days = np.maximum(stay[stay_rows], 1)
    for key in ("bed", "ward_rounds", "nursing", "infusion", "infusion_set"):
        add(stay_rows, np.array(idx[key]), days, 4)
    drug_group_of_stay = c.diag_drugs[safe_dise[stay_rows]]
    heart_lung = np.isin(drug_group_of_stay, [c.group_ids[g] for g in
                                              ("bronch", "copd", "chd", "hf", "stroke")])
    oxygen = stay_rows[heart_lung & (rng.random(len(stay_rows)) < 0.6)]
    add(oxygen, np.array(idx["oxygen"]), np.maximum(stay[oxygen], 1), 4)
    cardio = np.isin(drug_group_of_stay, [c.group_ids[g] for g in ("chd", "hf", "stroke")])
    monitor = stay_rows[cardio & (rng.random(len(stay_rows)) < 0.5)]
    add(monitor, np.array(idx["monitor"]), np.maximum(stay[monitor], 1), 4)
    surg_sizes = c.surgery_start[safe_dise + 1] - c.surgery_start[safe_dise]
    surg_sizes = np.where(in_stay & has_dise, surg_sizes, 0)
    # a third of coronary patients are treated with drugs only
    pci_only = np.isin(safe_dise, [cat.diagnosis_index()[x] for x in ("I25.103", "I21.900")])
    surg_sizes = np.where(pci_only & (rng.random(n) < 0.35), 0, surg_sizes)
    sg, within = _expand(surg_sizes)
    add(sg, c.surgery_item[c.surgery_start[safe_dise[sg]] + within], np.ones(1, dtype=np.int64), 5)
    msk = in_stay & np.isin(c.diag_drugs[safe_dise], [c.group_ids["msk"], c.group_ids["stroke"]])
    rehab = np.flatnonzero(msk & has_dise & (rng.random(n) < 0.6))
    add(rehab, np.array(idx["rehab_emp"]), np.maximum(stay[rehab], 1), 6)

    billed = np.zeros(n, dtype=bool)
    for r in rows:
        billed[r] = True
    bare = np.flatnonzero(~billed)  # every visit bills at least its consultation (or a box)
    add(bare, np.where(setting[bare] == Setting.PHARMACY, idx["cold_tab"],
                       np.where(setting[bare] == Setting.EMERGENCY, idx["consult_er"],
                                idx["consult"])), np.ones(1, dtype=np.int64), 0)
    row = np.concatenate(rows)
    item = np.concatenate(items)
    cnt = np.concatenate(cnts)
    slot = np.concatenate(slots)
    order = np.lexsort((slot, row))
    row, item, cnt = row[order], item[order], cnt[order]
    if len(row):
        dup = np.zeros(len(row), dtype=bool)
        line_key = row * 10_000 + item
        sorted_key = np.sort(line_key, kind="stable")
        if (sorted_key[1:] == sorted_key[:-1]).any():
            _, first = np.unique(line_key, return_index=True)
            dup[:] = True
            dup[first] = False
            row, item, cnt = row[~dup], item[~dup], cnt[~dup]
    pric = c.unit_price(item, level_class[row])
    return _with_codes(row, item, cnt, pric, dr[row], alloc)
