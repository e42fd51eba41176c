"""The leadership briefing (领导简报) from the workbench: the choices the page offers (periods the
store covers, provinces and cities), the scope they make, the download file names, the ledger's
state (part of the cache key) and the briefing itself as PDF and PNG bytes.

The briefing is drawn by :func:`yibao.brief.write_brief` (headless Chromium, a few seconds);
:func:`brief_files` runs it in a temporary directory and returns the bytes, so the page can
cache them and offer them for download. Nothing here imports Streamlit.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Literal

from dashboards.i18n import Lang, place
from yibao.brief import DELTA, Period, Region, parse_period, region_from_code, write_brief
from yibao.brief.facts import BriefFacts
from yibao.divisions import PROVINCE_CODES, division, divisions_frame, is_known_division
from yibao.errors import BriefError
from yibao.leads import LeadLedger
from yibao.settings import Settings

__all__ = [
    "PERIOD_KINDS",
    "BriefFiles",
    "BriefScope",
    "PeriodKind",
    "brief_files",
    "city_choices",
    "file_names",
    "ledger_state",
    "period_choices",
    "period_kind",
    "period_name",
    "province_choices",
    "region_name",
    "scope_from_choices",
    "store_version",
]

PeriodKind = Literal["all", "year", "quarter", "month"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("all", "year", "quarter", "month")
"""How a briefing's period is chosen: all the data, a year, a quarter or a month."""

_TITLE = {"zh": "医保基金监管简报", "en": "Fund-supervision-briefing"}
_ALL = {"zh": "全部数据", "en": "all-data"}
_DELTA_SHORT = {"zh": "长三角", "en": "Yangtze-River-Delta"}


@dataclass(frozen=True)
class BriefScope:
    """What a briefing covers: ``period`` (``None``: all the data) as chosen (``period_key``:
    ``2024``, ``2024-Q3``, ``2024-07`` or ``None``) and ``region`` (:data:`DELTA` for the
    whole 长三角)."""

    period: Period | None
    period_key: str | None
    region: Region

    @property
    def key(self) -> str:
        """``2024-Q3/340000``, ``all/delta``: the scope in one word (audit log, cache)."""
        return f"{self.period_key or 'all'}/{self.region.code or 'delta'}"


@dataclass(frozen=True)
class BriefFiles:
    """A briefing made: the PDF and PNG bytes, the figures it shows, the seconds of each step
    (``facts``, ``page``, ``pdf``, ``png``, ``total``) and whether lead figures were read from
    a ledger (``with_ledger``)."""

    pdf: bytes
    png: bytes
    facts: BriefFacts
    seconds: dict[str, float] = field(default_factory=dict)
    with_ledger: bool = True


def period_kind(key: str | None) -> PeriodKind:
    """The kind of a period key: ``None`` all, ``2024`` year, ``2024-Q3`` quarter, ``2024-07``
    month (what :func:`yibao.brief.parse_period` makes of it)."""
    if not key:
        return "all"
    kind = parse_period(key).kind
    return kind if kind in ("year", "quarter", "month") else "all"


def period_choices(start: date, end: date, kind: PeriodKind) -> list[str]:
    """The periods of ``kind`` that overlap the data's days ``start`` to ``end`` (both
    included), oldest first: ``["2024"]``, ``["2024-Q1", …]``, ``["2024-01", …]``; empty for
    ``all``."""
    if kind == "all" or end < start:
        return []
    years = range(start.year, end.year + 1)
    if kind == "year":
        return [str(y) for y in years]
    if kind == "quarter":
        keys = [f"{y}-Q{q}" for y in years for q in range(1, 5)]
    else:
        keys = [f"{y}-{m:02d}" for y in years for m in range(1, 13)]
    return [k for k in keys if _overlaps(parse_period(k), start, end)]


def _overlaps(period: Period, start: date, end: date) -> bool:
    return period.start <= end and period.end >= start


def period_name(key: str | None, lang: Lang) -> str:
    """A period key as the page and the briefing say it: ``2024年第三季度`` / ``2024 Q3``;
    ``None``: 全部数据 / All the data."""
    if not key:
        return "全部数据" if lang == "zh" else "All the data"
    return parse_period(key).label(lang)


def province_choices() -> list[str]:
    """The four provinces' codes (沪苏浙皖), in code order."""
    return sorted(PROVINCE_CODES)


def city_choices(province: str) -> list[str]:
    """The cities of ``province`` (6-digit codes, in code order); none for a municipality
    whose only city is the province itself (上海市)."""
    if province not in PROVINCE_CODES:
        return []
    frame = divisions_frame()
    cities = frame[(frame["level"] == "city") & (frame["parent"] == province)
                   & (frame["name"] != PROVINCE_CODES[province])]
    return sorted(str(c) for c in cities["code"])


