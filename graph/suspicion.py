"""How surprising a ring is if its members acted independently: the null models of detection.

A ring is flagged by evidence, not by hand weights. Each candidate gets a p-value: the chance of
what it shows if nothing tied its members together, and the flag line is chosen by controlling
the false-discovery rate over all candidates of a run (Benjamini-Hochberg).

**Co-settlement (card pooling, recruited inpatients).** Under the null model every member keeps
their own number of settlements at each of the ring's institutions, but places them
independently at times drawn from that institution's usual traffic: its settlements by
hour-of-week (inpatient admissions: by day-of-week) over the data's weeks, without the members'
own rows, smoothed toward the traffic of all institutions (a pseudo-count of one day). A
member's settlement ``s`` at institution ``i`` *meets* when another member settled there less
than the window before it (30 minutes; admissions: a day). Its chance of meeting under the null
is ``1 - exp(-lambda_s)`` with ``lambda_s = m_s * f_i(t_s) * window``: ``m_s`` the other
members' settlements at ``i``, ``f_i(t_s)`` the density of ``i``'s traffic at that hour. The
number of meetings ``X`` is compared with a Poisson law of mean ``mu = sum_s (1 - exp(-lambda_s))``
(a Poisson-binomial sum; the Poisson tail is the usual bound), after leaving out the ring's
busiest day: one event (a check-up day, a vaccination day) never makes a ring on its own. This
follows the lockstep idea of CopyCatch (Beutel et al., WWW 2013) and the Poisson block
suspiciousness of CrossSpot (Jiang et al., 2015).

**Prescriptions steered to one pharmacy.** A doctor's fills at pharmacies are tested against
their peers': with ``n`` fills, ``k`` of them at the top pharmacy, and ``p0`` that pharmacy's
share among the fills of the other doctors of the same institution (smoothed toward its share of
the local pharmacy market), ``p = P(Binomial(n, p0) >= k)``.

**Hard evidence** (a traceability code settled again elsewhere, an impossible journey) is not a
matter of chance: its p-value is 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats

from graph.claims import Claims

__all__ = [
    "CoSettlementTest",
    "Traffic",
    "benjamini_hochberg",
    "binomial_surprise",
    "co_settlement_test",
    "surprise_of",
    "traffic_bins",
    "traffic_from_claims",
]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

_HOURS_OF_WEEK = 168
_BINS = _HOURS_OF_WEEK + 7  # 168 hour-of-week bins (outpatient), then 7 day-of-week (inpatient)
_EPOCH_WEEKDAY = 5  # 2000-01-01 was a Saturday (Monday = 0)
MAX_SURPRISE = 300.0
"""-log10 p is capped here (p-values below 1e-300 are all "certain")."""


@dataclass(frozen=True)
class Traffic:
    """Settlements per institution and time-of-week bin, for the null model."""

    counts: F64
    """institutions x 175: hour-of-week bins 0..167 (outpatient), day-of-week 168..174
    (inpatient admissions)."""
    row_bin: I64
    """The bin of every claims row."""
    weeks: float
    """Weeks the data spans."""
    totals: F64 | None = None
    """All institutions' settlements per bin (``None``: the sum of ``counts``, which then
    holds every institution)."""

    def bin_width(self, b: I64) -> F64:
        """Seconds covered by bins ``b`` in one week."""
        return np.where(b < _HOURS_OF_WEEK, 3600.0, 86_400.0)


def traffic_bins(claims: Claims) -> I64:
    """The time-of-week bin of every claims row: its hour of the week (0..167), or for an
    inpatient admission its day of the week (168..174)."""
    weekday = (claims.day.astype(np.int64) + _EPOCH_WEEKDAY) % 7
    hour = (claims.t // 3600) % 24
    return np.asarray(np.where(claims.inpatient, _HOURS_OF_WEEK + weekday, weekday * 24 + hour),
                      dtype=np.int64)


def traffic_from_claims(claims: Claims) -> Traffic:
    """Count every institution's settlements by hour-of-week and admissions by day-of-week."""
    row_bin = traffic_bins(claims)
    flat = claims.institution.astype(np.int64) * _BINS + row_bin
    counts = np.bincount(flat, minlength=claims.n_institutions * _BINS).astype(
        np.float64).reshape(claims.n_institutions, _BINS)
    days = (int(claims.day.max()) - int(claims.day.min()) + 1) if len(claims) else 7
    return Traffic(counts=counts, row_bin=row_bin.astype(np.int64), weeks=max(days / 7.0, 1.0))


@dataclass(frozen=True)
class CoSettlementTest:
    """The co-settlement test of one ring (see the module docstring)."""

    meetings: int
    """Settlements that met another member within the window (busiest day left out)."""
    expected: float
    """Meetings expected under the null model (busiest day left out)."""
    p_value: float
    surprise: float
    """-log10 p, capped at :data:`MAX_SURPRISE`."""
    meeting_days: int
    """Distinct days with a meeting (busiest day included)."""
    busiest_day_meetings: int
    met: npt.NDArray[np.bool_]
    """Per ring row (in the order given): whether it met another member."""


def surprise_of(p_value: float) -> float:
    """-log10 p, capped at :data:`MAX_SURPRISE`."""
    if p_value <= 0.0:
        return MAX_SURPRISE
    return min(MAX_SURPRISE, max(0.0, -math.log10(p_value)))


def _poisson_tail(observed: int, mean: float) -> tuple[float, float]:
    """P(Poisson(mean) >= observed) and its -log10, computed in logs (no underflow)."""
    if observed <= 0:
        return 1.0, 0.0
    log_sf = float(stats.poisson.logsf(observed - 1, max(mean, 1e-12)))
    return math.exp(log_sf), min(MAX_SURPRISE, -log_sf / math.log(10.0))


