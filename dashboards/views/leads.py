"""线索台账 Leads ledger: every lead checked one by one to closure (逐条核查、闭环).

The list (filters in the URL, headline figures, a sortable table, Excel out and in, leads from
detection) and one lead (``?lead=ID``): its fields, its ring(s) on the map with the table
beside it, its persons (masked unless revealed), its history, and for investigators the
lifecycle buttons and an edit form. Every write names the version of the lead as it was shown
(kept in the session when the page drew it, read by the button's callback), so a change made
by someone else in between is refused with the ledger's conflict message, never overwritten.
A refusal is told in the user's language from the facts on the ledger's error (its state, the
allowed next states, who changed the lead and when), not from its English message.
"""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pandas as pd
import streamlit as st

from dashboards import ui
from dashboards.data import leads as lead_data
from dashboards.data import rings as ring_data
from dashboards.data.common import data_period
from dashboards.figures.maps import lines_and_points, ring_trips_map
from dashboards.i18n import columns, t, text
from yibao.divisions import PROVINCE_CODES, division_name, divisions_frame
from yibao.errors import (
    LeadConflictError,
    LeadError,
    LeadNotFoundError,
    YibaoError,
)
from yibao.leads import (
    DISPOSITIONS,
    FIELD_LABELS,
    RISKS,
    SOURCES,
    STATES,
    Lead,
    LeadDraft,
    LeadFilter,
    OrderBy,
    allowed_next,
)
from yibao.leads.excel import import_workbook
from yibao.leads.excel_export import workbook_name
from yibao.leads.from_detection import leads_from_store
from yibao.leads.wording import plural

