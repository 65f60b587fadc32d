"""Link step: the new firms matched probabilistically (splink) against each other and the known firms that share a
blocking key; confident pairs merged (reversibly), doubtful ones queued for review."""

from __future__ import annotations

from typing import Any

import polars as pl
import pyarrow as pa
from sqlalchemy.orm import Session

from chainatlas.engines.linkage import MERGE_THRESHOLD, REVIEW_THRESHOLD, find_matches
from chainatlas.ingest.name_place_columns import address_rests, name_keys
from chainatlas.services.ingest import bulk
from chainatlas.services.ingest.resolve import listing_key
from chainatlas.services.ingest.rows import FirmRecord
from chainatlas.store.models import MergeCandidate


def linkage_table(session: Session, new: list[FirmRecord], ids: list[int]) -> pa.Table:
    """Features of the new records and of the known firms that could block with them."""
    cores = {rec.core for rec in new}
    heads = {(rec.core[:2], rec.values.get("city_code")) for rec in new}
    tails = {(rec.core[-3:], rec.values.get("district_code")) for rec in new if len(rec.core) >= 4}
    # what follows the divisions in each address (road, number, building), column-wise, each address once
    new_addresses = list(dict.fromkeys(rec.values.get("address") or "" for rec in new))
    rest_of = dict(zip(new_addresses, address_rests(new_addresses)))
    rests = {(rest_of[rec.values["address"]], rec.values.get("district_code"))
             for rec in new if rec.values.get("address")}
    new_ids = set(ids)
    cols: dict[str, list] = {c: [] for c in ("id", "is_new", "name_core", "is_branch", "district_code", "city_code",
                                              "address", "uscc", "founded", "listing")}

    def add(eid: int, is_new: bool, core: str, branch: bool, district: str | None, city: str | None,
            address: str | None, uscc: str | None, founded: Any, listing: str | None) -> None:
        cols["id"].append(eid)
        cols["is_new"].append(is_new)
        cols["name_core"].append(core or None)
        cols["is_branch"].append(branch)
        cols["district_code"].append(district or None)
        cols["city_code"].append(city or None)
        cols["address"].append(address or None)
        cols["uscc"].append(uscc or None)
        cols["founded"].append(str(founded) if founded else None)
        cols["listing"].append(listing_key(listing))

    for rec, eid in zip(new, ids):
        v = rec.values
        add(eid, True, rec.core, rec.is_branch, v.get("district_code"), v.get("city_code"),
            rest_of[v.get("address") or ""], v.get("uscc"), v.get("founded_on"), v.get("listing_code"))
    new_part = pa.table({
        "id": pa.array(cols["id"], pa.int64()), "is_new": pa.array(cols["is_new"], pa.bool_()),
        **{c: pa.array(cols[c], pa.bool_() if c == "is_branch" else pa.string())
           for c in cols if c not in ("id", "is_new")},
    })
    known = known_blocking(session, new_ids, cores, heads, tails, rests, rest_of)
    return pa.concat_tables([new_part, known.cast(new_part.schema)])


