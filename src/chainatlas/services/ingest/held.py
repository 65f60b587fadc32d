"""Held rows (暂存行) fixed in place: an officer corrects the cells of a row an import held back, and the row goes
through the same import as its file did (checks, entity resolution, placement, audit), as a one-row batch.

The corrected row is imported inside a savepoint: if it is still wrong, nothing is written and the new problems
are returned for the page to show; if it lands, the held row is removed from its batch (the batch's 暂存 count
drops) and the audit log keeps the values before and after.
"""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from chainatlas.ingest.records import Problem
from chainatlas.services.ingest.enterprises import import_enterprises
from chainatlas.services.ingest.relations import import_relations
from chainatlas.store.db import audit
from chainatlas.store.models import HeldRow, ImportBatch

_IMPORTERS = {"enterprises": import_enterprises, "relations": import_relations}


class HeldRowError(ValueError):
    """The row cannot be fixed here (unknown row, or a kind of import without in-place fixing)."""


@dataclass
class FixResult:
    landed: bool
    batch_id: int | None  # the one-row batch the fixed row was imported in
    problems: list[Problem]


def fix_held_row(session: Session, held_id: int, values: dict[str, str], *, by_user: str) -> FixResult:
    held = session.get(HeldRow, held_id)
    if held is None:
        raise HeldRowError(f"找不到暂存行 #{held_id}（可能已修正导入）。")
    batch = session.get(ImportBatch, held.batch_id)
    importer = _IMPORTERS.get(batch.kind) if batch else None
    if importer is None:
        raise HeldRowError(f"“{batch.kind if batch else '?'}”类导入的暂存行请改正原文件后重新导入。")
    headers = list(held.values)
    row = {h: str(values.get(h, held.values[h]) or "").strip() for h in headers}
    mapping = {h: spec.get("field") for h, spec in (batch.mapping or {}).items() if isinstance(spec, dict)} or None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{Path(batch.file_name).stem}_第{held.row_number}行修正.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(headers)
            writer.writerow([row[h] for h in headers])
        savepoint = session.begin_nested()
        summary = importer(session, path, mapping=mapping, by_user=by_user)
        if summary.rows_held:
            savepoint.rollback()
            return FixResult(False, None, summary.problems)
        savepoint.commit()
    before = {"batch_id": batch.id, "row": held.row_number, "values": held.values, "problems": held.problems}
    session.delete(held)
    batch.rows_held = max(0, (batch.rows_held or 0) - 1)
    session.flush()
    audit(session, by_user, "import.held.fixed", "import_batch", batch.id, before,
          {"values": row, "landed_in_batch": summary.batch_id})
    return FixResult(True, summary.batch_id, [])