L = {
    "title": ("线索台账", "Leads ledger"),
    "no_ledger": ("线索台账暂时无法使用：{reason}",
                  "The leads ledger cannot be used now: {reason}"),
    "lead_title": ("线索 {lead_id}", "Lead {lead_id}"),
    "back": ("← 返回线索台账", "← Back to the ledger"),
    "states": ("状态", "State"),
    "risks": ("风险等级", "Risk"),
    "sources": ("来源", "Source"),
    "any": ("全部", "All"),
    "province": ("省份", "Province"),
    "city": ("地市", "City"),
    "owner": ("责任人", "Owner"),
    "search": ("搜索（编号、标题、摘要）", "Search (id, title, summary)"),
    "overdue_only": ("仅逾期", "Overdue only"),
    "escalate_only": ("仅需提级办理", "Needs escalation only"),
    "order": ("排序", "Sort by"),
    "o_lead_id": ("线索编号", "Lead id"),
    "o_risk": ("风险", "Risk"),
    "o_due": ("办结期限", "Due date"),
    "o_amount": ("涉及金额", "Amount involved"),
    "o_updated": ("最近更新", "Last update"),
    "m_leads": ("线索", "Leads"),
    "m_overdue": ("逾期", "Overdue"),
    "m_escalate": ("需提级办理", "To escalate"),
    "m_involved": ("涉及金额（万元）", "Involved (10k)"),
    "m_recovered": ("追回金额（万元）", "Recovered (10k)"),
    "period_all": ("显示台账中的全部线索（未限定时间范围）。",
                   "All leads of the ledger (no period chosen)."),
    "period_some": (
        "时间范围 {period}：显示所涉可疑结算（团伙、回流药链条、规则命中的首末次时间）与该范围"
        "重叠的线索，以及在该范围内创建或到期的线索。",
        "Period {period}: leads whose suspicious settlements (first to last time of the ring, "
        "chain or rule hits) overlap it, and leads created or due in it."),
    "pick": ("点击表格中的一行打开线索；点击列名排序。",
             "Click a row to open the lead; click a column header to sort."),
    "empty_ledger": ("台账中还没有线索。调查员可点击“生成线索”从检测结果建立线索。",
                     "The ledger has no leads yet. Investigators can create them from the "
                     "detection results with “Create leads”."),
    "nothing": ("没有符合条件的线索。", "No lead matches."),
    "c_title": ("标题", "Title"),
    "c_violation": ("违规类型", "Violation"),
    "c_risk": ("风险", "Risk"),
    "c_state": ("状态", "State"),
    "c_owner": ("责任人", "Owner"),
    "c_region": ("地区", "Region"),
    "c_due": ("办结期限", "Due"),
    "c_involved": ("涉及金额（元）", "Involved (yuan)"),
    "c_recovered": ("追回金额（元）", "Recovered (yuan)"),
    "c_involved_wan": ("涉及（万元）", "Involved (10k)"),
    "c_recovered_wan": ("追回（万元）", "Recovered (10k)"),
    "c_overdue": ("逾期", "Overdue"),
    "c_escalate": ("需提级", "Escalate"),
    "c_source": ("来源", "Source"),
    "tools": ("台账导入导出与生成", "Export, import, create"),
    "download": ("下载台账（Excel）", "Download the ledger (Excel)"),
    "download_note": ("导出表格中显示的 {n:,} 条线索（时间范围与各项筛选条件均已应用），"
                      "含这些线索的统计表与变更记录。",
                      "Exports the {n:,} leads the table shows (period and every filter "
                      "applied), with the statistics and the change log of those leads."),
    "upload": ("上传填写后的台账（Excel）", "Upload a filled ledger (Excel)"),
    "import": ("导入台账", "Import"),
    "import_done": ("导入 {rows} 行：更新 {updated}，新增 {created}，未变 {unchanged}，"
                    "拒绝 {rejected}。",
                    "{rows} rows: {updated} updated, {created} created, {unchanged} unchanged, "
                    "{rejected} rejected."),
    "generate": ("生成线索", "Create leads"),
    "generate_help": ("从本数据存储的检测结果（可疑团伙、回流药链条、规则命中）生成线索；"
                      "已有线索的不会重复生成。",
                      "Create leads from this store's detection results (suspicious rings, "
                      "resale chains, rule hits); what already has a lead is left alone."),
    "generated": ("新生成 {n} 条线索（团伙 {ring}、回流药 {chain}、规则 {rule}）；"
                  "{existing} 条已有线索。",
                  "{n} leads created (rings {ring}, chains {chain}, rules {rule}); "
                  "{existing} already had one."),
    "new_lead": ("手工录入线索（举报、国家局线索等）", "Enter a lead by hand (report, bureau…)"),
    "f_title": ("标题", "Title"),
    "f_summary": ("摘要 / 线索内容", "Summary"),
    "f_violation": ("违规类型", "Violation type"),
    "f_region": ("所在地区", "Region"),
    "f_amount": ("涉及金额（元）", "Amount involved (yuan)"),
    "f_add": ("新增线索", "Add the lead"),
    "added": ("已新增线索 {lead_id}。", "Lead {lead_id} added."),
    "not_found": ("找不到线索 {lead_id}。", "No lead {lead_id}."),
    "fields": ("基本信息", "Fields"),
    "where": ("涉及地点", "Where"),
    "who": ("涉及人员", "Persons"),
    "actions": ("办理", "Actions"),
    "history": ("变更记录", "History"),
    "read_only": ("领导/简报角色只读，不能修改线索。", "Leadership sees leads read-only."),
    "closed": ("线索已结案，不再修改。", "The lead is closed and does not change any more."),
    "go": ("转为：{state}", "Move to: {state}"),
    "note": ("说明（记入变更记录）", "Note (recorded with the change)"),
    "dispositions": ("处理方式（转为“处理”时必选）", "Dispositions (needed for handling)"),
    "choose": ("请选择", "Choose"),
    "recovered_input": ("追回金额（元）", "Amount recovered (yuan)"),
    "edit": ("修改责任人、期限与金额", "Edit owner, due date and amounts"),
    "save": ("保存修改", "Save"),
    "saved": ("已保存：线索 {lead_id} 现为第 {version} 版。",
              "Saved: lead {lead_id} is now version {version}."),
    "moved": ("线索 {lead_id} 已转为“{state}”（第 {version} 版）。",
              "Lead {lead_id} moved to {state} (version {version})."),
    "unchanged": ("没有需要保存的修改。", "Nothing changed."),
    # refusals of the ledger, told from the facts on its error (see _error_text)
    "e_subject": ("线索 {lead_id} ", "lead {lead_id}"),
    "e_subject_any": ("该线索", "the lead"),
    "e_none_next": ("无（已结案的线索不再变更）", "none (a closed lead does not change any more)"),
    "e_not_next": ("{subject}当前为“{state}”，不能转为“{target}”。可转为：{allowed}。",
                   "{subject} is {state} and cannot move to {target}. Allowed next: "
                   "{allowed}."),
    "e_needs_disposition": ("{subject}转为“{target}”须至少选择一种处理方式：{allowed}。",
                            "{subject}: moving to {target} needs at least one disposition: "
                            "{allowed}."),
    "e_unreachable": ("{subject}当前为“{state}”，无法转到“{target}”（线索只能按流程向前推进）。"
                      "可转为：{allowed}。",
                      "{subject} is {state} and can never reach {target} (the lifecycle only "
                      "moves forward). Allowed next: {allowed}."),
    "e_fork": ("{subject}当前为“{state}”：请先转为{allowed}（记录核查结论），再转为“{target}”。",
               "{subject} is {state}: first move it to {allowed} (record the decision), then "
               "to {target}."),
    "e_already": ("{subject}已是“{state}”。可转为：{allowed}。",
                  "{subject} is already {state}. Allowed next: {allowed}."),
    "e_closed": ("{subject}已结案，不再修改。",
                 "{subject} is closed and does not change any more."),
    "e_recovered_too_early": ("{field}只能在{allowed}阶段录入；{subject}当前为“{state}”。",
                              "{field} can be recorded only in {allowed}; {subject} is "
                              "{state}."),
    "e_not_in_handling": ("{field}只能在“处理”阶段设置；{subject}当前为“{state}”。",
                          "{field} are set only in handling; {subject} is {state}."),
    "e_keep_disposition": ("处于“处理”阶段的线索至少保留一种处理方式（{allowed}）。",
                           "a lead in handling keeps at least one disposition ({allowed})."),
    "e_empty": ("{field}不能为空。", "{field} must not be empty."),
    "e_not_date": ("{field}“{value}”不是日期：请按 YYYY-MM-DD 填写。",
                   "{field} {value} is not a date: write YYYY-MM-DD."),
    "e_not_score": ("{field}“{value}”须为 0 到 1 之间的数。",
                    "{field} {value} must be a number from 0 to 1."),
    "e_not_list": ("{field}应为一组编号，不是“{value}”。", "{field}: give a list, not {value}."),
    "e_unknown_choice": ("{field}“{value}”不是可选值；可选：{allowed}。",
                         "{field} {value} is not one of: {allowed}."),
    "e_not_editable": ("“{value}”不能直接修改；可修改：{allowed}。",
                       "{value} cannot be edited; editable: {allowed}."),
    "e_not_amount": ("{field}“{value}”不是金额：请填写元，如 1234.50。",
                     "{field} {value} is not an amount: write yuan such as 1234.50."),
    "e_negative": ("{field}不能为负数（填写的是 {value}）。",
                   "{field} must be zero or more, not {value}."),
    "e_too_fine": ("{field}“{value}”超过两位小数：金额以元计，精确到分。",
                   "{field} {value} has more than two decimals: amounts are yuan to the fen "
                   "(0.01)."),
    "e_bad_region": ("地区“{value}”不是 6 位区划代码（如 341202）。",
                     "region {value} is not a 6-digit division code (e.g. 341202)."),
    "e_no_user": ("无法确定操作人：请重新登录。", "who makes the change is not known: sign in "
                  "again."),
    "e_duplicate": ("来源编号 {value} 已有线索 {lead_id}：请打开该线索，不要重复建立。",
                    "source reference {value} already has lead {lead_id}: open that lead "
                    "instead of creating another."),
    "e_not_found": ("台账中没有线索 {lead_id}：请核对编号（XS-年份-序号）。",
                    "no lead {lead_id} in the ledger: check the id (XS-YEAR-NUMBER)."),
    "e_changed": ("{subject}在您看到的第 {expected} 版之后已被修改：{changes}。您的修改均未保存；"
                  "已重新载入最新版本（第 {current} 版，“{state}”），请核对后再操作。",
                  "{subject} was changed after version {expected} that you saw: {changes}. "
                  "Nothing of your change was saved; the lead was reloaded at its latest "
                  "version ({current}, {state}): check it, then act again."),
    "e_version": ("{subject}现为第 {current} 版，不是您提交的第 {expected} 版。您的修改均未保存；"
                  "已重新载入最新版本（“{state}”），请核对后再操作。",
                  "{subject} is at version {current}, not version {expected} that you gave. "
                  "Nothing of your change was saved; the lead was reloaded ({state}): check "
                  "it, then act again."),
    "e_change": ("第 {version} 版由 {by} 于 {at} 修改：{what}", "version {version} by {by} at "
                 "{at}: {what}"),
    "e_earlier": ("（此前另有 {n} 次修改）", " (and {n} earlier changes)"),
    "e_unreadable": ("无法读取上传的工作簿（{value}）：请另存为 .xlsx 后重试。",
                     "the workbook cannot be read ({value}): save it as .xlsx and try again."),
    "e_no_sheet": ("工作簿中没有“线索台账”工作表（现有：{value}）：请导入由本系统导出的台账。",
                   "the workbook has no sheet 线索台账 (found: {value}): import a ledger "
                   "exported here."),
    "e_no_header": ("“线索台账”工作表前 20 行中没有含“线索编号”的表头行：请保留导出时的表头。",
                    "sheet 线索台账 has no header row with 线索编号 in its first 20 rows: keep "
                    "the exported header row."),
    "e_no_version_column": ("表头行（第 {value} 行）没有“版本”列：请保留导出时的各列。",
                            "the header row (row {value}) has no 版本 (version) column: keep "
                            "the exported columns."),
    "e_other": ("操作未完成：{message}", "The change was not made: {message}"),
    "source_line": ("来源：{source}（{ref}）", "Source: {source} ({ref})"),
    "violation_line": ("违规类型：{violation}", "Violation: {violation}"),
    "region_line": ("地区：{region}", "Region: {region}"),
    "dispositions_line": ("处理方式：{d}", "Dispositions: {d}"),
    "created_line": ("创建：{by}，{at}；最近更新：{uby}，{uat}；第 {version} 版",
                     "Created by {by} at {at}; last updated by {uby} at {uat}; version "
                     "{version}"),
    "links_line": ("关联：参保人 {p} 人，机构 {i} 家，医师/药师 {d} 人，团伙 {r} 个",
                   "Linked: {p}, {i}, {d}, {r}"),
    "overdue_flag": ("已逾期", "overdue"),
    "escalate_flag": ("需提级办理", "needs escalation"),
    "none": ("—", "—"),
    "ring_link": ("团伙 {ring_id}", "Ring {ring_id}"),
    "map_rings": ("团伙成员的就医行程（参保地 → 机构），{period}",
                  "Members' trips (insured division → institution), {period}"),
    "map_insts": ("线索关联的定点医药机构", "Institutions linked to the lead"),
    "no_map": ("线索没有关联可在地图上显示的团伙或机构。",
               "The lead links no ring or institution to show on a map."),
    "homes": ("参保地", "Insured division"),
    "persons_more": ("共 {n:,} 人，显示前 {k:,} 人。", "{n:,} persons; the first {k:,} shown."),
    "sex_1": ("男", "male"),
    "sex_2": ("女", "female"),
    "no_persons": ("线索未关联参保人。", "The lead links no persons."),
    "h_seq": ("序号", "Seq"),
    "h_version": ("版本", "Version"),
    "h_at": ("时间", "When"),
    "h_by": ("操作人", "Who"),
    "h_action": ("操作", "Action"),
    "h_from": ("原状态", "From"),
    "h_to": ("新状态", "To"),
    "h_changes": ("变更内容", "Changes"),
    "h_note": ("说明", "Note"),
    "a_create": ("创建", "created"),
    "a_transition": ("状态变更", "state change"),
    "a_update": ("修改", "edited"),
    "a_link": ("关联", "linked"),
    "a_unlink": ("取消关联", "unlinked"),
    "r_row": ("行", "Row"),
    "r_outcome": ("结果", "Outcome"),
    "r_column": ("列", "Column"),
    "r_reason": ("原因", "Reason"),
    "o_updated_r": ("更新", "updated"),
    "o_created_r": ("新增", "created"),
    "o_unchanged_r": ("未变", "unchanged"),
    "o_rejected_r": ("拒绝", "rejected"),
}

