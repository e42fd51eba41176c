"""How the generated world is written under one :class:`~yibao.synth.formats.ExportFormats`.

The generator first makes the world and its settlements as numbers; this module decides the
shapes their descriptive codes take in the files: practitioner codes, hospital levels, diagnosis
codes (ICD extensions, TCM codes), departments and operators. Every choice is a hash of the seed
and the thing it is about (an institution, a practitioner, an institution's coding of a
diagnosis) or comes from streams of its own, so switching a format changes those columns and
nothing else: the same persons, settlements, amounts and scenarios.

Shares (of institutions, practitioners or rows, at default formats):

- practitioner codes: 7 % of doctors and pharmacists keep their 12-character code;
- hospital levels: 55 % code, 25 % full label, 20 % short label; pharmacies 65 % empty, 25 %
  ``11``, 10 % ``无等级``;
- diagnoses: an institution codes a diagnosis with an ICD extension with probability 0.4;
- TCM visits (``med_type`` 16): a TCM code for 90 % of a TCM hospital's (中医院) diagnoses and
  35 % of other institutions', a syndrome (证候) code for a quarter of those.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from yibao.synth import _catalog as cat
from yibao.synth import _code_tables as codes
from yibao.synth._batch import Batch
from yibao.synth._ids import hash_uniform, lpad_digits
from yibao.synth._operators import Operators, operator_of_rows, operators_for
from yibao.synth._planter import Plan
from yibao.synth.formats import ExportFormats
from yibao.synth.persons import Persons
from yibao.synth.population import (
    Category,
    Geography,
    Institutions,
    Practitioners,
    Staff,
    staff_for,
)

__all__ = ["DEPARTMENT_CODES", "DEPARTMENT_NAMES", "ExportView", "department_rows", "export_view"]

I64 = npt.NDArray[np.int64]
BOOL = npt.NDArray[np.bool_]

LEGACY_CODE_SHARE = 0.07
EXTENSION_SHARE = 0.4
TCM_SHARE = (0.35, 0.9)
"""Share of an institution's codings of a TCM visit's diagnosis that use a TCM code: ordinary
institutions, TCM hospitals."""
SYNDROME_SHARE = 0.25
_HOSP_LV_FORMS = (0.55, 0.80)
"""Cumulative shares of hospitals writing the code, the full label (the rest: short label)."""
_PHARMACY_LV_FORMS = (0.65, 0.90)
"""Cumulative shares of pharmacies writing nothing, ``11`` (the rest: ``无等级``)."""
_FINE_DEPARTMENT_SHARE = 0.5
"""Share of secondary hospitals whose departments are specialities (A03.04) rather than A03."""

_SALT_LEGACY, _SALT_LEVEL, _SALT_ICD, _SALT_ICD_PICK = 11, 12, 13, 14
_SALT_TCM, _SALT_SYNDROME, _SALT_TCM_PICK, _SALT_DEPT = 15, 16, 17, 18


@dataclass(frozen=True)
class ExportView:
    """The written shape of practitioners, levels, diagnoses, departments and operators."""

    formats: ExportFormats
    key: int
    """The seed's hash key for every per-thing choice."""
    prac_code: pa.StringArray
    """Code of each billing practitioner (doctor or pharmacist), as written."""
    staff: Staff | None
    staff_code: pa.StringArray | None
    hosp_lv: pa.StringArray
    dise_text: pa.StringArray
    """Every diagnosis text: core codes first (catalogue order), then their variants."""
    dise_choice: npt.NDArray[np.int32] | None
    """(institution, diagnosis) -> index into ``dise_text`` (None: core codes only)."""
    tcm_choice: npt.NDArray[np.int32] | None
    """The same for TCM visits (``med_type`` 16)."""
    fine_departments: BOOL
    operators: Operators | None
    ring_keys: I64
    """Sorted ``scenario * institutions + institution`` of the rings keyed by one operator."""
    n_inst: int

    def diagnosis_texts(self, b: Batch) -> pa.Array:
        """``dise_codg`` of each row (null without a diagnosis)."""
        index = b.dise.astype(np.int64)
        has = index >= 0
        if self.dise_choice is not None:
            safe = np.maximum(index, 0)
            pick = self.dise_choice[b.inst, safe]
            if self.tcm_choice is not None:
                pick = np.where(b.med_type == 16, self.tcm_choice[b.inst, safe], pick)
            index = np.where(has, pick, -1)
        return self.dise_text.take(pa.array(np.maximum(index, 0), mask=~has))

    def operator_rows(self, b: Batch, counter: I64) -> I64:
        """The operator (index) of each row."""
        assert self.operators is not None
        ring = np.zeros(len(b), dtype=bool)
        ring_key = np.zeros(len(b), dtype=np.int64)
        planted = np.flatnonzero(b.scen >= 0)
        if len(planted) and len(self.ring_keys):
            k = b.scen[planted] * self.n_inst + b.inst[planted]
            hit = np.isin(k, self.ring_keys)
            ring[planted[hit]] = True
            ring_key[planted[hit]] = k[hit]
        return operator_of_rows(self.operators, b.inst, b.time, counter, self.key, ring,
                                ring_key)

    def ring_operator(self, scen: int, inst: int) -> str:
        """``opter_id`` of the operator who keys scenario ``scen``'s rows at ``inst``."""
        assert self.operators is not None
        one = np.array([inst], dtype=np.int64)
        k = np.array([scen * self.n_inst + inst], dtype=np.int64)
        i = operator_of_rows(self.operators, one, np.zeros(1, dtype=np.int64), k, self.key,
                             np.ones(1, dtype=bool), k)
        return str(self.operators.opter_id[int(i[0])].as_py())


