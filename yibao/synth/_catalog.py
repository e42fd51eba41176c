"""Static vocabulary of the synthetic Yangtze Delta: names, drugs, services, diagnoses.

Prices are in fen (分, 0.01 yuan). Drug prices are plausible 2024 list or volume-procurement
(集采) prices; service prices are base prices that hospitals of higher level charge more for.
Codes imitate the national catalogue styles (医保药品分类与代码, 医疗服务项目, 医用耗材) but are
invented; diagnoses use ICD-10 医保版 style codes. Institution names are built from generic
words (人民医院, 康济大药房) and do not refer to real institutions.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from functools import cache

__all__ = [
    "BIG_CITIES",
    "CITY_POPULATION_10K",
    "DIAGNOSES",
    "DRUG_GROUPS",
    "EXAM_GROUPS",
    "ITEMS",
    "Diagnosis",
    "Item",
    "ItemKind",
    "diagnosis_index",
    "item_index",
]


class ItemKind(IntEnum):
    """What a fee line bills: a drug (one traceability code per box), a service, a consumable."""

    DRUG = 0
    SERVICE = 1
    MATERIAL = 2


@dataclass(frozen=True)
class Item:
    """One entry of the 医保目录: ``price_fen`` per box (drugs) or per unit (services)."""

    key: str
    code: str
    name: str
    kind: ItemKind
    price_fen: int
    pack: int = 1
    """Units (tablets, capsules, sachets) per box: split-pack sales (拆零) sell these."""
    pharmacy: bool = True
    """Sold by retail pharmacies (otherwise hospital use only)."""
    high_value: bool = False
    level_priced: bool = False
    """Services whose price rises with the hospital level."""
    product: int = 0
    """Seven-digit product-and-package prefix of the drug's traceability codes."""


