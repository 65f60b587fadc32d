"""What the batch commands with a Spark engine (`link`, `matrix`) share: the engine choice, the --master option
and the errors a user can fix (a file, a header, a chain, a missing Spark)."""

from __future__ import annotations

from enum import Enum

import typer


class Engine(str, Enum):
    duckdb = "duckdb"
    spark = "spark"


ENGINE_HELP = "duckdb：本机（默认）；spark：在 Spark 中计算 (duckdb | spark)"
MASTER_HELP = "Spark master URL，默认 CHAINATLAS_SPARK_MASTER，再默认 local[*] (Spark master)"


def master_option() -> str | None:
    return typer.Option(None, "--master", help=MASTER_HELP)


def user_errors() -> tuple[type[Exception], ...]:
    """The exceptions whose message is the whole story for the user (imported on use: Spark's only when run)."""
    from chainatlas.domain.chain import ChainFileError
    from chainatlas.engines.spark_session import SparkUnavailable
    from chainatlas.ingest.mapping import MappingError
    from chainatlas.ingest.reader import ReadError

    return ReadError, MappingError, ChainFileError, SparkUnavailable