def export_view(formats: ExportFormats, key: int, geo: Geography, inst: Institutions,
                prac: Practitioners, plan: Plan, staff_rng: np.random.Generator,
                operator_rng: np.random.Generator) -> ExportView:
    """The view of the world for ``formats``; ``key`` and the two generators come from streams
    of their own, so other output does not depend on them."""
    national = formats.staff_codes == "national"
    staff = staff_for(inst, prac, geo, staff_rng) if national else None
    county_codes = np.array(geo.county_code)
    if national:
        prac_code = _national_codes(prac, county_codes[inst.county[prac.inst]], key)
        assert staff is not None
        staff_code = pc.binary_join_element_wise(
            pa.array(np.array(staff.prefix)[staff.kind]),
            pa.array(county_codes[inst.county[staff.inst]]), lpad_digits(staff.serial, 6), "")
    else:
        prac_code, staff_code = prac.code, None
    dise_text, dise_choice, tcm_choice = _diagnoses(formats, inst, key)
    ring_keys = sorted({s.index * len(inst) + i for s in plan.scenarios
                        for i in s.keyed_by_one})
    return ExportView(
        formats=formats, key=key, prac_code=prac_code, staff=staff, staff_code=staff_code,
        hosp_lv=_levels(formats, inst, key),
        dise_text=dise_text, dise_choice=dise_choice, tcm_choice=tcm_choice,
        fine_departments=(inst.category <= Category.TERTIARY_B) | (
            (inst.category == Category.SECONDARY)
            & (_uniform(key, _SALT_DEPT, len(inst)) < _FINE_DEPARTMENT_SHARE)),
        operators=operators_for(inst, prac, operator_rng) if formats.operators else None,
        ring_keys=np.array(ring_keys, dtype=np.int64), n_inst=len(inst),
    )


def _uniform(key: int, salt: int, n: int) -> npt.NDArray[np.float64]:
    return hash_uniform(key, salt, np.arange(n, dtype=np.int64))


def _national_codes(prac: Practitioners, county: npt.NDArray[np.str_], key: int
                    ) -> pa.StringArray:
    """13-character codes (letter + division + 6-digit serial), some kept at 12 characters."""
    letter = np.where(prac.dr_type == 1, "D", "Y")
    national = pc.binary_join_element_wise(pa.array(letter), pa.array(county),
                                           lpad_digits(prac.serial, 6), "")
    legacy = _uniform(key, _SALT_LEGACY, len(prac)) < LEGACY_CODE_SHARE
    out: pa.StringArray = pc.if_else(pa.array(legacy), prac.code, national)
    return out


def _levels(formats: ExportFormats, inst: Institutions, key: int) -> pa.StringArray:
    if formats.hosp_lv == "codes":
        return inst.hosp_lv
    u = _uniform(key, _SALT_LEVEL, len(inst))
    out: list[str | None] = []
    for code, x in zip(inst.hosp_lv.to_pylist(), u.tolist(), strict=True):
        if code is None:  # a pharmacy
            out.append(None if x < _PHARMACY_LV_FORMS[0] else
                       "11" if x < _PHARMACY_LV_FORMS[1] else codes.HOSP_LV_LABELS["11"])
        else:
            out.append(code if x < _HOSP_LV_FORMS[0] else
                       codes.HOSP_LV_LABELS[code] if x < _HOSP_LV_FORMS[1] else
                       codes.HOSP_LV_SHORT[code])
    return pa.array(out, type=pa.string())


