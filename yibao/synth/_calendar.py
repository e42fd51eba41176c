"""The 2024 calendar of care: seasons, holidays, weekdays and opening hours.

Time is counted in seconds since 2024-01-01 00:00:00 (China Standard Time, no time zone in the
data); days are 0 (1 January) to 365 (31 December, 2024 is a leap year). Volumes peak in winter
(respiratory season), dip over the Spring Festival (春节, 10-17 February 2024) and other public
holidays, and follow weekly and daily rhythms that differ between hospitals, primary clinics,
pharmacies and emergency rooms.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import IntEnum
from functools import cache

import numpy as np
import numpy.typing as npt

__all__ = [
    "DAYS",
    "EPOCH_UNIX",
    "YEAR_START",
    "Profile",
    "day_of_week",
    "day_weights",
    "is_winter",
    "iso_day",
    "sample_days",
    "sample_seconds_of_day",
]

DAYS = 366
YEAR_START = date(2024, 1, 1)
EPOCH_UNIX = 1_704_067_200
"""2024-01-01 00:00:00 as seconds since 1970 (the wall-clock value, written without zone)."""

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


class Profile(IntEnum):
    """The rhythm a kind of visit follows."""

    HOSPITAL = 0  # outpatient clinics of secondary and tertiary hospitals
    PRIMARY = 1  # community health centres, township hospitals, village clinics
    PHARMACY = 2  # retail pharmacies
    EMERGENCY = 3  # emergency rooms, around the clock
    DISCHARGE = 4  # inpatient discharge settlements


def _d(month: int, day: int) -> int:
    return (date(2024, month, day) - YEAR_START).days


_HOLIDAYS = {
    _d(1, 1),
    *range(_d(2, 10), _d(2, 18)),
    *range(_d(4, 4), _d(4, 7)),
    *range(_d(5, 1), _d(5, 6)),
    _d(6, 10),
    *range(_d(9, 15), _d(9, 18)),
    *range(_d(10, 1), _d(10, 8)),
}
_MAKEUP_WORKDAYS = {_d(2, 4), _d(2, 18), _d(4, 7), _d(4, 28), _d(5, 11), _d(9, 14), _d(9, 29),
                    _d(10, 12)}
_MONTH_FACTOR = (1.25, 0.95, 1.05, 0.97, 0.94, 0.90, 0.90, 0.92, 0.95, 0.95, 1.05, 1.22)

# Monday..Sunday, then a public holiday
_WEEK_FACTOR: dict[Profile, tuple[float, ...]] = {
    Profile.HOSPITAL: (1.30, 1.15, 1.10, 1.05, 1.05, 0.62, 0.48, 0.35),
    Profile.PRIMARY: (1.25, 1.12, 1.10, 1.08, 1.05, 0.55, 0.38, 0.25),
    Profile.PHARMACY: (1.00, 0.98, 0.98, 0.98, 1.02, 1.12, 1.08, 0.85),
    Profile.EMERGENCY: (1.00, 1.00, 1.00, 1.00, 1.02, 1.08, 1.08, 1.15),
    Profile.DISCHARGE: (0.85, 1.10, 1.10, 1.10, 1.20, 0.70, 0.35, 0.30),
}

# (start hour, end hour, weight per hour) pieces of the opening day
_HOURS: dict[Profile, tuple[tuple[float, float, float], ...]] = {
    Profile.HOSPITAL: ((7.5, 8.5, 0.8), (8.5, 10.5, 1.6), (10.5, 11.75, 1.0), (11.75, 13.5, 0.15),
                       (13.5, 16.5, 0.9), (16.5, 17.5, 0.4), (17.5, 21.0, 0.1)),
    Profile.PRIMARY: ((7.75, 8.5, 0.8), (8.5, 11.0, 1.5), (11.0, 11.5, 0.6), (13.5, 16.5, 0.7),
                      (16.5, 17.0, 0.2)),
    Profile.PHARMACY: ((7.5, 9.0, 0.35), (9.0, 11.5, 1.0), (11.5, 13.5, 0.7), (13.5, 17.0, 0.75),
                       (17.0, 20.0, 1.05), (20.0, 21.5, 0.45), (21.5, 23.0, 0.08),
                       (0.0, 7.5, 0.01)),
    Profile.EMERGENCY: ((0.0, 7.0, 0.3), (7.0, 18.0, 0.9), (18.0, 24.0, 1.2)),
    Profile.DISCHARGE: ((8.5, 9.0, 0.4), (9.0, 11.5, 1.5), (11.5, 14.0, 0.6), (14.0, 16.5, 1.0),
                        (16.5, 18.0, 0.2)),
}


def day_of_week(day: I64 | int) -> I64:
    """Monday = 0 .. Sunday = 6 (1 January 2024 was a Monday)."""
    return np.asarray(day, dtype=np.int64) % 7


def is_winter(day: I64) -> npt.NDArray[np.bool_]:
    """November to March: the respiratory season."""
    d = np.asarray(day)
    return (d < _d(4, 1)) | (d >= _d(11, 1))


def iso_day(day: int) -> str:
    """The date of ``day`` as ``YYYY-MM-DD``."""
    return (YEAR_START + timedelta(days=int(day))).isoformat()


@cache
def day_weights(profile: Profile) -> F64:
    """Relative volume of each of the 366 days for ``profile`` (mean 1)."""
    weights = np.empty(DAYS, dtype=np.float64)
    factors = _WEEK_FACTOR[profile]
    for d in range(DAYS):
        when = YEAR_START + timedelta(days=d)
        w = _MONTH_FACTOR[when.month - 1]
        if d in _HOLIDAYS:
            w *= factors[7]
        elif d in _MAKEUP_WORKDAYS:
            w *= factors[4]
        else:
            w *= factors[when.weekday()]
        if _d(2, 1) <= d < _d(2, 8) and profile in (Profile.PHARMACY, Profile.PRIMARY):
            w *= 1.25  # stocking up on medicines before the Spring Festival
        if _d(2, 9) <= d <= _d(2, 13):
            w *= 0.45  # New Year's Eve and the first days of the year: few visit a doctor
        weights[d] = w
    weights /= weights.mean()
    weights.flags.writeable = False
    return weights


def sample_days(profile: Profile, n: int, rng: np.random.Generator, lo: int = 0,
                hi: int = DAYS) -> I64:
    """``n`` days in ``[lo, hi)`` drawn with the profile's day weights."""
    w = day_weights(profile)[lo:hi]
    cum = np.cumsum(w)
    picks = np.searchsorted(cum, rng.random(n) * cum[-1], side="right")
    out: I64 = (np.minimum(picks, hi - lo - 1) + lo).astype(np.int64)
    return out


@cache
def _minute_cumsum(profile: Profile) -> F64:
    minutes = np.zeros(1440, dtype=np.float64)
    for start, end, weight in _HOURS[profile]:
        minutes[int(start * 60):int(end * 60)] += weight
    cum = np.cumsum(minutes)
    cum /= cum[-1]
    cum.flags.writeable = False
    return cum


def sample_seconds_of_day(profile: Profile, n: int, rng: np.random.Generator) -> I64:
    """``n`` times of day (seconds after midnight) following the profile's opening hours."""
    cum = _minute_cumsum(profile)
    minute = np.minimum(np.searchsorted(cum, rng.random(n), side="right"), 1439)
    return (minute * 60 + rng.integers(0, 60, n)).astype(np.int64)
