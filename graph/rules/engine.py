"""Running the rule base over the store into ``rule_hits``."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from types import MappingProxyType
from typing import Literal

import duckdb

from graph.rules.rulebase import (
    HIT_COLUMNS,
    RULE_CLASSES,
    RULE_IDS,
    Rule,
    RuleRun,
    load_rulebase,
)
from graph.rules.sqltools import (
    INSERT_HITS,
    STAT_TABLES,
    prepare_views,
    run_sql,
    write_transaction,
)
from graph.rules.trace_codes import trace_reuse
from graph.rules.visits import (
    dialysis_capacity,
    doctor_pharmacy,
    impossible_travel,
    many_pharmacies_day,
    overlapping_stays,
)
from yibao.errors import SettingsError

log = logging.getLogger(__name__)

_IMPLEMENTATIONS: dict[str, Callable[[duckdb.DuckDBPyConnection, Rule], None]] = {
    "TRACE_REUSE": trace_reuse,
    "IMPOSSIBLE_TRAVEL": impossible_travel,
    "OVERLAPPING_STAYS": overlapping_stays,
    "MANY_PHARMACIES_DAY": many_pharmacies_day,
    "DOCTOR_PHARMACY_CONCENTRATION": doctor_pharmacy,
    "DIALYSIS_CAPACITY": dialysis_capacity,
}

PARTITIONED_BY: dict[str, Literal["person", "doctor", "trace_code", "whole"]] = {
    "TRACE_REUSE": "trace_code",
    "IMPOSSIBLE_TRAVEL": "person",
    "OVERLAPPING_STAYS": "person",
    "MANY_PHARMACIES_DAY": "person",
    "DOCTOR_PHARMACY_CONCENTRATION": "doctor",
    "DIALYSIS_CAPACITY": "whole",
}
"""The key each rule's SQL can be split by and give the same hits, part by part: a person's
settlements (``person``), a doctor's prescriptions filled at pharmacies (``doctor``, with the
pharmacy market handed in whole), the sales of one traceability code (``trace_code``, with
the items' usual prices handed in whole) or only the whole of its (small) input (``whole``:
the dialysis sessions, checked per institution-day and per person-day at once). A
partitioned run (:mod:`backends.spark.rules`) refuses a rule missing here."""


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
    with write_transaction(con):
        cols = ", ".join(f"{name} {kind}" for name, kind in HIT_COLUMNS)
        con.execute(f"CREATE OR REPLACE TABLE rule_hits ({cols})")
        prepare_views(con)
        for rule in chosen:
            if not rule.enabled:
                continue
            if progress is not None:
                progress(rule.id)
            t0 = time.perf_counter()
            _IMPLEMENTATIONS[rule.id](con, rule)
            run_sql(con, INSERT_HITS, {
                "rule_id": rule.id, "severity": rule.severity,
                "classes": list(rule.class_severity),
                "class_severities": list(rule.class_severity.values()),
            })
            counts = con.execute(
                "SELECT hit_class, count(*) FROM rule_hits WHERE rule_id = ? GROUP BY 1",
                [rule.id]).fetchall()
            hits[rule.id] = sum(int(n) for _, n in counts)
            if rule.id in RULE_CLASSES:
                classes[rule.id] = {str(k): int(n) for k, n in counts}
            seconds[rule.id] = time.perf_counter() - t0
            log.info("rule %s: %d hits in %.2f s", rule.id, hits[rule.id], seconds[rule.id])
        for name in ("_hits", *STAT_TABLES):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return RuleRun(
        hits=MappingProxyType(hits), seconds=MappingProxyType(seconds),
        classes=MappingProxyType({k: MappingProxyType(v) for k, v in classes.items()}),
        total_seconds=time.perf_counter() - started,
    )
