"""Labels in 简体中文 (the default) and English.

Common labels live in :data:`LABELS`; a page may keep its own ``{key: (zh, en)}`` table and read
it with :func:`text`. Keys are English snake case; a missing key is an error (a typo must show).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import pandas as pd

from graph.rings import PATTERNS
from yibao.divisions import english_name

__all__ = [
    "COLUMNS",
    "EXPLANATIONS",
    "LABELS",
    "LANGS",
    "Lang",
    "columns",
    "explanation_label",
    "pattern_label",
    "t",
    "text",
]

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")

LABELS: dict[str, tuple[str, str]] = {
    "app_title": ("医保基金监管图分析工作台", "Medical-insurance fund supervision workbench"),
    "app_short": ("医保图谱", "yibao-graph"),
    "page_overview": ("总览", "Overview"),
    "page_rings": ("团伙", "Rings"),
    "page_chains": ("回流药", "Resale chains"),
    "page_cross_region": ("异地就医", "Cross-region"),
    "page_search": ("查询", "Search"),
    "page_leads": ("线索台账", "Leads ledger"),
    "page_plan": ("检查计划", "Inspection plan"),
    "page_brief": ("领导简报", "Briefing"),
    "page_quality": ("数据质量", "Data quality"),
    "page_tuning": ("调参验证", "Explore and tune"),
    "language": ("语言 / Language", "语言 / Language"),
    "period": ("时间范围", "Period"),
    "period_from": ("起", "From"),
    "period_to": ("止", "To"),
    "sign_in": ("登录", "Sign in"),
    "sign_in_title": ("登录医保基金监管工作台", "Sign in to the fund-supervision workbench"),
    "sign_in_oidc": ("使用单位账号登录", "Sign in with your organisation account"),
    "sign_out": ("退出登录", "Sign out"),
    "username": ("用户名", "User name"),
    "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误", "Wrong user name or password"),
    "no_users": (
        "尚未配置用户：请运行 `yibao user add 用户名 --role investigator` 创建用户文件 {path}",
        "No users yet: run `yibao user add NAME --role investigator` to create the user file "
        "{path}",
    ),
    "oidc_unknown": (
        "单位账号 {email} 未在用户文件中登记角色，请联系管理员。",
        "The organisation account {email} has no role in the user file; ask an administrator.",
    ),
    "role_investigator": ("调查员", "Investigator"),
    "role_leadership": ("领导/简报", "Leadership / briefing"),
    "signed_in_as": ("当前用户：{name}（{role}）", "Signed in as {name} ({role})"),
    "masked_note": ("个人信息已脱敏", "Personal data masked"),
    "unmask": ("显示完整个人信息（将记入审计日志）", "Reveal personal data (audited)"),
    "unmasked_note": (
        "已显示完整个人信息，本次查看已记入审计日志。",
        "Personal data revealed; this view is audited.",
    ),
    "no_store": (
        "找不到数据存储 {path}。请先运行 `yibao demo` 或 `yibao load`，或设置 YIBAO_DB。",
        "No store at {path}. Run `yibao demo` or `yibao load` first, or set YIBAO_DB.",
    ),
    "no_detection": (
        "数据存储中还没有检测结果：请先运行 `yibao detect --db {path}`。",
        "The store has no detection results yet: run `yibao detect --db {path}` first.",
    ),
    "data_version": (
        "数据版本：第 {number} 版，{when} {reason}后发布",
        "Data version {number}, published {when} after {reason}",
    ),
    "published_load": ("导入", "a load"),
    "published_detect": ("检测", "detection"),
    "published_workbench": ("工作台启动", "the workbench started"),
    "empty": ("所选时间范围内没有数据。", "Nothing in the chosen period."),
    "backend_fallback": (
        "图数据库服务器暂时无法使用，关系网络、邻域与关联路径改由内嵌数据存储 {db} 提供"
        "（{seconds:.0f} 秒后自动重试）。原因：{reason}",
        "The graph database server cannot be used right now; networks, neighbourhoods and "
        "connections come from the embedded store {db} instead (retried after {seconds:.0f} "
        "s). Reason: {reason}",
    ),
    "retry_server": ("立即重试连接服务器", "Retry the server now"),
    "table": ("表格", "Table"),
    "map": ("地图", "Map"),
    "yuan": ("元", "yuan"),
    "wan_yuan": ("万元", "10k yuan"),
    "persons": ("人员", "Persons"),
    "institutions": ("定点医药机构", "Institutions"),
    "practitioners": ("医保医师", "Practitioners"),
    "settlements": ("结算笔数", "Settlements"),
    "fund_amount": ("医保基金（元）", "Insurance money (yuan)"),
    "score": ("证据强度", "Evidence strength"),
    "pattern": ("类型", "Pattern"),
    "ring": ("团伙", "Ring"),
    "ring_id": ("团伙编号", "Ring id"),
    "span": ("时间跨度", "Span"),
    "places": ("涉及地区", "Places"),
    "first_time": ("首次", "First"),
    "last_time": ("末次", "Last"),
    "open_ring": ("查看团伙", "Open ring"),
    "division": ("地区", "Division"),
    "name": ("姓名/名称", "Name"),
    "code": ("编码", "Code"),
    "month": ("月份", "Month"),
}


COLUMNS: dict[str, tuple[str, str]] = {
    "psn_no": ("人员编号", "Person no."),
    "drug_trac_codg": ("追溯码", "Trace code"),
    "med_list_name": ("药品名称", "Drug"),
    "psn_name": ("姓名", "Name"),
    "certno": ("证件号码", "ID number"),
    "tel": ("联系电话", "Phone"),
    "gend": ("性别", "Sex"),
    "age": ("年龄", "Age"),
    "home": ("参保地", "Insured in"),
    "insu_admdvs": ("参保地代码", "Insured division"),
    "role": ("角色", "Role"),
    "settlements": ("结算笔数", "Settlements"),
    "fund": ("医保基金（元）", "Insurance money (yuan)"),
    "medfee": ("医疗费用（元）", "Medical fee (yuan)"),
    "fixmedins_code": ("机构编码", "Institution code"),
    "fixmedins_name": ("机构名称", "Institution"),
    "fixmedins_type": ("机构类型", "Type"),
    "hosp_lv": ("医院等级", "Hospital level"),
    "admdvs": ("所在区划", "Division code"),
    "place": ("所在地", "Located in"),
    "lon": ("经度", "Longitude"),
    "lat": ("纬度", "Latitude"),
    "dr_codg": ("医师编码", "Practitioner code"),
    "dr_name": ("医师姓名", "Practitioner"),
    "dr_type": ("医师类型", "Practitioner type"),
    "setl_id": ("结算编号", "Settlement id"),
    "setl_time": ("结算时间", "Settled at"),
    "med_type": ("医疗类别", "Medical type"),
    "dise_codg": ("诊断编码", "Diagnosis"),
    "month": ("月份", "Month"),
    "day": ("日期", "Day"),
    "persons": ("人数", "Persons"),
    "kind": ("类别", "Kind"),
    "code": ("编码", "Code"),
    "label": ("名称", "Label"),
    "degree": ("连接数", "Links"),
}
"""Column labels for tables shown to users (national field names and our own)."""


PLACE_COLUMNS = frozenset({"home", "place", "city_name", "county_name", "city_names",
                           "origin_name", "destination_name", "region_name", "home_provinces",
                           "care_provinces"})
"""Columns that hold division names (Chinese in the data; English in an English view)."""


def place(name: object, lang: Lang) -> object:
    """A division name (or several joined with ``、``) in ``lang``; anything else unchanged."""
    if lang == "zh" or not isinstance(name, str) or not name:
        return name
    return ", ".join(english_name(part) for part in name.split("、"))


def places(frame: pd.DataFrame, lang: Lang, *cols: str) -> pd.DataFrame:
    """``frame`` with the division names in ``cols`` in ``lang`` (a copy when translated)."""
    todo = [c for c in cols if c in frame.columns]
    if lang == "zh" or not todo:
        return frame
    return frame.assign(**{c: frame[c].map(lambda v: place(v, lang)) for c in todo})


def columns(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """``frame`` for display: known column names translated, and in English the division
    names of :data:`PLACE_COLUMNS` too (others unchanged)."""
    i = 0 if lang == "zh" else 1
    frame = places(frame, lang, *PLACE_COLUMNS)
    return frame.rename(columns={c: COLUMNS[c][i] for c in frame.columns if c in COLUMNS})


def text(table: Mapping[str, tuple[str, str]], key: str, lang: Lang, **fmt: object) -> str:
    """The label ``key`` of ``table`` in ``lang``, formatted with ``fmt``."""
    zh, en = table[key]
    label = zh if lang == "zh" else en
    return label.format(**fmt) if fmt else label


def t(key: str, lang: Lang, **fmt: object) -> str:
    """A common label (:data:`LABELS`)."""
    return text(LABELS, key, lang, **fmt)


def pattern_label(pattern: str, lang: Lang) -> str:
    """A ring pattern's name, e.g. ``card_pooling`` → ``聚集性刷卡(套刷)``."""
    zh, en = PATTERNS.get(pattern, (pattern, pattern))
    return zh if lang == "zh" else en


EXPLANATIONS: dict[str, tuple[str, str]] = {
    "dialysis": ("血液透析", "haemodialysis"),
    "chemotherapy": ("肿瘤放化疗", "chemotherapy or radiotherapy"),
    "rehabilitation": ("康复治疗", "rehabilitation"),
    "checkup": ("健康体检/筛查", "health check or screening"),
    "weekly_session": ("每周固定门诊（巡诊/集日）", "weekly session (rounds or market-day clinic)"),
    "family": ("家庭同行", "a family visiting together"),
}
"""Names of the honest explanations detection tries (:data:`graph.explanations.EXPLANATION_KEYS`
without the empty key, which means none held)."""


def explanation_label(key: str, lang: Lang) -> str:
    """An honest explanation's name, e.g. ``dialysis`` → ``血液透析`` (an unknown key as is)."""
    zh, en = EXPLANATIONS.get(key, (key, key))
    return zh if lang == "zh" else en
