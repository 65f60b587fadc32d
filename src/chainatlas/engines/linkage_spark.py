"""Entity resolution on Spark: `linkage.SETTINGS` (the same blocking rules and comparisons) on splink's Spark
backend, with the comparisons' Python functions (`linkage.FUNCTIONS`) registered as Arrow UDFs — the same functions
DuckDB calls, so both backends score every blocked pair alike. splink's own Scala similarity jar is not used: its
Jaro-Winkler is not rapidfuzz's, and the DuckDB path would disagree with it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from chainatlas.engines.spark_session import spark_session

Predict = Callable[[Any, pa.Table, float], list[dict]]


def predict_on_spark(prepared: pa.Table, threshold: float, predict: Predict, functions: dict[str, tuple[Any, str]],
                     master: str | None = None) -> list[dict]:
    """`linkage.predict` on the Spark session (local mode unless a master is named). linkage hands over its
    predict and its FUNCTIONS, so this module need not import linkage (which imports it for engine="spark")."""
    from pyspark.sql.functions import arrow_udf
    from splink.backends.spark import SparkAPI

    spark = spark_session(master)
    for name, (function, result) in functions.items():
        spark.udf.register(name, arrow_udf(function, result))
    sc = spark.sparkContext
    if sc._jsc.sc().getCheckpointDir().isEmpty():  # splink breaks long lineages by checkpointing to Parquet
        sc.setCheckpointDir(tempfile.mkdtemp(prefix="chainatlas-splink-"))
    db_api = SparkAPI(spark_session=spark, register_udfs_automatically=False)
    return predict(db_api, prepared, threshold)