def known_blocking(session: Session, new_ids: set[int], cores: set[str], heads: set[tuple], tails: set[tuple],
                    rests: set[tuple], rest_of: dict[str, str]) -> pa.Table:
    """The known firms (not merged away, not among the new) that share a blocking key with a new record: its name
    core, the core's head with the city, its tail with the district, or the address rest with the district —
    column by column over the whole table (a million firms), with the keys compared as tuples are."""
    # The driver's own rows, a chunk at a time into polars: a million firms through the ORM's result processing
    # cost seconds more, and all of them as Python tuples at once a gigabyte more.
    names = ("id", "norm", "district", "city", "address", "uscc", "founded", "listing")
    schema = {"id": pl.Int64, **{n: pl.String for n in names[1:6]}, "listing": pl.String}
    frames = [pl.DataFrame(schema={n: schema.get(n, pl.String) for n in names})]
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        cursor.execute("SELECT id, name_norm, district_code, city_code, address, uscc, founded_on, listing_code "
                       "FROM enterprises WHERE merged_into_id IS NULL")
        while rows := cursor.fetchmany(100_000):
            frame = pl.DataFrame(dict(zip(names, map(list, zip(*rows)))), schema_overrides=schema, strict=False)
            frames.append(frame.with_columns(pl.col("founded").cast(pl.String)).select(names))  # ISO dates
    finally:
        cursor.close()
    known = pl.concat(frames).filter(~pl.col("id").is_in(list(new_ids)))
    norms = known["norm"].unique(maintain_order=True).to_list()  # each stored name's key once, column-wise
    keys = name_keys(norms)
    addresses = [a for a in known["address"].unique(maintain_order=True).to_list() if a and a not in rest_of]
    rest_of.update(zip(addresses, address_rests(addresses)))
    address_keys = [a for a in rest_of if a]
    known = known.with_columns(
        core=pl.col("norm").replace_strict(norms, keys.core, return_dtype=pl.String),
        is_branch=pl.col("norm").replace_strict(norms, keys.is_branch, return_dtype=pl.Boolean),
        rest=pl.col("address").replace_strict(address_keys, [rest_of[a] for a in address_keys], default="",
                                              return_dtype=pl.String),
    )
    known = known.with_columns(head=pl.col("core").str.slice(0, 2), tail=pl.col("core").str.slice(-3),
                               district_rest=pl.when(pl.col("district") != "").then("rest").otherwise(pl.lit("")))
    hit = pl.col("core").is_in(list(cores))
    for (left, right), pairs in ((("head", "city"), heads), (("tail", "district"), tails),
                                 (("district_rest", "district"), rests)):
        # a join matches equal keys exactly as the tuples would (a None never meets a stored text: none is NULL)
        found = pl.DataFrame([(a, b) for a, b in pairs if a is not None and b is not None],
                             schema={left: pl.String, right: pl.String}, orient="row").unique().with_columns(
            **{f"_{left}": pl.lit(True)})
        known = known.join(found, on=[left, right], how="left", maintain_order="left")
        hit = hit | pl.col(f"_{left}").fill_null(False)
    listing_of = {code: listing_key(code) for code in known["listing"].unique().to_list() if code}
    blank = {c: pl.when(pl.col(c) != "").then(c) for c in ("core", "district", "city", "rest", "uscc", "founded")}
    return known.filter(hit).select(
        id="id", is_new=pl.lit(False), name_core=blank["core"], is_branch="is_branch",
        district_code=blank["district"], city_code=blank["city"], address=blank["rest"], uscc=blank["uscc"],
        founded=blank["founded"], listing=pl.col("listing").replace_strict(
            list(listing_of), list(listing_of.values()), default=None, return_dtype=pl.String),
    ).to_arrow()


def link_new(session: Session, new: list[FirmRecord], ids: list[int], batch_id: int,
          by_user: str) -> tuple[set[int], int, set[int]]:
    """Merge confident matches (reversibly), queue doubtful ones; returns the ids merged away, the queue size and
    the firms they were merged into."""
    from chainatlas.services.ingest.review import MergePair, merge_many

    matches = find_matches(linkage_table(session, new, ids), REVIEW_THRESHOLD)
    if not matches:
        return set(), 0, set()
    new_ids = set(ids)
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    # confident pairs form clusters; the survivor is a known firm if there is one, else the earliest row
    confident = [m for m in matches if m.probability >= MERGE_THRESHOLD]
    for m in confident:
        a, b = root(m.left_id), root(m.right_id)
        if a == b:
            continue
        a_known, b_known = a not in new_ids, b not in new_ids
        if a_known and b_known:
            continue  # two known firms are never merged by an import; that is an analyst's decision
        keep, drop = (a, b) if (a_known or (not b_known and a < b)) else (b, a)
        parent[drop] = keep
    best: dict[int, Any] = {}
    for m in confident:  # best first, so the first pair naming a record is its strongest evidence
        best.setdefault(m.left_id, m)
        best.setdefault(m.right_id, m)
    pairs = [MergePair(root(eid), eid, best[eid].probability, best[eid].evidence)
             for eid in sorted(best) if root(eid) != eid and eid in new_ids]
    merge_many(session, pairs, by_user=by_user, batch_id=batch_id, decided_by="auto")
    linked = {p.merged_id for p in pairs}
    queued = []
    seen = set()
    for m in matches:
        if m.probability >= MERGE_THRESHOLD:
            continue
        a, b = root(m.left_id), root(m.right_id)
        pair = (min(a, b), max(a, b))
        if a == b or pair in seen:
            continue
        seen.add(pair)
        queued.append({"left_id": pair[0], "right_id": pair[1], "probability": round(m.probability, 4),
                       "evidence": m.evidence, "status": "pending", "batch_id": batch_id, "decided_by": "",
                       "decided_at": None, "snapshot": {}})
    bulk.insert_rows(session, MergeCandidate.__table__, queued)
    return linked, len(queued), {p.survivor_id for p in pairs}
