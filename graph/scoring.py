"""Detection settings and the ring score, read from ``graph/detection.toml``.

Override with ``YIBAO_DETECTION_CONFIG`` or ``yibao detect --config``. A ring's **score** is the
strength of the evidence against chance (:mod:`graph.suspicion`): ``min(1, -log10 q /
surprise_full)`` where ``q`` is the ring's Benjamini-Hochberg q-value over all candidates of the
run, so a ring is flagged at the configured false-discovery rate ``fdr`` exactly when its score
reaches ``threshold = -log10 fdr / surprise_full``. Nothing is weighted by hand. The named
features below describe a ring (shown with it, 0..1); they do not set its score.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import tomli_w

from graph.explanations import EXPLANATION_KEYS
from graph.projection import CoSettlementParams
from yibao.errors import SettingsError

__all__ = [
    "FEATURES",
    "HONEST_EXPLANATIONS",
    "CommunityParams",
    "DetectionSettings",
    "Feature",
    "ScoreScale",
    "SuspicionParams",
    "load_detection_settings",
    "load_profile",
    "parse_detection_settings",
    "profile_file",
    "profile_names",
    "save_profile",
    "score_from_q",
    "settings_toml",
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
DEFAULTS_PATH = Path(__file__).with_name("detection.toml")
HONEST_EXPLANATIONS: tuple[str, ...] = tuple(k for k in EXPLANATION_KEYS if k)
"""Every honest explanation detection can test (see :mod:`graph.explanations`)."""


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
class SuspicionParams:
    """How rings are flagged (see :mod:`graph.suspicion`)."""

    fdr: float = 0.01
    """False-discovery rate of the flag line (Benjamini-Hochberg over all candidates)."""
    surprise_full: float = 20.0
    """-log10 q at which the score reaches 1."""
    smoothing: float = 24.0
    """Pseudo-count of settlements added to each institution's traffic in the null model."""
    explained_share: float = 0.6
    """An honest explanation clears a ring when it covers this share of its co-settlements."""
    explanations: tuple[str, ...] = HONEST_EXPLANATIONS
    """The honest explanations tested (keys of :data:`graph.explanations.EXPLANATION_KEYS`)."""


@dataclass(frozen=True)
class DetectionSettings:
    """Everything detection can be told."""

    co_settlement: CoSettlementParams
    community: CommunityParams
    suspicion: SuspicionParams
    scale: ScoreScale

    @property
    def threshold(self) -> float:
        """The score of a ring at q = ``fdr``: rings at or above it are flagged."""
        return score_from_q(self.suspicion.fdr, self.suspicion.surprise_full)

    def to_json(self) -> dict[str, Any]:
        """Every setting as JSON-ready data (stored with each detection run)."""
        return {name: {f.name: getattr(part, f.name) for f in fields(part)}
                for name, part in (("co_settlement", self.co_settlement),
                                   ("community", self.community),
                                   ("suspicion", self.suspicion), ("score_scale", self.scale))}


