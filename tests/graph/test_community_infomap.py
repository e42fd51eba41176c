"""Infomap and Leiden-CPM engines (no resolution limit), and the LFR benchmark that measures them.

The shared invariants (two cliques found exactly, a partition that beats singletons, same seed
same partition, bad input) run on these engines too, through ``ENGINES`` in
``test_community.py``.
"""

from __future__ import annotations

import itertools
import math
import random

import numpy as np
import pytest

from benchmarks.lfr import (
    CONFIGS,
    Row,
    Table,
    format_table,
    normalized_mutual_information,
    recommend,
    run_table,
)
from graph.community import (
    ENGINES,
    communities_from_edges,
    cpm_threshold,
    default_engine,
    installed_engines,
    modularity,
)

NO_LIMIT = ["infomap", "leiden-cpm"]


def _ring_of_cliques(cliques: int = 30, size: int = 5) -> tuple[int, np.ndarray, np.ndarray]:
    """``cliques`` cliques of ``size`` nodes, each linked to the next by one edge: the example
    of Fortunato & Barthelemy 2007 (PNAS 104:36) where modularity merges neighbouring cliques."""
    edges = []
    for c in range(cliques):
        first = c * size
        edges += [(first + i, first + j) for i, j in itertools.combinations(range(size), 2)]
        edges.append((first + size - 1, ((c + 1) % cliques) * size))
    pairs = np.array(edges)
    return cliques * size, pairs[:, 0], pairs[:, 1]


def _ring_sized_blocks(seed: int) -> tuple[int, np.ndarray, np.ndarray, list[set[int]]]:
    """Blocks of 10 to 40 nodes (ring sizes), dense inside (p 0.6), sparse between (p 0.005)."""
    sizes = [10, 12, 15, 20, 25, 30, 40, 10, 18, 22]
    rng = np.random.default_rng(seed)
    block = np.repeat(np.arange(len(sizes)), sizes)
    n = len(block)
    i, j = np.triu_indices(n, k=1)
    keep = rng.random(len(i)) < np.where(block[i] == block[j], 0.6, 0.005)
    starts = np.cumsum([0, *sizes])
    planted = [set(range(starts[b], starts[b + 1])) for b in range(len(sizes))]
    return n, i[keep], j[keep], planted


@pytest.mark.parametrize("engine", NO_LIMIT)
def test_every_clique_of_a_ring_of_cliques_is_found(engine: str) -> None:
    n, src, dst = _ring_of_cliques()
    part = communities_from_edges(n, src, dst, engine=engine, seed=2)  # type: ignore[arg-type]
    assert sorted(part.communities(), key=min) == [set(range(c, c + 5)) for c in range(0, n, 5)]
    # modularity at resolution 1 merges neighbouring cliques: the resolution limit
    assert communities_from_edges(n, src, dst, engine="networkit", seed=2).n_communities < 30


@pytest.mark.parametrize("engine", NO_LIMIT)
def test_ring_sized_blocks_are_recovered(engine: str) -> None:
    n, src, dst, planted = _ring_sized_blocks(4)
    part = communities_from_edges(n, src, dst, engine=engine, seed=1)  # type: ignore[arg-type]
    assert sorted(part.communities(), key=min) == planted
    assert part.modularity > modularity(np.arange(n), src, dst) + 0.5


@pytest.mark.parametrize("engine", NO_LIMIT)
def test_weights_decide_the_split(engine: str) -> None:
    part = communities_from_edges(4, [0, 1, 2, 3], [1, 2, 3, 0], [10.0, 0.1, 10.0, 0.1],
                                  engine=engine, seed=0)  # type: ignore[arg-type]
    assert part.communities() == [{0, 1}, {2, 3}]


@pytest.mark.parametrize("engine", NO_LIMIT)
def test_the_seed_not_the_global_random_state_decides(engine: str) -> None:
    n, src, dst, _ = _ring_sized_blocks(9)
    weights = np.random.default_rng(0).random(len(src)) + 0.1
    random.seed(1)
    state = random.getstate()
    a = communities_from_edges(n, src, dst, weights, engine=engine, seed=5)  # type: ignore[arg-type]
    assert random.getstate() == state  # igraph drew from its own seeded generator
    random.seed(2)
    b = communities_from_edges(n, src, dst, weights, engine=engine, seed=5)  # type: ignore[arg-type]
    np.testing.assert_array_equal(a.membership, b.membership)


def test_infomap_ignores_the_resolution_and_says_so() -> None:
    n, src, dst = _ring_of_cliques(cliques=8)
    plain = communities_from_edges(n, src, dst, engine="infomap", seed=0)
    with pytest.warns(UserWarning, match=r"resolution 4\.0 is ignored by engine 'infomap'"):
        told = communities_from_edges(n, src, dst, engine="infomap", resolution=4.0, seed=0)
    np.testing.assert_array_equal(plain.membership, told.membership)
    assert told.resolution == 1.0
    assert told.modularity == pytest.approx(modularity(told.membership, src, dst))


