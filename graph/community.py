"""Community detection on a weighted, undirected graph given as edge arrays.

Five engines, chosen by ``engine=`` (then the fastest installed: networkit, igraph,
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
* ``"leiden-cpm"``: igraph's Leiden with the Constant Potts Model (Traag, Van Dooren & Nesterov
  2011, "Narrow scope for resolution-limit-free community detection", Phys. Rev. E 84:016114):
  a community is kept when its members are linked more densely than a threshold, whatever the
  size of the rest of the graph, so it has no resolution limit. Here ``resolution`` is that
  threshold in units of 1 / (mean degree): at 1, a community must have an edge density (edge
  weight per pair of members, in mean edge weights) above 1 / (mean degree of the linked nodes).
  On LFR graphs of 1,000 and 5,000 nodes with communities of 10-100, resolution 0.5 was within
  0.01 of the best NMI at every mixing up to 0.5, as only Infomap also was, at about twice
  PLM's time and a twentieth of Infomap's (``python -m benchmarks.lfr``).
* ``"infomap"``: igraph's Infomap (Rosvall & Bergstrom 2008, "Maps of information flow reveal
  community structure in complex networks", PNAS 105:1118), which minimises the description
  length of a random walk (the map equation) rather than a modularity. It has no resolution:
  ``resolution`` is ignored, with a warning when it is not 1. About 50 times slower than PLM.

All are seeded and deterministic. For the modularity engines ``resolution`` above 1 favours
smaller communities; fraud rings are small (10 to 50 persons), and at resolution 1 modularity
merges small communities (the resolution limit), so callers choose it on purpose.
``python -m benchmarks.lfr`` measures every engine on LFR benchmark graphs with such rings.
"""

from __future__ import annotations

import importlib.util
import math
import random
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from yibao.errors import CommunityError

__all__ = [
    "ENGINES",
    "INFOMAP_TRIALS",
    "Partition",
    "communities_by_component",
    "communities_from_edges",
    "component_labels",
    "cpm_threshold",
    "default_engine",
    "installed_engines",
    "modularity",
]

