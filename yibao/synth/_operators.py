"""Operators (经办人): the cashiers and registrars who key settlements, and their shifts.

Each institution has a few operators: a village clinic one, a pharmacy one to four, a hospital
more with its size. They work in shift groups that rotate: the day is cut at 15:00 into an
early and a late shift, and the group on duty moves on by one each half day and each week. A
pharmacy's group is one person; a hospital's groups staff several windows, and a settlement
goes to one of the group's operators. An honest settlement is keyed by an operator on duty at
its time. A ring's settlements at its pharmacy are all keyed by one operator, whoever is on
duty: the one who swipes the pooled cards (:func:`operator_of_rows` with ``ring``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from yibao.synth._ids import hash_uniform, lpad_digits, permute
from yibao.synth.population import Category, Institutions, Practitioners

__all__ = ["Operators", "operator_of_rows", "operators_for"]

I64 = npt.NDArray[np.int64]

_ID_MODULUS = 99_999_989
"""A prime below 10**8: operator IDs are 8-digit permuted counters."""
_ID_A, _ID_B = 48_271_263, 7_654_321
_SHIFT_CUT = 15 * 3600
_SALT_WINDOW = 0x0DE7A11
_SALT_RING = 0x5EED_0E7

# minimum and maximum operators by category; hospitals scale with their doctors
_MIN = np.array([6, 5, 4, 2, 2, 1, 1])
_MAX = np.array([40, 24, 14, 5, 4, 1, 4])


@dataclass(frozen=True)
class Operators:
    """Operators, stored by institution (``inst_start``/``inst_count``), and shift groups."""

    opter_id: pa.StringArray
    name: pa.StringArray
    inst_start: I64
    inst_count: I64
    groups: I64
    """Shift groups of each institution (a pharmacy: one per operator; a hospital: up to 3)."""
    offset: I64
    """Each institution's place in the rotation."""

    def __len__(self) -> int:
        return len(self.opter_id)


def operators_for(inst: Institutions, prac: Practitioners,
                  rng: np.random.Generator) -> Operators:
    """Operators of every institution: 1-4 at a pharmacy (mostly 2-3), hospitals by size."""
    from yibao.synth.persons import random_names

    n = len(inst)
    cat_ = inst.category
    doctors = prac.inst_count.astype(np.float64)
    by_size = np.round(doctors * rng.uniform(0.25, 0.45, n)).astype(np.int64)
    shop = np.searchsorted(np.cumsum([0.25, 0.35, 0.25, 0.15]), rng.random(n), side="right") + 1
    count = np.where(cat_ == Category.PHARMACY, shop, by_size)
    count = np.clip(count, _MIN[cat_], _MAX[cat_]).astype(np.int64)
    start = np.concatenate([[0], np.cumsum(count)[:-1]]).astype(np.int64)
    total = int(count.sum())
    groups = np.where(cat_ == Category.PHARMACY, count, np.minimum(count, 3)).astype(np.int64)
    counter = permute(np.arange(total, dtype=np.int64), _ID_A, _ID_B, _ID_MODULUS)
    names = random_names(total, rng, birth_year=rng.integers(1968, 2003, total))
    return Operators(opter_id=lpad_digits(counter, 8), name=names, inst_start=start,
                     inst_count=count, groups=groups,
                     offset=rng.integers(0, 1000, n).astype(np.int64))


def operator_of_rows(ops: Operators, inst: I64, time: I64, counter: I64, key: int,
                     ring: npt.NDArray[np.bool_], ring_key: I64) -> I64:
    """The operator (index into ``ops``) who keys each settlement.

    ``time``: seconds since 2024-01-01; ``counter``: the settlement's global counter (picks the
    window at a hospital); ``ring``: rows keyed by a ring's operator, chosen per ``ring_key``
    (one operator of the institution for each ring and institution).
    """
    day = time // 86_400
    late = (time % 86_400) >= _SHIFT_CUT
    k = ops.inst_count[inst]
    g = ops.groups[inst]
    on_duty = (2 * day + late + day // 7 + ops.offset[inst]) % g
    members = (k - on_duty + g - 1) // g
    window = np.minimum((hash_uniform(key, _SALT_WINDOW, counter) * members).astype(np.int64),
                        members - 1)
    local = on_duty + window * g
    if ring.any():
        pick = np.minimum((hash_uniform(key, _SALT_RING, ring_key) * k).astype(np.int64), k - 1)
        local = np.where(ring, pick, local)
    out: I64 = ops.inst_start[inst] + local
    return out
