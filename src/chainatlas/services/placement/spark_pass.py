"""`chainatlas classify --engine spark`: the same placements as `classify_file`, computed in Spark partitions.

Spark reads the file (CSV with its header on the first line, or Parquet; a local path or any URI Spark reads:
hdfs://, s3a://, a folder of parts). The header is mapped on the driver exactly as `classify_file` maps it; each
partition then reaches a Python worker as Arrow batches (`mapInArrow`), where the classified columns become the
batch classifier's input frame (`input_frame`, the single-machine code) and are placed by a `BatchClassifier` built
once per worker process from the shipped chain file.

Why the output order and the ids equal the single-machine file's:
- a partition's placements come out in its rows' order, best first within a firm, and nothing is shuffled, so the
  part files read in name order are the single-machine rows in order;
- a firm without id or USCC is named by its row in the file ("第N行"): each partition learns how many rows the
  partitions before it hold from one counting pass over the same scan, which splits the file the same way.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import polars as pl
import pyarrow as pa

from chainatlas import config
from chainatlas.domain.chain import Chain, load_chain
from chainatlas.engines.classify_batch import BatchClassifier
from chainatlas.engines.placement_model import model_path
from chainatlas.engines.spark_session import ship, shipped, spark_session
from chainatlas.ingest.field_columns import FIRST_DATA_ROW
from chainatlas.ingest.mapping import load_mapping_file, map_headers
from chainatlas.ingest.reader import ReadError
from chainatlas.services.placement.firm_file import (
    FIELDS,
    classified_columns,
    drop_blank_rows,
    input_frame,
)

OUTPUT_COLUMNS = ("id", "node_id", "node_name", "score", "evidence")
_OUTPUT_SCHEMA = ", ".join(f"{c} string" for c in OUTPUT_COLUMNS)

@dataclass(frozen=True)
class SparkSummary:
    """What `classify_spark` did: firms read, firms placed, placement rows written, Spark partitions."""

    firms: int
    placed: int
    rows: int
    partitions: int
    master: str

@dataclass(frozen=True)
class _Job:
    """What each partition needs, sent with the function (small: names and numbers)."""

    source_name: str  # for error messages: the file the rows came from
    headers: list[str]
    wanted: list[int]
    chain_file: str  # the shipped chain file's name
    mapping_file: str | None
    first_rows: dict[int, int]  # partition → the file row number of its first record

_classifiers: dict[str, BatchClassifier] = {}

def _classifier(chain_file: str) -> BatchClassifier:
    """The worker process's classifier: built once (automaton, kernel, per-text memory), reused by its tasks."""
    if chain_file not in _classifiers:
        _classifiers[chain_file] = BatchClassifier(load_chain(shipped(chain_file)))
    return _classifiers[chain_file]

def _place_partition(job: _Job, batches: Iterator[pa.RecordBatch], counts: tuple) -> Iterator[pa.RecordBatch]:
    """One partition's placements. Its batches are placed together: the classifier's work is per distinct text,
    so a whole partition repeats more than one batch of it."""
    from pyspark import TaskContext

    batches = list(batches)
    if not batches:
        return
    raw = pl.from_arrow(pa.Table.from_batches(batches))
    first = job.first_rows[TaskContext.get().partitionId()]
    raw = drop_blank_rows(raw.with_columns(row=pl.int_range(pl.len(), dtype=pl.Int64) + first), job.wanted)
    mapping = shipped(job.mapping_file) if job.mapping_file else None
    frame = input_frame(Path(job.source_name), job.headers, raw, mapping)
    result = _classifier(job.chain_file).classify_frame(frame)
    firms, placed, rows = counts
    firms.add(frame.height)
    placed.add(result["row"].n_unique())
    rows.add(result.height)
    out = result.select("id", "node_id", "node_name", pl.col("score_text").alias("score"), "evidence").to_arrow()
    yield from out.to_batches(max_chunksize=50_000)

def read_registry(spark, source: str):  # type: ignore[no-untyped-def]
    """The file as Spark reads it: every cell a string (Parquet columns cast), header names as written."""
    from pyspark.errors import AnalysisException

    suffix = PurePosixPath(source.rstrip("/")).suffix.lower()
    if suffix not in (".parquet", ".csv", ".txt", ""):
        raise ReadError(f"{source}：Spark 引擎只读 CSV（UTF-8，首行为表头）或 Parquet；其他格式请用单机引擎 "
                        "(the spark engine reads UTF-8 CSV or Parquet)")
    try:
        if suffix == ".parquet":
            frame = spark.read.parquet(source)
            return frame.select([frame[f"`{c}`"].cast("string") for c in frame.columns])
        return (spark.read.option("header", True).option("inferSchema", False).option("encoding", "UTF-8")
                .option("multiLine", False).option("mode", "PERMISSIVE").csv(source))
    except AnalysisException as exc:  # no such path, no permission, not a table
        raise ReadError(f"Spark 无法读取 {source}：{exc}"
                        " (Spark cannot read the input)") from exc


def classify_spark(source: str, chain: Chain, out: str, master: str | None = None,
                   mapping_file: Path | None = None) -> SparkSummary:
    """Place the firms of `source` on `chain` in Spark and write the placements to `out`: a folder of CSV parts
    (with a header each) or, for a name ending in .parquet, of Parquet parts; read in name order, its rows are the
    single-machine output's. An output already there is replaced."""
    spark = spark_session(master)
    frame = read_registry(spark, source)
    headers = [c.removeprefix("\ufeff").strip() for c in frame.columns]
    mapping = map_headers(headers, FIELDS, load_mapping_file(mapping_file) if mapping_file else None)
    wanted = classified_columns(mapping)
    # the driver checks the header once (a missing name/products/scope column is a clear error here, not a
    # failed task on every executor)
    input_frame(Path(source), headers, pl.DataFrame(schema={**{f"c{j}": pl.String for j in wanted}, "row": pl.Int64}),
                mapping_file)
    cells = frame.select([frame[f"`{frame.columns[j]}`"].alias(f"c{j}") for j in wanted])
    from pyspark.sql.functions import spark_partition_id

    per_partition = dict(cells.select(spark_partition_id().alias("p")).groupBy("p").count().collect())
    partitions = cells.rdd.getNumPartitions()
    starts = itertools.accumulate((per_partition.get(p, 0) for p in range(partitions)), initial=FIRST_DATA_ROW)
    sc = spark.sparkContext
    if chain.derived_path:  # lands beside the shipped chain file, where load_chain looks for it
        ship(spark, Path(chain.derived_path))
    model = model_path(chain.path)
    if config.placement_model() and model.exists():  # so does the learned layer, where `Classifier` looks for it
        ship(spark, model)
    job = _Job(PurePosixPath(source).name, headers, wanted, ship(spark, chain.path),
               ship(spark, mapping_file) if mapping_file else None, dict(enumerate(starts)))
    counts = (sc.accumulator(0), sc.accumulator(0), sc.accumulator(0))
    placed = cells.mapInArrow(lambda batches: _place_partition(job, batches, counts), _OUTPUT_SCHEMA)
    if out.rstrip("/").lower().endswith(".parquet"):
        placed.write.mode("overwrite").parquet(out)
    else:
        (placed.write.mode("overwrite").option("header", True).option("escape", '"').option("encoding", "UTF-8")
         .csv(out))
    firms, placed_firms, rows = (c.value for c in counts)
    return SparkSummary(firms, placed_firms, rows, partitions, sc.master)