ORDERS: tuple[OrderBy, ...] = ("risk", "due", "amount", "updated", "lead_id")
MAX_PERSONS = 1000
MAX_RINGS_ON_MAP = 20

lg = ui.lang()
ui.require_detection()
period = ui.period()
user = ui.current_user()
try:
    ledger = ui.ledger()
except YibaoError as exc:  # e.g. the Neo4j server holding the ledger cannot be reached
    st.title(text(L, "title", lg))
    st.error(text(L, "no_ledger", lg, reason=exc))
    if st.button(t("retry_server", lg), key="retry_ledger", icon=":material/refresh:"):
        ui.retry_backend()  # the next render tries the server again at once
        st.rerun()
    st.stop()
LI = 0 if lg == "zh" else 1


def _state(code: str) -> str:
    return STATES[code][LI]  # type: ignore[index]


def _risk(code: str) -> str:
    return RISKS[code][LI]  # type: ignore[index]


def _source(code: str) -> str:
    return SOURCES[code][LI]  # type: ignore[index]


def _lkey(name: str) -> str:
    """A widget key per language: a widget that keeps its key keeps the labels it was drawn
    with, so a select would go on showing Chinese options after the switch to English."""
    return name if lg == "zh" else f"{name}_en"


def _keep() -> dict[str, str]:
    """The language and period of the URL, for links to other pages."""
    return {k: v for k in ("lang", "from", "to") if (v := ui.url_param(k))}


