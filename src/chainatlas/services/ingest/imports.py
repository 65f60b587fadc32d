"""Import enterprise lists and supplier→customer relations: one transaction, idempotent, nothing silently dropped.

Flow for an enterprise file: read (encoding, header row) → map headers → parse and validate every cell →
resolve each valid row to a firm (USCC, stock code, normalised name; then splink for the rest) → bulk-write
new firms, fill the blanks of known ones → hold invalid rows with their problems → audit. The caller owns the
transaction (`store.db.session_scope` commits once at the end), so an error or Ctrl-C leaves the database as
it was. A file whose SHA-256 was imported before is not imported again.
"""

from __future__ import annotations

import hashlib
import time
from datetime import date
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import select, text
from sqlalchemy.orm import Session, selectinload

from chainatlas.domain.cells import formula_like
from chainatlas.domain.uscc import division_code
from chainatlas.engines.linkage import MERGE_THRESHOLD, REVIEW_THRESHOLD, CharModel, Match, find_matches
from chainatlas.ingest.address import Place, ZoneSpec, match_zone, place_from_division_code
from chainatlas.ingest.mapping import (
    ENTERPRISE_FIELDS,
    RELATION_FIELDS,
    ColumnMap,
    FieldSpec,
    HeaderMapping,
    load_mapping_file,
    map_headers,
)
from chainatlas.ingest.columnar import WHITESPACE
from chainatlas.ingest.name_place_columns import (
    address_rests,
    full_name_norms,
    legal_stems,
    name_keys,
    places,
    short_forms,
)
from chainatlas.ingest.names import is_latin, legal_stem, looks_like_full_name, name_key, short_form
from chainatlas.ingest.reader import ReadError, Table, read_table
from chainatlas.ingest.records import Parsed, Problem, parse_table, raw_row
from chainatlas.ingest.values import is_foreign_invested
from chainatlas.services.ingest import bulk
from chainatlas.services.ingest.parties import Found, Parties
from chainatlas.services.catalog.zones import resolve_zone, zone_address_keywords
from chainatlas.store.db import audit
from chainatlas.store.models import (
    Designation,
    Enterprise,
    EnterpriseAlias,
    EnterpriseProduct,
    HeldRow,
    ImportBatch,
    MergeCandidate,
    Relation,
    Zone,
)

Progress = Callable[[str, int, int], None]
DEMO_MARK = "演示"  # a 数据来源 cell containing this marks generated demo data (source = "demo")
# From this many new firms (and at least half as many as are stored) SQLite rebuilds the indexes after the load
# instead of updating them row by row (see bulk.indexes_deferred).
DEFER_INDEXES_ROWS = 50_000

# Columns filled from a file, in the order the summary and audit show them.
VALUE_COLUMNS = (
    "uscc", "name_en", "short_name", "address", "province_code", "city_code", "district_code", "street_code",
    "zone_id", "park_id", "registered_capital", "capital_currency", "registered_capital_yuan", "founded_on",
    "industry_code", "business_scope", "ownership", "foreign_invested", "listing_code", "employees",
    "revenue_yuan", "output_yuan", "status", "is_leader", "parent_group", "website",
)
_DIRECT = ("uscc", "name_en", "short_name", "address", "founded_on", "industry_code", "business_scope", "ownership",
           "listing_code", "employees", "revenue_yuan", "output_yuan", "status", "parent_group", "website")


class ImportProblem(ValueError):
    """A user mistake that stops the whole import (no name column, unreadable mapping file, unknown zone)."""


@dataclass
class ImportSummary:
    kind: str
    file_name: str
    sha256: str
    batch_id: int | None = None
    already_imported: bool = False
    rows_total: int = 0
    rows_inserted: int = 0  # new enterprises (or relations)
    rows_merged: int = 0  # rows that were a firm already known (same USCC / stock code / name) or repeated in the file
    rows_linked: int = 0  # rows merged into a known firm by the probabilistic match (reversible in review)
    rows_review: int = 0  # doubtful pairs waiting in the review queue
    rows_held: int = 0  # invalid rows held back with their problems
    enterprises_updated: int = 0  # known firms whose blank fields this file filled
    enterprises_created: int = 0  # for relations: counterparties created because they were unknown
    blank_rows: int = 0
    encoding: str = ""
    header_row: int = 0
    sheet: str = ""
    mapping: dict = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    zone_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Preview:
    table: Table
    mapping: HeaderMapping
    sample: list[list[str]]


def file_sha256(path: Path) -> str:
    if not path.is_file():
        raise ReadError(f"找不到文件 {path}，请检查路径")
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _summary_or_prior(session: Session, kind: str, path: Path) -> ImportSummary:
    """The summary of this import, marked already_imported (with the earlier batch) when this very file — same
    bytes — was imported before: importing a file twice changes nothing the second time."""
    digest = file_sha256(path)
    summary = ImportSummary(kind, path.name, digest)
    prior = session.scalar(select(ImportBatch).where(ImportBatch.kind == kind, ImportBatch.sha256 == digest))
    if prior is not None:
        summary.batch_id, summary.already_imported = prior.id, True
    return summary


def _override(mapping: Path | dict | None) -> dict | None:
    if mapping is None or isinstance(mapping, dict):
        return mapping
    return load_mapping_file(Path(mapping))


def _read(path: Path, fields: tuple[FieldSpec, ...], mapping: Path | dict | None, sheet: str | None,
          required: tuple[str, ...]) -> tuple[Table, HeaderMapping]:
    table = read_table(path, fields, sheet)
    hmap = map_headers(table.headers, fields, _override(mapping))
    labels = {f.id: f.label_zh for f in fields}
    missing = [labels[f] for f in required if hmap.column_of(f) is None]
    if missing:
        raise ImportProblem(
            f"{path.name}：找不到“{'、'.join(missing)}”列。第{table.header_row}行的表头为：{'、'.join(table.headers)}。"
            "请修改表头，或用 --mapping 映射文件指定（如 columns: {公司全称: name}）"
        )
    return table, hmap


def preview(path: Path, *, kind: str = "enterprises", mapping: Path | dict | None = None, sheet: str | None = None,
            rows: int = 5) -> Preview:
    """The header mapping and the first rows, without touching the database."""
    fields = ENTERPRISE_FIELDS if kind == "enterprises" else RELATION_FIELDS
    table = read_table(Path(path), fields, sheet)
    hmap = map_headers(table.headers, fields, _override(mapping))
    from chainatlas.ingest.values import clean_text

    sample = [[clean_text(v) for v in table.row(i)] for i in range(min(rows, len(table)))]
    return Preview(table, hmap, sample)


# ---------------------------------------------------------------- zones


def zone_specs(session: Session, zone_id: str | None = None) -> list[ZoneSpec]:
    zones = [resolve_zone(session, zone_id)] if zone_id else list(session.scalars(select(Zone)))
    specs = []
    for zone in zones:
        spec = ZoneSpec(zone.id, zone.city_code, address_keywords=zone_address_keywords(zone.id))
        for member in zone.members:
            if member.kind == "county":
                spec.county_codes.add(member.region_code[:6])
            else:
                spec.street_counties.add(member.region_code[:6])
                spec.street_names[member.name] = member.region_code
                for suffix in ("街道办事处", "街道", "镇", "乡"):
                    if member.name.endswith(suffix) and len(member.name) - len(suffix) >= 2:
                        spec.street_names.setdefault(member.name[: -len(suffix)], member.region_code)
                        break
        keywords = [(kw, park.id) for park in zone.parks for kw in {park.name, *park.keywords}]
        spec.park_keywords = sorted(keywords, key=lambda kp: -len(kp[0]))
        specs.append(spec)
    return specs


