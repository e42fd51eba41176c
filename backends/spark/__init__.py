"""Detection on Apache Spark (PySpark), for a province-year that no single process holds.

The data lives as Parquet tables in a *lake* folder (:mod:`backends.spark.lake`); Spark
partitions it by the key each step needs (person, institution, doctor, traceability code) and
runs, per partition, the very code the embedded store runs (:mod:`graph.rules`,
:mod:`graph.chains`) on an in-memory DuckDB of that partition's rows
(:mod:`backends.spark.partitioned`). So a rule has one definition, the results are the
embedded store's to the row, and the driver never holds the claims. Loading works the same
way (:mod:`backends.spark.load`): the loader's own checks (:mod:`loaders.validate`) run per
bucket, and the lake gets the rows, quarantine and notes the store would.

:func:`backends.spark.session.spark_session` starts Spark: ``local[2]`` by default, or the
cluster ``YIBAO_SPARK_MASTER`` (or ``--master``) names. Importing this package does not
import pyspark.
"""