# key, name, ATC-like class (or "" for Chinese patent medicine), price yuan, pack, flags
# flags: H = hospital only, V = high value (a target of card pooling and resale)
_DRUGS: tuple[tuple[str, str, str, float, int, str], ...] = (
    ("cold_tab", "复方氨酚烷胺片", "N02BE", 11.80, 12, ""),
    ("ibuprofen", "布洛芬缓释胶囊", "M01AE", 16.50, 20, ""),
    ("lianhua", "连花清瘟胶囊", "", 14.80, 24, ""),
    ("ganmaoling", "感冒灵颗粒", "", 12.50, 9, ""),
    ("ambroxol", "盐酸氨溴索口服溶液", "R05CB", 22.00, 1, ""),
    ("amoxicillin", "阿莫西林胶囊", "J01CA", 9.60, 24, ""),
    ("cefixime", "头孢克肟分散片", "J01DD", 24.80, 6, ""),
    ("pudilan", "蒲地蓝消炎片", "", 28.00, 48, ""),
    ("kids_paracetamol", "对乙酰氨基酚混悬滴剂", "N02BE", 19.80, 1, ""),
    ("kids_cold", "小儿氨酚黄那敏颗粒", "R05XA", 15.60, 10, ""),
    ("amox_clav", "阿莫西林克拉维酸钾片", "J01CR", 28.50, 12, ""),
    ("cefuroxime", "头孢呋辛酯片", "J01DC", 32.00, 12, ""),
    ("azithromycin", "阿奇霉素片", "J01FA", 18.90, 6, ""),
    ("montelukast", "孟鲁司特钠片", "R03DC", 26.40, 5, ""),
    ("omeprazole", "奥美拉唑肠溶胶囊", "A02BC", 9.80, 14, ""),
    ("rabeprazole", "雷贝拉唑钠肠溶片", "A02BC", 21.50, 14, ""),
    ("hydrotalcite", "铝碳酸镁咀嚼片", "A02AD", 24.00, 20, ""),
    ("smectite", "蒙脱石散", "A07BC", 12.60, 10, ""),
    ("probiotic", "枯草杆菌二联活菌肠溶胶囊", "A07FA", 29.80, 20, ""),
    ("celecoxib", "塞来昔布胶囊", "M01AH", 23.50, 6, ""),
    ("loxoprofen", "洛索洛芬钠片", "M01AE", 15.80, 20, ""),
    ("diclofenac_gel", "双氯芬酸二乙胺乳胶剂", "M02AA", 25.80, 1, ""),
    ("glucosamine", "硫酸氨基葡萄糖胶囊", "M01AX", 68.00, 60, ""),
    ("mometasone", "糠酸莫米松乳膏", "D07AC", 19.50, 1, ""),
    ("loratadine", "氯雷他定片", "R06AX", 16.80, 6, ""),
    ("levo_eye", "左氧氟沙星滴眼液", "S01AE", 18.60, 1, ""),
    ("levofloxacin", "左氧氟沙星片", "J01MA", 14.50, 4, ""),
    ("sanjin", "三金片", "", 32.00, 54, ""),
    ("amlodipine", "苯磺酸氨氯地平片", "C08CA", 16.80, 28, ""),
    ("valsartan", "缬沙坦胶囊", "C09CA", 22.40, 28, ""),
    ("nifedipine", "硝苯地平控释片", "C08CA", 27.50, 7, ""),
    ("irbesartan", "厄贝沙坦片", "C09CA", 19.60, 28, ""),
    ("metoprolol", "琥珀酸美托洛尔缓释片", "C07AB", 21.80, 7, ""),
    ("sacubitril", "沙库巴曲缬沙坦钠片", "C09DX", 93.60, 14, "V"),
    ("metformin", "盐酸二甲双胍片", "A10BA", 9.90, 60, ""),
    ("acarbose", "阿卡波糖片", "A10BF", 29.80, 30, ""),
    ("glimepiride", "格列美脲片", "A10BB", 18.50, 30, ""),
    ("dapagliflozin", "达格列净片", "A10BK", 58.80, 14, ""),
    ("sitagliptin", "磷酸西格列汀片", "A10BH", 36.00, 14, ""),
    ("glargine", "甘精胰岛素注射液", "A10AE", 72.00, 1, "V"),
    ("aspart30", "门冬胰岛素30注射液", "A10AD", 56.00, 1, ""),
    ("semaglutide", "司美格鲁肽注射液", "A10BJ", 638.00, 1, "V"),
    ("atorvastatin", "阿托伐他汀钙片", "C10AA", 6.30, 7, ""),
    ("rosuvastatin", "瑞舒伐他汀钙片", "C10AA", 12.80, 28, ""),
    ("aspirin", "阿司匹林肠溶片", "B01AC", 14.90, 30, ""),
    ("clopidogrel", "硫酸氢氯吡格雷片", "B01AC", 26.60, 28, ""),
    ("ticagrelor", "替格瑞洛片", "B01AC", 48.00, 14, ""),
    ("isosorbide", "单硝酸异山梨酯缓释片", "C01DA", 23.20, 24, ""),
    ("shexiang", "麝香保心丸", "", 46.80, 42, ""),
    ("danshen", "复方丹参滴丸", "", 32.60, 180, ""),
    ("seretide", "沙美特罗替卡松吸入粉雾剂", "R03AK", 186.00, 1, ""),
    ("tiotropium", "噻托溴铵吸入粉雾剂", "R03BB", 152.00, 30, ""),
    ("budesonide", "布地奈德福莫特罗吸入粉雾剂", "R03AK", 168.00, 1, ""),
    ("theophylline", "茶碱缓释片", "R03DA", 9.50, 24, ""),
    ("naoxintong", "脑心通胶囊", "", 52.00, 48, ""),
    ("ginkgo", "银杏叶提取物片", "N06DX", 38.50, 20, ""),
    ("angong", "安宫牛黄丸", "", 468.00, 1, "V"),
    ("epo", "重组人促红素注射液", "B03XA", 32.50, 1, "H"),
    ("heparin", "肝素钠注射液", "B01AB", 11.60, 1, "H"),
    ("sevelamer", "碳酸司维拉姆片", "V03AE", 96.00, 36, ""),
    ("calcitriol", "骨化三醇软胶囊", "A11CC", 18.90, 10, ""),
    ("osimertinib", "甲磺酸奥希替尼片", "L01EB", 4980.00, 30, "V"),
    ("gefitinib", "吉非替尼片", "L01EB", 54.00, 10, ""),
    ("entecavir", "恩替卡韦分散片", "J05AF", 14.60, 28, ""),
    ("tenofovir", "富马酸丙酚替诺福韦片", "J05AF", 26.80, 30, ""),
    ("methotrexate", "甲氨蝶呤片", "L04AX", 12.50, 16, ""),
    ("adalimumab", "阿达木单抗注射液", "L04AB", 1150.00, 1, "V"),
    ("leflunomide", "来氟米特片", "L04AA", 28.40, 30, ""),
    ("olanzapine", "奥氮平片", "N05AH", 36.20, 28, ""),
    ("risperidone", "利培酮片", "N05AX", 12.40, 20, ""),
    ("alendronate", "阿仑膦酸钠片", "M05BA", 22.60, 4, ""),
    ("saline", "0.9%氯化钠注射液", "B05XA", 3.20, 1, "H"),
    ("glucose_inj", "5%葡萄糖注射液", "B05BA", 3.40, 1, "H"),
    ("ceftriaxone", "注射用头孢曲松钠", "J01DD", 6.80, 1, "H"),
    ("cefuroxime_inj", "注射用头孢呋辛钠", "J01DC", 9.20, 1, "H"),
    ("omeprazole_inj", "注射用奥美拉唑钠", "A02BC", 12.40, 1, "H"),
    ("enoxaparin", "依诺肝素钠注射液", "B01AB", 26.50, 1, "H"),
    ("xueshuantong", "注射用血栓通(冻干)", "", 38.60, 1, "H"),
    ("albumin", "人血白蛋白", "B05AA", 385.00, 1, "V"),
    ("aescinate", "注射用七叶皂苷钠", "C05CX", 24.80, 1, "H"),
    ("kcl", "氯化钾注射液", "B05XA", 1.20, 1, "H"),
    ("oxytocin", "缩宫素注射液", "H01BB", 4.60, 1, "H"),
    # chemotherapy (化疗) and its supportive drugs: hospital only, planted by chemo_cycles
    ("paclitaxel", "注射用紫杉醇(白蛋白结合型)", "L01CD", 745.00, 1, "H"),
    ("docetaxel", "多西他赛注射液", "L01CD", 186.00, 1, "H"),
    ("carboplatin", "卡铂注射液", "L01XA", 64.50, 1, "H"),
    ("oxaliplatin", "注射用奥沙利铂", "L01XA", 118.00, 1, "H"),
    ("pemetrexed", "注射用培美曲塞二钠", "L01BA", 276.00, 1, "H"),
    ("trastuzumab", "注射用曲妥珠单抗", "L01FD", 1680.00, 1, "H"),
    ("fluorouracil", "氟尿嘧啶注射液", "L01BC", 8.60, 1, "H"),
    ("ondansetron", "盐酸昂丹司琼注射液", "A04AA", 14.80, 1, "H"),
    ("dexamethasone_inj", "地塞米松磷酸钠注射液", "H02AB", 1.40, 1, "H"),
)

