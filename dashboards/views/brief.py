"""领导简报 Briefing: the one-page leadership briefing of ``yibao brief`` made from the workbench.

The user chooses the period (all the data, a year, a quarter or a month the store covers), the
region (the whole 长三角, a province or a city) and the briefing's language, all kept in the URL
(``brief_period``, ``brief_region``, ``brief_lang``); the button prints the briefing with the
server's Chromium (a few seconds), shows its PNG and offers the PDF and the PNG for download.
A briefing is cached per store version, ledger state, scope, language and day, so a rerun or
another user asking for the same one gets it at once. Each briefing made is written to the
audit log. Both roles may make one: the briefing is masked by construction.

The sidebar's period filter is not drawn here and does not apply: the briefing has its own
period choice (a day range would not say 第三季度), as the page says.
"""

from __future__ import annotations

import sqlite3
from datetime import date
from typing import cast

import streamlit as st

from dashboards import ui
from dashboards.audit import append_audit
from dashboards.data import brief as brief_data
from dashboards.data.brief import PERIOD_KINDS, BriefFiles, BriefScope, PeriodKind
from dashboards.data.common import data_period
from dashboards.i18n import Lang, t, text
from yibao.errors import YibaoError
from yibao.i18n import money, plural
from yibao.leads import LeadLedger

L = {
    "intro": ("一页 A4 简报（PDF 与 PNG）：总体情况、热点地图、趋势、重点可疑团伙、违规行为统计；"
              "个人信息已脱敏。简报有自己的报告期，其他页面侧栏中的时间范围不适用于本页。",
              "A one-page A4 briefing (PDF and PNG): headline figures, hot-spot map, trend, top "
              "suspicious rings, statistics by violation type; personal data masked. The "
              "briefing has its own period: the sidebar period of the other pages does not "
              "apply here."),
    "period": ("报告期", "Period"),
    "kind_all": ("全部数据", "All the data"),
    "kind_year": ("年度", "Year"),
    "kind_quarter": ("季度", "Quarter"),
    "kind_month": ("月份", "Month"),
    "which": ("选择", "Which"),
    "province": ("地区", "Region"),
    "city": ("地市", "City"),
    "whole_province": ("全省", "Whole province"),
    "lang": ("简报语言", "Briefing language"),
    "scope": ("将生成：{period}（{span}）· {region} · {language}",
              "To make: {period} ({span}) · {region} · {language}"),
    "all_span": ("数据全部日期", "every day of the data"),
    "make": ("生成简报", "Make the briefing"),
    "making": ("正在生成简报（Chromium 排版打印，约需几秒）…",
               "Making the briefing (Chromium lays it out and prints it; a few seconds)…"),
    "no_ledger": ("尚无线索台账（{path}）：简报中的线索数字为 0。",
                  "No leads ledger yet ({path}): the briefing's lead figures are 0."),
    "ledger_failed": ("线索台账无法打开，简报不含线索数字（均为 0）。原因：{reason}",
                      "The leads ledger cannot be opened: the briefing has no lead figures "
                      "(all 0). Reason: {reason}"),
    "made": ("{period} · {region} · 可疑结算 {cases:,} 笔 · 可疑基金 {fund} · "
             "可疑团伙 {rings} 个 · 线索 {leads} 条（生成用时 {seconds:.1f} 秒）",
             "{period} · {region} · {cases} · {fund} suspicious fund · {rings} · {leads} "
             "(made in {seconds:.1f} s)"),
    "without_ledger": ("本简报未读取线索台账，线索数字均为 0。",
                       "This briefing read no leads ledger: its lead figures are 0."),
    "pdf": ("下载 PDF", "Download the PDF"),
    "png": ("下载 PNG", "Download the PNG"),
    "failed": ("无法生成简报：{reason}", "The briefing cannot be made: {reason}"),
}

LANG_NAMES: dict[Lang, str] = {"zh": "中文", "en": "English"}

