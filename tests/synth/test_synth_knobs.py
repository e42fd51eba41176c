"""Knobs pin the shapes of the planted rings; truth.json records the shape drawn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from synth_helpers import SCALE, SEED, SynthSet, read_text_csv

from yibao.errors import SynthError
from yibao.synth import synthesize
from yibao.synth.knobs import CardPoolingKnobs, CollusionKnobs, RecruitedKnobs, ScenarioKnobs

PINNED = ScenarioKnobs(
    card_pooling=CardPoolingKnobs(size=(12, 12), locality="local", spread_minutes=(7, 7),
                                  presence=(1, 1), pharmacies=(2, 2), days=(4, 4)),
    collusion=CollusionKnobs(patients=(20, 20), prescriptions=(30, 30), share=(1, 1)),
    recruited=RecruitedKnobs(persons=(25, 25), admission_spread_days=(0, 0),
                             hospitals=(1, 1)),
)


@pytest.fixture(scope="module")
def pinned(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], pd.DataFrame]:
    folder = tmp_path_factory.mktemp("synth_knobs")
    synthesize(folder, scale=SCALE, seed=3, knobs=PINNED)
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    setl = read_text_csv(folder / "settlements.csv")
    setl["time"] = pd.to_datetime(setl["setl_time"])
    return truth, setl


def _of(truth: dict[str, Any], pattern: str) -> list[dict[str, Any]]:
    return [s for s in truth["scenarios"] if s["pattern"] == pattern]


def test_card_pooling_knobs_pin_the_ring(pinned: tuple[dict[str, Any], pd.DataFrame]) -> None:
    truth, setl = pinned
    for s in _of(truth, "card_pooling"):
        p = s["params"]
        assert (p["size"], p["locality"], p["spread_minutes"], p["presence"], p["days"]) == (
            12, "local", 7.0, 1.0, 4)
        assert 1 <= p["pharmacies"] <= 2
        rows = setl[setl["setl_id"].isin(s["setl_ids"])]
        assert len(s["persons"]) == 12
        assert len(rows) == 12 * 4, "every member on every day"
        for _, session in rows.groupby(rows["time"].dt.date):
            assert session["time"].max() - session["time"].min() <= pd.Timedelta(minutes=7)
        assert (rows["psn_no"].str[:4] == rows["fixmedins_code"].str[1:5]).all()


def test_collusion_and_recruited_knobs(pinned: tuple[dict[str, Any], pd.DataFrame]) -> None:
    truth, setl = pinned
    for s in _of(truth, "doctor_pharmacy_collusion"):
        assert s["params"] == {"patients": 20, "prescriptions": 30, "share": 1.0}
        rows = setl[setl["setl_id"].isin(s["setl_ids"]) & setl["fixmedins_code"].str[0].eq("P")]
        assert len(rows) == 30
        assert rows["fixmedins_code"].nunique() == 1
    for s in _of(truth, "recruited_inpatients"):
        p = s["params"]
        assert (p["persons"], p["admission_spread_days"], p["hospitals"]) == (25, 0, 1)
        rows = setl[setl["setl_id"].isin(s["setl_ids"])]
        assert rows["begndate"].nunique() == p["waves"], "each wave admitted on one day"


def test_default_sets_record_params_over_the_whole_range(clean: SynthSet) -> None:
    for s in clean.scenarios("card_pooling"):
        p = s["params"]
        assert p["locality"] in ("local", "far")
        assert 5 <= p["size"] <= 80
        assert 3 <= p["days"] <= 20
        assert 5 <= p["spread_minutes"] <= 60
        assert 0.3 <= p["presence"] <= 1
    for s in clean.scenarios("doctor_pharmacy_collusion"):
        assert 0.6 <= s["params"]["share"] <= 1


def test_default_knobs_change_nothing(clean: SynthSet, tmp_path: Path) -> None:
    synthesize(tmp_path, scale=SCALE, seed=SEED, knobs=ScenarioKnobs())
    for name in ("truth.json", "settlements.csv", "fee_details.csv"):
        assert (tmp_path / name).read_bytes() == (clean.folder / name).read_bytes()


def test_other_seeds_draw_other_shapes(tmp_path: Path) -> None:
    shapes = []
    for seed in (11, 12, 13):
        synthesize(tmp_path / str(seed), scale=SCALE, seed=seed)
        truth = json.loads((tmp_path / str(seed) / "truth.json").read_text(encoding="utf-8"))
        shapes.append(tuple(json.dumps(s["params"], sort_keys=True)
                            for s in _of(truth, "card_pooling")))
    assert len(set(shapes)) == 3


@pytest.mark.parametrize("bad", [
    {"size": (10, 5)}, {"presence": (0.5, 1.5)}, {"locality": "near"}, {"pharmacies": (0, 2)},
])
def test_bad_knobs_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(SynthError, match="knob card_pooling"):
        CardPoolingKnobs(**bad)


def test_synthesize_refuses_knobs_of_the_wrong_type(tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="knobs must be a ScenarioKnobs"):
        synthesize(tmp_path, scale=SCALE, seed=1, knobs={"size": 5})  # type: ignore[arg-type]