# key, name, code, price yuan, level priced
_SERVICES: tuple[tuple[str, str, str, float, bool], ...] = (
    ("consult", "普通门诊诊查费", "110200001", 10.00, True),
    ("consult_er", "急诊诊查费", "110200005", 15.00, True),
    ("bed", "床位费(普通病房)", "110900001", 60.00, True),
    ("ward_rounds", "住院诊查费", "110300001", 20.00, True),
    ("nursing", "二级护理", "120100003", 25.00, True),
    ("oxygen", "氧气吸入", "120800001", 48.00, False),
    ("monitor", "心电监测", "310701022", 144.00, False),
    ("infusion", "静脉输液", "120400006", 8.00, True),
    ("wound", "清创缝合术(小)", "120600001", 80.00, True),
    ("cbc", "血细胞分析(五分类)", "250101015", 20.00, False),
    ("urine", "尿液分析", "250102035", 8.00, False),
    ("glucose_test", "葡萄糖测定", "250302001", 6.00, False),
    ("hba1c", "糖化血红蛋白测定", "250302005", 55.00, False),
    ("lipids", "血脂四项", "250303001", 40.00, False),
    ("liver", "肝功能检查", "250305001", 58.00, False),
    ("renal", "肾功能检查", "250307001", 30.00, False),
    ("crp", "C反应蛋白测定", "250403025", 25.00, False),
    ("xray", "数字化摄影(DR)", "210102015", 80.00, True),
    ("ct", "X线计算机体层(CT)平扫", "210300001", 220.00, True),
    ("mri", "磁共振平扫", "210200001", 520.00, True),
    ("ultrasound", "彩色多普勒超声检查", "220600001", 150.00, True),
    ("ecg", "常规心电图检查", "310701001", 25.00, False),
    ("gastroscopy", "电子胃镜检查", "310902002", 280.00, True),
    ("dental", "龋齿充填术", "310513001", 60.00, True),
    ("acupuncture", "普通针刺", "430000001", 30.00, True),
    ("tuina", "推拿治疗", "440000001", 45.00, True),
    ("rehab_exercise", "运动疗法", "340200008", 60.00, True),
    ("rehab_emp", "中频脉冲电治疗", "340100016", 28.00, True),
    ("physio", "红外线治疗", "340100003", 15.00, True),
    ("dialysis", "血液透析", "311201001", 420.00, False),
    ("appendectomy", "阑尾切除术", "331003001", 1450.00, True),
    ("cholecystectomy", "腹腔镜下胆囊切除术", "331005016", 2600.00, True),
    ("cataract", "白内障超声乳化摘除术+人工晶体植入术", "330702011", 2100.00, True),
    ("knee_replacement", "人工全膝关节置换术", "331507014", 4800.00, True),
    ("pci", "经皮冠状动脉内支架置入术", "310903005", 3800.00, True),
    ("hip_replacement", "人工股骨头置换术", "331506006", 4200.00, True),
    ("delivery", "单胎顺产接生", "331300001", 950.00, True),
    ("lithotripsy", "体外冲击波碎石", "310702001", 900.00, True),
)