# -- messages that outlive the rerun a callback causes ------------------------------------

def _flash(kind: str, message: str) -> None:
    st.session_state.setdefault("leads_flash", []).append((kind, message))


def _show_flash() -> None:
    for kind, message in st.session_state.pop("leads_flash", []):
        {"error": st.error, "success": st.success, "info": st.info}[kind](message)


# -- writes (button callbacks: they run before the page draws again) -----------------------

def _shown() -> dict[str, Any]:
    """The lead as the page last showed it: ``lead_id``, ``version``, ``amount_recovered``."""
    return cast(dict[str, Any], st.session_state.get("lead_shown", {}))


def _suffix() -> str:
    shown = _shown()
    return f"{shown.get('lead_id')}_{shown.get('version')}_{lg}"


def _yuan_text(value: object) -> str:
    return f"{float(cast(float, value or 0.0)):.2f}"


# -- the ledger's refusals in the user's language ------------------------------------------

# (comments, not docstrings: a bare string in a page script is drawn by Streamlit's magic)
_STATE_REASONS = ("not_next", "unreachable", "fork", "already", "recovered_too_early")
# refusals whose ``allowed`` are lifecycle states

_CHOICES: dict[str, dict[str, tuple[str, str]]] = {  # field -> the labels of its codes
    "state": cast(dict[str, tuple[str, str]], STATES),
    "dispositions": cast(dict[str, tuple[str, str]], DISPOSITIONS),
    "risk": cast(dict[str, tuple[str, str]], RISKS),
    "source": cast(dict[str, tuple[str, str]], SOURCES),
}

_LIST = "、" if lg == "zh" else ", "


def _code_name(code: str, field: str | None) -> str:
    table = _CHOICES.get(field or "", {})
    if code in table:
        return table[code][LI]
    if code in FIELD_LABELS:
        return FIELD_LABELS[code][LI]
    return code


def _shown_value(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, tuple | list):
        return _LIST.join(str(v) for v in value)
    return str(value)


def _state_or_dash(code: str | None) -> str:
    return _state(code) if code is not None and code in STATES else "—"


def _conflict_text(exc: LeadConflictError, subject: str) -> str:
    state = _state_or_dash(exc.state)
    if exc.reason == "duplicate":
        return text(L, "e_duplicate", lg, value=_shown_value(exc.value), lead_id=exc.lead_id)
    if not exc.changes:
        return text(L, "e_version", lg, subject=subject, current=exc.current_version,
                    expected=exc.expected_version, state=state)
    changes = [text(L, "e_change", lg, version=e.version, by=e.by,
                    at=e.at.strftime("%Y-%m-%d %H:%M:%S"), what=lead_data.event_text(e, lg))
               for e in exc.changes[-3:]]
    said = ("；" if lg == "zh" else "; ").join(changes)
    if len(exc.changes) > 3:
        said += text(L, "e_earlier", lg, n=len(exc.changes) - 3)
    return text(L, "e_changed", lg, subject=subject, expected=exc.expected_version,
                current=exc.current_version, state=state, changes=said)


def _error_text(exc: YibaoError) -> str:
    """A refusal of the ledger in the page's language, from the facts the error carries (its
    lead, state, the state asked for, the allowed next states, the field and value, who
    changed the lead and when); other errors, and a refusal this page has no words for, keep
    the error's own message inside a sentence in the page's language."""
    if not isinstance(exc, LeadError) or f"e_{exc.reason}" not in L:
        return text(L, "e_other", lg, message=str(exc))
    subject = (text(L, "e_subject", lg, lead_id=exc.lead_id) if exc.lead_id
               else text(L, "e_subject_any", lg))
    if isinstance(exc, LeadConflictError):
        said = _conflict_text(exc, subject)
    else:
        names = [_state(c) if exc.reason in _STATE_REASONS else _code_name(c, exc.field)
                 for c in exc.allowed]
        allowed = _LIST.join(names) or text(L, "e_none_next", lg)
        if lg == "en" and exc.reason == "fork":
            allowed = " or ".join(names)
        said = text(L, f"e_{exc.reason}", lg, subject=subject, lead_id=exc.lead_id or "—",
                    state=_state_or_dash(exc.state), target=_state_or_dash(exc.target),
                    allowed=allowed, value=_shown_value(exc.value),
                    field=FIELD_LABELS[exc.field][LI] if exc.field in FIELD_LABELS else "")
    said = said.strip()
    return said[:1].upper() + said[1:] if lg == "en" else said


def _on_error(exc: YibaoError) -> None:
    _flash("error", _error_text(exc))


def _transition(target: str) -> None:
    shown, suffix = _shown(), _suffix()
    amount = st.session_state.get(f"lead_recovered_{suffix}")
    recovered = None
    if amount is not None and target in ("confirmed", "handling", "closed") and \
            _yuan_text(amount) != _yuan_text(shown.get("amount_recovered")):
        recovered = _yuan_text(amount)
    try:
        lead = ledger.transition(
            shown["lead_id"], cast(Any, target), expected_version=shown["version"],
            by=ui.current_user().username, note=st.session_state.get(f"lead_note_{suffix}", ""),
            dispositions=tuple(st.session_state.get(f"lead_disp_{suffix}", [])),
            amount_recovered=recovered)
    except YibaoError as exc:
        _on_error(exc)
    else:
        _flash("success", text(L, "moved", lg, lead_id=lead.lead_id, state=_state(lead.state),
                               version=lead.version))


