"""The rule base (规则库): set-based checks over the whole store, written to ``rule_hits``.

The rules are data (``graph/rulebase.toml``: ids, names, severities, thresholds with their units
in the key names); their logic is SQL run by DuckDB over whole tables, never row by row in
Python, so a city-year (a million settlements, three million fee lines) is checked in seconds.
Thresholds are passed as query parameters; only our own identifiers are put into SQL text.

Every rule looks at *effective* settlements: a reversal (冲销, ``init_setl_id`` set) and the
settlement it cancels do not count as care given, except where a rule says otherwise (a code
sold, refunded and sold again is told apart from a resale by exactly that).

Rules (see the rule base for the thresholds):

* ``TRACE_REUSE`` (药品追溯码重复结算): one hit per traceability code in two or more sales, in
  classes ``resale``, ``counterfeit``, ``item_substitution``, and the honest ``refund`` and
  ``split_pack`` (severity ``info``) whose evidence says why they are honest.
* ``IMPOSSIBLE_TRAVEL`` (同日异地不可能行程): one hit per person whose consecutive settlements imply
  a straight-line speed above ``max_speed_kmh`` over at least ``min_distance_km`` (institutions
  with coordinates only; reversal rows are left out, they are posted later, not visits).
* ``OVERLAPPING_STAYS`` (住院时间重叠): one hit per person with inpatient stays that overlap.
* ``MANY_PHARMACIES_DAY`` (同日多家药店购药): one hit per person and day.
* ``DOCTOR_PHARMACY_CONCENTRATION`` (处方集中流向单一药店): one hit per doctor and pharmacy when
  at least ``min_share`` of the doctor's prescriptions filled at pharmacies go to one, and that
  share is ``min_lift`` times the pharmacy's share of its division's pharmacy settlements.
* ``DIALYSIS_CAPACITY`` (血液透析超负荷): one hit per institution over its daily capacity
  (``over_capacity``) and one per person with more than one session a day (``double_session``).
"""

from __future__ import annotations

import logging
import re
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

import duckdb

from graph.claims import effective_settlements_sql, pharmacy_sql
from yibao.errors import SettingsError, StoreError
from yibao.geo import haversine_km_sql

__all__ = [
    "HIT_COLUMNS",
    "RULE_IDS",
    "TRACE_CLASSES",
    "Rule",
    "RuleRun",
    "classify_trace_codes",
    "load_rulebase",
    "run_rules",
]

log = logging.getLogger(__name__)

Severity: TypeAlias = Literal["high", "medium", "low"]
HitSeverity: TypeAlias = Literal["high", "medium", "low", "info"]
ParamValue: TypeAlias = int | float | tuple[str, ...] | Mapping[str, int]

_SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
_HIT_SEVERITIES: tuple[str, ...] = (*_SEVERITIES, "info")

TRACE_CLASSES: tuple[str, ...] = (
    "resale", "counterfeit", "item_substitution", "refund", "split_pack"
)
"""Classes of ``TRACE_REUSE`` hits and of ``chains``; the last two are honest explanations."""

# Each rule's parameters: kind 'number' (>= 0), 'int' (>= 0), 'share' (0 < x <= 1), 'codes'
# (a list of non-empty strings) or 'int_table' (a table of non-negative integers).
_PARAMS: dict[str, dict[str, str]] = {
    "TRACE_REUSE": {"resale_min_gap_days": "number", "split_max_price_ratio": "share"},
    "IMPOSSIBLE_TRAVEL": {"max_speed_kmh": "number", "min_distance_km": "number"},
    "OVERLAPPING_STAYS": {"inpatient_med_types": "codes", "min_overlap_days": "int"},
    "MANY_PHARMACIES_DAY": {"min_pharmacies": "int"},
    "DOCTOR_PHARMACY_CONCENTRATION": {
        "min_prescriptions": "int", "min_share": "share", "min_lift": "number"},
    "DIALYSIS_CAPACITY": {
        "dialysis_item_codes": "codes",
        "max_sessions_per_person_day": "int",
        "capacity_per_day_default": "int",
        "capacity_per_day_by_hosp_lv": "int_table",
    },
}
_CLASSES: dict[str, tuple[str, ...]] = {
    "TRACE_REUSE": TRACE_CLASSES,
    "DIALYSIS_CAPACITY": ("over_capacity", "double_session"),
}
RULE_IDS: tuple[str, ...] = tuple(_PARAMS)
"""The rules this module implements, in the order :func:`run_rules` runs them."""

_REQUIRED = ("id", "name_zh", "name_en", "severity", "description_zh", "description_en")
_OPTIONAL = ("params", "class_severity", "enabled")

HIT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("hit_id", "VARCHAR"),
    ("rule_id", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("hit_class", "VARCHAR"),
    ("subject_kind", "VARCHAR"),
    ("subject_id", "VARCHAR"),
    ("persons", "VARCHAR[]"),
    ("institutions", "VARCHAR[]"),
    ("practitioners", "VARCHAR[]"),
    ("setl_ids", "VARCHAR[]"),
    ("trace_codes", "VARCHAR[]"),
    ("first_time", "TIMESTAMP"),
    ("last_time", "TIMESTAMP"),
    ("fund_amount", "DOUBLE"),
    ("evidence_zh", "VARCHAR"),
    ("evidence_en", "VARCHAR"),
    ("metrics", "JSON"),
    ("acct_amount", "DOUBLE"),
)
"""Columns of the ``rule_hits`` table, in order, with their DuckDB types."""


@dataclass(frozen=True)
class Rule:
    """One rule of the rule base; ``params`` are its thresholds (units in the key names)."""

    id: str
    name_zh: str
    name_en: str
    severity: Severity
    description_zh: str
    description_en: str
    params: Mapping[str, ParamValue] = field(default_factory=dict, hash=False)
    class_severity: Mapping[str, HitSeverity] = field(default_factory=dict, hash=False)
    """Severity of hits by ``hit_class`` (``info`` for honest explanations); others get
    :attr:`severity`."""
    enabled: bool = True

    def number(self, name: str) -> float:
        """The numeric parameter ``name``."""
        value = self.params[name]
        if isinstance(value, (tuple, Mapping)):
            raise SettingsError(f"rule {self.id}: parameter {name!r} is not a number")
        return float(value)

    def codes(self, name: str) -> list[str]:
        """The list-of-strings parameter ``name``."""
        value = self.params[name]
        if not isinstance(value, tuple):
            raise SettingsError(f"rule {self.id}: parameter {name!r} is not a list of codes")
        return list(value)

    def table(self, name: str) -> dict[str, int]:
        """The table (key -> integer) parameter ``name``."""
        value = self.params[name]
        if not isinstance(value, Mapping):
            raise SettingsError(f"rule {self.id}: parameter {name!r} is not a table")
        return dict(value)


