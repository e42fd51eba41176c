"""Starting Spark: local mode for tests and one machine, a cluster by its master URL.

``YIBAO_SPARK_MASTER`` (or ``master=``) names the cluster: ``yarn``,
``k8s://https://host:6443``, ``spark://host:7077``; without one Spark runs in this process's
JVM with two cores (``local[2]``). The executors need Python 3.11 with this package and its
dependencies installed (the wheel, DuckDB, NumPy, networkit and igraph): see ``docs/scale.md``.
Spark itself needs Java 17 (Debian's ``openjdk-17-jre-headless``).
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from yibao.errors import BackendUnavailableError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["LOCAL_MASTER", "spark_master", "spark_session", "with_conf"]

LOCAL_MASTER = "local[2]"

_CONFIG = {
    "spark.sql.session.timeZone": "UTC",  # store times are naive: no shift on the way
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    # many shuffle partitions, merged by adaptive execution when small: a partition's rows
    # are sorted and joined in the heap, which is small in local mode
    "spark.sql.shuffle.partitions": "64",
    # row groups of 32 MiB in what Spark writes (intermediate steps): a reader holds a whole
    # row group in its heap (128 MiB by default, two tasks at once exhausted 768 MiB at 10M)
    "spark.hadoop.parquet.block.size": str(32 * 2**20),
    "spark.sql.adaptive.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.python.worker.reuse": "true",
    # the JVM beside its heap: serial GC (no per-region bookkeeping, one machine's worth of
    # threads), and caps on the code cache, class metadata and direct (Arrow, network) buffers
    "spark.driver.extraJavaOptions": "-XX:+UseSerialGC -XX:ReservedCodeCacheSize=96m "
                                     "-XX:MaxMetaspaceSize=192m -XX:MaxDirectMemorySize=384m",
}


_LOCAL_CONFIG = {
    # one machine: shuffle files never cross a network and stay in the page cache, so
    # compressing them only costs CPU (a third of a 26M-row shuffle join's time at 10M)
    "spark.shuffle.compress": "false",
    "spark.shuffle.spill.compress": "false",
}
"""Settings for local mode only (a cluster keeps Spark's defaults)."""


def spark_master(master: str | None = None) -> str:
    """The master URL: ``master``, else ``YIBAO_SPARK_MASTER``, else ``local[2]``."""
    return master or os.environ.get("YIBAO_SPARK_MASTER") or LOCAL_MASTER


def spark_session(master: str | None = None, *, driver_memory: str | None = None,
                  config: dict[str, str] | None = None) -> SparkSession:
    """A Spark session on :func:`spark_master` (an existing one is reused).

    ``driver_memory`` (``YIBAO_SPARK_DRIVER_MEMORY``, default ``768m``) caps the driver JVM's
    heap; in local mode the executors' work runs in that JVM too, while the per-partition
    Python runs in Spark's worker processes.
    """
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise BackendUnavailableError(
            "Spark needs Java 17: install it (Debian: apt-get install openjdk-17-jre-headless) "
            "or set JAVA_HOME")
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise BackendUnavailableError(
            "pyspark is not installed: pip install 'pyspark>=4.0,<5'") from exc
    # our steps pass Arrow, not pandas, between Spark and Python: pandas 3 is not involved
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    memory = driver_memory or os.environ.get("YIBAO_SPARK_DRIVER_MEMORY") or "768m"
    builder = (SparkSession.builder.master(spark_master(master)).appName("yibao-graph")
               .config("spark.driver.memory", memory))
    local = spark_master(master).startswith("local")
    for key, value in {**_CONFIG, **(_LOCAL_CONFIG if local else {}), **(config or {})}.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # Py4J/JVM start failures come as plain exceptions
        raise BackendUnavailableError(
            f"Spark did not start on {spark_master(master)!r}: {exc}. Check Java 17, "
            "YIBAO_SPARK_MASTER and that the cluster is reachable") from exc


@contextmanager
def with_conf(spark: SparkSession, settings: Mapping[str, str]) -> Iterator[None]:
    """Run the actions inside with the SQL ``settings`` (e.g. one aggregation's plan), then
    put back what was set before (a query's plan is made when an action runs it, so the
    action must be inside)."""
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, old in before.items():
            if old is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, old)
