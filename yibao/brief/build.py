"""A briefing from a store: facts, the page, then PDF and PNG (:func:`write_brief`)."""

from __future__ import annotations

import logging
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from yibao.brief.scope import Lang, Period, Region
from yibao.errors import BriefError
from yibao.settings import Settings

if TYPE_CHECKING:
    from yibao.brief.facts import BriefFacts
    from yibao.leads import LeadLedger

__all__ = ["BriefOutput", "open_brief_ledger", "write_brief"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BriefOutput:
    """What :func:`write_brief` wrote (``html`` only when kept), the facts shown and the
    seconds of each step (``facts``, ``page``, ``pdf``, ``png``, ``total``)."""

    pdf: Path
    png: Path
    html: Path | None
    facts: BriefFacts
    seconds: dict[str, float] = field(default_factory=dict)


def open_brief_ledger(settings: Settings) -> LeadLedger | None:
    """The leads ledger of ``settings``, or ``None`` when the embedded ledger file does not
    exist (a briefing reads; it never creates a ledger beside the store)."""
    from yibao.stores import open_ledger

    if settings.backend == "embedded" and not settings.leads_path.exists():
        log.info("no leads ledger at %s: lead figures are 0", settings.leads_path)
        return None
    return open_ledger(settings)


def write_brief(out: Path, *, settings: Settings, period: Period | None, region: Region,
                lang: Lang = "zh", keep_html: bool = False, made_on: date | None = None,
                ledger: LeadLedger | None = None, timeout: float | None = None) -> BriefOutput:
    """Write the one-page briefing on ``period`` (``None``: all the data) and ``region`` of
    the store ``settings.db`` to ``out`` (a ``.pdf``) and the same page as a PNG beside it
    (``out`` with ``.png``); with ``keep_html`` the page's HTML too (``.html``). Leads come
    from ``ledger``, else from the ledger of ``settings`` (:func:`open_brief_ledger`)."""
    from loaders.store import open_published
    from yibao.brief.facts import facts_from_store
    from yibao.brief.page import brief_html
    from yibao.brief.render import TIMEOUT_S, render_pdf_and_png

    if out.suffix.lower() != ".pdf":
        raise BriefError(f"--out {out} must name a .pdf file (the PNG is written beside it)")
    started = time.monotonic()
    seconds: dict[str, float] = {}
    own_ledger = ledger is None
    chosen = open_brief_ledger(settings) if ledger is None else ledger
    try:
        with open_published(settings.db, memory_limit=settings.memory_limit,
                            threads=settings.threads) as store:
            facts = facts_from_store(store.con, period=period, region=region, ledger=chosen,
                                     made_on=made_on)
    finally:
        if own_ledger and chosen is not None:
            chosen.close()
    seconds["facts"] = time.monotonic() - started
    t = time.monotonic()
    html_text = brief_html(facts, lang=lang)
    seconds["page"] = time.monotonic() - t
    png = out.with_suffix(".png")
    kept = out.with_suffix(".html") if keep_html else None
    with tempfile.TemporaryDirectory(prefix="yibao-brief-page-") as tmp:
        page = kept or Path(tmp) / "brief.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(html_text, encoding="utf-8")
        rendered = render_pdf_and_png(page, out, png, chromium=settings.chromium_binary,
                                      timeout=timeout or TIMEOUT_S)
    seconds["pdf"] = rendered.pdf_seconds
    seconds["png"] = rendered.png_seconds
    seconds["total"] = time.monotonic() - started
    log.info("briefing %s in %.2f s (%s)", out, seconds["total"], seconds)
    return BriefOutput(out, png, kept, facts, seconds)
