"""The HTML of a briefing: one A4 page, Chinese by default (English on request).

The layout follows a government briefing (简报): a red masthead with the confidentiality mark,
then 一、总体情况 (a summary paragraph and headline figures), 二、风险热点与趋势 (the hot-spot map
and the monthly trend), 三、重点可疑团伙 (top rings with one-line evidence), 四、违规行为统计 (the
statistics table in the shape of the seeds' 自查情况统计表: 序号, 违规行为, 违规例(次)数,
违规金额(万元), 备注) and a footer with the source, the scope and the masking note.

The page is self-contained: CSS inline, the map as inline SVG (:mod:`yibao.brief.map_svg`),
the trend chart drawn by the plotly.js of the ``plotly`` package inlined
(:mod:`yibao.brief.charts`), fonts from the system (Noto Sans/Serif CJK, Debian
``fonts-noto-cjk``). Everything it shows comes from :class:`~yibao.brief.facts.BriefFacts`,
which holds no personal data.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import cache
from html import escape

from yibao.brief.charts import figure_html, plotly_js, trend_figure
from yibao.brief.facts import BriefFacts, RingLine, ViolationRow
from yibao.brief.map_svg import NONE_COLOUR, amount_classes, hot_spot_map_svg, map_legend
from yibao.brief.scope import Lang
from yibao.i18n import money, plural

__all__ = ["MAX_VIOLATION_ROWS", "TEXT", "brief_html", "violation_name"]

MAX_VIOLATION_ROWS = 7
"""Rows of the statistics table before the rest are summed into one 其他 row."""

TEXT: dict[str, tuple[str, str]] = {
    "title": ("医保基金监管图分析简报", "Medical-Insurance Fund Supervision: Graph Analysis Brief"),
    "secret": ("内部资料　注意保密", "INTERNAL — CONFIDENTIAL"),
    "issuer": ("yibao-graph 医保基金监管图分析", "yibao-graph fund-supervision analytics"),
    "period": ("报告期", "Period"),
    "region": ("地区", "Region"),
    "all_data": ("全部数据", "All data"),
    "s1": ("一、总体情况", "1. Overview"),
    "s2": ("二、风险热点与趋势", "2. Hot spots and trend"),
    "s3": ("三、重点可疑团伙", "3. Top suspicious rings"),
    "s4": ("四、违规行为统计", "4. Violations by type"),
    "k_leads": ("发现线索", "Leads found"),
    "k_confirmed": ("查实线索", "Confirmed"),
    "k_involved": ("涉及金额", "Amount involved"),
    "k_recovered": ("追回金额", "Recovered"),
    "k_rings": ("可疑团伙", "Suspicious rings"),
    "k_persons": ("涉及参保人", "Persons involved"),
    "k_institutions": ("涉及机构", "Institutions involved"),
    "u_leads": ("条", "leads"),
    "u_wan": ("万元", "10k yuan"),
    "u_yuan": ("元", "yuan"),
    "u_rings": ("个", "rings"),
    "u_persons": ("人", "persons"),
    "u_inst": ("家", "institutions"),
    "from_ledger": ("线索台账", "leads ledger"),
    "from_detection": ("检测结果", "detection"),
    "cleared": ("排除", "cleared"),
    "closed": ("结案", "closed"),
    "counted": ("仅计人数", "counted, not listed"),
    "by_pattern": ("可疑团伙按模式", "Rings by pattern"),
    "none": ("无", "none"),
    "hot_title": ("可疑基金热点地区", "Hot spots by suspicious fund"),
    "trend_month": ("可疑基金月度趋势（万元）", "Suspicious fund per month (10k yuan)"),
    "trend_week": ("可疑基金周趋势（万元）", "Suspicious fund per week (10k yuan)"),
    "no": ("序号", "No."),
    "area": ("地区", "Division"),
    "fund_wan": ("可疑基金(万元)", "Fund (10k yuan)"),
    "fund_yuan": ("可疑基金(元)", "Fund (yuan)"),
    "cases_n": ("笔数", "Claims"),
    "pattern": ("团伙模式", "Pattern"),
    "evidence": ("主要证据", "Key evidence"),
    "members": ("参保人(人)", "Persons"),
    "inst_n": ("机构(家)", "Inst."),
    "setl_n": ("可疑结算(笔)", "Claims"),
    "amount_wan": ("金额(万元)", "10k yuan"),
    "violation": ("违规行为", "Violation"),
    "v_cases": ("违规例(次)数", "Cases"),
    "v_amount": ("违规金额(万元)", "Amount (10k yuan)"),
    "remark": ("备注", "Remarks"),
    "total": ("合计", "Total"),
    "others": ("其他", "Others"),
    "no_rings": ("报告期内本地区未发现可疑团伙。", "No suspicious ring in this period and region."),
    "no_hits": ("报告期内本地区未发现可疑结算。", "No suspicious claim in this period and region."),
    "page": ("第 1 页　共 1 页", "Page 1 of 1"),
}
"""Every fixed text of the page: key -> (Chinese, English)."""


def _t(key: str, lang: Lang) -> str:
    zh, en = TEXT[key]
    return zh if lang == "zh" else en


def _wan(yuan: float | Decimal) -> str:
    """Yuan as 万元 with two decimals and thousands separators."""
    return f"{float(yuan) / 10_000:,.2f}"


def _legend_number(yuan: float, unit: str) -> str:
    """An amount in ``unit``: 万元 with two decimals (``wan``), or whole yuan (``yuan``)."""
    if unit == "yuan":
        return f"{yuan:,.0f}"
    return f"{yuan / 10_000:,.2f}"


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
    if not facts.period_given:
        return _t("all_data", lang), f"{_t('all_data', lang)}（{p.span(lang)}）" if lang == "zh" \
            else f"{_t('all_data', lang)} ({p.span(lang)})"
    if p.kind == "range":
        return p.span(lang), p.span(lang)
    sep = ("（", "）") if lang == "zh" else (" (", ")")
    return p.label(lang), f"{p.label(lang)}{sep[0]}{p.span(lang)}{sep[1]}"


def _summary(facts: BriefFacts, lang: Lang) -> str:
    r = facts.region.label(lang)
    lead = facts.leads
    patterns = "、".join(f"{_pattern_name(k, 'zh')} {n} 个" for k, n in facts.rings_by_pattern)
    if lang == "zh":
        text = (f"报告期内，{escape(r)}定点医药机构发生有效结算 {_n(facts.settlements)} 笔"
                f"（{_n(facts.institutions)} 家机构）。经图分析检测，发现可疑结算 "
                f"{_n(facts.suspicious_settlements)} 笔，涉及医保基金 "
                f"<b>{_wan(facts.suspicious_fund)} 万元</b>，涉及参保人 "
                f"{_n(facts.persons_involved)} 人、定点医药机构 {_n(facts.institutions_involved)} "
                f"家；识别可疑团伙 {facts.rings} 个")
        text += f"（{patterns}）。" if patterns else "。"
        if lead.found:
            text += (f"线索台账本期在册线索 {lead.found} 条，已查实 {lead.confirmed} 条、排除 "
                     f"{lead.cleared} 条，涉及金额 {_wan(lead.amount_involved)} 万元，已追回 "
                     f"{_wan(lead.amount_recovered)} 万元。")
        else:
            text += "线索台账暂无本期本地区线索，以下金额按检测结果统计。"
        return text
    patterns_en = ", ".join(f"{_pattern_name(k, 'en').lower()} {n}"
                            for k, n in facts.rings_by_pattern)
    text = (f"In this period, designated institutions in {escape(r)} made "
            f"{plural(facts.settlements, 'effective claim')} "
            f"({plural(facts.institutions, 'institution')}). "
            f"Graph analysis flagged {plural(facts.suspicious_settlements, 'claim')} involving "
            f"<b>{money(facts.suspicious_fund, 'en')}</b> of fund money, "
            f"{plural(facts.persons_involved, 'insured person')} and "
            f"{plural(facts.institutions_involved, 'institution')}, and found "
            f"{plural(facts.rings, 'suspicious ring')}")
    text += f" ({patterns_en}). " if patterns_en else ". "
    if lead.found:
        text += (f"The leads ledger holds {plural(lead.found, 'lead')} in scope: "
                 f"{lead.confirmed} confirmed, {lead.cleared} cleared, "
                 f"{money(lead.amount_involved, 'en')} involved, "
                 f"{money(lead.amount_recovered, 'en')} recovered.")
    else:
        text += "The leads ledger has no lead for this period and region yet; amounts below " \
                "are from detection."
    return text


def _card(label: str, value: str, unit: str, note: str, *, strong: bool = False) -> str:
    cls = "card strong" if strong else "card"
    return (f'<div class="{cls}"><div class="k">{escape(label)}</div>'
            f'<div class="v">{escape(value)}<span class="u">{escape(unit)}</span></div>'
            f'<div class="note">{escape(note)}</div></div>')


def _cards(facts: BriefFacts, lang: Lang) -> str:
    lead = facts.leads
    if lead.found:
        involved, basis = lead.amount_involved, _t("from_ledger", lang)
    else:
        involved, basis = Decimal(str(round(facts.suspicious_fund, 2))), _t("from_detection", lang)
    cleared = f"{_t('cleared', lang)} {lead.cleared}" if lang == "zh" else \
        f"{lead.cleared} {_t('cleared', lang)}"
    closed = f"{_t('closed', lang)} {lead.closed}" if lang == "zh" else \
        f"{lead.closed} {_t('closed', lang)}"
    return "".join([
        _card(_t("k_leads", lang), _n(lead.found), _t("u_leads", lang), _t("from_ledger", lang)),
        _card(_t("k_confirmed", lang), _n(lead.confirmed), _t("u_leads", lang),
              f"{cleared} · {closed}"),
        _card(_t("k_involved", lang), *_card_money(involved, lang), basis, strong=True),
        _card(_t("k_recovered", lang), *_card_money(lead.amount_recovered, lang),
              _t("from_ledger", lang)),
        _card(_t("k_rings", lang), _n(facts.rings), _t("u_rings", lang),
              _t("from_detection", lang)),
        _card(_t("k_persons", lang), _n(facts.persons_involved), _t("u_persons", lang),
              _t("counted", lang)),
        _card(_t("k_institutions", lang), _n(facts.institutions_involved), _t("u_inst", lang),
              _t("from_detection", lang)),
    ])


def _patterns_line(facts: BriefFacts, lang: Lang) -> str:
    chips = "".join(f'<span class="chip">{escape(_pattern_name(k, lang))} <b>{n}</b></span>'
                    for k, n in facts.rings_by_pattern) or escape(_t("none", lang))
    return f'<div class="patterns"><span class="lbl">{_t("by_pattern", lang)}：</span>{chips}</div>'


def _division_name(code: str, lang: Lang) -> str:
    from yibao.divisions import division, is_known_division

    if not is_known_division(code):
        return code
    d = division(code)
    if d.level == "county" and lang == "zh":
        city = division(d.city)
        return d.name if city.name == d.name else f"{city.name}{d.name}"
    return d.name if lang == "zh" else (d.name_en or d.name)


def _hot_spots(facts: BriefFacts, lang: Lang) -> str:
    ranked = [s for s in facts.hot_spots if s.fund > 0][:5]
    # amounts under 1 万元 read better in yuan than as 0.00 or 0.00–0.01: the table is in yuan
    # when its largest amount is, the legend when any of its classes ends below 1 万元
    table_unit = "yuan" if ranked and max(float(s.fund) for s in ranked) < 10_000 else "wan"
    rows = "".join(
        f"<tr><td class='c'><span class='badge'>{i}</span></td>"
        f"<td>{escape(_division_name(s.code, lang))}</td>"
        f"<td class='r'>{_legend_number(float(s.fund), table_unit)}</td>"
        f"<td class='r'>{_n(s.cases)}</td></tr>"
        for i, s in enumerate(ranked, start=1))
    if not rows:
        rows = f"<tr><td colspan='4' class='c muted'>{escape(_t('no_hits', lang))}</td></tr>"
    classes = list(reversed(map_legend(amount_classes(s.fund for s in facts.hot_spots))))
    unit = "yuan" if any(0 < hi < 10_000 for _, _, hi in classes) else "wan"
    colon = "：" if lang == "zh" else ": "
    legend = "".join(f'<span class="sw" style="background:{colour}"></span>'
                     f'<span class="lg">{_legend_number(lo, unit)}–{_legend_number(hi, unit)}'
                     '</span>'
                     for colour, lo, hi in classes)
    legend += (f'<span class="sw" style="background:{NONE_COLOUR}"></span>'
               f'<span class="lg">{escape(_t("none", lang))}</span>')
    fund_head = _t("fund_yuan" if table_unit == "yuan" else "fund_wan", lang)
    return (f'<div class="subhead">{escape(_t("hot_title", lang))}</div>'
            f'<table class="grid small"><thead><tr><th>{_t("no", lang)}</th>'
            f'<th>{_t("area", lang)}</th><th>{fund_head}</th>'
            f'<th>{_t("cases_n", lang)}</th></tr></thead><tbody>{rows}</tbody></table>'
            f'<div class="legend"><span class="lg-title">'
            f'{_t("u_yuan" if unit == "yuan" else "u_wan", lang)}{colon}</span>'
            f'{legend}</div>')


def _ring_rows(rings: tuple[RingLine, ...], lang: Lang) -> str:
    if not rings:
        return f"<tr><td colspan='7' class='c muted'>{escape(_t('no_rings', lang))}</td></tr>"
    return "".join(
        f"<tr><td class='c'>{i}</td><td class='nowrap'>{escape(_pattern_name(r.pattern, lang))}"
        f"</td><td><div class='ev'>{escape(r.evidence_zh if lang == 'zh' else r.evidence_en)}"
        f"</div></td><td class='r'>{_n(r.persons)}</td><td class='r'>{_n(r.institutions)}</td>"
        f"<td class='r'>{_n(r.settlements)}</td><td class='r'>{_wan(r.fund)}</td></tr>"
        for i, r in enumerate(rings, start=1))


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
        parts.append(f"{plural(row.leads, 'lead')} ({row.confirmed} confirmed)")
    return "; ".join(parts) or ("rule hits" if row.cases else "")


def _violation_rows(facts: BriefFacts, lang: Lang) -> str:
    rows = list(facts.violations)
    shown, rest = rows[:MAX_VIOLATION_ROWS], rows[MAX_VIOLATION_ROWS:]
    if len(rest) == 1:
        shown, rest = rows, []
    html = "".join(
        f"<tr><td class='c'>{i}</td><td>{escape(violation_name(r.key, lang))}</td>"
        f"<td class='r'>{_n(r.cases)}</td><td class='r'>{_wan(r.fund)}</td>"
        f"<td>{escape(_remark(r, lang))}</td></tr>"
        for i, r in enumerate(shown, start=1))
    if rest:
        kinds = f"（{len(rest)} 类）" if lang == "zh" else f" ({len(rest)} types)"
        html += (f"<tr><td class='c'>{len(shown) + 1}</td><td>{_t('others', lang)}{kinds}"
                 f"</td><td class='r'>{_n(sum(r.cases for r in rest))}</td>"
                 f"<td class='r'>{_wan(sum(r.fund for r in rest))}</td><td></td></tr>")
    if not rows:
        return f"<tr><td colspan='5' class='c muted'>{escape(_t('no_hits', lang))}</td></tr>"
    note = "同一结算命中多类时分类计数，合计去重" if lang == "zh" else \
        "claims in several types: counted once in the total"
    html += (f"<tr class='total'><td></td><td>{_t('total', lang)}</td>"
             f"<td class='r'>{_n(facts.suspicious_settlements)}</td>"
             f"<td class='r'>{_wan(facts.suspicious_fund)}</td><td>{escape(note)}</td></tr>")
    return html


def _footer(facts: BriefFacts, lang: Lang) -> str:
    span = facts.period.span(lang)
    region = facts.region.label(lang)
    detected = facts.detected_at.date().isoformat() if facts.detected_at else "—"
    if lang == "zh":
        lines = [
            f"数据来源：{span}医保结算数据（有效结算 {_n(facts.settlements)} 笔），"
            f"yibao-graph 检测结果（检测日期 {detected}）；线索数据来自线索台账"
            f"（在册 {facts.ledger_total} 条）。",
            f"统计口径：仅统计机构所在地位于{region}的定点医药机构发生的结算，参保人可来自其他地区；"
            "金额为统筹基金与个人账户支付之和，已剔除冲销结算。",
            "个人信息已脱敏：参保人仅计人数，不列姓名、证件号码和联系电话。",
        ]
    else:
        lines = [
            f"Source: medical-insurance claims {span} ({_n(facts.settlements)} effective "
            f"claims), yibao-graph detection (run {detected}); leads from the leads ledger "
            f"({facts.ledger_total} in all).",
            f"Scope: only claims at designated institutions located in {escape(region)}; "
            "insured persons may live elsewhere. Amounts are pooled fund plus personal account "
            "payments, reversals left out.",
            "Personal data masked: persons are counted, never listed; no names, ID or phone "
            "numbers.",
        ]
    body = "".join(f"<div>{line}</div>" for line in lines)
    return (f'<div class="footer"><div class="lines">{body}</div>'
            f'<div class="mark">{_t("secret", lang)}<br>{_t("page", lang)}</div></div>')


_MAP_PX = (330, 254)
"""The map's SVG size in CSS pixels (88 x 67 mm)."""

