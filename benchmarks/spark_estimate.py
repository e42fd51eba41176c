"""The province-year extrapolation of ``python -m benchmarks.spark``: measured Spark step
times at one scale, scaled to a stated cluster with the assumptions written out."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

__all__ = ["ClusterEstimate", "estimate_cluster"]


# --- the extrapolation --------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterEstimate:
    """A province-year's Spark detection time on a cluster, extrapolated (seconds)."""

    target_settlements: int
    executors: int
    cores_per_executor: int
    executor_memory_gib: float
    shuffle_factor: float
    measured_settlements: int
    measured_cores: int
    core_seconds_per_settlement: dict[str, float]
    step_seconds: dict[str, float]
    parallel_seconds: float
    driver_seconds: float
    total_seconds: float


def estimate_cluster(step_seconds: Mapping[str, float], parallel: Collection[str], *,
                     measured_settlements: int, measured_cores: int,
                     target_settlements: int = 300_000_000, executors: int = 20,
                     cores_per_executor: int = 8, executor_memory_gib: float = 32.0,
                     shuffle_factor: float = 1.5) -> ClusterEstimate:
    """Extrapolate the wall seconds of each step measured on ``measured_settlements`` with
    ``measured_cores`` cores to ``target_settlements`` on ``executors`` x
    ``cores_per_executor`` cores.

    * A step in ``parallel`` (bucketed jobs over all the data) kept all ``measured_cores``
      busy: its cost is ``seconds * measured_cores / measured_settlements`` core-seconds per
      settlement. It grows linearly with the data, is spread perfectly over all the cluster's
      cores and pays ``shuffle_factor`` for data crossing the network (local mode has none):
      ``cost * target_settlements * shuffle_factor / (executors * cores_per_executor)``.
    * Any other step runs on the driver on one core: ``seconds / measured_settlements``
      core-seconds per settlement, linear in the data, with no parallelism and no shuffle:
      ``cost * target_settlements``.

    ``executor_memory_gib`` is only carried along (stated with the assumptions). Raises
    ``ValueError`` on a non-positive size, core count or factor.
    """
    if min(measured_settlements, measured_cores, target_settlements, executors,
           cores_per_executor) <= 0 or shuffle_factor <= 0:
        raise ValueError("sizes, core counts and the shuffle factor must be positive")
    cluster_cores = executors * cores_per_executor
    per_settlement: dict[str, float] = {}
    estimated: dict[str, float] = {}
    parallel_total = driver_total = 0.0
    for step, seconds in step_seconds.items():
        if step in parallel:
            cost = seconds * measured_cores / measured_settlements
            wall = cost * target_settlements * shuffle_factor / cluster_cores
            parallel_total += wall
        else:
            cost = seconds / measured_settlements
            wall = cost * target_settlements
            driver_total += wall
        per_settlement[step] = cost
        estimated[step] = wall
    return ClusterEstimate(
        target_settlements=target_settlements, executors=executors,
        cores_per_executor=cores_per_executor, executor_memory_gib=executor_memory_gib,
        shuffle_factor=shuffle_factor, measured_settlements=measured_settlements,
        measured_cores=measured_cores, core_seconds_per_settlement=per_settlement,
        step_seconds=estimated, parallel_seconds=parallel_total, driver_seconds=driver_total,
        total_seconds=parallel_total + driver_total)


