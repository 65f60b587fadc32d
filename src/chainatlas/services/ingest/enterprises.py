"""Import an enterprise list: one transaction, idempotent, nothing silently dropped.

The steps, in order: read (encoding, header row; a file whose SHA-256 was imported before stops here) → map
(headers to fields) → validate (every cell) → normalise (names, places) → place zone → open the batch → resolve
(USCC, stock code, normalised name) → write (fill known firms' blanks, bulk-write new ones) → link (splink for the
rest) → hold (invalid rows with their problems) → place (the touched firms on every import chain) → report
(audit). The caller owns the transaction (`store.db.session_scope` commits once at the end), so an error or
Ctrl-C leaves the database as it was.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from chainatlas import config
from chainatlas.ingest.mapping import ENTERPRISE_FIELDS
from chainatlas.ingest.records import parse_table, raw_row
from chainatlas.services.catalog.zones import zone_specs
from chainatlas.store import bulk
from chainatlas.services.ingest.link import link_new
from chainatlas.services.ingest.normalise import build_rows
from chainatlas.services.ingest.place import place_touched, written_firms
from chainatlas.services.ingest.report import summary_dict
from chainatlas.services.ingest.resolve import load_index, resolve_rows
from chainatlas.services.ingest.rows import FirmRecord
from chainatlas.services.ingest.source import (
    ImportSummary,
    Progress,
    map_columns,
    note_file,
    read_file,
    summary_or_prior,
)
from chainatlas.services.ingest.steps import EnterpriseLoad, Step, run_steps
from chainatlas.services.ingest.write import DEFER_INDEXES_ROWS, insert_new, update_existing
from chainatlas.services.ingest.zoning import place_zones
from chainatlas.store.db import audit
from chainatlas.store.models import (
    Designation, Enterprise, EnterpriseAlias, EnterpriseProduct, HeldRow, ImportBatch, Zone,
)


def read(load: EnterpriseLoad) -> EnterpriseLoad:
    load.summary = summary_or_prior(load.session, "enterprises", load.path)
    if load.summary.already_imported:
        load.finished = True
        return load
    load.specs = zone_specs(load.session, load.zone_id)  # an unknown --zone stops the import before reading
    load.report("读取", 0, 1)
    load.table = read_file(load.path, ENTERPRISE_FIELDS, load.sheet, load.mapping)
    return load


def map_headers_step(load: EnterpriseLoad) -> EnterpriseLoad:
    load.hmap = map_columns(load.path, load.table, ENTERPRISE_FIELDS, load.mapping, ("name",), load.units)
    note_file(load.summary, load.table, load.hmap)
    return load


def validate(load: EnterpriseLoad) -> EnterpriseLoad:
    load.report("校验", 0, len(load.table))
    load.parsed = parse_table(load.table, load.hmap, load.path.name)
    load.problems = load.parsed.problems
    return load


def normalise(load: EnterpriseLoad) -> EnterpriseLoad:
    load.rows = build_rows(load.parsed, set(load.problems), rests=load.fuzzy)
    return load


def place_zone(load: EnterpriseLoad) -> EnterpriseLoad:
    load.rows = place_zones(load.rows, load.specs)
    return load


def open_batch(load: EnterpriseLoad) -> EnterpriseLoad:
    """The import batch, whose id names the source of every row written."""
    session, summary = load.session, load.summary
    load.batch = ImportBatch(kind="enterprises", file_name=load.path.name[:300], sha256=summary.sha256,
                             mapping=load.hmap.as_dict(), by_user=load.by_user, rows_total=len(load.table),
                             as_of=load.as_of or config.today())
    session.add(load.batch)
    session.flush()  # on SQLite this also takes the write lock
    summary.batch_id = load.batch.id
    if session.get_bind().dialect.name == "sqlite":
        # A page cache as large as a million-row load (a limit, used only as pages are touched; this connection
        # only): the rows never spill to the WAL mid-load, and rebuilding each index reads the table from memory.
        session.execute(text("PRAGMA cache_size = -1200000"))
    source = load.source
    load.rows.cols["source"] = [x if x is not None else source for x in load.rows.cols["source"]]
    load.report("校验", len(load.table), len(load.table))
    return load


def resolve(load: EnterpriseLoad) -> EnterpriseLoad:
    load.new, load.into_existing, load.summary.rows_merged = resolve_rows(load_index(load.session), load.rows,
                                                                          load.report)
    return load


def write(load: EnterpriseLoad) -> EnterpriseLoad:
    session, new = load.session, load.new
    load.summary.enterprises_updated = update_existing(session, load.into_existing, load.source, load.by_user)
    load.ids = ids = bulk.allocate_ids(session, Enterprise.__table__, len(new))
    load.report("写入", 0, len(new))
    known = ids[0] - 1 if ids else 0  # on SQLite ids continue max(id), so this is about the firms already stored
    tables = [Enterprise.__table__, EnterpriseAlias.__table__, EnterpriseProduct.__table__, Designation.__table__]
    with bulk.indexes_deferred(session, tables, enabled=len(new) >= DEFER_INDEXES_ROWS and len(new) * 2 >= known):
        insert_new(session, load.rows, new, ids, load.report)
    load.summary.rows_inserted = len(new)
    return load


def link(load: EnterpriseLoad) -> EnterpriseLoad:
    if not (load.fuzzy and load.new):
        return load
    load.report("实体匹配", 0, 1)
    load.linked_ids, queued, load.survivors = link_new(load.session, load.new_firms(), load.batch.id, load.by_user)
    summary = load.summary
    summary.rows_linked, summary.rows_review = len(load.linked_ids), queued
    summary.rows_inserted -= len(load.linked_ids)
    load.report("实体匹配", 1, 1)
    return load


def hold(load: EnterpriseLoad) -> EnterpriseLoad:
    """Invalid rows kept with their problems, so nothing is silently dropped."""
    held = []
    for i in sorted(load.problems):
        load.summary.problems.extend(load.problems[i])
        held.append({"batch_id": load.batch.id, "row_number": load.table.row_numbers[i],
                     "values": raw_row(load.table, i), "problems": [pr.as_dict() for pr in load.problems[i]]})
    bulk.insert_rows(load.session, HeldRow.__table__, held)
    load.summary.rows_held = len(held)
    return load


def place(load: EnterpriseLoad) -> EnterpriseLoad:
    load.report("归链", 0, 1)
    # the new firms nothing changed since the write step are placed from the values it wrote (not read back)
    written = written_firms(load.rows, load.new, load.ids, load.linked_ids | load.survivors) if load.new else None
    load.summary.placed = place_touched(load.session, load.touched(), load.by_user, written)
    load.report("归链", 1, 1)
    return load


def report(load: EnterpriseLoad) -> EnterpriseLoad:
    summary, batch, session = load.summary, load.batch, load.session
    zones = load.rows.cols.get("zone_id")
    for ref, eid in zip(load.new, load.ids) if zones else ():
        zid = ref.values.get("zone_id") if isinstance(ref, FirmRecord) else zones[ref]
        if zid and eid not in load.linked_ids:
            summary.zone_counts[zid] = summary.zone_counts.get(zid, 0) + 1
    if summary.zone_counts:
        named = select(Zone.id, Zone.name).where(Zone.id.in_(summary.zone_counts))
        summary.zone_names = dict(session.execute(named).all())
    batch.rows_inserted, batch.rows_merged, batch.rows_held = (
        summary.rows_inserted, summary.rows_merged + summary.rows_linked, summary.rows_held)
    audit(session, load.by_user, "import.enterprises", "import_batch", batch.id, None, summary_dict(summary))
    session.flush()
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA cache_size = -2000"))  # back to SQLite's default for a pooled connection
    summary.seconds = time.perf_counter() - load.started
    return load


STEPS: tuple[Step[EnterpriseLoad], ...] = (
    Step("read", read), Step("map", map_headers_step), Step("validate", validate), Step("normalise", normalise),
    Step("place zone", place_zone), Step("open batch", open_batch), Step("resolve", resolve), Step("write", write),
    Step("link", link), Step("hold", hold), Step("place", place), Step("report", report),
)


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
    units: list[str] = (),
    as_of: date | None = None,
) -> ImportSummary:
    """Import an enterprise list into the caller's transaction; see the module docstring."""
    path = Path(path)
    load = EnterpriseLoad(session, path, ImportSummary("enterprises", path.name, ""),
                          progress or (lambda stage, done, total: None), by_user=by_user, zone_id=zone_id,
                          mapping=mapping, sheet=sheet, fuzzy=fuzzy, units=list(units),
                          as_of=as_of)
    with bulk.gc_paused():
        return run_steps(STEPS, load).summary
