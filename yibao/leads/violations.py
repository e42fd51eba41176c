"""Violation types (违规行为) of leads: detection patterns, rule-base rules, the seeds' categories.

A lead's ``violation`` is a key: a ring pattern of :data:`graph.rings.PATTERNS`
(``card_pooling`` …), a rule id of the rule base (``IMPOSSIBLE_TRAVEL`` …), or one of the
categories of the self-inspection statistics tables in the seeds (Fuyang 2020, 附件 3:
超标准收费, 重复收费 …), which hand-entered leads use. Any other text is kept as typed (a
bureau's own category) and shows as itself. The statistics sheet groups leads by it.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

__all__ = ["SEED_CATEGORIES", "parse_violation", "violation_label", "violation_labels"]

Lang = Literal["zh", "en"]

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
def violation_labels(lang: Lang = "zh") -> dict[str, str]:
    """Every known violation key -> its label in ``lang``: ring patterns, rules, seed
    categories, in that order (the order of the statistics sheet). English names a seed
    category by its key in words."""
    from graph.rings import PATTERNS
    from graph.rules import load_rulebase

    i = 0 if lang == "zh" else 1
    labels = {key: names[i] for key, names in PATTERNS.items()}
    labels.update({rule.id: (rule.name_zh, rule.name_en)[i] for rule in load_rulebase()})
    labels.update({key: zh if lang == "zh" else key.replace("_", " ")
                   for key, zh in SEED_CATEGORIES.items()})
    return labels


def violation_label(key: str, lang: Lang = "zh") -> str:
    """The label of violation ``key`` in ``lang`` (unknown text as itself, empty as 未分类 /
    unclassified)."""
    if not key:
        return "未分类" if lang == "zh" else "unclassified"
    label = violation_labels(lang).get(key)
    if label is None:
        return key
    return label[:1].upper() + label[1:] if lang == "en" else label


def parse_violation(text: object) -> str:
    """A violation key from a key or a Chinese or English label (``"重复收费"`` or
    ``"duplicate charging"`` -> ``duplicate_charging``); other text is kept as typed."""
    value = "" if text is None else str(text).strip()
    if value in ("", "未分类", "unclassified"):
        return ""
    if value in violation_labels():
        return value
    for lang in ("zh", "en"):
        for key in violation_labels(lang):
            if value.casefold() == violation_label(key, lang).casefold():
                return key
    return value
