"""The generator's building blocks: identifiers, payments, trace codes, calendar, batches."""

from __future__ import annotations

import numpy as np
import pytest

from yibao.synth._batch import Batch, Lines, TraceAllocator, split_payments
from yibao.synth._calendar import Profile, day_weights, sample_seconds_of_day
from yibao.synth._format import trace_codes, yuan
from yibao.synth._ids import certno_check_char, permute
from yibao.synth._sampling import WeightedCSR, weighted_sample_without_replacement


def test_certno_check_digit_of_the_standard_example() -> None:
    # GB 11643-1999's worked example: 11010519491231002X
    assert certno_check_char("11010519491231002") == "X"
    assert certno_check_char("34052419800101001") == "X"
    # by hand: sum of digit * weight = 222, 222 mod 11 = 2 -> "X"
    assert certno_check_char("11010119900307803") == "X"
    assert certno_check_char("32010219850512123") == "10X98765432"[
        sum(int(d) * w for d, w in zip("32010219850512123", (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7,
                                                           9, 10, 5, 8, 4, 2), strict=True)) % 11]


def test_permute_is_a_bijection() -> None:
    out = permute(np.arange(97, dtype=np.int64), 5, 3, modulus=97)
    assert sorted(out.tolist()) == list(range(97))
    with pytest.raises(ValueError, match="range"):
        permute(np.array([97], dtype=np.int64), 5, 3, modulus=97)


def test_trace_allocator_never_gives_a_serial_twice() -> None:
    alloc = TraceAllocator()
    a = alloc.allocate(np.array([3, 3, 5, 3], dtype=np.int64))
    b = alloc.allocate(np.array([5, 3], dtype=np.int64))
    pairs = list(zip([3, 3, 5, 3, 5, 3], [*a.tolist(), *b.tolist()], strict=True))
    assert len(set(pairs)) == len(pairs)
    codes = trace_codes(np.array([p for p, _ in pairs]), np.array([s for _, s in pairs]))
    assert all(len(c) == 20 and c.isdigit() for c in codes.to_pylist())
    assert len(set(codes.to_pylist())) == len(pairs)


def test_split_payments_add_up_exactly() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    medfee = rng.integers(0, 5_000_000, n)
    med_type = rng.choice([11, 13, 14, 21, 28, 41, 52], n)
    insutype = rng.choice([310, 340, 390], n)
    level = rng.integers(0, 4, n)
    fund, hifp, acct, cash = split_payments(medfee, med_type, insutype, level, rng)
    assert np.array_equal(fund + acct + cash, medfee)
    assert (hifp <= fund).all()
    assert min(fund.min(), hifp.min(), acct.min(), cash.min()) >= 0
    assert (acct[insutype == 390] == 0).all(), "residents have no personal account"
    assert (hifp[medfee > 4_000_000] < fund[medfee > 4_000_000]).any(), "大病保险 share"


def test_yuan_text() -> None:
    assert yuan(np.array([0, 5, 1234, -1234, 100_000_00])).to_pylist() == [
        "0.00", "0.05", "12.34", "-12.34", "100000.00"]


def test_calendar_winter_peak_festival_dip_and_opening_hours() -> None:
    w = day_weights(Profile.HOSPITAL)
    assert w[0:31].mean() > w[182:213].mean()  # January above July
    assert w[40] < 0.5 * w[31]  # 10 February (春节) far below 1 February
    assert w[7] > w[13]  # a Monday above a Sunday
    secs = sample_seconds_of_day(Profile.PHARMACY, 10_000, np.random.default_rng(1))
    hours = secs / 3600
    assert ((hours >= 7.5) & (hours < 23)).mean() > 0.98


def test_weighted_pools_and_sampling() -> None:
    csr = WeightedCSR.from_lists([[(10, 1.0), (11, 3.0)], [], [(20, 1.0)]])
    rng = np.random.default_rng(2)
    picks = csr.pick(np.zeros(4000, dtype=np.int64), rng.random(4000))
    assert set(picks.tolist()) == {10, 11}
    assert 0.7 < (picks == 11).mean() < 0.8
    assert csr.pick(np.array([1, 2]), np.array([0.5, 0.5])).tolist() == [-1, 20]
    chosen = weighted_sample_without_replacement(np.array([0.0, 1.0, 1.0, 5.0]), 2, rng)
    assert len(set(chosen.tolist())) == 2
    assert 0 not in chosen


def test_batch_take_keeps_lines_and_codes_with_their_rows() -> None:
    lines = Lines(
        row=np.array([0, 1, 1]), item=np.array([0, 1, 2]), cnt=np.array([1, 2, 1]),
        pric=np.array([100, 50, 7]), dr=np.array([-1, -1, -1]),
        code_off=np.array([0, 1, 3, 3]), code_prod=np.array([0, 1, 1]),
        code_ser=np.array([7, 8, 9]),
    )
    n = np.full(2, -1)
    batch = Batch(person=np.array([5, 6]), inst=n, med_type=np.array([41, 41]),
                  time=np.array([20, 10]), begn=n, end=n, dise=n, dr=n, fund=n, hifp=n,
                  acct=n, cash=n, orig=n, orig_plant=n, plant=n, scen=n, lines=lines)
    swapped = batch.take(np.array([1, 0]))
    assert swapped.person.tolist() == [6, 5]
    assert swapped.lines.row.tolist() == [0, 0, 1]
    assert swapped.lines.code_ser.tolist() == [8, 9, 7]
    assert swapped.medfee.tolist() == [107, 100]
