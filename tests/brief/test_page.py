"""The page's HTML from hand-made facts: the seeds' table shape, the amount's basis (ledger or
detection), escaping, English; and importing the package stays light."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace
from decimal import Decimal

from tests.brief.handmade import PATTERNS, RULES
from tests.brief.handmade import handmade_facts as _facts
from yibao.brief.facts import DivisionAmount, LeadFigures
from yibao.brief.page import MAX_VIOLATION_ROWS, brief_html


def test_the_statistics_table_has_the_seeds_shape_and_a_total() -> None:
    html = brief_html(_facts(), include_plotlyjs=False)
    for header in ("序号", "违规行为", "违规例(次)数", "违规金额(万元)", "备注"):
        assert f"<th>{header}</th>" in html
    assert "聚集性刷卡(套刷)" in html
    assert "同日异地不可能行程" in html
    rest = len(PATTERNS + RULES) - MAX_VIOLATION_ROWS
    assert f"其他（{rest} 类）" in html
    assert '<td>合计</td><td class="r">150</td><td class="r">12.35</td>' in html
    assert "可疑团伙 1 个" in html
    assert "规则命中" in html


def test_amount_involved_comes_from_detection_until_the_ledger_has_leads() -> None:
    empty = brief_html(_facts(), include_plotlyjs=False)
    assert "线索台账暂无本期本地区线索" in empty
    card = '<div class="v">{}<span class="u">万元</span></div><div class="note">{}'
    assert card.format("12.35", "检测结果") in empty
    leads = LeadFigures(leads=5, found_true=2, cleared=1, by_state={"closed": 1},
                        amount_involved=Decimal("88800.00"), amount_recovered=Decimal("1234.56"),
                        by_violation=(("card_pooling", 5, 2),))
    rows = tuple(replace(v, leads=5, confirmed=2) if v.key == "card_pooling" else v
                 for v in _facts().violations)
    full = brief_html(_facts(leads=leads, ledger_total=9, violations=rows),
                      include_plotlyjs=False)
    assert card.format("8.88", "线索台账") in full
    assert "已查实 2 条、排除 1 条" in full
    assert "已追回 0.12 万元" in full
    assert "线索 5 条（查实 2 条）" in full


def test_text_from_the_data_is_escaped() -> None:
    html = brief_html(_facts(), include_plotlyjs=False)
    assert "&lt;b&gt;某药店&lt;/b&gt;" in html
    assert "<b>某药店</b>" not in html


def test_period_region_and_english() -> None:
    zh = brief_html(_facts(), include_plotlyjs=False)
    assert "2024年第三季度（2024年7月1日至2024年9月30日）" in zh
    assert "安徽省阜阳市（341200）" in zh
    assert "阜阳市颍州区" in zh
    en = brief_html(_facts(), lang="en", include_plotlyjs=False)
    assert "2024 Q3 (1 Jul 2024 – 30 Sep 2024)" in en
    assert "Fuyang, Anhui (341200)" in en
    assert "Violations by type" in en
    assert "7 persons settled at a pharmacy" in en
    rest = len(PATTERNS + RULES) - MAX_VIOLATION_ROWS
    assert f"Others ({rest} types)" in en
    assert "一、总体情况" not in en
    assert "<script>" in zh
    assert len(zh) < 200_000


def test_importing_the_package_stays_light() -> None:
    code = ("import sys, yibao.brief, yibao.cli_brief; "
            "print(sorted(m for m in ('duckdb', 'pandas', 'plotly') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.strip()
    assert out == "[]"


def test_small_hot_spots_are_shown_in_yuan_not_as_zero_wan() -> None:
    small = (DivisionAmount("341202", 5_660.0, 25), DivisionAmount("341282", 40.0, 1),
             DivisionAmount("341203", 12.0, 1))
    html = brief_html(_facts(hot_spots=small), include_plotlyjs=False)
    assert "<th>可疑基金(元)</th>" in html
    assert '<td class="r">5,660</td>' in html
    assert "元：" in html  # the legend in yuan too
    assert "0.00–0.00" not in html


def test_large_hot_spots_stay_in_wan() -> None:
    html = brief_html(_facts(), include_plotlyjs=False)
    assert "<th>可疑基金(万元)</th>" in html
    assert '<td class="r">10.00</td>' in html


def _legend(html: str) -> str:
    match = re.search(r'<div class="legend">(.*?)</div>', html, re.DOTALL)
    assert match, "no map legend"
    return re.sub(r"<[^>]+>", " ", match[1])


def test_the_map_legend_uses_the_unit_of_the_tables() -> None:
    # the table is in 万元 (its largest amount is over 1 万元) while a legend class ends below
    spots = (DivisionAmount("341202", 100_000.0, 100), DivisionAmount("341282", 3_000.0, 5))
    zh = brief_html(_facts(hot_spots=spots), include_plotlyjs=False)
    assert "<th>可疑基金(万元)</th>" in zh
    assert _legend(zh).split() == ["万元：", "0.00–0.30", "0.30–10.00", "无"]
    en = brief_html(_facts(hot_spots=spots), lang="en", include_plotlyjs=False)
    assert "<th>Fund (10k yuan)</th>" in en
    assert _legend(en).split() == ["10k", "yuan:", "0.00–0.30", "0.30–10.00", "none"]


def test_a_tiny_legend_class_in_wan_is_not_shown_as_zero() -> None:
    spots = (DivisionAmount("341202", 100_000.0, 100), DivisionAmount("341282", 40.0, 1))
    legend = _legend(brief_html(_facts(hot_spots=spots), include_plotlyjs=False))
    assert legend.split() == ["万元：", "0.00–0.004", "0.004–10.00", "无"]
    assert "0.00–0.00" not in legend.split()


def test_every_violation_type_is_on_the_page_for_the_layout_to_show() -> None:
    html = brief_html(_facts(), include_plotlyjs=False)
    shown = re.findall(r'<tr><td class="c">(\d+)</td>', html.split("<th>违规行为</th>")[1])
    more = re.findall(r'<tr class="more"><td class="c">(\d+)</td><td>([^<]+)</td>', html)
    assert len(shown) == MAX_VIOLATION_ROWS
    assert [int(n) for n, _ in more] == list(range(MAX_VIOLATION_ROWS + 1,
                                                   len(PATTERNS + RULES) + 1))
    assert '<tr class="others"><td class="c">8</td><td>其他（2 类）</td>' in html
    # one type past the limit is shown rather than folded into 其他 (1 类)
    nine = brief_html(_facts(violations=_facts().violations[:MAX_VIOLATION_ROWS + 1]),
                      include_plotlyjs=False)
    assert '<tr class="more">' not in nine
    assert "其他（" not in nine