# ---------------------------------------------------------------- building records from parsed rows


@dataclass
class _Record:
    row: int  # index into the parsed table
    values: dict[str, Any]  # Enterprise column values
    name: str
    norm: str
    core: str
    is_branch: bool
    aliases: list[tuple[str, str]]  # (alias, kind)
    products: list[str]
    designations: list[tuple[str, str, int | None]]


@dataclass
class _Rows:
    """The valid rows of a file, column by column: a dict per row costs seconds on a million rows, so a row
    becomes a _Record only where it folds into another row or a known firm (or goes to splink)."""

    index: list[int]  # parsed-table row of each valid row
    cols: dict[str, list[Any]]  # Enterprise column → value per valid row; None: the file gives none
    norm: list[str]
    core: list[str]
    branch: list[bool]
    aliases: list[list[tuple[str, str]]]
    products: list[list[str]]  # as parsed; a product is cut to 200 characters where it is stored
    designations: list[list[tuple[str, str, int | None]]]

    def __len__(self) -> int:
        return len(self.index)

    def record(self, j: int) -> _Record:
        values = {c: v for c, v in zip(self.cols, [col[j] for col in self.cols.values()]) if v is not None}
        return _Record(self.index[j], values, values["name"], self.norm[j], self.core[j], self.branch[j],
                       list(self.aliases[j]), [x[:200] for x in self.products[j]], list(self.designations[j]))


def _take(column: list[Any], rows: list[int], n: int) -> list[Any]:
    if len(rows) == n:
        return list(column)
    if len(rows) > 1:
        return list(itemgetter(*rows)(column))
    return [column[i] for i in rows]


def _records(p: Parsed, specs: list[ZoneSpec], bad: set[int]) -> _Rows:
    """Valid rows → Enterprise column values plus names, products and designations, column by column: each
    distinct name, address and zone text is normalised once, the common shapes with polars.

    The source is "demo" for generated demo rows and None for the others (the caller names the batch)."""
    n = len(p)
    rows = [i for i in range(n) if i not in bad] if bad else list(range(n))
    m = len(rows)
    empty: list[Any] = [None] * m

    def column(field_id: str) -> list[Any]:
        values = p.values.get(field_id)
        return empty if values is None else _take(values, rows, n)

    cols: dict[str, list[Any]] = {}
    names = column("name")
    spaced = pl.Series(names, dtype=pl.String).str.contains(_UNSPACED).arg_true().to_list()
    for j in spaced:
        names[j] = " ".join(names[j].split())
    distinct, at = _distinct(names)
    keys = name_keys(distinct)
    norm = _spread(keys.norm, at)
    cols["name"] = names
    cols["name_norm"] = _spread([x[:200] for x in keys.norm], at)
    for col in _DIRECT:
        if col in p.values:
            cols[col] = column(col)
    if any(keys.latin):  # an English name is also the English name, unless the file gives one
        name_en = cols.setdefault("name_en", list(empty))
        for j in np.flatnonzero(np.array(keys.latin, dtype=bool)[at]).tolist():
            if name_en[j] is None:
                name_en[j] = names[j]
    if "registered_capital" in p.values:
        money = column("registered_capital")
        cols["registered_capital"] = [x.amount if x is not None else None for x in money]
        cols["capital_currency"] = [x.currency if x is not None else None for x in money]
        cols["registered_capital_yuan"] = [x.amount_yuan if x is not None else None for x in money]
    ownership = cols.get("ownership", empty)
    foreign_of = {o: is_foreign_invested(o) for o in set(ownership) if o}
    if "foreign_invested" in p.values:
        cols["foreign_invested"] = [True if (f if f is not None else foreign_of.get(o)) else None
                                    for f, o in zip(column("foreign_invested"), ownership)]
    elif foreign_of:
        cols["foreign_invested"] = list(map({o: True if f else None for o, f in foreign_of.items()}.get, ownership))
    if "is_leader" in p.values:
        cols["is_leader"] = [True if x else None for x in column("is_leader")]

    # the address, else the province/city/district columns, else the USCC's registering authority
    address = cols.get("address", empty)
    if any(f in p.values for f in ("province", "city", "district")):
        parts = zip(column("province"), column("city"), column("district"))
        texts = [a or "".join(x for x in ps if x) for a, ps in zip(address, parts)]
    else:
        texts = [a or "" for a in address]
    distinct, spot = _distinct(texts)
    found = places(distinct)
    row_places = np.empty(len(found), dtype=object)
    row_places[:] = found
    row_places = row_places[spot]
    province = _spread([x.province_code or None for x in found], spot)
    city = _spread([x.city_code if x.province_code else None for x in found], spot)
    district = _spread([x.district_code if x.province_code else None for x in found], spot)
    usccs = cols.get("uscc", empty)
    moved = []
    if usccs is not empty:
        for j in np.flatnonzero(np.array([not x.province_code for x in found], dtype=bool)[spot]).tolist():
            if usccs[j]:
                place = row_places[j] = place_from_division_code(division_code(usccs[j]))
                province[j] = place.province_code or None
                city[j] = place.city_code if place.province_code else None
                district[j] = place.district_code if place.province_code else None
                moved.append(j)
    cols["province_code"], cols["city_code"], cols["district_code"] = province, city, district
    if specs:
        # a place in a city that no zone is in cannot match (match_zone skips every zone for it)
        cities = {spec.city_code for spec in specs}
        cities_known = all(cities)
        look = np.array([not (cities_known and x.city_code and x.city_code not in cities) for x in found],
                        dtype=bool)[spot]
        for j in moved:
            look[j] = not (cities_known and row_places[j].city_code and row_places[j].city_code not in cities)
        _zones(cols, address, column("street"), column("park"), row_places, np.flatnonzero(look).tolist(), specs)
    notes = column("source_note")
    cols["source"] = ["demo" if x and DEMO_MARK in x else None for x in notes]

    # short, English and former names become aliases
    short_names, english, former = cols.get("short_name", empty), cols.get("name_en", empty), column("former_names")
    aliases: list[Any] = [()] * m
    if short_names is not empty or english is not empty or former is not empty:
        aliases = [_aliases(*row) for row in zip(names, short_names, english, former)]
    products = [x or () for x in column("products")]
    designations = [x or () for x in column("designations")]
    return _Rows(rows, cols, norm, _spread(keys.core, at), _spread(keys.is_branch, at), aliases, products,
                 designations)


# a name " ".join(name.split()) changes: a blank other than a single space between two other characters
_UNSPACED = "[" + "".join(f"\\x{{{ord(ch):x}}}" for ch in WHITESPACE if ch != " ") + "]|  |^ | $"


