"""Violation types (违规行为) of leads: detection patterns, rule-base rules, the seeds' categories.

A lead's ``violation`` is a key: a ring pattern of :data:`graph.rings.PATTERNS`
(``card_pooling`` …), a rule id of the rule base (``IMPOSSIBLE_TRAVEL`` …), or one of the
categories of the self-inspection statistics tables in the seeds (Fuyang 2020, 附件 3:
超标准收费, 重复收费 …), which hand-entered leads use. Any other text is kept as typed (a
bureau's own category) and shows as itself. The statistics sheet groups leads by it.
"""

from __future__ import annotations

from functools import cache

__all__ = ["SEED_CATEGORIES", "parse_violation", "violation_label", "violation_labels"]

SEED_CATEGORIES: dict[str, str] = {
    "overcharging": "超标准收费",
    "duplicate_charging": "重复收费",
    "split_charging": "分解收费",
    "item_substitution": "串换项目收费",
    "inflated_services": "虚增医疗服务",
    "forged_documents": "伪造医疗文书票据",
    "out_of_scope": "超医保支付范围(限定)结算",
    "bed_hanging": "挂床住院",
    "induced_admission": "诱导住院",
    "unreasonable_admission": "不合理住院",
    "unreasonable_treatment": "不合理诊疗",
    "other": "其他违规违纪违法行为",
}
"""The violation rows of the seeds' 定点医疗机构自查情况统计表, keyed in English."""


@cache
def violation_labels() -> dict[str, str]:
    """Every known violation key -> its Chinese label: ring patterns, rules, seed categories,
    in that order (the order of the statistics sheet)."""
    from graph.rings import PATTERNS
    from graph.rules import load_rulebase

    labels = {key: zh for key, (zh, _en) in PATTERNS.items()}
    labels.update({rule.id: rule.name_zh for rule in load_rulebase()})
    labels.update(SEED_CATEGORIES)
    return labels


def violation_label(key: str) -> str:
    """The Chinese label of violation ``key`` (unknown text as itself, empty as 未分类)."""
    if not key:
        return "未分类"
    return violation_labels().get(key, key)


def parse_violation(text: object) -> str:
    """A violation key from a key or a Chinese label (``"重复收费"`` -> ``duplicate_charging``);
    other text is kept as typed."""
    value = "" if text is None else str(text).strip()
    if value in ("", "未分类"):
        return ""
    if value in violation_labels():
        return value
    for key, label in violation_labels().items():
        if value == label:
            return key
    return value
