"""The national code shapes the generator writes: levels, ICD extensions, TCM codes, departments.

These tables say what the files hold; :mod:`yibao.synth._export` decides which row gets which.

- Hospital levels (医院等级, HOSP_LV): the national codes ``01``-``11``, their full labels, and
  the short labels exports write when they drop the grade (甲乙丙): ``三级``, ``二级``, ``一级``,
  ``未定级``.
- ICD-10 医保版 2.0 extensions: a core code (``J06.900``) and the ``x###`` extensions an
  institution's coding may append (``J06.900x001``). The suffixes are in the national shape;
  which suffix names which sub-diagnosis is not modelled (the files carry no diagnosis name).
- TCM diagnoses (中医病证): disease codes (``A..``, 3 segments) and syndrome codes (``B..``, 4
  segments) in the shape of GB/T 15657-2021 (医保版中医诊断分类与代码). The codes here follow the
  standard's shape and class layout; they are illustrative, not copied from its table.
- Departments (科室): codes of the national 科室代码 (``A`` + the two-digit 诊疗科目 of
  《医疗机构诊疗科目名录》, ``.##`` for a speciality: ``A03.04`` 心血管内科专业) with the local
  names hospitals give their departments (血液透析室 is a ward of ``A03.06`` 肾病学专业).
"""

from __future__ import annotations

__all__ = [
    "DEPARTMENTS",
    "DEPARTMENT_OF_DIAGNOSIS",
    "HOSP_LV_LABELS",
    "HOSP_LV_SHORT",
    "ICD_EXTENSIONS",
    "ICD_PATTERN",
    "LEGACY_STAFF_PATTERN",
    "NATIONAL_STAFF_PATTERN",
    "STAFF_TYPES",
    "TCM_DIAGNOSES",
    "TCM_PATTERN",
]

HOSP_LV_LABELS: dict[str, str] = {
    "01": "三级特等", "02": "三级甲等", "03": "三级乙等", "04": "三级丙等",
    "05": "二级甲等", "06": "二级乙等", "07": "二级丙等",
    "08": "一级甲等", "09": "一级乙等", "10": "一级丙等", "11": "无等级",
}
"""National level code -> full label."""

HOSP_LV_SHORT: dict[str, str] = {
    "01": "三级", "02": "三级", "03": "三级", "04": "三级",
    "05": "二级", "06": "二级", "07": "二级",
    "08": "一级", "09": "一级", "10": "一级", "11": "未定级",
}
"""National level code -> the short label that loses the grade."""

STAFF_TYPES: dict[str, int] = {"D": 1, "Y": 2, "N": 3, "HY": 2, "HJ": 4}
"""Code prefix -> ``dr_type`` (1 医师, 2 药师/药学人员, 3 护士, 4 技术人员)."""

NATIONAL_STAFF_PATTERN = "(?:[DNY]|H[YJ])[0-9]{12}"
"""13-character D/N/Y codes and 14-character HY/HJ codes: prefix + 6-digit division + serial."""
LEGACY_STAFF_PATTERN = "[DY][0-9]{11}"
"""The older 12-character doctor and pharmacist codes."""
ICD_PATTERN = r"[A-Z][0-9]{2}(?:\.[0-9A-Za-z]{1,4})?(?:x[0-9]{3})?"
"""ICD-10 医保版 2.0: the core code and an optional ``x###`` extension."""
TCM_PATTERN = r"[AB][0-9]{2}(?:\.[0-9]{2}){2,3}"
"""GB/T 15657-2021 shape: disease ``A##.##.##``, syndrome ``B##.##.##.##``."""

ICD_EXTENSIONS: dict[str, tuple[str, ...]] = {
    "J06.900": ("x001", "x003"), "J02.900": ("x001",), "J20.900": ("x002",),
    "J18.900": ("x001", "x002"), "R50.900": ("x001",), "K29.700": ("x001", "x003"),
    "K52.900": ("x002",), "R10.400": ("x001",), "M54.500": ("x001", "x002"),
    "M17.900": ("x001",), "L30.900": ("x001",), "H10.900": ("x002",), "N39.000": ("x001",),
    "K02.900": ("x001",), "T14.000": ("x001",), "S61.000": ("x003",),
    "I10.x00": ("x002", "x003"), "E11.900": ("x001", "x002"), "E78.500": ("x001",),
    "I25.103": ("x001",), "J44.900": ("x001",), "J44.100": ("x001",), "I69.300": ("x001",),
    "I63.900": ("x001", "x002"), "I21.900": ("x001",), "I50.900": ("x002",),
    "B18.100": ("x001",), "M05.900": ("x001",), "F20.900": ("x001",),
    "C34.900": ("x001", "x003"), "N18.500": ("x001",), "N18.900": ("x001",),
    "M81.000": ("x001",), "K80.200": ("x001",), "K35.800": ("x002",), "S72.000": ("x001",),
    "M51.202": ("x001",), "M47.800": ("x001", "x004"), "N20.000": ("x001",),
    "M17.100": ("x001",), "H25.900": ("x001",), "C50.900": ("x001",), "C18.900": ("x001",),
    "Z51.100": ("x001", "x002"),
}
"""Core code -> the extensions institutions append (O80.000 and Z34.900 have none here)."""

