"""Personal data out of free text (an evidence sentence) before it goes on a briefing.

Briefings count persons and never list them (DOMAIN.md: typical cases are exposed with personal
data masked). Evidence sentences written by detection may quote a person number
(``参保人 34120000001553220213 …``); this removes those and masks anything that looks like an ID
number or a mobile number, and the full names of the persons concerned, with the rules of
:mod:`yibao.masking`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from yibao.masking import mask_certno, mask_name, mask_phone

__all__ = ["REMOVED", "redact_text"]

REMOVED = "***"
"""What a person number becomes: nothing of it is kept."""

_CERTNO = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def redact_text(text: str, *, person_codes: Iterable[str] = (),
                names: Iterable[str] = ()) -> str:
    """``text`` with every person number of ``person_codes`` removed (:data:`REMOVED`), every
    name of ``names`` masked (``张三丰`` → ``张**``), and any 18-character ID number or
    11-digit mobile number masked (``3401**********1234``, ``138****5678``).

    Longer codes are replaced first, so a code inside another is never half replaced; names
    shorter than two characters are ignored (a single character is no name to find).
    """
    out = text
    for code in sorted({c for c in person_codes if c}, key=len, reverse=True):
        out = out.replace(code, REMOVED)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2},
                       key=len, reverse=True):
        out = out.replace(name, mask_name(name) or REMOVED)
    out = _CERTNO.sub(lambda m: mask_certno(m[0]) or REMOVED, out)
    return _PHONE.sub(lambda m: mask_phone(m[0]) or REMOVED, out)
