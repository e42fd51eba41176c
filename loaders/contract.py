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

from loaders.codes import code_tables

__all__ = [
    "AMOUNT_TOLERANCE_YUAN",
    "HOSP_LEVELS",
    "INSUTYPES",
    "MED_TYPES",
    "TABLES",
    "TABLE_ORDER",
    "CodeFormat",
    "Column",
    "Kind",
    "Severity",
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
    ENUM = "enum"  # a code of the column's ``code_table`` (labels map to codes)
    DATE = "date"
    DATETIME = "datetime"
    AMOUNT = "amount"  # yuan, up to 4 decimals, thousands separators accepted
    NUMBER = "number"  # a quantity or unit price, up to 6 decimals
    DIVISION = "division"  # 6-digit administrative division code of 沪苏浙皖
    COORD = "coord"  # WGS84 degrees
    CODE_LIST = "code_list"  # several codes separated by ';' (each matched against ``pattern``)


class Severity(StrEnum):
    """What a fault in a column costs its row.

    ``QUARANTINE``: the fault would corrupt results (keys, references, amounts, dates and times
    of a settlement, the person or institution of a settlement, trace codes): the row is
    quarantined. ``NOTE``: the column describes (a level, a staff type, a diagnosis, a name, an
    address, the shape of a practitioner code): the row is stored with the value as it came and
    a data-quality note is recorded.
    """

    QUARANTINE = "quarantine"
    NOTE = "note"


@dataclass(frozen=True)
class CodeFormat:
    """A national shape of an identifier, and the standard it comes from."""

    name: str
    pattern: str
    example: str
    source: str


@dataclass(frozen=True)
class Column:
    """One column of the contract.

    ``required``: the column must be present in the file (otherwise the file is refused);
    ``nullable``: a present column may have empty cells. ``severity``: what a fault in this
    column costs (see :class:`Severity`). ``pattern``: the shape an ID must have (a fault of
    ``severity``); ``formats``: the national shapes of the ID: a value that passes ``pattern``
    but none of ``formats`` is stored with a ``nonstandard_code`` note. ``code_table``: the
    code table (:mod:`loaders.codes`) of an ``ENUM`` column.
    """

    name: str
    label_zh: str
    kind: Kind
    aliases: tuple[str, ...] = ()
    required: bool = True
    nullable: bool = False
    pattern: str | None = None
    pattern_hint: str = ""
    code_table: str | None = None
    severity: Severity = Severity.QUARANTINE
    formats: tuple[CodeFormat, ...] = ()
    bounds: tuple[float, float] | None = None
    earliest: str | None = None
    """For dates: the earliest accepted (ISO); the latest is always tomorrow."""

    @property
    def accepted_names(self) -> tuple[str, ...]:
        """Every header accepted for this column: the field code, the Chinese label, aliases."""
        return (self.name, self.label_zh, *self.aliases)

    @property
    def choices(self) -> tuple[str, ...]:
        """The codes of the shipped code table (``()`` for a column without one)."""
        return code_tables()[self.code_table].choices if self.code_table else ()

    @property
    def labels(self) -> tuple[tuple[str, str], ...]:
        """(label, code) pairs of the shipped code table."""
        if not self.code_table:
            return ()
        return tuple(code_tables()[self.code_table].labels.items())


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


_NOTE = Severity.NOTE
_CODE = "[0-9A-Za-z_-]{4,40}"
_CODE_HINT = "4-40 letters, digits, '_' or '-'"
_CODE_LOOSE = ".{1,64}"
"""Any text up to 64 characters: a descriptive code whose shape is noted, never refused."""
_STANDARD = "医疗保障信息业务编码标准（国家医保局，2019-2022）"

_ID_PSN = Column(
    "psn_no", "人员编号", Kind.ID, ("个人编号", "人员ID", "参保人编号"),
    pattern=_CODE, pattern_hint="4-40 letters or digits, e.g. 34120000000012345678",
)
_INST_FORMATS = (
    CodeFormat("定点医药机构代码", "[HP][0-9]{11}", "H34012200017",
               _STANDARD + "：H（医疗机构）/P（药店）+ 6 位行政区划 + 5 位顺序码"),
)
_ID_INST = Column(
    "fixmedins_code", "定点医药机构编号", Kind.ID,
    ("定点机构编号", "机构编码", "医药机构编码", "定点医药机构编码"),
    pattern=_CODE, formats=_INST_FORMATS,
    pattern_hint="H (hospital/clinic) or P (pharmacy), a 6-digit division and a 5-digit serial, "
                 "e.g. H34120000017",
)
STAFF_FORMATS = (
    CodeFormat("医保医师/护士/药师代码", "[DNY][0-9]{12}", "D510105000123",
               _STANDARD + "：D 医师 / N 护士 / Y 药师 + 6 位行政区划 + 6 位顺序码（13 位）"),
    CodeFormat("医药机构药学/技术人员代码（2022）", "H[YJ][0-9]{12}", "HY340104000012",
               _STANDARD + "：HY 药学人员 / HJ 技术人员 + 6 位行政区划 + 6 位顺序码（14 位）"),
    CodeFormat("旧版医师/药师代码（12 位）", "[DY][0-9]{11}", "D34120000123",
               "earlier local systems: D/Y + 11 digits"),
)
"""The national shapes of a practitioner code; any other 4-40 character code is kept, noted."""
_DR_HINT = (
    "D/N/Y + 6-digit division + 6-digit serial (D510105000123), HY/HJ + 6 + 6, or the older "
    "D/Y + 11 digits"
)
DIAGNOSIS_FORMATS = (
    CodeFormat("ICD-10 医保版 2.0", "[A-Z][0-9]{2}(\\.[0-9A-Za-z]{1,4})?(x[0-9]{3})?",
               "C34.900x001",
               "医疗保障疾病诊断分类与代码（ICD-10 医保版 2.0）: core code, optional x###"),
    CodeFormat("肿瘤形态学编码（ICD-O-3 医保版）", "M[0-9]{4,5}/[0-9]", "M81400/3",
               "医疗保障肿瘤形态学分类与代码"),
    CodeFormat("中医病证分类与代码（GB/T 15657-2021 医保版）", "[AB][0-9]{2}(\\.[0-9]{2}){1,4}\\.?",
               "A17.01.02", "医疗保障中医诊断分类与代码 (GB/T 15657-2021)"),
    CodeFormat("中医病证分类与代码（GB/T 15657-1995）", "[BZ][A-Z]{2}[0-9]{3}(\\.[0-9]{1,2})?",
               "BNG010", "GB/T 15657-1995 中医病证分类与代码 (older local systems)"),
)
"""The national shapes of a diagnosis code (dise_codg); others are kept, noted."""


def _codes(table: str) -> tuple[tuple[str, str], ...]:
    return tuple((c.code, c.zh) for c in code_tables()[table].codes)


INSUTYPES = _codes("insutype")
MED_TYPES = _codes("med_type")
HOSP_LEVELS = _codes("hosp_lv")
"""(code, Chinese name) of each code table's codes, in table order."""

PERSONS = Table(
    "persons",
    "参保人员",
    (
        _ID_PSN,
        Column("psn_name", "人员姓名", Kind.NAME, ("姓名", "参保人姓名"), required=False,
               severity=_NOTE),
        Column("certno", "证件号码", Kind.CERTNO, ("身份证号", "身份证号码", "公民身份号码"),
               required=False, severity=_NOTE),
        Column("gend", "性别", Kind.ENUM, code_table="gend", required=False, severity=_NOTE),
        Column("brdy", "出生日期", Kind.DATE, earliest="1900-01-01", required=False,
               severity=_NOTE),
        Column("insutype", "险种类型", Kind.ENUM, ("险种",), code_table="insutype",
               required=False, severity=_NOTE),
        Column("insu_admdvs", "参保地医保区划", Kind.DIVISION, ("参保地区划", "参保地"),
               required=False, severity=_NOTE),
        Column("tel", "联系电话", Kind.PHONE, ("电话", "手机号", "手机号码"), required=False,
               nullable=True, severity=_NOTE),
    ),
    key=("psn_no",),
)

INSTITUTIONS = Table(
    "institutions",
    "定点医药机构",
    (
        _ID_INST,
        Column("fixmedins_name", "定点医药机构名称", Kind.TEXT, ("机构名称", "定点机构名称"),
               required=False, severity=_NOTE),
        Column("fixmedins_type", "定点医药机构类型", Kind.ENUM, ("机构类型",),
               code_table="fixmedins_type", required=False, severity=_NOTE),
        Column("hosp_lv", "医院等级", Kind.ENUM, ("医疗机构等级", "机构等级"),
               code_table="hosp_lv", required=False, nullable=True, severity=_NOTE),
        Column("admdvs", "医保区划", Kind.DIVISION, ("所属区划", "行政区划", "所在区划"),
               required=False, severity=_NOTE),
        Column("addr", "地址", Kind.TEXT, ("详细地址", "机构地址"), required=False, nullable=True,
               severity=_NOTE),
        Column("lon", "经度", Kind.COORD, required=False, nullable=True, bounds=(114.0, 123.5),
               severity=_NOTE),
        Column("lat", "纬度", Kind.COORD, required=False, nullable=True, bounds=(27.0, 35.5),
               severity=_NOTE),
    ),
    key=("fixmedins_code",),
)

PRACTITIONERS = Table(
    "practitioners",
    "医保医师药师",
    (
        Column(
            "dr_codg", "医保医师代码", Kind.ID, ("医师代码", "医保医师编码", "医药师代码"),
            pattern=_CODE, pattern_hint=_DR_HINT, formats=STAFF_FORMATS,
        ),
        Column("dr_name", "医师姓名", Kind.NAME, ("姓名", "医药师姓名"), required=False,
               severity=_NOTE),
        _ID_INST,
        Column("dr_type", "医药师类别", Kind.ENUM, ("医师类别", "人员类别"), code_table="dr_type",
               required=False, severity=_NOTE),
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
               pattern_hint=_CODE_HINT),
        Column("mdtrt_id", "就诊ID", Kind.ID, ("就医登记号", "就诊流水号"), pattern=_CODE,
               pattern_hint=_CODE_HINT),
        _ID_PSN,
        _ID_INST,
        Column("med_type", "医疗类别", Kind.ENUM, code_table="med_type", severity=_NOTE),
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
            required=False, nullable=True, pattern=_CODE_LOOSE, formats=DIAGNOSIS_FORMATS,
            pattern_hint="an ICD-10 医保版 2.0 code (J06.900, C34.900x001) or a TCM code",
            severity=_NOTE,
        ),
        Column("dr_codg", "医师代码", Kind.ID, ("主诊医师代码", "医保医师代码", "医师编码"),
               required=False, nullable=True, pattern=_CODE, pattern_hint=_DR_HINT,
               formats=STAFF_FORMATS, severity=_NOTE),
        Column("init_setl_id", "原结算ID", Kind.ID, ("被冲销结算ID",), required=False,
               nullable=True, pattern=_CODE, pattern_hint="the setl_id this reversal cancels"),
        Column("opter_id", "经办人ID", Kind.ID,
               ("经办人编号", "经办人代码", "操作员编号", "操作员代码", "操作员ID", "收款员编号"),
               required=False, nullable=True, pattern=_CODE_LOOSE,
               pattern_hint="the operator's code as the institution's system writes it",
               severity=_NOTE),
        Column("opter_name", "经办人姓名", Kind.NAME, ("经办人", "操作员", "操作员姓名", "收款员"),
               required=False, nullable=True, severity=_NOTE),
        Column("dept_codg", "科室编码", Kind.ID, ("科室代码", "就诊科室编码", "科室编号"),
               required=False, nullable=True, pattern=_CODE_LOOSE,
               pattern_hint="the department code (科室代码)", severity=_NOTE),
        Column("dept_name", "科室名称", Kind.TEXT, ("就诊科室", "就诊科室名称", "科室"),
               required=False, nullable=True, severity=_NOTE),
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
               pattern_hint=_CODE_HINT),
        Column("setl_id", "结算ID", Kind.ID, ("结算编号", "结算流水号"), pattern=_CODE,
               pattern_hint=_CODE_HINT),
        Column("med_list_codg", "医疗目录编码", Kind.ID, ("医保目录编码", "项目编码"),
               pattern="[0-9A-Za-z.-]{4,50}", pattern_hint="a national 医保目录 code"),
        Column("med_list_name", "医疗目录名称", Kind.TEXT, ("医保目录名称", "项目名称"),
               required=False, severity=_NOTE),
        Column("cnt", "数量", Kind.NUMBER),
        Column("pric", "单价", Kind.NUMBER),
        Column("det_item_fee_sumamt", "明细项目费用总额", Kind.AMOUNT, ("金额", "明细金额")),
        Column("bilg_dr_codg", "开单医师代码", Kind.ID, ("开单医生编码", "开单医师编码"),
               required=False, nullable=True, pattern=_CODE, pattern_hint=_DR_HINT,
               formats=STAFF_FORMATS, severity=_NOTE),
        Column("drug_trac_codg", "药品追溯码", Kind.CODE_LIST, ("追溯码", "药品追溯码信息"),
               required=False, nullable=True, pattern="[0-9]{20}",
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
