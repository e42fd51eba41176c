"""Masking of personal data: names, ID numbers (证件号码) and phone numbers.

Rules (the same in the workbench, exports and briefings):

* a name keeps its first character (the surname): ``张三丰`` → ``张**`` (always two stars, so the
  length of the given name is not revealed);
* an ID number keeps its first 4 and last 4 characters: ``340102199001011234`` →
  ``3401**********1234``;
* a phone number keeps its first 3 and last 4 digits: ``13812345678`` → ``138****5678``.

Values too short to keep anything are masked completely. ``None`` stays ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Literal

import pandas as pd

__all__ = [
    "PERSONAL_COLUMNS",
    "REMOVED",
    "Personal",
    "mask_certno",
    "mask_frame",
    "mask_name",
    "mask_phone",
    "mask_value",
    "redact_text",
]


Personal = Literal["name", "certno", "phone"]
"""What a personal value is: a name, an ID number (证件号码) or a phone number."""


def mask_name(name: str | None) -> str | None:
    """``张三`` → ``张**``."""
    if name is None or pd.isna(name):
        return None
    text = str(name).strip()
    return f"{text[0]}**" if text else text


def mask_certno(certno: str | None) -> str | None:
    """``340102199001011234`` → ``3401**********1234`` (18 characters kept as 18)."""
    if certno is None or pd.isna(certno):
        return None
    text = str(certno).strip()
    if len(text) <= 8:
        return "*" * len(text)
    return text[:4] + "*" * (len(text) - 8) + text[-4:]


def mask_phone(phone: str | None) -> str | None:
    """``13812345678`` → ``138****5678``."""
    if phone is None or pd.isna(phone):
        return None
    text = str(phone).strip()
    if len(text) <= 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


#: Column names (national field names and the workbench's own) holding personal data, and
#: what each holds (``name``, ``certno`` or ``phone``): the insured person's name, ID number
#: and phone, the doctor's name (医师姓名) and the operator's (经办人姓名).
PERSONAL_COLUMNS: dict[str, Personal] = {
    "psn_name": "name",
    "name": "name",
    "certno": "certno",
    "tel": "phone",
    "dr_name": "name",
    "opter_name": "name",
}

_MASKERS: dict[Personal, Callable[[str | None], str | None]] = {
    "name": mask_name, "certno": mask_certno, "phone": mask_phone}


def mask_value(value: str | None, kind: Personal) -> str | None:
    """``value`` masked as what it is: a ``name``, an ID number (``certno``) or a ``phone``
    (:func:`mask_name`, :func:`mask_certno`, :func:`mask_phone`)."""
    return _MASKERS[kind](value)


def mask_frame(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A copy of ``frame`` with every personal column masked.

    ``columns`` names the columns to treat as personal (default: those of
    :data:`PERSONAL_COLUMNS` present in the frame).
    """
    out = frame.copy()
    names = [c for c in (columns or PERSONAL_COLUMNS) if c in out.columns]
    for col in names:
        masker = _MASKERS[PERSONAL_COLUMNS.get(col, "name")]
        out[col] = out[col].map(masker)
    return out


REMOVED = "***"
"""What a person number becomes in free text: nothing of it is kept."""

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
