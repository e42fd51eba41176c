"""Numeric rows to the text the national platform exports (all columns are strings).

Identifiers: ``setl_id`` = ``2024`` + 10 digits and ``mdtrt_id`` = ``JZ2024`` + 10 digits, each a
permuted row counter; traceability codes = 7-digit product prefix + 9-digit permuted serial +
4 check digits. Money: yuan with two decimals; times ``YYYY-MM-DD HH:MM:SS``; dates
``YYYY-MM-DD``; coordinates with six decimals. Practitioner codes, hospital levels, diagnosis
codes, departments and operators are written as the run's
:class:`~yibao.synth._export.ExportView` says. Columns follow the data contract's order; a
column the contract does not (yet) know comes after the contract's.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yibao.synth import _catalog as cat
from yibao.synth._batch import Batch
from yibao.synth._calendar import EPOCH_UNIX
from yibao.synth._export import DEPARTMENT_CODES, DEPARTMENT_NAMES, ExportView, department_rows
from yibao.synth._fees import catalog
from yibao.synth._ids import TRACE_SERIAL_MODULUS, lpad_digits, permute, splitmix64
from yibao.synth.persons import DAY_2024, Persons
from yibao.synth.population import Geography, Institutions, Practitioners

__all__ = [
    "FEE_COLUMNS",
    "OPERATOR_COLUMNS",
    "SETTLEMENT_COLUMNS",
    "column_label_zh",
    "fee_table",
    "institutions_table",
    "mdtrt_ids",
    "persons_table",
    "practitioners_table",
    "setl_ids",
    "settlements_table",
    "table_columns",
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
OPERATOR_COLUMNS = ("opter_id", "opter_name", "dept_codg", "dept_name")
"""Settlement columns written with ``ExportFormats(operators=True)``."""
FEE_COLUMNS = (
    "feedetl_sn", "setl_id", "med_list_codg", "med_list_name", "cnt", "pric",
    "det_item_fee_sumamt", "bilg_dr_codg", "drug_trac_codg",
)
_SMALL_COLUMNS = {
    "persons": ("psn_no", "psn_name", "certno", "gend", "brdy", "insutype", "insu_admdvs", "tel"),
    "institutions": ("fixmedins_code", "fixmedins_name", "fixmedins_type", "hosp_lv", "admdvs",
                     "addr", "lon", "lat"),
    "practitioners": ("dr_codg", "dr_name", "fixmedins_code", "dr_type"),
}
_LABELS_ZH = {"opter_id": "经办人ID", "opter_name": "经办人姓名", "dept_codg": "科室编码",
              "dept_name": "科室名称"}
"""Chinese headers of columns the contract may not know."""


def table_columns(table: str, *, operators: bool = False) -> tuple[str, ...]:
    """The columns the generator writes for ``table``, in file order (``operators``: the
    settlements' operator and department columns too)."""
    from loaders.contract import TABLES

    if table == "settlements":
        written = SETTLEMENT_COLUMNS + (OPERATOR_COLUMNS if operators else ())
    elif table == "fee_details":
        written = FEE_COLUMNS
    else:
        written = _SMALL_COLUMNS[table]
    known = TABLES[table].column_names
    return (*(c for c in known if c in written), *(c for c in written if c not in known))


def column_label_zh(table: str, column: str) -> str:
    """The Chinese header of ``column`` (the contract's, else the generator's own)."""
    from loaders.contract import TABLES

    if column in TABLES[table].column_names:
        return TABLES[table].column(column).label_zh
    return _LABELS_ZH[column]


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


def settlements_table(
    b: Batch, counter: I64, init_counter: I64, persons: Persons, inst: Institutions,
    view: ExportView,
) -> pa.Table:
    """Settlements of ``b`` with their global counters (``init_counter``: original's, or -1)."""
    mdtrt = np.where(init_counter >= 0, init_counter, counter)
    medfee = b.fund + b.acct + b.cash
    columns: list[pa.Array] = [
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
        view.diagnosis_texts(b),
        _take(view.prac_code, b.dr),
        pc.if_else(pa.array(init_counter >= 0), setl_ids(np.maximum(init_counter, 0)),
                   pa.scalar(None, pa.string())),
    ]
    names = list(SETTLEMENT_COLUMNS)
    if view.operators is not None:
        opter = view.operator_rows(b, counter)
        dept = department_rows(view, b, inst, persons)
        columns += [view.operators.opter_id.take(pa.array(opter)),
                    view.operators.name.take(pa.array(opter)),
                    _take(DEPARTMENT_CODES, dept), _take(DEPARTMENT_NAMES, dept)]
        names += OPERATOR_COLUMNS
    table = pa.table(columns, names=names)
    order = table_columns("settlements", operators=view.operators is not None)
    return table if tuple(names) == order else table.select(list(order))


def fee_table(b: Batch, setl: pa.StringArray, view: ExportView) -> pa.Table:
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
        _take(view.prac_code, lines.dr),
        pc.if_else(has, joined, pa.scalar(None, pa.string())),
    ]
    table = pa.table(columns, names=list(FEE_COLUMNS))
    order = table_columns("fee_details")
    return table if order == FEE_COLUMNS else table.select(list(order))


def _in_order(table: pa.Table, name: str) -> pa.Table:
    order = table_columns(name)
    return table if tuple(table.column_names) == order else table.select(list(order))


def persons_table(persons: Persons, geo: Geography) -> pa.Table:
    """Persons in file order (sorted by ``psn_no``)."""
    order = pa.array(persons.file_order)
    insu = pa.array(np.array(geo.city_code)[persons.insu_city])
    table = pa.table(
        [persons.psn_no, persons.name, persons.certno, _int_text(persons.gend),
         _date_text(persons.brdy), _int_text(persons.insutype), insu, persons.tel],
        names=list(_SMALL_COLUMNS["persons"]),
    )
    return _in_order(table.take(order), "persons")


def institutions_table(inst: Institutions, geo: Geography, view: ExportView) -> pa.Table:
    """Institutions sorted by code, ``hosp_lv`` as the view writes it."""
    order = pc.sort_indices(inst.code)
    table = pa.table(
        [inst.code, inst.name, _int_text(inst.fixmedins_type), view.hosp_lv,
         pa.array(np.array(geo.county_code)[inst.county]), inst.addr, _coord_text(inst.lon),
         _coord_text(inst.lat)],
        names=list(_SMALL_COLUMNS["institutions"]),
    )
    return _in_order(table.take(order), "institutions")


def practitioners_table(prac: Practitioners, inst: Institutions, view: ExportView) -> pa.Table:
    """Practitioners sorted by code: doctors and pharmacists, and (with national staff codes)
    nurses, technicians and pharmacy staff."""
    codes = [view.prac_code]
    names = [prac.name]
    owners = [prac.inst]
    types = [prac.dr_type]
    if view.staff is not None and view.staff_code is not None:
        codes.append(view.staff_code)
        names.append(view.staff.name)
        owners.append(view.staff.inst)
        types.append(view.staff.dr_type)
    code = pa.concat_arrays(codes)
    table = pa.table(
        [code, pa.concat_arrays(names), inst.code.take(pa.array(np.concatenate(owners))),
         _int_text(np.concatenate(types))],
        names=list(_SMALL_COLUMNS["practitioners"]),
    )
    return _in_order(table.take(pc.sort_indices(code)), "practitioners")