def _distinct(values: list[str]) -> tuple[list[str], np.ndarray]:
    """The distinct values in first-seen order, and where each value is among them. Names and addresses are
    mostly distinct: there, finding the few repeats costs more than working out a repeat again, so each value
    counts as distinct."""
    series = pl.Series(values, dtype=pl.String)
    if series.approx_n_unique() * 5 >= len(series) * 4:
        return values, np.arange(len(values))
    encoded = pc.dictionary_encode(series.to_arrow())
    return pl.Series(encoded.dictionary).to_list(), pl.Series(encoded.indices).to_numpy()


def _spread(values: list[Any], at: np.ndarray) -> list[Any]:
    """values[k] for each k in at (as many distinct values as rows: each row's own)."""
    if len(values) == len(at):
        return values if isinstance(values, list) else list(values)
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array[at].tolist()


def _aliases(name: str, short: str | None, english: str | None, former: list[str] | None) -> list[tuple[str, str]]:
    found = []
    if short and short != name:
        found.append((short, "short"))
    if english and english != name:
        found.append((english[:300], "english"))
    if former:
        found += [(a[:300], "former") for a in former if a != name]
    return found


def _zones(cols: dict[str, list[Any]], address: list[Any], streets: list[Any], parks: list[Any],
           row_places: Sequence[Place], look: list[int], specs: list[ZoneSpec]) -> None:
    """Zone, park and street of each row, matched once per distinct address text and place, for the rows in
    `look` (the others are in no zone's city)."""
    m = len(address)
    zone_ids: list[Any] = [None] * m
    park_ids: list[Any] = [None] * m
    street_codes: list[Any] = [None] * m
    cache: dict[tuple, Any] = {}
    for j in look:
        place = row_places[j]
        text = "".join(x for x in (address[j], streets[j], parks[j]) if x)
        key = (text, place)
        hit = cache.get(key, 0)
        if hit == 0:
            hit = cache[key] = match_zone(text, place, specs)
        if hit is not None:
            zone_ids[j] = hit.zone_id
            park_ids[j] = hit.park_id or None
            street_codes[j] = hit.street_code or None
    cols["zone_id"], cols["park_id"], cols["street_code"] = zone_ids, park_ids, street_codes


def _validate(table: Table, hmap: HeaderMapping, file_name: str,
              specs: list[ZoneSpec]) -> tuple[dict[int, list[Problem]], _Rows]:
    """Parse, validate and normalise every row: the problems by row, and the valid rows."""
    parsed = parse_table(table, hmap, file_name)
    return parsed.problems, _records(parsed, specs, set(parsed.problems))


def _listing_key(code: str | None) -> str | None:
    if not code:
        return None
    digits = "".join(ch for ch in code.split(".")[0] if ch.isalnum())
    return digits or None


def _fill(target: dict[str, Any], incoming: dict[str, Any]) -> dict[str, Any]:
    """Fill target's blank fields from incoming (known values are never overwritten); returns what changed."""
    changed = {}
    for col in VALUE_COLUMNS:
        new = incoming.get(col)
        if new in (None, "", False):
            continue
        if target.get(col) in (None, "", False):
            changed[col] = new
            target[col] = new
    return changed


# ---------------------------------------------------------------- the enterprise import


class _Index:
    """Deterministic keys → enterprise id (a known firm's id, or -1 - k for the k-th new record of a file)."""

    def __init__(self) -> None:
        self.by_uscc: dict[str, Any] = {}
        self.by_listing: dict[str, Any] = {}
        self.by_norm: dict[str, list[Any]] = {}
        self.uscc_of: dict[Any, str | None] = {}
        self.listing_of: dict[Any, str | None] = {}

    def add(self, ref: Any, uscc: str | None, listing: str | None, norms: list[str]) -> None:
        if uscc:
            self.by_uscc.setdefault(uscc, ref)
        if listing:
            self.by_listing.setdefault(listing, ref)
        by_norm = self.by_norm
        for norm in norms:
            refs = by_norm.get(norm)
            if refs is None:
                by_norm[norm] = [ref]
            elif ref not in refs:
                refs.append(ref)
        if uscc or ref not in self.uscc_of:
            self.uscc_of[ref] = uscc
        if listing or ref not in self.listing_of:
            self.listing_of[ref] = listing

    def _conflict(self, ref: Any, uscc: str | None, listing: str | None) -> bool:
        """Two different USCCs or stock codes are two firms, whatever their names."""
        return bool((uscc and self.uscc_of.get(ref) and self.uscc_of[ref] != uscc)
                    or (listing and self.listing_of.get(ref) and self.listing_of[ref] != listing))

    def find(self, uscc: str | None, listing: str | None, norm: str) -> Any:
        if uscc and uscc in self.by_uscc:
            return self.by_uscc[uscc]
        if listing and listing in self.by_listing:
            ref = self.by_listing[listing]
            if not self._conflict(ref, uscc, None):
                return ref
        for ref in self.by_norm.get(norm, ()):
            # the same name with two different USCCs is two firms (a name reused after deregistration)
            if not self._conflict(ref, uscc, listing):
                return ref
        return None


def _load_index(session: Session) -> _Index:
    index = _Index()
    merged: dict[int, int] = {}
    rows = session.execute(
        select(Enterprise.id, Enterprise.uscc, Enterprise.listing_code, Enterprise.name_norm, Enterprise.merged_into_id)
    ).all()
    for eid, uscc, listing, norm, merged_into in rows:
        if merged_into is not None:
            merged[eid] = merged_into
    for eid, uscc, listing, norm, merged_into in rows:
        index.add(_survivor(eid, merged), uscc, _listing_key(listing), [norm] if norm else [])
    for eid, alias in session.execute(
        select(EnterpriseAlias.enterprise_id, EnterpriseAlias.alias).where(EnterpriseAlias.kind.in_(("english", "former")))
    ):
        index.add(_survivor(eid, merged), None, None, [name_key(alias).norm])
    return index


def _survivor(eid: int, merged: dict[int, int]) -> int:
    seen = set()
    while eid in merged and eid not in seen:
        seen.add(eid)
        eid = merged[eid]
    return eid


def import_enterprises(
    session: Session,
    path: Path | str,
    *,
    zone_id: str | None = None,
    mapping: Path | dict | None = None,
    by_user: str = "system",
    progress: Progress | None = None,
    sheet: str | None = None,
    fuzzy: bool = True,
) -> ImportSummary:
    """Import an enterprise list into the caller's transaction; see the module docstring."""
    with bulk.gc_paused():
        return _import_enterprises(session, Path(path), zone_id, mapping, by_user, progress, sheet, fuzzy)


