"""Projections of the claims graph that make rings visible.

The person projection links two insured persons when they settle at the same institution within
a short window, again and again (共同结算). A co-settlement *event* is a pair of settlements of
two different persons at one institution less than ``window_minutes`` apart (inpatient stays:
admitted within ``inpatient_window_days``). Each event is weighted so that busy places and busy
hours do not glue a city together:

    w(event) = idf(institution) / (n_local - 1)

``n_local`` is the number of settlements at that institution within the window around the
event (a resource-allocation weight: every settlement hands out about one unit in total,
however crowded the hour), and ``idf = log(P / P_i)`` discounts institutions that many of
the P persons use (P_i of them). Where ``n_local`` exceeds ``max_local`` (a big hospital's
morning) no events are formed at all: co-presence there says nothing, unless the window is a
*burst*: ``burst_ratio`` times busier than the institution usually is at that hour of the week
(seventy cards at a pharmacy that sees three customers an hour is no busy morning).

An edge keeps the events of a pair only if they fall on at least ``min_co_days`` different
days: one shared queue is chance, the same queue on many days is a pattern. Its weight is the
sum of its events' weights.

Everything is vectorised NumPy on sorted arrays; memory is linear in the settlements plus the
events (each settlement pairs with at most ``max_local`` others).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from graph.claims import Claims

__all__ = ["CoSettlementEvents", "CoSettlementParams", "PairEdges", "PersonProjection",
           "ProjectionScale", "co_settlement_events", "edges_from_events",
           "person_projection_from_claims", "projection_scale"]

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class CoSettlementParams:
    """How close two settlements must be to count as one co-settlement event."""

    window_minutes: float = 30.0
    inpatient_window_days: int = 1
    min_co_days: int = 2
    max_local: int = 60
    burst_ratio: float = 4.0


@dataclass(frozen=True)
class PersonProjection:
    """Weighted person-person edges (``src < dst``) with the events behind them.

    ``co_days``: distinct days with a co-settlement; ``co_events``: number of events.
    ``event_a``/``event_b``: row indices into the :class:`~graph.claims.Claims` of every
    co-settlement event (``event_a``'s person < ``event_b``'s), ``event_edge`` the kept edge it
    belongs to (``-1``: its pair met on too few days), ``event_weight`` its weight.
    """

    n_persons: int
    src: I64
    dst: I64
    weight: F64
    co_days: I64
    co_events: I64
    event_a: I64
    event_b: I64
    event_edge: I64
    event_weight: F64
    params: CoSettlementParams

    @property
    def n_edges(self) -> int:
        return len(self.src)


def _window_events(
    group: I64, t: I64, window: int, max_local: int, burst: npt.NDArray[np.float64] | None = None
) -> tuple[I64, I64, I64]:
    """Pairs (i, j) of rows in one ``group`` with ``0 <= t[j] - t[i] <= window``, plus n_local.

    Returns the row indices of both sides and the local count (settlements of the group within
    ``window`` either side of row i, itself included). Rows where that count exceeds
    ``max_local`` form no pairs, unless that count is at least ``burst`` (per row: the burst
    line of its group at that hour; ``None``: no exception).
    """
    n = len(t)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    order = np.lexsort((t, group))
    base = int(t.min())
    span = int(t.max()) - base + 2 * window + 1
    key = group[order] * span + (t[order] - base)
    ahead = np.searchsorted(key, key + window, side="right")
    behind = np.searchsorted(key, key - window, side="left")
    position = np.arange(n, dtype=np.int64)
    local = ahead - behind
    allowed = local <= max_local
    if burst is not None:
        allowed |= local >= burst[order]
    count = np.where(allowed, ahead - position - 1, 0)
    total = int(count.sum())
    left = np.repeat(position, count)
    step = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    right = left + 1 + step
    return order[left], order[right], np.maximum(local[left], local[right])


@dataclass(frozen=True)
class ProjectionScale:
    """What the projection's weights take from all the claims, not one institution's: how
    many persons settled at all (for the idf) and the first and last day of the data (an
    institution's usual traffic is its settlements over all the data's days)."""

    active_persons: int
    first_day: int
    last_day: int

    @property
    def days(self) -> int:
        return self.last_day - self.first_day + 1


def projection_scale(claims: Claims) -> ProjectionScale:
    """The :class:`ProjectionScale` of all of ``claims``."""
    if not len(claims):
        return ProjectionScale(1, 0, 0)
    return ProjectionScale(active_persons=max(1, len(np.unique(claims.person))),
                           first_day=int(claims.day.min()), last_day=int(claims.day.max()))


def _idf(claims: Claims, scale: ProjectionScale) -> F64:
    """log(P / P_i) per institution: P persons in all, P_i of them settled there."""
    pairs = np.unique(claims.institution.astype(np.int64) * claims.n_persons + claims.person)
    users = np.bincount(pairs // claims.n_persons, minlength=claims.n_institutions)
    return np.log(scale.active_persons / np.maximum(users, 1)).clip(min=math.log(2.0))


def _burst_lines(claims: Claims, p: CoSettlementParams, scale: ProjectionScale) -> F64:
    """Per row: the local count at which its window is a burst rather than a busy hour.

    ``burst_ratio`` times the settlements the institution has in such a window on average (its
    settlements per open hour, taken as 12 a day, or its admissions per day for inpatient
    stays, over the data's days). An average over the whole year is robust to the bursts
    themselves. A big hospital's morning is busy every day and forms no events; a pharmacy that
    sees three customers an hour and sees seventy is exactly what to look at.
    """
    inst = claims.institution.astype(np.int64)
    n = claims.n_institutions
    days = scale.days if len(claims) else 1
    visits = np.bincount(inst[~claims.inpatient], minlength=n) / (days * 12.0)
    stays = np.bincount(inst[claims.inpatient], minlength=n) / float(days)
    usual = np.where(claims.inpatient, stays[inst] * 2.0 * p.inpatient_window_days,
                     visits[inst] * 2.0 * p.window_minutes / 60.0)
    return np.asarray(p.burst_ratio * np.maximum(usual, 1.0), dtype=np.float64)


@dataclass(frozen=True)
class CoSettlementEvents:
    """Co-settlement events of two different persons, in the projection's order (visits
    before stays, then by institution, then by the earlier row's time): claims rows ``a``
    and ``b`` (``a``'s person < ``b``'s) and each event's weight."""

    a: I64
    b: I64
    weight: F64


def co_settlement_events(claims: Claims, params: CoSettlementParams | None = None,
                         scale: ProjectionScale | None = None) -> CoSettlementEvents:
    """The co-settlement events of ``claims`` (see the module docstring). ``scale`` is that
    of all the claims (default: of these); each institution's events depend only on its own
    rows and ``scale``, so a part of the claims holding whole institutions gives exactly the
    events of those institutions, in the same order."""
    p = params or CoSettlementParams()
    sc = scale or projection_scale(claims)
    rows = np.arange(len(claims), dtype=np.int64)
    inst = claims.institution.astype(np.int64)
    burst = _burst_lines(claims, p, sc)
    parts = []
    for inpatient, window in ((False, int(p.window_minutes * 60)),
                              (True, int(p.inpatient_window_days * 86_400))):
        sel = rows[claims.inpatient == inpatient]
        a, b, local = _window_events(inst[sel], claims.t[sel], window, p.max_local,
                                     burst[sel])
        parts.append((sel[a], sel[b], local))
    a = np.concatenate([x[0] for x in parts])
    b = np.concatenate([x[1] for x in parts])
    local = np.concatenate([x[2] for x in parts])
    pa = claims.person[a].astype(np.int64)
    pb = claims.person[b].astype(np.int64)
    distinct = pa != pb
    a, b, local, pa, pb = a[distinct], b[distinct], local[distinct], pa[distinct], pb[distinct]
    swap = pa > pb
    a, b = np.where(swap, b, a), np.where(swap, a, b)
    weight = _idf(claims, sc)[inst[a]] / np.maximum(local - 1, 1)
    return CoSettlementEvents(a=a, b=b, weight=weight)


@dataclass(frozen=True)
class PairEdges:
    """The edges of the projection made from events: pair keys ``lo * n + hi`` (sorted), the
    days, events and summed weight of each, and every event's edge (``-1``: too few days)."""

    pairs: I64
    co_days: I64
    co_events: I64
    weight: F64
    event_edge: I64


def edges_from_events(lo: I64, hi: I64, day: I64, weight: F64, n_persons: int,
                      min_co_days: int) -> PairEdges:
    """Events (persons ``lo < hi``, day, weight) grouped per pair; a pair is an edge when its
    events fall on at least ``min_co_days`` days. An edge's weight is its events' weights
    added in the order given (the order of :func:`co_settlement_events`)."""
    pair = lo * n_persons + hi
    # Distinct (pair, day) first, then days per pair.
    pair_day = np.unique(np.column_stack([pair, day]), axis=0)[:, 0] if len(pair) else pair
    pairs, days = np.unique(pair_day, return_counts=True)
    edges = pairs[days >= min_co_days]
    slot = np.minimum(np.searchsorted(edges, pair), max(len(edges) - 1, 0))
    on_edge = edges[slot] == pair if len(edges) else np.zeros(len(pair), dtype=bool)
    event_edge = np.where(on_edge, slot, -1).astype(np.int64)
    edge_weight = np.bincount(event_edge[on_edge], weights=weight[on_edge], minlength=len(edges))
    events = np.bincount(event_edge[on_edge], minlength=len(edges))
    return PairEdges(pairs=edges.astype(np.int64), co_days=days[days >= min_co_days].astype(
        np.int64), co_events=events.astype(np.int64), weight=edge_weight.astype(np.float64),
        event_edge=event_edge)


def person_projection_from_claims(
    claims: Claims, params: CoSettlementParams | None = None
) -> PersonProjection:
    """The person co-settlement projection of ``claims`` (see the module docstring)."""
    p = params or CoSettlementParams()
    ev = co_settlement_events(claims, p)
    lo = claims.person[ev.a].astype(np.int64)
    hi = claims.person[ev.b].astype(np.int64)
    found = edges_from_events(lo, hi, claims.day[ev.a].astype(np.int64), ev.weight,
                              claims.n_persons, p.min_co_days)
    log.info("person projection: %d events, %d on %d edges (min %d days)", len(ev.a),
             int((found.event_edge >= 0).sum()), len(found.pairs), p.min_co_days)
    return PersonProjection(
        n_persons=claims.n_persons,
        src=found.pairs // claims.n_persons,
        dst=found.pairs % claims.n_persons,
        weight=found.weight,
        co_days=found.co_days,
        co_events=found.co_events,
        event_a=ev.a,
        event_b=ev.b,
        event_edge=found.event_edge,
        event_weight=ev.weight,
        params=p,
    )
