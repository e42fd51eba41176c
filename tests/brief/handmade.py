"""Hand-made briefing facts for the page and layout tests: a Fuyang quarter with one ring, two
hot spots and nine violation types (:func:`handmade_facts`), and a fuller and an empty
variant of it (:func:`dense_facts`, :func:`empty_facts`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from yibao.brief import parse_period, region_from_code
from yibao.brief.facts import (
    BriefFacts,
    DivisionAmount,
    LeadFigures,
    RingLine,
    TrendPoint,
    ViolationRow,
)

RULES = ("IMPOSSIBLE_TRAVEL", "OVERLAPPING_STAYS", "TRACE_REUSE", "MANY_PHARMACIES_DAY")
PATTERNS = ("card_pooling", "recruited_inpatients", "cross_province_card_use", "resale_chain",
            "doctor_pharmacy_collusion")


def handmade_facts(**changes: object) -> BriefFacts:
    """The Fuyang 2024-Q3 facts, with ``changes`` (field names of :class:`BriefFacts`)."""
    keys = PATTERNS + RULES
    base = BriefFacts(
        period=parse_period("2024-Q3"), period_given=True, region=region_from_code("341200"),
        made_on=date(2025, 1, 2), settlements=12_345, institutions=321,
        suspicious_settlements=150, suspicious_fund=123_456.78, persons_involved=42,
        institutions_involved=7, rings_by_pattern=(("card_pooling", 2), ("resale_chain", 1)),
        leads=LeadFigures(), ledger_total=0, map_level="county",
        hot_spots=(DivisionAmount("341202", 100_000.0, 100), DivisionAmount("341282", 23_456.78,
                                                                            50)),
        trend_unit="month",
        trend=tuple(TrendPoint(date(2024, m, 1), 41_152.26, 50) for m in (7, 8, 9)),
        top_rings=(RingLine("R1", "card_pooling", "7 人在 <b>某药店</b> 于 3 个相同日期结算",
                            "7 persons settled at a pharmacy", 7, 1, 30, 50_000.0),),
        violations=tuple(ViolationRow(k, 20 - i, 10_000.0 - i, rings=1 if i < 5 else 0)
                         for i, k in enumerate(keys)),
        detected_at=datetime(2025, 1, 1, 8, 0))
    return replace(base, **changes)  # type: ignore[arg-type]


def dense_facts() -> BriefFacts:
    """A whole year of Anhui: five rings with two-line evidence, eight hot spots, twelve
    months, nine violation types."""
    evidence = ("12 人在 某某县人民医院（H34120000017）于 9 个相同日期同时段结算，81% 的结算"
                "与其他成员相隔不到 30 分钟，涉及多家定点药店的重复购药")
    counties = ("341202", "341282", "340102", "340103", "340302", "340402", "341302", "341502")
    return handmade_facts(
        period=parse_period("2024"), region=region_from_code("340000"),
        top_rings=tuple(RingLine(f"R{i}", PATTERNS[i], evidence, evidence, 12 + i, 2, 60 - i,
                                 90_000.0 - i * 10_000) for i in range(5)),
        hot_spots=tuple(DivisionAmount(c, 200_000.0 / (i + 1), 90 - i)
                        for i, c in enumerate(counties)),
        trend=tuple(TrendPoint(date(2024, m, 1), 10_000.0 * m, 50) for m in range(1, 13)))


def empty_facts() -> BriefFacts:
    """A quarter in which nothing was flagged."""
    return handmade_facts(
        suspicious_settlements=0, suspicious_fund=0.0, persons_involved=0,
        institutions_involved=0, rings_by_pattern=(), hot_spots=(), top_rings=(),
        violations=(), trend=tuple(TrendPoint(date(2024, m, 1), 0.0, 0) for m in (7, 8, 9)))


def crowded_facts() -> BriefFacts:
    """:func:`dense_facts` with every ring pattern and ledger leads: more than fits on the page
    at full size in English, so the page shrinks (and then fills what its zoom step left)."""
    leads = LeadFigures(leads=120, found_true=45, cleared=30, by_state={"closed": 12},
                        amount_involved=Decimal("987654.32"), amount_recovered=Decimal("123456.78"))
    rows = tuple(replace(v, leads=12, confirmed=5) for v in dense_facts().violations)
    return replace(dense_facts(), rings_by_pattern=tuple((p, 3) for p in PATTERNS), leads=leads,
                   ledger_total=300, violations=rows)