def _import_enterprises(session: Session, path: Path, zone_id: str | None, mapping: Path | dict | None,
                        by_user: str, progress: Progress | None, sheet: str | None, fuzzy: bool) -> ImportSummary:
    started = time.perf_counter()
    report = progress or (lambda stage, done, total: None)
    summary = _summary_or_prior(session, "enterprises", path)
    if summary.already_imported:
        return summary
    specs = zone_specs(session, zone_id)
    report("读取", 0, 1)
    table, hmap = _read(path, ENTERPRISE_FIELDS, mapping, sheet, ("name",))
    summary.encoding, summary.header_row, summary.sheet = table.encoding, table.header_row, table.sheet
    summary.rows_total, summary.blank_rows = len(table), table.blank_rows
    summary.mapping = {c.header: c.field for c in hmap.columns}
    report("校验", 0, len(table))
    problems, rows = _validate(table, hmap, path.name, specs)

    batch = ImportBatch(kind="enterprises", file_name=path.name[:300], sha256=summary.sha256,
                        mapping=hmap.as_dict(),
                        by_user=by_user, rows_total=len(table))
    session.add(batch)
    session.flush()  # the batch id names the source of every row; on SQLite this also takes the write lock
    summary.batch_id = batch.id
    if session.get_bind().dialect.name == "sqlite":
        # A page cache as large as a million-row load (a limit, used only as pages are touched; this connection
        # only): the rows never spill to the WAL mid-load, and rebuilding each index reads the table from memory.
        session.execute(text("PRAGMA cache_size = -1200000"))
    source = f"import:{batch.id}"
    rows.cols["source"] = [x if x is not None else source for x in rows.cols["source"]]
    report("校验", len(table), len(table))

    # ---- deterministic resolution
    new, into_existing, summary.rows_merged = _resolve(_load_index(session), rows, report)

    # ---- known firms: fill their blanks, add names, products and designations
    summary.enterprises_updated = _update_existing(session, into_existing, source, by_user)

    # ---- new firms: bulk insert with ids allocated up front
    ids = bulk.allocate_ids(session, Enterprise.__table__, len(new))
    report("写入", 0, len(new))
    known = ids[0] - 1 if ids else 0  # on SQLite ids continue max(id), so this is about the firms already stored
    tables = [Enterprise.__table__, EnterpriseAlias.__table__, EnterpriseProduct.__table__, Designation.__table__]
    with bulk.indexes_deferred(session, tables, enabled=len(new) >= DEFER_INDEXES_ROWS and len(new) * 2 >= known):
        _insert_new(session, rows, new, ids, report)
    summary.rows_inserted = len(new)

    # ---- probabilistic linkage of the new firms against each other and the known ones
    linked_ids: set[int] = set()
    if fuzzy and new:
        report("实体匹配", 0, 1)
        records = [ref if isinstance(ref, _Record) else rows.record(ref) for ref in new]
        linked_ids, queued = _link(session, records, ids, batch.id, by_user)
        summary.rows_linked, summary.rows_review = len(linked_ids), queued
        summary.rows_inserted -= len(linked_ids)
        report("实体匹配", 1, 1)

    # ---- held rows
    held = []
    for i in sorted(problems):
        summary.problems.extend(problems[i])
        held.append({"batch_id": batch.id, "row_number": table.row_numbers[i], "values": raw_row(table, i),
                     "problems": [pr.as_dict() for pr in problems[i]]})
    bulk.insert_rows(session, HeldRow.__table__, held)
    summary.rows_held = len(held)

    zones = rows.cols.get("zone_id")
    for ref, eid in zip(new, ids) if zones else ():
        zid = ref.values.get("zone_id") if isinstance(ref, _Record) else zones[ref]
        if zid and eid not in linked_ids:
            summary.zone_counts[zid] = summary.zone_counts.get(zid, 0) + 1
    batch.rows_inserted, batch.rows_merged, batch.rows_held = (
        summary.rows_inserted, summary.rows_merged + summary.rows_linked, summary.rows_held)
    audit(session, by_user, "import.enterprises", "import_batch", batch.id, None, _summary_dict(summary))
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA cache_size = -2000"))  # back to SQLite's default for a pooled connection
    summary.seconds = time.perf_counter() - started
    return summary


def _resolve(index: _Index, rows: _Rows,
             report: Progress) -> tuple[list[int | _Record], dict[int, list[_Record]], int]:
    """Each valid row → a known firm, an earlier row of the file, or a new firm. New firms are row numbers of
    `rows`, or a _Record once a later row folded into them; returns them, the rows for known firms, and how
    many rows merged.

    A row none of whose keys (USCC, stock code, name norms) another row or a known firm shares can only be a
    new firm, and no other row can find it: only the other rows go through the index, in file order."""
    n = len(rows)
    empty: list[Any] = [None] * n
    usccs = rows.cols.get("uscc", empty)
    listing_of = {code: _listing_key(code) for code in set(rows.cols.get("listing_code", ())) if code}
    listings = [listing_of.get(code) for code in rows.cols["listing_code"]] if listing_of else empty
    english: dict[str, str] = {}  # the English and former names' norms, which find a firm as its own name does
    extra: dict[int, list[str]] = {}
    for j in (j for j, found in enumerate(rows.aliases) if found):
        for alias, kind in rows.aliases[j]:
            if kind in ("english", "former"):
                key = english.get(alias)
                if key is None:
                    key = english[alias] = name_key(alias).norm
                extra.setdefault(j, []).append(key)
    shared = _shared_keys(index, rows.norm, None if usccs is empty else usccs,
                          None if listings is empty else listings, extra)
    is_new = np.ones(n, dtype=bool)
    folded: dict[int, _Record] = {}  # a new firm's row → its record, once a later row folded into it
    into_existing: dict[int, list[_Record]] = {}
    merged = 0
    find, add = index.find, index.add
    todo = np.flatnonzero(shared).tolist()
    for done, j in enumerate(todo):
        uscc, listing, norm = usccs[j], listings[j], rows.norm[j]
        ref = find(uscc, listing, norm)
        for other in extra.get(j, ()) if ref is None else ():  # an English or former name a firm is known by
            ref = find(uscc, listing, other)
            if ref is not None:
                break
        if ref is None:
            ref = -1 - j
        elif ref < 0:
            target = folded.get(-1 - ref)
            if target is None:
                target = folded[-1 - ref] = rows.record(-1 - ref)
            _fold_record(target, rows.record(j))
            is_new[j] = False
            merged += 1
        else:
            into_existing.setdefault(ref, []).append(rows.record(j))
            is_new[j] = False
            merged += 1
        add(ref, uscc, listing, [norm, *extra.get(j, ())])
        if done % 50_000 == 0:
            report("比对", done, len(todo))
    new_rows = np.flatnonzero(is_new)
    new: list[int | _Record] = new_rows.tolist()
    for j, rec in folded.items():
        new[int(np.searchsorted(new_rows, j))] = rec
    return new, into_existing, merged


def _shared_keys(index: _Index, norms: list[str], usccs: list[Any] | None, listings: list[Any] | None,
                 extra: dict[int, list[str]]) -> np.ndarray:
    """Whether each row has a key that another row or a known firm has too (norms: its name's and its English
    names'; a row naming one norm twice counts as sharing it, which only sends it the long way)."""
    n = len(norms)
    shared = np.zeros(n, dtype=bool)
    for values, known in ((usccs, index.by_uscc), (listings, index.by_listing)):
        if values is None:  # the file has no such column
            continue
        s = pl.Series(values, dtype=pl.String)
        hit = (s.is_duplicated() | s.is_in(list(known))) if known else s.is_duplicated()
        shared |= (hit & s.is_not_null()).fill_null(False).to_numpy()
    owner = list(range(n))
    keys = list(norms)
    for j, more in extra.items():
        owner += [j] * len(more)
        keys += more
    s = pl.Series(keys, dtype=pl.String)
    hit = (s.is_duplicated() | s.is_in(list(index.by_norm))) if index.by_norm else s.is_duplicated()
    rows = np.asarray(owner)[hit.to_numpy()] if extra else np.flatnonzero(hit.to_numpy())
    shared[rows] = True
    return shared


