"""The region × node matrix of a registry (`chainatlas matrix`): the inputs of relatedness and location quotients,
computed from placed registry data on one machine (DuckDB) or on Spark, and read back as the national baseline of
`gaps` (CHAINATLAS_BASELINE or --baseline) in place of the firms in the database.

Inputs: the registry file (CSV with its header on the first line, or Parquet) and its placements (what
`chainatlas classify` wrote for it, either engine). A firm is named as classify names it (id, else USCC, else
"第N行"); its region is the city (4-digit division code) of its address, else of its USCC's registering authority
— as the import decides a firm's city. A placement counts on its node and every ancestor (a cell maker is in the
battery segment), each firm once per node.

The output is one long table (Parquet), one row per count:
    kind = "node":  region, node, firms — distinct firms of the region on the node (region "" = no city known)
    kind = "chain": region, firms      — distinct firms of the region on any node of the chain
    kind = "all":   region, firms      — every firm of the region, on the chain or not
with the chain id in a column. Both engines run the same SQL text (`MATRIX_SQL`) over the same three tables, so
they count alike by construction; the parity test checks it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import polars as pl

from chainatlas.domain.chain import Chain
from chainatlas.domain.uscc import division_code
from chainatlas.ingest.address import place_from_division_code
from chainatlas.ingest.field_columns import FIRST_DATA_ROW, mapped_columns, read_fields
from chainatlas.ingest.name_place_columns import places
from chainatlas.ingest.reader import ReadError
from chainatlas.services.placement.classify_file import FIELDS

# the registry's fields the matrix reads: the firm's name (id, USCC) and where it is
REGION_FIELDS = ("id", "uscc", "address", "province", "city", "district")
MATRIX_COLUMNS = {"chain": pl.String, "kind": pl.String, "region": pl.String, "node": pl.String, "firms": pl.Int64}

MATRIX_SQL = """
WITH firm AS (SELECT id, max(region) AS region FROM firm_rows GROUP BY id),
rolled AS (SELECT DISTINCT p.id AS firm, r.rolled AS node
           FROM placements p JOIN rollup r ON p.node_id = r.node),
located AS (SELECT rolled.firm, rolled.node, coalesce(firm.region, '') AS region
            FROM rolled LEFT JOIN firm ON firm.id = rolled.firm)
SELECT 'node' AS kind, region, node, count(*) AS firms FROM located GROUP BY region, node
UNION ALL
SELECT 'chain' AS kind, region, CAST(NULL AS STRING) AS node, count(DISTINCT firm) AS firms FROM located GROUP BY region
UNION ALL
SELECT 'all' AS kind, coalesce(region, '') AS region, CAST(NULL AS STRING) AS node, count(*) AS firms
FROM firm GROUP BY coalesce(region, '')
"""


def rollup_frame(chain: Chain) -> pl.DataFrame:
    """(node, rolled) for every node and each of its ancestors, itself included: a placement counts on each."""
    rows: list[tuple[str, str]] = []
    for node in chain.nodes.values():
        current: str | None = node.id
        while current is not None:
            rows.append((node.id, current))
            current = chain.nodes[current].parent
    return pl.DataFrame(rows, schema={"node": pl.String, "rolled": pl.String}, orient="row")


def firm_regions(cells: pl.DataFrame) -> pl.DataFrame:
    """(id, region) per registry row, from its cells (REGION_FIELDS that the file has, as text) and its row number.

    The id as classify names a firm; the region the city of the address (or of province/city/district columns),
    else of the USCC's registering authority; null when neither says."""
    def text(name: str) -> pl.Expr:
        return pl.col(name).fill_null("").str.strip_chars() if name in cells.columns else pl.lit("")

    frame = cells.select(id=text("id"), uscc=text("uscc"), row="row",
                         where=pl.when(text("address") != "").then(text("address"))
                         .otherwise(pl.concat_str(text("province"), text("city"), text("district"))))
    addresses = frame["where"].unique(maintain_order=True)
    found = places(addresses.to_list())
    city_of_address = pl.DataFrame({"where": addresses, "city": [p.city_code if p.province_code else None
                                                                 for p in found]})
    frame = frame.join(city_of_address, on="where", how="left", maintain_order="left")
    missing = frame.filter(pl.col("city").is_null() & (pl.col("uscc") != ""))["uscc"].unique().to_list()
    by_uscc = {u: place_from_division_code(division_code(u)) for u in missing}
    from_uscc = pl.DataFrame({"uscc": list(by_uscc), "uscc_city": [p.city_code if p.province_code else None
                                                                  for p in by_uscc.values()]},
                             schema={"uscc": pl.String, "uscc_city": pl.String})
    frame = frame.join(from_uscc, on="uscc", how="left", maintain_order="left")
    firm_id = (pl.when(pl.col("id") != "").then("id").when(pl.col("uscc") != "").then("uscc")
               .otherwise(pl.format("第{}行", pl.col("row"))))
    def known(name: str) -> pl.Expr:
        return pl.when(pl.col(name) != "").then(name)

    return frame.select(id=firm_id, region=pl.coalesce(known("city"), known("uscc_city")))


