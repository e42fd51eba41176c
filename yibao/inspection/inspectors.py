"""Inspectors (检查人员) available for a plan: read from a CSV roster, or a seeded synthetic one.

Each inspector has a home province and city (6-digit division codes); the plan keeps them away
from institutions in their own city (and, for 交叉互查 between provinces, their own province).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from yibao.divisions import PROVINCE_CODES, division, divisions_frame, is_known_division
from yibao.errors import DataFileError, PlanError
from yibao.inspection.candidates import city_of, province_of

__all__ = [
    "INSPECTOR_HEADERS",
    "Inspector",
    "inspectors_from_csv",
    "inspectors_to_frame",
    "synthetic_inspectors",
]

INSPECTOR_HEADERS: dict[str, tuple[str, ...]] = {
    "inspector_id": ("inspector_id", "id", "编号", "工号", "检查员编号", "人员编号"),
    "name": ("name", "姓名", "检查员姓名"),
    "city": ("city", "城市", "所在城市", "所在市", "城市代码", "区划", "区划代码"),
    "province": ("province", "省份", "省", "省份代码"),
}
"""Accepted header names per field (English or Chinese); ``province`` may be left out."""


@dataclass(frozen=True)
class Inspector:
    """One inspector: id, name, home ``province`` and ``city`` (6-digit codes, e.g. 320000 and
    320500)."""

    inspector_id: str
    name: str
    province: str
    city: str


def _home(raw_city: str, raw_province: str) -> tuple[str, str, str | None]:
    """(city, province, problem) from a city or county code and an optional province code."""
    code = raw_city.strip()
    if not (len(code) == 6 and code.isdigit() and is_known_division(code)):
        return "", "", (f"city {raw_city!r} is not a 沪苏浙皖 city or county code "
                        "(6 digits, e.g. 320500 苏州市)")
    if division(code).level == "province":
        return "", "", f"city {raw_city!r} is a province; give the inspector's city, e.g. 320500"
    city, province = city_of(code), province_of(code)
    given = raw_province.strip()
    if given and given != province:
        return "", "", (f"province {raw_province!r} does not contain city {code} "
                        f"({division(city).name}, in {province}); correct one of them")
    return city, province, None


_LONGEST = 200
_CONTROL = re.compile("[\x00-\x1f\x7f]")
"""The longest inspector id, name or division accepted (characters)."""


def inspectors_from_csv(path: Path) -> tuple[Inspector, ...]:
    """Inspectors from a CSV roster (UTF-8, with or without BOM, or GBK/GB18030).

    Columns (any of the names in :data:`INSPECTOR_HEADERS`): id, name, city (a 6-digit city
    or county code; a county is read as its city), optional province (must contain the city).
    Raises :class:`DataFileError` naming every bad row and column, or a missing column.
    """
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DataFileError("neither UTF-8 nor GBK text: save the roster as UTF-8 CSV",
                            path=str(path))
    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as exc:  # a NUL byte, an unterminated quote, a field past the limit
        raise DataFileError(f"line {reader.line_num} cannot be read as CSV ({exc}): save the "
                            "roster as plain CSV text, one inspector a line",
                            path=str(path)) from exc
    if not rows:
        raise DataFileError("the roster is empty: one header line, then one inspector a line",
                            path=str(path))
    header = [h.strip() for h in rows[0]]
    index: dict[str, int] = {}
    for field, names in INSPECTOR_HEADERS.items():
        for i, h in enumerate(header):
            if h.lower() in names:
                index.setdefault(field, i)
    missing = [f for f in ("inspector_id", "name", "city") if f not in index]
    if missing:
        wanted = "; ".join(f"{f} (accepted: {', '.join(INSPECTOR_HEADERS[f])})" for f in missing)
        raise DataFileError(f"missing column(s): {wanted}. Columns found: {', '.join(header)}",
                            path=str(path))
    problems: list[str] = []
    found: list[Inspector] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = {f: (row[i].strip() if i < len(row) else "") for f, i in index.items()}
        long = [f for f, v in cells.items() if len(v) > _LONGEST]
        if long:
            problems.append(f"line {line}: {', '.join(long)} longer than {_LONGEST} "
                            f"characters ({max(len(cells[f]) for f in long):,}): is it the "
                            "right column?")
            continue
        garbled = [f for f, v in cells.items() if _CONTROL.search(v)]
        if garbled:
            problems.append(f"line {line}: {', '.join(garbled)} holds a control character "
                            "(binary data?): save the roster as plain text")
            continue
        ident = cells["inspector_id"]
        if not ident:
            problems.append(f"line {line}: empty inspector id")
            continue
        if ident in seen:
            problems.append(f"line {line}: inspector id {ident!r} repeats line {seen[ident]}")
            continue
        seen[ident] = line
        city, province, problem = _home(cells["city"], cells.get("province", ""))
        if problem:
            problems.append(f"line {line}: {problem}")
            continue
        found.append(Inspector(ident, cells["name"] or ident, province, city))
    if problems:
        raise DataFileError(f"{len(problems)} bad row(s): " + "; ".join(problems[:20])
                            + ("; …" if len(problems) > 20 else ""), path=str(path))
    if not found:
        raise DataFileError("no inspectors in the roster: add one line per inspector",
                            path=str(path))
    return tuple(found)


def inspectors_to_frame(inspectors: tuple[Inspector, ...]) -> pd.DataFrame:
    """Inspectors as a frame (inspector_id, name, province, city, province_name, city_name)."""
    return pd.DataFrame({
        "inspector_id": [i.inspector_id for i in inspectors],
        "name": [i.name for i in inspectors],
        "province": [i.province for i in inspectors],
        "city": [i.city for i in inspectors],
        "province_name": [PROVINCE_CODES.get(i.province, i.province) for i in inspectors],
        "city_name": [division(i.city).name if is_known_division(i.city) else i.city
                      for i in inspectors],
    })


_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚桂英华建文辉玲红斌鹏宇浩凯俊峰晨"


def synthetic_inspectors(n: int, seed: int = 0) -> tuple[Inspector, ...]:
    """``n`` synthetic inspectors spread evenly over 沪苏浙皖 (the first ``n % 4`` provinces get
    one more), each from a random city of their province; same seed, same roster. Ids are
    ``JC0001``…; names are made up."""
    if n < 0:
        raise PlanError(f"n={n}: ask for 0 or more synthetic inspectors")
    rng = np.random.default_rng(seed)
    cities = divisions_frame()
    cities = cities[cities["level"] == "city"]
    provinces = sorted(PROVINCE_CODES)
    out: list[Inspector] = []
    for k in range(n):
        province = provinces[k % len(provinces)]
        options = sorted(cities.loc[cities["province"] == province, "code"].astype(str))
        city = options[int(rng.integers(0, len(options)))]
        name = (_SURNAMES[int(rng.integers(0, len(_SURNAMES)))]
                + "".join(_GIVEN[int(g)] for g in rng.integers(0, len(_GIVEN),
                                                                 int(rng.integers(1, 3)))))
        out.append(Inspector(f"JC{k + 1:04d}", name, province, city))
    return tuple(sorted(out, key=lambda i: i.inspector_id))