lg = ui.lang()
ui.require_detection()
st.title(t("page_brief", lg))
st.caption(text(L, "intro", lg))


def _lkey(name: str) -> str:
    """A widget key per UI language (a widget keeps the labels it was first drawn with)."""
    return name if lg == "zh" else f"{name}_en"


def _url_period(kinds: dict[PeriodKind, list[str]]) -> str | None:
    """``brief_period`` of the URL when it is one the store covers, else ``None``."""
    key = ui.url_param("brief_period")
    try:
        kind = brief_data.period_kind(key)
        scope = brief_data.scope_from_choices(key, None)
    except YibaoError:
        return None
    return scope.period_key if scope.period_key in kinds.get(kind, []) else None


def _url_region() -> tuple[str, str]:
    """(province, city) of ``brief_region`` in the URL; ``""`` where not chosen."""
    code = ui.url_param("brief_region") or ""
    for province in brief_data.province_choices():
        if code == province:
            return province, ""
        if code in brief_data.city_choices(province):
            return province, code
    return "", ""


def _choose_period() -> str | None:
    full = ui.cached(data_period)
    kinds = {k: brief_data.period_choices(full.start, full.end, k) for k in PERIOD_KINDS}
    shown = _url_period(kinds)
    kind = st.segmented_control(
        text(L, "period", lg), [k for k in PERIOD_KINDS if k == "all" or kinds[k]],
        default=brief_data.period_kind(shown), required=True,
        format_func=lambda k: text(L, f"kind_{k}", lg), key=_lkey("brief_kind"))
    if kind is None or kind == "all":
        ui.set_param("brief_period", None)
        return None
    options = kinds[kind]
    key = st.selectbox(text(L, "which", lg), options,
                       index=options.index(shown) if shown in options else len(options) - 1,
                       format_func=lambda k: brief_data.period_name(k, lg),
                       key=_lkey(f"brief_{kind}"))
    ui.set_param("brief_period", key)
    return key


def _choose_region() -> tuple[str, str]:
    province, city = _url_region()
    provinces = ["", *brief_data.province_choices()]
    province = st.selectbox(text(L, "province", lg), provinces,
                            index=provinces.index(province),
                            format_func=lambda c: brief_data.region_name(c or None, lg),
                            key=_lkey("brief_province"))
    cities = ["", *brief_data.city_choices(province)] if province else [""]
    if len(cities) > 1:
        city = st.selectbox(text(L, "city", lg), cities,
                            index=cities.index(city) if city in cities else 0,
                            format_func=lambda c: (brief_data.region_name(c, lg) if c
                                                   else text(L, "whole_province", lg)),
                            key=_lkey(f"brief_city_{province}"))
    else:
        city = ""
    ui.set_param("brief_region", city or province or None)
    return province, city


def _choose_lang() -> Lang:
    asked = ui.url_param("brief_lang")
    default: Lang = "en" if asked == "en" else "zh" if asked == "zh" else lg
    choice = st.segmented_control(text(L, "lang", lg), ["zh", "en"], default=default,
                                  required=True, format_func=LANG_NAMES.__getitem__,
                                  key=_lkey("brief_lang"))
    chosen: Lang = "en" if choice == "en" else "zh"
    ui.set_param("brief_lang", None if chosen == lg else chosen)
    return chosen


def _ledger() -> tuple[LeadLedger | None, tuple[int, str]]:
    """The leads ledger and its state; without one (no ledger file yet, or it cannot be
    opened) ``None`` and the state ``(-1, "")``, with a note saying the lead figures are 0."""
    settings = ui.settings()
    if settings.backend == "embedded" and not settings.leads_path.exists():
        st.info(text(L, "no_ledger", lg, path=settings.leads_path))
        return None, (-1, "")
    try:
        ledger = ui.ledger()
        return ledger, brief_data.ledger_state(ledger)
    except (YibaoError, sqlite3.Error, OSError) as exc:
        st.warning(text(L, "ledger_failed", lg, reason=exc))
        return None, (-1, "")


