"""Build tiny stores by hand for the rule and chain tests: rows in Python, CSV files, a real load.

``TinyStore`` collects institutions, persons, practitioners, settlements and fee lines, fills in
what the contract asks for (valid resident ID numbers, amounts that add up, reversals with
negated amounts), writes them as CSV with the national field codes as headers and loads them
with :func:`loaders.load.load_folder`, refusing to go on if any row is quarantined. Distances
are exact by construction: points on one meridian, ``km / KM_PER_DEGREE`` degrees apart.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from loaders.load import load_folder
from loaders.store import Store, open_store

KM_PER_DEGREE = 6371.0 * math.pi / 180
"""Kilometres per degree of latitude on the sphere used by the rules' haversine."""
BASE_LON, BASE_LAT = 117.0, 30.0
T0 = datetime(2024, 3, 1, 10, 0, 0)

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def certno(n: int, region: str = "341202") -> str:
    """A valid 18-character resident ID number (GB 11643 check digit) for person ``n``."""
    birth = (datetime(1960, 1, 1) + timedelta(days=37 * n)).strftime("%Y%m%d")
    body = f"{region}{birth}{n % 1000:03d}"
    total = sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True))
    value = (12 - total % 11) % 11
    return body + ("X" if value == 10 else str(value))


def trace_code(n: int) -> str:
    """A 20-digit traceability code."""
    return f"8{n:019d}"


def north_of_base(km: float) -> tuple[float, float]:
    """(lon, lat) of a point ``km`` kilometres due north of the base point."""
    return BASE_LON, BASE_LAT + km / KM_PER_DEGREE


@dataclass(frozen=True)
class Line:
    """A fee line: ``codes`` are its traceability codes (one per box)."""

    item: str = "XA10BAA001A001"
    name: str = "二甲双胍片"
    cnt: float = 1
    pric: float = 10.0
    codes: tuple[str, ...] = ()
    dr: str | None = None


def _num(x: float) -> str:
    return f"{x:.6f}".rstrip("0").rstrip(".") if x != int(x) else str(int(x))


