"""Settlements and their fee lines as numeric column arrays, before they become text.

A :class:`Batch` holds settlements (one entry per row) and their :class:`Lines` (fee details,
each pointing at its settlement row), with traceability codes as (product, serial counter) pairs
in CSR form. Money is in fen (0.01 yuan), times in seconds since 2024-01-01 00:00, days since
2024-01-01. Batches are concatenated and reordered without Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import numpy.typing as npt

from yibao.synth import _catalog as cat

__all__ = ["Batch", "Lines", "TraceAllocator", "split_payments"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def _empty() -> I64:
    return np.zeros(0, dtype=np.int64)


def csr_gather(offsets: I64, pick: I64) -> tuple[I64, I64]:
    """For CSR ``offsets``, the new offsets and the flat value positions of rows ``pick``."""
    lengths = offsets[1:][pick] - offsets[:-1][pick]
    new_off = np.zeros(len(pick) + 1, dtype=np.int64)
    np.cumsum(lengths, out=new_off[1:])
    total = int(new_off[-1])
    if total == 0:
        return new_off, _empty()
    starts = offsets[:-1][pick]
    positions = np.arange(total, dtype=np.int64) - np.repeat(new_off[:-1] - starts, lengths)
    return new_off, positions


@dataclass(frozen=True)
class Lines:
    """Fee detail lines; ``row`` is the settlement's position in its batch."""

    row: I64
    item: I64
    cnt: I64
    """Units billed: boxes, tablets (split packs), days, times; negative on reversals."""
    pric: I64
    """Unit price in fen."""
    dr: I64
    """Billing practitioner (``bilg_dr_codg``) or -1."""
    code_off: I64
    """CSR offsets (length lines + 1) into ``code_prod`` / ``code_ser``."""
    code_prod: I64
    """Item index of the drug each traceability code belongs to."""
    code_ser: I64
    """Per-product serial counter of each code (permuted when written)."""

    def __len__(self) -> int:
        return len(self.row)

    @classmethod
    def empty(cls) -> Lines:
        return cls(_empty(), _empty(), _empty(), _empty(), _empty(), np.zeros(1, dtype=np.int64),
                   _empty(), _empty())

    @property
    def amount(self) -> I64:
        """Line total in fen (``cnt * pric``)."""
        return self.cnt * self.pric

    def take(self, pick: I64) -> Lines:
        """Lines ``pick`` (in that order), codes carried along."""
        off, pos = csr_gather(self.code_off, pick)
        return Lines(self.row[pick], self.item[pick], self.cnt[pick], self.pric[pick],
                     self.dr[pick], off, self.code_prod[pos], self.code_ser[pos])

    @staticmethod
    def concat(parts: list[Lines], row_offsets: list[int]) -> Lines:
        """Lines of several batches; rows shifted by each batch's offset."""
        if not parts:
            return Lines.empty()
        code_offs: list[I64] = [np.zeros(1, dtype=np.int64)]
        base = 0
        for p in parts:
            code_offs.append(p.code_off[1:] + base)
            base += int(p.code_off[-1])
        return Lines(
            row=np.concatenate([p.row + o for p, o in zip(parts, row_offsets, strict=True)]),
            item=np.concatenate([p.item for p in parts]),
            cnt=np.concatenate([p.cnt for p in parts]),
            pric=np.concatenate([p.pric for p in parts]),
            dr=np.concatenate([p.dr for p in parts]),
            code_off=np.concatenate(code_offs),
            code_prod=np.concatenate([p.code_prod for p in parts]),
            code_ser=np.concatenate([p.code_ser for p in parts]),
        )