@st.cache_data(show_spinner=False, max_entries=24)
def _made(store: str, ledger_state: tuple[int, str], scope_key: str, brief_lang: Lang,
          day: str, _scope: BriefScope, _ledger: LeadLedger | None) -> BriefFiles:
    """The briefing of ``_scope`` (named by ``scope_key``) in ``brief_lang``, made once per
    store version, ledger state, scope, language and day."""
    return brief_data.brief_files(ui.settings(), _scope, brief_lang, ledger=_ledger,
                                  made_on=date.fromisoformat(day))


def _show(files: BriefFiles, scope: BriefScope, brief_lang: Lang) -> None:
    facts = files.facts
    counts: dict[str, int | str] = {"cases": facts.suspicious_settlements,
                                    "rings": facts.rings, "leads": facts.leads.leads}
    if lg == "en":
        counts = {"cases": plural(facts.suspicious_settlements, "suspicious settlement"),
                  "rings": plural(facts.rings, "suspicious ring"),
                  "leads": plural(facts.leads.leads, "lead")}
    st.caption(text(L, "made", lg, period=facts.period.label(lg), region=facts.region.label(lg),
                    fund=money(facts.suspicious_fund, lg),
                    seconds=files.seconds.get("total", 0.0), **counts))
    if not files.with_ledger:
        st.caption(text(L, "without_ledger", lg))
    pdf_name, png_name = brief_data.file_names(scope, brief_lang)
    left, right, _ = st.columns([1, 1, 3])
    left.download_button(text(L, "pdf", lg), files.pdf, file_name=pdf_name,
                         mime="application/pdf", key="brief_pdf", on_click="ignore",
                         icon=":material/picture_as_pdf:", width="stretch")
    right.download_button(text(L, "png", lg), files.png, file_name=png_name, mime="image/png",
                          key="brief_png", on_click="ignore", icon=":material/image:",
                          width="stretch")
    st.image(files.png, width="stretch", output_format="PNG")  # not "auto": JPEG blurs text


with st.container(border=True):
    c_period, c_region, c_lang = st.columns([3, 3, 2])
    with c_period:
        period_key = _choose_period()
    with c_region:
        province, city = _choose_region()
    with c_lang:
        brief_lang = _choose_lang()

scope = brief_data.scope_from_choices(period_key, province or None, city or None)
span = scope.period.span(lg) if scope.period else text(L, "all_span", lg)
st.markdown(text(L, "scope", lg, period=brief_data.period_name(scope.period_key, lg),
                 span=span, region=scope.region.label(lg), language=LANG_NAMES[brief_lang]))
ledger, state = _ledger()
key = (brief_data.store_version(ui.store_file()), state, scope.key, brief_lang,
       date.today().isoformat())
clicked = st.button(text(L, "make", lg), type="primary", key="brief_make",
                    icon=":material/summarize:")
shown = st.session_state.get("brief_made")
if clicked or (isinstance(shown, tuple) and shown[2:4] == (scope.key, brief_lang)):
    # a rerun shows the briefing made for these choices (from the cache), even when the
    # ledger changed since: only the button makes a new one
    wanted = key if clicked else cast(tuple[str, tuple[int, str], str, Lang, str], shown)
    store, ledger_key, scope_key, lang_key, day = wanted
    try:
        with st.spinner(text(L, "making", lg), show_time=True):
            files = _made(store, ledger_key, scope_key, lang_key, day, _scope=scope,
                          _ledger=ledger)
    except YibaoError as exc:
        st.error(text(L, "failed", lg, reason=exc))
        st.session_state.pop("brief_made", None)
    else:
        if clicked:
            user = ui.current_user()
            append_audit(ui.settings().audit_path, user=user.username, role=user.role,
                         action="brief", subject_kind="brief", subject=scope.key,
                         context=repr({"lang": brief_lang, "region": scope.region.label("zh"),
                                       "query": st.query_params.to_dict()}))
            st.session_state["brief_made"] = wanted
        _show(files, scope, brief_lang)
