"""The shared words: counted nouns, money, brackets and lists in 中文 and English."""

from __future__ import annotations

from decimal import Decimal

import pytest

from yibao.i18n import bracket, list_join, metric_money, money, plural


@pytest.mark.parametrize(("n", "expected"), [(0, "0 rings"), (1, "1 ring"), (2, "2 rings"),
                                             (12_345, "12,345 rings")])
def test_plural(n: int, expected: str) -> None:
    assert plural(n, "ring") == expected


def test_plural_of_an_irregular_noun() -> None:
    assert plural(1, "person", "people") == "1 person"
    assert plural(3, "person", "people") == "3 people"


@pytest.mark.parametrize(("yuan", "expected"), [
    (0, "¥0"), (0.5, "¥0.50"), (12.5, "¥12.50"), (980, "¥980"), (53_100, "¥53.1k"),
    (999_949, "¥999.9k"), (5_312_345, "¥5.31M"), (1_200_000_000, "¥1.20B"),
    (Decimal("53100.00"), "¥53.1k"), (-53_100, "-¥53.1k"),
])
def test_money_in_english(yuan: float | Decimal, expected: str) -> None:
    assert money(yuan, "en") == expected


def test_money_in_chinese_reads_wan_yuan() -> None:
    assert money(53_100, "zh") == "5.31 万元"
    assert money(123_456_789, "zh") == "12,345.68 万元"


def test_metric_money_keeps_the_unit_in_the_chinese_label() -> None:
    assert metric_money(53_100, "zh") == "5.3"
    assert metric_money(53_100, "zh", digits=2) == "5.31"
    assert metric_money(53_100, "en") == "¥53.1k"


def test_bracket_and_list() -> None:
    assert bracket("南京市", "zh") == "（南京市）"
    assert bracket("Nanjing", "en") == " (Nanjing)"
    assert bracket("", "en") == ""
    assert bracket("", "zh") == "（）"  # as the pages always drew it
    assert list_join(["南京市", "宁波市"], "zh") == "南京市、宁波市"
    assert list_join(["Nanjing", "Ningbo"], "en") == "Nanjing, Ningbo"
