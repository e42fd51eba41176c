"""Helpers of the synth tests (a uniquely named module: the tests folders are not packages)."""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from yibao.synth import SynthSummary

SCALE = 10_000
SEED = int(os.environ.get("YIBAO_SYNTH_TEST_SEED", "20240101"))
"""Seed of the shared sets; set ``YIBAO_SYNTH_TEST_SEED`` to run the suite on another one."""
TABLES = ("persons", "institutions", "practitioners", "settlements", "fee_details")


@dataclass(frozen=True)
class SynthSet:
    """One generated folder, its frames and its truth."""

    folder: Path
    summary: SynthSummary
    frames: dict[str, pd.DataFrame]
    truth: dict[str, Any]

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.frames[table]

    def scenarios(self, pattern: str) -> list[dict[str, Any]]:
        return [s for s in self.truth["scenarios"] if s["pattern"] == pattern]


def icd_core(codes: pd.Series) -> pd.Series:
    """Diagnosis codes without their ICD-10 医保版 2.0 extension (``J06.900x001``: ``J06.900``)."""
    return codes.str.replace(r"x\d{3}$", "", regex=True)


_LEVEL_CLASS = {"01": "3", "02": "3", "03": "3", "04": "3", "05": "2", "06": "2", "07": "2",
                "08": "1", "09": "1", "10": "1", "11": "0"}


def level_class(hosp_lv: pd.Series) -> pd.Series:
    """3 三级, 2 二级, 1 一级, 0 无等级/未定级, "" empty: from codes, full and short labels."""
    def one(value: str) -> str:
        if value in _LEVEL_CLASS:
            return _LEVEL_CLASS[value]
        if value in ("无等级", "未定级"):
            return "0"
        return {"三": "3", "二": "2", "一": "1"}.get(value[:1], "") if value else ""
    return hosp_lv.map(one)


def read_text_csv(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)


def fen(values: pd.Series) -> pd.Series:
    """Yuan text with two decimals -> integer fen (exact)."""
    text = values.str.lstrip("-")
    whole = text.str.split(".").str[0].astype("int64")
    frac = text.str.split(".").str[1].astype("int64")
    sign = values.str.startswith("-").map({True: -1, False: 1}).astype("int64")
    return sign * (whole * 100 + frac)


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    la1, la2 = math.radians(lat1), math.radians(lat2)
    a = (math.sin((la2 - la1) / 2) ** 2
         + math.cos(la1) * math.cos(la2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0 * math.asin(math.sqrt(min(a, 1.0)))


def load_set(folder: Path, summary: SynthSummary) -> SynthSet:
    frames = {t: read_text_csv(folder / f"{t}.csv") for t in TABLES}
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    return SynthSet(folder, summary, frames, truth)