def test_cpm_resolution_is_a_density_threshold() -> None:
    n, src, dst = _ring_of_cliques(cliques=8)
    coarse = communities_from_edges(n, src, dst, engine="leiden-cpm", resolution=0.05, seed=0)
    cliques = communities_from_edges(n, src, dst, engine="leiden-cpm", resolution=1.0, seed=0)
    alone = communities_from_edges(n, src, dst, engine="leiden-cpm", resolution=6.0, seed=0)
    assert coarse.n_communities < 8  # below the density between cliques: they merge
    assert cliques.n_communities == 8
    assert alone.n_communities == n  # 6 / mean degree 4.4 is above a clique's density of 1
    assert cliques.resolution == 1.0
    # the modularity reported is Newman's at resolution 1, whatever the CPM threshold
    assert alone.modularity == pytest.approx(modularity(np.arange(n), src, dst))


def test_cpm_threshold_is_relative_to_mean_weight_and_degree() -> None:
    assert cpm_threshold([0, 1, 2], [1, 2, 0]) == pytest.approx(0.5)  # mean degree 2
    assert cpm_threshold([0, 1, 2], [1, 2, 0], [2.0, 4.0, 6.0]) == pytest.approx(2.0)
    assert cpm_threshold([0, 1, 2], [1, 2, 0], resolution=3.0) == pytest.approx(1.5)
    # a star of 4 leaves: mean degree 8/5; isolated nodes do not count
    assert cpm_threshold([0, 0, 0, 0], [1, 2, 3, 4]) == pytest.approx(5 / 8)
    assert cpm_threshold([], []) == 1.0


def test_the_new_engines_are_listed_and_the_default_is_unchanged() -> None:
    assert {"infomap", "leiden-cpm"} <= set(ENGINES)
    assert installed_engines() == ENGINES  # all three libraries are dependencies
    assert default_engine() == "networkit"


# --- the LFR benchmark -----------------------------------------------------------------------


def test_nmi_of_a_hand_computed_case() -> None:
    # A = [0,0,1,1], B = [0,0,0,1]: H(A) = ln 2, H(B) = 2 ln 2 - 3/4 ln 3, H(A,B) = 3/2 ln 2,
    # so I = 3/2 ln 2 - 3/4 ln 3 and NMI = 2I / (H(A) + H(B)) = 0.3437...
    ln2, ln3 = math.log(2), math.log(3)
    expected = (3 * ln2 - 1.5 * ln3) / (3 * ln2 - 0.75 * ln3)
    assert normalized_mutual_information([0, 0, 1, 1], [0, 0, 0, 1]) == pytest.approx(expected)
    assert expected == pytest.approx(0.343712, abs=1e-6)


def test_nmi_edge_cases() -> None:
    assert normalized_mutual_information([5, 5, 7, 7, 9], [0, 0, 1, 1, 2]) == pytest.approx(1.0)
    assert normalized_mutual_information([0, 0, 0], [3, 3, 3]) == 1.0
    assert normalized_mutual_information([0, 0, 0, 0], [0, 1, 2, 3]) == 0.0
    assert normalized_mutual_information([0, 1, 0, 1], [0, 0, 1, 1]) == pytest.approx(0.0)
    with pytest.raises(ValueError, match="different lengths"):
        normalized_mutual_information([0, 1], [0])


def test_the_benchmark_runs_on_a_tiny_lfr_graph() -> None:
    table = run_table(250, 10, 50, mus=(0.3,), seeds=1)
    assert [r.label for r in table.rows] == [c.label for c in CONFIGS]
    assert table.planted[0] >= 5
    assert 0.2 < table.mixing[0] < 0.4
    for row in table.rows:
        assert 0.0 <= row.nmi[0] <= 1.0
        assert row.found[0] >= 1
    infomap = next(r for r in table.rows if r.engine == "infomap")
    assert infomap.nmi[0] > 0.9  # well-separated ring-sized communities
    text = format_table(table)
    assert all(c.label in text for c in CONFIGS)
    assert "mu 0.3" in text
    assert recommend([table]).startswith("recommendation: ")


def _row(label: str, nmi: list[float], seconds: float) -> Row:
    return Row(label=label, engine="networkit", resolution=1.0, nmi=nmi,
               found=[1.0] * len(nmi), seconds=[seconds] * len(nmi))


def test_recommend_picks_the_fastest_close_to_the_best_up_to_mu_half() -> None:
    table = Table(n=10, min_size=1, max_size=5, mus=[0.1, 0.5, 0.7], seeds=1,
                  planted=[2.0] * 3, mixing=[0.1, 0.5, 0.7], rows=[
                      _row("best, slow", [1.0, 1.0, 0.9], 3.0),
                      _row("close, fast", [0.995, 0.991, 0.1], 1.0),  # mu 0.7 does not count
                      _row("far, fastest", [1.0, 0.95, 0.9], 0.1),
                  ])
    assert recommend([table]).startswith("recommendation: close, fast (")
    worse = Table(**{**table.__dict__, "rows": [table.rows[2], _row("other", [0.9, 1.0, 1.0], 1)]})
    assert "falls least short, by 0.050" in recommend([worse])


def test_the_cli_offers_every_engine() -> None:
    from graph.community import ENGINES
    from yibao.cli_detect import _ENGINES

    assert sorted(_ENGINES) == sorted([*ENGINES, "gds"])  # gds: the server's, --backend neo4j