@dataclass(frozen=True)
class Batch:
    """Settlement rows with their lines; all row arrays have the same length."""

    person: I64
    inst: I64
    med_type: I64
    time: I64
    begn: I64
    """Admission / visit day (days since 2024-01-01)."""
    end: I64
    dise: I64
    """Diagnosis index or -1 (no diagnosis)."""
    dr: I64
    """Attending or prescribing practitioner, or -1."""
    fund: I64
    hifp: I64
    acct: I64
    cash: I64
    orig: I64
    """For a reversal within the batch: the original's row; else -1."""
    orig_plant: I64
    """For a planted reversal: the original's plant id; else -1."""
    plant: I64
    """Planted row id (position in the scenario plan) or -1."""
    scen: I64
    """Scenario index or -1 (ordinary row)."""
    lines: Lines

    def __len__(self) -> int:
        return len(self.person)

    @property
    def medfee(self) -> I64:
        """Total of the settlement's lines, in fen."""
        total = np.bincount(self.lines.row, weights=self.lines.amount.astype(np.float64),
                            minlength=len(self))
        return np.round(total).astype(np.int64)

    @property
    def is_reversal(self) -> npt.NDArray[np.bool_]:
        return (self.orig >= 0) | (self.orig_plant >= 0)

    @classmethod
    def empty(cls) -> Batch:
        values = {f.name: _empty() for f in fields(cls) if f.name != "lines"}
        return cls(**values, lines=Lines.empty())

    @staticmethod
    def concat(parts: list[Batch]) -> Batch:
        """Rows of ``parts`` one after another (within-batch reversal links are kept)."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return Batch.empty()
        offsets = np.cumsum([0] + [len(p) for p in parts[:-1]]).tolist()
        values: dict[str, I64] = {}
        for f in fields(Batch):
            if f.name == "lines":
                continue
            arrays = [getattr(p, f.name) for p in parts]
            if f.name == "orig":
                arrays = [np.where(a >= 0, a + o, -1) for a, o in zip(arrays, offsets, strict=True)]
            values[f.name] = np.concatenate(arrays)
        return Batch(**values, lines=Lines.concat([p.lines for p in parts], offsets))

    def take(self, order: I64) -> Batch:
        """Rows in ``order`` (a permutation or a selection); lines follow their rows."""
        inverse = np.full(len(self), -1, dtype=np.int64)
        inverse[order] = np.arange(len(order), dtype=np.int64)
        values: dict[str, I64] = {}
        for f in fields(Batch):
            if f.name == "lines":
                continue
            values[f.name] = getattr(self, f.name)[order]
        orig = values["orig"]
        values["orig"] = np.where(orig >= 0, inverse[np.maximum(orig, 0)], -1)
        new_row = inverse[self.lines.row]
        keep = np.flatnonzero(new_row >= 0)
        line_order = keep[np.argsort(new_row[keep], kind="stable")]
        lines = self.lines.take(line_order)
        lines = replace(lines, row=new_row[line_order])
        return Batch(**values, lines=lines)


class TraceAllocator:
    """Hands out traceability-code serials, one counter per drug product, never twice."""

    def __init__(self) -> None:
        self.next = np.zeros(len(cat.ITEMS), dtype=np.int64)

    def allocate(self, product: I64) -> I64:
        """A fresh serial counter for each entry of ``product`` (item indices of drugs)."""
        product = np.asarray(product, dtype=np.int64)
        if not len(product):
            return _empty()
        order = np.argsort(product, kind="stable")
        sorted_prod = product[order]
        counts = np.bincount(sorted_prod, minlength=len(self.next))
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.arange(len(product)) - first[sorted_prod]
        serial = np.empty(len(product), dtype=np.int64)
        serial[order] = self.next[sorted_prod] + rank
        self.next += counts
        return serial


# fund share (统筹) of the total by med_type group and level class (primary, secondary, tertiary,
# pharmacy), for employees (310) and residents (390)
_FUND_SHARE = {
    (310, "op"): (0.80, 0.70, 0.62, 0.50),
    (390, "op"): (0.55, 0.45, 0.35, 0.50),
    (310, "ip"): (0.92, 0.88, 0.85, 0.85),
    (390, "ip"): (0.80, 0.70, 0.60, 0.60),
    (310, "mt"): (0.85, 0.82, 0.80, 0.70),
    (390, "mt"): (0.70, 0.65, 0.60, 0.55),
}
_OP_FUNDED = {310: 0.75, 390: 0.6}
"""Share of outpatient visits above the deductible (起付线), where the fund pays at all."""
_LARGE_CASE_FEN = 3_000_000
"""Above 30,000 yuan part of the fund share comes from 大病保险, not 统筹 (``hifp_pay``)."""


def split_payments(
    medfee: I64, med_type: I64, insutype: I64, level_class: I64, rng: np.random.Generator
) -> tuple[I64, I64, I64, I64]:
    """Split totals (fen) into fund, of which pooled fund (``hifp``), account and cash.

    ``fund + acct + cash == medfee`` exactly and ``hifp <= fund``; all parts are >= 0.
    """
    n = len(medfee)
    employee = insutype != 390
    kind = np.where(np.isin(med_type, (21, 22, 24, 25, 28, 52)), "ip",
                    np.where(np.isin(med_type, (14, 15)), "mt", "op"))
    share = np.zeros(n)
    for (scheme, group), by_level in _FUND_SHARE.items():
        mask = (kind == group) & (employee == (scheme == 310))
        share[mask] = np.asarray(by_level)[level_class[mask]]
    share = np.clip(share + rng.normal(0.0, 0.03, n), 0.0, 0.95)
    op = kind == "op"
    pharmacy = med_type == 41
    funded = rng.random(n) < np.where(employee, _OP_FUNDED[310], _OP_FUNDED[390])
    funded &= ~pharmacy | (rng.random(n) < np.where(employee, 0.35, 0.45))
    share = np.where(op & ~funded, 0.0, share)
    retired_cadre = insutype == 340
    share = np.where(retired_cadre, 1.0, share)
    fund = np.floor(medfee * share).astype(np.int64)
    hifp = np.where(retired_cadre, 0, fund)
    large = (fund > _LARGE_CASE_FEN) & ~retired_cadre
    hifp = np.where(large, np.floor(fund * rng.uniform(0.7, 0.9, n)).astype(np.int64), hifp)
    rest = medfee - fund
    uses_account = employee & ~retired_cadre & (rng.random(n) < np.where(pharmacy, 0.9, 0.55))
    acct_share = np.where(pharmacy, 1.0, rng.uniform(0.3, 1.0, n))
    acct = np.where(uses_account, np.floor(rest * acct_share), 0).astype(np.int64)
    cash = medfee - fund - acct
    return fund, hifp.astype(np.int64), acct, cash
