"""The HTML of a briefing: one A4 page, Chinese by default (English on request).

The layout follows a government briefing (简报): a red masthead with the confidentiality mark,
then 一、总体情况 (a summary paragraph and headline figures), 二、风险热点与趋势 (the hot-spot map
and the monthly trend), 三、重点可疑团伙 (top rings with one-line evidence), 四、违规行为统计 (the
statistics table in the shape of the seeds' 自查情况统计表: 序号, 违规行为, 违规例(次)数,
违规金额(万元), 备注) and a footer with the source, the scope and the masking note.

This module turns :class:`~yibao.brief.facts.BriefFacts` into the words and numbers of the page
(:class:`BriefPage`); the Jinja2 template ``templates/brief.html.j2`` (autoescaped) lays them
out, styled by ``templates/brief.css`` and fitted to the page by ``templates/brief.js``. The
page is self-contained: CSS and script inline, the map as inline SVG
(:mod:`yibao.brief.map_svg`), the trend chart drawn by the plotly.js of the ``plotly`` package
inlined (:mod:`yibao.brief.charts`), fonts from the system (Noto Sans/Serif CJK, Debian
``fonts-noto-cjk``). Facts hold no personal data. Amounts are shown in 万元 (10k yuan)
throughout, the hot-spot table and map legend in yuan when every amount there is under 1 万元.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any, Literal

from markupsafe import Markup, escape

from yibao.brief.charts import figure_spec, plotly_js, trend_figure
from yibao.brief.facts import BriefFacts, RingLine, ViolationRow
from yibao.brief.map_svg import NONE_COLOUR, amount_classes, hot_spot_map_svg, map_legend
from yibao.brief.scope import Lang
from yibao.i18n import money, plural

if TYPE_CHECKING:
    import jinja2

__all__ = ["MAX_VIOLATION_ROWS", "TEXT", "BriefPage", "Card", "HotSpotRow", "LegendItem",
           "RingRow", "ViolationLine", "brief_html", "brief_page", "violation_name"]

MAX_VIOLATION_ROWS = 7
"""Rows of the statistics table before the rest are summed into one 其他 row (the page lists
them all instead when it has room, see ``templates/brief.js``)."""

TEXT: dict[str, tuple[str, str]] = {
    key: (zh, en) for key, (zh, en) in tomllib.loads(
        files("yibao.brief").joinpath("templates", "brief.texts.toml").read_text("utf-8")).items()}
"""Every fixed text of the page: key -> (Chinese, English), from ``templates/brief.texts.toml``."""


def _t(key: str, lang: Lang) -> str:
    zh, en = TEXT[key]
    return zh if lang == "zh" else en


AmountUnit = Literal["wan", "yuan"]


def _wan(yuan: float | Decimal) -> str:
    """Yuan as 万元 with two decimals and thousands separators."""
    return f"{float(yuan) / 10_000:,.2f}"


def _amount(yuan: float, unit: AmountUnit) -> str:
    """An amount in ``unit``: 万元 with two decimals (``wan``; two significant digits when that
    would show a positive amount as 0.00), or whole yuan (``yuan``)."""
    if unit == "yuan":
        return f"{yuan:,.0f}"
    wan = yuan / 10_000
    return f"{wan:.2g}" if 0 < wan < 0.005 else f"{wan:,.2f}"


def _card_money(yuan: float | Decimal, lang: Lang) -> tuple[str, str]:
    """A money card's figure and unit: ``5.31`` and ``万元`` in Chinese, ``¥53.1k`` and no
    unit in English (:func:`yibao.i18n.money`)."""
    if lang == "zh":
        return _wan(yuan), _t("u_wan", lang)
    return money(yuan, lang), ""


def _n(value: int) -> str:
    return f"{value:,}"


def _day(day: date, lang: Lang) -> str:
    if lang == "zh":
        return f"{day.year}年{day.month}月{day.day}日"
    return day.strftime("%d %b %Y").lstrip("0")


@cache
def _rule_names() -> dict[str, tuple[str, str]]:
    from graph.rules import load_rulebase

    return {rule.id: (rule.name_zh, rule.name_en) for rule in load_rulebase()}


def violation_name(key: str, lang: Lang) -> str:
    """The name of a violation key: a ring pattern, a rule of the rule base, a seed category
    (Chinese only) or the key itself."""
    from graph.rings import PATTERNS
    from yibao.leads.violations import violation_label

    names = PATTERNS.get(key) or _rule_names().get(key)
    if names:
        return names[0] if lang == "zh" else names[1][:1].upper() + names[1][1:]
    return violation_label(key)


def _pattern_name(key: str, lang: Lang) -> str:
    from graph.rings import PATTERNS

    zh, en = PATTERNS.get(key, (key, key))
    return zh if lang == "zh" else en[:1].upper() + en[1:]


def _period_text(facts: BriefFacts, lang: Lang) -> tuple[str, str]:
    """(headline, full line) of the period."""
    p = facts.period
    sep = ("（", "）") if lang == "zh" else (" (", ")")
    if not facts.period_given:
        return _t("all_data", lang), f"{_t('all_data', lang)}{sep[0]}{p.span(lang)}{sep[1]}"
    if p.kind == "range":
        return p.span(lang), p.span(lang)
    return p.label(lang), f"{p.label(lang)}{sep[0]}{p.span(lang)}{sep[1]}"


def _summary(facts: BriefFacts, lang: Lang) -> Markup:
    """The overview paragraph; the suspicious fund in bold (the only markup)."""
    r = escape(facts.region.label(lang))
    lead = facts.leads
    if lang == "zh":
        patterns = escape("、".join(f"{_pattern_name(k, 'zh')} {n} 个"
                                   for k, n in facts.rings_by_pattern))
        text = (f"报告期内，{r}定点医药机构发生有效结算 {_n(facts.settlements)} 笔"
                f"（{_n(facts.institutions)} 家机构）。经图分析检测，发现可疑结算 "
                f"{_n(facts.suspicious_settlements)} 笔，涉及医保基金 "
                f"<b>{_wan(facts.suspicious_fund)} 万元</b>，涉及参保人 "
                f"{_n(facts.persons_involved)} 人、定点医药机构 {_n(facts.institutions_involved)} "
                f"家；识别可疑团伙 {facts.rings} 个")
        text += f"（{patterns}）。" if patterns else "。"
        if lead.leads:
            text += (f"线索台账本期在册线索 {lead.leads} 条，已查实 {lead.found_true} 条、排除 "
                     f"{lead.cleared} 条，涉及金额 {_wan(lead.amount_involved)} 万元，已追回 "
                     f"{_wan(lead.amount_recovered)} 万元。")
        else:
            text += "线索台账暂无本期本地区线索，以下金额按检测结果统计。"
        return Markup(text)
    patterns_en = escape(", ".join(f"{_pattern_name(k, 'en').lower()} {n}"
                                   for k, n in facts.rings_by_pattern))
    text = (f"In this period, designated institutions in {r} made "
            f"{plural(facts.settlements, 'effective claim')} "
            f"({plural(facts.institutions, 'institution')}). "
            f"Graph analysis flagged {plural(facts.suspicious_settlements, 'claim')} involving "
            f"<b>{money(facts.suspicious_fund, 'en')}</b> of fund money, "
            f"{plural(facts.persons_involved, 'insured person')} and "
            f"{plural(facts.institutions_involved, 'institution')}, and found "
            f"{plural(facts.rings, 'suspicious ring')}")
    text += f" ({patterns_en}). " if patterns_en else ". "
    if lead.leads:
        text += (f"The leads ledger holds {plural(lead.leads, 'lead')} in scope: "
                 f"{lead.found_true} found true, {lead.cleared} cleared, "
                 f"{money(lead.amount_involved, 'en')} involved, "
                 f"{money(lead.amount_recovered, 'en')} recovered.")
    else:
        text += "The leads ledger has no lead for this period and region yet; amounts below " \
                "are from detection."
    return Markup(text)


@dataclass(frozen=True)
class Card:
    """A headline figure: label, value and unit, a note on its source; ``strong`` in red."""

    label: str
    value: str
    unit: str
    note: str
    strong: bool = False


def _cards(facts: BriefFacts, lang: Lang) -> tuple[Card, ...]:
    lead = facts.leads
    if lead.leads:
        involved, basis = lead.amount_involved, _t("from_ledger", lang)
    else:
        involved, basis = Decimal(str(round(facts.suspicious_fund, 2))), _t("from_detection", lang)
    cleared = f"{_t('cleared', lang)} {lead.cleared}" if lang == "zh" else \
        f"{lead.cleared} {_t('cleared', lang)}"
    closed = f"{_t('closed', lang)} {lead.closed}" if lang == "zh" else \
        f"{lead.closed} {_t('closed', lang)}"
    return (
        Card(_t("k_leads", lang), _n(lead.leads), _t("u_leads", lang), _t("from_ledger", lang)),
        Card(_t("k_confirmed", lang), _n(lead.found_true), _t("u_leads", lang),
             f"{cleared} · {closed}"),
        Card(_t("k_involved", lang), *_card_money(involved, lang), basis, strong=True),
        Card(_t("k_recovered", lang), *_card_money(lead.amount_recovered, lang),
             _t("from_ledger", lang)),
        Card(_t("k_rings", lang), _n(facts.rings), _t("u_rings", lang),
             _t("from_detection", lang)),
        Card(_t("k_persons", lang), _n(facts.persons_involved), _t("u_persons", lang),
             _t("counted", lang)),
        Card(_t("k_institutions", lang), _n(facts.institutions_involved), _t("u_inst", lang),
             _t("from_detection", lang)),
    )


def _division_name(code: str, lang: Lang) -> str:
    from yibao.divisions import division, is_known_division

    if not is_known_division(code):
        return code
    d = division(code)
    if d.level == "county" and lang == "zh":
        city = division(d.city)
        return d.name if city.name == d.name else f"{city.name}{d.name}"
    return d.name if lang == "zh" else (d.name_en or d.name)


@dataclass(frozen=True)
class HotSpotRow:
    """A row of the hot-spot table: rank (as on the map), division, fund and settlements."""

    rank: int
    name: str
    fund: str
    cases: str


@dataclass(frozen=True)
class LegendItem:
    """A swatch of the map legend and its range (or "none")."""

    colour: str
    text: str


def _hot_spot_unit(facts: BriefFacts) -> AmountUnit:
    """The unit of the hot-spot table and the map legend: 万元 like the rest of the page, or
    yuan when every hot spot is under 1 万元 (5,660 reads better than 0.57)."""
    top = max((float(s.fund) for s in facts.hot_spots), default=0.0)
    return "yuan" if 0 < top < 10_000 else "wan"


def _hot_spot_rows(facts: BriefFacts, lang: Lang, unit: AmountUnit) -> tuple[HotSpotRow, ...]:
    ranked = [s for s in facts.hot_spots if s.fund > 0][:5]
    return tuple(HotSpotRow(i, _division_name(s.code, lang), _amount(float(s.fund), unit),
                            _n(s.cases))
                 for i, s in enumerate(ranked, start=1))


def _legend(facts: BriefFacts, lang: Lang, unit: AmountUnit) -> tuple[LegendItem, ...]:
    classes = map_legend(amount_classes(s.fund for s in facts.hot_spots))
    items = [LegendItem(colour, f"{_amount(lo, unit)}–{_amount(hi, unit)}")
             for colour, lo, hi in reversed(classes)]
    return (*items, LegendItem(NONE_COLOUR, _t("none", lang)))


@dataclass(frozen=True)
class RingRow:
    """A row of the top rings table (counts and 万元 as text)."""

    pattern: str
    evidence: str
    persons: str
    institutions: str
    settlements: str
    fund: str


def _ring_rows(rings: tuple[RingLine, ...], lang: Lang) -> tuple[RingRow, ...]:
    return tuple(RingRow(_pattern_name(r.pattern, lang),
                         r.evidence_zh if lang == "zh" else r.evidence_en, _n(r.persons),
                         _n(r.institutions), _n(r.settlements), _wan(r.fund))
                 for r in rings)


def _remark(row: ViolationRow, lang: Lang) -> str:
    parts = []
    if lang == "zh":
        if row.rings:
            parts.append(f"可疑团伙 {row.rings} 个")
        if row.leads:
            parts.append(f"线索 {row.leads} 条（查实 {row.confirmed} 条）")
        return "；".join(parts) or ("规则命中" if row.cases else "")
    if row.rings:
        parts.append(plural(row.rings, "ring"))
    if row.leads:
        parts.append(f"{plural(row.leads, 'lead')} ({row.confirmed} found true)")
    return "; ".join(parts) or ("rule hits" if row.cases else "")


@dataclass(frozen=True)
class ViolationLine:
    """A row of the statistics table. ``kind``: ``""`` a violation type, ``more`` one past
    :data:`MAX_VIOLATION_ROWS` (shown when the page has room, instead of the ``others`` row
    that sums them), ``total`` the deduplicated total."""

    no: str
    name: str
    cases: str
    fund: str
    remark: str
    kind: Literal["", "more", "others", "total"] = ""


def _violation_lines(facts: BriefFacts, lang: Lang) -> tuple[ViolationLine, ...]:
    rows = list(facts.violations)
    if not rows:
        return ()
    first = len(rows) if len(rows) <= MAX_VIOLATION_ROWS + 1 else MAX_VIOLATION_ROWS
    lines = [ViolationLine(str(i), violation_name(r.key, lang), _n(r.cases), _wan(r.fund),
                           _remark(r, lang), "" if i <= first else "more")
             for i, r in enumerate(rows, start=1)]
    rest = rows[first:]
    if rest:
        kinds = f"（{len(rest)} 类）" if lang == "zh" else f" ({len(rest)} types)"
        lines.append(ViolationLine(str(first + 1), f"{_t('others', lang)}{kinds}",
                                   _n(sum(r.cases for r in rest)),
                                   _wan(sum(r.fund for r in rest)), "", "others"))
    note = "同一结算命中多类时分类计数，合计去重" if lang == "zh" else \
        "claims in several types: counted once in the total"
    lines.append(ViolationLine("", _t("total", lang), _n(facts.suspicious_settlements),
                               _wan(facts.suspicious_fund), note, "total"))
    return tuple(lines)


def _footer(facts: BriefFacts, lang: Lang) -> tuple[str, ...]:
    span = facts.period.span(lang)
    region = facts.region.label(lang)
    detected = facts.detected_at.date().isoformat() if facts.detected_at else "—"
    if lang == "zh":
        return (
            f"数据来源：{span}医保结算数据（有效结算 {_n(facts.settlements)} 笔），"
            f"yibao-graph 检测结果（检测日期 {detected}）；线索数据来自线索台账"
            f"（在册 {facts.ledger_total} 条）。",
            f"统计口径：仅统计机构所在地位于{region}的定点医药机构发生的结算，参保人可来自其他地区；"
            "金额为统筹基金与个人账户支付之和，已剔除冲销结算。",
            "个人信息已脱敏：参保人仅计人数，不列姓名、证件号码和联系电话。",
        )
    return (
        f"Source: medical-insurance claims {span} ({_n(facts.settlements)} effective "
        f"claims), yibao-graph detection (run {detected}); leads from the leads ledger "
        f"({facts.ledger_total} in all).",
        f"Scope: only claims at designated institutions located in {region}; "
        "insured persons may live elsewhere. Amounts are pooled fund plus personal account "
        "payments, reversals left out.",
        "Personal data masked: persons are counted, never listed; no names, ID or phone "
        "numbers.",
    )


_MAP_PX = (330, 254)
"""The map's SVG size in CSS pixels (88 x 67 mm) before the page script fits it."""