TCM_DIAGNOSES: dict[str, tuple[tuple[str, str], tuple[tuple[str, str], ...]]] = {
    "J06.900": (("A01.01.01", "感冒病"), (("B01.01.01.01", "风寒束表证"),
                                          ("B01.01.02.01", "风热犯表证"))),
    "K29.700": (("A04.03.01", "胃脘痛"), (("B04.03.01.02", "脾胃虚弱证"),
                                          ("B04.03.02.01", "肝胃不和证"))),
    "I69.300": (("A04.01.07", "中风后遗症"), (("B06.02.03.01", "气虚血瘀证"),)),
    "M54.500": (("A07.06.03", "腰痛病"), (("B06.02.01.03", "气滞血瘀证"),
                                          ("B05.04.02.01", "肝肾亏虚证"))),
    "M47.800": (("A07.06.01", "项痹病"), (("B06.02.01.03", "气滞血瘀证"),
                                          ("B01.04.01.02", "风寒痹阻证"))),
    "M17.900": (("A07.06.05", "膝痹病"), (("B05.04.02.01", "肝肾亏虚证"),
                                          ("B01.04.01.02", "风寒痹阻证"))),
}
"""ICD core of a TCM visit -> (TCM disease code, name) and the syndromes (证候) coded with it."""

DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("A02", "全科医疗科"),
    ("A03", "内科"),
    ("A03.01", "呼吸内科"),
    ("A03.02", "消化内科"),
    ("A03.03", "神经内科"),
    ("A03.04", "心血管内科"),
    ("A03.06", "肾内科"),
    ("A03.06", "血液透析室"),
    ("A03.07", "内分泌科"),
    ("A03.08", "风湿免疫科"),
    ("A04", "外科"),
    ("A04.01", "普通外科"),
    ("A04.03", "骨科"),
    ("A04.04", "泌尿外科"),
    ("A05.02", "产科"),
    ("A07", "儿科"),
    ("A10", "眼科"),
    ("A12", "口腔科"),
    ("A13", "皮肤科"),
    ("A15", "精神科"),
    ("A16", "感染性疾病科"),
    ("A19", "肿瘤科"),
    ("A20", "急诊科"),
    ("A21", "康复医学科"),
    ("A50", "中医科"),
)
"""(national 科室代码, the department's local name); the position is the department's index."""

DEPARTMENT_OF_DIAGNOSIS: dict[str, str] = {
    "J06.900": "呼吸内科", "J02.900": "呼吸内科", "J20.900": "呼吸内科", "J18.900": "呼吸内科",
    "J44.900": "呼吸内科", "J44.100": "呼吸内科", "R50.900": "内科", "R10.400": "内科",
    "K29.700": "消化内科", "K52.900": "消化内科", "M54.500": "骨科", "M17.900": "骨科",
    "M17.100": "骨科", "M81.000": "骨科", "M47.800": "骨科", "M51.202": "骨科",
    "S72.000": "骨科", "L30.900": "皮肤科", "H10.900": "眼科", "H25.900": "眼科",
    "N39.000": "内科", "K02.900": "口腔科", "T14.000": "外科", "S61.000": "外科",
    "I10.x00": "心血管内科", "I25.103": "心血管内科", "I21.900": "心血管内科",
    "I50.900": "心血管内科", "E11.900": "内分泌科", "E78.500": "内分泌科",
    "I69.300": "神经内科", "I63.900": "神经内科", "B18.100": "感染性疾病科",
    "M05.900": "风湿免疫科", "F20.900": "精神科", "C34.900": "肿瘤科", "N18.500": "肾内科",
    "N18.900": "肾内科", "K80.200": "普通外科", "K35.800": "普通外科", "N20.000": "泌尿外科",
    "O80.000": "产科", "Z34.900": "产科", "C50.900": "肿瘤科", "C18.900": "肿瘤科",
    "Z51.100": "肿瘤科", "Z50.900": "康复医学科", "Z50.100": "康复医学科",
    "I69.400": "神经内科", "Z00.000": "全科医疗科", "Z00.001": "全科医疗科",
}
"""Diagnosis -> the department (by local name) a hospital with specialities sees it in."""
