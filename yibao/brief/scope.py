"""What a briefing covers: a period (报告期) and a region (地区), parsed from the command line.

A period is a year (``2024``), a quarter (``2024-Q3``), a month (``2024-07``) or an explicit day
range; its end day is included. A region is a 6-digit division code of 沪苏浙皖: a province
(``340000``), a city (``341200``) or a county (``341202``); no region means the whole Delta.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from yibao.errors import BriefError

__all__ = [
    "DELTA",
    "PERIOD_FORMS",
    "Lang",
    "Period",
    "Region",
    "parse_period",
    "period_between",
    "region_from_code",
]

Lang = Literal["zh", "en"]
PeriodKind = Literal["year", "quarter", "month", "range"]
RegionLevel = Literal["delta", "province", "city", "county"]

PERIOD_FORMS = "a year (2024), a quarter (2024-Q3), a month (2024-07)"
"""The accepted forms of ``--period``, quoted in error messages."""

_QUARTER_ZH = ("一", "二", "三", "四")
_MONTH_EN = ("", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
             "Dec")


@dataclass(frozen=True)
class Period:
    """Days ``start`` to ``end`` (both included) and how they were asked for (``kind``)."""

    start: date
    end: date
    kind: PeriodKind = "range"

    @property
    def days(self) -> int:
        """Number of days in the period (both ends included)."""
        return (self.end - self.start).days + 1

    @property
    def end_exclusive(self) -> date:
        """The day after ``end`` (for ``time < end_exclusive`` in SQL)."""
        return self.end + timedelta(days=1)

    def label(self, lang: Lang = "zh") -> str:
        """``2024年第三季度`` / ``2024 Q3``; a range as its two days."""
        y = self.start.year
        if self.kind == "year":
            return f"{y}年度" if lang == "zh" else f"Year {y}"
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3
            return f"{y}年第{_QUARTER_ZH[q]}季度" if lang == "zh" else f"{y} Q{q + 1}"
        if self.kind == "month":
            m = self.start.month
            return f"{y}年{m}月" if lang == "zh" else f"{_MONTH_EN[m]} {y}"
        return self.span(lang)

    def span(self, lang: Lang = "zh") -> str:
        """``2024年7月1日至2024年9月30日`` / ``1 Jul 2024 – 30 Sep 2024``."""
        if lang == "zh":
            return f"{_day_zh(self.start)}至{_day_zh(self.end)}"
        return f"{_day_en(self.start)} – {_day_en(self.end)}"


def _day_zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _day_en(day: date) -> str:
    return f"{day.day} {_MONTH_EN[day.month]} {day.year}"


def _bad_period(text: str, why: str = "") -> BriefError:
    return BriefError(f"period {text!r} is not understood{why}: use {PERIOD_FORMS}, or give "
                      "--from YYYY-MM-DD --to YYYY-MM-DD")


def parse_period(text: str) -> Period:
    """The period of ``text``: ``2024`` (the year), ``2024-Q3`` (July to September),
    ``2024-07`` (the month); anything else is a :class:`~yibao.errors.BriefError` that names
    the accepted forms."""
    value = text.strip()
    if m := re.fullmatch(r"(\d{4})", value):
        y = int(m[1])
        return Period(date(y, 1, 1), date(y, 12, 31), "year")
    if m := re.fullmatch(r"(\d{4})-?[Qq](\d)", value):
        y, q = int(m[1]), int(m[2])
        if not 1 <= q <= 4:
            raise _bad_period(text, f" (quarter {q} does not exist: 1 to 4)")
        first = 3 * (q - 1) + 1
        return Period(date(y, first, 1),
                      date(y, first + 2, calendar.monthrange(y, first + 2)[1]), "quarter")
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
        y, mo = int(m[1]), int(m[2])
        if not 1 <= mo <= 12:
            raise _bad_period(text, f" (month {mo} does not exist: 01 to 12)")
        return Period(date(y, mo, 1), date(y, mo, calendar.monthrange(y, mo)[1]), "month")
    raise _bad_period(text)


def period_between(start: date, end: date) -> Period:
    """The days ``start`` to ``end`` (both included); an end before the start is an error."""
    if end < start:
        raise BriefError(f"the period ends ({end.isoformat()}) before it starts "
                         f"({start.isoformat()}): swap --from and --to")
    return Period(start, end, "range")


@dataclass(frozen=True)
class Region:
    """A division and everything in it; ``code`` ``None`` is the whole Delta (沪苏浙皖).

    ``prefix`` selects the county codes (``admdvs``) inside it: ``"34"`` for a province,
    ``"3412"`` for a city, the code itself for a county, ``""`` for the Delta.
    """

    code: str | None
    name_zh: str
    name_en: str
    level: RegionLevel
    prefix: str

    def label(self, lang: Lang = "zh") -> str:
        """``安徽省阜阳市`` / ``Fuyang, Anhui``: the division with the ones it lies in."""
        return self.name_zh if lang == "zh" else self.name_en


DELTA = Region(None, "长三角（沪苏浙皖）",
               "Yangtze River Delta (Shanghai, Jiangsu, Zhejiang, Anhui)", "delta", "")


def region_from_code(code: str | None) -> Region:
    """The region of a 6-digit division code (``None`` or empty: the whole Delta); an unknown
    code is a :class:`~yibao.errors.BriefError` with examples of known ones."""
    from yibao.divisions import division, is_known_division

    if code is None or not str(code).strip():
        return DELTA
    text = str(code).strip()
    if not re.fullmatch(r"\d{6}", text) or not is_known_division(text):
        raise BriefError(f"region {code!r} is not a division code of 沪苏浙皖: give a province "
                         "(340000), a city (341200) or a county (341202) code")
    d = division(text)
    chain = [division(d.province)]
    if d.level == "county":
        chain.append(division(d.city))
    chain.append(d)
    kept = [x for i, x in enumerate(chain) if i == 0 or x.name != chain[i - 1].name]
    name_zh = "".join(x.name for x in kept)
    # the province closes the chain, so "Suzhou (Anhui)" need not say its province twice
    name_en = ", ".join(re.sub(r" \(.*\)$", "", x.name_en or x.name) for x in reversed(kept))
    prefix = {"province": text[:2], "city": text[:4]}.get(d.level, text)
    return Region(text, name_zh, name_en, d.level, prefix)
