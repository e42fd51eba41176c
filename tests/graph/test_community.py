"""Community detection: exact answers on tiny seeded graphs, invariants, both engines."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest

from graph.community import ENGINES, communities_from_edges, modularity
from yibao.errors import CommunityError


def _two_cliques() -> tuple[np.ndarray, np.ndarray]:
    """Two 5-cliques (0-4, 5-9) joined by the single edge 4-5."""
    edges = [
        *itertools.combinations(range(5), 2),
        *itertools.combinations(range(5, 10), 2),
        (4, 5),
    ]
    pairs = np.array(edges)
    return pairs[:, 0], pairs[:, 1]


def _planted(seed: int, blocks: int = 8, size: int = 25) -> tuple[int, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = blocks * size
    block = np.arange(n) // size
    i, j = np.triu_indices(n, k=1)
    p = np.where(block[i] == block[j], 0.5, 0.01)
    keep = rng.random(len(i)) < p
    return n, i[keep], j[keep]


@pytest.mark.parametrize("engine", ENGINES)
def test_two_cliques_are_found_exactly(engine: str) -> None:
    src, dst = _two_cliques()
    part = communities_from_edges(10, src, dst, engine=engine, seed=1)  # type: ignore[arg-type]
    assert part.communities() == [{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}]
    assert part.engine == engine
    expected = nx.community.modularity(
        nx.Graph(list(zip(src.tolist(), dst.tolist(), strict=True))),
        part.communities(),
    )
    assert part.modularity == pytest.approx(expected)


@pytest.mark.parametrize("engine", ENGINES)
def test_result_is_a_partition_that_beats_singletons(engine: str) -> None:
    n, src, dst = _planted(3)
    part = communities_from_edges(n, src, dst, engine=engine, seed=7)  # type: ignore[arg-type]
    assert part.membership.shape == (n,)
    nodes = sorted(x for c in part.communities() for x in c)
    assert nodes == list(range(n))  # every node exactly once
    singletons = modularity(np.arange(n), src, dst)
    assert part.modularity > singletons + 0.3


def test_engines_agree_on_well_separated_blocks() -> None:
    n, src, dst = _planted(5)
    leiden = communities_from_edges(n, src, dst, engine="igraph", seed=1)
    louvain = communities_from_edges(n, src, dst, engine="networkx", seed=1)
    plm = communities_from_edges(n, src, dst, engine="networkit", seed=1)
    planted = [set(range(b * 25, (b + 1) * 25)) for b in range(8)]
    key = sorted
    assert sorted(leiden.communities(), key=key) == sorted(planted, key=key)
    assert sorted(louvain.communities(), key=key) == sorted(planted, key=key)
    assert sorted(plm.communities(), key=key) == sorted(planted, key=key)
    assert leiden.modularity == pytest.approx(louvain.modularity)
    assert plm.modularity == pytest.approx(louvain.modularity)


def test_the_default_is_the_fastest_installed_engine() -> None:
    src, dst = _two_cliques()
    assert communities_from_edges(10, src, dst).engine == "networkit"


@pytest.mark.parametrize("engine", ENGINES)
def test_same_seed_same_partition(engine: str) -> None:
    n, src, dst = _planted(11, blocks=6, size=12)
    weights = np.random.default_rng(0).random(len(src)) + 0.1
    a = communities_from_edges(n, src, dst, weights, engine=engine, seed=3)  # type: ignore[arg-type]
    b = communities_from_edges(n, src, dst, weights, engine=engine, seed=3)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.membership, b.membership)


def test_higher_resolution_splits_more() -> None:
    n, src, dst = _planted(8, blocks=20, size=6)
    coarse = communities_from_edges(n, src, dst, resolution=0.2, seed=0)
    fine = communities_from_edges(n, src, dst, resolution=5.0, seed=0)
    assert fine.n_communities > coarse.n_communities


def test_isolated_nodes_stay_alone_and_labels_follow_size() -> None:
    src, dst = _two_cliques()
    part = communities_from_edges(13, src, dst, seed=0)
    assert part.communities()[:2] == [{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}]
    assert part.communities()[2:] == [{10}, {11}, {12}]


def test_weights_decide_the_split() -> None:
    # a 4-cycle; the heavy edges 0-1 and 2-3 hold the pairs together
    part = communities_from_edges(4, [0, 1, 2, 3], [1, 2, 3, 0], [10.0, 0.1, 10.0, 0.1], seed=0)
    assert part.communities() == [{0, 1}, {2, 3}]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"src": [0, 1], "dst": [1]}, "same length"),
        ({"src": [0], "dst": [5]}, r"node ids must lie in 0\.\.3"),
        ({"src": [0], "dst": [1], "weight": [-1.0]}, "non-negative"),
        ({"src": [0], "dst": [1], "engine": "gephi"}, "unknown engine 'gephi'"),
        ({"src": [0], "dst": [1], "resolution": 0}, "resolution must be positive"),
    ],
)
def test_bad_input_says_what_to_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CommunityError, match=message):
        communities_from_edges(4, **kwargs)  # type: ignore[arg-type]
