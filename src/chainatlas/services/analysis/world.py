"""What the diagnosis reads from the database, with SELECTs only: the zone, the chain, every effective
placement (analysts' vetoes applied), the scale measures and the benchmark regions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from chainatlas.domain.chain import Chain, load_chain
from chainatlas.engines import relatedness as rel
from chainatlas.services.placement.placements import MANUAL, RULE
from chainatlas.services.analysis.matrix import load_baseline, rollup_frame
from chainatlas.services.catalog.zones import resolve_zone
from chainatlas.store.models import Designation, Enterprise, Placement, Zone

# Columns of scale measures in the frames below.
MEASURE_COLUMNS = {"capital": Enterprise.registered_capital_yuan, "revenue": Enterprise.revenue_yuan,
                   "output": Enterprise.output_yuan, "employees": Enterprise.employees}


@dataclass
class HypotheticalFirm:
    """A firm that does not exist (yet): a target being courted or a pipeline project, for what-if only.

    serves_leaders: the new local firm is assumed to take over the zone leaders' outside purchases on its nodes.
    """

    node_ids: tuple[str, ...]
    count: int = 1
    name: str = "假设企业"
    capital_yuan: int | None = None
    revenue_yuan: int | None = None
    output_yuan: int | None = None
    employees: int | None = None
    is_leader: bool = False
    listed: bool = False
    serves_leaders: bool = True



@dataclass
class World:
    chain: Chain
    node_ids: list[str]
    rollup: pl.DataFrame  # node -> rolled (self and every ancestor)
    placed: pl.DataFrame  # firm, node (rolled up), city, measures — effective placements of live firms
    zone_placed: pl.DataFrame  # the rows of `placed` whose firm is in the zone
    zone_stats: dict[str, dict]  # node -> ids, money sums and known counts, listed/leader/designated counts
    zone_chain_total: int
    regions: list[str]  # city codes with chain firms, sorted
    x: np.ndarray  # regions × nodes, distinct firms
    row_totals: np.ndarray  # distinct chain firms per region
    node_all: np.ndarray  # distinct firms per node in the whole database (with or without a city)
    city_totals: dict[str, int]  # all live enterprises per city code
    all_total: int
    zone: Zone
    zone_firms: pl.DataFrame  # id, name, measures, listed, leader, designated, demo
    is_demo: bool
    baseline: str = ""  # the baseline matrix file the regions and totals come from; "" for the database


def fetch(session: Session, stmt: Select) -> list[tuple]:
    """Rows of a SELECT straight from the DBAPI cursor: at a million rows, the Result layer costs a third more.

    Values are rendered as escaped SQL literals by SQLAlchemy's compiler, so no paramstyle differs by backend.
    """
    sql = str(stmt.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}))
    cursor = session.connection().connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def veto_frame(session: Session, chain: Chain) -> pl.DataFrame:
    """Analysts' rejections as (firm, node); node None = "not on this chain"; a node covers its sub-nodes."""
    rows = session.execute(
        select(Placement.enterprise_id, Placement.node_id).where(
            Placement.chain_id == chain.id, Placement.rejected.is_(True), Placement.method == MANUAL)
    ).all()
    expanded = [
        (firm, node_id)
        for firm, node in rows
        for node_id in ([node] if node is None or node not in chain.nodes else [node, *(d.id for d in chain.descendants(node))])
    ]
    return pl.DataFrame(expanded, schema={"firm": pl.Int64, "node": pl.String}, orient="row")


def apply_vetoes(pairs: pl.DataFrame, vetoes: pl.DataFrame) -> pl.DataFrame:
    """The rule of services/placement.effective_placements, on a frame: "not on this chain" drops every row of the
    firm; "not on node X" drops *rule* rows on X and below (an analyst's own placement there stands).
    effective_placements itself builds an object per row, too slow for a million firms; a test keeps both equal."""
    if not vetoes.height:
        return pairs
    pairs = pairs.join(vetoes.filter(pl.col("node").is_null()).select("firm"), on="firm", how="anti")
    node_vetoes = vetoes.filter(pl.col("node").is_not_null()).with_columns(pl.lit(True).alias("rule"))
    return pairs.join(node_vetoes, on=["firm", "node", "rule"], how="anti")


def effective_pairs(session: Session, chain_id: str, vetoes: pl.DataFrame, zone_id: str | None) -> pl.DataFrame:
    """(firm, node, city, rule, measures…) for the effective placements of live (not merged) firms, of one zone or
    of all; the measures of scale come along so the benchmark's node and chain sums need no second read."""
    stmt = (
        select(Placement.enterprise_id, Placement.node_id, Enterprise.city_code, Placement.method == RULE,
               *MEASURE_COLUMNS.values())
        .join(Enterprise, Enterprise.id == Placement.enterprise_id)
        .where(Placement.chain_id == chain_id, Placement.rejected.is_(False), Placement.node_id.is_not(None),
               Enterprise.merged_into_id.is_(None))
    )
    if zone_id is not None:
        stmt = stmt.where(Enterprise.zone_id == zone_id)
    pairs = pl.DataFrame(
        fetch(session, stmt),
        schema={"firm": pl.Int64, "node": pl.String, "city": pl.String, "rule": pl.Boolean,
                **{m: pl.Int64 for m in MEASURE_COLUMNS}},
        orient="row",
    )
    return apply_vetoes(pairs, vetoes)


