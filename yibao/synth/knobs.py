"""Knobs that pin the shape of planted fraud rings (one "cell" of the robustness benchmark).

Every knob is optional: ``None`` draws the value at random over the knob's whole range, so the
default synthetic set holds every shape. A range ``(lo, hi)`` draws within it; ``(v, v)`` pins
one value. Values drawn are recorded per scenario as ``params`` in ``truth.json``.

Ranges (the defaults):

- card pooling (聚集性刷卡): ``size`` 5-80 cards; ``locality`` ``"local"`` (insured and living
  in the pharmacy's own county or city: the pharmacy next door, the commonest real case) or
  ``"far"`` (other cities or provinces); ``spread_minutes`` 5-60, the time from the first to
  the last card of one session (a burst of seconds per card for small rings, a rotating stream
  over an hour for big ones); ``presence`` 0.3-1.0, the share of the ring's days each member
  is present on; ``pharmacies`` 1-3, of one owner (a chain whose names share a stem:
  ``益康大药房(xx店)``); ``days`` 3-20. In sets under 50,000 settlements an open ``size`` is
  drawn from 5-40 and open ``days`` from 3-6, so one ring does not swamp a small set.
- doctor-pharmacy collusion (医药串通): ``patients`` 15-60; ``prescriptions`` 20-150;
  ``share`` 0.6-1.0 of the doctor's fills at the colluding pharmacy.
- recruited inpatients (诱导住院): ``persons`` 10-60; ``admission_spread_days`` 0-3 within a
  wave; ``hospitals`` 1-2 of one owner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from yibao.errors import SynthError

__all__ = [
    "CardPoolingKnobs",
    "CollusionKnobs",
    "RecruitedKnobs",
    "ScenarioKnobs",
    "draw_float",
    "draw_int",
]

IntRange = tuple[int, int]
FloatRange = tuple[float, float]
Locality = Literal["local", "far"]

CARD_POOLING_SIZE: IntRange = (5, 80)
CARD_POOLING_SPREAD_MINUTES: FloatRange = (5.0, 60.0)
CARD_POOLING_PRESENCE: FloatRange = (0.3, 1.0)
CARD_POOLING_PHARMACIES: IntRange = (1, 3)
CARD_POOLING_DAYS: IntRange = (3, 20)
COLLUSION_PATIENTS: IntRange = (15, 60)
COLLUSION_PRESCRIPTIONS: IntRange = (20, 150)
COLLUSION_SHARE: FloatRange = (0.6, 1.0)
RECRUITED_PERSONS: IntRange = (10, 60)
RECRUITED_SPREAD_DAYS: IntRange = (0, 3)
RECRUITED_HOSPITALS: IntRange = (1, 2)


def _check(name: str, value: tuple[float, float] | None, lowest: float,
           highest: float | None = None) -> None:
    if value is None:
        return
    if (not isinstance(value, tuple) or len(value) != 2 or not value[0] <= value[1]
            or value[0] < lowest or (highest is not None and value[1] > highest)):
        top = "" if highest is None else f" and at most {highest}"
        raise SynthError(f"knob {name}={value!r} is not a range (lo, hi) with lo <= hi, lo at "
                         f"least {lowest}{top}; pin one value as (v, v)")


@dataclass(frozen=True)
class CardPoolingKnobs:
    """Shape of card-pooling rings (see the module docstring for units and ranges)."""

    size: IntRange | None = None
    locality: Locality | None = None
    spread_minutes: FloatRange | None = None
    presence: FloatRange | None = None
    pharmacies: IntRange | None = None
    days: IntRange | None = None

    def __post_init__(self) -> None:
        _check("card_pooling.size", self.size, 3)
        _check("card_pooling.spread_minutes", self.spread_minutes, 0.05)
        _check("card_pooling.presence", self.presence, 0.05, 1.0)
        _check("card_pooling.pharmacies", self.pharmacies, 1, 5)
        _check("card_pooling.days", self.days, 2, 60)
        if self.locality not in (None, "local", "far"):
            raise SynthError(f"knob card_pooling.locality={self.locality!r}: use 'local', 'far' "
                             "or None")


@dataclass(frozen=True)
class CollusionKnobs:
    """Shape of doctor-pharmacy collusion."""

    patients: IntRange | None = None
    prescriptions: IntRange | None = None
    share: FloatRange | None = None

    def __post_init__(self) -> None:
        _check("collusion.patients", self.patients, 2)
        _check("collusion.prescriptions", self.prescriptions, 5)
        _check("collusion.share", self.share, 0.05, 1.0)


@dataclass(frozen=True)
class RecruitedKnobs:
    """Shape of recruited-inpatient cohorts."""

    persons: IntRange | None = None
    admission_spread_days: IntRange | None = None
    hospitals: IntRange | None = None

    def __post_init__(self) -> None:
        _check("recruited.persons", self.persons, 4)
        _check("recruited.admission_spread_days", self.admission_spread_days, 0, 14)
        _check("recruited.hospitals", self.hospitals, 1, 3)


@dataclass(frozen=True)
class ScenarioKnobs:
    """All knobs of one synthetic set; the default leaves every shape to chance."""

    card_pooling: CardPoolingKnobs = field(default_factory=CardPoolingKnobs)
    collusion: CollusionKnobs = field(default_factory=CollusionKnobs)
    recruited: RecruitedKnobs = field(default_factory=RecruitedKnobs)

    def __post_init__(self) -> None:
        for name, kind in (("card_pooling", CardPoolingKnobs), ("collusion", CollusionKnobs),
                           ("recruited", RecruitedKnobs)):
            if not isinstance(getattr(self, name), kind):
                raise SynthError(f"ScenarioKnobs.{name} must be a {kind.__name__}, got "
                                 f"{getattr(self, name)!r}")


def draw_int(rng: np.random.Generator, pinned: IntRange | None, default: IntRange) -> int:
    """An integer in ``pinned`` (both ends included), or in ``default`` when not pinned."""
    lo, hi = pinned if pinned is not None else default
    return int(rng.integers(int(lo), int(hi) + 1))


def draw_float(rng: np.random.Generator, pinned: FloatRange | None, default: FloatRange
               ) -> float:
    """A float in ``pinned``, or in ``default`` when not pinned (rounded to 3 decimals)."""
    lo, hi = pinned if pinned is not None else default
    return round(float(rng.uniform(float(lo), float(hi))) if hi > lo else float(lo), 3)
