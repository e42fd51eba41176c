"""The leadership briefing (领导简报): one A4 page, PDF and PNG, personal data masked.

:func:`write_brief` reads a period and a region of the store and the leads ledger
(:mod:`yibao.brief.facts`), lays the figures out as HTML (:mod:`yibao.brief.page`: summary,
headline figures, hot-spot map, trend, top rings, statistics table) and prints it with the
machine's Chromium (:mod:`yibao.brief.render`). Periods and regions are parsed by
:mod:`yibao.brief.scope`. Importing this package imports neither DuckDB, pandas nor plotly.
"""

from __future__ import annotations

from yibao.brief.build import BriefOutput, open_brief_ledger, write_brief
from yibao.brief.scope import (
    DELTA,
    PERIOD_FORMS,
    Lang,
    Period,
    Region,
    parse_period,
    period_between,
    region_from_code,
)

__all__ = [
    "DELTA",
    "PERIOD_FORMS",
    "BriefOutput",
    "Lang",
    "Period",
    "Region",
    "open_brief_ledger",
    "parse_period",
    "period_between",
    "region_from_code",
    "write_brief",
]