def _save() -> None:
    shown, suffix = _shown(), _suffix()
    state = st.session_state
    fields: dict[str, object] = {
        "owner": state.get(f"lead_owner_{suffix}", ""),
        "due": state.get(f"lead_due_{suffix}"),
        "amount_involved": _yuan_text(state.get(f"lead_involved_{suffix}")),
    }
    if f"lead_recovered_edit_{suffix}" in state:
        fields["amount_recovered"] = _yuan_text(state[f"lead_recovered_edit_{suffix}"])
    if f"lead_disp_edit_{suffix}" in state:
        fields["dispositions"] = tuple(state[f"lead_disp_edit_{suffix}"])
    try:
        lead = ledger.update(shown["lead_id"], fields, expected_version=shown["version"],
                             by=ui.current_user().username,
                             note=state.get(f"lead_edit_note_{suffix}", ""))
    except YibaoError as exc:
        _on_error(exc)
    else:
        if lead.version == shown["version"]:
            _flash("info", text(L, "unchanged", lg))
        else:
            _flash("success", text(L, "saved", lg, lead_id=lead.lead_id, version=lead.version))


def _generate() -> None:
    cur = ui.con()
    try:
        done = leads_from_store(cur, ledger, by=ui.current_user().username)
    except YibaoError as exc:
        _on_error(exc)
        return
    finally:
        cur.close()
    _flash("success", text(L, "generated", lg, n=done.total_created,
                           ring=done.created["ring"], chain=done.created["chain"],
                           rule=done.created["rule_hit"],
                           existing=sum(done.existing.values())))


def _import() -> None:
    upload = st.session_state.get("leads_upload")
    if upload is None:
        return
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(upload.name).name or "ledger.xlsx")
        path.write_bytes(upload.getvalue())
        try:
            report = import_workbook(ledger, path, by=ui.current_user().username)
        except YibaoError as exc:
            _on_error(exc)
            return
    st.session_state["leads_import_report"] = (
        report.summary(),
        [(r.row, r.lead_id or "", r.outcome, r.column or "", r.reason) for r in report.rows])


def _add_by_hand() -> None:
    state = st.session_state
    try:
        lead = ledger.add(LeadDraft(
            source=state[_lkey("new_source")], title=state.get("new_title", ""),
            summary=state.get("new_summary", ""), violation=state.get("new_violation", ""),
            risk=state[_lkey("new_risk")], region=state.get(_lkey("new_region")) or None,
            owner=state.get("new_owner") or None,
            amount_involved=Decimal(_yuan_text(state.get("new_amount")))),
            by=ui.current_user().username)
    except YibaoError as exc:
        _on_error(exc)
    else:
        _flash("success", text(L, "added", lg, lead_id=lead.lead_id))
        ui.set_param("lead", lead.lead_id)


# -- the list -------------------------------------------------------------------------------

def _multi(label: str, options: dict[str, tuple[str, str]], param: str, key: str
           ) -> list[str]:
    chosen = [v for v in (ui.url_param(param, "") or "").split(",") if v in options]
    picked = st.multiselect(text(L, label, lg), list(options), default=chosen,
                            format_func=lambda c: options[c][LI], key=_lkey(key),
                            placeholder=text(L, "any", lg))
    ui.set_param(param, ",".join(picked) or None)
    return picked


def _select(label: str, options: list[str], names: dict[str, str], param: str, key: str
            ) -> str:
    chosen = ui.url_param(param, "") or ""
    values = ["", *options]
    picked = st.selectbox(text(L, label, lg), values,
                          index=values.index(chosen) if chosen in values else 0,
                          format_func=lambda c: names.get(c, c) if c else text(L, "any", lg),
                          placeholder=text(L, "any", lg), key=_lkey(key))
    ui.set_param(param, picked or None)
    return str(picked)


def _filters() -> tuple[LeadFilter, OrderBy]:
    divs = divisions_frame()
    c1, c2, c3 = st.columns(3)
    with c1:
        states = _multi("states", cast(dict[str, tuple[str, str]], STATES), "states",
                        "leads_states")
    with c2:
        risks = _multi("risks", cast(dict[str, tuple[str, str]], RISKS), "risks",
                       "leads_risks")
    with c3:
        sources = _multi("sources", cast(dict[str, tuple[str, str]], SOURCES), "sources",
                         "leads_sources")
    c1, c2, c3, c4 = st.columns([1, 1, 1, 2])
    with c1:
        province = _select("province", sorted(PROVINCE_CODES),
                           {c: division_name(c, lg) for c in PROVINCE_CODES}, "province",
                           "leads_province")
    cities = divs[(divs["level"] == "city") & (divs["province"] == province)] if province \
        else divs.iloc[0:0]
    with c2:
        city = _select("city", list(cities["code"]),
                       {c: division_name(c, lg) for c in cities["code"]}, "city", "leads_city")
    owners = sorted({lead.owner for lead in ledger.leads() if lead.owner})
    with c3:
        owner = _select("owner", owners, {}, "owner", "leads_owner")
    with c4:
        query = st.text_input(text(L, "search", lg), value=ui.url_param("q", "") or "",
                              key="leads_q")
        ui.set_param("q", query.strip() or None)
    c1, c2, c3 = st.columns([1, 1, 2])
    overdue = c1.toggle(text(L, "overdue_only", lg), value=ui.url_param("overdue") == "1",
                        key="leads_overdue")
    ui.set_param("overdue", "1" if overdue else None)
    escalate = c2.toggle(text(L, "escalate_only", lg), value=ui.url_param("escalate") == "1",
                         key="leads_escalate")
    ui.set_param("escalate", "1" if escalate else None)
    chosen = ui.url_param("order", "risk")
    names = [str(o) for o in ORDERS]
    order = cast(OrderBy, c3.selectbox(
        text(L, "order", lg), names, index=names.index(chosen) if chosen in names else 0,
        format_func=lambda o: text(L, f"o_{o}", lg), placeholder=text(L, "choose", lg),
        key=_lkey("leads_order")))
    ui.set_param("order", None if order == "risk" else order)
    flt = LeadFilter(states=cast(Any, tuple(states)), risks=cast(Any, tuple(risks)),
                     sources=cast(Any, tuple(sources)), region=city or province or None,
                     owner=owner or None, text=query.strip() or None,
                     overdue=True if overdue else None,
                     needs_escalation=True if escalate else None)
    return flt, order