class TinyStore:
    """Rows of a tiny export, added by hand; :meth:`load` writes and loads them."""

    def __init__(self) -> None:
        self.institutions: dict[str, dict[str, str]] = {}
        self.persons: dict[str, dict[str, str]] = {}
        self.practitioners: dict[str, dict[str, str]] = {}
        self.settlements: list[dict[str, str]] = []
        self.fee_details: list[dict[str, str]] = []
        self._lines: dict[str, list[dict[str, str]]] = {}
        self._n = 0

    def _next(self) -> int:
        self._n += 1
        return self._n

    def institution(self, code: str, *, lon: float | None = None, lat: float | None = None,
                    admdvs: str = "341202", hosp_lv: str | None = None) -> str:
        pharmacy = code.startswith("P")
        self.institutions[code] = {
            "fixmedins_code": code, "fixmedins_name": f"机构{code[-4:]}",
            "fixmedins_type": "2" if pharmacy else "1",
            "hosp_lv": "" if pharmacy else (hosp_lv or "05"), "admdvs": admdvs, "addr": "",
            "lon": "" if lon is None else f"{lon:.6f}", "lat": "" if lat is None else f"{lat:.6f}",
        }
        return code

    def practitioner(self, dr: str, inst: str) -> str:
        self.practitioners[dr] = {"dr_codg": dr, "dr_name": "某医生", "fixmedins_code": inst,
                                  "dr_type": "1" if dr.startswith("D") else "2"}
        return dr

    def _person(self, psn: str) -> None:
        if psn not in self.persons:
            n = len(self.persons) + 1
            self.persons[psn] = {
                "psn_no": psn, "psn_name": "张三", "certno": certno(n), "gend": "1",
                "brdy": "", "insutype": "310", "insu_admdvs": "341202", "tel": "",
            }
            birth = self.persons[psn]["certno"][6:14]
            self.persons[psn]["brdy"] = f"{birth[:4]}-{birth[4:6]}-{birth[6:]}"

    def settle(self, psn: str, inst: str, when: datetime, lines: list[Line], *,
               med_type: str | None = None, begn: str | None = None, end: str | None = None,
               dr: str | None = None) -> str:
        """One settlement; half of the total from the fund, half in cash. Returns its setl_id."""
        self._person(psn)
        n = self._next()
        setl_id = f"S{n:09d}"
        total = round(sum(ln.cnt * ln.pric for ln in lines), 2)
        fund = round(total / 2, 2)
        kind = med_type or ("41" if inst.startswith("P") else "11")
        day = when.strftime("%Y-%m-%d")
        self.settlements.append({
            "setl_id": setl_id, "mdtrt_id": f"M{n:09d}", "psn_no": psn, "fixmedins_code": inst,
            "med_type": kind, "setl_time": when.strftime("%Y-%m-%d %H:%M:%S"),
            "begndate": begn or day, "enddate": end or day, "medfee_sumamt": f"{total:.2f}",
            "fund_pay_sumamt": f"{fund:.2f}", "hifp_pay": f"{fund:.2f}", "acct_pay": "0",
            "psn_cash_pay": f"{total - fund:.2f}", "dise_codg": "", "dr_codg": dr or "",
            "init_setl_id": "",
        })
        rows = []
        for j, ln in enumerate(lines, start=1):
            rows.append({
                "feedetl_sn": f"F{n:09d}{j:02d}", "setl_id": setl_id, "med_list_codg": ln.item,
                "med_list_name": ln.name, "cnt": _num(ln.cnt), "pric": _num(ln.pric),
                "det_item_fee_sumamt": f"{ln.cnt * ln.pric:.4f}", "bilg_dr_codg": ln.dr or "",
                "drug_trac_codg": ";".join(ln.codes),
            })
        self._lines[setl_id] = rows
        self.fee_details.extend(rows)
        return setl_id

    def reverse(self, setl_id: str, when: datetime) -> str:
        """A reversal (冲销) of ``setl_id``: negated amounts and counts, the same codes."""
        (orig,) = [s for s in self.settlements if s["setl_id"] == setl_id]
        n = self._next()
        rev_id = f"S{n:09d}"
        row = {**orig, "setl_id": rev_id, "setl_time": when.strftime("%Y-%m-%d %H:%M:%S"),
               "init_setl_id": setl_id}
        for col in ("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay"):
            value = float(orig[col])
            row[col] = f"{-value:.2f}" if value else "0"
        self.settlements.append(row)
        for j, line in enumerate(self._lines[setl_id], start=1):
            cnt = -float(line["cnt"])
            self.fee_details.append({
                **line, "feedetl_sn": f"F{n:09d}{j:02d}", "setl_id": rev_id, "cnt": _num(cnt),
                "det_item_fee_sumamt": f"{cnt * float(line['pric']):.4f}",
            })
        return rev_id

    def write(self, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        tables = {
            "institutions": list(self.institutions.values()),
            "persons": list(self.persons.values()),
            "practitioners": list(self.practitioners.values()),
            "settlements": self.settlements,
            "fee_details": self.fee_details,
        }
        for name, rows in tables.items():
            if not rows:
                continue
            with (folder / f"{name}.csv").open("w", encoding="utf-8", newline="") as fh:
                writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
                writer.writeheader()
                writer.writerows(rows)
        return folder

    def load(self, folder: Path) -> Store:
        """Write the rows into ``folder``, load them into ``folder/store.duckdb``; an open store.

        Raises ``AssertionError`` listing the reasons when any row is quarantined (a test bug).
        """
        store = open_store(folder / "store.duckdb")
        report = load_folder(self.write(folder / "export"), store)
        bad = {f.table: f.reasons for f in report.files if f.quarantined}
        if bad:
            store.close()
            raise AssertionError(f"tiny store rows were quarantined: {bad}")
        return store


# -- the traceability-code cases shared by the rule and chain tests -----------------------------

OMEPRAZOLE = ("XA02BCA014A001", "奥美拉唑肠溶胶囊", 12.0)
AMOXICILLIN = ("XJ01CAA040A001", "阿莫西林胶囊", 25.0)
CAPTOPRIL = ("XC09AAL031A001", "卡托普利片", 20.0)
METFORMIN = ("XA10BAA001A001", "二甲双胍片", 10.0)


def _drug(drug: tuple[str, str, float], codes: tuple[str, ...], *, cnt: float = 1,
          pric: float | None = None) -> Line:
    return Line(item=drug[0], name=drug[1], cnt=cnt, pric=drug[2] if pric is None else pric,
                codes=codes)


def add_trace_cases(ts: TinyStore) -> dict[str, str]:
    """Traceability codes, one per class and threshold case; returns name -> code.

    Pharmacies: PA at the base point, PB 200 km north, PD 350 km north, PC (ordinary sales
    that set each drug's typical price) at the base point.
    """
    pa = ts.institution("P34120000001", lon=BASE_LON, lat=BASE_LAT)
    pb = ts.institution("P34120000002", lon=north_of_base(200)[0], lat=north_of_base(200)[1])
    pc = ts.institution("P34120000003", lon=BASE_LON, lat=BASE_LAT)
    pd = ts.institution("P34120000004", lon=north_of_base(350)[0], lat=north_of_base(350)[1])
    codes: dict[str, str] = {}
    counter = iter(range(1000, 2000))
    buyer = iter(f"TR{n:06d}" for n in range(1, 1000))

    def code(name: str) -> tuple[str]:
        codes[name] = trace_code(next(counter))
        return (codes[name],)

    def sell(inst: str, when: datetime, line: Line) -> str:
        return ts.settle(next(buyer), inst, when, [line])

    day = timedelta(days=1)
    for drug, n in ((OMEPRAZOLE, 5), (AMOXICILLIN, 3), (CAPTOPRIL, 5), (METFORMIN, 3)):
        for k in range(n):
            sell(pc, T0 + k * day, _drug(drug, code(f"ordinary_{drug[0]}_{k}")))
    c = code("resale")
    sell(pa, T0, _drug(METFORMIN, c))
    sell(pb, T0 + 29 * day, _drug(METFORMIN, c))
    c = code("resale_at_threshold")  # 7 days and 1 hour apart
    sell(pa, T0, _drug(METFORMIN, c))
    sell(pb, T0 + 7 * day + timedelta(hours=1), _drug(METFORMIN, c))
    c = code("counterfeit_below_threshold")  # 7 days less 1 hour apart
    sell(pa, T0, _drug(METFORMIN, c))
    sell(pb, T0 + 7 * day - timedelta(hours=1), _drug(METFORMIN, c))
    c = code("counterfeit")
    sell(pa, T0, _drug(METFORMIN, c))
    sell(pb, T0 + 2 * day, _drug(METFORMIN, c))
    c = code("three_hops")
    sell(pa, T0, _drug(METFORMIN, c))
    sell(pb, T0 + 31 * day, _drug(METFORMIN, c))
    sell(pd, T0 + 61 * day, _drug(METFORMIN, c))
    c = code("item_substitution")
    sell(pa, T0, _drug(METFORMIN, c))
    sell(pa, T0 + 19 * day, _drug(METFORMIN, c))
    c = code("split_pack")  # a box of omeprazole sold as 3 x 4 capsules at 0.50 yuan
    for k in range(3):
        sell(pa, T0 + k * 2 * day, _drug(OMEPRAZOLE, c, cnt=4, pric=0.5))
    c = code("split_fraction")  # half boxes at the box price
    for k in range(2):
        sell(pa, T0 + k * day, _drug(AMOXICILLIN, c, cnt=0.5))
    c = code("not_split")  # 10.20 yuan is 0.51 x the typical 20.00: not a part
    for k in range(2):
        sell(pa, T0 + k * day, _drug(CAPTOPRIL, c, pric=10.2))
    c = code("refund")
    first = sell(pa, T0, _drug(METFORMIN, c))
    ts.reverse(first, T0 + day)
    sell(pa, T0 + 4 * day, _drug(METFORMIN, c))
    c = code("late_reversal")  # reversed only after the code was sold again
    first = sell(pa, T0, _drug(METFORMIN, c))
    sell(pa, T0 + 4 * day, _drug(METFORMIN, c))
    ts.reverse(first, T0 + 5 * day)
    c = code("reversed_only")
    ts.reverse(sell(pa, T0, _drug(METFORMIN, c)), T0 + day)
    c = code("single_sale")
    sell(pa, T0, _drug(METFORMIN, c))
    return codes