# key, name, price yuan
_MATERIALS: tuple[tuple[str, str, float], ...] = (
    ("infusion_set", "一次性使用输液器", 3.50),
    ("dialyzer", "透析器", 118.00),
    ("dialysis_line", "血液透析管路", 45.00),
    ("iol", "人工晶状体", 1250.00),
    ("stent", "冠脉药物洗脱支架", 650.00),
    ("knee_prosthesis", "人工膝关节假体", 5600.00),
    ("hip_prosthesis", "人工股骨头假体", 4500.00),
    ("clip", "一次性使用施夹", 160.00),
)


def _drug_code(i: int, atc: str) -> str:
    if atc:
        return f"X{atc}A{i:03d}A0010101{(i * 37) % 1000:03d}{i:02d}"
    return f"ZA{(i % 9) + 1:02d}AAL{i:04d}010{(i * 53) % 1000:03d}{i:02d}"


def _build_items() -> tuple[Item, ...]:
    items: list[Item] = []
    for i, (key, name, atc, price, pack, flags) in enumerate(_DRUGS):
        items.append(
            Item(
                key=key,
                code=_drug_code(i, atc),
                name=name,
                kind=ItemKind.DRUG,
                price_fen=round(price * 100),
                pack=pack,
                pharmacy="H" not in flags,
                high_value="V" in flags,
                product=8_000_000 + (i * 104_729 + 12_345) % 999_983,
            )
        )
    for key, name, code, price, level_priced in _SERVICES:
        items.append(
            Item(key, code, name, ItemKind.SERVICE, round(price * 100), pharmacy=False,
                 level_priced=level_priced)
        )
    for j, (key, name, price) in enumerate(_MATERIALS):
        code = f"C{1401020360 + j * 7919:010d}{(j * 104_729) % 10**9:09d}"
        items.append(Item(key, code, name, ItemKind.MATERIAL, round(price * 100), pharmacy=False))
    return tuple(items)


ITEMS: tuple[Item, ...] = _build_items()
"""Every drug, service and consumable; the position is the item's index in the generator."""


@cache
def item_index() -> dict[str, int]:
    """Item key -> position in :data:`ITEMS`."""
    return {item.key: i for i, item in enumerate(ITEMS)}