_TREND_PX = (352, 128)
"""The trend chart's size in CSS pixels."""

_FIT_JS = """
(function () {
  // Keep everything on the one A4 page: shrink the content a little if it would overflow,
  // then stretch it to the page so the footer sits at the bottom.
  var page = document.querySelector('.page'), content = document.querySelector('.content');
  var cs = getComputedStyle(page);
  var room = page.clientHeight - parseFloat(cs.paddingTop) - parseFloat(cs.paddingBottom);
  var zoom = 1;
  while (content.getBoundingClientRect().height > room - 1 && zoom > 0.7) {
    zoom -= 0.02;
    content.style.zoom = zoom;
  }
  content.style.height = ((room - 1) / zoom) + 'px';
  page.setAttribute('data-zoom', zoom.toFixed(2));
})();
"""

_CSS = """
@page { size: A4; margin: 0; }
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; background: #fff; }
body { font-family: "Noto Sans CJK SC", "Noto Sans CJK", sans-serif; color: #1f2937;
       font-size: 9.2pt; line-height: 1.45; -webkit-print-color-adjust: exact;
       print-color-adjust: exact; }
.page { width: 210mm; height: 297mm; padding: 8mm 12mm 7mm; overflow: hidden; }
.content { display: flex; flex-direction: column; }
.mast { position: relative; }
.secret { position: absolute; left: 0; top: 0; border: 1.2px solid #b3121a; color: #b3121a;
          font-weight: 700; font-size: 8.5pt; padding: 0 5px; letter-spacing: 1px; }
.title { font-family: "Noto Serif CJK SC", "Noto Serif CJK", serif; font-weight: 700;
         color: #b3121a; font-size: 23pt; text-align: center; letter-spacing: 3px;
         margin: 4.5mm 0 0; line-height: 1.2; }
.title.en { font-size: 16pt; letter-spacing: 0; }
.issue { text-align: center; font-size: 10.5pt; margin-top: 0.6mm; color: #111827;
         font-weight: 700; }
.issuer { display: flex; justify-content: space-between; font-size: 8.3pt; color: #374151;
          margin-top: 0.8mm; }
.redline { border-top: 2.2px solid #b3121a; border-bottom: 0.8px solid #b3121a; height: 3px;
           margin: 0.8mm 0 0.6mm; }
h2 { font-size: 10.5pt; margin: 2mm 0 1mm; color: #111827; font-weight: 700;
     border-left: 3px solid #b3121a; padding-left: 2mm; line-height: 1.25; }
p.summary { margin: 0 0 1.6mm; text-indent: 2em; text-align: justify; }
p.summary.en { text-indent: 0; }
.cards { display: grid; grid-template-columns: repeat(7, 1fr); gap: 1.6mm; }
.card { border: 0.8px solid #e5e7eb; border-top: 2px solid #9ca3af; background: #f9fafb;
        padding: 1.2mm 1.6mm 1mm; }
.card.strong { border-top-color: #b3121a; background: #fff5f5; }
.card .k { font-size: 7.8pt; color: #4b5563; white-space: nowrap; }
.card .v { font-size: 14pt; font-weight: 700; color: #111827; line-height: 1.25;
           white-space: nowrap; }
.card.strong .v { color: #b3121a; }
.card .u { font-size: 7.5pt; font-weight: 400; color: #6b7280; margin-left: 1px; }
.card .note { font-size: 6.8pt; color: #9ca3af; white-space: nowrap; overflow: hidden; }
.patterns { margin-top: 1.4mm; font-size: 8.3pt; }
.patterns .lbl { color: #4b5563; }
.chip { display: inline-block; border: 0.8px solid #f3c7c9; background: #fff5f5;
        border-radius: 2px; padding: 0 4px; margin: 0 3px 0 0; }
.chip b { color: #b3121a; }
.row { display: flex; gap: 4mm; }
.mapbox { flex: 0 0 89mm; border: 0.8px solid #e5e7eb; height: 68mm; display: flex;
          align-items: center; justify-content: center; }
.side { flex: 1; min-width: 0; display: flex; flex-direction: column; }
.subhead { font-size: 8.6pt; font-weight: 700; color: #374151; margin: 0 0 0.8mm; }
.map text.badge { font-size: 8px; fill: #fff; font-weight: 700; }
.map text.spot { font-size: 9px; fill: #111827; font-weight: 700; paint-order: stroke;
                 stroke: #fff; stroke-width: 2.6px; stroke-linejoin: round; }
.map text.lg { font-size: 8px; fill: #4b5563; }
table.grid { width: 100%; border-collapse: collapse; font-size: 8.2pt; }
table.grid th { background: #f3f4f6; font-weight: 700; color: #374151;
                border: 1px solid #d1d5db; padding: 0.3mm 1.2mm; white-space: nowrap; }
table.grid td { border: 1px solid #d1d5db; padding: 0.25mm 1.2mm; vertical-align: middle;
                line-height: 1.35; }
table.grid.small { font-size: 7.8pt; }
table.grid.small td { padding: 0.1mm 1.2mm; }
table.grid td.r { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
table.grid td.c { text-align: center; white-space: nowrap; }
table.grid td.nowrap { white-space: nowrap; }
table.grid tr.total td { font-weight: 700; background: #fafafa; }
table.grid td.muted { color: #9ca3af; padding: 2mm; }
.badge { display: inline-block; width: 13px; height: 13px; line-height: 13px;
         border-radius: 50%; background: #111827; color: #fff; font-size: 7pt;
         text-align: center; font-weight: 700; }
.ev { display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical;
      overflow: hidden; line-height: 1.3; font-size: 7.6pt; }
.legend { margin: 0.8mm 0 1mm; font-size: 6.6pt; color: #4b5563; display: flex;
          flex-wrap: wrap; align-items: center; row-gap: 0.6mm; }
.legend .sw { display: inline-block; width: 8px; height: 7px; border: 0.5px solid #9aa3ad;
              margin: 0 1px 0 3px; }
.legend .lg-title { font-weight: 700; }
.trend { margin-top: auto; }
.footer { margin-top: auto; border-top: 0.8px solid #9ca3af; padding-top: 1.4mm;
          display: flex; justify-content: space-between; gap: 4mm; font-size: 7.2pt;
          color: #4b5563; line-height: 1.5; }
.footer .mark { text-align: right; white-space: nowrap; color: #b3121a; font-weight: 700; }
"""


