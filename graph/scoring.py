"""Detection settings and the transparent ring score.

A ring's score is a weighted sum of named features, each scaled to 0..1, with the weights in
``graph/detection.toml`` (override with ``YIBAO_DETECTION_CONFIG`` or ``yibao detect
--config``). Nothing is learned: an investigator can read every term. Negative weights are
honest explanations (a family, a course of chronic therapy) that pull a ring down.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from graph.projection import CoSettlementParams
from yibao.errors import SettingsError

__all__ = [
    "FEATURES",
    "CommunityParams",
    "DetectionSettings",
    "Feature",
    "ScoreScale",
    "load_detection_settings",
    "score_from_features",
]


@dataclass(frozen=True)
class Feature:
    """One score feature: its key, Chinese and English names and what it measures."""

    key: str
    name_zh: str
    name_en: str
    meaning_en: str


FEATURES: tuple[Feature, ...] = (
    Feature("synchrony", "就诊同步性", "synchrony of visits",
            "share of the ring's settlements made with another member at the same place "
            "within the co-settlement window"),
    Feature("concentration", "机构集中度", "concentration at one institution",
            "share of the ring's settlements at its busiest institution"),
    Feature("distance_from_home", "距参保地距离", "distance from home",
            "median km from the insured city to the institution, over distance_km_full"),
    Feature("cross_province", "跨省占比", "cross-province share",
            "share of settlements by persons insured in another province"),
    Feature("age_homogeneity", "年龄同质性", "age homogeneity",
            "1 - standard deviation of ages / age_std_years_zero"),
    Feature("diagnosis_homogeneity", "诊断同质性", "diagnosis homogeneity",
            "share of diagnosed settlements with the ring's most common diagnosis"),
    Feature("co_admission", "同期集体入院", "group admissions",
            "share of the ring's settlements that are inpatient stays admitted within a day of "
            "another member's"),
    Feature("amount_vs_norm", "金额偏离度", "amount against the norm",
            "median bill / median bill of the same 医疗类别, on a log scale up to "
            "amount_ratio_full"),
    Feature("rule_evidence", "规则命中", "rule evidence",
            "share of members with a medium or high severity rule hit"),
    Feature("hard_evidence", "确凿违规证据", "hard evidence",
            "share of the ring's settlements named by a high-severity rule hit (a resold "
            "traceability code, an impossible trip)"),
    Feature("family_likeness", "家庭特征", "family likeness",
            "share of members sharing surname and insured city with another member, above what "
            "chance gives a group of that size"),
    Feature("chronic_therapy", "慢特病治疗", "chronic therapy",
            "share of settlements that are 门诊慢特病 (医疗类别 14-16), e.g. dialysis"),
)
_FEATURE_KEYS = tuple(f.key for f in FEATURES)
DEFAULTS_PATH = Path(__file__).with_name("detection.toml")


@dataclass(frozen=True)
class CommunityParams:
    engine: str = ""
    resolution: float = 1.0
    seed: int = 0
    min_persons: int = 3
    attach_share: float = 0.25
    attach_min: int = 2


@dataclass(frozen=True)
class ScoreScale:
    distance_km_full: float = 200.0
    amount_ratio_full: float = 30.0
    age_std_years_zero: float = 15.0


@dataclass(frozen=True)
class DetectionSettings:
    """Everything detection can be told; ``weights`` maps each feature key to its weight."""

    co_settlement: CoSettlementParams
    community: CommunityParams
    weights: Mapping[str, float]
    threshold: float
    scale: ScoreScale


def _build(kind: type[Any], values: Mapping[str, Any], section: str) -> Any:
    known = {f.name: f for f in fields(kind)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SettingsError(f"[{section}]: unknown key(s) {unknown}; known are {sorted(known)}")
    out = {}
    for key, value in values.items():
        default = getattr(kind(), key)
        accepted = (float, int) if isinstance(default, float) else (type(default),)
        if isinstance(value, bool) or not isinstance(value, accepted):
            raise SettingsError(f"[{section}] {key} = {value!r}: expected "
                                f"{type(default).__name__}")
        out[key] = type(default)(value)
    return kind(**out)


def _parse(data: Mapping[str, Any], base: DetectionSettings | None) -> DetectionSettings:
    unknown = sorted(set(data) - {"co_settlement", "community", "score"})
    if unknown:
        raise SettingsError(f"unknown section(s) {unknown}: known are co_settlement, "
                            "community, score")
    score = dict(data.get("score", {}))
    scale = score.pop("scale", {})
    threshold = score.pop("threshold", base.threshold if base else 0.5)
    bad = sorted(set(score) - set(_FEATURE_KEYS))
    if bad:
        raise SettingsError(f"[score]: unknown feature(s) {bad}; features are "
                            f"{list(_FEATURE_KEYS)}")
    weights = dict(base.weights) if base else dict.fromkeys(_FEATURE_KEYS, 0.0)
    weights.update({k: float(v) for k, v in score.items()})

    def merged(kind: type[Any], section: str, values: Mapping[str, Any], current: Any) -> Any:
        start = {f.name: getattr(current, f.name) for f in fields(kind)} if current else {}
        start.update(values)
        return _build(kind, start, section)

    return DetectionSettings(
        co_settlement=merged(CoSettlementParams, "co_settlement", data.get("co_settlement", {}),
                             base.co_settlement if base else None),
        community=merged(CommunityParams, "community", data.get("community", {}),
                         base.community if base else None),
        weights=weights,
        threshold=float(threshold),
        scale=merged(ScoreScale, "score.scale", scale, base.scale if base else None),
    )


def load_detection_settings(path: Path | None = None) -> DetectionSettings:
    """The shipped defaults, overridden by the TOML file at ``path`` (only the keys it has)."""
    text = DEFAULTS_PATH.read_text(encoding="utf-8")
    settings = _parse(tomllib.loads(text), None)
    if path is None:
        return settings
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"cannot read detection settings {path}: {exc}") from exc
    return _parse(data, settings)


def score_from_features(features: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """Sum of weight x feature (features already 0..1), clipped to 0..1."""
    total = sum(weights.get(k, 0.0) * float(features.get(k, 0.0)) for k in _FEATURE_KEYS)
    return min(1.0, max(0.0, total))