def _headline(leads: list[Lead], today: date) -> None:
    head = lead_data.ledger_headline(leads, today)
    cols = st.columns(9)
    cols[0].metric(text(L, "m_leads", lg), f"{head.leads:,}")
    cols[1].metric(_state("pending").capitalize(), f"{head.pending:,}")
    cols[2].metric(_state("checking").capitalize(), f"{head.checking:,}")
    cols[3].metric(_state("confirmed").capitalize(), f"{head.confirmed:,}")
    cols[4].metric(_state("closed").capitalize(), f"{head.closed:,}")
    cols[5].metric(text(L, "m_overdue", lg), f"{head.overdue:,}")
    cols[6].metric(text(L, "m_escalate", lg), f"{head.escalations:,}")
    cols[7].metric(text(L, "m_involved", lg), f"{lead_data.wan(head.amount_involved):,.2f}")
    cols[8].metric(text(L, "m_recovered", lg), f"{lead_data.wan(head.amount_recovered):,.2f}")


def _texts(leads: list[Lead]) -> dict[str, tuple[str, str]]:
    """Titles and summaries of detection's leads in the page's language (stored: Chinese)."""
    return ui.cached(lead_data.lead_texts, tuple(leads), lg) if lg != "zh" else {}


def _table(leads: list[Lead], today: date) -> None:
    frame = lead_data.leads_table(leads, today, lang=lg, texts=_texts(leads))
    shown = pd.DataFrame({
        text(L, "o_lead_id", lg): frame["lead_id"],
        text(L, "c_title", lg): frame["title"],
        text(L, "c_violation", lg): frame["violation"].map(
            lambda v: lead_data.violation_name(v, lg)),
        text(L, "c_risk", lg): frame["risk"].map(_risk),
        text(L, "c_state", lg): frame["state"].map(_state),
        text(L, "c_owner", lg): frame["owner"],
        text(L, "c_region", lg): frame["region_name"],
        text(L, "c_due", lg): frame["due"],
        text(L, "c_involved", lg): frame["amount_involved"],
        text(L, "c_involved_wan", lg): frame["amount_involved_wan"],
        text(L, "c_recovered", lg): frame["amount_recovered"],
        text(L, "c_recovered_wan", lg): frame["amount_recovered_wan"],
        text(L, "c_overdue", lg): frame["overdue"],
        text(L, "c_escalate", lg): frame["needs_escalation"],
        text(L, "c_source", lg): frame["source"].map(_source),
    })
    money = st.column_config.NumberColumn(format="localized")
    wan = st.column_config.NumberColumn(format="%.2f")
    st.caption(text(L, "pick", lg))
    event = st.dataframe(
        shown, hide_index=True, width="stretch", on_select="rerun",
        selection_mode="single-row", key="leads_table", height=min(600, 35 * (len(shown) + 1) + 3),
        column_config={text(L, "c_involved", lg): money, text(L, "c_recovered", lg): money,
                       text(L, "c_involved_wan", lg): wan, text(L, "c_recovered_wan", lg): wan,
                       text(L, "c_title", lg): st.column_config.TextColumn(width="medium")})
    rows = event.selection.rows if event is not None else []
    if rows:
        ui.set_param("lead", str(frame.iloc[rows[0]]["lead_id"]))
        st.rerun()


def _tools(shown: list[Lead]) -> None:
    """Export (exactly the leads the table shows, ``shown``), import and create."""
    span = "" if period == ui.cached(data_period) else f"_{period.start}_{period.end}"
    with st.expander(text(L, "tools", lg), expanded=False):
        c1, c2 = st.columns(2)
        c1.download_button(text(L, "download", lg),
                           data=lambda: lead_data.workbook_bytes(
                               ledger, shown, lang=lg, texts=_texts(shown)),
                           file_name=workbook_name(lg, ledger.today(), span),
                           mime="application/vnd.openxmlformats-officedocument."
                                "spreadsheetml.sheet",
                           key="leads_download", icon=":material/download:",
                           disabled=not shown)
        c1.caption(text(L, "download_note", lg, n=len(shown)))
        if user.role == "investigator":
            c1.button(text(L, "generate", lg), key="leads_generate", on_click=_generate,
                      help=text(L, "generate_help", lg), icon=":material/auto_awesome:")
            c1.caption(text(L, "generate_help", lg))
            c2.file_uploader(text(L, "upload", lg), type=["xlsx"], key="leads_upload")
            c2.button(text(L, "import", lg), key="leads_import", on_click=_import,
                      disabled=st.session_state.get("leads_upload") is None,
                      icon=":material/upload:")
        report = st.session_state.get("leads_import_report")
        if report:
            summary, rows = report
            st.success(text(L, "import_done", lg, **summary))
            outcome = {o: text(L, f"o_{o}_r", lg)
                       for o in ("updated", "created", "unchanged", "rejected")}
            st.dataframe(pd.DataFrame(rows, columns=[
                text(L, "r_row", lg), text(L, "o_lead_id", lg), text(L, "r_outcome", lg),
                text(L, "r_column", lg), text(L, "r_reason", lg)]).assign(**{
                    text(L, "r_outcome", lg): lambda f: f[text(L, "r_outcome", lg)].map(outcome)
                }), hide_index=True, width="stretch", key="leads_import_table")