def brief_html(facts: BriefFacts, *, lang: Lang = "zh", include_plotlyjs: bool = True) -> str:
    """The whole page as one HTML document (UTF-8). ``include_plotlyjs=False`` leaves the
    plotly.js bundle out (tests that only read the markup)."""
    head_period, full_period = _period_text(facts, lang)
    region = facts.region.label(lang)
    code = f"（{facts.region.code}）" if lang == "zh" and facts.region.code else (
        f" ({facts.region.code})" if facts.region.code else "")
    sep = "　·　" if lang == "zh" else " · "
    map_svg = hot_spot_map_svg(facts.hot_spots, region=facts.region, level=facts.map_level,
                               width=_MAP_PX[0], height=_MAP_PX[1], lang=lang)
    fig = trend_figure(facts.trend, unit=facts.trend_unit, lang=lang, width=_TREND_PX[0],
                       height=_TREND_PX[1])
    trend_key = "trend_week" if facts.trend_unit == "week" else "trend_month"
    script = f"<script>{plotly_js()}</script>" if include_plotlyjs else ""
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<title>{escape(_t('title', lang))} {escape(head_period)} {escape(region)}</title>
<style>{_CSS}</style>{script}</head>
<body><div class="page"><div class="content">
<div class="mast"><div class="secret">{_t('secret', lang)}</div>
<div class="title{'' if lang == 'zh' else ' en'}">{escape(_t('title', lang))}</div>
<div class="issue">{escape(full_period)}{sep}{escape(region)}{escape(code)}</div>
<div class="issuer"><span>{escape(_t('issuer', lang))}</span>
<span>{escape(_day(facts.made_on, lang))}</span></div>
<div class="redline"></div></div>
<h2>{_t('s1', lang)}</h2>
<p class="summary{'' if lang == 'zh' else ' en'}">{_summary(facts, lang)}</p>
<div class="cards">{_cards(facts, lang)}</div>
{_patterns_line(facts, lang)}
<h2>{_t('s2', lang)}</h2>
<div class="row"><div class="mapbox">{map_svg}</div>
<div class="side">{_hot_spots(facts, lang)}
<div class="trend"><div class="subhead">{_t(trend_key, lang)}</div>
{figure_html(fig, "trend")}</div></div></div>
<h2>{_t('s3', lang)}</h2>
<table class="grid"><thead><tr><th>{_t('no', lang)}</th><th>{_t('pattern', lang)}</th>
<th>{_t('evidence', lang)}</th><th>{_t('members', lang)}</th><th>{_t('inst_n', lang)}</th>
<th>{_t('setl_n', lang)}</th><th>{_t('amount_wan', lang)}</th></tr></thead>
<tbody>{_ring_rows(facts.top_rings, lang)}</tbody></table>
<h2>{_t('s4', lang)}</h2>
<table class="grid"><thead><tr><th>{_t('no', lang)}</th><th>{_t('violation', lang)}</th>
<th>{_t('v_cases', lang)}</th><th>{_t('v_amount', lang)}</th><th>{_t('remark', lang)}</th>
</tr></thead><tbody>{_violation_rows(facts, lang)}</tbody></table>
{_footer(facts, lang)}
</div></div><script>{_FIT_JS}</script></body></html>
"""
