"""Weighted picking from many small pools at once (CSR layout, no Python loops per draw)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["WeightedCSR", "weighted_sample_without_replacement"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class WeightedCSR:
    """Pools of members with weights, stored one after another.

    Pool ``p`` holds ``members[start[p]:end[p]]``; ``cumw`` is the running sum of all weights,
    so a draw is one ``searchsorted`` for any number of pools.
    """

    members: I64
    cumw: F64
    start: I64
    end: I64

    @classmethod
    def from_lists(cls, pools: Sequence[Sequence[tuple[int, float]]]) -> WeightedCSR:
        """Build from one list of (member, weight) per pool; empty pools are allowed."""
        members = [m for pool in pools for m, _ in pool]
        weights = [w for pool in pools for _, w in pool]
        sizes = np.array([len(pool) for pool in pools], dtype=np.int64)
        end = np.cumsum(sizes)
        return cls(
            members=np.array(members, dtype=np.int64),
            cumw=np.cumsum(np.array(weights, dtype=np.float64)),
            start=(end - sizes).astype(np.int64),
            end=end.astype(np.int64),
        )

    def size(self, pool: I64) -> I64:
        """Number of members of each pool."""
        out: I64 = self.end[pool] - self.start[pool]
        return out

    def pick(self, pool: I64, u: F64) -> I64:
        """One member per entry of ``pool`` (weighted), using uniforms ``u``; -1 for empty pools."""
        start = self.start[pool]
        end = self.end[pool]
        if not len(self.cumw):
            return np.full(len(pool), -1, dtype=np.int64)
        lo = np.where(start > 0, self.cumw[np.maximum(start - 1, 0)], 0.0)
        hi = self.cumw[np.maximum(end - 1, 0)]
        pos = np.searchsorted(self.cumw, lo + u * (hi - lo), side="right")
        pos = np.clip(pos, start, np.maximum(end - 1, start))
        safe = np.minimum(pos, len(self.members) - 1)
        picked: I64 = np.where(end > start, self.members[safe], -1)
        return picked


def weighted_sample_without_replacement(
    weights: F64, k: int, rng: np.random.Generator
) -> I64:
    """``k`` distinct indices drawn with probability proportional to ``weights``.

    Efraimidis-Spirakis keys ``u ** (1 / w)``, Information Processing Letters 97 (2006).
    """
    w = np.asarray(weights, dtype=np.float64)
    positive = np.flatnonzero(w > 0)
    k = min(k, len(positive))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    keys = np.log(rng.random(len(positive))) / w[positive]
    top = np.argpartition(-keys, k - 1)[:k]
    chosen: I64 = np.sort(positive[top]).astype(np.int64)
    return chosen
