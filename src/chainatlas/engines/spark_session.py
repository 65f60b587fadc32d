"""The Spark session the national-scale jobs run in (`--engine spark`): local mode unless a master is named.

Only this module starts Spark, so every command runs it the same way. pyspark is the `spark` extra
(`pip install chainatlas[spark]`) and needs Java 17 or 21; it is imported here, never at the top of a module that
the single-machine path loads.

What travels to the executors: the chain file (and a header-mapping file) by `SparkContext.addFile`, read there with
`shipped`; the code itself (chainatlas with its compiled placement kernel, polars, pyahocorasick, rapidfuzz) must be
importable by the executors' Python — on a cluster, a packed virtual environment passed with `--archives`
(README, "Running on a Spark cluster").
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from chainatlas import config

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOCAL_MASTER = "local[*]"
# local mode runs every task in the driver's JVM; the placement itself runs in Python workers beside it
LOCAL_DRIVER_MEMORY = "4g"


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing: said in Chinese first, with what to install."""


def resolve_master(master: str | None) -> str:
    """--master, else CHAINATLAS_SPARK_MASTER, else local mode on every core."""
    return master or config.spark_master() or LOCAL_MASTER


def spark_session(master: str | None = None, app_name: str = "chainatlas") -> SparkSession:
    """The running session when there is one (a test session's, a spark-submit's), else a new one on `master`."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable(
            "未安装 pyspark：请运行 pip install 'chainatlas[spark]'，并安装 Java 17 或 21"
            "（Debian: apt-get install default-jre-headless）(pyspark is not installed)") from exc
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    url = resolve_master(master)
    builder = (
        SparkSession.builder.appName(app_name).master(url)
        # the placement and region steps hand Arrow batches to Python: no row-by-row pickling
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")  # the commands print their own summary
    )
    if url.startswith("local"):
        # one machine: a few shuffle partitions per core, not the cluster default of 200; no web UI port
        # the Python workers are this interpreter (this environment's chainatlas and kernel), not the PATH's python3
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        builder = (builder.config("spark.sql.shuffle.partitions", str(2 * _local_cores(url)))
                   .config("spark.ui.enabled", "false")
                   .config("spark.driver.memory", LOCAL_DRIVER_MEMORY))
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: no Java, or the wrong one
        raise SparkUnavailable(
            f"无法启动 Spark（master {url}）：请确认已安装 Java 17 或 21 并设置 JAVA_HOME (cannot start Spark): {exc}"
        ) from exc
    session.sparkContext.setLogLevel("ERROR")
    return session


def _local_cores(url: str) -> int:
    """Cores of a local master: local → 1, local[N] / local[N,F] → N, local[*] → this machine's."""
    inside = url[url.find("[") + 1: url.find("]")] if "[" in url else "1"
    first = inside.split(",")[0].strip()
    return (os.cpu_count() or 2) if first == "*" else max(1, int(first))


def ship(spark: SparkSession, path: Path) -> str:
    """Send a file to every executor; returns the name `shipped` finds it by there."""
    spark.sparkContext.addFile(str(Path(path).resolve()))
    return Path(path).name


def shipped(name: str) -> Path:
    """On an executor (or the driver): the local copy of a file sent with `ship`."""
    from pyspark import SparkFiles

    return Path(SparkFiles.get(name))
