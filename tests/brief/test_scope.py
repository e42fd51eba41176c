"""Periods and regions of a briefing: the accepted forms, their days, their labels, and the
errors that name the accepted forms."""

from __future__ import annotations

from datetime import date

import pytest

from yibao.brief import DELTA, parse_period, period_between, region_from_code
from yibao.errors import BriefError, YibaoError


@pytest.mark.parametrize(
    ("text", "start", "end", "kind"),
    [
        ("2024-Q3", date(2024, 7, 1), date(2024, 9, 30), "quarter"),
        ("2024q1", date(2024, 1, 1), date(2024, 3, 31), "quarter"),
        ("2024-Q4", date(2024, 10, 1), date(2024, 12, 31), "quarter"),
        ("2024-07", date(2024, 7, 1), date(2024, 7, 31), "month"),
        ("2024-02", date(2024, 2, 1), date(2024, 2, 29), "month"),  # leap year
        ("2023-2", date(2023, 2, 1), date(2023, 2, 28), "month"),
        ("2024", date(2024, 1, 1), date(2024, 12, 31), "year"),
        (" 2024 ", date(2024, 1, 1), date(2024, 12, 31), "year"),
    ],
)
def test_periods_cover_the_days_asked_for(text: str, start: date, end: date, kind: str) -> None:
    period = parse_period(text)
    assert (period.start, period.end, period.kind) == (start, end, kind)
    assert period.days == (end - start).days + 1


def test_period_labels_in_chinese_and_english() -> None:
    q3 = parse_period("2024-Q3")
    assert q3.label() == "2024年第三季度"
    assert q3.label("en") == "2024 Q3"
    assert q3.span() == "2024年7月1日至2024年9月30日"
    assert q3.span("en") == "1 Jul 2024 – 30 Sep 2024"
    assert parse_period("2024-07").label() == "2024年7月"
    assert parse_period("2024").label("en") == "Year 2024"
    assert q3.end_exclusive == date(2024, 10, 1)


@pytest.mark.parametrize("text", ["2024-Q5", "2024-Q0", "2024-13", "2024-00", "Q3-2024",
                                  "24-07", "2024/07", "last year", "", "2024-07-01"])
def test_bad_periods_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(BriefError, match=r"2024-Q3.*2024-07.*--from YYYY-MM-DD") as info:
        parse_period(text)
    assert repr(text) in str(info.value)
    assert isinstance(info.value, YibaoError)


def test_a_day_range_includes_both_ends_and_refuses_a_reversed_one() -> None:
    span = period_between(date(2024, 7, 15), date(2024, 8, 14))
    assert span.days == 31
    assert span.label() == "2024年7月15日至2024年8月14日"
    with pytest.raises(BriefError, match=r"ends \(2024-07-01\) before it starts \(2024-08-01\)"):
        period_between(date(2024, 8, 1), date(2024, 7, 1))


@pytest.mark.parametrize(
    ("code", "level", "prefix", "name_zh"),
    [
        ("340000", "province", "34", "安徽省"),
        ("341200", "city", "3412", "安徽省阜阳市"),
        ("341202", "county", "341202", "安徽省阜阳市颍州区"),
        ("310115", "county", "310115", "上海市浦东新区"),  # the city is named like the province
    ],
)
def test_regions_select_their_division_and_everything_in_it(code: str, level: str, prefix: str,
                                                            name_zh: str) -> None:
    region = region_from_code(code)
    assert (region.code, region.level, region.prefix, region.name_zh) == (code, level, prefix,
                                                                          name_zh)
    assert region.name_en.isascii()


def test_no_region_is_the_whole_delta() -> None:
    assert region_from_code(None) is DELTA
    assert region_from_code("  ") is DELTA
    assert DELTA.prefix == ""


@pytest.mark.parametrize("code", ["110000", "34120", "abcdef", "341299"])
def test_unknown_regions_are_refused_with_examples(code: str) -> None:
    with pytest.raises(BriefError, match=r"not a division code of 沪苏浙皖.*340000.*341200"):
        region_from_code(code)