DRUG_GROUPS: dict[str, tuple[tuple[str, float], ...]] = {
    "uri": (("cold_tab", 5), ("ibuprofen", 4), ("lianhua", 4), ("ganmaoling", 4),
            ("ambroxol", 2), ("amoxicillin", 3), ("cefixime", 2), ("pudilan", 2)),
    "uri_kids": (("kids_paracetamol", 5), ("kids_cold", 5), ("amoxicillin", 2),
                 ("ambroxol", 2), ("montelukast", 1)),
    "bronch": (("amox_clav", 3), ("cefuroxime", 3), ("azithromycin", 3), ("ambroxol", 3),
               ("montelukast", 1), ("lianhua", 1)),
    "gi": (("omeprazole", 4), ("rabeprazole", 2), ("hydrotalcite", 3), ("smectite", 3),
           ("probiotic", 2)),
    "msk": (("celecoxib", 3), ("loxoprofen", 3), ("diclofenac_gel", 3), ("glucosamine", 2)),
    "derm": (("mometasone", 3), ("loratadine", 2)),
    "eye": (("levo_eye", 3),),
    "uti": (("levofloxacin", 3), ("sanjin", 2)),
    "htn": (("amlodipine", 5), ("valsartan", 3), ("nifedipine", 3), ("irbesartan", 3),
            ("metoprolol", 2), ("sacubitril", 0.4)),
    "hf": (("sacubitril", 3), ("metoprolol", 3), ("aspirin", 1)),
    "dm": (("metformin", 5), ("acarbose", 3), ("glimepiride", 2), ("dapagliflozin", 2),
           ("sitagliptin", 2), ("glargine", 1.5), ("aspart30", 1), ("semaglutide", 0.3)),
    "lipid": (("atorvastatin", 4), ("rosuvastatin", 3)),
    "chd": (("aspirin", 4), ("clopidogrel", 2), ("ticagrelor", 1), ("isosorbide", 2),
            ("atorvastatin", 3), ("shexiang", 1.5), ("danshen", 1.5)),
    "copd": (("seretide", 3), ("tiotropium", 2), ("budesonide", 2), ("theophylline", 2)),
    "stroke": (("aspirin", 4), ("atorvastatin", 3), ("naoxintong", 2), ("ginkgo", 2),
               ("angong", 0.15)),
    "hbv": (("entecavir", 3), ("tenofovir", 3)),
    "ra": (("methotrexate", 3), ("leflunomide", 2), ("adalimumab", 0.4)),
    "psy": (("olanzapine", 3), ("risperidone", 3)),
    "onco": (("gefitinib", 2), ("osimertinib", 0.5), ("albumin", 0.5)),
    "ckd": (("calcitriol", 2), ("sevelamer", 2)),
    "osteo": (("calcitriol", 2), ("alendronate", 2)),
    "ob": (("oxytocin", 1),),
    "inpatient": (("saline", 6), ("glucose_inj", 3), ("ceftriaxone", 2), ("cefuroxime_inj", 2),
                  ("omeprazole_inj", 2), ("enoxaparin", 1), ("xueshuantong", 1),
                  ("aescinate", 0.6), ("kcl", 1), ("albumin", 0.25)),
}
"""Drugs prescribed for a group of diagnoses, with relative weights."""

EXAM_GROUPS: dict[str, tuple[tuple[str, float], ...]] = {
    "resp": (("cbc", 0.55), ("crp", 0.4), ("xray", 0.2)),
    "gi": (("cbc", 0.3), ("ultrasound", 0.2), ("gastroscopy", 0.05)),
    "msk": (("xray", 0.35), ("mri", 0.05), ("physio", 0.3)),
    "metab": (("glucose_test", 0.5), ("hba1c", 0.3), ("lipids", 0.3), ("liver", 0.15),
              ("renal", 0.2)),
    "cardio": (("ecg", 0.6), ("lipids", 0.35), ("ultrasound", 0.15)),
    "basic": (("cbc", 0.3), ("urine", 0.3)),
    "neuro": (("ct", 0.4), ("lipids", 0.3)),
    "renal": (("renal", 0.6), ("cbc", 0.4), ("ultrasound", 0.2)),
    "onco": (("ct", 0.4), ("cbc", 0.6), ("liver", 0.4)),
    "ob": (("ultrasound", 0.7), ("urine", 0.5), ("cbc", 0.5)),
    "dental": (("dental", 0.8),),
    "wound": (("wound", 0.9), ("xray", 0.3)),
    "tcm": (("acupuncture", 0.8), ("tuina", 0.6)),
    "none": (),
}
"""Examinations and tests ordered for a group of diagnoses, each with its probability."""


