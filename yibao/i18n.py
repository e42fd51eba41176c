"""Words every layer shares, in 简体中文 and English: the language, counted nouns, money and
brackets.

One function per definition: a count with its noun (``1 ring``, ``3 rings``), an amount of
money (``5.31 万元`` in Chinese, ``¥53.1k`` in English) and a bracketed aside (``（x）`` or
`` (x)``). Page labels stay with their pages; these are the pieces that go inside them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

__all__ = ["Lang", "bracket", "list_join", "metric_money", "money", "plural"]

Lang = Literal["zh", "en"]


def plural(n: int, singular: str, many: str | None = None) -> str:
    """A count and its English noun: ``"1 ring"``, ``"3 rings"``, ``"2 suspicious
    settlements"`` (``many`` when the plural is not ``singular + "s"``)."""
    return f"{n:,} {singular if n == 1 else (many or singular + 's')}"


def money(yuan: float | Decimal, lang: Lang) -> str:
    """An amount of money as a reader of ``lang`` expects it.

    Chinese reads 万元 (10,000 yuan) with two decimals: ``"5.31 万元"``. English reads yuan
    with the usual thousand and million steps: ``"¥980"``, ``"¥53.1k"``, ``"¥5.31M"``,
    ``"¥1.20B"`` (amounts under 100 yuan keep their fen: ``"¥12.50"``; nothing is ``"¥0"``).

    Examples
    --------
    >>> money(53_100, "zh"), money(53_100, "en"), money(5_312_345, "en"), money(12.5, "en")
    ('5.31 万元', '¥53.1k', '¥5.31M', '¥12.50')
    """
    value = float(yuan)
    if lang == "zh":
        return f"{value / 1e4:,.2f} 万元"
    size, sign = abs(value), "-" if value < 0 else ""
    if size == 0:
        return "¥0"
    if size < 100:
        return f"{sign}¥{size:.2f}"
    if size < 1e3:
        return f"{sign}¥{size:.0f}"
    if size < 1e6:
        return f"{sign}¥{size / 1e3:.1f}k"
    if size < 1e9:
        return f"{sign}¥{size / 1e6:.2f}M"
    return f"{sign}¥{size / 1e9:.2f}B"


def metric_money(yuan: float | Decimal, lang: Lang, *, digits: int = 1) -> str:
    """The figure of a money metric whose Chinese label carries the unit (``医保基金（万元）``):
    万元 with ``digits`` decimals and no unit in Chinese (``"5.3"``); in English, whose label
    names no unit, :func:`money` (``"¥53.1k"``)."""
    if lang == "zh":
        return f"{float(yuan) / 1e4:,.{digits}f}"
    return money(yuan, lang)


def bracket(inner: str, lang: Lang) -> str:
    """An aside after a word: ``"（南京市）"`` in Chinese, ``" (Nanjing)"`` in English. An empty
    aside is nothing in English; Chinese keeps its empty brackets (``"（）"``), as the pages
    always drew them."""
    if lang == "zh":
        return f"（{inner}）"
    return f" ({inner})" if inner else ""


def list_join(items: list[str] | tuple[str, ...], lang: Lang) -> str:
    """Items of a list as the language lists them: ``"南京市、宁波市"``, ``"Nanjing, Ningbo"``."""
    return ("、" if lang == "zh" else ", ").join(items)