def load_world(session: Session, zone_id: str, chain_id: str, zone_only: bool = False,
                baseline: Path | None = None) -> World:
    """Read what the diagnosis needs; zone_only skips the other regions (enough for a leader's view). With a
    baseline matrix (`chainatlas matrix`), the regions and totals the zone is compared with are the baseline's
    (a national registry placed on Spark) instead of the firms in the database; the zone's own firms still come
    from the database."""
    chain = load_chain(chain_id)
    zone = resolve_zone(session, zone_id)
    rollup = rollup_frame(chain)
    vetoes = veto_frame(session, chain)
    placed = (
        effective_pairs(session, chain.id, vetoes, zone.id if zone_only else None)
        .join(rollup, on="node", how="inner")  # nodes no longer in the chain file drop out here
        .select("firm", pl.col("rolled").alias("node"), "city", *MEASURE_COLUMNS)
        .unique(["firm", "node"])
    )
    # All firms per city minus merged ones, as two index-only reads: filtering merged rows in the count would
    # visit every table row (6 s at a million firms on SQLite), and "merged_into_id > 0" (ids are positive) uses
    # the index where IS NOT NULL makes SQLite scan the table.
    city_totals: dict[str, int] = {}
    if not zone_only:
        for code, n in session.execute(select(Enterprise.city_code, func.count()).group_by(Enterprise.city_code)).all():
            city_totals[code or ""] = int(n)
        for (code,) in session.execute(select(Enterprise.city_code).where(Enterprise.merged_into_id > 0)).all():
            city_totals[code or ""] -= 1
    designated = select(Designation.enterprise_id)
    zrows = session.execute(
        select(
            Enterprise.id, Enterprise.name, Enterprise.registered_capital_yuan, Enterprise.revenue_yuan,
            Enterprise.output_yuan, Enterprise.employees, Enterprise.listing_code != "", Enterprise.is_leader,
            Enterprise.id.in_(designated), Enterprise.source == "demo",
        ).where(Enterprise.zone_id == zone.id, Enterprise.merged_into_id.is_(None))
    ).all()
    zone_firms = pl.DataFrame(
        zrows,
        schema={
            "id": pl.Int64, "name": pl.String, "capital": pl.Int64, "revenue": pl.Int64, "output": pl.Int64,
            "employees": pl.Int64, "listed": pl.Boolean, "leader": pl.Boolean, "designated": pl.Boolean, "demo": pl.Boolean,
        },
        orient="row",
    )
    # Demo rows anywhere shape the benchmark, so the full diagnosis looks at the whole table.
    is_demo = bool(zone_firms["demo"].any()) or (
        not zone_only and session.scalar(select(Enterprise.id).where(Enterprise.source == "demo").limit(1)) is not None
    )
    nodes = list(chain.nodes)
    # World matrix: cities × nodes of distinct firms (rows of `placed` are unique (firm, node) pairs already);
    # firms without a city code count in the benchmark but stay out of relatedness.
    with_city = placed.filter(pl.col("city").is_not_null() & (pl.col("city") != ""))
    by_city = with_city.group_by("city").agg(pl.col("firm").n_unique().alias("n")).sort("city")
    regions = by_city["city"].to_list()
    node_all = np.zeros(len(nodes))
    node_index = {n: j for j, n in enumerate(nodes)}
    for node_id, n in placed.group_by("node").len().iter_rows():
        node_all[node_index[node_id]] = n
    zone_placed = placed.filter(pl.col("firm").is_in(zone_firms["id"].implode()))
    zone_stats = (
        zone_placed.select("firm", "node").join(zone_firms, left_on="firm", right_on="id")
        .group_by("node")
        .agg(
            pl.col("firm").sort().alias("ids"),
            *(pl.col(k).sum().alias(k) for k in MEASURE_COLUMNS),
            *(pl.col(k).count().alias(f"{k}_known") for k in MEASURE_COLUMNS),
            *(pl.col(k).sum().alias(k) for k in ("listed", "leader", "designated")),
        )
    )
    world = World(
        chain=chain, node_ids=nodes, rollup=rollup, placed=placed, zone_placed=zone_placed,
        zone_stats={row["node"]: row for row in zone_stats.iter_rows(named=True)},
        zone_chain_total=zone_placed["firm"].n_unique(), regions=regions,
        x=rel.count_matrix(with_city, regions, nodes, region_col="city", firm_col="firm", distinct=False),
        row_totals=by_city["n"].to_numpy().astype(float), node_all=node_all, city_totals=city_totals,
        all_total=sum(city_totals.values()), zone=zone, zone_firms=zone_firms, is_demo=is_demo,
    )
    if baseline is not None and not zone_only:
        national = load_baseline(baseline, chain)
        world.regions, world.x, world.row_totals = national.regions, national.x, national.row_totals
        world.node_all, world.city_totals = national.node_all, national.city_totals
        world.all_total, world.baseline = sum(national.city_totals.values()), Path(baseline).name
    return world