def _diagnoses(formats: ExportFormats, inst: Institutions, key: int
               ) -> tuple[pa.StringArray, npt.NDArray[np.int32] | None,
                          npt.NDArray[np.int32] | None]:
    """The diagnosis texts and, per (institution, diagnosis), the one the institution writes."""
    core = [d.code for d in cat.DIAGNOSES]
    texts = list(core)
    if not (formats.icd_extensions or formats.tcm_codes):
        return pa.array(texts, type=pa.string()), None, None
    n_inst, n_dise = len(inst), len(core)
    pair = (np.arange(n_inst, dtype=np.int64)[:, None] * 64
            + np.arange(n_dise, dtype=np.int64)[None, :]).reshape(-1)
    base = np.broadcast_to(np.arange(n_dise, dtype=np.int32), (n_inst, n_dise))
    choice = np.array(base, dtype=np.int32)
    if formats.icd_extensions:
        start = np.zeros(n_dise, dtype=np.int32)
        count = np.zeros(n_dise, dtype=np.int32)
        for d, code in enumerate(core):
            ext = codes.ICD_EXTENSIONS.get(code, ())
            start[d], count[d] = len(texts), len(ext)
            texts.extend(code + e for e in ext)
        u = hash_uniform(key, _SALT_ICD, pair).reshape(n_inst, n_dise)
        v = hash_uniform(key, _SALT_ICD_PICK, pair).reshape(n_inst, n_dise)
        pick = start[None, :] + np.minimum((v * count[None, :]).astype(np.int32),
                                           np.maximum(count - 1, 0)[None, :])
        choice = np.where((u < EXTENSION_SHARE) & (count[None, :] > 0), pick, choice)
    tcm = None
    if formats.tcm_codes:
        tcm = np.array(choice, dtype=np.int32)
        tcm_hospital = np.array(["中医" in str(n) for n in inst.name.to_pylist()])
        share = np.where(tcm_hospital, TCM_SHARE[1], TCM_SHARE[0])
        inst_key = np.arange(n_inst, dtype=np.int64) * 64
        for d, code in enumerate(core):
            if code not in codes.TCM_DIAGNOSES:
                continue
            (disease, _), syndromes = codes.TCM_DIAGNOSES[code]
            first = len(texts)
            texts.append(disease)
            texts.extend(c for c, _ in syndromes)
            u, s, w = (hash_uniform(key, salt, inst_key + d)
                       for salt in (_SALT_TCM, _SALT_SYNDROME, _SALT_TCM_PICK))
            which = np.minimum((w * len(syndromes)).astype(np.int32), len(syndromes) - 1)
            coded = np.where(s < SYNDROME_SHARE, first + 1 + which, first)
            tcm[:, d] = np.where(u < share, coded, tcm[:, d])
    return pa.array(texts, type=pa.string()), choice, tcm


# -- departments -------------------------------------------------------------------------------
_DEPT_INDEX = {name: i for i, (_, name) in enumerate(codes.DEPARTMENTS)}
_DEPT_CODE = np.array([c for c, _ in codes.DEPARTMENTS])
_FINE_OF_DIAGNOSIS = np.array([_DEPT_INDEX[codes.DEPARTMENT_OF_DIAGNOSIS[d.code]]
                               for d in cat.DIAGNOSES], dtype=np.int64)
_COARSE = np.array([
    _DEPT_INDEX["内科"] if c.startswith("A03") else _DEPT_INDEX["外科"] if c.startswith("A04")
    else i for i, c in enumerate(_DEPT_CODE)], dtype=np.int64)
"""A speciality's parent (A03.04 -> A03) for hospitals without specialities."""
_INTERNAL = np.array([c.startswith("A03") for c in _DEPT_CODE])
_PRIMARY_CARE = (Category.PRIMARY_HOSPITAL, Category.COMMUNITY, Category.VILLAGE)


def department_rows(view: ExportView, b: Batch, inst: Institutions, persons: Persons) -> I64:
    """Department (index into :data:`~yibao.synth._code_tables.DEPARTMENTS`) of each row, -1 at
    pharmacies: the diagnosis's speciality (or its parent at hospitals without specialities),
    general practice at primary care outpatients, and the service's own department for
    emergencies, TCM, maternity, dialysis sessions and rehabilitation courses."""
    d = _DEPT_INDEX
    category = inst.category[b.inst]
    has = b.dise >= 0
    dept = np.where(has, _FINE_OF_DIAGNOSIS[np.maximum(b.dise, 0)], d["内科"])
    primary = np.isin(category, _PRIMARY_CARE)
    fine = view.fine_departments[b.inst] & ~primary
    dept = np.where(fine, dept, _COARSE[dept])
    stay = np.isin(b.med_type, (21, 52, 28))
    dept = np.where(primary & ~stay, d["全科医疗科"], dept)
    child = persons.age[b.person] < 15
    dept = np.where(child & ~primary & _INTERNAL[dept], d["儿科"], dept)
    dept = np.where((b.med_type == 13) & ~primary, d["急诊科"], dept)
    dept = np.where(b.med_type == 16, d["中医科"], dept)
    dept = np.where(np.isin(b.med_type, (51, 52)), d["产科"], dept)
    idx = cat.item_index()
    lines = b.lines
    for item, name in (("dialysis", "血液透析室"), ("rehab_exercise", "康复医学科")):
        flag = np.zeros(len(b), dtype=bool)
        flag[lines.row[lines.item == idx[item]]] = True
        dept = np.where(flag, d[name], dept)
    out: I64 = np.where(category == Category.PHARMACY, -1, dept).astype(np.int64)
    return out


DEPARTMENT_CODES = pa.array(_DEPT_CODE.tolist(), type=pa.string())
DEPARTMENT_NAMES = pa.array([n for _, n in codes.DEPARTMENTS], type=pa.string())
