"""Entity resolution on Spark: `linkage.SETTINGS` (the same blocking rules and comparisons) on splink's Spark
backend, with the comparisons' Python functions (`linkage.FUNCTIONS`) registered as Arrow UDFs — the same functions
DuckDB calls, so both backends score every blocked pair alike. splink's own Scala similarity jar is not used: its
Jaro-Winkler is not rapidfuzz's, and the DuckDB path would disagree with it."""

from __future__ import annotations

import tempfile

import pyarrow as pa

from chainatlas.engines.linkage import FUNCTIONS, predict
from chainatlas.engines.spark_session import spark_session


def predict_on_spark(prepared: pa.Table, threshold: float, master: str | None = None) -> list[dict]:
    """`linkage.predict` on the Spark session (local mode unless a master is named)."""
    from pyspark.sql.functions import arrow_udf
    from splink.backends.spark import SparkAPI

    spark = spark_session(master)
    for name, (function, result) in FUNCTIONS.items():
        spark.udf.register(name, arrow_udf(function, result))
    sc = spark.sparkContext
    if sc._jsc.sc().getCheckpointDir().isEmpty():  # splink breaks long lineages by checkpointing to Parquet
        sc.setCheckpointDir(tempfile.mkdtemp(prefix="chainatlas-splink-"))
    db_api = SparkAPI(spark_session=spark, register_udfs_automatically=False)
    return predict(db_api, prepared, threshold)
