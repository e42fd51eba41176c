"""Stable ring ids: investigators cite them, so a ring keeps its id across reruns.

A new ring takes the id of the previous ring of the same pattern it overlaps most (Jaccard
similarity of persons, and of institutions for rings without persons, at least
``min_overlap``), matched one to one, best overlaps first. A ring with no such predecessor gets
an id derived from its content (pattern, persons, institutions), so rerunning detection on
the same data gives the same ids even from an empty store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace

from graph.rings import Ring

__all__ = ["PreviousRing", "assign_ring_ids", "content_ring_id"]


@dataclass(frozen=True)
class PreviousRing:
    ring_id: str
    pattern: str
    persons: frozenset[str]
    institutions: frozenset[str]


def content_ring_id(ring: Ring) -> str:
    """``R`` and 10 hex digits of a hash of the ring's pattern, persons and institutions."""
    text = "\n".join([ring.pattern, ",".join(ring.persons), ",".join(ring.institutions)])
    return "R" + hashlib.sha1(text.encode("utf-8")).hexdigest()[:10].upper()


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def assign_ring_ids(
    rings: Sequence[Ring], previous: Sequence[PreviousRing], *, min_overlap: float = 0.5
) -> list[Ring]:
    """``rings`` with ``ring_id`` set, reusing ``previous`` ids where a ring persists."""
    scored: list[tuple[float, int, int]] = []
    for i, ring in enumerate(rings):
        persons, places = frozenset(ring.persons), frozenset(ring.institutions)
        for j, old in enumerate(previous):
            if old.pattern != ring.pattern:
                continue
            overlap = (_jaccard(persons, old.persons) if persons or old.persons
                       else _jaccard(places, old.institutions))
            if overlap >= min_overlap:
                scored.append((overlap, i, j))
    scored.sort(key=lambda x: (-x[0], x[1], x[2]))
    chosen: dict[int, str] = {}
    taken: set[int] = set()
    for _, i, j in scored:
        if i not in chosen and j not in taken:
            chosen[i] = previous[j].ring_id
            taken.add(j)
    used = set(chosen.values()) | {p.ring_id for p in previous}
    out = []
    for i, ring in enumerate(rings):
        ring_id = chosen.get(i)
        if ring_id is None:
            base = content_ring_id(ring)
            ring_id, k = base, 1
            while ring_id in used:
                k += 1
                ring_id = f"{base}-{k}"
            used.add(ring_id)
        out.append(replace(ring, ring_id=ring_id))
    return out
