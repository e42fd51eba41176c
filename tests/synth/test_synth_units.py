"""The generator's building blocks: identifiers, payments, trace codes, calendar, batches, code
tables, fault expectations, operators' shifts."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
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


def test_code_tables_cover_the_catalogue() -> None:
    from yibao.synth import _catalog as cat
    from yibao.synth._code_tables import (
        DEPARTMENT_OF_DIAGNOSIS,
        DEPARTMENTS,
        HOSP_LV_LABELS,
        HOSP_LV_SHORT,
        ICD_EXTENSIONS,
        ICD_PATTERN,
        TCM_DIAGNOSES,
        TCM_PATTERN,
    )

    core = {d.code for d in cat.DIAGNOSES}
    assert set(DEPARTMENT_OF_DIAGNOSIS) == core
    assert set(DEPARTMENT_OF_DIAGNOSIS.values()) <= {name for _, name in DEPARTMENTS}
    assert set(ICD_EXTENSIONS) <= core
    assert set(TCM_DIAGNOSES) <= core
    for code, ext in ICD_EXTENSIONS.items():
        for e in ext:
            assert re.fullmatch(ICD_PATTERN, code + e)
            assert re.fullmatch(r"x\d{3}", e)
    for (disease, _), syndromes in TCM_DIAGNOSES.values():
        assert re.fullmatch(TCM_PATTERN, disease)
        assert disease.startswith("A")
        assert disease.count(".") == 2
        assert all(s.startswith("B") and s.count(".") == 3 for s, _ in syndromes)
    assert set(HOSP_LV_LABELS) == set(HOSP_LV_SHORT) == {f"{i:02d}" for i in range(1, 12)}
    assert all(re.fullmatch(r"A\d{2}(\.\d{2})?", c) for c, _ in DEPARTMENTS)
    assert len({n for _, n in DEPARTMENTS}) == len(DEPARTMENTS), "one local name, one index"


def test_expectations_cover_every_injected_fault() -> None:
    from yibao.synth.dirty import _KINDS, NORMALISE_KINDS, expect_of

    for table, kinds in _KINDS.items():
        for kind in kinds:
            assert expect_of(table, kind, None) in ("quarantine", "note", "normalise")
    assert expect_of("persons", "bad_check_digit", "certno") == "note"
    assert expect_of("persons", "missing_value", "psn_no") == "quarantine"
    assert expect_of("persons", "missing_value", "brdy") == "note"
    assert expect_of("persons", "sci_notation_id", "psn_no") == "quarantine"
    assert expect_of("institutions", "missing_value", "fixmedins_code") == "quarantine"
    assert expect_of("institutions", "bad_enum", "fixmedins_type") == "note"
    assert expect_of("practitioners", "unknown_institution", "fixmedins_code") == "quarantine"
    assert expect_of("practitioners", "missing_value", "dr_name") == "note"
    assert expect_of("settlements", "bad_enum", "med_type") == "note"
    assert expect_of("settlements", "missing_value", "med_type") == "note"
    assert expect_of("settlements", "missing_value", "setl_time") == "quarantine"
    assert expect_of("settlements", "local_code", "dise_codg") == "note"
    assert expect_of("fee_details", "missing_value", "med_list_name") == "note"
    assert expect_of("fee_details", "missing_value", "cnt") == "quarantine"
    assert all(expect_of("fee_details", k, "pric") == "normalise" for k in NORMALISE_KINDS)
    with pytest.raises(KeyError, match="'local_code' in 'fee_details'"):
        expect_of("fee_details", "local_code", "bilg_dr_codg")


def test_operators_on_duty_rotate_by_shift_and_week() -> None:
    from yibao.synth._operators import Operators, operator_of_rows

    ops = Operators(opter_id=pa.array(["a", "b", "c", "d", "e", "f", "g"]),
                    name=pa.array(list("ABCDEFG")), inst_start=np.array([0, 2]),
                    inst_count=np.array([2, 5]), groups=np.array([2, 2]),
                    offset=np.array([0, 1]))
    day = np.array([0, 0, 1, 7, 0, 0, 0, 0])
    hour = np.array([9, 16, 9, 9, 9, 9, 9, 9])
    inst = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    time = day * 86_400 + hour * 3600
    counter = np.arange(len(day))
    ring = np.zeros(len(day), dtype=bool)
    who = operator_of_rows(ops, inst, time, counter, 42, ring, counter)
    # pharmacy 0: early and late shifts differ, the next day likewise, a week later swapped
    assert who[:4].tolist() == [0, 1, 0, 1]
    # hospital 1 (5 operators in 2 groups: 2, 4, 6 and 3, 5): at 9:00 on day 0 group 1 works
    assert set(who[4:].tolist()) <= {3, 5}
    ring[4:] = True
    keyed = operator_of_rows(ops, inst, time, counter, 42, ring, np.full(len(day), 9))
    assert len(set(keyed[4:].tolist())) == 1, "one ring, one operator, any shift"
    assert 2 <= keyed[4] < 7


def test_reserved_staff_codes_keep_the_shape() -> None:
    from types import SimpleNamespace

    from yibao.synth.dirty import FaultInjector

    inj = SimpleNamespace(_extra_serial=0)
    make = FaultInjector.reserved_staff_code
    assert make(inj, "D34120212345") == "D34120290001"  # type: ignore[arg-type]
    assert make(inj, "D341202012345") == "D341202090002"  # type: ignore[arg-type]
    assert make(inj, "HY341202000012") == "HY341202090003"  # type: ignore[arg-type]
    assert FaultInjector.local_staff_code(inj) == "GH900004"  # type: ignore[arg-type]