def _new_lead_form() -> None:
    manual = ("report", "national", "inspection", "manual")
    divs = divisions_frame()
    regions = divs[divs["level"] != "province"]
    region_names = {c: division_name(c, lg) for c in regions["code"]}
    with st.expander(text(L, "new_lead", lg)), st.form("leads_new", clear_on_submit=True):
        c1, c2, c3 = st.columns(3)
        c1.selectbox(text(L, "sources", lg), manual, format_func=_source,
                     placeholder=text(L, "choose", lg), key=_lkey("new_source"))
        c2.selectbox(text(L, "risks", lg), list(RISKS), index=1, format_func=_risk,
                     placeholder=text(L, "choose", lg), key=_lkey("new_risk"))
        c3.selectbox(text(L, "f_region", lg), ["", *regions["code"]],
                     format_func=lambda c: region_names.get(c, c) if c else "—",
                     placeholder=text(L, "choose", lg), key=_lkey("new_region"))
        st.text_input(text(L, "f_title", lg), key="new_title")
        st.text_area(text(L, "f_summary", lg), key="new_summary", height=80)
        c1, c2, c3 = st.columns(3)
        c1.text_input(text(L, "f_violation", lg), key="new_violation")
        c2.text_input(text(L, "owner", lg), key="new_owner")
        c3.number_input(text(L, "f_amount", lg), min_value=0.0, step=100.0, format="%.2f",
                        key="new_amount")
        st.form_submit_button(text(L, "f_add", lg), on_click=_add_by_hand, type="primary")


def _list_page() -> None:
    st.title(text(L, "title", lg))
    _show_flash()
    flt, order = _filters()
    leads = ledger.leads(flt, order_by=order)
    full = ui.cached(data_period)
    if period == full:
        st.caption(text(L, "period_all", lg))
    else:
        spans = ui.cached(lead_data.activity_spans)
        leads = lead_data.leads_in_period(leads, spans, period)
        st.caption(text(L, "period_some", lg, period=str(period)))
    today = ledger.today()
    _headline(leads, today)
    if leads:
        _table(leads, today)
    elif not ledger.leads():
        st.info(text(L, "empty_ledger", lg))
    else:
        st.info(text(L, "nothing", lg))
    _tools(leads)
    if user.role == "investigator":
        _new_lead_form()


# -- one lead -------------------------------------------------------------------------------

def _fields(lead: Lead, today: date) -> None:
    cols = st.columns(6)
    cols[0].metric(text(L, "c_state", lg), _state(lead.state).capitalize())
    cols[1].metric(text(L, "c_risk", lg), _risk(lead.risk).capitalize(),
                   help=f"{lead.risk_score:.2f}" if lead.risk_score is not None else None)
    cols[2].metric(text(L, "c_owner", lg), lead.owner or text(L, "none", lg))
    flags = [text(L, "overdue_flag", lg)] if lead.overdue(today) else []
    if lead.needs_escalation(today):
        flags.append(text(L, "escalate_flag", lg))
    cols[3].metric(text(L, "c_due", lg), lead.due.isoformat() if lead.due else "—",
                   delta=_LIST.join(flags) or None, delta_color="inverse" if flags else "off",
                   delta_arrow="off")
    cols[4].metric(text(L, "c_involved", lg), f"{float(lead.amount_involved):,.2f}")
    cols[5].metric(text(L, "c_recovered", lg), f"{float(lead.amount_recovered):,.2f}")
    lines = [
        text(L, "source_line", lg, source=_source(lead.source), ref=lead.source_ref or "—"),
        text(L, "violation_line", lg, violation=lead_data.violation_name(lead.violation, lg)),
        text(L, "region_line", lg, region=lead_data.region_name(lead.region, lg) or "—"),
    ]
    if lead.dispositions:
        lines.append(text(L, "dispositions_line", lg, d="、".join(
            DISPOSITIONS[d][LI] for d in lead.dispositions)))
    counts = (len(lead.persons), len(lead.institutions), len(lead.practitioners),
              len(lead.rings))
    if lg == "en":
        p, i, d, r = (plural(n, word) for n, word in zip(
            counts, ("person", "institution", "practitioner", "ring"), strict=True))
        lines.append(text(L, "links_line", lg, p=p, i=i, d=d, r=r))
    else:
        lines.append(text(L, "links_line", lg, p=counts[0], i=counts[1], d=counts[2],
                          r=counts[3]))
    lines.append(text(L, "created_line", lg, by=lead.created_by,
                      at=lead.created_at.strftime("%Y-%m-%d %H:%M"), uby=lead.updated_by,
                      uat=lead.updated_at.strftime("%Y-%m-%d %H:%M"), version=lead.version))
    st.markdown("\n".join(f"- {line}" for line in lines))
    summary = _texts([lead]).get(lead.lead_id, (lead.title, lead.summary))[1]
    if summary:
        st.caption(summary)
    if lead.rings:
        links = st.columns(min(len(lead.rings), 6))
        for k, ring_id in enumerate(lead.rings[:12]):
            links[k % len(links)].page_link(
                "views/rings.py", label=text(L, "ring_link", lg, ring_id=ring_id),
                icon=":material/group:", query_params={"ring": ring_id, **_keep()})


def _where(lead: Lead) -> None:
    if lead.rings:
        parts = [ui.cached(ring_data.ring_settlements, r, period)
                 for r in lead.rings[:MAX_RINGS_ON_MAP]]
        settlements = pd.concat(parts, ignore_index=True).drop_duplicates("setl_id") \
            if parts else pd.DataFrame()
        if not settlements.empty:
            _ring_map(settlements)
            return
    if lead.institutions:
        insts = ui.cached(lead_data.lead_institutions, tuple(lead.institutions))
        insts = insts.dropna(subset=["lon", "lat"])
        if not insts.empty:
            points = insts.assign(label=insts["fixmedins_name"], size=12)
            points.attrs.update(name=t("institutions", lg), color="#d62728")
            st.caption(text(L, "map_insts", lg))
            left, right = st.columns([3, 2])
            left.plotly_chart(lines_and_points(points=[points], height=440), width="stretch",
                              key="lead_map")
            right.dataframe(columns(insts.drop(columns=["lon", "lat"]), lg), hide_index=True,
                            width="stretch", height=ui.table_height(len(insts)))
            return
    st.caption(text(L, "no_map", lg))


def _ring_map(settlements: pd.DataFrame) -> None:
    trips = ring_data.ring_trips(settlements)
    st.caption(text(L, "map_rings", lg, period=str(period)))
    left, right = st.columns([3, 2])
    left.plotly_chart(ring_trips_map(trips, homes_name=text(L, "homes", lg),
                                     institutions_name=t("institutions", lg),
                                     yuan=t("yuan", lg), height=440, lang=lg),
                      width="stretch", key="lead_map")
    right.dataframe(columns(trips.drop(columns=["home_lon", "home_lat", "lon", "lat",
                                                "insu_admdvs"]), lg),
                    hide_index=True, width="stretch", height=ui.table_height(len(trips)))