@dataclass(frozen=True)
class RuleRun:
    """What :func:`run_rules` did: hits and seconds per rule id, hits per class."""

    hits: Mapping[str, int]
    seconds: Mapping[str, float]
    classes: Mapping[str, Mapping[str, int]]
    """Per rule id, hits per ``hit_class`` (rules with classes only)."""
    total_seconds: float

    @property
    def n_hits(self) -> int:
        return sum(self.hits.values())


# -- the rule base ----------------------------------------------------------------------------


def default_rulebase_path() -> Path:
    """The rule base shipped with the package (``graph/rulebase.toml``)."""
    return Path(__file__).with_name("rulebase.toml")


def load_rulebase(path: Path | None = None) -> tuple[Rule, ...]:
    """Read and check a rule base (default: the shipped ``graph/rulebase.toml``).

    Every problem is collected (unknown or missing keys, unknown rule ids, duplicate ids, bad
    severities, parameters of the wrong kind) and raised at once as
    :class:`~yibao.errors.SettingsError`, naming the file and the rule.
    """
    path = default_rulebase_path() if path is None else Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(
            f"rule base {path} does not exist: give an existing .toml file") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"rule base {path} is not valid UTF-8 TOML: {exc}") from exc
    problems: list[str] = []
    unknown_top = sorted(set(data) - {"version", "rules"})
    if unknown_top:
        problems.append(f"unknown top-level key(s) {unknown_top}: only 'version' and [[rules]]")
    entries = data.get("rules")
    if not isinstance(entries, list) or not entries:
        problems.append("no [[rules]] entries")
        entries = []
    rules: list[Rule] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        rule = _rule_from_entry(entry, f"rule #{n}", problems)
        if rule is None:
            continue
        if rule.id in seen:
            problems.append(f"rule {rule.id}: defined twice; keep one [[rules]] entry per id")
        seen.add(rule.id)
        rules.append(rule)
    if problems:
        raise SettingsError(
            f"rule base {path} has {len(problems)} problem(s): " + "; ".join(problems)
        )
    return tuple(rules)


def _rule_from_entry(entry: object, where: str, problems: list[str]) -> Rule | None:
    if not isinstance(entry, dict):
        problems.append(f"{where}: is not a table")
        return None
    rid = entry.get("id")
    where = f"rule {rid}" if isinstance(rid, str) else where
    count = len(problems)
    unknown = sorted(set(entry) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        problems.append(f"{where}: unknown key(s) {unknown}; allowed: {[*_REQUIRED, *_OPTIONAL]}")
    missing = [k for k in _REQUIRED if k not in entry]
    if missing:
        problems.append(f"{where}: missing key(s) {missing}")
    for key in _REQUIRED:
        if key in entry and (not isinstance(entry[key], str) or not entry[key].strip()):
            problems.append(f"{where}: {key} must be a non-empty string, not {entry[key]!r}")
    if isinstance(rid, str) and rid not in _PARAMS:
        problems.append(f"{where}: no such rule is implemented; known ids: {list(RULE_IDS)}")
    severity = entry.get("severity")
    if "severity" in entry and severity not in _SEVERITIES:
        problems.append(f"{where}: severity {severity!r} is not one of {list(_SEVERITIES)}")
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        problems.append(f"{where}: enabled must be true or false, not {enabled!r}")
    params = _check_params(entry.get("params", {}), rid, where, problems)
    classes = _check_class_severity(entry.get("class_severity", {}), rid, where, problems)
    if len(problems) > count:
        return None
    return Rule(
        id=entry["id"], name_zh=entry["name_zh"], name_en=entry["name_en"],
        severity=entry["severity"], description_zh=entry["description_zh"].strip(),
        description_en=entry["description_en"].strip(), params=MappingProxyType(params),
        class_severity=MappingProxyType(classes), enabled=enabled,
    )


def _check_params(raw: object, rid: object, where: str, problems: list[str]
                  ) -> dict[str, ParamValue]:
    if not isinstance(raw, dict):
        problems.append(f"{where}: [params] must be a table")
        return {}
    spec = _PARAMS.get(rid, {}) if isinstance(rid, str) else {}
    if isinstance(rid, str) and rid in _PARAMS:
        unknown = sorted(set(raw) - set(spec))
        if unknown:
            problems.append(f"{where}: unknown parameter(s) {unknown}; expected {sorted(spec)}")
        missing = sorted(set(spec) - set(raw))
        if missing:
            problems.append(f"{where}: missing parameter(s) {missing}")
    out: dict[str, ParamValue] = {}
    for name, kind in spec.items():
        if name not in raw:
            continue
        value = _param_value(raw[name], kind)
        if value is None:
            problems.append(f"{where}: parameter {name} = {raw[name]!r} is not {_KIND_TEXT[kind]}")
        else:
            out[name] = value
    return out


_KIND_TEXT = {
    "number": "a number >= 0",
    "int": "an integer >= 0",
    "share": "a number in (0, 1]",
    "codes": "a non-empty list of non-empty strings",
    "int_table": "a table of integers >= 0",
}


def _param_value(value: object, kind: str) -> ParamValue | None:
    if kind in ("number", "int", "share"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        if kind == "int" and not isinstance(value, int):
            return None
        if value < 0 or (kind == "share" and not 0 < value <= 1):
            return None
        return value
    if kind == "codes":
        ok = isinstance(value, list) and value and all(
            isinstance(v, str) and v.strip() for v in value)
        return tuple(str(v) for v in value) if ok and isinstance(value, list) else None
    ok = isinstance(value, dict) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value.values())
    return MappingProxyType({str(k): int(v) for k, v in value.items()}) if (
        ok and isinstance(value, dict)) else None


def _check_class_severity(raw: object, rid: object, where: str, problems: list[str]
                          ) -> dict[str, HitSeverity]:
    if not isinstance(raw, dict):
        problems.append(f"{where}: [class_severity] must be a table")
        return {}
    known = _CLASSES.get(rid, ()) if isinstance(rid, str) else ()
    out: dict[str, HitSeverity] = {}
    for name, value in raw.items():
        if name not in known:
            problems.append(f"{where}: class_severity names unknown class {name!r}; "
                            f"the rule's classes are {list(known)}")
        elif value not in _HIT_SEVERITIES:
            problems.append(f"{where}: class_severity {name} = {value!r} is not one of "
                            f"{list(_HIT_SEVERITIES)}")
        else:
            out[name] = value
    return out


# -- running -----------------------------------------------------------------------------------


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
         ) -> duckdb.DuckDBPyConnection:
    """Execute ``sql`` with the named parameters it uses (``$name``) taken from ``params``."""
    names = set(re.findall(r"\$([A-Za-z_]\w*)", sql))
    return con.execute(sql, {k: v for k, v in (params or {}).items() if k in names})