def _summary_dict(s: ImportSummary) -> dict:
    return {"file": s.file_name, "sha256": s.sha256, "rows_total": s.rows_total, "inserted": s.rows_inserted,
            "merged": s.rows_merged, "linked": s.rows_linked, "review": s.rows_review, "held": s.rows_held,
            "updated": s.enterprises_updated, "created": s.enterprises_created, "zones": s.zone_counts}


def _fold_record(target: _Record, rec: _Record) -> None:
    """A later row of the same firm in the same file: fill blanks, keep its other names, products, designations."""
    _fill(target.values, rec.values)
    if rec.norm != target.norm:
        if not looks_like_full_name(target.name) and looks_like_full_name(rec.name):
            target.aliases.append((target.name, "short"))
            target.name, target.norm = rec.name, rec.norm
            target.values["name"], target.values["name_norm"] = rec.name, rec.norm[:200]
        else:
            target.aliases.append((rec.name[:300], "english" if is_latin(rec.name) else "other"))
    target.aliases.extend(a for a in rec.aliases if a not in target.aliases)
    target.products.extend(x for x in rec.products if x not in target.products)
    target.designations.extend(d for d in rec.designations if d not in target.designations)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def _update_existing(session: Session, into: dict[int, list[_Record]], source: str, by_user: str) -> int:
    updated = 0
    ids = list(into)
    for chunk in bulk.chunks(ids):
        query = select(Enterprise).where(Enterprise.id.in_(chunk)).options(
            selectinload(Enterprise.aliases), selectinload(Enterprise.products), selectinload(Enterprise.designations))
        for ent in session.scalars(query):
            current = {c: getattr(ent, c) for c in VALUE_COLUMNS}
            current["name"] = ent.name
            before_name = ent.name
            have_aliases = {a.alias for a in ent.aliases}
            have_products = {p.product for p in ent.products}
            have_designations = {(d.name, d.level, d.year) for d in ent.designations}
            changed: dict[str, Any] = {}
            for rec in into[ent.id]:
                changed.update(_fill(current, rec.values))
                names = list(rec.aliases)
                if rec.norm != ent.name_norm:
                    if not looks_like_full_name(ent.name) and looks_like_full_name(rec.name):
                        names.append((ent.name, "short"))
                        ent.name, ent.name_norm = rec.name, rec.norm[:200]
                        changed["name"] = rec.name
                    else:
                        names.append((rec.name[:300], "english" if is_latin(rec.name) else "other"))
                for alias, kind in names:
                    if alias not in have_aliases and alias != ent.name:
                        ent.aliases.append(EnterpriseAlias(alias=alias, kind=kind, source=source,
                                                           recorded_on=date.today()))
                        have_aliases.add(alias)
                        changed.setdefault("aliases_added", []).append(alias)
                for product in rec.products:
                    if product not in have_products:
                        ent.products.append(EnterpriseProduct(product=product))
                        have_products.add(product)
                        changed.setdefault("products_added", []).append(product)
                for d in rec.designations:
                    if d not in have_designations:
                        ent.designations.append(Designation(name=d[0], level=d[1], year=d[2]))
                        have_designations.add(d)
                        changed.setdefault("designations_added", []).append(d[0])
            if not changed:
                continue
            before = {c: _jsonable(getattr(ent, c)) for c in changed if c in VALUE_COLUMNS}
            if "name" in changed:
                before["name"] = before_name
            for col in VALUE_COLUMNS:
                if col in changed:
                    setattr(ent, col, changed[col])
            audit(session, by_user, "import.update", "enterprise", ent.id, before,
                  {k: _jsonable(v) if not isinstance(v, list) else v for k, v in changed.items()})
            updated += 1
    session.flush()
    return updated


def _insert_new(session: Session, rows: _Rows, new: list[int | _Record], ids: list[int], report: Progress) -> None:
    """Write the new firms column by column (a _Record where later rows folded into one), then their names,
    products and designations."""
    n = len(new)
    folded = [(k, ref) for k, ref in enumerate(new) if isinstance(ref, _Record)]
    plain = [0 if isinstance(ref, _Record) else ref for ref in new]
    cols = [c for c in ("name", "name_norm", *VALUE_COLUMNS, "source") if c in rows.cols]
    # The new firms are written in file order straight from the file's columns, chunk by chunk, skipping the rows
    # merged away (no copy of each column without them); a firm a later row folded into takes its record's values
    # at its own row (each record read once, firm by firm).
    keep = np.zeros(len(rows), dtype=bool)
    row_ids = np.zeros(len(rows), dtype=np.int64)
    # a folded record's row among the valid rows, from its row in the parsed table
    row_of = np.searchsorted(np.asarray(rows.index), [rec.row for _, rec in folded]).tolist()
    at_row = np.asarray(plain, dtype=np.int64)
    at_row[[k for k, _ in folded]] = row_of
    keep[at_row] = True
    row_ids[at_row] = ids
    row_ids = row_ids.tolist()
    step = 100_000
    own: dict[int, list[tuple[int, tuple]]] = {}  # chunk start → (row, the record's values)
    for row, (_, rec) in zip(row_of, folded):
        own.setdefault(row - row % step, []).append((row, tuple(map(rec.values.get, cols))))
    done = 0
    for start in range(0, len(rows), step):
        columns = {c: rows.cols[c][start:start + step] for c in cols}
        for row, record_values in own.get(start, ()):
            for values, value in zip(columns.values(), record_values):
                values[row - start] = value
        done += bulk.insert_columns(session, Enterprise.__table__, {"id": row_ids[start:start + step], **columns},
                                    default_marker=None, keep=keep[start:start + step].tolist())
        report("写入", done, n)

    # names, products and designations: the rows' lists, a folded record's own where later rows added to it
    names = _take(rows.aliases, plain, len(rows))
    made = _take(rows.products, plain, len(rows))
    marks = _take(rows.designations, plain, len(rows))
    firm_names, sources = _take(rows.cols["name"], plain, len(rows)), _take(rows.cols["source"], plain, len(rows))
    for k, rec in folded:
        firm_names[k], sources[k] = rec.values["name"], rec.values.get("source")
        names[k], made[k], marks[k] = rec.aliases, rec.products, rec.designations
    aliases: dict[str, list[Any]] = {"enterprise_id": [], "alias": [], "kind": [], "source": [], "recorded_on": []}
    today = date.today()
    for k in (k for k, found in enumerate(names) if found):
        seen = {firm_names[k]}
        for alias, kind in names[k]:
            if alias not in seen:
                seen.add(alias)
                for col, value in zip(aliases.values(), (ids[k], alias, kind, sources[k], today)):
                    col.append(value)
    made_by = np.repeat(np.asarray(ids, dtype=np.int64), np.fromiter(map(len, made), dtype=np.int64, count=n))
    product_names = list(chain.from_iterable(made))
    if max(map(len, product_names), default=0) > 200:  # a folded record's are cut already
        product_names = [x[:200] for x in product_names]
    products = {"enterprise_id": made_by.tolist(), "product": product_names}
    designations: dict[str, list[Any]] = {"enterprise_id": [], "name": [], "level": [], "year": []}
    for k in (k for k, found in enumerate(marks) if found):
        for mark in marks[k]:
            for col, value in zip(designations.values(), (ids[k], *mark)):
                col.append(value)
    bulk.insert_columns(session, EnterpriseAlias.__table__, aliases)
    bulk.insert_columns(session, EnterpriseProduct.__table__, products)
    bulk.insert_columns(session, Designation.__table__, designations)


