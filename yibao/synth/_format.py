"""Numeric rows to the text the national platform exports (all columns are strings).

Identifiers: ``setl_id`` = ``2024`` + 10 digits and ``mdtrt_id`` = ``JZ2024`` + 10 digits, each a
permuted row counter; traceability codes = 7-digit product prefix + 9-digit permuted serial +
4 check digits. Money: yuan with two decimals; times ``YYYY-MM-DD HH:MM:SS``; dates
``YYYY-MM-DD``; coordinates with six decimals.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yibao.synth import _catalog as cat
from yibao.synth._batch import Batch
from yibao.synth._calendar import EPOCH_UNIX
from yibao.synth._fees import catalog
from yibao.synth._ids import TRACE_SERIAL_MODULUS, lpad_digits, permute, splitmix64
from yibao.synth.persons import DAY_2024, Persons
from yibao.synth.population import Geography, Institutions, Practitioners

__all__ = [
    "FEE_COLUMNS",
    "SETTLEMENT_COLUMNS",
    "fee_table",
    "institutions_table",
    "mdtrt_ids",
    "persons_table",
    "practitioners_table",
    "setl_ids",
    "settlements_table",
    "trace_codes",
    "yuan",
]

I64 = npt.NDArray[np.int64]

_SETL_A, _SETL_B = 1_597_334_677, 305_175_781
_MDTRT_A, _MDTRT_B = 1_013_904_223, 1_664_525
_TRACE_A, _TRACE_B = 700_001_537, 48_271

SETTLEMENT_COLUMNS = (
    "setl_id", "mdtrt_id", "psn_no", "fixmedins_code", "med_type", "setl_time", "begndate",
    "enddate", "medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay",
    "dise_codg", "dr_codg", "init_setl_id",
)
FEE_COLUMNS = (
    "feedetl_sn", "setl_id", "med_list_codg", "med_list_name", "cnt", "pric",
    "det_item_fee_sumamt", "bilg_dr_codg", "drug_trac_codg",
)


def _join(*parts: pa.Array) -> pa.StringArray:
    out: pa.StringArray = pc.binary_join_element_wise(*parts, "")
    return out


def setl_ids(counter: I64) -> pa.StringArray:
    """``setl_id`` of each global settlement counter."""
    n = len(counter)
    return _join(pa.array(["2024"] * n), lpad_digits(permute(counter, _SETL_A, _SETL_B), 10))


def mdtrt_ids(counter: I64) -> pa.StringArray:
    """``mdtrt_id`` (就诊ID) of each visit counter."""
    n = len(counter)
    return _join(pa.array(["JZ2024"] * n), lpad_digits(permute(counter, _MDTRT_A, _MDTRT_B), 10))


def trace_codes(item: I64, serial: I64) -> pa.StringArray:
    """20-digit traceability codes of boxes (drug item index, serial counter)."""
    product = catalog().product[np.asarray(item, dtype=np.int64)]
    perm = permute(np.asarray(serial, dtype=np.int64), _TRACE_A, _TRACE_B, TRACE_SERIAL_MODULUS)
    check = (splitmix64(product * 1_000_000_000 + perm) % np.uint64(10_000)).astype(np.int64)
    return _join(lpad_digits(product, 7), lpad_digits(perm, 9), lpad_digits(check, 4))


def yuan(fen: I64) -> pa.StringArray:
    """Amounts in fen as yuan text with two decimals (``-12.50`` for negatives)."""
    fen = np.asarray(fen, dtype=np.int64)
    a = np.abs(fen)
    text = _join(pa.array(a // 100).cast(pa.string()), pa.array(["."] * len(a)),
                 lpad_digits(a % 100, 2))
    sign = pa.array(np.where(fen < 0, "-", ""))
    return _join(sign, text)


def _datetime_text(seconds: I64) -> pa.StringArray:
    ts = pa.array(np.asarray(seconds, dtype=np.int64) + EPOCH_UNIX, type=pa.timestamp("s"))
    out: pa.StringArray = pc.strftime(ts, format="%Y-%m-%d %H:%M:%S")
    return out


def _date_text(days_since_1970: I64) -> pa.StringArray:
    out: pa.StringArray = pa.array(np.asarray(days_since_1970, dtype=np.int32),
                                   type=pa.date32()).cast(pa.string())
    return out


def _take(values: pa.Array, index: I64) -> pa.Array:
    """``values[index]`` with nulls where ``index`` is negative."""
    index = np.asarray(index, dtype=np.int64)
    mask = index < 0
    return values.take(pa.array(np.where(mask, 0, index), mask=mask))


def _int_text(values: I64) -> pa.StringArray:
    out: pa.StringArray = pa.array(np.asarray(values, dtype=np.int64)).cast(pa.string())
    return out


def _coord_text(degrees: npt.NDArray[np.float64]) -> pa.StringArray:
    micro = np.round(np.asarray(degrees) * 1_000_000).astype(np.int64)
    return _join(_int_text(micro // 1_000_000), pa.array(["."] * len(micro)),
                 lpad_digits(micro % 1_000_000, 6))


def _diagnosis_codes() -> pa.StringArray:
    return pa.array([d.code for d in cat.DIAGNOSES], type=pa.string())


def settlements_table(
    b: Batch, counter: I64, init_counter: I64, persons: Persons, inst: Institutions,
    prac: Practitioners,
) -> pa.Table:
    """Settlements of ``b`` with their global counters (``init_counter``: original's, or -1)."""
    mdtrt = np.where(init_counter >= 0, init_counter, counter)
    medfee = b.fund + b.acct + b.cash
    columns = [
        setl_ids(counter),
        mdtrt_ids(mdtrt),
        _take(persons.psn_no, b.person),
        _take(inst.code, b.inst),
        _int_text(b.med_type),
        _datetime_text(b.time),
        _date_text(b.begn + DAY_2024),
        _date_text(b.end + DAY_2024),
        yuan(medfee),
        yuan(b.fund),
        yuan(b.hifp),
        yuan(b.acct),
        yuan(b.cash),
        _take(_diagnosis_codes(), b.dise),
        _take(prac.code, b.dr),
        pc.if_else(pa.array(init_counter >= 0), setl_ids(np.maximum(init_counter, 0)),
                   pa.scalar(None, pa.string())),
    ]
    return pa.table(columns, names=list(SETTLEMENT_COLUMNS))


def fee_table(b: Batch, setl: pa.StringArray, prac: Practitioners) -> pa.Table:
    """Fee details of ``b``; ``setl`` holds each settlement's ``setl_id``."""
    lines = b.lines
    n = len(lines)
    row = lines.row
    starts = np.searchsorted(row, np.arange(len(b)))
    number = np.arange(n, dtype=np.int64) - starts[row] + 1
    if n and int(number.max()) > 99:
        raise RuntimeError("a settlement has more than 99 fee lines")
    setl_of_line = setl.take(pa.array(row))
    items = cat.ITEMS
    codes = pa.array([i.code for i in items], type=pa.string())
    names = pa.array([i.name for i in items], type=pa.string())
    per_code = trace_codes(lines.code_prod, lines.code_ser)
    listed = pa.ListArray.from_arrays(pa.array(lines.code_off.astype(np.int32)), per_code)
    joined = pc.binary_join(listed, ";")
    has = pa.array(lines.code_off[1:] > lines.code_off[:-1])
    columns = [
        _join(setl_of_line, lpad_digits(number, 2)),
        setl_of_line,
        codes.take(pa.array(lines.item)),
        names.take(pa.array(lines.item)),
        _int_text(lines.cnt),
        yuan(lines.pric),
        yuan(lines.amount),
        _take(prac.code, lines.dr),
        pc.if_else(has, joined, pa.scalar(None, pa.string())),
    ]
    return pa.table(columns, names=list(FEE_COLUMNS))


def persons_table(persons: Persons, geo: Geography) -> pa.Table:
    """Persons in file order (sorted by ``psn_no``)."""
    order = pa.array(persons.file_order)
    insu = pa.array(np.array(geo.city_code)[persons.insu_city])
    table = pa.table(
        [persons.psn_no, persons.name, persons.certno, _int_text(persons.gend),
         _date_text(persons.brdy), _int_text(persons.insutype), insu, persons.tel],
        names=["psn_no", "psn_name", "certno", "gend", "brdy", "insutype", "insu_admdvs", "tel"],
    )
    return table.take(order)


def institutions_table(inst: Institutions, geo: Geography) -> tuple[pa.Table, I64]:
    """Institutions sorted by code, and the generator index of each file row."""
    order = pc.sort_indices(inst.code).to_numpy()
    table = pa.table(
        [inst.code, inst.name, _int_text(inst.fixmedins_type), inst.hosp_lv,
         pa.array(np.array(geo.county_code)[inst.county]), inst.addr, _coord_text(inst.lon),
         _coord_text(inst.lat)],
        names=["fixmedins_code", "fixmedins_name", "fixmedins_type", "hosp_lv", "admdvs", "addr",
               "lon", "lat"],
    )
    return table.take(pa.array(order)), order.astype(np.int64)


def practitioners_table(prac: Practitioners, inst: Institutions) -> tuple[pa.Table, I64]:
    """Practitioners sorted by code, and the generator index of each file row."""
    order = pc.sort_indices(prac.code).to_numpy()
    table = pa.table(
        [prac.code, prac.name, inst.code.take(pa.array(prac.inst)), _int_text(prac.dr_type)],
        names=["dr_codg", "dr_name", "fixmedins_code", "dr_type"],
    )
    return table.take(pa.array(order)), order.astype(np.int64)