Engine = Literal["igraph", "networkx", "networkit", "infomap", "leiden-cpm"]
ENGINES: tuple[Engine, ...] = ("igraph", "networkx", "networkit", "infomap", "leiden-cpm")
_MODULE_OF: dict[Engine, str] = {
    "igraph": "igraph", "networkx": "networkx", "networkit": "networkit",
    "infomap": "igraph", "leiden-cpm": "igraph",
}
_MODULARITY_ENGINES: frozenset[Engine] = frozenset({"igraph", "networkx", "networkit"})
INFOMAP_TRIALS = 10
"""Infomap's independent attempts per run (igraph's default); the best one is kept."""

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Partition:
    """A partition of nodes ``0 .. n-1``.

    ``membership[i]`` is node i's community; communities are numbered by decreasing size (ties
    by their smallest node), so the labels do not depend on the engine's internal order.
    ``modularity`` is Newman's modularity at ``resolution`` for the modularity engines
    (igraph, networkit, networkx) and at resolution 1 for ``"leiden-cpm"`` and ``"infomap"``,
    which optimise other qualities; ``resolution`` is the value the engine used (1 for
    Infomap, which has none).
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


@contextmanager
def _igraph_seeded(seed: int) -> Iterator[None]:
    """igraph's random numbers from ``random.Random(seed)``, then Python's global ``random``
    again (igraph's default): its generator is global, so a seed has to be set per call."""
    import igraph as ig

    ig.set_random_number_generator(random.Random(seed))
    try:
        yield
    finally:
        ig.set_random_number_generator(random)


def _igraph_graph(n: int, s: IntArray, d: IntArray, w: FloatArray) -> Any:
    import igraph as ig

    graph = ig.Graph(n=n, edges=np.column_stack([s, d]), directed=False)
    graph.es["weight"] = w
    return graph


def _igraph(
    n: int, s: IntArray, d: IntArray, w: FloatArray, resolution: float, seed: int
) -> IntArray:
    graph = _igraph_graph(n, s, d, w)
    with _igraph_seeded(seed):
        found = graph.community_leiden(
            objective_function="modularity", weights="weight", resolution=resolution,
            n_iterations=2,
        )
    return np.asarray(found.membership, dtype=np.int64)


def cpm_threshold(
    src: npt.ArrayLike, dst: npt.ArrayLike, weight: npt.ArrayLike | None = None,
    *, resolution: float = 1.0,
) -> float:
    """The Constant Potts Model threshold that ``engine="leiden-cpm"`` uses at ``resolution``.

    CPM keeps a community when its edge weight per pair of members exceeds a threshold
    gamma. A raw gamma depends on the units of the weights and has no natural default, so it is
    set relative to the graph: ``gamma = resolution * mean_weight / mean_degree``, with the mean
    degree over nodes that have an edge. At resolution 1 an unweighted community must have an
    edge density above 1 / (mean degree): one in 20 of its member pairs linked when persons
    have 20 co-settlement partners on average. The mean degree does not grow with the graph,
    so the threshold keeps CPM free of the resolution limit. The other side of that: the
    density *between* communities, about mixing * mean_degree / n, must stay below gamma, so on
    small, well-mixed graphs (n near or under mixing * mean_degree**2 / resolution)
    neighbouring communities merge.

    Parameters
    ----------
    src, dst : array_like of int
        Each undirected edge once.
    weight : array_like of float, optional
        Edge weights (1 when omitted).
    resolution : float
        The threshold in units of mean_weight / mean_degree.

    Returns
    -------
    float
        gamma, in units of edge weight (``resolution`` itself for a graph without edges).

    Examples
    --------
    >>> cpm_threshold([0, 1, 2], [1, 2, 0])  # a triangle: mean degree 2
    0.5
    """
    s = np.asarray(src, dtype=np.int64)
    d = np.asarray(dst, dtype=np.int64)
    w = np.ones(len(s)) if weight is None else np.asarray(weight, dtype=np.float64)
    if not len(s):
        return float(resolution)
    linked = len(np.unique(np.concatenate([s, d])))
    mean_degree = 2 * len(s) / linked
    return float(resolution * (math.fsum(w.tolist()) / len(w)) / mean_degree)


def _leiden_cpm(
    n: int, s: IntArray, d: IntArray, w: FloatArray, resolution: float, seed: int
) -> IntArray:
    return _leiden_gamma(n, s, d, w, cpm_threshold(s, d, w, resolution=resolution), seed)


def _leiden_gamma(
    n: int, s: IntArray, d: IntArray, w: FloatArray, gamma: float, seed: int
) -> IntArray:
    graph = _igraph_graph(n, s, d, w)
    with _igraph_seeded(seed):
        found = graph.community_leiden(
            objective_function="CPM", weights="weight", resolution=gamma, n_iterations=2)
    return np.asarray(found.membership, dtype=np.int64)


def _infomap(
    n: int, s: IntArray, d: IntArray, w: FloatArray, resolution: float, seed: int
) -> IntArray:
    graph = _igraph_graph(n, s, d, w)
    with _igraph_seeded(seed):
        found = graph.community_infomap(edge_weights="weight", trials=INFOMAP_TRIALS)
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


def installed_engines() -> tuple[Engine, ...]:
    """The engines whose library is installed, in the order of :data:`ENGINES`."""
    return tuple(e for e in ENGINES if importlib.util.find_spec(_MODULE_OF[e]) is not None)


def default_engine() -> Engine:
    """The fastest installed engine: networkit, then igraph, then networkx."""
    installed = installed_engines()
    for name in ("networkit", "igraph"):
        if name in installed:
            return name
    return "networkx"


_RUN = {
    "igraph": _igraph, "networkx": _networkx, "networkit": _networkit,
    "infomap": _infomap, "leiden-cpm": _leiden_cpm,
}


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

    Parameters
    ----------
    n_nodes : int
        Number of nodes; isolated nodes end up alone.
    src, dst : array_like of int
        Each undirected edge once, as node ids in ``0 .. n_nodes-1``.
    weight : array_like of float, optional
        Finite, non-negative edge weights (1 when omitted).
    engine : {"networkit", "igraph", "networkx", "leiden-cpm", "infomap"}, optional
        ``"networkit"`` (PLM, the default when installed), ``"igraph"`` (Leiden, modularity),
        ``"networkx"`` (Louvain, the reference), ``"leiden-cpm"`` (Leiden, Constant Potts
        Model) or ``"infomap"`` (the map equation). See the module docstring.
    resolution : float
        Positive. For the modularity engines, the modularity resolution (above 1: smaller
        communities). For ``"leiden-cpm"``, the density threshold in units of
        mean_weight / mean_degree (:func:`cpm_threshold`). Ignored by ``"infomap"``, with a
        warning when it is not 1.
    seed : int
        Seeds the engine's random choices: the same seed gives the same partition.

    Returns
    -------
    Partition
        Canonical labels (largest community first) and the partition's modularity.

    Raises
    ------
    CommunityError
        Edges of unequal length, node ids out of range, negative or non-finite weights, an
        unknown or missing engine, or a resolution that is not positive.

    Examples
    --------
    >>> part = communities_from_edges(4, [0, 2], [1, 3], engine="infomap")
    >>> part.communities()
    [{0, 1}, {2, 3}]

    References
    ----------
    .. [1] Lancichinetti, Fortunato & Radicchi 2008, "Benchmark graphs for testing community
       detection algorithms", Phys. Rev. E 78:046110 (the graphs of ``benchmarks.lfr``).
    """
    s, d, w = _check_edges(n_nodes, src, dst, weight)
    chosen = _chosen_engine(engine, resolution)
    with _installed(chosen):
        raw = _RUN[chosen](n_nodes, s, d, w, resolution, seed)
    return _partition(raw, s, d, w, chosen, resolution)


def _chosen_engine(engine: Engine | None, resolution: float) -> Engine:
    """``engine`` (default: the fastest installed) once checked with ``resolution``."""
    chosen = engine or default_engine()
    if chosen not in ENGINES:
        raise CommunityError(f"unknown engine {chosen!r}: choose one of {', '.join(ENGINES)}")
    if resolution <= 0:
        raise CommunityError(f"resolution must be positive, not {resolution}")
    if chosen == "infomap" and resolution != 1.0:
        warnings.warn(
            f"resolution {resolution} is ignored by engine 'infomap', which has no resolution "
            "parameter: leave it at 1, or choose an engine that has one (networkit, igraph, "
            "networkx, leiden-cpm)",
            UserWarning, stacklevel=3,
        )
    return chosen


@contextmanager
def _installed(engine: Engine) -> Iterator[None]:
    """A missing engine library as a :class:`CommunityError` that says what to do."""
    try:
        yield
    except ImportError as exc:
        raise CommunityError(
            f"engine {engine!r} is not installed ({exc}); install it or pass engine='networkx'"
        ) from exc


def _partition(raw: IntArray, s: IntArray, d: IntArray, w: FloatArray, engine: Engine,
               resolution: float) -> Partition:
    """The canonical :class:`Partition` of an engine's raw labels, with its modularity."""
    membership = _canonical(raw)
    used = 1.0 if engine == "infomap" else resolution
    return Partition(
        membership=membership,
        modularity=modularity(
            membership, s, d, w, resolution=used if engine in _MODULARITY_ENGINES else 1.0
        ),
        engine=engine,
        resolution=used,
    )


def component_labels(n_nodes: int, src: npt.ArrayLike, dst: npt.ArrayLike) -> IntArray:
    """The connected component of each node (labels ``0..k-1`` in order of their smallest
    node)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    s = np.asarray(src, dtype=np.int64)
    d = np.asarray(dst, dtype=np.int64)
    graph = coo_matrix((np.ones(len(s), dtype=np.int8), (s, d)), shape=(n_nodes, n_nodes))
    _, labels = connected_components(graph, directed=False)
    return np.asarray(labels, dtype=np.int64)


def component_weight(weight: npt.ArrayLike) -> float:
    """The total weight of some edges, exactly rounded (the same whatever their order)."""
    return math.fsum(np.asarray(weight, dtype=np.float64).tolist())


def communities_by_component(
    n_nodes: int,
    src: npt.ArrayLike,
    dst: npt.ArrayLike,
    weight: npt.ArrayLike | None = None,
    *,
    engine: Engine | None = None,
    resolution: float = 1.0,
    seed: int = 0,
    min_size: int = 1,
) -> Partition:
    """:func:`communities_from_edges` run on each connected component of at least
    ``min_size`` nodes by itself, with the objective of the whole graph.

    No modularity-increasing move ever joins nodes of two components, so the communities of
    the whole graph are those of its components, found separately. For the modularity
    engines, component c's resolution is ``resolution * W_c / W`` (W_c its edge weight, W all
    of it, each an exactly rounded sum): the modularity gain of every move in c is then the
    whole graph's. ``leiden-cpm`` uses the whole graph's threshold (:func:`cpm_threshold`) in
    every component; ``infomap`` has no resolution. Each component runs with ``seed`` on its
    nodes in their order and its edges in theirs, so a component's communities do not depend
    on the rest of the graph: which is what lets Spark find them a component at a time
    (:mod:`backends.spark.rings`). Components smaller than ``min_size`` become one community
    each (rings smaller than that are not looked at).

    ``W`` is the exactly rounded sum of the components' exactly rounded weights
    (:func:`component_weight`), the same however the components are spread over machines.
    """
    s, d, w = _check_edges(n_nodes, src, dst, weight)
    chosen = _chosen_engine(engine, resolution)
    labels = component_labels(n_nodes, s, d)
    by_node = np.argsort(labels, kind="stable")
    node_starts = np.searchsorted(labels[by_node], np.arange(int(labels.max(initial=-1)) + 2))
    edge_component = labels[s] if len(s) else np.zeros(0, dtype=np.int64)
    by_edge = np.argsort(edge_component, kind="stable")
    edge_starts = np.searchsorted(edge_component[by_edge],
                                  np.arange(int(labels.max(initial=-1)) + 2))
    weights = [component_weight(w[by_edge[edge_starts[c]:edge_starts[c + 1]]])
               for c in range(len(node_starts) - 1)]
    total = math.fsum(weights)
    gamma = cpm_threshold(s, d, w, resolution=resolution) if chosen == "leiden-cpm" else 0.0
    raw = np.empty(n_nodes, dtype=np.int64)
    used = 0
    with _installed(chosen):
        for c in range(len(node_starts) - 1):
            nodes = by_node[node_starts[c]:node_starts[c + 1]]
            edges = by_edge[edge_starts[c]:edge_starts[c + 1]]
            if len(nodes) < max(min_size, 2) or not len(edges):
                raw[nodes] = used
                used += 1
                continue
            found = community_of_component(
                len(nodes), np.searchsorted(nodes, s[edges]), np.searchsorted(nodes, d[edges]),
                w[edges], engine=chosen, resolution=resolution, seed=seed,
                share=weights[c] / total if total else 1.0, gamma=gamma)
            raw[nodes] = found + used
            used += int(found.max()) + 1
    return _partition(raw, s, d, w, chosen, resolution)


def community_of_component(n: int, src: IntArray, dst: IntArray, weight: FloatArray, *,
                           engine: Engine, resolution: float, seed: int, share: float,
                           gamma: float) -> IntArray:
    """The engine's raw communities of one connected component (nodes ``0..n-1``, in the
    whole graph's order): the modularity engines at ``resolution * share`` (``share``: the
    component's part of the whole graph's edge weight), ``leiden-cpm`` at the whole graph's
    threshold ``gamma``."""
    if engine == "leiden-cpm":
        return _leiden_gamma(n, src, dst, weight, gamma, seed)
    scaled = resolution * share if engine in _MODULARITY_ENGINES else resolution
    return _RUN[engine](n, src, dst, weight, scaled, seed)
