"""Neo4j Graph Data Science as an extra community engine, used only when the server has it.

:func:`gds_version` asks ``CALL gds.version() YIELD gdsVersion``: a Neo4j server with GDS names
its version; a server without it fails the call, and ArcadeDB answers ``gds.version()`` with
its *own* version in a column named ``value`` (so ``gdsVersion`` is null), which also counts as
absent. GDS is never required: detection's default engines run in our code.

With GDS, :func:`communities_from_edges_gds` projects the person co-settlement projection into
a GDS in-memory graph (:class:`GdsProjection`, dropped on exit), runs seeded single-threaded
Leiden with the same resolution and returns the same :class:`graph.community.Partition` as the
in-process engines. :func:`detect_with_gds` runs :func:`graph.detect.detect` with that as its
community step.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import duckdb
import numpy as np
import numpy.typing as npt

from queries.runner import Runner
from yibao.errors import BackendError, CommunityError

if TYPE_CHECKING:
    from graph.community import Partition
    from graph.detect import DetectionResult
    from graph.scoring import DetectionSettings

__all__ = ["GdsProjection", "communities_from_edges_gds", "detect_with_gds", "gds_version"]

log = logging.getLogger(__name__)


def gds_version(runner: Runner) -> str | None:
    """The server's Graph Data Science version, or ``None`` when it has none."""
    try:
        rows = runner.run("read/gds_version")
    except BackendError as exc:
        log.debug("no GDS: %s", exc)
        return None
    version = rows[0].get("gdsVersion") if rows else None
    return str(version) if version else None


class GdsProjection:
    """A GDS in-memory graph of edges ``src[i] - dst[i]`` (weight ``weight[i]``) on nodes
    ``0..n-1``, named at random; it is dropped when the ``with`` block ends."""

    def __init__(self, runner: Runner, src: npt.ArrayLike, dst: npt.ArrayLike,
                 weight: npt.ArrayLike) -> None:
        self.runner = runner
        self.name = f"yibao-{secrets.token_hex(6)}"
        self.edges = [[int(s), int(d), float(w)] for s, d, w in
                      zip(np.asarray(src).tolist(), np.asarray(dst).tolist(),
                          np.asarray(weight).tolist(), strict=True)]

    def __enter__(self) -> GdsProjection:
        self.runner.run("gds/project", {"graph": self.name, "edges": self.edges})
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.runner.run("gds/drop", {"graph": self.name})


def communities_from_edges_gds(
    runner: Runner, n_nodes: int, src: npt.ArrayLike, dst: npt.ArrayLike,
    weight: npt.ArrayLike, *, resolution: float = 1.0, seed: int = 0,
) -> Partition:
    """Communities of nodes ``0..n_nodes-1`` by the server's GDS Leiden, as a canonical
    :class:`~graph.community.Partition` (nodes GDS does not return stay alone)."""
    from graph.community import _canonical, modularity

    if resolution <= 0:
        raise CommunityError(f"resolution must be positive, not {resolution}")
    with GdsProjection(runner, src, dst, weight) as projection:
        rows = runner.run("gds/leiden", {"graph": projection.name, "resolution": resolution,
                                         "seed": int(seed)})
    raw = np.arange(n_nodes, dtype=np.int64) + n_nodes  # unreturned nodes: alone
    for r in rows:
        raw[int(r["nodeId"])] = int(r["communityId"])
    membership = _canonical(raw)
    from graph.community import Partition

    return Partition(
        membership=membership,
        modularity=modularity(membership, src, dst, weight, resolution=resolution),
        engine=cast(Any, "gds"), resolution=resolution,
    )


def detect_with_gds(
    con: duckdb.DuckDBPyConnection, runner: Runner, *,
    settings: DetectionSettings | None = None, progress: Callable[[str], None] | None = None,
) -> DetectionResult:
    """:func:`graph.detect.detect` on the store behind ``con`` with GDS Leiden as the
    community engine (the same steps, tables and result)."""
    from graph.detect import detect

    def gds(n: int, src: npt.ArrayLike, dst: npt.ArrayLike, weight: npt.ArrayLike, *,
            resolution: float, seed: int) -> Partition:
        return communities_from_edges_gds(runner, n, src, dst, weight, resolution=resolution,
                                          seed=seed)

    return detect(con, settings=settings, progress=progress, communities=gds)
