"""The data contract: which tables, which columns, which formats.

One file per table in a folder (``persons``, ``institutions``, ``practitioners``, ``settlements``,
``fee_details``; ``.csv``, ``.xlsx`` or ``.parquet``). Column names are the national platform's
field codes (国家医保信息平台), with Chinese headers accepted as aliases. The contract is data:
the loaders, the synthetic generator, the documentation (``docs/data-contract.md``) and the
tests all read it from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

__all__ = [
    "AMOUNT_TOLERANCE_YUAN",
    "TABLES",
    "TABLE_ORDER",
    "Column",
    "Kind",
    "Table",
    "table",
]

AMOUNT_TOLERANCE_YUAN = 0.01
"""How far ``fund_pay_sumamt + psn_cash_pay + acct_pay`` may differ from ``medfee_sumamt``."""


class Kind(StrEnum):
    """How a column's text is parsed and checked."""

    ID = "id"  # identifier kept as text, matched against ``pattern``
    TEXT = "text"  # free text
    NAME = "name"  # a person's name (personal data)
    CERTNO = "certno"  # 18-character resident ID number with its GB 11643 check digit
    PHONE = "phone"  # mobile or landline number (personal data)
    ENUM = "enum"  # one of ``choices`` (codes); ``labels`` maps accepted Chinese labels to codes
    DATE = "date"
    DATETIME = "datetime"
    AMOUNT = "amount"  # yuan, up to 4 decimals, thousands separators accepted
    NUMBER = "number"  # a quantity or unit price, up to 6 decimals
    DIVISION = "division"  # 6-digit administrative division code of 沪苏浙皖
    COORD = "coord"  # WGS84 degrees
    CODE_LIST = "code_list"  # several codes separated by ';' (each matched against ``pattern``)


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    ``required``: the column must be present in the file (otherwise the file is refused);
    ``nullable``: a present column may have empty cells.
    """

    name: str
    label_zh: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    required: bool = True
    nullable: bool = False
    pattern: str | None = None
    pattern_hint: str = ""
    choices: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    bounds: tuple[float, float] | None = None
    earliest: str | None = None
    """For dates: the earliest accepted (ISO); the latest is always tomorrow."""

    @property
    def accepted_names(self) -> tuple[str, ...]:
        """Every header accepted for this column: the field code, the Chinese label, aliases."""
        return (self.name, self.label_zh, *self.aliases)


@dataclass(frozen=True)
class Table:
    """One table of the contract; ``key`` identifies a row (duplicates are quarantined)."""

    name: str
    label_zh: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    references: tuple[tuple[str, str, str], ...] = field(default=())
    """(column, table, column) foreign keys checked against this load and the store."""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


_CODE = "[0-9A-Za-z_-]{4,40}"

_ID_PSN = Column(
    "psn_no", "人员编号", Kind.ID, ("个人编号", "人员ID", "参保人编号"),
    pattern=_CODE, pattern_hint="4-40 letters or digits, e.g. 34120000000012345678",
)
_ID_INST = Column(
    "fixmedins_code", "定点医药机构编号", Kind.ID,
    ("定点机构编号", "机构编码", "医药机构编码", "定点医药机构编码"),
    pattern="[HP][0-9]{11}",
    pattern_hint="H (hospital/clinic) or P (pharmacy) and 11 digits, e.g. H34120000017",
)
_DR_PATTERN = "[DY][0-9]{11}"
_DR_HINT = "D (doctor) or Y (pharmacist) and 11 digits, e.g. D34120000123"

INSUTYPES = (
    ("310", "职工基本医疗保险"),
    ("320", "公务员医疗补助"),
    ("330", "大额医疗费用补助"),
    ("340", "离休人员医疗保障"),
    ("390", "城乡居民基本医疗保险"),
    ("392", "城乡居民大病医疗保险"),
    ("510", "生育保险"),
)
MED_TYPES = (
    ("11", "普通门诊"),
    ("12", "门诊挂号"),
    ("13", "急诊"),
    ("14", "门诊慢特病"),
    ("15", "特药"),
    ("16", "中医特色治疗"),
    ("21", "普通住院"),
    ("22", "外伤住院"),
    ("24", "转外诊治住院"),
    ("25", "异地住院"),
    ("28", "日间手术"),
    ("41", "定点药店购药"),
    ("51", "生育门诊"),
    ("52", "生育住院"),
)
HOSP_LEVELS = (
    ("01", "三级特等"),
    ("02", "三级甲等"),
    ("03", "三级乙等"),
    ("04", "三级丙等"),
    ("05", "二级甲等"),
    ("06", "二级乙等"),
    ("07", "二级丙等"),
    ("08", "一级甲等"),
    ("09", "一级乙等"),
    ("10", "一级丙等"),
    ("11", "无等级"),
)

PERSONS = Table(
    "persons",
    "参保人员",
    (
        _ID_PSN,
        Column("psn_name", "人员姓名", Kind.NAME, ("姓名", "参保人姓名")),
        Column("certno", "证件号码", Kind.CERTNO, ("身份证号", "身份证号码", "公民身份号码")),
        Column(
            "gend", "性别", Kind.ENUM, choices=("1", "2", "9"),
            labels=(("男", "1"), ("女", "2"), ("未知", "9")),
        ),
        Column("brdy", "出生日期", Kind.DATE, earliest="1900-01-01"),
        Column(
            "insutype", "险种类型", Kind.ENUM, ("险种",),
            choices=tuple(c for c, _ in INSUTYPES), labels=tuple((z, c) for c, z in INSUTYPES),
        ),
        Column("insu_admdvs", "参保地医保区划", Kind.DIVISION, ("参保地区划", "参保地")),
        Column("tel", "联系电话", Kind.PHONE, ("电话", "手机号", "手机号码"), required=False,
               nullable=True),
    ),
    key=("psn_no",),
)

INSTITUTIONS = Table(
    "institutions",
    "定点医药机构",
    (
        _ID_INST,
        Column("fixmedins_name", "定点医药机构名称", Kind.TEXT, ("机构名称", "定点机构名称")),
        Column(
            "fixmedins_type", "定点医药机构类型", Kind.ENUM, ("机构类型",), choices=("1", "2"),
            labels=(("定点医疗机构", "1"), ("医疗机构", "1"), ("定点零售药店", "2"),
                    ("零售药店", "2")),
        ),
        Column(
            "hosp_lv", "医院等级", Kind.ENUM, ("医疗机构等级", "机构等级"), required=False,
            nullable=True, choices=tuple(c for c, _ in HOSP_LEVELS),
            labels=tuple((z, c) for c, z in HOSP_LEVELS),
        ),
        Column("admdvs", "医保区划", Kind.DIVISION, ("所属区划", "行政区划", "所在区划")),
        Column("addr", "地址", Kind.TEXT, ("详细地址", "机构地址"), required=False, nullable=True),
        Column("lon", "经度", Kind.COORD, required=False, nullable=True, bounds=(114.0, 123.5)),
        Column("lat", "纬度", Kind.COORD, required=False, nullable=True, bounds=(27.0, 35.5)),
    ),
    key=("fixmedins_code",),
)

PRACTITIONERS = Table(
    "practitioners",
    "医保医师药师",
    (
        Column(
            "dr_codg", "医保医师代码", Kind.ID, ("医师代码", "医保医师编码", "医药师代码"),
            pattern=_DR_PATTERN, pattern_hint=_DR_HINT,
        ),
        Column("dr_name", "医师姓名", Kind.NAME, ("姓名", "医药师姓名")),
        _ID_INST,
        Column(
            "dr_type", "医药师类别", Kind.ENUM, ("医师类别", "人员类别"),
            choices=("1", "2", "3", "4"),
            labels=(("医师", "1"), ("药师", "2"), ("护士", "3"), ("技师", "4")),
        ),
    ),
    key=("dr_codg",),
    references=(("fixmedins_code", "institutions", "fixmedins_code"),),
)

_AMOUNT_ALIASES = {
    "medfee_sumamt": ("医疗费总额", ("费用总额", "总费用")),
    "fund_pay_sumamt": ("基金支付总额", ("基金支付",)),
    "hifp_pay": ("统筹基金支出", ("基本医疗保险统筹基金支出", "统筹支付")),
    "acct_pay": ("个人账户支出", ("个人账户支付", "账户支付")),
    "psn_cash_pay": ("个人现金支出", ("现金支付", "个人现金支付")),
}

SETTLEMENTS = Table(
    "settlements",
    "结算信息",
    (
        Column("setl_id", "结算ID", Kind.ID, ("结算编号", "结算流水号"), pattern=_CODE,
               pattern_hint="4-40 letters or digits"),
        Column("mdtrt_id", "就诊ID", Kind.ID, ("就医登记号", "就诊流水号"), pattern=_CODE,
               pattern_hint="4-40 letters or digits"),
        _ID_PSN,
        _ID_INST,
        Column(
            "med_type", "医疗类别", Kind.ENUM, choices=tuple(c for c, _ in MED_TYPES),
            labels=tuple((z, c) for c, z in MED_TYPES),
        ),
        Column("setl_time", "结算时间", Kind.DATETIME, ("结算日期",), earliest="2000-01-01"),
        Column("begndate", "开始日期", Kind.DATE, ("入院日期", "就诊日期"), nullable=True,
               earliest="2000-01-01"),
        Column("enddate", "结束日期", Kind.DATE, ("出院日期",), nullable=True,
               earliest="2000-01-01"),
        *(
            Column(name, zh, Kind.AMOUNT, aliases)
            for name, (zh, aliases) in _AMOUNT_ALIASES.items()
        ),
        Column(
            "dise_codg", "病种编码", Kind.ID, ("诊断编码", "主诊断编码", "疾病编码"),
            nullable=True, pattern="[A-Z][0-9]{2}(\\.[0-9A-Za-z]{1,4})?",
            pattern_hint="an ICD-10 (医保版) code, e.g. J06.900 or I10.x00",
        ),
        Column("dr_codg", "医师代码", Kind.ID, ("主诊医师代码", "医保医师代码", "医师编码"),
               nullable=True, pattern=_DR_PATTERN, pattern_hint=_DR_HINT),
        Column("init_setl_id", "原结算ID", Kind.ID, ("被冲销结算ID",), required=False,
               nullable=True, pattern=_CODE, pattern_hint="the setl_id this reversal cancels"),
    ),
    key=("setl_id",),
    references=(
        ("psn_no", "persons", "psn_no"),
        ("fixmedins_code", "institutions", "fixmedins_code"),
    ),
)

FEE_DETAILS = Table(
    "fee_details",
    "费用明细",
    (
        Column("feedetl_sn", "费用明细流水号", Kind.ID, ("明细流水号", "记账流水号"), pattern=_CODE,
               pattern_hint="4-40 letters or digits"),
        Column("setl_id", "结算ID", Kind.ID, ("结算编号", "结算流水号"), pattern=_CODE,
               pattern_hint="4-40 letters or digits"),
        Column("med_list_codg", "医疗目录编码", Kind.ID, ("医保目录编码", "项目编码"),
               pattern="[0-9A-Za-z.-]{4,50}", pattern_hint="a national 医保目录 code"),
        Column("med_list_name", "医疗目录名称", Kind.TEXT, ("医保目录名称", "项目名称")),
        Column("cnt", "数量", Kind.NUMBER),
        Column("pric", "单价", Kind.NUMBER),
        Column("det_item_fee_sumamt", "明细项目费用总额", Kind.AMOUNT, ("金额", "明细金额")),
        Column("bilg_dr_codg", "开单医师代码", Kind.ID, ("开单医生编码", "开单医师编码"),
               nullable=True, pattern=_DR_PATTERN, pattern_hint=_DR_HINT),
        Column("drug_trac_codg", "药品追溯码", Kind.CODE_LIST, ("追溯码", "药品追溯码信息"),
               nullable=True, pattern="[0-9]{20}",
               pattern_hint="20-digit codes, several separated by ';'"),
    ),
    key=("setl_id", "feedetl_sn"),
    references=(("setl_id", "settlements", "setl_id"),),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (INSTITUTIONS, PERSONS, PRACTITIONERS, SETTLEMENTS, FEE_DETAILS)
}
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)
"""Load order: every table comes after the tables it references."""


def table(name: str) -> Table:
    """The contract of table ``name``; ``KeyError`` listing the known tables otherwise."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; known tables: {', '.join(TABLES)}") from None
