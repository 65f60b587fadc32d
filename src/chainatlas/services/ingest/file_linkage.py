"""`chainatlas link LEFT [RIGHT]`: entity resolution between files, no database — a registry against a zone's
lists, or one list against itself (a dedupe) — on DuckDB or on Spark (engines/linkage.py, the same model).

Each record gets the features the import gives a firm (name core and branch flag, city and county from the address
or the USCC, the address after its divisions, USCC, founding date, stock code). With RIGHT, LEFT's records are the
known side and RIGHT's the new one: pairs within RIGHT and across are scored, pairs within LEFT are not (a registry
is resolved already), as the import scores new rows against the database. Without RIGHT every record is new.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa

from chainatlas.domain.uscc import division_code, is_valid, normalize
from chainatlas.engines.linkage import MERGE_THRESHOLD, REVIEW_THRESHOLD, find_matches
from chainatlas.ingest.address import place_from_division_code
from chainatlas.ingest.field_columns import read_fields
from chainatlas.ingest.name_place_columns import address_rests, name_keys, places
from chainatlas.ingest.reader import ReadError
from chainatlas.ingest.values import ValueProblem, parse_date
from chainatlas.services.placement.firm_file import FIELDS

LINK_FIELDS = ("id", "uscc", "name", "address", "province", "city", "district", "founded_on", "listing_code")
PAIR_COLUMNS = ("left_file", "left_row", "left_id", "right_file", "right_row", "right_id", "probability", "evidence")


@dataclass(frozen=True)
class LinkSummary:
    records: int
    pairs: int
    merge: int  # pairs at or above the merge threshold
    engine: str


def _records(path: Path, mapping_file: Path | None) -> pl.DataFrame:
    cells, headers = read_fields(path, FIELDS, LINK_FIELDS, mapping_file)
    if "name" not in cells.columns:
        raise ReadError(f"{path.name}：找不到企业名称列（表头为：{'、'.join(headers)}）(no firm name column)")
    text = {f: (pl.col(f).fill_null("").str.strip_chars() if f in cells.columns else pl.lit("")) for f in LINK_FIELDS}
    record_id = (pl.when(text["id"] != "").then(text["id"]).when(text["uscc"] != "").then(text["uscc"])
                 .otherwise(pl.format("第{}行", pl.col("row"))))
    return cells.select("row", record=record_id, **{f: text[f] for f in LINK_FIELDS if f != "id"})


def _mapped(values: pl.Series, function) -> pl.Series:  # type: ignore[no-untyped-def]
    """function over each distinct value once, spread back to every row."""
    distinct = values.unique(maintain_order=True)
    results = function(distinct.to_list())
    return values.replace_strict(distinct, pl.Series(results, dtype=pl.String), return_dtype=pl.String)


def _date(texts: list[str]) -> list[str | None]:
    out: list[str | None] = []
    for text in texts:
        try:
            out.append(parse_date(text).isoformat() if text else None)
        except ValueProblem:
            out.append(None)
    return out


def _uscc(texts: list[str]) -> list[str | None]:
    return [normalize(t) if t and is_valid(t) else None for t in texts]


def _code_places(codes: list[str]) -> list[str | None]:
    """"city|county" of each USCC's registering authority (None where it names no province)."""
    out: list[str | None] = []
    for code in codes:
        place = place_from_division_code(division_code(code)) if code else None
        out.append(f"{place.city_code}|{place.district_code}" if place and place.province_code else None)
    return out


def _listing(texts: list[str]) -> list[str | None]:
    """The stock code's digits (600519.SH → 600519), as the import compares listings."""
    return ["".join(ch for ch in t.split(".")[0] if ch.isalnum()) or None if t else None for t in texts]


def link_table(frame: pl.DataFrame) -> pa.Table:
    """The linkage features (engines/linkage.COLUMNS) of records (`_records` of each file, with "key" and
    "is_new"), each distinct name, address and value worked out once."""
    names = frame["name"].unique(maintain_order=True)
    keys = name_keys(names.to_list())
    core = frame["name"].replace_strict(names, pl.Series(keys.core, dtype=pl.String), return_dtype=pl.String)
    branch = frame["name"].replace_strict(names, pl.Series(keys.is_branch, dtype=pl.Boolean),
                                          return_dtype=pl.Boolean)
    where = frame.select(pl.when(pl.col("address") != "").then("address")
                         .otherwise(pl.concat_str("province", "city", "district")))["address"]
    distinct = where.unique(maintain_order=True)
    found = places(distinct.to_list())
    city = where.replace_strict(distinct, pl.Series([p.city_code if p.province_code else None for p in found],
                                                    dtype=pl.String), return_dtype=pl.String)
    district = where.replace_strict(distinct, pl.Series([p.district_code if p.province_code else None
                                                         for p in found], dtype=pl.String), return_dtype=pl.String)
    uscc = _mapped(frame["uscc"], _uscc)
    # no place in the address: the USCC's registering authority, as the import does
    from_code = _mapped(uscc.fill_null(""), _code_places)
    table = pl.DataFrame({"city": city, "district": district, "from_code": from_code}).select(
        city=pl.coalesce(pl.when(pl.col("city") != "").then("city"), pl.col("from_code").str.split("|").list.get(0)),
        district=pl.coalesce(pl.when(pl.col("district") != "").then("district"),
                             pl.col("from_code").str.split("|").list.get(1)))
    rest = _mapped(frame["address"], address_rests)

    def blank_to_null(series: pl.Series) -> pa.Array:
        return series.to_frame("v").select(pl.when(pl.col("v") != "").then("v"))["v"].to_arrow()

    return pa.table({
        "id": pa.array(range(1, frame.height + 1), pa.int64()),
        "is_new": frame["is_new"].to_arrow(),
        "name_core": blank_to_null(core),
        "is_branch": branch.to_arrow(),
        "district_code": blank_to_null(table["district"]),
        "city_code": blank_to_null(table["city"]),
        "address": blank_to_null(rest),
        "uscc": blank_to_null(uscc),
        "founded": blank_to_null(_mapped(frame["founded_on"], _date)),
        "listing": blank_to_null(_mapped(frame["listing_code"], _listing)),
    })


def link_files(left: Path, right: Path | None, out: Path, engine: str = "duckdb", master: str | None = None,
               threshold: float = REVIEW_THRESHOLD, mapping_file: Path | None = None) -> LinkSummary:
    """Score the records of the files and write the pairs at or above `threshold` to `out` (CSV, PAIR_COLUMNS: each
    record by its file, its row there and its id, USCC or "第N行"), best first."""
    sides = [(left, right is None)] + ([(right, True)] if right is not None else [])
    frames = [_records(Path(path), mapping_file).with_columns(file=pl.lit(Path(path).name), is_new=pl.lit(is_new))
              for path, is_new in sides]
    frame = pl.concat(frames)
    n_left = frames[0].height
    matches = find_matches(link_table(frame), threshold, engine=engine, master=master)
    files, rows, records = frame["file"].to_list(), frame["row"].to_list(), frame["record"].to_list()
    partial = out.with_name(f".{out.name}.partial")
    with open(partial, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(PAIR_COLUMNS)
        for m in matches:
            a, b = m.left_id - 1, m.right_id - 1
            if b < n_left <= a:
                a, b = b, a  # the registry's record on the left
            writer.writerow([files[a], rows[a], records[a], files[b], rows[b], records[b], f"{m.probability:.6f}",
                             json.dumps(m.evidence, ensure_ascii=False)])
    partial.replace(out)
    return LinkSummary(frame.height, len(matches), sum(m.probability >= MERGE_THRESHOLD for m in matches), engine)