@dataclass(frozen=True)
class Diagnosis:
    """An ICD-10 (医保版) diagnosis: its drug and exam groups, and for stays the usual days."""

    code: str
    name: str
    drugs: str
    exams: str
    stay_days: tuple[int, int] = (0, 0)
    surgery: tuple[str, ...] = ()
    """Service and consumable keys billed once per stay."""


DIAGNOSES: tuple[Diagnosis, ...] = (
    Diagnosis("J06.900", "急性上呼吸道感染", "uri", "resp"),
    Diagnosis("J02.900", "急性咽炎", "uri", "resp"),
    Diagnosis("J20.900", "急性支气管炎", "bronch", "resp"),
    Diagnosis("J18.900", "肺炎", "bronch", "resp", (5, 10)),
    Diagnosis("R50.900", "发热", "uri", "resp"),
    Diagnosis("K29.700", "胃炎", "gi", "gi"),
    Diagnosis("K52.900", "非感染性胃肠炎", "gi", "basic"),
    Diagnosis("R10.400", "腹痛", "gi", "gi"),
    Diagnosis("M54.500", "腰痛", "msk", "msk"),
    Diagnosis("M17.900", "膝关节病", "msk", "msk"),
    Diagnosis("L30.900", "皮炎", "derm", "none"),
    Diagnosis("H10.900", "结膜炎", "eye", "none"),
    Diagnosis("N39.000", "泌尿道感染", "uti", "basic"),
    Diagnosis("K02.900", "龋病", "", "dental"),
    Diagnosis("T14.000", "浅表损伤", "", "wound"),
    Diagnosis("S61.000", "手指开放性伤口", "", "wound"),
    Diagnosis("I10.x00", "原发性高血压", "htn", "cardio"),
    Diagnosis("E11.900", "2型糖尿病", "dm", "metab", (5, 10)),
    Diagnosis("E78.500", "高脂血症", "lipid", "metab"),
    Diagnosis("I25.103", "冠状动脉粥样硬化性心脏病", "chd", "cardio", (3, 7), ("pci", "stent")),
    Diagnosis("J44.900", "慢性阻塞性肺疾病", "copd", "resp"),
    Diagnosis("J44.100", "慢性阻塞性肺疾病伴急性加重", "copd", "resp", (6, 12)),
    Diagnosis("I69.300", "脑梗死后遗症", "stroke", "neuro"),
    Diagnosis("I63.900", "脑梗死", "stroke", "neuro", (8, 16)),
    Diagnosis("I21.900", "急性心肌梗死", "chd", "cardio", (6, 12), ("pci", "stent")),
    Diagnosis("I50.900", "心力衰竭", "hf", "cardio", (6, 12)),
    Diagnosis("B18.100", "慢性乙型病毒性肝炎", "hbv", "onco"),
    Diagnosis("M05.900", "类风湿关节炎", "ra", "basic"),
    Diagnosis("F20.900", "精神分裂症", "psy", "basic"),
    Diagnosis("C34.900", "肺恶性肿瘤", "onco", "onco", (5, 12)),
    Diagnosis("N18.500", "慢性肾脏病5期", "ckd", "renal"),
    Diagnosis("N18.900", "慢性肾脏病", "ckd", "renal"),
    Diagnosis("M81.000", "骨质疏松", "osteo", "msk"),
    Diagnosis("K80.200", "胆囊结石", "gi", "gi", (3, 6), ("cholecystectomy", "clip")),
    Diagnosis("K35.800", "急性阑尾炎", "gi", "gi", (3, 6), ("appendectomy",)),
    Diagnosis("S72.000", "股骨颈骨折", "msk", "msk", (8, 15),
              ("hip_replacement", "hip_prosthesis")),
    Diagnosis("M51.202", "腰椎间盘突出", "msk", "msk", (6, 12)),
    Diagnosis("M47.800", "颈椎病", "msk", "msk", (6, 12)),
    Diagnosis("N20.000", "肾结石", "uti", "renal", (2, 5), ("lithotripsy",)),
    Diagnosis("M17.100", "膝关节骨关节炎", "msk", "msk", (7, 12),
              ("knee_replacement", "knee_prosthesis")),
    Diagnosis("H25.900", "老年性白内障", "eye", "none", (1, 2), ("cataract", "iol")),
    Diagnosis("O80.000", "单胎顺产", "ob", "ob", (2, 4), ("delivery",)),
    Diagnosis("Z34.900", "正常妊娠监督", "", "ob"),
    # appended (earlier positions keep their index): planted honest look-alikes use them
    Diagnosis("C50.900", "乳房恶性肿瘤", "onco", "onco", (5, 12)),
    Diagnosis("C18.900", "结肠恶性肿瘤", "onco", "onco", (5, 12)),
    Diagnosis("Z51.100", "肿瘤化学治疗疗程", "", "onco", (1, 4)),
    Diagnosis("Z50.900", "康复医疗", "", "none"),
    Diagnosis("Z50.100", "其他物理治疗", "", "none"),
    Diagnosis("I69.400", "脑卒中后遗症", "stroke", "neuro"),
    Diagnosis("Z00.000", "一般性医学检查", "", "none"),
    Diagnosis("Z00.001", "健康查体", "", "none"),
)