@dataclass(frozen=True)
class MatrixSummary:
    path: str
    regions: int
    nodes: int
    firms: int
    chain_firms: int


def _summary(path: str, matrix: pl.DataFrame) -> MatrixSummary:
    nodes = matrix.filter(pl.col("kind") == "node")
    chain_rows = matrix.filter(pl.col("kind") == "chain")
    return MatrixSummary(path, chain_rows.filter(pl.col("region") != "").height, nodes["node"].n_unique(),
                         int(matrix.filter(pl.col("kind") == "all")["firms"].sum()), int(chain_rows["firms"].sum()))


def _ordered(matrix: pl.DataFrame, chain: Chain) -> pl.DataFrame:
    return (matrix.with_columns(chain=pl.lit(chain.id)).select(list(MATRIX_COLUMNS)).cast(MATRIX_COLUMNS)
            .sort("kind", "region", "node", nulls_last=True))


# ---------------------------------------------------------------------- one machine


def _read_registry(path: Path, mapping_file: Path | None) -> pl.DataFrame:
    """REGION_FIELDS' cells of every row of a CSV (header on the first line) or Parquet file, with row numbers."""
    cells, headers = read_fields(path, FIELDS, REGION_FIELDS, mapping_file)
    _require_firm_key(path.name, [c for c in cells.columns if c != "row"], headers)
    return cells


def _require_firm_key(name: str, columns: Iterable[str], headers: list[str]) -> None:
    if not {"id", "uscc"} & set(columns):
        raise ReadError(f"{name}：找不到编号或统一社会信用代码列，无法把挂链结果对回企业（表头为：{'、'.join(headers)}）"
                        " (the registry needs an id or USCC column)")


def _read_placements_local(path: Path) -> pl.DataFrame:
    """(id, node_id) of classify's output: one CSV file, or a folder of CSV or Parquet parts (the Spark engine's)."""
    if path.is_dir():
        parts = sorted(path.glob("part-*"))
        if parts and parts[0].suffix == ".parquet":
            return pl.concat([pl.read_parquet(p, columns=["id", "node_id"]) for p in parts])
        return pl.concat([pl.read_csv(p, columns=["id", "node_id"], infer_schema=False) for p in parts]
                         or [pl.DataFrame(schema={"id": pl.String, "node_id": pl.String})])
    return pl.read_csv(path, columns=["id", "node_id"], infer_schema=False, encoding="utf8")


def matrix_local(registry: Path, placements: Path, chain: Chain, out: Path,
                 mapping_file: Path | None = None) -> MatrixSummary:
    """The matrix on this machine (DuckDB runs MATRIX_SQL), written to `out` as one Parquet file."""
    import duckdb

    firm_rows = firm_regions(_read_registry(Path(registry), mapping_file))
    placed = _read_placements_local(Path(placements))
    rollup = rollup_frame(chain)
    con = duckdb.connect()
    try:
        con.execute("SET threads TO 2")
        for name, frame in (("firm_rows", firm_rows), ("placements", placed), ("rollup", rollup)):
            con.register(name, frame.to_arrow())
        matrix = pl.from_arrow(con.sql(MATRIX_SQL.replace("AS STRING", "AS VARCHAR")).to_arrow_table())
    finally:
        con.close()
    matrix = _ordered(matrix, chain)
    partial = Path(out).with_name(f".{Path(out).name}.partial")
    matrix.write_parquet(partial)
    partial.replace(out)
    return _summary(str(out), matrix)


# ---------------------------------------------------------------------- Spark


def matrix_spark(registry: str, placements: str, chain: Chain, out: str, master: str | None = None,
                 mapping_file: Path | None = None) -> MatrixSummary:
    """The matrix in Spark (Spark SQL runs MATRIX_SQL), written to `out` as a Parquet folder of one part. Regions
    are found in Python workers per partition (`firm_regions`), row numbers counted as `classify_spark` does."""
    import itertools

    from pyspark.sql.functions import col, lit, spark_partition_id

    from chainatlas.engines.spark_session import ship, spark_session
    from chainatlas.services.placement.classify_spark import read_registry

    spark = spark_session(master)
    frame = read_registry(spark, registry)
    headers = [c.removeprefix("\ufeff").strip() for c in frame.columns]
    columns = mapped_columns(headers, FIELDS, REGION_FIELDS, mapping_file)
    _require_firm_key(PurePosixPath(registry).name, columns, headers)
    cells = frame.select([frame[f"`{frame.columns[j]}`"].alias(f) for f, j in columns.items()])
    per_partition = dict(cells.select(spark_partition_id().alias("p")).groupBy("p").count().collect())
    partitions = cells.rdd.getNumPartitions()
    starts = dict(enumerate(itertools.accumulate((per_partition.get(p, 0) for p in range(partitions)),
                                                 initial=FIRST_DATA_ROW)))
    ship(spark, Path(chain.path))  # executors place nothing here, but a cluster job keeps its inputs together
    firm_rows = cells.mapInArrow(lambda batches: _regions_of_partition(starts, batches),
                                 "id string, region string")
    firm_rows.createOrReplaceTempView("firm_rows")
    _read_placements_spark(spark, placements).createOrReplaceTempView("placements")
    spark.createDataFrame(rollup_frame(chain).rows(), "node string, rolled string").createOrReplaceTempView("rollup")
    # a few thousand rows: one part, in the single-machine file's column order and row order
    result = (spark.sql(MATRIX_SQL).select(lit(chain.id).alias("chain"), "kind", "region", "node", "firms")
              .orderBy("kind", "region", col("node").asc_nulls_last()).coalesce(1).cache())
    result.write.mode("overwrite").parquet(out)
    matrix = pl.from_arrow(result.toArrow())
    result.unpersist()
    return _summary(out, matrix)


