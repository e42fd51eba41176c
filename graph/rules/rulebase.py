"""The rule base's data: rules, their parameters and severities, read from
``graph/rulebase.toml`` and checked (see :mod:`graph.rules`)."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeAlias

from yibao.errors import SettingsError

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
RULE_CLASSES: dict[str, tuple[str, ...]] = {
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

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as plain dicts (a partitioned run sends the rules to its workers)."""
        params = {k: dict(v) if isinstance(v, Mapping) else v for k, v in self.params.items()}
        return (_rule_of, (self.id, self.name_zh, self.name_en, self.severity,
                           self.description_zh, self.description_en, params,
                           dict(self.class_severity), self.enabled))

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


def _rule_of(rid: str, name_zh: str, name_en: str, severity: Severity, description_zh: str,
             description_en: str, params: dict[str, Any], classes: dict[str, HitSeverity],
             enabled: bool) -> Rule:
    frozen = {k: MappingProxyType(v) if isinstance(v, dict) else v for k, v in params.items()}
    return Rule(rid, name_zh, name_en, severity, description_zh, description_en,
                MappingProxyType(frozen), MappingProxyType(classes), enabled)


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
    return Path(__file__).resolve().parents[1] / "rulebase.toml"


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
    known = RULE_CLASSES.get(rid, ()) if isinstance(rid, str) else ()
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



def default_rule(rule_id: str) -> Rule:
    for rule in load_rulebase():
        if rule.id == rule_id:
            return rule
    raise SettingsError(f"the shipped rule base has no rule {rule_id}")  # pragma: no cover
