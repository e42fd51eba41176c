"""Which shapes of the national formats the generator writes (导出格式).

Real exports are not all alike: practitioner codes have 13 or 14 characters (``D341202000123``,
``HY341202000012``) beside older 12-character ones, hospital levels come as codes (``02``), full
labels (``三级甲等``) or short ones (``三级``), diagnoses carry ICD-10 医保版 2.0 extensions
(``J06.900x001``) and TCM codes, and settlements name their operator (经办人) and department
(科室). :class:`ExportFormats` switches each variant on or off, so a test can run on exactly the
shapes it is about; everything else (persons, settlements, amounts, scenarios) stays the same.

Examples
--------
>>> ExportFormats().spec  # every real shape, the default
'real'
>>> ExportFormats.legacy().spec
'legacy'
>>> ExportFormats.parse("legacy,staff_codes=national").staff_codes
'national'
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, Literal

from yibao.errors import SynthError

__all__ = ["ExportFormats"]

StaffCodes = Literal["national", "legacy"]
HospLevels = Literal["mixed", "codes"]

_CHOICES: dict[str, tuple[str, ...]] = {
    "staff_codes": ("national", "legacy"),
    "hosp_lv": ("mixed", "codes"),
}
_TRUE = ("yes", "true", "on", "1")
_FALSE = ("no", "false", "off", "0")


@dataclass(frozen=True)
class ExportFormats:
    """The shapes of the written files; the default is every real shape.

    Parameters
    ----------
    staff_codes : {"national", "legacy"}
        ``national``: 医保医师/护士/药师代码 as ``D``/``N``/``Y`` + 6-digit division + 6-digit
        serial (13 characters), pharmacy and technical staff as ``HY``/``HJ`` + 6 + 6 (14
        characters), about 7 % of doctors and pharmacists still with their older 12-character
        code (``D``/``Y`` + 11 digits); nurses, technicians and pharmacy staff join the
        practitioners file. ``legacy``: doctors and pharmacists only, all with 12-character
        codes.
    hosp_lv : {"mixed", "codes"}
        ``mixed``: each institution's level as the national code (``02``), the full label
        (``三级甲等``) or the short label (``三级``, ``二级``, ``一级``, ``未定级``), chosen per
        institution; pharmacies empty, ``11`` or ``无等级``. ``codes``: codes only, pharmacies
        empty.
    icd_extensions : bool
        Diagnoses with the ICD-10 医保版 2.0 extension after the core code (``J06.900x001``) where
        the institution's coding uses one.
    tcm_codes : bool
        TCM diagnosis codes (GB/T 15657-2021 shape, ``A07.06.03``) at some TCM visits (中医特色治疗,
        ``med_type`` 16).
    operators : bool
        The settlement columns ``opter_id``, ``opter_name`` (经办人) and ``dept_codg``,
        ``dept_name`` (科室), and each ring's operator in ``truth.json``.
    """

    staff_codes: StaffCodes = "national"
    hosp_lv: HospLevels = "mixed"
    icd_extensions: bool = True
    tcm_codes: bool = True
    operators: bool = True

    def __post_init__(self) -> None:
        problems = []
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                problems.append(f"{name}={value!r} (choose {' or '.join(allowed)})")
        for f in fields(self):
            if f.name not in _CHOICES and not isinstance(getattr(self, f.name), bool):
                problems.append(f"{f.name}={getattr(self, f.name)!r} (choose True or False)")
        if problems:
            raise SynthError("unknown export format " + "; ".join(problems))

    @classmethod
    def real(cls) -> ExportFormats:
        """Every real shape (the default)."""
        return cls()

    @classmethod
    def legacy(cls) -> ExportFormats:
        """The shapes the generator wrote before it followed the national formats: 12-character
        D/Y codes, hosp_lv codes only, core ICD codes, no operator or department columns."""
        return cls(staff_codes="legacy", hosp_lv="codes", icd_extensions=False, tcm_codes=False,
                   operators=False)

    @classmethod
    def parse(cls, text: str) -> ExportFormats:
        """Formats from the command-line syntax ``BASE[,NAME=VALUE...]``.

        ``BASE`` is ``real`` or ``legacy`` (default ``real``); each ``NAME=VALUE`` then changes
        one field: ``staff_codes=national|legacy``, ``hosp_lv=mixed|codes``, and
        ``icd_extensions``, ``tcm_codes``, ``operators`` as ``yes``/``no``.
        """
        parts = [p.strip() for p in str(text).split(",") if p.strip()]
        base = cls()
        if parts and "=" not in parts[0]:
            name = parts.pop(0).lower()
            if name not in ("real", "legacy"):
                raise SynthError(f"unknown export format {name!r}: start with 'real' or "
                                 "'legacy', then NAME=VALUE changes, e.g. "
                                 "'legacy,staff_codes=national'")
            base = cls.legacy() if name == "legacy" else cls()
        changes: dict[str, Any] = {}
        names = [f.name for f in fields(cls)]
        for part in parts:
            name, sep, value = (s.strip() for s in part.partition("="))
            if not sep or name not in names:
                raise SynthError(f"unknown export format setting {part!r}: use NAME=VALUE with "
                                 f"NAME one of {', '.join(names)}")
            if name in _CHOICES:
                changes[name] = value
            elif value.lower() in _TRUE:
                changes[name] = True
            elif value.lower() in _FALSE:
                changes[name] = False
            else:
                raise SynthError(f"export format setting {name}={value!r} must be yes or no")
        return replace(base, **changes)

    @property
    def spec(self) -> str:
        """The shortest :meth:`parse` text that gives these formats (``real``, ``legacy`` or a
        base with changes)."""
        best = ""
        for name, base in (("real", ExportFormats()), ("legacy", ExportFormats.legacy())):
            changes = [f"{f.name}={_text(getattr(self, f.name))}" for f in fields(self)
                       if getattr(self, f.name) != getattr(base, f.name)]
            text = ",".join([name, *changes])
            if not best or len(text) < len(best):
                best = text
        return best


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