def _regions_of_partition(starts: dict[int, int], batches):  # type: ignore[no-untyped-def]
    import pyarrow as pa
    from pyspark import TaskContext

    batches = list(batches)
    if not batches:
        return
    cells = pl.from_arrow(pa.Table.from_batches(batches))
    first = starts[TaskContext.get().partitionId()]
    cells = cells.with_columns(row=pl.int_range(pl.len(), dtype=pl.Int64) + first)
    yield from firm_regions(cells).to_arrow().to_batches()


def _read_placements_spark(spark, placements: str):  # type: ignore[no-untyped-def]
    if placements.rstrip("/").lower().endswith(".parquet"):
        return spark.read.parquet(placements).select("id", "node_id")
    return spark.read.option("header", True).option("escape", '"').csv(placements).select("id", "node_id")


# ---------------------------------------------------------------------- the baseline, read back


@dataclass(frozen=True)
class Baseline:
    """What the diagnosis compares a zone with (see diagnosis `_World`): the world's regions × nodes."""

    source: str
    regions: list[str]
    nodes: list[str]
    x: np.ndarray
    row_totals: np.ndarray
    node_all: np.ndarray
    city_totals: dict[str, int]


def read_matrix(path: Path) -> pl.DataFrame:
    """The matrix Parquet: one file (this machine's) or a folder of parts (Spark's)."""
    path = Path(path)
    if not path.exists():
        raise ReadError(f"找不到全国基准矩阵 {path}：请先运行 chainatlas matrix 生成 (baseline matrix not found)")
    files = sorted(path.glob("*.parquet")) if path.is_dir() else [path]
    return pl.concat([pl.read_parquet(f) for f in files]).cast(MATRIX_COLUMNS)


def load_baseline(path: Path, chain: Chain) -> Baseline:
    matrix = read_matrix(path)
    chains = set(matrix["chain"].unique().to_list())
    if chains - {chain.id}:
        raise ReadError(f"全国基准矩阵 {path} 属于产业链 {'、'.join(sorted(chains))}，不是 {chain.id}；"
                        "请用同一产业链重新生成 (the baseline was made for another chain)")
    nodes = list(chain.nodes)
    chain_rows = matrix.filter((pl.col("kind") == "chain") & (pl.col("region") != "")).sort("region")
    regions = chain_rows["region"].to_list()
    region_index = {r: i for i, r in enumerate(regions)}
    node_index = {n: j for j, n in enumerate(nodes)}
    x = np.zeros((len(regions), len(nodes)))
    node_all = np.zeros(len(nodes))
    for region, node, firms in matrix.filter(pl.col("kind") == "node").select("region", "node", "firms").iter_rows():
        if node in node_index:
            node_all[node_index[node]] += firms
            if region in region_index:
                x[region_index[region], node_index[node]] = firms
    city_totals = dict(matrix.filter(pl.col("kind") == "all").select("region", "firms").iter_rows())
    return Baseline(str(path), regions, nodes, x, chain_rows["firms"].to_numpy().astype(float), node_all, city_totals)


@dataclass(frozen=True)
class NodeCity:
    region: str  # city code
    firms: int
    rca: float


def node_cities(baseline: Baseline, node_id: str, top: int = 5) -> list[NodeCity]:
    """Where a node's firms are in the baseline: the cities specialised in it (RCA ≥ 1), most firms first — where
    to look for targets (按图索骥) beyond the firms in the database."""
    from chainatlas.engines.relatedness import rca

    if node_id not in baseline.nodes or not baseline.regions:
        return []
    j = baseline.nodes.index(node_id)
    rca_j = rca(baseline.x, baseline.row_totals)[:, j]
    firms = baseline.x[:, j]
    order = sorted((i for i in range(len(baseline.regions)) if firms[i] > 0 and rca_j[i] >= 1.0),
                   key=lambda i: (-firms[i], -rca_j[i], baseline.regions[i]))
    return [NodeCity(baseline.regions[i], int(firms[i]), float(rca_j[i])) for i in order[:top]]