@cache
def diagnosis_index() -> dict[str, int]:
    """ICD code -> position in :data:`DIAGNOSES`."""
    return {d.code: i for i, d in enumerate(DIAGNOSES)}


CITY_POPULATION_10K: dict[str, int] = {
    "310100": 2487, "320100": 931, "320200": 746, "320300": 908, "320400": 527,
    "320500": 1275, "320600": 773, "320700": 460, "320800": 456, "320900": 671,
    "321000": 456, "321100": 321, "321200": 451, "321300": 499, "330100": 1194,
    "330200": 940, "330300": 957, "330400": 540, "330500": 337, "330600": 527,
    "330700": 705, "330800": 228, "330900": 116, "331000": 662, "331100": 251,
    "340100": 937, "340200": 364, "340300": 330, "340400": 303, "340500": 216,
    "340600": 197, "340700": 131, "340800": 417, "341000": 133, "341100": 399,
    "341200": 820, "341300": 532, "341500": 440, "341600": 500, "341700": 134,
    "341800": 250,
}
"""Resident population (万人, 2020 census, rounded) of the 41 prefecture-level cities."""

BIG_CITIES: tuple[str, ...] = ("310100", "330100", "320100", "340100")
"""Shanghai, Hangzhou, Nanjing, Hefei: where patients travel for the big hospitals."""

