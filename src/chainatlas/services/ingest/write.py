"""Write step: known firms get their blanks filled and their new names, product lines (with revenue shares) and
designations; new firms are bulk-written column by column with ids allocated up front."""

from __future__ import annotations

from datetime import date
from itertools import chain
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from chainatlas.ingest.names import is_latin, looks_like_full_name
from chainatlas.store import bulk
from chainatlas.services.ingest.rows import VALUE_COLUMNS, FirmRecord, FirmRows, fill, take
from chainatlas.services.ingest.source import Progress
from chainatlas.store.db import audit
from chainatlas.store.models import Designation, Enterprise, EnterpriseAlias, EnterpriseProduct


# From this many new firms (and at least half as many as are stored) SQLite rebuilds the indexes after the load
# instead of updating them row by row (see bulk.indexes_deferred).
DEFER_INDEXES_ROWS = 50_000


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def update_existing(session: Session, into: dict[int, list[FirmRecord]], source: str, by_user: str) -> int:
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
            have_products = {p.product: p for p in ent.products}
            have_designations = {(d.name, d.level, d.year) for d in ent.designations}
            changed: dict[str, Any] = {}
            for rec in into[ent.id]:
                changed.update(fill(current, rec.values))
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
                for product, share in rec.products:
                    line = have_products.get(product)
                    if line is None:
                        line = have_products[product] = EnterpriseProduct(product=product, revenue_share=share,
                                                                          source=source)
                        ent.products.append(line)
                        changed.setdefault("products_added", []).append(product)
                    elif share is not None and line.revenue_share != share:  # a newer file's share
                        line.revenue_share, line.source = share, source
                        changed.setdefault("shares_changed", []).append(product)
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


def insert_new(session: Session, rows: FirmRows, new: list[int | FirmRecord], ids: list[int], report: Progress) -> None:
    """Write the new firms column by column (a FirmRecord where later rows folded into one), then their names,
    products and designations."""
    n = len(new)
    folded = [(k, ref) for k, ref in enumerate(new) if isinstance(ref, FirmRecord)]
    plain = [0 if isinstance(ref, FirmRecord) else ref for ref in new]
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
    names = take(rows.aliases, plain, len(rows))
    made = take(rows.products, plain, len(rows))
    marks = take(rows.designations, plain, len(rows))
    firm_names, sources = take(rows.cols["name"], plain, len(rows)), take(rows.cols["source"], plain, len(rows))
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
    lines = list(chain.from_iterable(made))
    product_names = [product for product, _ in lines]
    if max(map(len, product_names), default=0) > 200:  # a folded record's are cut already
        product_names = [x[:200] for x in product_names]
    products = {"enterprise_id": made_by.tolist(), "product": product_names,
                "revenue_share": [share for _, share in lines],
                "source": list(np.repeat(np.asarray(sources, dtype=object), [len(x) for x in made]))}
    designations: dict[str, list[Any]] = {"enterprise_id": [], "name": [], "level": [], "year": []}
    for k in (k for k, found in enumerate(marks) if found):
        for mark in marks[k]:
            for col, value in zip(designations.values(), (ids[k], *mark)):
                col.append(value)
    bulk.insert_columns(session, EnterpriseAlias.__table__, aliases)
    bulk.insert_columns(session, EnterpriseProduct.__table__, products)
    bulk.insert_columns(session, Designation.__table__, designations)
