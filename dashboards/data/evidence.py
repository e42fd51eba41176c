"""Evidence sentences as a reader sees them: institutions cited by name.

Detection writes its evidence once, in Chinese and in English, and a rule's sentence names an
institution by its code (定点医药机构编号, ``P32011506774``) because the rule reads only the
settlements. A reader wants the name: in the English view every institution code of the store
that stands bare in a sentence becomes the institution's registered name; a code that already
follows its name (``益康大药房 (P33010904529)``) stays. Doctors and persons keep their codes:
their names are personal data, masked for some users.

The Chinese view shows the sentences as stored.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb

from dashboards.data.common import query_frame
from yibao.i18n import Lang

__all__ = ["cite_institutions", "evidence_in"]

_CODE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,2}\d{8,16}(?![A-Za-z0-9])")
"""Anything shaped like a code of the national platform; only those that are institution codes
of the store are replaced."""


def _names(con: duckdb.DuckDBPyConnection, codes: set[str]) -> dict[str, str]:
    if not codes:
        return {}
    frame = query_frame(con, """
        SELECT fixmedins_code, fixmedins_name FROM institutions
        WHERE list_contains($codes, fixmedins_code) AND fixmedins_name IS NOT NULL
          AND fixmedins_name <> ''""", {"codes": sorted(codes)})
    return dict(zip(frame["fixmedins_code"], frame["fixmedins_name"], strict=True))


def cite_institutions(con: duckdb.DuckDBPyConnection, sentences: Sequence[object]
                      ) -> list[object]:
    """``sentences`` with every bare institution code replaced by the institution's name
    (``settled at P32011506774`` → ``settled at 某某大药房``); a code right after its own name
    and a code the store has no name for stay as they are; anything not text (a missing
    sentence) stays as it is."""
    found = {m.group() for s in sentences if isinstance(s, str) for m in _CODE.finditer(s)}
    names = _names(con, found)
    if not names:
        return list(sentences)

    def cite(match: re.Match[str]) -> str:
        code = match.group()
        name = names.get(code)
        if name is None:
            return code
        before = match.string[:match.start()].rstrip(" (（")
        return code if before.endswith(name) else name

    return [_CODE.sub(cite, s) if isinstance(s, str) else s for s in sentences]


def evidence_in(con: duckdb.DuckDBPyConnection, sentences: Sequence[object], lang: Lang
                ) -> list[object]:
    """Evidence sentences of ``lang`` as the view shows them: English cites institutions by
    name (:func:`cite_institutions`); Chinese as stored."""
    return list(sentences) if lang == "zh" else cite_institutions(con, sentences)