def _build(kind: type[Any], values: Mapping[str, Any], section: str) -> Any:
    known = {f.name: f for f in fields(kind)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise SettingsError(f"[{section}]: unknown key(s) {unknown}; known are {sorted(known)}")
    out = {}
    for key, value in values.items():
        default = getattr(kind(), key)
        if isinstance(default, tuple):
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise SettingsError(f"[{section}] {key} = {value!r}: expected a list of names")
            out[key] = tuple(value)
            continue
        accepted = (float, int) if isinstance(default, float) else (type(default),)
        if isinstance(value, bool) or not isinstance(value, accepted):
            raise SettingsError(f"[{section}] {key} = {value!r}: expected "
                                f"{type(default).__name__}")
        out[key] = type(default)(value)
    return kind(**out)


_SECTIONS = ("co_settlement", "community", "suspicion", "scale")


def _parse(data: Mapping[str, Any], base: DetectionSettings | None) -> DetectionSettings:
    unknown = sorted(set(data) - set(_SECTIONS))
    if unknown:
        hint = (" (hand weights under [score] are gone: rings are flagged by a false-discovery "
                "rate, [suspicion] fdr)" if "score" in unknown else "")
        raise SettingsError(f"unknown section(s) {unknown}: known are "
                            f"{', '.join(_SECTIONS)}{hint}")

    def merged(kind: type[Any], section: str, current: Any) -> Any:
        start = {f.name: getattr(current, f.name) for f in fields(kind)} if current else {}
        start.update(data.get(section, {}))
        return _build(kind, start, section)

    settings = DetectionSettings(
        co_settlement=merged(CoSettlementParams, "co_settlement",
                             base.co_settlement if base else None),
        community=merged(CommunityParams, "community", base.community if base else None),
        suspicion=merged(SuspicionParams, "suspicion", base.suspicion if base else None),
        scale=merged(ScoreScale, "scale", base.scale if base else None),
    )
    if not 0.0 < settings.suspicion.fdr < 1.0:
        raise SettingsError(f"[suspicion] fdr = {settings.suspicion.fdr}: expected a share "
                            "between 0 and 1, e.g. 0.01")
    unknown_explanations = sorted(set(settings.suspicion.explanations)
                                  - set(HONEST_EXPLANATIONS))
    if unknown_explanations:
        raise SettingsError(f"[suspicion] explanations: unknown {unknown_explanations}; known "
                            f"are {list(HONEST_EXPLANATIONS)}")
    if settings.suspicion.surprise_full <= 0:
        raise SettingsError("[suspicion] surprise_full must be above 0, e.g. 20")
    return settings


def parse_detection_settings(data: Mapping[str, Any]) -> DetectionSettings:
    """Settings from ``detection.toml``-shaped data with every key given (e.g. what
    :func:`settings_toml` returns, changed), validated as a file is."""
    return _parse(data, None)


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


def score_from_q(q: float, surprise_full: float) -> float:
    """The 0..1 score of a ring with Benjamini-Hochberg q-value ``q``."""
    if q <= 0.0:
        return 1.0
    return round(min(1.0, max(0.0, -math.log10(min(q, 1.0)) / surprise_full)), 4)


def settings_toml(settings: DetectionSettings) -> dict[str, dict[str, Any]]:
    """``settings`` in the layout of ``detection.toml`` (what :func:`load_detection_settings`
    reads back to the same settings)."""
    parts: dict[str, Any] = {"co_settlement": settings.co_settlement,
                             "community": settings.community,
                             "suspicion": settings.suspicion, "scale": settings.scale}
    return {name: {f.name: (list(v) if isinstance(v := getattr(part, f.name), tuple) else v)
                   for f in fields(part)}
            for name, part in parts.items()}


_PROFILE_NAME = re.compile(r"^[\w\-]{1,40}$")


def profile_file(folder: Path, name: str) -> Path:
    """The file of the detection profile ``name`` in ``folder`` (letters, digits, ``_``, ``-``,
    Chinese characters; at most 40)."""
    if not _PROFILE_NAME.fullmatch(name):
        raise SettingsError(f"profile name {name!r}: use up to 40 letters, digits, '_' or '-' "
                            "(Chinese characters are fine), e.g. 苏州2024-窗口60")
    return Path(folder) / f"{name}.toml"


def save_profile(folder: Path, name: str, settings: DetectionSettings, *,
                 comment: str = "") -> Path:
    """Save ``settings`` as the profile ``name`` in ``folder`` (replacing one of that name,
    atomically) and return its file."""
    path = profile_file(folder, name)
    header = "".join(f"# {line}\n" for line in comment.splitlines())
    text = header + tomli_w.dumps(settings_toml(settings))
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)
    return path


def profile_names(folder: Path) -> list[str]:
    """The saved profiles in ``folder``, by name."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.toml") if _PROFILE_NAME.fullmatch(p.stem))


def load_profile(folder: Path, name: str) -> DetectionSettings:
    """The detection settings saved as profile ``name`` in ``folder``."""
    path = profile_file(folder, name)
    if not path.exists():
        known = ", ".join(profile_names(folder)) or "none yet"
        raise SettingsError(f"no detection profile {name!r} in {folder} (saved: {known}); "
                            "save one from the workbench's tuning page")
    return load_detection_settings(path)