_TREND_PX = (352, 128)
"""The trend chart's size in CSS pixels before the page script fits it."""


@dataclass(frozen=True)
class BriefPage:
    """What the template shows, as text (plus the summary and the map as markup)."""

    lang: Lang
    html_lang: str
    head_period: str
    region: str
    issue: str
    made_on: str
    colon: str
    summary: Markup
    cards: tuple[Card, ...]
    patterns: tuple[tuple[str, int], ...]
    map_svg: Markup
    hot_fund_head: str
    hot_spots: tuple[HotSpotRow, ...]
    legend_title: str
    legend: tuple[LegendItem, ...]
    trend_title: str
    trend_height: int
    trend_spec: dict[str, Any]
    rings: tuple[RingRow, ...]
    violations: tuple[ViolationLine, ...]
    footer: tuple[str, ...]


def brief_page(facts: BriefFacts, *, lang: Lang = "zh") -> BriefPage:
    """The words and numbers of the page for ``facts`` in ``lang``."""
    head_period, full_period = _period_text(facts, lang)
    region = facts.region.label(lang)
    code = f"（{facts.region.code}）" if lang == "zh" and facts.region.code else (
        f" ({facts.region.code})" if facts.region.code else "")
    sep = "　·　" if lang == "zh" else " · "
    colon = "：" if lang == "zh" else ": "
    unit = _hot_spot_unit(facts)
    map_svg = hot_spot_map_svg(facts.hot_spots, region=facts.region, level=facts.map_level,
                               width=_MAP_PX[0], height=_MAP_PX[1], lang=lang)
    fig = trend_figure(facts.trend, unit=facts.trend_unit, lang=lang, width=_TREND_PX[0],
                       height=_TREND_PX[1])
    return BriefPage(
        lang=lang, html_lang="zh-CN" if lang == "zh" else "en", head_period=head_period,
        region=region, issue=f"{full_period}{sep}{region}{code}",
        made_on=_day(facts.made_on, lang), colon=colon, summary=_summary(facts, lang),
        cards=_cards(facts, lang),
        patterns=tuple((_pattern_name(k, lang), n) for k, n in facts.rings_by_pattern),
        map_svg=Markup(map_svg),  # built by map_svg.py, which escapes the names it draws
        hot_fund_head=_t("fund_yuan" if unit == "yuan" else "fund_wan", lang),
        hot_spots=_hot_spot_rows(facts, lang, unit),
        legend_title=f"{_t('u_yuan' if unit == 'yuan' else 'u_wan', lang)}{colon}",
        legend=_legend(facts, lang, unit),
        trend_title=_t("trend_week" if facts.trend_unit == "week" else "trend_month", lang),
        trend_height=_TREND_PX[1], trend_spec=figure_spec(fig),
        rings=_ring_rows(facts.top_rings, lang), violations=_violation_lines(facts, lang),
        footer=_footer(facts, lang))


@cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("yibao.brief", "templates"),
                              autoescape=True, undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True)


@cache
def _asset(name: str) -> Markup:
    """A file of ``templates/`` (the page's CSS or script), inlined as it is."""
    return Markup(files("yibao.brief").joinpath("templates", name).read_text(encoding="utf-8"))


def brief_html(facts: BriefFacts, *, lang: Lang = "zh", include_plotlyjs: bool = True) -> str:
    """The whole page as one HTML document (UTF-8). ``include_plotlyjs=False`` leaves the
    plotly.js bundle out (tests that only read the markup)."""
    texts = {key: _t(key, lang) for key in TEXT}
    return _environment().get_template("brief.html.j2").render(
        p=brief_page(facts, lang=lang), t=texts, css=_asset("brief.css"),
        script=_asset("brief.js"),
        plotly_js=Markup(plotly_js()) if include_plotlyjs else None)
