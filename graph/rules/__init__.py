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

from graph.rules.engine import _IMPLEMENTATIONS, run_rules
from graph.rules.rulebase import (
    HIT_COLUMNS,
    RULE_IDS,
    TRACE_CLASSES,
    Rule,
    RuleRun,
    default_rulebase_path,
    load_rulebase,
)
from graph.rules.sqltools import write_transaction
from graph.rules.trace_codes import classify_trace_codes

__all__ = [
    "HIT_COLUMNS",
    "RULE_IDS",
    "TRACE_CLASSES",
    "_IMPLEMENTATIONS",
    "Rule",
    "RuleRun",
    "classify_trace_codes",
    "default_rulebase_path",
    "load_rulebase",
    "run_rules",
    "write_transaction",
]