# ---------------------------------------------------------------- probabilistic linkage


def linkage_table(session: Session, new: list[_Record], ids: list[int]) -> tuple[pa.Table, CharModel]:
    """Features of the new records and of the known firms that could block with them, and the character model of
    the stored full names (how distinctive a short name is)."""
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
                                              "address", "uscc", "founded", "listing", "short_name", "name_full",
                                              "name_en")}
    short_names = [_short_and_full(rec) for rec in new]

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
        cols["listing"].append(_listing_key(listing))

    for rec, eid, (short, full) in zip(new, ids, short_names):
        v = rec.values
        add(eid, True, rec.core, rec.is_branch, v.get("district_code"), v.get("city_code"),
            rest_of[v.get("address") or ""], v.get("uscc"), v.get("founded_on"), v.get("listing_code"))
        cols["short_name"].append(short)
        cols["name_full"].append(full)
        cols["name_en"].append(_english_core(v.get("name_en")))
    new_part = pa.table({
        "id": pa.array(cols["id"], pa.int64()), "is_new": pa.array(cols["is_new"], pa.bool_()),
        **{c: pa.array(cols[c], pa.bool_() if c == "is_branch" else pa.string())
           for c in cols if c not in ("id", "is_new")},
    })
    shorts = _ShortKeys.of(short_names, [rec.core for rec in new], [rec.values.get("city_code") for rec in new])
    known, model = _known_blocking(session, new_ids, cores, heads, tails, rests, rest_of, shorts)
    return pa.concat_tables([new_part, known.cast(new_part.schema)]), model


def _english_core(name: str | None) -> str | None:
    return (name_key(name).core or None) if name else None


def _short_and_full(rec: _Record) -> tuple[str | None, str | None]:
    """(short form, legal stem) of a new record: a record named by its short name has no stem; one named in full
    keeps the short form of a short-name alias (简称 column) beside its stem."""
    if rec.values.get("name_en") == rec.name:  # an English name is neither
        return None, None
    if not looks_like_full_name(rec.name):
        return short_form(rec.name) or None, None
    alias = next((a for a, kind in rec.aliases if kind == "short"), None)
    return (short_form(alias) or None) if alias else None, legal_stem(rec.norm)


@dataclass
class _ShortKeys:
    """The short-name blocking keys of the new records, to find the known firms they could pair with."""

    short_heads: set[str]  # a short-named record's first two characters (against known full names' core heads)
    short_cores: set[str]  # … its core's (place set aside)
    short_city_heads: set[tuple[str, str]]  # … with its city (against known full names' own heads)
    full_heads: set[tuple[str, str]]  # a full-named record's stem head and city (against known short names)
    core_heads: set[str]  # a full-named record's core head (against known short names, with or without place)
    short_names: set[str]
    new_stems: list[str]  # the new full names' stems, which the character model counts with the stored ones

    @classmethod
    def of(cls, pairs: list[tuple[str | None, str | None]], cores: list[str], cities: list[Any]) -> "_ShortKeys":
        keys = cls(set(), set(), set(), set(), set(), set(), [full for _, full in pairs if full])
        for (short, full), core, city in zip(pairs, cores, cities):
            if short:
                keys.short_names.add(short)
            if full is None and short and len(short) >= 2:
                keys.short_heads.add(short[:2])
                keys.short_cores.add(core[:2])
                if city:
                    keys.short_city_heads.add((short[:2], city))
            elif full:
                keys.core_heads.add(core[:2])
                if city:
                    keys.full_heads.add((full[:2], city))
        return keys


def _known_blocking(session: Session, new_ids: set[int], cores: set[str], heads: set[tuple], tails: set[tuple],
                    rests: set[tuple], rest_of: dict[str, str], shorts: _ShortKeys) -> tuple[pa.Table, CharModel | None]:
    """The known firms (not merged away, not among the new) that share a blocking key with a new record: its name
    core, the core's head with the city, its tail with the district, the address rest with the district, or a
    short-name key (_ShortKeys) — column by column over the whole table (a million firms), with the keys compared
    as tuples are. With them, the character model of the stored full names where a short name is in play."""
    # The driver's own rows, a chunk at a time into polars: a million firms through the ORM's result processing
    # cost seconds more, and all of them as Python tuples at once a gigabyte more.
    names = ("id", "norm", "district", "city", "address", "uscc", "founded", "listing", "name_en")
    schema = {"id": pl.Int64, **{n: pl.String for n in names[1:6]}, "listing": pl.String, "name_en": pl.String}
    frames = [pl.DataFrame(schema={n: schema.get(n, pl.String) for n in names})]
    cursor = session.connection().connection.driver_connection.cursor()
    try:
        cursor.execute("SELECT id, name_norm, district_code, city_code, address, uscc, founded_on, listing_code, "
                       "name_en FROM enterprises WHERE merged_into_id IS NULL")
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
    # short names: a stored firm named by its short name against the new full names, and the other way round
    full = full_name_norms(pl.col("norm"))
    known = known.with_columns(full=full, short=pl.when(~full & pl.col("norm").str.contains("[一-鿿]"))
                               .then(short_forms(pl.col("norm"))))
    short_head, full_head = pl.col("short").str.slice(0, 2), pl.col("norm").str.slice(0, 2)
    hit = (hit | pl.col("short").is_in(list(shorts.short_names))
           | short_head.is_in(list(shorts.core_heads)) | (pl.col("short").is_not_null()
                                                          & pl.col("head").is_in(list(shorts.core_heads)))
           | (pl.col("full") & pl.col("head").is_in(list(shorts.short_heads | shorts.short_cores))))
    for (left, right, on), pairs in ((("_sh", "city", short_head), shorts.full_heads),
                                     (("_fh", "city", pl.when("full").then(full_head)), shorts.short_city_heads)):
        found = pl.DataFrame(list(pairs), schema={left: pl.String, right: pl.String}, orient="row").with_columns(
            **{f"_{left}": pl.lit(True)})
        known = known.with_columns(on.alias(left)).join(found, on=[left, right], how="left", maintain_order="left")
        hit = hit | pl.col(f"_{left}").fill_null(False)
    known = known.filter(hit)
    listing_of = {code: _listing_key(code) for code in known["listing"].unique().to_list() if code}
    blank = {c: pl.when(pl.col(c) != "").then(c) for c in ("core", "district", "city", "rest", "uscc", "founded")}
    stems = known.filter("full")["norm"].unique().to_list()
    table = known.select(
        id="id", is_new=pl.lit(False), name_core=blank["core"], is_branch="is_branch",
        district_code=blank["district"], city_code=blank["city"], address=blank["rest"], uscc=blank["uscc"],
        founded=blank["founded"], listing=pl.col("listing").replace_strict(
            list(listing_of), list(listing_of.values()), default=None, return_dtype=pl.String),
        short_name="short", name_full=pl.col("norm").replace_strict(stems, legal_stems(stems), default=None,
                                                                    return_dtype=pl.String),
        name_en="name_en",
    )
    english = [x for x in table["name_en"].unique().to_list() if x]
    table = table.with_columns(name_en=pl.col("name_en").replace_strict(
        english, [_english_core(x) for x in english], default=None, return_dtype=pl.String)).to_arrow()
    model = None
    if shorts.short_heads or table.column("short_name").null_count < table.num_rows:
        stored_full = pl.DataFrame({"n": norms}, schema={"n": pl.String}).filter(full_name_norms(pl.col("n")))
        model = CharModel(legal_stems(stored_full["n"].to_list()) + shorts.new_stems)
    return table, model