SURNAMES: tuple[tuple[str, float], ...] = (
    ("王", 7.1), ("李", 6.0), ("张", 6.5), ("刘", 4.0), ("陈", 6.0), ("杨", 3.0), ("黄", 2.4),
    ("赵", 1.8), ("吴", 2.6), ("周", 2.6), ("徐", 2.8), ("孙", 1.6), ("马", 1.2), ("朱", 2.2),
    ("胡", 1.7), ("郭", 1.0), ("何", 1.1), ("高", 1.1), ("林", 1.0), ("罗", 0.6), ("郑", 0.9),
    ("梁", 0.6), ("谢", 0.7), ("宋", 0.8), ("唐", 0.8), ("许", 1.0), ("韩", 0.6), ("冯", 0.6),
    ("邓", 0.5), ("曹", 0.8), ("彭", 0.5), ("曾", 0.4), ("肖", 0.5), ("田", 0.5), ("董", 0.6),
    ("袁", 0.6), ("潘", 0.7), ("于", 0.4), ("蒋", 0.8), ("蔡", 0.6), ("余", 0.6), ("杜", 0.4),
    ("叶", 0.8), ("程", 0.6), ("苏", 0.5), ("魏", 0.4), ("吕", 0.4), ("丁", 0.6), ("任", 0.4),
    ("沈", 1.0), ("姚", 0.6), ("卢", 0.4), ("姜", 0.5), ("崔", 0.3), ("钟", 0.3), ("谭", 0.2),
    ("陆", 0.9), ("汪", 0.8), ("范", 0.5), ("金", 0.6), ("石", 0.3), ("廖", 0.2), ("贾", 0.3),
    ("夏", 0.5), ("韦", 0.2), ("付", 0.3), ("方", 0.6), ("白", 0.2), ("邹", 0.3), ("孟", 0.3),
    ("熊", 0.2), ("秦", 0.3), ("邱", 0.3), ("江", 0.4), ("尹", 0.2), ("薛", 0.3), ("闫", 0.2),
    ("段", 0.2), ("雷", 0.2), ("侯", 0.2), ("龙", 0.1), ("史", 0.3), ("陶", 0.4), ("黎", 0.1),
    ("贺", 0.2), ("顾", 0.7), ("毛", 0.4), ("郝", 0.2), ("龚", 0.3), ("邵", 0.4), ("万", 0.3),
    ("钱", 0.6), ("严", 0.4), ("武", 0.2), ("戴", 0.4), ("孔", 0.2), ("汤", 0.4), ("储", 0.2),
    ("欧阳", 0.05), ("诸葛", 0.01),
)
"""Surnames with rough relative frequencies in the Delta."""

GIVEN_OLD_MALE = "建国华明伟强军平刚勇杰斌志文海峰兵东林成德福根贵生祥荣忠宝金才发永"
GIVEN_OLD_FEMALE = "秀英兰芳桂珍凤玉翠华丽红梅萍敏静霞琴娟芬美素云月花娣妹菊"
GIVEN_NEW_MALE = (
    "伟强磊杰涛斌超明辉鹏飞鑫波宇浩凯健俊帆旭宁阳晨博锋亮新坤振家子天一泽睿轩然豪航远梓嘉诚"
)
GIVEN_NEW_FEMALE = (
    "芳娜敏静丽艳娟霞慧玲婷燕洁琳雪倩颖丹晶佳琪欣怡悦涵雨萱梓诗思彤可馨月妍瑶琦"
)
"""Characters of given names: older (born before 1975) and newer styles, by sex."""

ROADS = (
    "人民路", "解放路", "中山路", "建设路", "文化路", "健康路", "长江路", "淮河路", "和平路",
    "新华路", "胜利路", "光明路", "青年路", "东风路", "学府路", "迎宾大道", "世纪大道", "滨江路",
    "湖滨路", "花园路", "工业路", "振兴路", "幸福路", "富强路", "民主路", "环城路", "育才路",
    "金山路", "银河路", "太湖路", "黄山路", "钱塘路", "长安路", "望江路", "运河路", "朝阳路",
)
PLACE_FIRST = "东西南北新大小高石桥湖河山清永安平兴龙凤金马白黄青柳杨梅桃双三万丰"
PLACE_SECOND = "桥湖港庄集圩塘河山岭店口坝埠园沟湾墩浜泾渡洲塍"
PHARMACY_BRANDS = (
    "康济", "百草堂", "惠民", "仁寿堂", "福寿堂", "益康", "安心", "众康", "德仁堂", "济世堂",
    "同心", "万家康", "瑞丰", "康宁", "天和", "华康", "仁心", "寿康", "长生堂", "保和堂",
)
PRIVATE_HOSPITAL_WORDS = (
    "仁爱", "博爱", "康华", "济民", "安康", "瑞康", "明德", "普济", "广济", "慈济", "和睦", "康泰",
)
CITY_HOSPITAL_NAMES = (
    "第一人民医院", "第二人民医院", "中医院", "中心医院", "第三人民医院", "妇幼保健院",
    "儿童医院", "肿瘤医院", "胸科医院", "第四人民医院", "第五人民医院", "中西医结合医院",
    "口腔医院", "眼科医院", "精神卫生中心", "第六人民医院", "传染病医院", "康复医院",
)
"""Tertiary hospital names, prefixed by the city's short name; later ones get a number."""
