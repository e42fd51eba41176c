"""Benchmark: community engines on LFR graphs with ring-sized communities.

``python -m benchmarks.lfr [--quick] [--json] [--seeds 3]``

Fraud rings are small (10 to 80 persons), and modularity at resolution 1 merges small
communities (the resolution limit). This benchmark measures how well each engine and resolution
of :func:`graph.community.communities_from_edges` recovers planted communities of that size, to
choose detection's engine and resolution on purpose.

* **Graphs**: NetworKit's LFR generator (Lancichinetti, Fortunato & Radicchi 2008, "Benchmark
  graphs for testing community detection algorithms", Phys. Rev. E 78:046110), whose graphs hit
  the requested mixing (networkx's overshoot it, ``shared/MEASURED.md``): degree exponent
  tau1 = 2, community-size exponent tau2 = 1.5, average degree 20, maximum degree 50; n = 1,000
  and 5,000 nodes; communities of 10-50 and 20-100 nodes; mixing mu (each node's share of
  edges that leave its community) 0.1 to 0.7. ``--seeds`` graphs per cell (seeds 1, 2, ...).
* **Engines**: networkit PLM at resolution 1, 2, 4, 8; igraph Leiden (modularity) at 1 and 4;
  igraph Leiden with the Constant Potts Model at 0.5 and 1 (the density threshold in units of
  1 / mean degree, :func:`graph.community.cpm_threshold`); igraph Infomap. Each is seeded with
  the graph's seed.
* **Figures**: NMI against the planted communities (arithmetic normalisation, Danon et al.
  2005), communities found against planted, and seconds per graph (the whole
  ``communities_from_edges`` call, after one untimed warm-up per engine that pays the imports),
  averaged over the seeds. The recommendation is the fastest configuration whose NMI is within
  0.01 of the best at every mu up to 0.5 on every graph family.

``--quick`` runs n = 1,000 only, with one seed (a smoke run for CI). Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt

from graph.community import Engine, communities_from_edges

__all__ = [
    "CONFIGS",
    "Config",
    "LfrGraph",
    "Row",
    "Table",
    "format_table",
    "lfr_graph",
    "main",
    "normalized_mutual_information",
    "recommend",
    "run_table",
]

NS = (1_000, 5_000)
SIZE_RANGES = ((10, 50), (20, 100))
MUS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
TAU1 = 2.0  # degree exponent
TAU2 = 1.5  # community-size exponent
AVERAGE_DEGREE = 20
MAX_DEGREE = 50
RECOMMEND_MAX_MU = 0.5
RECOMMEND_TOLERANCE = 0.01

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Config:
    """One engine at one resolution."""

    label: str
    engine: Engine
    resolution: float


CONFIGS: tuple[Config, ...] = (
    Config("networkit PLM, resolution 1", "networkit", 1.0),
    Config("networkit PLM, resolution 2", "networkit", 2.0),
    Config("networkit PLM, resolution 4", "networkit", 4.0),
    Config("networkit PLM, resolution 8", "networkit", 8.0),
    Config("igraph Leiden, resolution 1", "igraph", 1.0),
    Config("igraph Leiden, resolution 4", "igraph", 4.0),
    Config("igraph Leiden CPM, 0.5/mean degree", "leiden-cpm", 0.5),
    Config("igraph Leiden CPM, 1/mean degree", "leiden-cpm", 1.0),
    Config("igraph Infomap", "infomap", 1.0),
)


@dataclass(frozen=True)
class LfrGraph:
    """An LFR graph: each undirected edge once, and the planted community of every node."""

    n: int
    src: I64
    dst: I64
    planted: I64

    @property
    def mixing(self) -> float:
        """The measured mixing: the share of edges whose ends lie in different communities."""
        if not len(self.src):
            return 0.0
        return float((self.planted[self.src] != self.planted[self.dst]).mean())


@dataclass(frozen=True)
class Row:
    """One configuration on one graph family: per mu, means over the seeds."""

    label: str
    engine: str
    resolution: float
    nmi: list[float]
    found: list[float]
    seconds: list[float]

    @property
    def mean_seconds(self) -> float:
        """Seconds per graph, over every mu and seed."""
        return float(np.mean(self.seconds))


@dataclass(frozen=True)
class Table:
    """Every configuration on the LFR graphs of one n and one community-size range."""

    n: int
    min_size: int
    max_size: int
    mus: list[float]
    seeds: int
    planted: list[float]
    mixing: list[float]
    rows: list[Row]

    @property
    def title(self) -> str:
        return (f"LFR n {self.n:,}, communities {self.min_size}-{self.max_size} "
                f"(mean of {self.seeds} graph seed{'s' if self.seeds > 1 else ''})")


def lfr_graph(n: int, min_size: int, max_size: int, mu: float, seed: int) -> LfrGraph:
    """One LFR graph from NetworKit's generator, seeded, on one thread.

    Degrees follow a power law with exponent ``TAU1``, mean ``AVERAGE_DEGREE`` and maximum
    ``MAX_DEGREE``; community sizes a power law with exponent ``TAU2`` between ``min_size`` and
    ``max_size``; every node has the share ``mu`` of its edges outside its community.
    """
    import networkit as nk

    nk.setNumberOfThreads(1)
    nk.setSeed(seed, False)
    generator = nk.generators.LFRGenerator(n)
    generator.generatePowerlawDegreeSequence(AVERAGE_DEGREE, MAX_DEGREE, -TAU1)
    generator.generatePowerlawCommunitySizeSequence(min_size, max_size, -TAU2)
    generator.setMu(mu)
    generator.run()
    graph = generator.getGraph()
    edges = np.array(list(graph.iterEdges()), dtype=np.int64).reshape(-1, 2)
    planted = np.asarray(generator.getPartition().getVector(), dtype=np.int64)
    return LfrGraph(n=n, src=edges[:, 0], dst=edges[:, 1], planted=planted)


def _entropy(counts: npt.NDArray[np.float64], total: float) -> float:
    p = counts[counts > 0] / total
    return float(-(p * np.log(p)).sum())


def normalized_mutual_information(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """NMI of two partitions given as label arrays: 2 I(A; B) / (H(A) + H(B)).

    The arithmetic normalisation of Danon, Diaz-Guilera, Duch & Arenas 2005 ("Comparing
    community structure identification", J. Stat. Mech. P09008), used by Lancichinetti &
    Fortunato; 1 for identical partitions (also when both are a single community), 0 for
    independent ones. Labels are arbitrary integers.
    """
    x = np.unique(np.asarray(a), return_inverse=True)[1].ravel()
    y = np.unique(np.asarray(b), return_inverse=True)[1].ravel()
    if len(x) != len(y):
        raise ValueError(f"partitions of different lengths: {len(x)} and {len(y)}")
    total = float(len(x))
    if total == 0:
        return 1.0
    joint = np.bincount(x * (y.max() + 1) + y).astype(np.float64)
    h_x = _entropy(np.bincount(x).astype(np.float64), total)
    h_y = _entropy(np.bincount(y).astype(np.float64), total)
    if h_x + h_y == 0:
        return 1.0  # both a single community
    mutual = h_x + h_y - _entropy(joint, total)
    return float(max(0.0, 2 * mutual / (h_x + h_y)))


def _warm_up(configs: Sequence[Config]) -> None:
    for engine in dict.fromkeys(c.engine for c in configs):
        communities_from_edges(2, [0], [1], [1.0], engine=engine)


def run_table(
    n: int, min_size: int, max_size: int, *, mus: Sequence[float] = MUS, seeds: int = 3,
    configs: Sequence[Config] = CONFIGS, progress: bool = False,
) -> Table:
    """Every configuration on ``seeds`` LFR graphs per mu; NMI, communities and seconds."""
    _warm_up(configs)
    nmi = np.zeros((len(configs), len(mus), seeds))
    found = np.zeros_like(nmi)
    seconds = np.zeros_like(nmi)
    planted = np.zeros((len(mus), seeds))
    mixing = np.zeros_like(planted)
    for j, mu in enumerate(mus):
        for k in range(seeds):
            if progress:
                print(f"  n {n:,}, {min_size}-{max_size}, mu {mu}, seed {k + 1} …",
                      file=sys.stderr)
            graph = lfr_graph(n, min_size, max_size, mu, seed=k + 1)
            planted[j, k] = int(graph.planted.max()) + 1
            mixing[j, k] = graph.mixing
            for i, config in enumerate(configs):
                started = time.perf_counter()
                part = communities_from_edges(
                    n, graph.src, graph.dst, engine=config.engine,
                    resolution=config.resolution, seed=k + 1,
                )
                seconds[i, j, k] = time.perf_counter() - started
                nmi[i, j, k] = normalized_mutual_information(part.membership, graph.planted)
                found[i, j, k] = part.n_communities
    rows = [
        Row(label=c.label, engine=c.engine, resolution=c.resolution,
            nmi=nmi[i].mean(axis=1).round(4).tolist(),
            found=found[i].mean(axis=1).round(1).tolist(),
            seconds=seconds[i].mean(axis=1).round(4).tolist())
        for i, c in enumerate(configs)
    ]
    return Table(n=n, min_size=min_size, max_size=max_size, mus=list(mus), seeds=seeds,
                 planted=planted.mean(axis=1).round(1).tolist(),
                 mixing=mixing.mean(axis=1).round(3).tolist(), rows=rows)


def recommend(
    tables: Sequence[Table], *, max_mu: float = RECOMMEND_MAX_MU,
    tolerance: float = RECOMMEND_TOLERANCE,
) -> str:
    """One line: the fastest configuration whose NMI is within ``tolerance`` of the best at
    every mu up to ``max_mu`` in every table (or, when none is, the one that falls least short).
    """
    labels = [r.label for r in tables[0].rows]
    shortfall = dict.fromkeys(labels, 0.0)
    seconds = dict.fromkeys(labels, 0.0)
    for table in tables:
        for j, mu in enumerate(table.mus):
            if mu > max_mu + 1e-9:
                continue
            best = max(r.nmi[j] for r in table.rows)
            for r in table.rows:
                shortfall[r.label] = max(shortfall[r.label], best - r.nmi[j])
        for r in table.rows:
            seconds[r.label] += r.mean_seconds
    within = [x for x in labels if shortfall[x] <= tolerance + 1e-12]
    mus = f"mu <= {max_mu:g}"
    if within:
        pick = min(within, key=lambda x: seconds[x])
        others = ", ".join(x for x in within if x != pick) or "none"
        return (f"recommendation: {pick} (the fastest whose NMI is within {tolerance:g} of the "
                f"best at every {mus} on every graph; also within: {others})")
    pick = min(labels, key=lambda x: (shortfall[x], seconds[x]))
    return (f"recommendation: {pick} (no configuration is within {tolerance:g} of the best at "
            f"every {mus}; this one falls least short, by {shortfall[pick]:.3f})")


def format_table(table: Table) -> str:
    """The table as text: NMI per mu and seconds per graph, then communities found per mu."""
    width = max(len(r.label) for r in table.rows)
    mus = "".join(f"{'mu ' + format(mu, 'g'):>8}" for mu in table.mus)
    lines = [table.title, f"  {'NMI':<{width}}{mus}{'s/graph':>10}"]
    for r in table.rows:
        cells = "".join(f"{x:8.3f}" for x in r.nmi)
        lines.append(f"  {r.label:<{width}}{cells}{r.mean_seconds:10.3f}")
    lines.append(f"  {'communities found':<{width}}{mus}")
    for r in table.rows:
        lines.append(f"  {r.label:<{width}}" + "".join(f"{x:8.0f}" for x in r.found))
    lines.append(f"  {'planted':<{width}}" + "".join(f"{x:8.0f}" for x in table.planted))
    lines.append(f"  {'measured mixing':<{width}}" + "".join(f"{x:8.3f}" for x in table.mixing))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="n = 1,000 only, one seed (unless --seeds says otherwise)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="LFR graphs per cell (default 3; 1 with --quick)")
    parser.add_argument("--json", action="store_true", help="print every figure as JSON")
    args = parser.parse_args(argv)
    seeds = args.seeds or (1 if args.quick else 3)
    ns = NS[:1] if args.quick else NS
    tables = [run_table(n, lo, hi, seeds=seeds, progress=True)
              for n in ns for lo, hi in SIZE_RANGES]
    line = recommend(tables)
    if args.json:
        print(json.dumps({
            "tau1": TAU1, "tau2": TAU2, "average_degree": AVERAGE_DEGREE,
            "max_degree": MAX_DEGREE, "seeds": seeds,
            "tables": [asdict(t) for t in tables], "recommendation": line,
        }, indent=2))
        return
    print(f"Community engines on LFR graphs (networkit generator; tau1 {TAU1:g}, tau2 {TAU2:g}, "
          f"average degree {AVERAGE_DEGREE}, max degree {MAX_DEGREE}); NMI against the planted "
          "communities, seconds per graph")
    for table in tables:
        print()
        print(format_table(table))
    print()
    print(line)


if __name__ == "__main__":
    main()