def _gap_sql(days: str, lang: Literal["zh", "en"]) -> str:
    """SQL text for a gap of ``days`` (a column): '41 天', '6.9 天', '5.2 小时' (or English)."""
    unit_d, unit_h = ("天", "小时") if lang == "zh" else ("days", "hours")
    return (f"CASE WHEN {days} >= 10 THEN format('{{:.0f}} {unit_d}', {days}) "
            f"WHEN {days} >= 1 THEN format('{{:.1f}} {unit_d}', {days}) "
            f"ELSE format('{{:.1f}} {unit_h}', {days} * 24) END")


def _km_sql(km: str, lang: Literal["zh", "en"]) -> str:
    if lang == "zh":
        return f"coalesce(format('相距 {{:.0f}} 公里', {km}), '距离未知')"
    return f"coalesce(format('{{:.0f}} km away', {km}), 'distance unknown')"


_PREPARE = (
    """CREATE OR REPLACE TEMP TABLE _reversed AS
       SELECT init_setl_id AS setl_id, min(setl_time) AS reversed_at, min(setl_id) AS reversal_id
       FROM settlements WHERE init_setl_id IS NOT NULL GROUP BY 1""",
    # the one definition of an effective settlement (graph.claims), as every figure uses it
    "CREATE OR REPLACE TEMP VIEW _effective AS " + effective_settlements_sql(),
)


def _prepare(con: duckdb.DuckDBPyConnection) -> None:
    for sql in _PREPARE:
        con.execute(sql)


def classify_trace_codes(con: duckdb.DuckDBPyConnection, rule: Rule | None = None) -> None:
    """Find every traceability code sold in two or more settlements and classify it.

    Leaves three temporary tables on ``con`` (dropped with the connection):

    * ``_trace_rows``: one row per code and settlement (reversals included) of codes in more
      than one settlement: the fee line's ``med_list_codg``, name, ``pric`` (yuan), ``cnt``,
      the settlement's person, institution (``admdvs``, ``lon``, ``lat``), ``setl_time``,
      ``is_reversal``, ``init_setl_id``, ``reversed_at`` (when it was reversed) and, for sales,
      ``effective``: false for a sale reversed before the code's next sale (a refund, 退货).
    * ``_trace_pairs``: consecutive effective sales of a code with ``gap_days`` and ``km``.
    * ``_trace_class``: one row per code with two or more sales: ``hit_class`` (see
      :data:`TRACE_CLASSES`) and the numbers behind it.

    The class: ``refund`` when at most one sale is effective; at one institution,
    ``split_pack`` when every effective sale is a part (unit price at most
    ``split_max_price_ratio`` times the item's median price, or a fractional quantity), else
    ``item_substitution``; across institutions, ``counterfeit`` when two consecutive sales at
    different institutions are less than ``resale_min_gap_days`` apart, else ``resale``.
    """
    if rule is None:
        rule = _default_rule("TRACE_REUSE")
    params = {"gap_days": rule.number("resale_min_gap_days"),
              "ratio": rule.number("split_max_price_ratio")}
    _prepare(con)
    for sql in _TRACE_SQL:
        _run(con, sql, params)


_TRACE_SQL = (
    """CREATE OR REPLACE TEMP TABLE _trace_rows AS
    WITH multi AS (
        SELECT drug_trac_codg FROM trace_codes GROUP BY 1 HAVING count(*) > 1
    ), lines AS (
        SELECT t.drug_trac_codg AS code, t.setl_id,
               min(f.med_list_codg) AS med_list_codg, min(f.med_list_name) AS med_list_name,
               min(f.pric) AS pric, sum(f.cnt) AS cnt
        FROM trace_codes t
        JOIN multi m ON m.drug_trac_codg = t.drug_trac_codg
        JOIN fee_details f ON f.setl_id = t.setl_id AND f.feedetl_sn = t.feedetl_sn
        GROUP BY 1, 2
    ), multi_setl AS (
        SELECT * FROM lines WHERE code IN (SELECT code FROM lines GROUP BY 1 HAVING count(*) > 1)
    ), rows AS (
        SELECT l.*, s.psn_no, s.fixmedins_code, i.admdvs, i.lon, i.lat, s.setl_time,
               s.init_setl_id, s.init_setl_id IS NOT NULL AS is_reversal, r.reversed_at,
               s.fund_pay_sumamt
        FROM multi_setl l
        JOIN settlements s ON s.setl_id = l.setl_id
        LEFT JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        LEFT JOIN _reversed r ON r.setl_id = l.setl_id
    ), sales AS (
        SELECT code, setl_id,
               lead(setl_time) OVER w AS next_time,
               lead(fixmedins_code) OVER w AS next_inst,
               lead(setl_id) OVER w AS next_setl_id
        FROM rows WHERE NOT is_reversal
        WINDOW w AS (PARTITION BY code ORDER BY setl_time, setl_id)
    )
    SELECT r.*, s.next_time, s.next_inst, s.next_setl_id,
           CASE WHEN r.is_reversal THEN false
                ELSE NOT (r.reversed_at IS NOT NULL
                          AND (s.next_time IS NULL OR r.reversed_at <= s.next_time))
           END AS effective
    FROM rows r LEFT JOIN sales s ON s.code = r.code AND s.setl_id = r.setl_id""",
    f"""CREATE OR REPLACE TEMP TABLE _trace_pairs AS
    WITH e AS (
        SELECT code, setl_id, fixmedins_code, setl_time, lon, lat,
               lag(setl_id) OVER w AS prev_setl_id, lag(fixmedins_code) OVER w AS prev_inst,
               lag(setl_time) OVER w AS prev_time, lag(lon) OVER w AS prev_lon,
               lag(lat) OVER w AS prev_lat
        FROM _trace_rows WHERE effective
        WINDOW w AS (PARTITION BY code ORDER BY setl_time, setl_id)
    )
    SELECT code, prev_setl_id, prev_inst, prev_time, setl_id, fixmedins_code, setl_time,
           epoch(setl_time - prev_time) / 86400.0 AS gap_days,
           {haversine_km_sql("prev_lon", "prev_lat", "lon", "lat")} AS km
    FROM e WHERE prev_setl_id IS NOT NULL""",
    """CREATE OR REPLACE TEMP TABLE _trace_class AS
    WITH price AS (
        SELECT med_list_codg, median(pric) AS typical_pric FROM fee_details
        WHERE med_list_codg IN (SELECT DISTINCT med_list_codg FROM _trace_rows)
          AND cnt > 0 AND pric > 0
        GROUP BY 1
    ), per_code AS (
        SELECT t.code, min(t.med_list_codg) AS med_list_codg,
               count(*) AS n_sales,
               count(*) FILTER (WHERE t.effective) AS n_effective,
               count(*) FILTER (WHERE NOT t.effective) AS n_refunded,
               count(DISTINCT t.fixmedins_code) FILTER (WHERE t.effective) AS n_institutions,
               bool_and(t.pric <= $ratio * p.typical_pric OR t.cnt <> trunc(t.cnt))
                   FILTER (WHERE t.effective) AS split_evidence,
               min(t.pric) FILTER (WHERE t.effective) AS min_pric,
               max(t.pric) FILTER (WHERE t.effective) AS max_pric,
               sum(t.cnt) FILTER (WHERE t.effective) AS sum_cnt,
               any_value(p.typical_pric) AS typical_pric,
               min(t.fixmedins_code) FILTER (WHERE t.effective) AS one_inst,
               min(t.setl_time) FILTER (WHERE t.effective) AS first_sale,
               max(t.setl_time) FILTER (WHERE t.effective) AS last_sale,
               arg_min({'setl_time': t.setl_time, 'inst': t.fixmedins_code,
                        'reversed_at': t.reversed_at, 'next_time': t.next_time,
                        'next_inst': t.next_inst},
                       {'t': t.setl_time, 's': t.setl_id})
                   FILTER (WHERE NOT t.effective) AS refund
        FROM _trace_rows t LEFT JOIN price p USING (med_list_codg)
        WHERE NOT t.is_reversal
        GROUP BY t.code HAVING count(*) >= 2
    ), cross_pairs AS (
        SELECT code, min(gap_days) AS min_gap_days, max(km) AS max_km,
               arg_min({'from_inst': prev_inst, 'from_time': prev_time, 'to_inst': fixmedins_code,
                        'to_time': setl_time, 'gap_days': gap_days, 'km': km},
                       {'t': setl_time, 's': setl_id}) AS first_cross,
               arg_min({'from_inst': prev_inst, 'from_time': prev_time, 'to_inst': fixmedins_code,
                        'to_time': setl_time, 'gap_days': gap_days, 'km': km},
                       {'g': gap_days, 't': setl_time, 's': setl_id}) AS closest_cross
        FROM _trace_pairs WHERE prev_inst <> fixmedins_code
        GROUP BY code
    )
    SELECT c.*, x.min_gap_days, x.max_km, x.first_cross, x.closest_cross,
           CASE WHEN c.n_effective <= 1 THEN 'refund'
                WHEN c.n_institutions = 1 AND coalesce(c.split_evidence, false) THEN 'split_pack'
                WHEN c.n_institutions = 1 THEN 'item_substitution'
                WHEN x.min_gap_days < $gap_days THEN 'counterfeit'
                ELSE 'resale' END AS hit_class
    FROM per_code c LEFT JOIN cross_pairs x USING (code)""",
)


