"""Synthetic sets shared by the synth tests (made once per session at the smallest scale).

``clean`` and ``dirty`` use the same seed and the default (real) export formats, so the dirty
copy can be compared with the clean one; ``legacy`` is the same seed in the legacy formats.
Frames are read as text (``dtype=str``, empty cells as ``""``), as a careful user would.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from synth_helpers import SCALE, SEED, SynthSet, fen, load_set

from yibao.synth import ExportFormats, SynthSummary, synthesize


@pytest.fixture(scope="session")
def clean(tmp_path_factory: pytest.TempPathFactory) -> SynthSet:
    folder = tmp_path_factory.mktemp("synth_clean")
    summary = synthesize(folder, scale=SCALE, seed=SEED)
    return load_set(folder, summary)


@pytest.fixture(scope="session")
def legacy(tmp_path_factory: pytest.TempPathFactory) -> SynthSet:
    folder = tmp_path_factory.mktemp("synth_legacy")
    summary = synthesize(folder, scale=SCALE, seed=SEED, formats=ExportFormats.legacy())
    return load_set(folder, summary)


@pytest.fixture(scope="session", params=["real", "legacy"])
def either(request: pytest.FixtureRequest) -> SynthSet:
    """The clean set in the real formats, then in the legacy formats."""
    name = "clean" if request.param == "real" else "legacy"
    found: SynthSet = request.getfixturevalue(name)
    return found


@pytest.fixture(scope="session")
def dirty_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthSummary]:
    folder = tmp_path_factory.mktemp("synth_dirty")
    summary = synthesize(folder, scale=SCALE, seed=SEED, dirty=True)
    return folder, summary


@pytest.fixture(scope="session")
def settlements(clean: SynthSet) -> pd.DataFrame:
    """Settlements with amounts in fen, times parsed and the institution's type and place."""
    s = clean["settlements"].copy()
    for col in ("medfee_sumamt", "fund_pay_sumamt", "hifp_pay", "acct_pay", "psn_cash_pay"):
        s[col + "_fen"] = fen(s[col])
    s["time"] = pd.to_datetime(s["setl_time"], format="%Y-%m-%d %H:%M:%S")
    inst = clean["institutions"].set_index("fixmedins_code")
    s["inst_type"] = s["fixmedins_code"].map(inst["fixmedins_type"])
    s["lon"] = s["fixmedins_code"].map(inst["lon"]).astype(float)
    s["lat"] = s["fixmedins_code"].map(inst["lat"]).astype(float)
    s["province"] = s["fixmedins_code"].str[1:3]
    return s
