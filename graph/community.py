"""Community detection on a weighted, undirected graph given as edge arrays.

Three engines, chosen by ``engine=`` (then the fastest installed: networkit, igraph,
networkx):

* ``"igraph"``: Leiden with the modularity objective (Traag, Waltman & van Eck 2019,
  "From Louvain to Leiden: guaranteeing well-connected communities", Sci. Rep. 9:5233), built
  straight from NumPy arrays: no networkx graph in between, which costs more than the detection
  itself at a million edges (``shared/MEASURED.md``).
* ``"networkx"``: networkx's Louvain (Blondel et al. 2008), the reference implementation; slow
  beyond about a million edges.
* ``"networkit"`` (the default): NetworKit's parallel Louvain (PLM,
  Staudt & Meyerhenke 2016, "Engineering Parallel Algorithms for Community Detection in Massive
  Networks", IEEE TPDS 27(1)), run on one thread here so that a seed gives one answer.

Both are seeded and deterministic. ``resolution`` above 1 favours smaller communities; fraud
rings are small (10 to 50 persons), and at resolution 1 modularity merges small communities
(the resolution limit), so callers choose it on purpose.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from yibao.errors import CommunityError

__all__ = ["ENGINES", "Partition", "communities_from_edges", "default_engine", "modularity"]

Engine = Literal["igraph", "networkx", "networkit"]
ENGINES: tuple[Engine, ...] = ("igraph", "networkx", "networkit")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Partition:
    """A partition of nodes ``0 .. n-1``.

    ``membership[i]`` is node i's community; communities are numbered by decreasing size (ties
    by their smallest node), so the labels do not depend on the engine's internal order.
    """

    membership: IntArray
    modularity: float
    engine: Engine
    resolution: float

    @property
    def n_communities(self) -> int:
        return int(self.membership.max()) + 1 if len(self.membership) else 0

    def communities(self) -> list[set[int]]:
        """The partition as a list of node sets (networkx's convention), largest first."""
        out: list[set[int]] = [set() for _ in range(self.n_communities)]
        for node, community in enumerate(self.membership.tolist()):
            out[community].add(node)
        return out


def _check_edges(
    n_nodes: int, src: npt.ArrayLike, dst: npt.ArrayLike, weight: npt.ArrayLike | None
) -> tuple[IntArray, IntArray, FloatArray]:
    s = np.asarray(src, dtype=np.int64)
    d = np.asarray(dst, dtype=np.int64)
    w = np.ones(len(s)) if weight is None else np.asarray(weight, dtype=np.float64)
    if not (len(s) == len(d) == len(w)):
        raise CommunityError(
            f"src, dst and weight must have the same length, not {len(s)}, {len(d)}, {len(w)}"
        )
    if len(s) and (min(s.min(), d.min()) < 0 or max(s.max(), d.max()) >= n_nodes):
        raise CommunityError(
            f"node ids must lie in 0..{n_nodes - 1}: renumber the nodes before detection"
        )
    if len(w) and (not np.isfinite(w).all() or w.min() < 0):
        raise CommunityError("edge weights must be finite and non-negative")
    return s, d, w


def modularity(
    membership: npt.ArrayLike,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    weight: npt.ArrayLike | None = None,
    *,
    resolution: float = 1.0,
) -> float:
    """Newman's weighted modularity of ``membership``; each undirected edge listed once.

    Q = sum over communities c of ( W_in(c) / W  -  resolution * (D(c) / 2W)^2 ), with W the
    total edge weight, W_in(c) the weight inside c and D(c) the weighted degree of c.
    """
    m = np.asarray(membership, dtype=np.int64)
    s, d, w = _check_edges(len(m), src, dst, weight)
    total = w.sum()
    if total == 0:
        return 0.0
    k = int(m.max()) + 1
    inside = np.bincount(m[s][m[s] == m[d]], weights=w[m[s] == m[d]], minlength=k)
    degree = np.bincount(m[s], weights=w, minlength=k) + np.bincount(m[d], weights=w, minlength=k)
    return float((inside / total - resolution * (degree / (2 * total)) ** 2).sum())


def _canonical(membership: npt.ArrayLike) -> IntArray:
    m = np.asarray(membership, dtype=np.int64)
    if not len(m):
        return m
    _, first, inverse, counts = np.unique(
        m, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.lexsort((first, -counts))  # by size desc, then smallest node
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank[inverse].astype(np.int64)


def _igraph(
    n: int, s: IntArray, d: IntArray, w: FloatArray, resolution: float, seed: int
) -> IntArray:
    import igraph as ig

    graph = ig.Graph(n=n, edges=np.column_stack([s, d]), directed=False)
    graph.es["weight"] = w
    ig.set_random_number_generator(random.Random(seed))
    try:
        found = graph.community_leiden(
            objective_function="modularity", weights="weight", resolution=resolution,
            n_iterations=2,
        )
    finally:
        ig.set_random_number_generator(random)
    return np.asarray(found.membership, dtype=np.int64)


def _networkx(
    n: int, s: IntArray, d: IntArray, w: FloatArray, resolution: float, seed: int
) -> IntArray:
    import networkx as nx

    graph = nx.Graph()
    graph.add_nodes_from(range(n))
    graph.add_weighted_edges_from(zip(s.tolist(), d.tolist(), w.tolist(), strict=True))
    sets = nx.community.louvain_communities(graph, weight="weight", resolution=resolution,
                                            seed=seed)
    membership = np.empty(n, dtype=np.int64)
    for label, nodes in enumerate(sets):
        membership[list(nodes)] = label
    return membership


def _networkit(
    n: int, s: IntArray, d: IntArray, w: FloatArray, resolution: float, seed: int
) -> IntArray:
    import networkit as nk

    nk.setNumberOfThreads(1)
    nk.setSeed(seed, False)
    graph = nk.GraphFromCoo((w, (s, d)), n=n, weighted=True, directed=False)
    plm = nk.community.PLM(graph, refine=True, gamma=resolution)
    plm.run()
    return np.asarray(plm.getPartition().getVector(), dtype=np.int64)


def default_engine() -> Engine:
    """The fastest installed engine: networkit, then igraph, then networkx."""
    fastest: tuple[Engine, ...] = ("networkit", "igraph")
    for name in fastest:
        try:
            __import__(name)
        except ImportError:
            continue
        return name
    return "networkx"


def communities_from_edges(
    n_nodes: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    weight: npt.ArrayLike | None = None,
    *,
    engine: Engine | None = None,
    resolution: float = 1.0,
    seed: int = 0,
) -> Partition:
    """Detect communities among nodes ``0 .. n_nodes-1`` linked by edges ``src[i]-dst[i]``.

    Isolated nodes end up alone. ``engine``: ``"networkit"`` (PLM, the default when
    installed), ``"igraph"`` (Leiden) or ``"networkx"`` (Louvain, the reference).
    """
    s, d, w = _check_edges(n_nodes, src, dst, weight)
    chosen = engine or default_engine()
    if chosen not in ENGINES:
        raise CommunityError(f"unknown engine {chosen!r}: choose one of {', '.join(ENGINES)}")
    if resolution <= 0:
        raise CommunityError(f"resolution must be positive, not {resolution}")
    run = {"igraph": _igraph, "networkx": _networkx, "networkit": _networkit}[chosen]
    try:
        raw = run(n_nodes, s, d, w, resolution, seed)
    except ImportError as exc:
        raise CommunityError(
            f"engine {chosen!r} is not installed ({exc}); install it or pass engine='networkx'"
        ) from exc
    membership = _canonical(raw)
    return Partition(
        membership=membership,
        modularity=modularity(membership, s, d, w, resolution=resolution),
        engine=chosen,
        resolution=resolution,
    )
