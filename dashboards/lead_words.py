"""The words of the leads page (线索台账): its labels in Chinese and English, and the ledger's
refusals told in the user's language from the facts the error carries (its lead, state, the
state asked for, the allowed next states, the field and value, who changed the lead and when),
never from the error's English message."""

from __future__ import annotations

from typing import cast

from dashboards.data import leads as lead_data
from dashboards.i18n import text
from yibao.errors import LeadConflictError, LeadError, YibaoError
from yibao.i18n import Lang
from yibao.leads import DISPOSITIONS, FIELD_LABELS, RISKS, SOURCES, STATES

__all__ = ["L", "refusal_text"]

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

# -- the ledger's refusals in the user's language ------------------------------------------

_STATE_REASONS = ("not_next", "unreachable", "fork", "already", "recovered_too_early")
# refusals whose ``allowed`` are lifecycle states

_CHOICES: dict[str, dict[str, tuple[str, str]]] = {  # field -> the labels of its codes
    "state": cast(dict[str, tuple[str, str]], STATES),
    "dispositions": cast(dict[str, tuple[str, str]], DISPOSITIONS),
    "risk": cast(dict[str, tuple[str, str]], RISKS),
    "source": cast(dict[str, tuple[str, str]], SOURCES),
}



def _code_name(code: str, field: str | None, lg: Lang) -> str:
    li = 0 if lg == "zh" else 1
    table = _CHOICES.get(field or "", {})
    if code in table:
        return table[code][li]
    if code in FIELD_LABELS:
        return FIELD_LABELS[code][li]
    return code


def _shown_value(value: object, lg: Lang) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, tuple | list):
        return _list_sep(lg).join(str(v) for v in value)
    return str(value)


def _state_or_dash(code: str | None, lg: Lang) -> str:
    if code is None or code not in STATES:
        return "—"
    return STATES[code][0 if lg == "zh" else 1]


def _conflict_text(exc: LeadConflictError, subject: str, lg: Lang) -> str:
    state = _state_or_dash(exc.state, lg)
    if exc.reason == "duplicate":
        return text(L, "e_duplicate", lg, value=_shown_value(exc.value, lg), lead_id=exc.lead_id)
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


def refusal_text(exc: YibaoError, lg: Lang) -> str:
    """A refusal of the ledger in the page's language, from the facts the error carries (its
    lead, state, the state asked for, the allowed next states, the field and value, who
    changed the lead and when); other errors, and a refusal this page has no words for, keep
    the error's own message inside a sentence in the page's language."""
    if not isinstance(exc, LeadError) or f"e_{exc.reason}" not in L:
        return text(L, "e_other", lg, message=str(exc))
    subject = (text(L, "e_subject", lg, lead_id=exc.lead_id) if exc.lead_id
               else text(L, "e_subject_any", lg))
    if isinstance(exc, LeadConflictError):
        said = _conflict_text(exc, subject, lg)
    else:
        names = [_state_or_dash(c, lg) if exc.reason in _STATE_REASONS
                 else _code_name(c, exc.field, lg)
                 for c in exc.allowed]
        allowed = _list_sep(lg).join(names) or text(L, "e_none_next", lg)
        if lg == "en" and exc.reason == "fork":
            allowed = " or ".join(names)
        said = text(L, f"e_{exc.reason}", lg, subject=subject, lead_id=exc.lead_id or "—",
                    state=_state_or_dash(exc.state, lg),
                    target=_state_or_dash(exc.target, lg),
                    allowed=allowed, value=_shown_value(exc.value, lg),
                    field=FIELD_LABELS[exc.field][0 if lg == "zh" else 1]
                    if exc.field in FIELD_LABELS else "")
    said = said.strip()
    return said[:1].upper() + said[1:] if lg == "en" else said


def _list_sep(lg: Lang) -> str:
    return "、" if lg == "zh" else ", "
