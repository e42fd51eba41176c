"""Fault recipes per table: which rows get which export fault, for :mod:`yibao.synth.dirty`.

Quarantine and note faults go on EXTRA rows built from an ordinary row (new identifiers from
reserved counters, so they collide with nothing) or on duplicated rows; normalise faults edit
ordinary rows in place. Planted rows, persons, institutions and practitioners are never edited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from loaders.contract import INSUTYPES, MED_TYPES
from yibao.synth._batch import Batch
from yibao.synth._code_tables import HOSP_LV_LABELS
from yibao.synth._format import trace_codes
from yibao.synth._ids import certno_check_char
from yibao.synth.writer import Cell, TableWriter

if TYPE_CHECKING:
    from yibao.synth.dirty import FaultInjector

__all__ = [
    "Placed",
    "fee_faults",
    "institution_faults",
    "new_placed",
    "person_faults",
    "practitioner_faults",
    "settlement_faults",
]

I64 = npt.NDArray[np.int64]

_UNKNOWN_DIVISIONS = ("341400", "350100", "420100", "990100")
"""Division codes that are not 沪苏浙皖 today (341400 was 巢湖市, abolished in 2011)."""
_FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
_EXCEL_EPOCH = date(1899, 12, 30)
_AMOUNTS = ("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay")
UNMATCHED_ORIGINAL = 5_000_000
ORPHAN_SETTLEMENT = 6_000_000
_EXTRA_SERIAL = 900_000_000


@dataclass
class Placed:
    """Faulty content for one chunk: in-place edits, replaced rows and extra rows."""

    edits: dict[int, list[tuple[str, str | None, str]]]
    """row -> (column, new text, kind)."""
    raws: dict[int, tuple[list[Cell], str, str]]
    """row -> (cells, column, kind): the row is written as raw cells (Excel date cells)."""
    inserts: list[tuple[int, list[Cell], str | None, str]]
    """(after row, cells, column, kind) extra rows; after -1 means before the first row."""

    def edit(self, row: int, column: str, text: str | None, kind: str) -> None:
        """Write ``text`` into ``column`` of ``row`` in place: a fault of ``kind``."""
        self.edits.setdefault(row, []).append((column, text, kind))


def _record(data: pa.Table, r: int) -> dict[str, Any]:
    """Row ``r`` of ``data`` as a dict of its cells."""
    out: dict[str, Any] = data.slice(r, 1).to_pylist()[0]
    return out


def new_placed() -> Placed:
    """Nothing placed yet."""
    return Placed({}, {}, [])


def _fullwidth(text: str) -> str:
    return text.translate(_FULLWIDTH)


def _thousands(text: str) -> str:
    sign = "-" if text.startswith("-") else ""
    whole, _, frac = text.lstrip("-").partition(".")
    return f"{sign}{int(whole):,}.{frac}"


def _excel_serial(text: str) -> str:
    if " " in text:
        when = datetime.fromisoformat(text)
        days = (when.date() - _EXCEL_EPOCH).days
        seconds = when.hour * 3600 + when.minute * 60 + when.second
        return f"{days + seconds / 86_400:.10f}".rstrip("0").rstrip(".")
    return str((date.fromisoformat(text) - _EXCEL_EPOCH).days)


def _alt_date(text: str, compact: bool) -> str:
    if " " in text:
        w = datetime.fromisoformat(text)
        return f"{w.year}/{w.month}/{w.day} {w.hour}:{w.minute:02d}:{w.second:02d}"
    d = date.fromisoformat(text)
    return d.strftime("%Y%m%d") if compact else f"{d.year}/{d.month}/{d.day}"


def _sci(digits: str) -> str:
    mantissa, _, exponent = f"{float(digits):.14E}".partition("E")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}E+{int(exponent):02d}"


def _yuan(fen: int) -> str:
    sign = "-" if fen < 0 else ""
    return f"{sign}{abs(fen) // 100}.{abs(fen) % 100:02d}"


def _fen(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    whole, _, frac = text.lstrip("-").partition(".")
    return sign * (int(whole) * 100 + int((frac + "00")[:2]))


def settlement_faults(inj: FaultInjector, data: pa.Table, batch: Batch, placed: Placed,
                       writer: TableWriter) -> None:
    """Faults for one chunk of settlements, recorded in ``placed``."""
    n = data.num_rows
    rng = inj.rng
    ordinary = np.flatnonzero((batch.scen < 0) & ~batch.is_reversal)
    used: set[int] = set()
    cols = data.column_names


    def cells(d: dict[str, Any]) -> list[Cell]:
        return [d[c] for c in cols]

    def extra(kind: str, column: str | None, change: Callable[[dict[str, Any]], None],
              new_ids: bool = True, extra_field: bool = False) -> None:
        for r in inj.pick(ordinary, used, inj.take("settlements", kind)):
            d = _record(data, r)
            if new_ids:
                d["setl_id"], d["mdtrt_id"] = inj.next_setl()
            change(d)
            out = cells(d)
            if extra_field:
                out = [*out, "备注"] if rng.random() < 0.5 else out[:-1]
            placed.inserts.append((inj.after(n, r), out, column, kind))

    extra("sci_notation_id", "psn_no", lambda d: d.update(psn_no=_sci(d["psn_no"])))
    extra("unknown_person", "psn_no",
          lambda d: d.update(psn_no=inj.unknown_psn(d["psn_no"][:6])))
    extra("unknown_institution", "fixmedins_code", lambda d: d.update(
        fixmedins_code=inj.reserved_code(d["fixmedins_code"][0],
                                           d["fixmedins_code"][1:7], 95_000)))
    extra("amounts_mismatch", "psn_cash_pay", lambda d: d.update(
        psn_cash_pay=_yuan(_fen(d["psn_cash_pay"]) + int(rng.integers(100, 5_000)))))

    def invalid_date(d: dict[str, Any]) -> None:
        d["setl_time"] = "2024-02-30" + d["setl_time"][10:]
    extra("invalid_date", "setl_time", invalid_date)

    def out_of_range(d: dict[str, Any]) -> None:
        d["setl_time"] = "2035" + d["setl_time"][4:]
    extra("date_out_of_range", "setl_time", out_of_range)
    for r in inj.pick(ordinary, used, inj.take("settlements", "missing_value")):
        d = _record(data, r)
        d["setl_id"], d["mdtrt_id"] = inj.next_setl()
        column = str(rng.choice(["setl_time", "med_type", "medfee_sumamt", "psn_no",
                                 "fixmedins_code"]))
        d[column] = None
        placed.inserts.append((inj.after(n, r), cells(d), column, "missing_value"))
    for r in inj.pick(ordinary, used, inj.take("settlements", "duplicate_row")):
        placed.inserts.append((inj.after(n, r), cells(_record(data, r)), None, "duplicate_row"))
    for r in inj.pick(ordinary, used, inj.take("settlements", "duplicate_key")):
        d = _record(data, r)
        delta = int(rng.integers(100, 20_000))
        d["medfee_sumamt"] = _yuan(_fen(d["medfee_sumamt"]) + delta)
        d["psn_cash_pay"] = _yuan(_fen(d["psn_cash_pay"]) + delta)
        placed.inserts.append((inj.after(n, r), cells(d), "setl_id", "duplicate_key"))
    if writer.path.suffix == ".csv":
        extra("column_count", None, lambda d: None, extra_field=True)
    extra("bad_enum", "med_type", lambda d: d.update(med_type="77"))

    def unmatched(d: dict[str, Any]) -> None:
        for a in _AMOUNTS:
            d[a] = _yuan(-_fen(d[a]))
        d["init_setl_id"] = inj.next_setl(UNMATCHED_ORIGINAL)[0]
    extra("unmatched_reversal", "init_setl_id", unmatched)
    coded = np.flatnonzero((batch.scen < 0) & ~batch.is_reversal & (batch.dise >= 0)
                           & (batch.dr >= 0))
    for r in inj.pick(coded, used, inj.take("settlements", "local_code")):
        d = _record(data, r)
        d["setl_id"], d["mdtrt_id"] = inj.next_setl()
        if rng.random() < 0.5:  # ICD written without its dot, as some hospital systems do
            column, d["dise_codg"] = "dise_codg", d["dise_codg"].replace(".", "")
        else:
            column, d["dr_codg"] = "dr_codg", inj.local_staff_code()
        placed.inserts.append((inj.after(n, r), cells(d), column, "local_code"))

    editable = np.flatnonzero(batch.scen < 0)
    times = data.column("setl_time").to_pylist()
    xlsx = writer.path.suffix == ".xlsx"


    for r in inj.pick(editable, used, inj.take("settlements", "fullwidth_digits")):
        column = str(rng.choice(["medfee_sumamt", "setl_time"]))
        placed.edit(r, column, _fullwidth(str(data.column(column)[r].as_py())), "fullwidth_digits")
    large = np.flatnonzero((batch.scen < 0) & (np.abs(batch.fund + batch.acct + batch.cash)
                                               >= 100_000))
    for r in inj.pick(large, used, inj.take("settlements", "thousands_separator")):
        placed.edit(r, "medfee_sumamt", _thousands(str(data.column("medfee_sumamt")[r].as_py())),
             "thousands_separator")
    for r in inj.pick(editable, used, inj.take("settlements", "excel_serial_date")):
        if xlsx:
            d = _record(data, r)
            d["setl_time"] = datetime.fromisoformat(d["setl_time"])
            placed.raws[r] = (cells(d), "setl_time", "excel_serial_date")
        else:
            placed.edit(r, "setl_time", _excel_serial(times[r]), "excel_serial_date")
    for r in inj.pick(editable, used, inj.take("settlements", "alt_date_format")):
        column = str(rng.choice(["setl_time", "begndate", "enddate"]))
        placed.edit(r, column, _alt_date(str(data.column(column)[r].as_py()), rng.random() < 0.5),
             "alt_date_format")
    for r in inj.pick(editable, used, inj.take("settlements", "padded_whitespace")):
        column = str(rng.choice(["psn_no", "fixmedins_code"]))
        placed.edit(r, column, f"  {data.column(column)[r].as_py()} ", "padded_whitespace")
    labels = dict(MED_TYPES)
    for r in inj.pick(editable, used, inj.take("settlements", "enum_label")):
        placed.edit(r, "med_type", labels[str(data.column("med_type")[r].as_py())], "enum_label")


def fee_faults(inj: FaultInjector, data: pa.Table, batch: Batch, placed: Placed,
                writer: TableWriter) -> None:
    """Faults for one chunk of fee details, recorded in ``placed``."""
    rng = inj.rng
    n = data.num_rows
    lines = batch.lines
    ordinary = (batch.scen[lines.row] < 0) & ~batch.is_reversal[lines.row]
    has_codes = lines.code_off[1:] > lines.code_off[:-1]
    services = np.flatnonzero(ordinary & ~has_codes)
    drugs = np.flatnonzero(ordinary & has_codes)
    used: set[int] = set()
    used_setl: set[str] = set()
    cols = data.column_names


    def cells(d: dict[str, Any]) -> list[Cell]:
        return [d[c] for c in cols]

    def new_line(d: dict[str, Any]) -> None:
        # a 9x line number on the same settlement, never used by generated lines
        k = sum(1 for s in used_setl if s.startswith(d["setl_id"] + "|"))
        used_setl.add(f"{d['setl_id']}|{k}")
        d["feedetl_sn"] = f"{d['setl_id']}{90 + k}"

    for r in inj.pick(services, used, inj.take("fee_details", "orphan_fee_detail")):
        d = _record(data, r)
        d["setl_id"] = inj.next_setl(ORPHAN_SETTLEMENT)[0]
        d["feedetl_sn"] = d["setl_id"] + "01"
        placed.inserts.append((inj.after(n, r), cells(d), "setl_id", "orphan_fee_detail"))
    for r in inj.pick(drugs, used, inj.take("fee_details", "bad_trace_code")):
        d = _record(data, r)
        new_line(d)
        k = abs(int(lines.cnt[r]))
        start = int(lines.code_off[r])
        item = np.full(k, lines.code_prod[start], dtype=np.int64)
        serial = _EXTRA_SERIAL + inj._extra_code + np.arange(k, dtype=np.int64)
        inj._extra_code += k
        codes = trace_codes(item, serial).to_pylist()
        bad = int(rng.integers(k))
        codes[bad] = codes[bad][:19]
        d["drug_trac_codg"] = ";".join(codes)
        placed.inserts.append((r, cells(d), "drug_trac_codg", "bad_trace_code"))
    for r in inj.pick(services, used, inj.take("fee_details", "fee_amount_mismatch")):
        d = _record(data, r)
        new_line(d)
        d["det_item_fee_sumamt"] = _yuan(_fen(d["det_item_fee_sumamt"]) +
                                         int(rng.integers(100, 2_000)))
        placed.inserts.append((r, cells(d), "det_item_fee_sumamt", "fee_amount_mismatch"))
    for r in inj.pick(services, used, inj.take("fee_details", "missing_value")):
        d = _record(data, r)
        new_line(d)
        column = str(rng.choice(["med_list_codg", "cnt", "det_item_fee_sumamt"]))
        d[column] = None
        placed.inserts.append((r, cells(d), column, "missing_value"))
    for r in inj.pick(np.flatnonzero(ordinary), used,
                        inj.take("fee_details", "duplicate_row")):
        placed.inserts.append((inj.after(n, r), cells(_record(data, r)), None, "duplicate_row"))
    if writer.path.suffix == ".csv":
        for r in inj.pick(services, used, inj.take("fee_details", "column_count")):
            d = _record(data, r)
            new_line(d)
            out = cells(d)
            out = [*out, "备注"] if rng.random() < 0.5 else out[:-1]
            placed.inserts.append((r, out, None, "column_count"))
    editable = np.flatnonzero(batch.scen[lines.row] < 0)


    for r in inj.pick(editable, used, inj.take("fee_details", "fullwidth_digits")):
        column = str(rng.choice(["det_item_fee_sumamt", "pric"]))
        placed.edit(r, column, _fullwidth(str(data.column(column)[r].as_py())), "fullwidth_digits")
    large = np.flatnonzero((batch.scen[lines.row] < 0) & (np.abs(lines.amount) >= 100_000))
    for r in inj.pick(large, used, inj.take("fee_details", "thousands_separator")):
        column = "det_item_fee_sumamt"
        placed.edit(r, column, _thousands(str(data.column(column)[r].as_py())),
             "thousands_separator")
    for r in inj.pick(editable, used, inj.take("fee_details", "padded_whitespace")):
        column = str(rng.choice(["med_list_name", "setl_id"]))
        placed.edit(r, column, f" {data.column(column)[r].as_py()}  ", "padded_whitespace")


def planted_keys(inj: FaultInjector, key: str) -> set[str]:
    """Identifiers of the persons, institutions or practitioners of any scenario."""
    truth_keys = {"persons": "persons", "institutions": "institutions",
                  "practitioners": "practitioners"}[key]
    w = inj.run.world
    source = {"persons": w.persons.psn_no, "institutions": w.inst.code,
              "practitioners": inj.run.view.prac_code}[key]
    out: set[str] = set()
    for scen in inj.run.plan.scenarios:
        ids = getattr(scen, truth_keys)
        if ids:
            out.update(source.take(pa.array(ids, type=pa.int64())).to_pylist())
    return out


def ordinary_rows(inj: FaultInjector, data: pa.Table, key_column: str, table: str) -> I64:
    """Rows of a small table whose key is in no scenario."""
    planted = planted_keys(inj, table)
    keys = data.column(key_column).to_pylist()
    return np.array([i for i, k in enumerate(keys) if k not in planted], dtype=np.int64)


def person_faults(inj: FaultInjector, data: pa.Table, placed: Placed,
                  writer: TableWriter) -> None:
    """Faults for the persons table, recorded in ``placed``."""
    rng = inj.rng
    n = data.num_rows
    cols = data.column_names
    ordinary = ordinary_rows(inj, data, "psn_no", "persons")
    used: set[int] = set()


    def fresh(r: int) -> dict[str, Any]:
        d = _record(data, r)
        d["psn_no"] = inj.new_psn(d["insu_admdvs"])  # a fresh key: the row is kept when noted
        seq = 901 + 2 * (inj._extra_person % 49) + (0 if d["gend"] == "1" else 1)
        first17 = d["certno"][:14] + f"{min(seq, 999):03d}"
        d["certno"] = first17 + certno_check_char(first17)
        return d

    def extra(kind: str, column: str | None, change: Callable[[dict[str, Any]], None],
              extra_field: bool = False) -> None:
        for r in inj.pick(ordinary, used, inj.take("persons", kind)):
            d = fresh(r)
            change(d)
            out: list[Cell] = [d[c] for c in cols]
            if extra_field:
                out = [*out, "备注"] if rng.random() < 0.5 else out[:-1]
            placed.inserts.append((inj.after(n, r), out, column, kind))

    def bad_check(d: dict[str, Any]) -> None:
        wrong = [c for c in "0123456789X" if c != d["certno"][-1]]
        d["certno"] = d["certno"][:17] + str(rng.choice(wrong))
    extra("bad_check_digit", "certno", bad_check)
    extra("certno_length", "certno", lambda d: d.update(
        certno=d["certno"][:17] if rng.random() < 0.5 else d["certno"] + "0"))

    def unknown_division(d: dict[str, Any]) -> None:
        code = str(rng.choice(_UNKNOWN_DIVISIONS))
        d["insu_admdvs"] = code
        d["psn_no"] = code + d["psn_no"][6:]
    extra("unknown_division", "insu_admdvs", unknown_division)
    extra("invalid_date", "brdy", lambda d: d.update(
        brdy=d["brdy"][:4] + str(rng.choice(["-02-30", "-04-31", "-13-01", "-06-31"]))))
    extra("date_out_of_range", "brdy", lambda d: d.update(brdy="1850" + d["brdy"][4:]))
    for r in inj.pick(ordinary, used, inj.take("persons", "missing_value")):
        d = fresh(r)
        column = str(rng.choice(["psn_no", "psn_name", "certno", "gend", "brdy", "insutype",
                                 "insu_admdvs"]))
        d[column] = None
        placed.inserts.append((inj.after(n, r), [d[c] for c in cols], column,
                               "missing_value"))
    for r in inj.pick(ordinary, used, inj.take("persons", "duplicate_row")):
        placed.inserts.append((inj.after(n, r), [_record(data, r)[c] for c in cols], None,
                               "duplicate_row"))
    for r in inj.pick(ordinary, used, inj.take("persons", "duplicate_key")):
        d = _record(data, r)
        d["tel"] = f"1{int(rng.integers(3, 10))}{int(rng.integers(0, 10**9)):09d}"
        placed.inserts.append((inj.after(n, r), [d[c] for c in cols], "psn_no",
                               "duplicate_key"))
    extra("column_count", None, lambda d: None, extra_field=True)
    extra("bad_enum", "gend", lambda d: d.update(gend="3"))
    extra("sci_notation_id", "psn_no", lambda d: d.update(psn_no=_sci(d["psn_no"])))


    brdy = data.column("brdy").to_pylist()
    for r in inj.pick(ordinary, used, inj.take("persons", "fullwidth_digits")):
        placed.edit(r, "brdy", _fullwidth(brdy[r]), "fullwidth_digits")
    for r in inj.pick(ordinary, used, inj.take("persons", "excel_serial_date")):
        placed.edit(r, "brdy", _excel_serial(brdy[r]), "excel_serial_date")
    for r in inj.pick(ordinary, used, inj.take("persons", "alt_date_format")):
        placed.edit(r, "brdy", _alt_date(brdy[r], rng.random() < 0.5), "alt_date_format")
    names = data.column("psn_name").to_pylist()
    for r in inj.pick(ordinary, used, inj.take("persons", "padded_whitespace")):
        placed.edit(r, "psn_name", f" {names[r]}  ", "padded_whitespace")
    gend = data.column("gend").to_pylist()
    insutype = data.column("insutype").to_pylist()
    for r in inj.pick(ordinary, used, inj.take("persons", "enum_label")):
        if rng.random() < 0.6:
            placed.edit(r, "gend", "男" if gend[r] == "1" else "女", "enum_label")
        else:
            placed.edit(r, "insutype", dict(INSUTYPES)[insutype[r]], "enum_label")
    certno = data.column("certno").to_pylist()
    ends_x = np.array([i for i in ordinary.tolist() if certno[i].endswith("X")],
                      dtype=np.int64)
    for r in inj.pick(ends_x, used, inj.take("persons", "lowercase_x")):
        placed.edit(r, "certno", certno[r][:17] + "x", "lowercase_x")


def institution_faults(inj: FaultInjector, data: pa.Table, placed: Placed,
                       writer: TableWriter) -> None:
    """Faults for the institutions table (written as xlsx), recorded in ``placed``."""
    rng = inj.rng
    n = data.num_rows
    cols = data.column_names
    ordinary = ordinary_rows(inj, data, "fixmedins_code", "institutions")
    used: set[int] = set()

    def fresh(r: int) -> dict[str, Any]:
        d = _record(data, r)
        d["fixmedins_code"] = inj.reserved_code(d["fixmedins_code"][0],
                                                  d["fixmedins_code"][1:7], 90_000)
        return d

    def extra(kind: str, column: str | None, change: Callable[[dict[str, Any]], None]) -> None:
        for r in inj.pick(ordinary, used, inj.take("institutions", kind)):
            d = fresh(r)
            change(d)
            placed.inserts.append((inj.after(n, r), [d[c] for c in cols], column, kind))

    extra("unknown_division", "admdvs",
          lambda d: d.update(admdvs=str(rng.choice(_UNKNOWN_DIVISIONS))))
    for r in inj.pick(ordinary, used, inj.take("institutions", "missing_value")):
        d = fresh(r)
        column = str(rng.choice(["fixmedins_code", "fixmedins_name", "fixmedins_type",
                                 "admdvs"]))
        d[column] = None
        placed.inserts.append((inj.after(n, r), [d[c] for c in cols], column,
                               "missing_value"))
    for r in inj.pick(ordinary, used, inj.take("institutions", "duplicate_row")):
        d = _record(data, r)
        placed.inserts.append((inj.after(n, r), [d[c] for c in cols], None,
                               "duplicate_row"))
    extra("bad_enum", "fixmedins_type", lambda d: d.update(fixmedins_type="5"))
    names = data.column("fixmedins_name").to_pylist()
    for r in inj.pick(ordinary, used, inj.take("institutions", "padded_whitespace")):
        placed.edits.setdefault(r, []).append(
            ("fixmedins_name", f" {names[r]} ", "padded_whitespace"))
    types = data.column("fixmedins_type").to_pylist()
    levels = data.column("hosp_lv").to_pylist()
    for r in inj.pick(ordinary, used, inj.take("institutions", "enum_label")):
        if levels[r] in HOSP_LV_LABELS and rng.random() < 0.5:
            placed.edits.setdefault(r, []).append(
                ("hosp_lv", HOSP_LV_LABELS[levels[r]], "enum_label"))
        else:
            label = "定点零售药店" if types[r] == "2" else "定点医疗机构"
            placed.edits.setdefault(r, []).append(("fixmedins_type", label, "enum_label"))


def practitioner_faults(inj: FaultInjector, data: pa.Table, placed: Placed, writer: TableWriter
                         ) -> None:
    """Faults for the practitioners table, recorded in ``placed``."""
    rng = inj.rng
    n = data.num_rows
    cols = data.column_names
    ordinary = ordinary_rows(inj, data, "dr_codg", "practitioners")
    used: set[int] = set()

    def fresh(r: int) -> dict[str, Any]:
        d = _record(data, r)
        d["dr_codg"] = inj.reserved_staff_code(d["dr_codg"])
        return d

    def extra(kind: str, column: str | None, change: Callable[[dict[str, Any]], None],
              extra_field: bool = False) -> None:
        for r in inj.pick(ordinary, used, inj.take("practitioners", kind)):
            d = fresh(r)
            change(d)
            out: list[Cell] = [d[c] for c in cols]
            if extra_field:
                out = [*out, "备注"] if rng.random() < 0.5 else out[:-1]
            placed.inserts.append((inj.after(n, r), out, column, kind))

    extra("unknown_institution", "fixmedins_code", lambda d: d.update(
        fixmedins_code=inj.reserved_code(d["fixmedins_code"][0],
                                           d["fixmedins_code"][1:7], 95_000)))
    for r in inj.pick(ordinary, used, inj.take("practitioners", "missing_value")):
        d = fresh(r)
        column = str(rng.choice(["dr_codg", "dr_name", "fixmedins_code", "dr_type"]))
        d[column] = None
        placed.inserts.append((inj.after(n, r), [d[c] for c in cols], column,
                               "missing_value"))
    for r in inj.pick(ordinary, used, inj.take("practitioners", "duplicate_row")):
        d = _record(data, r)
        placed.inserts.append((inj.after(n, r), [d[c] for c in cols], None,
                               "duplicate_row"))
    extra("column_count", None, lambda d: None, extra_field=True)
    extra("bad_enum", "dr_type", lambda d: d.update(dr_type="7"))
    extra("local_code", "dr_codg", lambda d: d.update(dr_codg=inj.local_staff_code()))
    names = data.column("dr_name").to_pylist()
    for r in inj.pick(ordinary, used, inj.take("practitioners", "padded_whitespace")):
        placed.edits.setdefault(r, []).append(("dr_name", f" {names[r]} ", "padded_whitespace"))
    types = data.column("dr_type").to_pylist()
    for r in inj.pick(ordinary, used, inj.take("practitioners", "enum_label")):
        label = {"1": "医师", "2": "药师", "3": "护士", "4": "技师"}[types[r]]
        placed.edits.setdefault(r, []).append(("dr_type", label, "enum_label"))
