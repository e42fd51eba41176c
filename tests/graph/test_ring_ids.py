"""Stable ring ids: same data, same ids; a ring that persists keeps its id."""

from __future__ import annotations

from graph.ring_ids import PreviousRing, assign_ring_ids, content_ring_id
from graph.rings import Ring


def _ring(pattern: str, persons: list[str], places: list[str] = ["I1"]) -> Ring:  # noqa: B006
    return Ring(pattern=pattern, source="community", score=0.5, persons=tuple(sorted(persons)),
                institutions=tuple(places), practitioners=(), trace_codes=(), fund_amount=0.0,
                medfee_amount=0.0, n_settlements=1, first_time=None, last_time=None,
                divisions=(), features={}, metrics={}, evidence_zh=(), evidence_en=())


def _previous(rings: list[Ring]) -> list[PreviousRing]:
    return [PreviousRing(r.ring_id, r.pattern, frozenset(r.persons), frozenset(r.institutions))
            for r in rings]


def test_content_ids_are_deterministic_and_distinct() -> None:
    a, b = _ring("card_pooling", ["p1", "p2"]), _ring("card_pooling", ["p1", "p3"])
    assert content_ring_id(a) == content_ring_id(_ring("card_pooling", ["p2", "p1"]))
    assert content_ring_id(a) != content_ring_id(b)
    assert content_ring_id(a) != content_ring_id(_ring("recruited_inpatients", ["p1", "p2"]))
    first = assign_ring_ids([a, b], [])
    again = assign_ring_ids([a, b], [])
    assert [r.ring_id for r in first] == [r.ring_id for r in again]
    assert first[0].ring_id.startswith("R")


def test_a_ring_that_grows_keeps_its_id_and_new_rings_get_new_ids() -> None:
    before = assign_ring_ids([_ring("card_pooling", ["p1", "p2", "p3", "p4"])], [])
    grown = _ring("card_pooling", ["p1", "p2", "p3", "p4", "p5"])
    other = _ring("card_pooling", ["q1", "q2", "q3"])
    after = assign_ring_ids([other, grown], _previous(before))
    assert after[1].ring_id == before[0].ring_id
    assert after[0].ring_id not in {before[0].ring_id}


def test_matching_is_one_to_one_and_respects_pattern_and_overlap() -> None:
    old = assign_ring_ids([_ring("card_pooling", ["p1", "p2", "p3", "p4"])], [])
    split = [_ring("card_pooling", ["p1", "p2", "p3"]), _ring("card_pooling", ["p1", "p2", "p4"])]
    out = assign_ring_ids(split, _previous(old))
    assert sum(r.ring_id == old[0].ring_id for r in out) == 1
    assert len({r.ring_id for r in out}) == 2
    other_pattern = assign_ring_ids([_ring("recruited_inpatients", ["p1", "p2", "p3", "p4"])],
                                    _previous(old))
    assert other_pattern[0].ring_id != old[0].ring_id
    barely = assign_ring_ids([_ring("card_pooling", ["p1", "x1", "x2", "x3"])], _previous(old))
    assert barely[0].ring_id != old[0].ring_id
