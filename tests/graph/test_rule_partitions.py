"""Every rule says by which key its SQL may be split (a partitioned run refuses one that
does not), and the rules travel to Spark's workers intact."""

from __future__ import annotations

import pickle
from dataclasses import replace

import pytest

from graph.rules import RULE_IDS, load_rulebase
from graph.rules.engine import PARTITIONED_BY
from yibao.errors import SettingsError


def test_every_rule_has_a_partition_key() -> None:
    assert set(PARTITIONED_BY) == set(RULE_IDS)


def test_rules_pickle_to_equal_rules() -> None:
    rules = load_rulebase()
    back = pickle.loads(pickle.dumps(rules))
    assert back == rules
    dialysis = next(r for r in back if r.id == "DIALYSIS_CAPACITY")
    assert dialysis.table("capacity_per_day_by_hosp_lv")
    with pytest.raises(TypeError):  # still read-only after the trip
        dialysis.params["x"] = 1  # type: ignore[index]


def test_a_rule_without_a_partition_key_is_refused() -> None:
    from backends.spark.rules import _rule_groups

    odd = replace(load_rulebase()[0], id="NEW_RULE")
    with pytest.raises(SettingsError, match="PARTITIONED_BY"):
        _rule_groups([odd])