def _who(lead: Lead) -> None:
    if not lead.persons:
        st.caption(text(L, "no_persons", lg))
        return
    ui.unmask_toggle("lead", lead.lead_id)
    codes = tuple(lead.persons[:MAX_PERSONS])
    if len(lead.persons) > MAX_PERSONS:
        st.caption(text(L, "persons_more", lg, n=len(lead.persons), k=MAX_PERSONS))
    persons = ui.show_masked(ui.cached(lead_data.lead_persons, codes), "lead", lead.lead_id)
    persons["gend"] = persons["gend"].map(lambda g: text(L, f"sex_{g}", lg)
                                          if f"sex_{g}" in L else g)
    st.dataframe(columns(persons.drop(columns=["insu_admdvs"]), lg), hide_index=True,
                 width="stretch", height=ui.table_height(len(persons), 360), key="lead_persons")


def _actions(lead: Lead) -> None:
    if user.role != "investigator":
        st.caption(text(L, "read_only", lg))
        return
    nxt = allowed_next(lead.state)
    if not nxt:
        st.caption(text(L, "closed", lg))
        return
    suffix = f"{lead.lead_id}_{lead.version}_{lg}"  # fresh widgets per version and language
    left, right = st.columns(2)
    with left, st.form(f"lead_move_{suffix}", border=True):
        st.text_input(text(L, "note", lg), key=f"lead_note_{suffix}")
        if "handling" in nxt:
            st.multiselect(text(L, "dispositions", lg), list(DISPOSITIONS),
                           format_func=lambda d: DISPOSITIONS[d][LI],
                           placeholder=text(L, "choose", lg), key=f"lead_disp_{suffix}")
        if lead.state in ("checking", "confirmed", "handling"):
            st.number_input(text(L, "recovered_input", lg), min_value=0.0, step=100.0,
                            value=float(lead.amount_recovered), format="%.2f",
                            key=f"lead_recovered_{suffix}")
        buttons = st.columns(len(nxt))
        for col, target in zip(buttons, nxt, strict=True):
            col.form_submit_button(text(L, "go", lg, state=_state(target)),
                                   key=f"lead_go_{target}", on_click=_transition,
                                   args=(target,), type="primary")
    with right, st.form(f"lead_edit_{suffix}", border=True):
        st.markdown(f"**{text(L, 'edit', lg)}**")
        c1, c2 = st.columns(2)
        c1.text_input(text(L, "owner", lg), value=lead.owner or "", key=f"lead_owner_{suffix}")
        c2.date_input(text(L, "c_due", lg), value=lead.due, key=f"lead_due_{suffix}")
        c1.number_input(text(L, "c_involved", lg), min_value=0.0, step=100.0,
                        value=float(lead.amount_involved), format="%.2f",
                        key=f"lead_involved_{suffix}")
        if lead.state in ("confirmed", "handling"):
            c2.number_input(text(L, "c_recovered", lg), min_value=0.0, step=100.0,
                            value=float(lead.amount_recovered), format="%.2f",
                            key=f"lead_recovered_edit_{suffix}")
        if lead.state == "handling":
            st.multiselect(text(L, "dispositions", lg), list(DISPOSITIONS),
                           default=list(lead.dispositions),
                           format_func=lambda d: DISPOSITIONS[d][LI],
                           placeholder=text(L, "choose", lg), key=f"lead_disp_edit_{suffix}")
        st.text_input(text(L, "note", lg), key=f"lead_edit_note_{suffix}")
        st.form_submit_button(text(L, "save", lg), key="lead_save", on_click=_save)


def _history(lead: Lead) -> None:
    frame = lead_data.history_frame(ledger.history(lead.lead_id), lg)
    frame["action"] = frame["action"].map(lambda a: text(L, f"a_{a}", lg))
    shown = frame.rename(columns={
        "seq": text(L, "h_seq", lg), "version": text(L, "h_version", lg),
        "at": text(L, "h_at", lg), "by": text(L, "h_by", lg),
        "action": text(L, "h_action", lg), "from_state": text(L, "h_from", lg),
        "to_state": text(L, "h_to", lg), "changes": text(L, "h_changes", lg),
        "note": text(L, "h_note", lg)})
    st.dataframe(shown, hide_index=True, width="stretch", height=ui.table_height(len(shown), 500),
                 key="lead_history",
                 column_config={text(L, "h_changes", lg): st.column_config.TextColumn(
                     width="large")})


def _lead_page(lead_id: str) -> None:
    if st.button(text(L, "back", lg), key="back_to_leads"):
        ui.set_param("lead", None)
        st.rerun()
    try:
        lead = ledger.get(lead_id)
    except LeadNotFoundError:
        st.title(text(L, "title", lg))
        _show_flash()
        st.warning(text(L, "not_found", lg, lead_id=lead_id))
        return
    st.session_state["lead_shown"] = {"lead_id": lead.lead_id, "version": lead.version,
                                      "amount_recovered": float(lead.amount_recovered)}
    title = _texts([lead]).get(lead.lead_id, (lead.title, ""))[0]
    st.title(f"{text(L, 'lead_title', lg, lead_id=lead.lead_id)}：{title}"
             if lg == "zh" else f"{text(L, 'lead_title', lg, lead_id=lead.lead_id)}: {title}")
    _show_flash()
    today = ledger.today()
    st.header(text(L, "fields", lg))
    _fields(lead, today)
    st.header(text(L, "actions", lg))
    _actions(lead)
    st.header(text(L, "where", lg))
    _where(lead)
    st.header(text(L, "who", lg))
    _who(lead)
    st.header(text(L, "history", lg))
    _history(lead)


lead_param = ui.url_param("lead")
if lead_param:
    _lead_page(lead_param)
else:
    _list_page()