def region_name(code: str | None, lang: Lang) -> str:
    """A province's or city's own name (``安徽省``, ``阜阳市`` / ``Anhui``, ``Fuyang``);
    ``None``: the whole Delta (长三角（沪苏浙皖）)."""
    if not code:
        return DELTA.label(lang)
    return str(place(division(code).name, lang))


def scope_from_choices(period_key: str | None, province: str | None,
                       city: str | None = None) -> BriefScope:
    """The scope of the page's choices: the period of ``period_key`` (``None``: all the data)
    and the region of ``city`` if given, else of ``province``, else the whole Delta. A city
    outside the province, or an unknown key or code, is a :class:`~yibao.errors.BriefError`
    saying what is accepted."""
    period = parse_period(period_key) if period_key else None
    if city:
        if not is_known_division(city) or division(city).level != "city":
            raise BriefError(f"region {city!r} is not a city code of 沪苏浙皖, e.g. 341200")
        if province and division(city).parent != province:
            raise BriefError(f"city {city} does not lie in province {province}: choose one of "
                             f"its cities or the whole province")
        region = region_from_code(city)
    elif province:
        if province not in PROVINCE_CODES:
            raise BriefError(f"region {province!r} is not a province of 沪苏浙皖: give one of "
                             f"{', '.join(province_choices())}")
        region = region_from_code(province)
    else:
        region = DELTA
    return BriefScope(period, _normal_key(period), region)


def _normal_key(period: Period | None) -> str | None:
    """``2024-q3`` and ``2024Q3`` as ``2024-Q3``; ``2024-7`` as ``2024-07``."""
    if period is None:
        return None
    y = period.start.year
    if period.kind == "year":
        return str(y)
    if period.kind == "quarter":
        return f"{y}-Q{(period.start.month - 1) // 3 + 1}"
    return f"{y}-{period.start.month:02d}"


def file_names(scope: BriefScope, lang: Lang) -> tuple[str, str]:
    """The download names of a briefing's PDF and PNG: ``医保基金监管简报_2024Q3_安徽省.pdf``,
    ``Fund-supervision-briefing_2024Q3_Anhui.pdf``; all the data is ``全部数据`` /
    ``all-data``, the whole Delta ``长三角`` / ``Yangtze-River-Delta``, a city comes with its
    province (``安徽省阜阳市``, ``Fuyang-Anhui``)."""
    when = scope.period_key.replace("-", "") if scope.period_key else _ALL[lang]
    where = (_DELTA_SHORT[lang] if scope.region.code is None
             else _safe(scope.region.label(lang)))
    stem = f"{_TITLE[lang]}_{when}_{where}"
    return f"{stem}.pdf", f"{stem}.png"


def _safe(name: str) -> str:
    """A name fit for a file: ``Fuyang, Anhui`` → ``Fuyang-Anhui``, ``Ma'anshan`` kept."""
    return re.sub(r"[\s,/\\:*?\"<>|]+", "-", name).strip("-")


def ledger_state(ledger: LeadLedger | None) -> tuple[int, str]:
    """The ledger's state: how many events it holds (every event raises one lead's version by
    one, so this is the sum of versions) and when the last lead changed (ISO time; ``""`` when
    empty). ``(0, "")`` without a ledger. Any change to the ledger changes it."""
    if ledger is None:
        return 0, ""
    leads = ledger.leads()
    if not leads:
        return 0, ""
    return (sum(lead.version for lead in leads),
            max(lead.updated_at for lead in leads).isoformat())


def store_version(path: Path) -> str:
    """The store file's version as it stands (path, modification time in ns, size): a new
    load or detection changes it."""
    stat = os.stat(path)
    return f"{path}:{stat.st_mtime_ns}:{stat.st_size}"


def brief_files(settings: Settings, scope: BriefScope, lang: Lang, *,
                ledger: LeadLedger | None, made_on: date | None = None) -> BriefFiles:
    """The briefing on ``scope`` of the store ``settings.db`` in ``lang``, printed by the
    settings' Chromium into a temporary directory and returned as bytes. Lead figures come
    from ``ledger``; ``None`` means no ledger (every lead figure 0), never "open the settings'
    one". Raises :class:`~yibao.errors.BriefError` when Chromium is missing or fails."""
    with tempfile.TemporaryDirectory(prefix="yibao-brief-") as tmp:
        out = Path(tmp) / "brief.pdf"
        chosen = settings
        if ledger is None:
            # write_brief opens the settings' ledger when given none; an embedded ledger file
            # that does not exist is its way of saying "no ledger" (it never creates one)
            chosen = replace(settings, backend="embedded",
                             leads_file=Path(tmp) / "no-ledger.sqlite")
        made = write_brief(out, settings=chosen, period=scope.period, region=scope.region,
                           lang=lang, ledger=ledger, made_on=made_on)
        return BriefFiles(made.pdf.read_bytes(), made.png.read_bytes(), made.facts,
                          dict(made.seconds), with_ledger=ledger is not None)