def co_settlement_test(claims: Claims, traffic: Traffic, rows: I64, *,
                       window_seconds: float, inpatient_window_seconds: float,
                       smoothing: float = 24.0) -> CoSettlementTest:
    """Test whether the settlements ``rows`` (one ring's) meet each other more than chance.

    ``smoothing``: pseudo-count of settlements (spread like all institutions' traffic) added to
    each institution's own, so that a place seen rarely is not taken to be closed.
    """
    rows = np.asarray(rows, dtype=np.int64)
    n = len(rows)
    if n < 2:
        return CoSettlementTest(0, 0.0, 1.0, 0.0, 0, 0, np.zeros(n, dtype=bool))
    inst = claims.institution[rows].astype(np.int64)
    inpatient = claims.inpatient[rows]
    person = claims.person[rows].astype(np.int64)
    t = claims.t[rows]
    b = traffic.row_bin[rows]
    window = np.where(inpatient, inpatient_window_seconds, window_seconds)

    # Observed: a row meets when the nearest earlier row of another person at the same
    # institution (same setting) is within the window.
    group = inst * 2 + inpatient.astype(np.int64)
    order = np.lexsort((person, t, group))
    g, tt, pp = group[order], t[order], person[order]
    idx = np.arange(n)
    run_start = np.concatenate([[0], np.flatnonzero((pp[1:] != pp[:-1]) | (g[1:] != g[:-1])) + 1])
    start_of = np.repeat(run_start, np.diff(np.concatenate([run_start, [n]])))
    prev = start_of - 1
    ok = prev >= 0
    prev_c = np.where(ok, prev, 0)
    met_sorted = ok & (g[prev_c] == g) & (tt - tt[prev_c] <= window[order]) & (idx > 0)
    met = np.zeros(n, dtype=bool)
    met[order] = met_sorted

    # Expected: background traffic of each institution without the members' own rows.
    keys, inv = np.unique(np.column_stack([inst, b]), axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    own = np.bincount(inv, minlength=len(keys)).astype(np.float64)
    background = np.maximum(traffic.counts[keys[:, 0], keys[:, 1]] - own, 0.0)
    inpatient_bin = b >= _HOURS_OF_WEEK
    totals = traffic.counts.sum(axis=0) if traffic.totals is None else traffic.totals
    out_share = totals[:_HOURS_OF_WEEK] / max(totals[:_HOURS_OF_WEEK].sum(), 1.0)
    in_share = totals[_HOURS_OF_WEEK:] / max(totals[_HOURS_OF_WEEK:].sum(), 1.0)
    global_share = np.where(inpatient_bin, in_share[np.clip(b - _HOURS_OF_WEEK, 0, 6)],
                            out_share[np.clip(b, 0, _HOURS_OF_WEEK - 1)])
    own_inst = np.bincount(group, minlength=int(group.max()) + 1).astype(np.float64)
    inst_out = traffic.counts[inst, :_HOURS_OF_WEEK].sum(axis=1)
    inst_in = traffic.counts[inst, _HOURS_OF_WEEK:].sum(axis=1)
    inst_total = np.maximum(np.where(inpatient, inst_in, inst_out) - own_inst[group], 0.0)
    share = (background[inv] + smoothing * global_share) / (inst_total + smoothing)
    density = share / (traffic.bin_width(b) * traffic.weeks)
    # Other members' settlements at the same institution and setting.
    per_person = np.unique(np.column_stack([group, person]), axis=0, return_inverse=True)[1]
    per_person = per_person.reshape(-1)
    own_count = np.bincount(per_person)[per_person].astype(np.float64)
    others = own_inst[group] - own_count
    chance = -np.expm1(-others * np.minimum(density * window, 1.0))

    day = claims.day[rows].astype(np.int64)
    _, day_inv = np.unique(day, return_inverse=True)
    per_day = np.bincount(day_inv.reshape(-1), weights=met.astype(np.float64))
    top = int(np.argmax(per_day)) if len(per_day) else 0
    keep = day_inv.reshape(-1) != top
    observed = int(met[keep].sum())
    expected = float(chance[keep].sum())
    p, s = _poisson_tail(observed, expected)
    return CoSettlementTest(
        meetings=observed, expected=round(expected, 3), p_value=p, surprise=round(s, 3),
        meeting_days=int((per_day > 0).sum()), busiest_day_meetings=int(per_day[top]) if len(
            per_day) else 0, met=met)


def binomial_surprise(k: int, n: int, p0: float) -> tuple[float, float]:
    """P(Binomial(n, p0) >= k) and its -log10 (capped)."""
    if k <= 0 or n <= 0:
        return 1.0, 0.0
    p0 = min(max(p0, 1e-9), 1.0 - 1e-12)
    log_sf = float(stats.binom.logsf(k - 1, n, p0))
    return math.exp(log_sf), min(MAX_SURPRISE, -log_sf / math.log(10.0))


def benjamini_hochberg(p_values: Sequence[float]) -> F64:
    """Benjamini-Hochberg adjusted p-values (q-values), in the order given.

    A candidate is flagged at false-discovery rate ``q`` when its q-value is at most ``q``:
    among the flagged, at most a share ``q`` are expected to be chance (for independent
    tests).
    """
    p = np.asarray(p_values, dtype=np.float64)
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m, dtype=np.float64)
    q[order] = np.minimum(q_sorted, 1.0)
    return q