def _link(session: Session, new: list[_Record], ids: list[int], batch_id: int, by_user: str) -> tuple[set[int], int]:
    """Merge confident matches (reversibly), queue doubtful ones; returns the ids merged away and the queue size."""
    from chainatlas.services.ingest.review import MergePair, merge_many

    table, model = linkage_table(session, new, ids)
    former, owner = _former_names(session, set(ids))
    if former.num_rows:
        table = pa.concat_tables([table, former.cast(table.schema)])
    matches = _owned(find_matches(table, REVIEW_THRESHOLD, model), owner)
    if not matches:
        return set(), 0
    new_ids = set(ids)
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.get(x, x) != x:
            x = parent[x]
        return x

    # confident pairs form clusters; the survivor is a known firm if there is one, else the earliest row
    short_named = {eid for eid, short, full in zip(table.column("id").to_pylist(), table.column("short_name").to_pylist(),
                                                   table.column("name_full").to_pylist()) if short and full is None}
    unsure = _fits_several(matches, short_named)
    confident = [m for m in matches if m.probability >= MERGE_THRESHOLD and (m.left_id, m.right_id) not in unsure]
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
        if m.probability >= MERGE_THRESHOLD and (m.left_id, m.right_id) not in unsure:
            continue
        a, b = root(m.left_id), root(m.right_id)
        pair = (min(a, b), max(a, b))
        if a == b or pair in seen:
            continue
        seen.add(pair)
        evidence = {**m.evidence, "several": unsure[(m.left_id, m.right_id)]} if (m.left_id, m.right_id) in unsure \
            else m.evidence
        queued.append({"left_id": pair[0], "right_id": pair[1], "probability": round(m.probability, 4),
                       "evidence": evidence, "status": "pending", "batch_id": batch_id, "decided_by": "",
                       "decided_at": None, "snapshot": {}})
    bulk.insert_rows(session, MergeCandidate.__table__, queued)
    return linked, len(queued)


def _former_names(session: Session, new_ids: set[int]) -> tuple[pa.Table, dict[int, tuple[int, str]]]:
    """The stored firms' former names (曾用名) as records of their own for splink — a name a firm was registered under
    is matched like its name — with each record's id (negative: -alias id) → (the firm, the former name)."""
    rows = session.execute(
        select(EnterpriseAlias.id, EnterpriseAlias.enterprise_id, EnterpriseAlias.alias, Enterprise.district_code,
               Enterprise.city_code)
        .join(Enterprise, Enterprise.id == EnterpriseAlias.enterprise_id)
        .where(EnterpriseAlias.kind == "former", Enterprise.merged_into_id.is_(None))).all()
    records, owner = [], {}
    for alias_id, firm, alias, district, city in rows:
        if firm in new_ids:
            continue
        key = name_key(alias)
        full = looks_like_full_name(alias)
        records.append({"id": -alias_id, "is_new": False, "name_core": key.core or None, "is_branch": key.is_branch,
                        "district_code": district, "city_code": city, "address": None, "uscc": None,
                        "founded": None, "listing": None, "short_name": None if full else (short_form(alias) or None),
                        "name_full": legal_stem(key.norm) if full else None, "name_en": None})
        owner[-alias_id] = (firm, alias)
    return pa.Table.from_pylist(records), owner


def _owned(matches: list[Match], owner: dict[int, tuple[int, str]]) -> list[Match]:
    """Matches with a former name's record read as its firm (the evidence says which name), each pair once (best
    first), none of a firm with itself."""
    if not owner:
        return matches
    found: dict[tuple[int, int], Match] = {}
    for m in matches:
        left, right = (owner[x][0] if x in owner else x for x in (m.left_id, m.right_id))
        if left == right:
            continue
        pair = (min(left, right), max(left, right))
        if pair not in found:
            former = [owner[x][1] for x in (m.left_id, m.right_id) if x in owner]
            evidence = {**m.evidence, "name_core": f"{m.evidence.get('name_core', '')}（曾用名 {former[0]}）"} \
                if former else m.evidence
            found[pair] = Match(*pair, m.probability, evidence)
    return sorted(found.values(), key=lambda m: -m.probability)


def _fits_several(matches: list[Match], short_named: set[int]) -> dict[tuple[int, int], str]:
    """The confident pairs whose one side fits several firms that are not confidently one another: a record with
    two confident partners, or a short name (short_named) with a confident partner and any other candidate (东风汽车
    read in both the group's and the listed company's full name). Each such pair goes to review, with a note naming
    how many firms the record fits, instead of being merged into one of them blindly."""
    partners: dict[int, set[int]] = {}
    together = set()
    for m in matches:
        sure = m.probability >= MERGE_THRESHOLD
        if sure:
            together.add((m.left_id, m.right_id))
        for a, b in ((m.left_id, m.right_id), (m.right_id, m.left_id)):
            if sure or a in short_named:
                partners.setdefault(a, set()).add(b)
    several: dict[int, int] = {}
    for eid, others in partners.items():
        ordered = sorted(others)
        if any((a, b) not in together for i, a in enumerate(ordered) for b in ordered[i + 1:]):
            several[eid] = len(others)
    return {(m.left_id, m.right_id): f"符合{max(several.get(m.left_id, 0), several.get(m.right_id, 0))}家企业，需人工确认"
            for m in matches if m.probability >= MERGE_THRESHOLD and (m.left_id in several or m.right_id in several)}


# ---------------------------------------------------------------- relations


