"""Detection settings (weights live in settings, unknown keys refused) and the score."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.scoring import FEATURES, load_detection_settings, score_from_features
from yibao.errors import SettingsError


def test_defaults_weigh_every_feature_and_honest_features_pull_down() -> None:
    st = load_detection_settings()
    assert set(st.weights) == {f.key for f in FEATURES}
    assert st.weights["family_likeness"] < 0
    assert st.weights["chronic_therapy"] < 0
    assert 0 < st.threshold < 1
    assert st.co_settlement.min_co_days >= 2


def test_an_override_file_changes_only_its_keys(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text("[score]\nthreshold = 0.7\nsynchrony = 0.5\n[community]\nengine = "
                    "'networkx'\n", encoding="utf-8")
    st = load_detection_settings(path)
    base = load_detection_settings()
    assert st.threshold == 0.7
    assert st.weights["synchrony"] == 0.5
    assert st.weights["amount_vs_norm"] == base.weights["amount_vs_norm"]
    assert st.community.engine == "networkx"
    assert st.community.resolution == base.community.resolution


@pytest.mark.parametrize(("text", "match"), [
    ("[score]\nsynchronicity = 0.5\n", "unknown feature"),
    ("[scoring]\nx = 1\n", "unknown section"),
    ("[community]\nengin = 'igraph'\n", "unknown key"),
    ("[community]\nmin_persons = 'three'\n", "expected int"),
])
def test_mistakes_are_refused_with_the_fix(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=match):
        load_detection_settings(path)


def test_score_is_the_clipped_weighted_sum() -> None:
    weights = {"synchrony": 0.5, "amount_vs_norm": 0.5, "family_likeness": -1.0}
    assert score_from_features({"synchrony": 1.0, "amount_vs_norm": 0.4}, weights) == \
        pytest.approx(0.7)
    assert score_from_features({"synchrony": 1.0, "family_likeness": 1.0}, weights) == 0.0
    assert score_from_features({"synchrony": 1.0, "amount_vs_norm": 1.0}, weights) == 1.0
