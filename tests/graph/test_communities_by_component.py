"""Communities found one connected component at a time: the same as the whole graph's run on
a graph of one component, and a component's communities do not depend on the rest of the
graph (what lets Spark find them a component at a time)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from graph.community import (
    communities_by_component,
    communities_from_edges,
    component_labels,
    component_weight,
)


def _cliques(sizes: list[int], bridges: int, rng: np.random.Generator, offset: int = 0
             ) -> tuple[list[int], list[int], list[float]]:
    """Cliques of ``sizes`` chained into one component by ``bridges`` light edges each."""
    src: list[int] = []
    dst: list[int] = []
    weight: list[float] = []
    start = offset
    starts = []
    for size in sizes:
        starts.append(start)
        for i in range(size):
            for j in range(i + 1, size):
                src.append(start + i)
                dst.append(start + j)
                weight.append(float(rng.uniform(1.0, 3.0)))
        start += size
    for a, b in itertools.pairwise(starts):
        for k in range(bridges):
            src.append(a + k)
            dst.append(b + k)
            weight.append(0.1)
    return src, dst, weight


@pytest.mark.parametrize("engine", ["networkit", "igraph", "leiden-cpm"])
def test_one_component_gives_the_whole_graphs_communities(engine: str) -> None:
    s, d, w = _cliques([6, 8, 5, 7], 1, np.random.default_rng(1))
    whole = communities_from_edges(26, s, d, w, engine=engine, resolution=1.5)  # type: ignore[arg-type]
    parts = communities_by_component(26, s, d, w, engine=engine, resolution=1.5)  # type: ignore[arg-type]
    assert np.array_equal(whole.membership, parts.membership)
    assert parts.modularity == pytest.approx(whole.modularity)


@pytest.mark.parametrize("engine", ["networkit", "igraph"])
def test_a_components_communities_ignore_the_rest_of_the_graph(engine: str) -> None:
    rng = np.random.default_rng(7)
    s1, d1, w1 = _cliques([6, 8, 5], 1, rng)  # nodes 0..18
    s2, d2, w2 = _cliques([30, 25, 40], 3, rng, offset=19)  # a heavy, unrelated component
    alone = communities_by_component(19, s1, d1, w1, engine=engine, resolution=1.0)  # type: ignore[arg-type]
    both = communities_by_component(19 + 95, s1 + s2, d1 + d2, w1 + w2, engine=engine,  # type: ignore[arg-type]
                                    resolution=1.0)
    first = {frozenset(c) for c in both.communities() if max(c) < 19}
    # at the whole graph's resolution the first component's share is small: its communities
    # are those a run on it alone finds at resolution * share
    share = component_weight(w1) / (component_weight(w1) + component_weight(w2))
    scaled = communities_by_component(19, s1, d1, w1, engine=engine,  # type: ignore[arg-type]
                                      resolution=share)
    assert first == {frozenset(c) for c in scaled.communities()}
    assert len(alone.communities()) == 3
    # the same graph with its components listed the other way round: the same communities
    n = 19 + 95
    flip = {v: (v + 95) % n for v in range(n)}  # component two first, then component one
    back = communities_by_component(
        n, [flip[v] for v in s2 + s1], [flip[v] for v in d2 + d1], w2 + w1,
        engine=engine, resolution=1.0)  # type: ignore[arg-type]
    ours = {frozenset(c) for c in both.communities()}
    theirs = {frozenset((v - 95) % n for v in c) for c in back.communities()}
    assert ours == theirs


def test_small_components_are_one_community_each() -> None:
    # a pair, a triangle and an isolated node; min_size 4 runs no engine on them
    part = communities_by_component(6, [0, 2, 3, 2], [1, 3, 4, 4], engine="networkit",
                                    min_size=4)
    assert sorted(map(sorted, part.communities())) == [[0, 1], [2, 3, 4], [5]]
    assert list(component_labels(6, [0, 2, 3, 2], [1, 3, 4, 4])) == [0, 0, 1, 1, 1, 2]
    assert component_weight([0.1] * 10) == 1.0  # exactly rounded, unlike 0.1 added ten times