def import_relations(
    session: Session,
    path: Path | str,
    *,
    mapping: Path | dict | None = None,
    by_user: str = "system",
    progress: Progress | None = None,
    sheet: str | None = None,
) -> ImportSummary:
    """Import supplier → customer relations. Parties are found by USCC or name — English and brand names through
    services/ingest/parties.py — and created (outside any zone, source "import:<batch>:relation") when unknown;
    created parties then go through splink like new firms (confident matches merged, doubtful ones queued). A row
    whose supplier is its customer is held with the reason."""
    started = time.perf_counter()
    path = Path(path)
    report = progress or (lambda stage, done, total: None)
    summary = _summary_or_prior(session, "relations", path)
    if summary.already_imported:
        return summary
    table, hmap = _read(path, RELATION_FIELDS, mapping, sheet, ("supplier_name", "customer_name"))
    summary.encoding, summary.header_row, summary.sheet = table.encoding, table.header_row, table.sheet
    summary.rows_total, summary.blank_rows = len(table), table.blank_rows
    summary.mapping = {c.header: c.field for c in hmap.columns}
    parsed = parse_table(table, hmap, path.name, required=())
    _require_party(parsed, hmap, path.name)
    batch = ImportBatch(kind="relations", file_name=path.name[:300], sha256=summary.sha256,
                        mapping=hmap.as_dict(),
                        by_user=by_user, rows_total=len(table))
    session.add(batch)
    session.flush()
    summary.batch_id = batch.id
    source = f"import:{batch.id}:relation"
    index = _load_index(session)
    existing = {
        (s, c, p, y) for s, c, p, y in session.execute(
            select(Relation.supplier_id, Relation.customer_id, Relation.product, Relation.year))
    }
    created = 0
    parties = Parties(session, index)
    made: list[_Record] = []  # the counterparties created, for splink to look at with the stored firms
    queue: list[dict] = []  # names that fit several stored firms, each pair for review

    def party(name: str | None, uscc: str | None) -> int:
        nonlocal created
        name = " ".join((name or "").split())
        key = name_key(name) if name else None
        found = parties.find(name, uscc) if name else Found(index.find(uscc, None, ""))
        if found.firm is not None:
            return found.firm
        # counterparties are few (hundreds) next to relations; the ORM keeps ids right on every database
        ent = Enterprise(name=name or uscc or "", name_norm=key.norm[:200] if key else "", uscc=uscc, source=source)
        if key and key.latin:
            ent.name_en = name
        if uscc:
            place = place_from_division_code(division_code(uscc))
            ent.province_code, ent.city_code, ent.district_code = (
                place.province_code, place.city_code, place.district_code)
        session.add(ent)
        session.flush()
        created += 1
        index.add(ent.id, uscc, None, [key.norm] if key else [])
        queue.extend({"left_id": other, "right_id": ent.id, "probability": 0.5, "status": "pending",
                      "evidence": {"name_core": found.why, "several": f"符合{len(found.several)}家企业，需人工确认"},
                      "batch_id": batch.id, "decided_by": "", "decided_at": None, "snapshot": {}}
                     for other in found.several)
        if key and not found.several:
            made.append(_Record(0, {"name": name, "name_en": ent.name_en}, name, key.norm, key.core, key.is_branch,
                                [], [], []))
            made_ids.append(ent.id)
        return ent.id

    made_ids: list[int] = []
    pending: list[tuple[int, int, str, int | None, int | None]] = []
    for i in range(len(parsed)):
        if i in parsed.problems:
            continue
        s = party(parsed.get("supplier_name", i), parsed.get("supplier_uscc", i))
        c = party(parsed.get("customer_name", i), parsed.get("customer_uscc", i))
        if s == c:  # BYD supplying 比亚迪股份有限公司 is a firm's own work, not a supply relation
            col = hmap.column_of("supplier_name")
            parsed.problems.setdefault(i, []).append(Problem(
                path.name, table.row_numbers[i], col.header if col else "供应商名称",
                parsed.get("supplier_name", i) or "", "供应商与客户是同一家企业",
                "一家企业不能是自己的供应商：请核对该行的供应商或客户名称（品牌名、英文名也会被认作同一家）"))
            continue
        product = (parsed.get("product", i) or "")[:200]
        year = parsed.get("year", i)
        key = (s, c, product, year)
        if key in existing:
            summary.rows_merged += 1
            continue
        existing.add(key)
        pending.append((s, c, product, year, parsed.get("value_yuan", i)))
        if i % 20_000 == 0:
            report("比对", i, len(parsed))
    bulk.insert_rows(session, Relation.__table__, [
        {"supplier_id": s, "customer_id": c, "product": p, "year": y, "value_yuan": val, "node_id": None,
         "source": f"import:{batch.id}"} for s, c, p, y, val in pending
    ])
    bulk.insert_rows(session, MergeCandidate.__table__, queue)
    # the counterparties no name found: splink merges the confident ones (their relations move) and queues the rest
    linked, queued = _link(session, made, made_ids, batch.id, by_user) if made else (set(), 0)
    summary.rows_linked, summary.rows_review = len(linked), queued + len(queue)
    created -= len(linked)
    held = []
    for i in sorted(parsed.problems):
        summary.problems.extend(parsed.problems[i])
        held.append({"batch_id": batch.id, "row_number": table.row_numbers[i], "values": parsed.raw_row(i),
                     "problems": [pr.as_dict() for pr in parsed.problems[i]]})
    bulk.insert_rows(session, HeldRow.__table__, held)
    summary.rows_inserted, summary.rows_held, summary.enterprises_created = len(pending), len(held), created
    batch.rows_inserted, batch.rows_merged, batch.rows_held = len(pending), summary.rows_merged, len(held)
    audit(session, by_user, "import.relations", "import_batch", batch.id, None, _summary_dict(summary))
    session.flush()
    summary.seconds = time.perf_counter() - started
    return summary


def _require_party(parsed: Parsed, hmap: HeaderMapping, file_name: str) -> None:
    """Each side of a relation needs a name or a USCC."""
    for side, label in (("supplier", "供应商"), ("customer", "客户")):
        col: ColumnMap | None = hmap.column_of(f"{side}_name")
        for i in range(len(parsed)):
            if not parsed.get(f"{side}_name", i) and not parsed.get(f"{side}_uscc", i):
                parsed.problems.setdefault(i, []).append(Problem(
                    file_name, parsed.table.row_numbers[i], col.header if col else f"{label}名称", "",
                    f"{label}名称和信用代码都为空", f"请补全{label}名称或统一社会信用代码，或删除该行"))


# ---------------------------------------------------------------- error report


ERROR_HEADERS = ("文件", "行号", "列", "值", "问题", "处理建议")


def write_error_report(problems: list[Problem], out: Path) -> Path:
    """The held-back rows' problems as an Excel file users can fix their data from."""
    import xlsxwriter

    out = Path(out)
    wb = xlsxwriter.Workbook(str(out))
    try:
        ws = wb.add_worksheet("问题清单")
        head = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
        quoted = wb.add_format({"quote_prefix": True})  # the user's cell as text, never a formula (domain/cells.py)
        for j, h in enumerate(ERROR_HEADERS):
            ws.write(0, j, h, head)
        for r, pr in enumerate(problems, start=1):
            for j, value in enumerate((pr.file, pr.row, pr.column, pr.value, pr.problem, pr.action)):
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    ws.write_number(r, j, value)
                elif value is not None:
                    text = str(value)
                    ws.write_string(r, j, text, quoted if formula_like(text) else None)
        ws.set_column(0, 0, 24)
        ws.set_column(2, 3, 22)
        ws.set_column(4, 5, 48)
        ws.freeze_panes(1, 0)
        ws.autofilter(0, 0, max(len(problems), 1), len(ERROR_HEADERS) - 1)
    finally:
        wb.close()
    return out


def held_problems(session: Session, batch_id: int) -> list[Problem]:
    problems = []
    for held in session.scalars(select(HeldRow).where(HeldRow.batch_id == batch_id).order_by(HeldRow.row_number)):
        problems.extend(Problem(**p) for p in held.problems)
    return problems
