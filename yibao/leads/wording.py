"""The words of detection's leads, in Chinese and English: titles and summaries.

The ledger stores a lead's title and summary as detection wrote them, in Chinese (the language
of the ledger and its Excel). The same words in English are made here from the same facts, so
the workbench can show a lead in English (:func:`yibao.leads.from_detection.detection_texts`).
Institution names stay as registered (they are names).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

__all__ = [
    "Lang",
    "chain_title",
    "plural",
    "ring_title",
    "rule_title",
    "summary_text",
]

Lang = Literal["zh", "en"]

SUMMARY_LINES = 5
"""Evidence sentences a summary keeps; the rest are counted."""

NO_INSTITUTION = {"zh": "无机构", "en": "no institution"}


def plural(n: int, singular: str, many: str | None = None) -> str:
    """``"1 person"``, ``"3 persons"`` (``many`` when the plural is not ``singular + s``)."""
    return f"{n:,} {singular if n == 1 else (many or singular + 's')}"


def summary_text(lines: Sequence[str | None], lang: Lang, more: int = 0) -> str:
    """The first :data:`SUMMARY_LINES` non-empty sentences of ``lines``, then how many more
    there are (plus ``more``)."""
    given = [line for line in lines if line]
    kept = given[:SUMMARY_LINES]
    extra = len(given) - len(kept) + more
    if lang == "zh":
        return "；".join(kept) + (f"；另有 {extra} 条" if extra > 0 else "")
    return "; ".join(kept) + (f"; {plural(extra, 'more finding')}" if extra > 0 else "")


def _where(top: str | None, n_institutions: int, lang: Lang) -> str:
    where = top or NO_INSTITUTION[lang]
    if n_institutions <= 1:
        return where
    if lang == "zh":
        return f"{where}等 {n_institutions} 家机构"
    return f"{where} and {plural(n_institutions - 1, 'other institution')}"


def ring_title(pattern: str, top: str | None, n_institutions: int, n_persons: int,
               lang: Lang) -> str:
    """``"聚集性刷卡(套刷)：某药房等 2 家机构，8 人"``: the pattern's name, the institution that
    took most of the ring's money, how many more, and the ring's persons."""
    from graph.rings import PATTERNS

    zh, en = PATTERNS.get(pattern, (pattern, pattern))
    where = _where(top, n_institutions, lang)
    if lang == "zh":
        return f"{zh}：{where}，{n_persons} 人"
    return f"{en[:1].upper()}{en[1:]}: {where}, {plural(n_persons, 'person')}"


def chain_title(top: str | None, n_institutions: int, n_codes: int, n_sales: int,
                lang: Lang) -> str:
    """``"倒卖回流药：某药房等 3 家机构，21 个追溯码 45 次有效结算"``."""
    where = _where(top, n_institutions, lang)
    if lang == "zh":
        return f"倒卖回流药：{where}，{n_codes} 个追溯码 {n_sales} 次有效结算"
    return (f"Resale of returned drugs: {where}, {plural(n_codes, 'traceability code')}, "
            f"{plural(n_sales, 'effective sale')}")


def rule_title(name_zh: str, name_en: str, where: str | None, n_hits: int, lang: Lang) -> str:
    """``"住院时间重叠：某医院（2 例）"``: the rule's name, the institution, the hits."""
    place = where or NO_INSTITUTION[lang]
    if lang == "zh":
        return f"{name_zh}：{place}（{n_hits} 例）"
    return f"{name_en}: {place} ({plural(n_hits, 'case')})"