def _trace_evidence(lang: Literal["zh", "en"]) -> str:
    """SQL CASE giving a ``TRACE_REUSE`` hit's evidence sentence from ``_trace_class`` ``c``."""
    def d(ts: str) -> str:
        return f"strftime({ts}, '%Y-%m-%d')"

    fc, cc, rf = "c.first_cross", "c.closest_cross", "c.refund"
    if lang == "zh":
        resale = (
            f"format('同一追溯码 {{}} 于 {{}} 在 {{}} 结算后，{{}}后又在 {{}}（{{}}）再次结算；"
            f"共 {{}} 次有效结算，涉及 {{}} 家机构', c.code, {d(fc + '.from_time')}, "
            f"{fc}.from_inst, {_gap_sql(fc + '.gap_days', 'zh')}, {fc}.to_inst, "
            f"{_km_sql(fc + '.km', 'zh')}, c.n_effective, c.n_institutions)")
        counterfeit = (
            f"format('同一追溯码 {{}} 于 {{}} 在 {{}} 结算，仅 {{}}后又在 {{}}（{{}}）结算，"
            f"一盒药不可能如此流转，疑似伪造追溯码；共 {{}} 次有效结算', c.code, "
            f"{d(cc + '.from_time')}, {cc}.from_inst, {_gap_sql(cc + '.gap_days', 'zh')}, "
            f"{cc}.to_inst, {_km_sql(cc + '.km', 'zh')}, c.n_effective)")
        substitution = (
            "format('同一追溯码 {} 在同一机构 {} 于 {} 至 {} 结算 {} 次，单价 {:.2f} 元"
            "（该目录常见单价 {:.2f} 元），非拆零，疑似串换或重复收费', c.code, c.one_inst, "
            f"{d('c.first_sale')}, {d('c.last_sale')}, c.n_effective, c.min_pric, "
            "c.typical_pric)")
        split = (
            "format('追溯码 {} 在同一机构 {} 拆零销售 {} 次（{} 至 {}），单价 {:.2f} 元"
            "远低于整盒常见单价 {:.2f} 元，合计数量 {}：属拆零销售', c.code, c.one_inst, "
            f"c.n_effective, {d('c.first_sale')}, {d('c.last_sale')}, c.min_pric, "
            "c.typical_pric, c.sum_cnt::DOUBLE)")
        refund = (
            f"format('追溯码 {{}} 于 {{}} 在 {{}} 售出，{{}} 冲销退货后，{{}}在 {{}} 再次售出；"
            f"冲销 {{}} 次、有效结算 {{}} 次：属退货后重新销售', c.code, {d(rf + '.setl_time')}, "
            f"{rf}.inst, {d(rf + '.reversed_at')}, "
            f"coalesce({d(rf + '.next_time')} || ' ', '其后未'), "
            f"coalesce({rf}.next_inst, '任何机构'), c.n_refunded, c.n_effective)")
    else:
        resale = (
            f"format('Trace code {{}} was settled at {{}} on {{}} and again {{}} later at {{}} "
            f"({{}}); {{}} effective settlements at {{}} institutions', c.code, "
            f"{fc}.from_inst, {d(fc + '.from_time')}, {_gap_sql(fc + '.gap_days', 'en')}, "
            f"{fc}.to_inst, {_km_sql(fc + '.km', 'en')}, c.n_effective, c.n_institutions)")
        counterfeit = (
            f"format('Trace code {{}} was settled at {{}} on {{}} and only {{}} later at {{}} "
            f"({{}}), too fast for one box to change hands: suspected forged code; {{}} effective "
            f"settlements', c.code, {cc}.from_inst, {d(cc + '.from_time')}, "
            f"{_gap_sql(cc + '.gap_days', 'en')}, {cc}.to_inst, {_km_sql(cc + '.km', 'en')}, "
            "c.n_effective)")
        substitution = (
            "format('Trace code {} was settled {} times at the same institution {} from {} to "
            "{} at {:.2f} yuan a unit (usual price {:.2f} yuan), not a split pack: suspected "
            "item substitution or double billing', c.code, c.n_effective, c.one_inst, "
            f"{d('c.first_sale')}, {d('c.last_sale')}, c.min_pric, c.typical_pric)")
        split = (
            "format('Trace code {} was sold in {} parts at the same institution {} ({} to {}) "
            "at {:.2f} yuan a unit, far below the usual box price of {:.2f} yuan, {} units in "
            "all: a split pack', c.code, c.n_effective, c.one_inst, "
            f"{d('c.first_sale')}, {d('c.last_sale')}, c.min_pric, c.typical_pric, "
            "c.sum_cnt::DOUBLE)")
        refund = (
            f"format('Trace code {{}} was sold at {{}} on {{}}, refunded (reversed) on {{}}, then "
            f"sold again {{}} at {{}}; {{}} reversed and {{}} effective sales: a return sold "
            f"again', c.code, {rf}.inst, {d(rf + '.setl_time')}, {d(rf + '.reversed_at')}, "
            f"coalesce('on ' || {d(rf + '.next_time')}, 'never'), "
            f"coalesce({rf}.next_inst, 'no institution'), c.n_refunded, c.n_effective)")
    return (f"CASE c.hit_class WHEN 'resale' THEN {resale} WHEN 'counterfeit' THEN {counterfeit} "
            f"WHEN 'item_substitution' THEN {substitution} WHEN 'split_pack' THEN {split} "
            f"ELSE {refund} END")


