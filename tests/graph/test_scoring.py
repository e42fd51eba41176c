"""Detection settings (unknown keys refused, the flag line from a false-discovery rate) and the
score derived from a ring's q-value."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from graph.scoring import FEATURES, load_detection_settings, score_from_q
from yibao.errors import SettingsError


def test_defaults_load_with_a_false_discovery_rate() -> None:
    st = load_detection_settings()
    assert 0 < st.suspicion.fdr < 0.1
    assert st.threshold == pytest.approx(-math.log10(st.suspicion.fdr)
                                         / st.suspicion.surprise_full, abs=1e-4)
    assert st.co_settlement.min_co_days >= 2
    assert len({f.key for f in FEATURES}) == len(FEATURES)
    stored = st.to_json()
    assert stored["suspicion"]["fdr"] == st.suspicion.fdr
    assert stored["community"]["min_persons"] == st.community.min_persons


def test_an_override_file_changes_only_its_keys(tmp_path: Path) -> None:
    path = tmp_path / "d.toml"
    path.write_text("[suspicion]\nfdr = 0.05\n[community]\nengine = 'networkx'\n",
                    encoding="utf-8")
    st = load_detection_settings(path)
    base = load_detection_settings()
    assert st.suspicion.fdr == 0.05
    assert st.suspicion.surprise_full == base.suspicion.surprise_full
    assert st.threshold < base.threshold
    assert st.community.engine == "networkx"
    assert st.community.resolution == base.community.resolution


@pytest.mark.parametrize(("text", "match"), [
    ("[score]\nsynchrony = 0.5\n", "hand weights"),
    ("[scoring]\nx = 1\n", "unknown section"),
    ("[community]\nengin = 'igraph'\n", "unknown key"),
    ("[community]\nmin_persons = 'three'\n", "expected int"),
    ("[suspicion]\nfdr = 1.5\n", "between 0 and 1"),
    ("[suspicion]\nsurprise_full = 0\n", "above 0"),
])
def test_mistakes_are_refused_with_the_fix(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SettingsError, match=match):
        load_detection_settings(path)


def test_score_grows_with_the_evidence_and_meets_the_threshold_at_the_fdr() -> None:
    st = load_detection_settings()
    sp = st.suspicion
    assert score_from_q(sp.fdr, sp.surprise_full) == pytest.approx(st.threshold, abs=1e-4)
    assert score_from_q(1.0, sp.surprise_full) == 0.0
    assert score_from_q(0.0, sp.surprise_full) == 1.0
    assert score_from_q(1e-5, 20) < score_from_q(1e-10, 20) < score_from_q(1e-30, 20) == 1.0
