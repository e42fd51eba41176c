"""Why a row was quarantined, and how to fix it: the catalogue of reason codes.

Each reason has a stable code (counted in the load summary), a Chinese and an English message
template. Templates use ``{column}``, ``{value}`` and ``{detail}``; the loader fills them in SQL,
so a quarantined row carries its own explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REASONS", "Reason", "reason"]


@dataclass(frozen=True)
class Reason:
    code: str
    zh: str
    en: str


_REASONS = (
    Reason(
        "column_count",
        "该行字段数与表头不一致（{detail}）：检查是否有未加引号的逗号或换行，修正后重新导入",
        "the row has a different number of fields than the header ({detail}): look for an "
        "unquoted comma or line break, fix the row and load it again",
    ),
    Reason(
        "invalid_encoding",
        "该行含有非 UTF-8 字节（文件混用了 GBK 与 UTF-8？）：将整个文件另存为同一种编码后重新导入",
        "the row has bytes that are not UTF-8 (a GBK line in a UTF-8 file?): save the whole file "
        "in one encoding and load it again",
    ),
    Reason(
        "unparseable_row",
        "无法解析该行（{detail}）：检查引号是否成对",
        "the row cannot be parsed ({detail}): check that quotes are paired",
    ),
    Reason(
        "extra_cells",
        "表头之外的单元格有内容（{detail}）：删除多余单元格或补上表头",
        "cells beyond the header hold values ({detail}): delete them or add a header",
    ),
    Reason(
        "missing_value",
        "必填字段 {column} 为空：补全该值",
        "required field {column} is empty: fill it in",
    ),
    Reason(
        "id_as_number",
        "{column} 的值 '{value}' 是被 Excel 转成数字的编号（科学计数法或 .0 结尾），原值已丢失："
        "导出时把该列设为文本格式后重新导出",
        "{column} value '{value}' is an ID that Excel turned into a number (scientific notation or "
        "a trailing .0), the original digits are lost: export again with the column formatted as "
        "text",
    ),
    Reason(
        "bad_format",
        "{column} 的值 '{value}' 格式不符：应为 {detail}",
        "{column} value '{value}' has the wrong format: expected {detail}",
    ),
    Reason(
        "certno_length",
        "证件号码 '{value}' 不是 18 位：核对居民身份证号码（GB 11643）",
        "certno '{value}' is not 18 characters: check the resident ID number (GB 11643)",
    ),
    Reason(
        "certno_format",
        "证件号码 '{value}' 应为 17 位数字加 1 位校验码（数字或 X）",
        "certno '{value}' must be 17 digits and a check character (a digit or X)",
    ),
    Reason(
        "certno_birthdate",
        "证件号码 '{value}' 中的出生日期 {detail} 不是有效日期",
        "certno '{value}' holds birth date {detail}, which is not a valid date",
    ),
    Reason(
        "certno_check_digit",
        "证件号码 '{value}' 校验码错误（按 GB 11643 应为 {detail}）：核对号码是否录错",
        "certno '{value}' has a wrong check digit (GB 11643 gives {detail}): check for a typo",
    ),
    Reason(
        "brdy_mismatch",
        "出生日期 '{value}' 与证件号码中的出生日期 {detail} 不一致：以证件号码为准修正",
        "brdy '{value}' differs from the birth date in certno ({detail}): correct one of them",
    ),
    Reason(
        "bad_phone",
        "联系电话 '{value}' 不是 11 位手机号或带区号的固定电话",
        "tel '{value}' is neither an 11-digit mobile number nor a landline with area code",
    ),
    Reason(
        "bad_enum",
        "{column} 的值 '{value}' 不在代码表中：可用代码 {detail}（Excel 是否去掉了前导零？）",
        "{column} value '{value}' is not a known code: accepted codes are {detail} (did Excel drop "
        "a leading zero?)",
    ),
    Reason(
        "bad_date",
        "{column} 的值 '{value}' 不是有效日期：使用 YYYY-MM-DD（或 YYYY-MM-DD HH:MM:SS）",
        "{column} value '{value}' is not a valid date: use YYYY-MM-DD (or YYYY-MM-DD HH:MM:SS)",
    ),
    Reason(
        "date_out_of_range",
        "{column} 的值 '{value}' 超出合理范围（{detail}）：核对年份",
        "{column} value '{value}' is out of range ({detail}): check the year",
    ),
    Reason(
        "bad_amount",
        "{column} 的值 '{value}' 不是金额（元）：只用数字、小数点和千位分隔符",
        "{column} value '{value}' is not an amount in yuan: use digits, a decimal point and "
        "thousands separators only",
    ),
    Reason(
        "bad_number",
        "{column} 的值 '{value}' 不是数值（最多 6 位小数）",
        "{column} value '{value}' is not a number (at most 6 decimals)",
    ),
    Reason(
        "unknown_division",
        "{column} 的值 '{value}' 不是沪苏浙皖的 6 位行政区划代码：例如 341200（阜阳市）",
        "{column} value '{value}' is not a 6-digit division code of 沪苏浙皖: e.g. 341200 (阜阳市)",
    ),
    Reason(
        "coord_out_of_range",
        "{column} 的值 '{value}' 不在长三角范围（{detail}）：确认为 WGS84 度数且经纬度未写反",
        "{column} value '{value}' is outside the Yangtze Delta ({detail}): use WGS84 degrees and "
        "check that lon and lat are not swapped",
    ),
    Reason(
        "bad_trace_code",
        "药品追溯码 '{detail}' 应为 20 位数字（多个用 ; 分隔）",
        "drug trace code '{detail}' must be 20 digits (several separated by ';')",
    ),
    Reason(
        "amounts_mismatch",
        "基金支付 + 个人账户 + 个人现金 与医疗费总额相差 {detail} 元（允许 0.01 元）：核对各项金额",
        "fund_pay_sumamt + acct_pay + psn_cash_pay differs from medfee_sumamt by {detail} yuan "
        "(0.01 allowed): check the amounts",
    ),
    Reason(
        "hifp_exceeds_fund",
        "统筹基金支出 {value} 大于基金支付总额 {detail}：核对基金分项",
        "hifp_pay {value} exceeds fund_pay_sumamt {detail}: check the fund split",
    ),
    Reason(
        "mixed_signs",
        "金额正负号不一致（冲销结算的各项金额应同为负数）：核对金额符号",
        "amounts have mixed signs (a reversal has all amounts negative): check the signs",
    ),
    Reason(
        "dates_reversed",
        "开始日期 {value} 晚于结束日期 {detail}：核对入出院日期",
        "begndate {value} is after enddate {detail}: check admission and discharge dates",
    ),
    Reason(
        "missing_stay_dates",
        "住院结算（医疗类别 {value}）缺少入院或出院日期：补全 begndate 和 enddate",
        "inpatient settlement (med_type {value}) lacks begndate or enddate: fill both in",
    ),
    Reason(
        "fee_amount_mismatch",
        "数量 × 单价 与明细金额相差 {detail} 元：核对数量、单价和金额",
        "cnt × pric differs from det_item_fee_sumamt by {detail} yuan: check them",
    ),
    Reason(
        "duplicate_row",
        "与第 {detail} 行完全相同的重复行：删除重复行",
        "exact duplicate of row {detail}: remove the duplicate",
    ),
    Reason(
        "duplicate_key",
        "{column} '{value}' 已出现在第 {detail} 行且内容不同：确认哪一行正确，删除另一行",
        "{column} '{value}' already appears on row {detail} with different values: keep the "
        "correct row and delete the other",
    ),
    Reason(
        "conflicts_with_store",
        "{column} '{value}' 已在库中（第 {detail} 次导入）且内容不同：如需更正请先撤销原记录",
        "{column} '{value}' is already in the store (load {detail}) with different values: "
        "retract the stored row before correcting it",
    ),
    Reason(
        "unknown_reference",
        "{column} '{value}' 在 {detail} 中不存在：先导入对应记录或更正编号",
        "{column} '{value}' does not exist in {detail}: load that record first or fix the code",
    ),
    Reason(
        "reference_quarantined",
        "{column} '{value}' 对应的记录已被隔离（{detail}）：先修正那一行",
        "{column} '{value}' refers to a row that was quarantined ({detail}): fix that row first",
    ),
    Reason(
        "unmatched_reversal",
        "负数结算（冲销）'{value}' 找不到可冲销的原结算（{detail}）："
        "提供 init_setl_id 或一并导入原结算",
        "negative settlement (reversal, 冲销) '{value}' has no earlier settlement to cancel "
        "({detail}): give init_setl_id or load the original settlement too",
    ),
    Reason(
        "already_reversed",
        "原结算 '{detail}' 已被冲销过：同一结算不能冲销两次",
        "settlement '{detail}' has already been reversed: a settlement cannot be reversed twice",
    ),
)

_NOTE_REASONS = (
    Reason(
        "unknown_code",
        "{column} 的值 '{value}' 不在代码表 {detail} 中，已按原值保存："
        "若是本省的标签，在代码映射文件中加入 [tables.<表名>.labels] \"{value}\" = \"<代码>\""
        "（yibao load --codes 文件）；"
        "若是去掉了前导零的代码，导出时把该列设为文本",
        "{column} value '{value}' is not in code table {detail}; stored as it came: if it is a "
        "local label, add [tables.<table>.labels] \"{value}\" = \"<code>\" to a code mapping "
        "file (yibao load --codes FILE); if Excel dropped a leading zero, export the column as "
        "text",
    ),
    Reason(
        "nonstandard_code",
        "{column} 的值 '{value}' 不是国家编码格式（{detail}），已按原值保存：核对是否为本地旧编码",
        "{column} value '{value}' is not in a national code format ({detail}); stored as it "
        "came: check whether it is an older local code",
    ),
    Reason(
        "coordinates_outside_division",
        "坐标 {value} 在申报区划之外（申报 → 实际所在区县，距申报区划边界：{detail}），"
        "已按原值保存：核对经纬度是否为 WGS84（不是高德/GCJ-02）、是否颠倒，或核对区划代码",
        "coordinates {value} lie outside the declared division (declared → the county they fall "
        "in, distance from the declared boundary: {detail}); stored as they came: check that "
        "they are WGS84 (not Amap/GCJ-02) and not swapped, or check the division code",
    ),
)
"""Reasons of data-quality notes only: the row was kept."""

REASONS: dict[str, Reason] = {r.code: r for r in (*_REASONS, *_NOTE_REASONS)}


def reason(code: str) -> Reason:
    """The reason with this code; ``KeyError`` for an unknown code."""
    return REASONS[code]