def _trace_reuse(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    classify_trace_codes(con, rule)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _hits AS
    WITH per AS (
        SELECT code, list_sort(list_distinct(list(psn_no))) AS persons,
               list_sort(list_distinct(list(fixmedins_code))) AS institutions,
               list_sort(list_distinct(list(setl_id))) AS setl_ids
        FROM _trace_rows WHERE code IN (SELECT code FROM _trace_class) GROUP BY code
    )
    SELECT [c.code] AS hit_keys, c.hit_class, 'trace_code' AS subject_kind,
           c.code AS subject_id, p.persons, p.institutions, []::VARCHAR[] AS practitioners,
           p.setl_ids, [c.code] AS trace_codes,
           {_trace_evidence("zh")} AS evidence_zh, {_trace_evidence("en")} AS evidence_en,
           json_object('med_list_codg', c.med_list_codg, 'n_sales', c.n_sales,
                       'n_effective', c.n_effective, 'n_refunded', c.n_refunded,
                       'n_institutions', c.n_institutions,
                       'min_gap_days', round(c.min_gap_days, 2), 'max_km', round(c.max_km, 1),
                       'unit_price_yuan', c.min_pric::DOUBLE,
                       'typical_price_yuan', c.typical_pric::DOUBLE,
                       'total_cnt', c.sum_cnt::DOUBLE) AS metrics
    FROM _trace_class c JOIN per p USING (code)""")


def _impossible_travel(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    params = {"max_speed": rule.number("max_speed_kmh"),
              "min_km": rule.number("min_distance_km")}
    trip = ("{'from_setl_id': from_setl, 'to_setl_id': to_setl, 'from_inst': from_inst, "
            "'to_inst': to_inst, 'from_time': from_time, 'to_time': to_time, "
            "'km': round(km, 1), 'minutes': round(minutes, 1), "
            "'speed_kmh': round(km * 60 / greatest(minutes, 1), 0)}")
    _run(con, f"""CREATE OR REPLACE TEMP TABLE _hits AS
    WITH v AS (
        SELECT s.psn_no, s.setl_id, s.setl_time, s.fixmedins_code, i.lon, i.lat
        FROM _effective s JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        WHERE i.lon IS NOT NULL AND i.lat IS NOT NULL
    ), legs AS (
        SELECT psn_no, lag(setl_id) OVER w AS from_setl, lag(setl_time) OVER w AS from_time,
               lag(fixmedins_code) OVER w AS from_inst, lag(lon) OVER w AS from_lon,
               lag(lat) OVER w AS from_lat, setl_id AS to_setl, setl_time AS to_time,
               fixmedins_code AS to_inst, lon AS to_lon, lat AS to_lat
        FROM v WINDOW w AS (PARTITION BY psn_no ORDER BY setl_time, setl_id)
    ), trips AS (
        SELECT *, {haversine_km_sql("from_lon", "from_lat", "to_lon", "to_lat")} AS km,
               epoch(to_time - from_time) / 60.0 AS minutes
        FROM legs WHERE from_inst IS NOT NULL AND from_inst <> to_inst
    ), bad AS (
        SELECT * FROM trips WHERE km >= $min_km AND km > $max_speed * minutes / 60.0
    ), per AS (
        SELECT psn_no, count(*) AS n_trips, max(km) AS max_km, min(minutes) AS min_minutes,
               arg_min({trip}, {{'t': from_time, 's': to_setl}}) AS first,
               list({trip} ORDER BY from_time, to_setl) AS trips,
               list_sort(list_distinct(flatten(list([from_inst, to_inst])))) AS institutions,
               list_sort(list_distinct(flatten(list([from_setl, to_setl])))) AS setl_ids
        FROM bad GROUP BY psn_no
    )
    SELECT [psn_no] AS hit_keys, NULL::VARCHAR AS hit_class, 'person' AS subject_kind,
           psn_no AS subject_id, [psn_no] AS persons, institutions,
           []::VARCHAR[] AS practitioners, setl_ids, []::VARCHAR[] AS trace_codes,
           format('参保人 {{}} 于 {{}} 在 {{}} 结算，{{:.0f}} 分钟后在 {{}} 结算，'
                  '两地相距 {{:.0f}} 公里（折合时速约 {{:.0f}} 公里）；共 {{}} 次不可能行程',
                  psn_no,
                  strftime(first.from_time, '%Y-%m-%d %H:%M'), first.from_inst,
                  first.minutes, first.to_inst, first.km, first.speed_kmh, n_trips)
               AS evidence_zh,
           format('Insured person {{}} settled at {{}} on {{}} and {{:.0f}} minutes later at {{}}, '
                  '{{:.0f}} km away (about {{:.0f}} km/h); {{}} impossible trips in all', psn_no,
                  first.from_inst, strftime(first.from_time, '%Y-%m-%d %H:%M'), first.minutes,
                  first.to_inst, first.km, first.speed_kmh, n_trips) AS evidence_en,
           json_object('n_trips', n_trips, 'max_km', round(max_km, 1),
                       'min_minutes', round(min_minutes, 1), 'trips', to_json(trips)) AS metrics
    FROM per""", params)


def _overlapping_stays(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    params = {"med_types": rule.codes("inpatient_med_types"),
              "min_days": int(rule.number("min_overlap_days"))}
    pair = ("{'first_setl_id': a.setl_id, 'second_setl_id': b.setl_id, "
            "'first_inst': a.fixmedins_code, 'second_inst': b.fixmedins_code, "
            "'first_begin': a.begndate, 'first_end': a.enddate, 'second_begin': b.begndate, "
            "'second_end': b.enddate, "
            "'overlap_days': least(a.enddate, b.enddate) - greatest(a.begndate, b.begndate)}")
    _run(con, f"""CREATE OR REPLACE TEMP TABLE _hits AS
    WITH st AS (
        SELECT setl_id, psn_no, fixmedins_code, begndate, enddate FROM _effective
        WHERE med_type IN (SELECT unnest($med_types::VARCHAR[]))
          AND begndate IS NOT NULL AND enddate IS NOT NULL
    ), pairs AS (
        SELECT a.psn_no, {pair} AS p
        FROM st a JOIN st b ON a.psn_no = b.psn_no
         AND (a.begndate < b.begndate OR (a.begndate = b.begndate AND a.setl_id < b.setl_id))
        WHERE b.begndate < a.enddate
          AND least(a.enddate, b.enddate) - greatest(a.begndate, b.begndate) >= $min_days
    ), per AS (
        SELECT psn_no, count(*) AS n_pairs, sum(p.overlap_days) AS overlap_days,
               arg_min(p, {{'b': p.first_begin, 's': p.first_setl_id, 't': p.second_setl_id}})
                   AS first,
               list(p ORDER BY p.first_begin, p.first_setl_id, p.second_setl_id) AS pairs,
               list_sort(list_distinct(flatten(list([p.first_inst, p.second_inst]))))
                   AS institutions,
               list_sort(list_distinct(flatten(list([p.first_setl_id, p.second_setl_id]))))
                   AS setl_ids
        FROM pairs GROUP BY psn_no
    )
    SELECT [psn_no] AS hit_keys, NULL::VARCHAR AS hit_class, 'person' AS subject_kind,
           psn_no AS subject_id, [psn_no] AS persons, institutions,
           []::VARCHAR[] AS practitioners, setl_ids, []::VARCHAR[] AS trace_codes,
           format('参保人 {{}} 在 {{}} 住院（{{}} 至 {{}}）期间，'
                  '又在 {{}}{{}} 住院（{{}} 至 {{}}），重叠 {{}} 天；共 {{}} 对重叠住院',
                  psn_no, first.first_inst,
                  first.first_begin, first.first_end, first.second_inst,
                  CASE WHEN first.first_inst = first.second_inst THEN '（同一机构）' ELSE '' END,
                  first.second_begin, first.second_end, first.overlap_days, n_pairs)
               AS evidence_zh,
           format('Insured person {{}} was an inpatient at {{}} ({{}} to {{}}) and at {{}}{{}} '
                  '({{}} to {{}}), {{}} days overlapping; {{}} overlapping pairs', psn_no,
                  first.first_inst, first.first_begin, first.first_end, first.second_inst,
                  CASE WHEN first.first_inst = first.second_inst THEN ' (the same institution)'
                       ELSE '' END,
                  first.second_begin, first.second_end, first.overlap_days, n_pairs)
               AS evidence_en,
           json_object('n_pairs', n_pairs, 'overlap_days', overlap_days,
                       'pairs', to_json(pairs)) AS metrics
    FROM per""", params)


_PHARMACY = pharmacy_sql()


def _many_pharmacies_day(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    params = {"min_pharmacies": int(rule.number("min_pharmacies"))}
    _run(con, f"""CREATE OR REPLACE TEMP TABLE _hits AS
    WITH ph AS (
        SELECT s.psn_no, s.setl_id, s.setl_time, s.fixmedins_code, s.medfee_sumamt
        FROM _effective s JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        WHERE {_PHARMACY}
    ), days AS (
        SELECT psn_no, setl_time::DATE AS day, count(DISTINCT fixmedins_code) AS n_pharmacies,
               count(*) AS n_settlements, min(setl_time) AS t0, max(setl_time) AS t1,
               sum(medfee_sumamt)::DOUBLE AS medfee,
               list_sort(list_distinct(list(fixmedins_code))) AS institutions,
               list_sort(list(setl_id)) AS setl_ids
        FROM ph GROUP BY 1, 2 HAVING count(DISTINCT fixmedins_code) >= $min_pharmacies
    )
    SELECT [psn_no, strftime(day, '%Y-%m-%d')] AS hit_keys, NULL::VARCHAR AS hit_class,
           'person' AS subject_kind, psn_no AS subject_id, [psn_no] AS persons, institutions,
           []::VARCHAR[] AS practitioners, setl_ids, []::VARCHAR[] AS trace_codes,
           format('参保人 {{}} 于 {{}} 一天内在 {{}} 家药店结算 {{}} 次（{{}}–{{}}），'
                  '医疗费合计 {{:.2f}} 元',
                  psn_no, strftime(day, '%Y-%m-%d'), n_pharmacies, n_settlements,
                  strftime(t0, '%H:%M'), strftime(t1, '%H:%M'), medfee) AS evidence_zh,
           format('Insured person {{}} settled {{}} times at {{}} pharmacies on {{}} ({{}}-{{}}), '
                  '{{:.2f}} yuan in all', psn_no, n_settlements, n_pharmacies,
                  strftime(day, '%Y-%m-%d'), strftime(t0, '%H:%M'), strftime(t1, '%H:%M'),
                  medfee) AS evidence_en,
           json_object('day', strftime(day, '%Y-%m-%d'), 'n_pharmacies', n_pharmacies,
                       'n_settlements', n_settlements, 'medfee_yuan', round(medfee, 2))
               AS metrics
    FROM days""", params)


def _doctor_pharmacy(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    params = {"min_rx": int(rule.number("min_prescriptions")),
              "min_share": rule.number("min_share"), "min_lift": rule.number("min_lift")}
    _run(con, f"""CREATE OR REPLACE TEMP TABLE _hits AS
    WITH ph AS (
        SELECT s.setl_id, s.psn_no, s.fixmedins_code, i.admdvs
        FROM _effective s JOIN institutions i ON i.fixmedins_code = s.fixmedins_code
        WHERE {_PHARMACY}
    ), rx AS (
        SELECT DISTINCT f.bilg_dr_codg AS dr, p.setl_id, p.fixmedins_code AS pharmacy,
               p.admdvs, p.psn_no
        FROM fee_details f JOIN ph p ON p.setl_id = f.setl_id
        WHERE f.bilg_dr_codg LIKE 'D%'
    ), market AS (
        SELECT fixmedins_code AS pharmacy, count(*) AS n FROM ph GROUP BY 1
    ), area AS (
        SELECT admdvs, count(*) AS n FROM ph GROUP BY 1
    ), per_pharmacy AS (
        SELECT dr, pharmacy, admdvs, count(*) AS n FROM rx GROUP BY ALL
    ), per_doctor AS (
        SELECT dr, sum(n) AS total, count(*) AS n_pharmacies,
               arg_max(pharmacy, {{'n': n, 'p': pharmacy}}) AS top_pharmacy,
               arg_max(admdvs, {{'n': n, 'p': pharmacy}}) AS top_admdvs,
               max(n) AS top_n
        FROM per_pharmacy GROUP BY dr
        HAVING sum(n) >= $min_rx AND max(n) >= $min_share * sum(n)
    ), scored AS (
        -- the pharmacy's share of its division's pharmacy settlements, without this doctor's
        SELECT d.*, (m.n - d.top_n) / nullif(a.n - (
                   SELECT sum(pp.n) FROM per_pharmacy pp
                   WHERE pp.dr = d.dr AND pp.admdvs = d.top_admdvs), 0) AS market_share
        FROM per_doctor d JOIN market m ON m.pharmacy = d.top_pharmacy
        JOIN area a ON a.admdvs = d.top_admdvs
    ), top AS (
        SELECT d.dr, d.total, d.n_pharmacies, d.top_pharmacy, d.top_n, d.market_share,
               list_sort(list_distinct(list(r.psn_no))) AS persons,
               list_sort(list(r.setl_id)) AS setl_ids
        FROM scored d JOIN rx r ON r.dr = d.dr AND r.pharmacy = d.top_pharmacy
        WHERE d.top_n >= $min_lift * d.market_share * d.total
        GROUP BY ALL
    )
    SELECT [t.dr, t.top_pharmacy] AS hit_keys, NULL::VARCHAR AS hit_class,
           'practitioner' AS subject_kind, t.dr AS subject_id, t.persons,
           list_sort(list_distinct([t.top_pharmacy, p.fixmedins_code])) AS institutions,
           [t.dr] AS practitioners, t.setl_ids, []::VARCHAR[] AS trace_codes,
           format('医师 {{}}（所属 {{}}）在药店结算的 {{}} 张处方中 {{}} 张（{{:.0f}}%）'
                  '集中在药店 {{}}，而该药店在当地药店结算中仅占 {{:.0f}}%；涉及 {{}} 名参保人',
                  t.dr,
                  coalesce(p.fixmedins_code, '机构未知'), t.total, t.top_n,
                  100.0 * t.top_n / t.total, t.top_pharmacy, 100.0 * t.market_share,
                  len(t.persons)) AS evidence_zh,
           format('Doctor {{}} (of {{}}): {{}} of {{}} prescriptions settled at pharmacies '
                  '({{:.0f}}%) went to pharmacy {{}}, which has {{:.0f}}% of the local pharmacy '
                  'settlements; {{}} patients', t.dr,
                  coalesce(p.fixmedins_code, 'unknown institution'), t.top_n, t.total,
                  100.0 * t.top_n / t.total, t.top_pharmacy, 100.0 * t.market_share,
                  len(t.persons)) AS evidence_en,
           json_object('prescriptions', t.total, 'at_top_pharmacy', t.top_n,
                       'share', round(t.top_n / t.total, 3),
                       'market_share', round(t.market_share, 3),
                       'lift', round(t.top_n / t.total / nullif(t.market_share, 0), 1),
                       'n_pharmacies', t.n_pharmacies, 'n_patients', len(t.persons),
                       'top_pharmacy', t.top_pharmacy,
                       'doctor_institution', p.fixmedins_code) AS metrics
    FROM top t LEFT JOIN practitioners p ON p.dr_codg = t.dr""", params)


def _dialysis_capacity(con: duckdb.DuckDBPyConnection, rule: Rule) -> None:
    table = rule.table("capacity_per_day_by_hosp_lv")
    params = {"codes": rule.codes("dialysis_item_codes"), "levels": list(table),
              "caps": list(table.values()),
              "default_cap": int(rule.number("capacity_per_day_default")),
              "max_person": rule.number("max_sessions_per_person_day")}
    _run(con, """CREATE OR REPLACE TEMP TABLE _hits AS
    WITH d AS (
        SELECT s.setl_id, s.psn_no, s.fixmedins_code, s.setl_time::DATE AS day,
               sum(f.cnt) AS sessions
        FROM fee_details f JOIN _effective s ON s.setl_id = f.setl_id
        WHERE f.med_list_codg IN (SELECT unnest($codes::VARCHAR[]))
        GROUP BY ALL
    ), cap AS (
        SELECT unnest($levels::VARCHAR[]) AS hosp_lv, unnest($caps::INTEGER[]) AS capacity
    ), inst_day AS (
        SELECT d.fixmedins_code, d.day, sum(d.sessions)::DOUBLE AS sessions,
               count(DISTINCT d.psn_no) AS patients,
               any_value(i.hosp_lv) AS hosp_lv,
               any_value(coalesce(c.capacity, $default_cap)) AS capacity,
               list(d.setl_id) AS setl_ids, list(d.psn_no) AS persons
        FROM d LEFT JOIN institutions i ON i.fixmedins_code = d.fixmedins_code
        LEFT JOIN cap c ON c.hosp_lv = i.hosp_lv
        GROUP BY 1, 2
    ), inst_over AS (
        SELECT fixmedins_code, any_value(hosp_lv) AS hosp_lv, any_value(capacity) AS capacity,
               count(*) AS n_days, max(sessions) AS max_sessions,
               arg_max(day, {'n': sessions, 'd': day}) AS worst_day,
               list({'day': day, 'sessions': sessions, 'patients': patients} ORDER BY day)
                   AS days,
               list_sort(list_distinct(flatten(list(persons)))) AS persons,
               list_sort(list_distinct(flatten(list(setl_ids)))) AS setl_ids
        FROM inst_day WHERE sessions > capacity GROUP BY 1
    ), person_day AS (
        SELECT psn_no, day, sum(sessions)::DOUBLE AS sessions,
               list_distinct(list(fixmedins_code)) AS institutions, list(setl_id) AS setl_ids
        FROM d GROUP BY 1, 2 HAVING sum(sessions) > $max_person
    ), person_over AS (
        SELECT psn_no, count(*) AS n_days, max(sessions) AS max_sessions,
               arg_max(day, {'n': sessions, 'd': day}) AS worst_day,
               list({'day': day, 'sessions': sessions} ORDER BY day) AS days,
               list_sort(list_distinct(flatten(list(institutions)))) AS institutions,
               list_sort(list_distinct(flatten(list(setl_ids)))) AS setl_ids
        FROM person_day GROUP BY 1
    )
    SELECT [fixmedins_code, 'over_capacity'] AS hit_keys, 'over_capacity' AS hit_class,
           'institution' AS subject_kind, fixmedins_code AS subject_id, persons,
           [fixmedins_code] AS institutions, []::VARCHAR[] AS practitioners, setl_ids,
           []::VARCHAR[] AS trace_codes,
           format('机构 {}（等级 {}，日透析能力约 {} 人次）在 {} 天超负荷，'
                  '最多一天（{}）{:.0f} 人次',
                  fixmedins_code, coalesce(hosp_lv, '未知'), capacity, n_days,
                  strftime(worst_day, '%Y-%m-%d'), max_sessions) AS evidence_zh,
           format('Institution {} (level {}, about {} sessions a day) was over capacity on {} '
                  'days, at most {:.0f} sessions on {}', fixmedins_code,
                  coalesce(hosp_lv, 'unknown'), capacity, n_days, max_sessions,
                  strftime(worst_day, '%Y-%m-%d')) AS evidence_en,
           json_object('capacity_per_day', capacity, 'hosp_lv', hosp_lv, 'n_days', n_days,
                       'max_sessions', max_sessions, 'days', to_json(days)) AS metrics
    FROM inst_over
    UNION ALL
    SELECT [psn_no, 'double_session'], 'double_session', 'person', psn_no, [psn_no],
           institutions, []::VARCHAR[], setl_ids, []::VARCHAR[],
           format('参保人 {} 在 {} 天每天透析超过 {:.0f} 次，最多一天（{}）{:.0f} 次', psn_no,
                  n_days, $max_person, strftime(worst_day, '%Y-%m-%d'), max_sessions),
           format('Insured person {} had more than {:.0f} dialysis session a day on {} days, '
                  '{:.0f} on {}', psn_no, $max_person, n_days, max_sessions,
                  strftime(worst_day, '%Y-%m-%d')),
           json_object('n_days', n_days, 'max_sessions', max_sessions, 'days', to_json(days))
    FROM person_over""", params)


_IMPLEMENTATIONS: dict[str, Callable[[duckdb.DuckDBPyConnection, Rule], None]] = {
    "TRACE_REUSE": _trace_reuse,
    "IMPOSSIBLE_TRAVEL": _impossible_travel,
    "OVERLAPPING_STAYS": _overlapping_stays,
    "MANY_PHARMACIES_DAY": _many_pharmacies_day,
    "DOCTOR_PHARMACY_CONCENTRATION": _doctor_pharmacy,
    "DIALYSIS_CAPACITY": _dialysis_capacity,
}

_INSERT_HITS = """INSERT INTO rule_hits
    WITH h AS (
        SELECT *, $rule_id || '-' || substr(sha1(array_to_string(list_sort(hit_keys), '|')), 1, 12)
                  AS hit_id
        FROM _hits
    ), money AS (
        SELECT u.hit_id, min(s.setl_time) AS first_time, max(s.setl_time) AS last_time,
               coalesce(sum(s.fund_pay_sumamt) FILTER (WHERE e.setl_id IS NOT NULL), 0)::DOUBLE
                   AS fund_amount,
               coalesce(sum(s.acct_pay) FILTER (WHERE e.setl_id IS NOT NULL), 0)::DOUBLE
                   AS acct_amount
        FROM (SELECT hit_id, unnest(setl_ids) AS setl_id FROM h) u
        JOIN settlements s ON s.setl_id = u.setl_id
        LEFT JOIN _effective e ON e.setl_id = u.setl_id
        GROUP BY u.hit_id
    )
    SELECT h.hit_id, $rule_id, coalesce(c.severity, $severity), h.hit_class, h.subject_kind,
           h.subject_id, h.persons, h.institutions, h.practitioners, h.setl_ids, h.trace_codes,
           m.first_time, m.last_time, coalesce(m.fund_amount, 0), h.evidence_zh, h.evidence_en,
           h.metrics, coalesce(m.acct_amount, 0)
    FROM h LEFT JOIN money m USING (hit_id)
    LEFT JOIN (SELECT unnest($classes::VARCHAR[]) AS hit_class,
                      unnest($class_severities::VARCHAR[]) AS severity) c
      ON c.hit_class = h.hit_class
    ORDER BY h.hit_id"""


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """All-or-nothing work on ``con``: a transaction of its own, committed at the end and
    rolled back on an error; inside the caller's open transaction, the caller's (it commits or
    rolls back). A read-only store raises :class:`~yibao.errors.StoreError`."""
    readonly = con.execute("SELECT readonly FROM duckdb_databases() "
                           "WHERE database_name = current_database()").fetchone()
    if readonly is not None and readonly[0]:
        raise StoreError("the store is open read-only: rule hits and chains are written into it; "
                         "open it with read_only=False (or copy it first)")
    # A failed BEGIN would abort the caller's transaction, so ask instead: in autocommit mode
    # every statement runs in a transaction of its own, with a new id.
    ids = [con.execute("SELECT txid_current()").fetchone() for _ in range(2)]
    owned = ids[0] != ids[1]
    if owned:
        con.begin()
    try:
        yield
    except BaseException:
        if owned:
            con.rollback()
        raise
    if owned:
        con.commit()


def _default_rule(rule_id: str) -> Rule:
    for rule in load_rulebase():
        if rule.id == rule_id:
            return rule
    raise SettingsError(f"the shipped rule base has no rule {rule_id}")  # pragma: no cover


def run_rules(
    con: duckdb.DuckDBPyConnection,
    rules: Iterable[Rule] | None = None,
    *,
    progress: Callable[[str], None] | None = None,
) -> RuleRun:
    """Run ``rules`` (default: the shipped rule base) over the store and (re)create
    ``rule_hits`` (columns: :data:`HIT_COLUMNS`).

    ``con`` must be writable. Disabled rules are skipped. ``progress(rule_id)`` is called as
    each rule starts. ``fund_amount`` is the fund money (``fund_pay_sumamt``, yuan) of the hit's
    effective settlements; ``first_time``/``last_time`` span all its settlements. Hit ids are
    the rule id and the first 12 hex digits of the SHA-1 of the hit's sorted subject keys, so
    the same data gives the same ids. All-or-nothing: on an error ``rule_hits`` is unchanged
    (inside the caller's open transaction, the caller decides).
    """
    chosen: Sequence[Rule] = tuple(load_rulebase() if rules is None else rules)
    unknown = [r.id for r in chosen if r.id not in _IMPLEMENTATIONS]
    if unknown:
        raise SettingsError(f"no implementation for rule(s) {unknown}: known {list(RULE_IDS)}")
    started = time.perf_counter()
    hits: dict[str, int] = {}
    seconds: dict[str, float] = {}
    classes: dict[str, dict[str, int]] = {}
    with _transaction(con):
        cols = ", ".join(f"{name} {kind}" for name, kind in HIT_COLUMNS)
        con.execute(f"CREATE OR REPLACE TABLE rule_hits ({cols})")
        _prepare(con)
        for rule in chosen:
            if not rule.enabled:
                continue
            if progress is not None:
                progress(rule.id)
            t0 = time.perf_counter()
            _IMPLEMENTATIONS[rule.id](con, rule)
            _run(con, _INSERT_HITS, {
                "rule_id": rule.id, "severity": rule.severity,
                "classes": list(rule.class_severity),
                "class_severities": list(rule.class_severity.values()),
            })
            counts = con.execute(
                "SELECT hit_class, count(*) FROM rule_hits WHERE rule_id = ? GROUP BY 1",
                [rule.id]).fetchall()
            hits[rule.id] = sum(int(n) for _, n in counts)
            if rule.id in _CLASSES:
                classes[rule.id] = {str(k): int(n) for k, n in counts}
            seconds[rule.id] = time.perf_counter() - t0
            log.info("rule %s: %d hits in %.2f s", rule.id, hits[rule.id], seconds[rule.id])
        for name in ("_hits", "_trace_rows", "_trace_pairs", "_trace_class"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return RuleRun(
        hits=MappingProxyType(hits), seconds=MappingProxyType(seconds),
        classes=MappingProxyType({k: MappingProxyType(v) for k, v in classes.items()}),
        total_seconds=time.perf_counter() - started,
    )
